#!/bin/bash
# The OpenSSL layer's rule-specific features: pin_sha256, client certificates
# presented for the program (mTLS), the TLS version floor against an old server,
# client certificates required of a server program (inbound rule), audit and off
# modes, many threads handshaking at once, kernel TLS refused, python's memory
# BIOs (asyncio), session resumption, and no libssl in programs that have none.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"

make_certs || { not_ok "certificate factory" "tests/lib/certs.sh failed"; exit 1; }
start_audit_sink

VALID=$(new_port) EXPIRED=$(new_port) PINOK=$(new_port) PINBAD=$(new_port)
MTLS=$(new_port) MTLS_NORULE=$(new_port) OLD=$(new_port) SRV=$(new_port)
SRV2=$(new_port) OLDSRV=$(new_port) EXT=$(new_port) ALLOWED=$(new_port)
APPTRUST=$(new_port)
CARELESS_SERVER="$TOP/$BUILD/tests/integration/programs/careless_server"
CHAIN=(-cert_chain "$CERTS/inter.pem")

policy_text() { # MODE
	cat <<CONF
version = 1;
mode = "$1";
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
tls = { ca_file = "$CERTS/root.pem"; };
outbound = {
  default = "require_tls";
  rules = (
    { to = "127.0.0.1"; port = $PINOK; action = "require_tls";
      tls = { pin_sha256 = [ "$(cat "$CERTS/valid.pin")" ]; }; },
    { to = "127.0.0.1"; port = $PINBAD; action = "require_tls";
      tls = { pin_sha256 = [ "$(cat "$CERTS/other.pin")" ]; }; },
    { to = "127.0.0.1"; port = $MTLS; action = "require_tls";
      tls = { client_cert = "$CERTS/client.pem"; client_key = "$CERTS/client.key"; }; },
    { to = "127.0.0.1"; port = $ALLOWED; action = "allow"; },
    { to = "127.0.0.1"; port = $APPTRUST; action = "require_tls"; tls = { trust = "policy+app"; }; }
  );
};
inbound = {
  default = "allow";
  rules = (
    { port = $SRV; action = "require_tls";
      tls = { require_client_cert = true; client_ca_file = "$CERTS/client-ca.pem"; }; },
    { port = $SRV2; action = "require_tls";
      tls = { require_client_cert = true; client_ca_file = "$CERTS/client-ca.pem"; }; },
    { port = $OLDSRV; action = "require_tls"; },
    { port = $EXT; action = "require_tls"; external = true; }
  );
};
CONF
}
POLICY="$T/policy.conf"
policy_text enforce | write_policy "$POLICY"
policy_text audit | write_policy "$T/audit.conf"

tls_server "$VALID" "$CERTS/valid.pem" "$CERTS/valid.key" "${CHAIN[@]}"
tls_server "$EXPIRED" "$CERTS/expired.pem" "$CERTS/expired.key" "${CHAIN[@]}"
tls_server "$PINOK" "$CERTS/valid.pem" "$CERTS/valid.key" "${CHAIN[@]}"
tls_server "$PINBAD" "$CERTS/valid.pem" "$CERTS/valid.key" "${CHAIN[@]}"
tls_server "$MTLS" "$CERTS/valid.pem" "$CERTS/valid.key" "${CHAIN[@]}" \
	-Verify 1 -CAfile "$CERTS/client-ca.pem"
tls_server "$MTLS_NORULE" "$CERTS/valid.pem" "$CERTS/valid.key" "${CHAIN[@]}" \
	-Verify 1 -CAfile "$CERTS/client-ca.pem"
tls_server "$OLD" "$CERTS/valid.pem" "$CERTS/valid.key" "${CHAIN[@]}" \
	-tls1 -cipher DEFAULT@SECLEVEL=0

# --- pins ---------------------------------------------------------------------
audit_mark
out=$(shimmed "$CARELESS" none "$PINOK" 2>&1)
expect "pin matches: connection works" "0" "$?"
audit_mark
out=$(shimmed "$CARELESS" none "$PINBAD" 2>&1)
expect_match "pin mismatch: handshake fails, verify result 50 (application verification)" \
	"HANDSHAKE_FAILED 1 50" "$out"
expect_match "pin mismatch: audit reason=pin" "verdict=block .*rule=2 reason=pin" "$(audit_since)"

# --- mTLS: the shim presents the rule's client certificate ---------------------
out=$("$CARELESS" none "$MTLS" 2>&1)
expect "control: without the shim the server wants a client certificate" "1" "$?"
out=$(shimmed "$CARELESS" none "$MTLS_NORULE" 2>&1)
expect "no client_cert in the rule: still refused by the server" "1" "$?"
out=$(shimmed "$CARELESS" none "$MTLS" 2>&1)
expect "client_cert in the rule: the shim presents it and the request works" "0" "$?"
expect_match "mTLS response" "RESPONSE HTTP/1.0 200" "$out"

# --- the version floor against a TLS 1.0-only server ---------------------------
out=$("$CARELESS" tls10 "$OLD" 2>&1)
expect "control: TLS 1.0 works without the shim" "0" "$?"
audit_mark
out=$(shimmed "$CARELESS" tls10 "$OLD" 2>&1)
expect_match "TLS 1.0-only server: refused under the shim" "HANDSHAKE_FAILED" "$out"
expect_match "TLS 1.0-only server: audit reason=protocol_version" \
	"verdict=block .*reason=protocol_version" "$(audit_since)"
out=$(shimmed "$CARELESS" tls10 "$VALID" 2>&1)
expect_match "a program capped at TLS 1.0 gets at least TLS 1.2" "HANDSHAKE_OK TLSv1\.[23]" "$out"

# --- server side: require_client_cert on an inbound rule -----------------------
# openssl s_server -www runs its handshakes inside an SSL BIO, so the rule's
# settings must already hold when it names the side (SSL_set_accept_state).
run_bg env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$POLICY" openssl s_server -quiet -www \
	-accept "127.0.0.1:$SRV" -cert "$CERTS/valid.pem" -key "$CERTS/valid.key" "${CHAIN[@]}" \
	</dev/null >/dev/null 2>&1
wait_port "$SRV"
curl_in() { # PORT [CURL ARGS...]
	local port=$1
	shift
	curl -4 -sSi --max-time 10 --cacert "$CERTS/root.pem" "$@" "https://localhost:$port/" 2>&1
}
out=$(curl_in "$SRV")
expect_no_match "s_server -www, client certificate required: curl without one gets nothing" \
	"HTTP/1.0 200" "$out"
out=$(curl_in "$SRV" --cert "$CERTS/client.pem" --key "$CERTS/client.key")
expect_match "s_server -www: curl with a client certificate is served" "HTTP/1.0 200" "$out"
out=$(curl_in "$SRV" --cert "$CERTS/untrusted.pem" --key "$CERTS/untrusted.key")
expect_no_match "s_server -www: a client certificate from another CA is refused" \
	"HTTP/1.0 200" "$out"

# careless_server calls SSL_accept itself: the outcome is checked and recorded.
run_bg env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$POLICY" "$CARELESS_SERVER" plain "$SRV2" \
	"$CERTS/valid.pem" "$CERTS/valid.key" "$CERTS/valid.pem" >/dev/null 2>&1
wait_port "$SRV2"
SRV2_CONTROL=$(new_port)
run_bg "$CARELESS_SERVER" plain "$SRV2_CONTROL" "$CERTS/valid.pem" "$CERTS/valid.key" \
	"$CERTS/valid.pem" >/dev/null 2>&1
wait_port "$SRV2_CONTROL"
out=$(curl_in "$SRV2_CONTROL")
expect_match "control: careless_server alone serves a client without a certificate" \
	"HTTP/1.0 200" "$out"
audit_mark
out=$(curl_in "$SRV2")
expect_no_match "careless_server: curl without a client certificate gets nothing" \
	"HTTP/1.0 200" "$out"
expect_match "careless_server: audit dir=in reason=no_client_cert" \
	"event=handshake verdict=block dir=in .*reason=no_client_cert" "$(audit_since)"
out=$(curl_in "$SRV2" --cert "$CERTS/client.pem" --key "$CERTS/client.key")
expect_match "careless_server: curl with a client certificate is served" "HTTP/1.0 200" "$out"

# A server that enables TLS 1.0 offers only what the policy allows.
run_bg "$CARELESS_SERVER" tls10 "$OLDSRV" "$CERTS/valid.pem" "$CERTS/valid.key" "$CERTS/valid.pem" \
	>/dev/null 2>&1
OLDSRV_CONTROL=$!
wait_port "$OLDSRV"
out=$(printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -quiet -tls1 \
	-cipher DEFAULT@SECLEVEL=0 -connect "127.0.0.1:$OLDSRV" 2>&1)
expect_match "control: careless_server tls10 alone speaks TLS 1.0" "HTTP/1.0 200" "$out"
kill "$OLDSRV_CONTROL" 2>/dev/null
wait "$OLDSRV_CONTROL" 2>/dev/null
run_bg env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$POLICY" "$CARELESS_SERVER" tls10 "$OLDSRV" \
	"$CERTS/valid.pem" "$CERTS/valid.key" "$CERTS/valid.pem" >/dev/null 2>&1
wait_port "$OLDSRV"
out=$(printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -quiet -tls1 \
	-cipher DEFAULT@SECLEVEL=0 -connect "127.0.0.1:$OLDSRV" 2>&1)
expect_no_match "careless_server tls10 under the shim: a TLS 1.0 client is refused" \
	"HTTP/1.0 200" "$out"
out=$(curl_in "$OLDSRV")
expect_match "careless_server tls10 under the shim: a TLS 1.2+ client is served" \
	"HTTP/1.0 200" "$out"

# external = true: the served certificate must chain to a public root; the
# test root is not one, so the program must not serve with it.
run_bg env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$POLICY" "$CARELESS_SERVER" plain "$EXT" \
	"$CERTS/valid.pem" "$CERTS/valid.key" "$CERTS/valid.pem" >/dev/null 2>&1
wait_port "$EXT"
audit_mark
out=$(curl_in "$EXT")
expect_no_match "external rule, certificate of a private CA: not served" "HTTP/1.0 200" "$out"
expect_match "external rule: audit dir=in reason=cert_verify on the served certificate" \
	"dir=in .*reason=cert_verify detail=\"served certificate: unable to get local issuer" \
	"$(audit_since)"

# --- trust = "policy+app": the program's own anchors count too ------------------
tls_server "$APPTRUST" "$CERTS/untrusted.pem" "$CERTS/untrusted.key"
out=$(shimmed curl -4 -sSi --max-time 10 --cacert "$CERTS/other-root.pem" \
	"https://localhost:$APPTRUST/" 2>&1)
expect_match "policy+app: the program's --cacert is added to the policy's anchors" \
	"HTTP/1.0 200" "$out"
out=$(shimmed "$CARELESS" none "$APPTRUST" 2>&1)
expect "policy+app: a program with no anchors of its own still gets verification" "1" "$?"

# --- an allowed destination is left alone --------------------------------------
tls_server "$ALLOWED" "$CERTS/selfsigned.pem" "$CERTS/selfsigned.key"
out=$(shimmed curl -4 -sSi -k --max-time 10 "https://localhost:$ALLOWED/" 2>&1)
expect_match "allow rule: curl -k to a self-signed server is left alone" "HTTP/1.0 200" "$out"
out=$(shimmed "$CARELESS" none "$ALLOWED" 2>&1)
expect "allow rule: careless_client is left alone" "0" "$?"

# --- audit and off modes -------------------------------------------------------
audit_mark
out=$(LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$T/audit.conf" "$CARELESS" none "$EXPIRED" 2>&1)
expect "audit mode: the expired certificate is let through" "0" "$?"
expect_match "audit mode: recorded as verdict=audit reason=cert_verify" \
	"event=handshake verdict=audit .*reason=cert_verify detail=\"certificate has expired" \
	"$(audit_since)"
out=$(TLSGUARD_MODE=off shimmed "$CARELESS" none "$EXPIRED" 2>&1)
expect "off mode: nothing is enforced" "0" "$?"

# --- many threads at once ------------------------------------------------------
out=$(shimmed "$CARELESS" none "$VALID" - 16 2>&1)
expect_match "16 threads, valid certificate: all succeed" "OK_COUNT 16" "$out"
out=$(shimmed "$CARELESS" none "$EXPIRED" - 16 2>&1)
expect_match "16 threads, expired certificate: none succeeds" "OK_COUNT 0" "$out"

# --- kernel TLS ----------------------------------------------------------------
out=$("$CARELESS" ktls "$VALID" 2>&1)
expect_match "control: the program enables kTLS" "KTLS_OPTION=1" "$out"
out=$(shimmed "$CARELESS" ktls "$VALID" 2>&1)
expect_match "kTLS is refused under the shim (plaintext never goes to the kernel)" \
	"KTLS_OPTION=0" "$out"

# --- python asyncio: memory BIOs, no descriptor in the SSL ---------------------
asyncio_get() { # PORT
	shimmed "$PY" - "$1" 2>&1 <<'PYEOF'
import asyncio, ssl, sys
async def main():
    ctx = ssl._create_unverified_context()
    r, w = await asyncio.open_connection("127.0.0.1", int(sys.argv[1]), ssl=ctx,
                                         server_hostname="localhost")
    w.write(b"GET / HTTP/1.0\r\n\r\n")
    print((await r.readline()).decode().strip())
    w.close()
asyncio.run(main())
PYEOF
}
out=$(asyncio_get "$VALID")
expect_match "asyncio, valid certificate: works" "HTTP/1.0 200" "$out"
audit_mark
out=$(asyncio_get "$EXPIRED")
expect_no_match "asyncio, expired certificate: refused" "HTTP/1.0 200" "$out"
expect_match "asyncio: audit tied to the peer" \
	"peer=127.0.0.1:$EXPIRED .*reason=cert_verify" "$(audit_since)"

# --- session resumption --------------------------------------------------------
printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -quiet -ign_eof \
	-connect "127.0.0.1:$EXPIRED" -sess_out "$T/sess.pem" >/dev/null 2>&1
if [ -s "$T/sess.pem" ]; then
	out=$(printf 'GET / HTTP/1.0\r\n\r\n' | shimmed timeout 10 openssl s_client -quiet \
		-connect "127.0.0.1:$EXPIRED" -sess_in "$T/sess.pem" 2>&1)
	expect_no_match "a session made without the shim is not resumed into a refused server" \
		"HTTP/1.0 200" "$out"
else
	not_ok "session resumption" "s_client saved no session"
fi

# -ign_eof: wait for the answer, so the TLS 1.3 session ticket has arrived
printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -ign_eof -connect "127.0.0.1:$VALID" \
	-servername localhost -sess_out "$T/valid-sess.pem" >/dev/null 2>&1
out=$(printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -ign_eof -connect "127.0.0.1:$VALID" \
	-servername localhost -sess_in "$T/valid-sess.pem" 2>&1)
expect_match "control: without the shim the saved session is resumed" "^Reused," "$(echo "$out" | grep -E '^(New|Reused),')"
out=$(printf 'GET / HTTP/1.0\r\n\r\n' | shimmed timeout 10 openssl s_client -ign_eof \
	-connect "127.0.0.1:$VALID" -servername localhost -sess_in "$T/valid-sess.pem" 2>&1)
expect_match "enforce mode: a session from before enforcement is not resumed (full handshake)" \
	"^New," "$(echo "$out" | grep -E '^(New|Reused),')"

# --- hygiene -------------------------------------------------------------------
expect "programs without libssl map none under the shim" "0" \
	"$(shimmed cat /proc/self/maps | grep -c libssl)"
expect "python without ssl maps no libssl under the shim" "0" \
	"$(shimmed "$PY" -c 'print(open("/proc/self/maps").read().count("libssl"))')"
