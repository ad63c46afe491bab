#!/bin/bash
# The verdict on a governed handshake is the shim's own verification of the
# peer's chain: whatever a program loosens in its own X509_VERIFY_PARAM, adds
# to the store its verify callback can reach, or adds as host names or DANE
# records, the outcome is the policy's. Client and server side, the audit
# reason of every refusal, and the name the certificate must carry (the
# resolved name, not the SNI). Each case also runs without the shim first:
# the careless program must accept there, or the case proves nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"

make_certs || { not_ok "certificate factory" "tests/lib/certs.sh failed"; exit 1; }
LOOSE="$TOP/$BUILD/tests/integration/programs/loose_verify"
RECORDER="$(dirname "$0")/tls_recorder.py"
start_audit_sink

# ---- certificates this suite needs beyond tests/lib/certs.sh -----------------------
# mk NAME ISSUER EXTENSIONS [KEYSPEC] [DIGEST] [START END]: a leaf NAME.pem (leaf
# and, under inter, the intermediate) with NAME.key.
mk() {
	local name=$1 issuer=$2 ext=$3 keyspec=${4:-ec} md=${5:-sha256} start=${6:-} end=${7:-}
	(
		cd "$CERTS" || exit 1
		if [ "$keyspec" = ec ]; then
			openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$name.key"
		else
			openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$keyspec" -out "$name.key"
		fi
		printf '%b\n' "$ext" >"$name.ext"
		openssl req -new -key "$name.key" -subj "/CN=${CN:-$name}" -out "$name.csr"
		if [ -z "$start" ]; then
			openssl x509 -req -in "$name.csr" -CA "$issuer.pem" -CAkey "$issuer.key" \
				-CAcreateserial -days 400 "-$md" -extfile "$name.ext" -out "$name.leaf"
		else
			mkdir -p "ca-$name" && : >"ca-$name/index.txt" && openssl rand -hex 8 >"ca-$name/serial"
			printf '[ca]\ndefault_ca=d\n[d]\ndatabase=ca-%s/index.txt\nnew_certs_dir=ca-%s\nserial=ca-%s/serial\ndefault_md=%s\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n' \
				"$name" "$name" "$name" "$md" >"ca-$name/ca.cnf"
			openssl ca -batch -config "ca-$name/ca.cnf" -cert "$issuer.pem" -keyfile "$issuer.key" \
				-startdate "$start" -enddate "$end" -extfile "$name.ext" -in "$name.csr" \
				-out "$name.leaf"
		fi
		if [ "$issuer" = inter ]; then cat "$name.leaf" inter.pem >"$name.pem"; else cp "$name.leaf" "$name.pem"; fi
	) >/dev/null 2>&1
}
SRV_EXT='basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth'
LOCAL='subjectAltName=DNS:localhost,IP:127.0.0.1'
mk clientonly inter "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n$LOCAL"
mk critical inter "$SRV_EXT\n$LOCAL\n1.3.6.1.4.1.99999.1=critical,ASN1:UTF8String:unknown"
mk rsa1024 inter "$SRV_EXT\n$LOCAL" 1024
mk sha1 inter "$SRV_EXT\n$LOCAL" ec sha1
CN=localhost mk cnonly inter "$SRV_EXT"
mk partialwild inter "$SRV_EXT\nsubjectAltName=DNS:w*.test.example"
mk cexpired client-ca "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectAltName=DNS:client.example" \
	ec sha256 20200101000000Z 20210101000000Z
for c in clientonly critical rsa1024 sha1 cnonly partialwild cexpired; do
	[ -s "$CERTS/$c.pem" ] || { not_ok "certificate $c" "openssl could not make it"; exit 1; }
done
cat "$CERTS/root.pem" "$CERTS/inter.pem" >"$CERTS/root+inter.pem"
spki() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -hex | sed 's/.*= //'; }

# ---- recording servers (not under the shim) ------------------------------------
# recorder NAME CERT: a TLS server for CERT; $NAME_PORT, bytes in $T/NAME.bytes.
recorder() {
	: >"$T/$1.bytes"
	run_bg "$PY" "$RECORDER" "$CERTS/$2.pem" "$CERTS/$2.key" "$T/$1.port" "$T/$1.bytes" 2>/dev/null
	wait_file "$T/$1.port" || not_ok "recorder $1" "did not start"
	printf -v "${1}_PORT" '%s' "$(cat "$T/$1.port")"
}
for c in valid expired future wronghost untrusted clientonly critical rsa1024 sha1 cnonly partialwild; do
	recorder "$c" "$c"
done
recorder cnfb cnonly
recorder pw partialwild
recorder pwfull valid

SRV_NOTIME=$(new_port) SRV_PAST=$(new_port) SRV_PURPOSE=$(new_port)
cat >"$T/policy.conf" <<CONF
version = 1;
mode = "enforce";
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
tls = { ca_file = "$CERTS/root.pem"; };
outbound = {
  default = "require_tls";
  rules = (
    { to = "127.0.0.1"; port = $cnfb_PORT; action = "require_tls";
      tls = { insecure_cn_fallback = true; }; },
    { to = "127.0.0.1"; port = [ $pw_PORT, $pwfull_PORT ]; action = "require_tls";
      tls = { server_name = "www.test.example"; }; }
  );
};
inbound = {
  default = "allow";
  rules = (
    { port = [ $SRV_NOTIME, $SRV_PAST, $SRV_PURPOSE ]; action = "require_tls";
      tls = { require_client_cert = true; client_ca_file = "$CERTS/client-ca.pem"; }; }
  );
};
CONF
chmod 0644 "$T/policy.conf"
POLICY="$T/policy.conf"

# received NAME MODE: whether the recorder NAME got the marker of MODE.
received() {
	grep -c "MARKER $2" "$T/$1.bytes" 2>/dev/null || true
}

# refused CASE SERVER MODE REASON_REGEX [CAFILE] [HOST] [SNI]: the control run
# (no shim) sends the marker; under the shim the handshake fails as a genuine
# verification failure, the server saw no byte of it, and exactly one block
# event says why.
refused() {
	local case=$1 srv=$2 mode=$3 want=$4 ca=${5:-$CERTS/root.pem} host=${6:-localhost} sni=${7:--}
	local port_var="${srv}_PORT" out events
	if [ -z "${NOCONTROL:-}" ]; then
		out=$("$LOOSE" client "$mode" "$host" "${!port_var}" "$ca" "$sni" 2>&1)
		expect "$case: control, the program alone accepts" "0" "$?"
	fi
	: >"$T/$srv.bytes"
	audit_mark
	out=$(shimmed "$LOOSE" client "$mode" "$host" "${!port_var}" "$ca" "$sni" 2>&1)
	expect "$case: refused under the shim" "1" "$?"
	expect_match "$case: SSL_ERROR_SSL with a real X509 error" "HANDSHAKE_FAILED 1 [1-9]" "$out"
	expect "$case: the server received no application byte" "0" "$(received "$srv" "$mode")"
	events=$(audit_since | grep 'event=handshake')
	expect_match "$case: audit reason" "verdict=block .*$want" "$events"
	expect "$case: exactly one handshake event" "1" "$(printf '%s\n' "$events" | grep -c 'event=handshake')"
}

# accepted CASE SERVER MODE [CAFILE] [HOST] [SNI]: works under the shim and the
# marker arrives.
accepted() {
	local case=$1 srv=$2 mode=$3 ca=${4:-$CERTS/root.pem} host=${5:-localhost} sni=${6:--}
	local port_var="${srv}_PORT" out
	: >"$T/$srv.bytes"
	out=$(shimmed "$LOOSE" client "$mode" "$host" "${!port_var}" "$ca" "$sni" 2>&1)
	expect "$case: works under the shim" "0" "$?"
	expect "$case: the server received the marker" "1" "$(received "$srv" "$mode")"
}

# ---- client side: every loosening of the program's own verification ------------
refused "NO_CHECK_TIME, expired leaf" expired nocheck_time 'reason=cert_verify detail="certificate has expired"'
refused "NO_CHECK_TIME, not yet valid leaf" future nocheck_time 'reason=cert_verify detail="certificate is not yet valid"'
refused "set_time in 2035, not yet valid leaf" future future_time 'reason=cert_verify detail="certificate is not yet valid"'
refused "PARTIAL_CHAIN, the leaf as the program's anchor" untrusted partial_chain \
	'reason=cert_verify detail="unable to get local issuer' "$CERTS/untrusted.pem"
refused "IGNORE_CRITICAL, unknown critical extension" critical ignore_critical \
	'reason=cert_verify detail="unhandled critical extension"'
refused "purpose/trust any, clientAuth-only leaf" clientonly purpose_any \
	'reason=cert_verify detail="unsuitable certificate purpose"'
refused "auth level 0, RSA-1024 leaf" rsa1024 auth0 'reason=cert_verify detail="EE certificate key too weak"'
refused "auth level 0, SHA-1 signed leaf" sha1 auth0 'reason=cert_verify detail="CA signature digest algorithm too weak"'
refused "SSL_add1_host from an info callback, wrong-host leaf" wronghost add1_host 'reason=hostname'
refused "verify callback clears the error, wrong host: reason=hostname" wronghost clearerr \
	'reason=hostname detail="hostname mismatch"'
refused "verify callback clears the error, untrusted: real detail" untrusted clearerr \
	'reason=cert_verify detail="unable to get local issuer'
# (the program alone refuses it too, at libssl's default security level)
NOCONTROL=1 refused "plain program, RSA-1024 leaf: an event, not a silent block" rsa1024 plain \
	'reason=cert_verify detail="EE certificate key too weak"' "$CERTS/root.pem"

# past clock: a valid chain is not refused because the program's clock is wrong
out=$("$LOOSE" client past_time localhost "$valid_PORT" "$CERTS/root.pem" 2>&1)
expect "set_time in 2020, valid leaf: control, the program alone refuses" "1" "$?"
accepted "set_time in 2020, valid leaf (no false positive)" valid past_time
accepted "NO_CHECK_TIME, valid leaf" valid nocheck_time
accepted "plain program, valid leaf" valid plain
# a program that trusts nothing itself still gets the policy's verdict
accepted "the program's own CA file is another root: the policy's anchors decide" valid plain \
	"$CERTS/other-root.pem"

# DANE-EE for an untrusted certificate
out=$(DANE_SPKI=$(spki "$CERTS/untrusted.leaf") "$LOOSE" client dane localhost "$untrusted_PORT" \
	"$CERTS/other-root.pem" 2>&1)
expect "DANE-EE, untrusted leaf: control, the program alone accepts" "0" "$?"
: >"$T/untrusted.bytes"
audit_mark
out=$(DANE_SPKI=$(spki "$CERTS/untrusted.leaf") shimmed "$LOOSE" client dane localhost \
	"$untrusted_PORT" "$CERTS/other-root.pem" 2>&1)
expect "DANE-EE, untrusted leaf: refused under the shim" "1" "$?"
expect "DANE-EE: the server received no application byte" "0" "$(received untrusted dane)"
expect_match "DANE-EE: audit reason=cert_verify" "verdict=block .*reason=cert_verify" "$(audit_since)"

# trust on first use through X509_STORE_CTX_get0_store: every connection of
# the process is refused, each with its event
: >"$T/untrusted.bytes"
audit_mark
out=$(shimmed "$LOOSE" client tofu localhost "$untrusted_PORT" "$CERTS/root.pem" - 3 2>&1)
expect "TOFU verify callback: refused" "1" "$?"
expect "TOFU: all three connections refused" "3" "$(printf '%s\n' "$out" | grep -c HANDSHAKE_FAILED)"
expect "TOFU: the server received no application byte" "0" "$(received untrusted tofu)"
expect "TOFU: one block event per connection" "3" \
	"$(audit_since | grep -c 'event=handshake verdict=block .*reason=cert_verify')"
out=$(shimmed "$LOOSE" client tofu localhost "$valid_PORT" "$CERTS/root.pem" - 2 2>&1)
expect "TOFU callback, valid leaf: both connections work" "0" "$?"

# the name checked is the resolved one, not the program's SNI
out=$("$LOOSE" client plain localhost "$wronghost_PORT" "$CERTS/root.pem" wrong.example 2>&1)
expect "SNI wrong.example to resolved localhost: control, the program alone accepts" "0" "$?"
refused "SNI names another host than the resolved one" wronghost plain 'reason=hostname' \
	"$CERTS/root.pem" localhost wrong.example
accepted "SNI other than the resolved name, certificate for the resolved name" valid plain \
	"$CERTS/root.pem" localhost wrong.example
# no resolution (an address literal): the program's SNI is the name checked
accepted "address literal with SNI localhost: SNI checked" valid plain "$CERTS/root.pem" \
	127.0.0.1 localhost
NOCONTROL=1 refused "address literal with SNI wrong.example, certificate for localhost" valid plain \
	'reason=hostname' "$CERTS/root.pem" 127.0.0.1 wrong.example

# ---- ciphers that protect, whatever the program allowed -----------------------
# a security callback that allows everything and a NULL suite (no encryption)
: >"$T/nullsrv.bytes"
RECORDER_CIPHERS="ECDHE-ECDSA-NULL-SHA:@SECLEVEL=0" run_bg "$PY" "$RECORDER" "$CERTS/valid.pem" \
	"$CERTS/valid.key" "$T/nullsrv.port" "$T/nullsrv.bytes" 2>/dev/null
wait_file "$T/nullsrv.port"
nullsrv_PORT=$(cat "$T/nullsrv.port")
refused "security callback allowing all, NULL cipher suite" nullsrv seccb_null 'reason=cipher'

# PSK-only: a server with no certificate at all (openssl s_server -nocert -psk)
PSK_PORT=$(new_port)
mkfifo "$T/psk.in"
exec 7<>"$T/psk.in"
# (stdin a FIFO this shell holds open: s_server ends at end of input, and a
# background job's own stdin would be /dev/null)
run_bg bash -c 'exec "$@" <"$0"' "$T/psk.in" openssl s_server -accept "127.0.0.1:$PSK_PORT" \
	-nocert -psk 1a2b3c4d -cipher PSK-AES128-GCM-SHA256 -tls1_2 >"$T/psk.out" 2>&1
# (not wait_port: s_server without -www ends after a connection that fails)
wait_until grep -q ACCEPT "$T/psk.out"
out=$("$LOOSE" client psk 127.0.0.1 "$PSK_PORT" "$CERTS/root.pem" localhost 2>&1)
expect "PSK-only server: control, the program alone sends its marker" "0" "$?"
wait_until grep -q "MARKER psk" "$T/psk.out"
before=$(grep -c "MARKER psk" "$T/psk.out")
audit_mark
out=$(shimmed "$LOOSE" client psk 127.0.0.1 "$PSK_PORT" "$CERTS/root.pem" localhost 2>&1)
expect "PSK-only server: refused under the shim" "1" "$?"
expect_match "PSK-only server: audit reason=cipher" "verdict=block .*reason=cipher" "$(audit_since)"
sleep 0.2
expect "PSK-only server: the server received no application byte" "$before" \
	"$(grep -c "MARKER psk" "$T/psk.out")"

# ---- strict names: CN-only and partial wildcards --------------------------------
refused "CN-only certificate refused by default" cnonly plain 'reason=hostname'
audit_mark
: >"$T/cnfb.bytes"
out=$(shimmed "$LOOSE" client plain localhost "$cnfb_PORT" "$CERTS/root.pem" 2>&1)
expect "insecure_cn_fallback: CN-only certificate accepted" "0" "$?"
expect "insecure_cn_fallback: marker arrives" "1" "$(received cnfb plain)"
expect_match "insecure_cn_fallback: the audit marks it" \
	'event=handshake verdict=allow .*reason=hostname detail="insecure_cn_fallback' "$(audit_since)"
audit_mark
out=$(shimmed "$LOOSE" client plain localhost "$pw_PORT" "$CERTS/root.pem" www.test.example 2>&1)
expect "partial wildcard w*.test.example for server_name www.test.example: refused" "1" "$?"
expect_match "partial wildcard: audit reason=hostname" "verdict=block .*reason=hostname" "$(audit_since)"

# ---- server side: client certificates on require_client_cert rules --------------
# server_case NAME MODE PORT: the loose server under the shim; an expired client
# certificate must be refused, a valid one served.
server_case() {
	local name=$1 mode=$2 port=$3 log="$T/server-$2.log" out
	run_bg env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$POLICY" "$LOOSE" server "$mode" "$port" \
		"$CERTS/valid.pem" "$CERTS/valid.key" "$CERTS/client-ca.pem" >"$log" 2>&1
	wait_port "$port"
	audit_mark
	out=$(printf 'MARKER %s\n' "$mode" | timeout 10 openssl s_client -quiet -connect "127.0.0.1:$port" \
		-cert "$CERTS/cexpired.pem" -key "$CERTS/cexpired.key" -CAfile "$CERTS/root.pem" 2>&1)
	wait_until grep -q . "$log"
	expect_no_match "$name: expired client certificate not served" "SERVED" "$(cat "$log")"
	expect_match "$name: audit dir=in reason=cert_verify expired" \
		'event=handshake verdict=block dir=in .*reason=cert_verify detail="certificate has expired"' \
		"$(audit_since)"
	out=$(printf 'MARKER %s\n' "$mode" | timeout 10 openssl s_client -quiet -connect "127.0.0.1:$port" \
		-cert "$CERTS/client.pem" -key "$CERTS/client.key" -CAfile "$CERTS/root.pem" 2>&1)
	wait_until grep -q "SERVED" "$log"
	expect_match "$name: valid client certificate served" "SERVED MARKER $mode" "$(cat "$log")"
}
# control: without the shim the loose server serves the expired client
CTRL=$(new_port)
run_bg "$LOOSE" server nocheck_time "$CTRL" "$CERTS/valid.pem" "$CERTS/valid.key" \
	"$CERTS/client-ca.pem" >"$T/ctrl.log" 2>&1
wait_port "$CTRL"
printf 'MARKER ctrl\n' | timeout 10 openssl s_client -quiet -connect "127.0.0.1:$CTRL" \
	-cert "$CERTS/cexpired.pem" -key "$CERTS/cexpired.key" >/dev/null 2>&1
wait_until grep -q . "$T/ctrl.log"
expect_match "server NO_CHECK_TIME: control, the program alone serves an expired client" \
	"SERVED MARKER ctrl" "$(cat "$T/ctrl.log")"
server_case "server NO_CHECK_TIME" nocheck_time "$SRV_NOTIME"
server_case "server set_time in 2020" past_time "$SRV_PAST"
server_case "server purpose any" purpose_any "$SRV_PURPOSE"
