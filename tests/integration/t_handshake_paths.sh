#!/bin/bash
# Handshake paths: the policy check runs before the first application byte
# whatever drives the handshake (SSL BIOs, SSL_set_SSL_CTX mid-handshake,
# renegotiation, a server whose handshake runs inside BIO_read), the program's
# security callback cannot loosen the forced level, and real programs that read
# their own settings back or move libssl's bytes themselves keep working (ncat,
# python asyncio). Programs in tests/bypass/ (README.md, "Handshake paths");
# every attempt asserts what the program saw, what the server received, and the
# audit line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"
. "$(dirname "$0")/lib_bypass.sh"

make_certs || { not_ok "certificate factory" "tests/lib/certs.sh failed"; exit 1; }

# NULL-SHA256 needs an RSA key (Kx=RSA Au=RSA): a valid RSA leaf for
# localhost, signed by the test intermediate.
(
	cd "$CERTS" &&
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key 2>/dev/null &&
		openssl req -new -key rsa.key -subj /CN=rsa -out rsa.csr 2>/dev/null &&
		printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n' >rsa.ext &&
		openssl x509 -req -in rsa.csr -CA inter.pem -CAkey inter.key -CAcreateserial \
			-days 30 -extfile rsa.ext -out rsa.pem 2>/dev/null
) || { not_ok "RSA certificate" "openssl failed"; exit 1; }

PSK=0123456789abcdef0123456789abcdef
MARKER="TLSGUARD-MARKER-7f3a"
INSRV=$(new_port) AIOSRV=$(new_port)
POLICY="$T/policy.conf"
write_policy "$POLICY" <<CONF
version = 1;
mode = "enforce";
env_override = false;
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
tls = { ca_file = "$CERTS/root.pem"; };
outbound = { default = "require_tls"; };
inbound = {
  default = "allow";
  rules = (
    { port = $INSRV; action = "require_tls";
      tls = { require_client_cert = true; client_ca_file = "$CERTS/client-ca.pem"; }; },
    { port = $AIOSRV; action = "require_tls";
      tls = { require_client_cert = true; client_ca_file = "$CERTS/client-ca.pem"; }; }
  );
};
CONF

# s_server without -www writes what it receives to stdout, and quits at EOF
# on stdin: it reads a FIFO this shell holds open. (Not through run_bg: a
# background command's stdin is /dev/null unless its own redirection says
# otherwise.)
mkfifo "$T/hold"
exec 9<>"$T/hold"

# recorder NAME PORT S_SERVER_ARGS...: openssl s_server (not under the shim) on
# PORT; what it received lands in $T/NAME.got.
recorder() {
	local name=$1 port=$2
	shift 2
	openssl s_server -quiet -accept "127.0.0.1:$port" "$@" <"$T/hold" >"$T/$name.got" 2>&1 &
	BG_PIDS+=($!)
	wait_port "$port"
}
got() { tr -d '\0' <"$T/$1.got" 2>/dev/null; }

# attempt NAME ARGS...: runs $BYP/NAME under the shim; output in $OUT, status
# in $RC, events in $EV.
attempt() {
	local name=$1
	shift
	audit_mark
	OUT=$(shimmed "$BYP/$name" "$@" 2>&1)
	RC=$?
	EV=$(audit_since)
}

# --- SSL BIOs: BIO_do_handshake, or the first BIO_write drives the handshake ---
P_PSK=$(new_port) P_NULL=$(new_port) P_CTX=$(new_port)
recorder psk "$P_PSK" -psk "$PSK" -nocert
recorder null "$P_NULL" -cert "$CERTS/rsa.pem" -key "$CERTS/rsa.key" \
	-cert_chain "$CERTS/inter.pem" -cipher 'NULL-SHA256:@SECLEVEL=0'
recorder setctx "$P_CTX" -cert "$CERTS/untrusted.pem" -key "$CERTS/untrusted.key"

# Controls: without the shim each attempt gets its marker to the server.
out=$(timeout 20 "$BYP/tls_bio_psk" "$P_PSK" write "$PSK" 2>&1)
expect_match "control: tls_bio_psk sends without the shim" "^SENT " "$out"
out=$(timeout 20 "$BYP/tls_bio_null" "$P_NULL" write 2>&1)
expect_match "control: tls_bio_null negotiates NULL-SHA256 without the shim" "^SENT [0-9]+ NULL-SHA256" "$out"
out=$(timeout 20 "$BYP/tls_bio_set_ctx" "$P_CTX" write "$CERTS/other-root.pem" 2>&1)
expect_match "control: tls_bio_set_ctx sends without the shim" "^SENT " "$out"
for name in psk null setctx; do
	wait_until grep -q "$MARKER" "$T/$name.got"
	expect_match "control: the $name server records the marker" "$MARKER" "$(got "$name")"
	: >"$T/$name.got"
done

for how in handshake write; do
	# The PSK-only session has no certificate to verify: check_outcome says
	# cert_verify ("no peer certificate") today, cipher once PSK-only suites
	# are refused as such.
	attempt tls_bio_psk "$P_PSK" "$how" "$PSK"
	expect "tls_bio_psk ($how): refused, exit 1" 1 "$RC"
	expect_no_match "tls_bio_psk ($how): nothing sent" "^SENT" "$OUT"
	expect_match "tls_bio_psk ($how): audit line" \
		"event=handshake verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$P_PSK .*reason=(cipher|cert_verify) .*exe=$BYP/tls_bio_psk " "$EV"

	attempt tls_bio_null "$P_NULL" "$how"
	expect "tls_bio_null ($how): refused, exit 1" 1 "$RC"
	expect_no_match "tls_bio_null ($how): nothing sent" "^SENT" "$OUT"
	expect_match "tls_bio_null ($how): audit line" \
		"event=handshake verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$P_NULL .*reason=cipher .*exe=$BYP/tls_bio_null " "$EV"

	attempt tls_bio_set_ctx "$P_CTX" "$how" "$CERTS/other-root.pem"
	expect "tls_bio_set_ctx ($how): refused, exit 1" 1 "$RC"
	expect_match "tls_bio_set_ctx ($how): the context was switched after the ServerHello" \
		"SWITCHED 1" "$OUT"
	expect_no_match "tls_bio_set_ctx ($how): nothing sent" "^SENT" "$OUT"
	expect_match "tls_bio_set_ctx ($how): audit line" \
		"event=handshake verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$P_CTX .*reason=cert_verify detail=\"unable to get local issuer certificate\" .*exe=$BYP/tls_bio_set_ctx " "$EV"
done
expect_no_match "tls_bio_psk: the server never received the marker" "$MARKER" "$(got psk)"
expect_no_match "tls_bio_null: the marker never crossed (in clear)" "$MARKER" "$(got null)"
expect_no_match "tls_bio_set_ctx: the server never received the marker" "$MARKER" "$(got setctx)"

# --- renegotiation of a verified TLS 1.2 session to NULL-SHA256 ----------------
P_RENEG=$(new_port)
recorder reneg "$P_RENEG" -cert "$CERTS/rsa.pem" -key "$CERTS/rsa.key" \
	-cert_chain "$CERTS/inter.pem" -client_renegotiation \
	-cipher 'ECDHE-RSA-AES128-GCM-SHA256:NULL-SHA256:@SECLEVEL=0'
out=$(timeout 20 "$BYP/tls_renegotiate_null" "$P_RENEG" clear 2>&1)
expect_match "control: tls_renegotiate_null renegotiates to NULL-SHA256 without the shim" \
	"RENEGOTIATED NULL-SHA256" "$out"
wait_until grep -q "$MARKER" "$T/reneg.got"
expect_match "control: the renegotiation server records the marker" "$MARKER" "$(got reneg)"
: >"$T/reneg.got"

# SSL_clear_options cannot take SSL_OP_NO_RENEGOTIATION away: the session
# stays on its verified suite, and the marker goes out encrypted.
attempt tls_renegotiate_null "$P_RENEG" clear
expect_match "tls_renegotiate_null (clear_options): the verified session works" \
	"^HANDSHAKE_OK TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256" "$OUT"
expect_match "tls_renegotiate_null (clear_options): renegotiation refused" "RENEGOTIATE_FAILED" "$OUT"
expect_match "tls_renegotiate_null (clear_options): the marker went out under the verified suite" \
	"SENT [0-9]+ ECDHE-RSA-AES128-GCM-SHA256" "$OUT"
expect_no_match "tls_renegotiate_null (clear_options): never under NULL-SHA256" "NULL-SHA256" "$OUT"

# "Options -NoRenegotiation" through SSL_CONF_cmd writes the SSL's options
# directly: the renegotiation starts, and is held to the policy itself.
: >"$T/reneg.got"
attempt tls_renegotiate_null "$P_RENEG" conf
expect "tls_renegotiate_null (SSL_CONF): refused, exit 1" 1 "$RC"
expect_match "tls_renegotiate_null (SSL_CONF): the write fails" "REFUSED" "$OUT"
expect_no_match "tls_renegotiate_null (SSL_CONF): never under NULL-SHA256" "NULL-SHA256" "$OUT"
expect_match "tls_renegotiate_null (SSL_CONF): audit line" \
	"event=handshake verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$P_RENEG .*reason=cipher .*exe=$BYP/tls_renegotiate_null " "$EV"
expect_no_match "tls_renegotiate_null (SSL_CONF): the server never received the marker" \
	"$MARKER" "$(got reneg)"

# --- unmodified openssl s_server -www -psk on a require_client_cert port --------
# Its handshakes run inside BIO_read on an SSL BIO; a PSK handshake asks for no
# certificate.
run_bg env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$POLICY" openssl s_server -quiet -www \
	-accept "127.0.0.1:$INSRV" -psk "$PSK" -nocert </dev/null >/dev/null 2>&1
wait_port "$INSRV"
audit_mark
out=$( (printf 'GET / HTTP/1.0\r\n\r\n'; sleep 1) |
	timeout 10 openssl s_client -quiet -connect "127.0.0.1:$INSRV" -psk "$PSK" 2>&1)
ev=$(audit_since)
expect_no_match "s_server -www -psk: a client without a certificate gets no page" "HTTP/1.0 200" "$out"
expect_match "s_server -www -psk: audit line" \
	"event=handshake verdict=block dir=in proto=tcp peer=127\.0\.0\.1:[0-9]+ .*rule=1 reason=no_client_cert .*exe=/usr/bin/openssl " "$ev"

# --- a python asyncio server (memory BIOs) on a require_client_cert port ---------
# Its SSLs have no descriptor: the connection is known only once one has
# processed the ClientHello the socket layer saw come in.
cat >"$T/aiosrv.py" <<'PYEOF'
import asyncio, ssl, sys
async def handle(r, w):
    await r.readline()
    w.write(b"HTTP/1.0 200 ok\r\n\r\nserved\n")
    await w.drain()
    w.close()
async def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[2], sys.argv[3])
    srv = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]), ssl=ctx)
    async with srv:
        await srv.serve_forever()
asyncio.run(main())
PYEOF
run_bg env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$POLICY" "$PY" "$T/aiosrv.py" "$AIOSRV" \
	"$CERTS/valid.pem" "$CERTS/valid.key" </dev/null >/dev/null 2>&1
wait_port "$AIOSRV"
audit_mark
out=$( (printf 'GET / HTTP/1.0\r\n\r\n'; sleep 1) |
	timeout 10 openssl s_client -quiet -connect "127.0.0.1:$AIOSRV" 2>&1)
ev=$(audit_since)
expect_no_match "asyncio server: a client without a certificate gets no page" "served" "$out"
expect_match "asyncio server: audit line" \
	"event=handshake verdict=block dir=in proto=tcp peer=127\.0\.0\.1:[0-9]+ .*rule=2 reason=no_client_cert .*exe=.*python" "$ev"
audit_mark
out=$( (printf 'GET / HTTP/1.0\r\n\r\n'; sleep 1) |
	timeout 10 openssl s_client -quiet -connect "127.0.0.1:$AIOSRV" \
		-cert "$CERTS/client.pem" -key "$CERTS/client.key" 2>&1)
ev=$(audit_since)
expect_match "asyncio server: a client with a valid certificate is served" "^served" "$out"
expect_no_match "asyncio server: no block event for it" "verdict=block" "$ev"

# --- false positives: real programs against a valid server ----------------------
P_OK=$(new_port)
tls_server "$P_OK" "$CERTS/valid.pem" "$CERTS/valid.key" -cert_chain "$CERTS/inter.pem"

# ncat --ssl turns verification off; shown the mode the shim forces, it ran
# its own host check, which knows no IP SANs, and quit.
audit_mark
out=$( (printf 'GET / HTTP/1.0\r\n\r\n'; sleep 1) |
	shimmed ncat --ssl 127.0.0.1 "$P_OK" 2>&1)
rc=$?
ev=$(audit_since)
expect "ncat --ssl 127.0.0.1 (IP SAN): exit 0" 0 "$rc"
expect_match "ncat --ssl 127.0.0.1 (IP SAN): the page came back" "HTTP/1.0 200 ok" "$out"
expect_no_match "ncat --ssl 127.0.0.1 (IP SAN): no block event" "verdict=block" "$ev"

# python asyncio: memory BIOs; after SSL_shutdown asyncio writes libssl's
# close_notify to the socket itself.
audit_mark
out=$(shimmed "$PY" - "$P_OK" "$CERTS/root.pem" 2>&1 <<'PYEOF'
import asyncio, ssl, sys
async def main():
    ctx = ssl.create_default_context(cafile=sys.argv[2])
    r, w = await asyncio.open_connection("127.0.0.1", int(sys.argv[1]), ssl=ctx,
                                         server_hostname="localhost")
    w.write(b"GET / HTTP/1.0\r\n\r\n")
    await w.drain()
    print((await r.readline()).decode().strip())
    w.close()
    await w.wait_closed()
    print("CLOSED")
asyncio.run(main())
PYEOF
)
rc=$?
ev=$(audit_since)
expect "asyncio: exit 0" 0 "$rc"
expect_match "asyncio: the exchange works" "^HTTP/1.0 200 ok$" "$out"
expect_match "asyncio: wait_closed() returns" "^CLOSED$" "$out"
expect_no_match "asyncio: no block event" "verdict=block" "$ev"
