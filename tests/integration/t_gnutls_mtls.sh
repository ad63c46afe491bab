#!/bin/bash
# Mutual TLS both ways for GnuTLS programs (issue 16).
# Outbound: a rule with client_cert/client_key; a server that requires a client
# certificate (openssl s_server -Verify 1 -CAfile client-ca.pem). A careless
# GnuTLS client that presents none gets through with the policy's certificate;
# without the rule it is still refused by the server.
# Inbound: gnutls-serv (which requests a client certificate but requires and
# verifies none by default, or with --disable-client-cert requests none)
# under an inbound rule with require_client_cert and client_ca_file: a client
# without a certificate is refused (reason no_client_cert), one with a good
# certificate is served, one with a certificate from another CA is refused;
# and a TLS 1.0 client is refused for its version (protocol_version, dir=in).
# An external = true rule: a certificate of a private CA is not served. The
# server's own client CA (--x509cafile) does not widen the rule's; in audit
# mode the refusal is recorded and let through.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"

make_certs || { not_ok "certificate factory" "tests/lib/certs.sh failed"; exit 1; }
start_audit_sink

MTLS=$(new_port) MTLS_NORULE=$(new_port) SRV=$(new_port) SRV_NOREQ=$(new_port)
SRV_CONTROL=$(new_port) EXT=$(new_port) OWNCA=$(new_port) OWNCA_CONTROL=$(new_port)
AUDITED=$(new_port)
POLICY="$T/policy.conf"
write_policy "$POLICY" <<CONF
version = 1;
mode = "enforce";
env_override = false;
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
tls = { ca_file = "$CERTS/root.pem"; };
outbound = {
  default = "require_tls";
  rules = (
    { to = "127.0.0.1"; port = $MTLS; action = "require_tls";
      tls = { client_cert = "$CERTS/client.pem"; client_key = "$CERTS/client.key"; }; }
  );
};
inbound = {
  default = "allow";
  rules = (
    { port = [ $SRV, $SRV_NOREQ, $OWNCA, $AUDITED ]; action = "require_tls";
      tls = { require_client_cert = true; client_ca_file = "$CERTS/client-ca.pem"; }; },
    { port = $EXT; action = "require_tls"; external = true; }
  );
};
CONF

# --- outbound: the shim presents the rule's client certificate -------------------
CHAIN=(-cert_chain "$CERTS/inter.pem")
tls_server "$MTLS" "$CERTS/valid.pem" "$CERTS/valid.key" "${CHAIN[@]}" \
	-Verify 1 -CAfile "$CERTS/client-ca.pem"
tls_server "$MTLS_NORULE" "$CERTS/valid.pem" "$CERTS/valid.key" "${CHAIN[@]}" \
	-Verify 1 -CAfile "$CERTS/client-ca.pem"

out=$("$CARELESS_GNUTLS" all "$MTLS" 2>&1)
expect "control: without the shim the server refuses a client without a certificate" 1 "$?"
out=$("$CARELESS_GNUTLS" -c "$CERTS/client.pem" -k "$CERTS/client.key" all "$MTLS" 2>&1)
expect "control: with its own client certificate the careless client gets through" 0 "$?"

audit_mark
out=$(shimmed "$CARELESS_GNUTLS" all "$MTLS" 2>&1)
expect "client_cert in the rule: the shim presents it and the request works" 0 "$?"
expect_match "client_cert in the rule: the page" "^RESPONSE HTTP/1.0 200" "$out"
expect_no_match "client_cert in the rule: no block or unmanaged event" "verdict=block|unmanaged_tls" \
	"$(audit_since)"
out=$(shimmed "$CARELESS_GNUTLS" -p -n localhost all "$MTLS" 2>&1)
expect "client_cert in the rule, custom push/pull and a name: works" 0 "$?"
out=$(shimmed "$CARELESS_GNUTLS" -c "$CERTS/client.pem" -k "$CERTS/client.key" all "$MTLS" 2>&1)
expect "client_cert in the rule, the program presents its own: works" 0 "$?"
out=$(gnutls_cli_insecure "$MTLS")
expect_match "client_cert in the rule: gnutls-cli --insecure without a certificate is served" \
	"HTTP/1.0 200" "$out"
out=$(shimmed "$CARELESS_GNUTLS" all "$MTLS_NORULE" 2>&1)
expect "no client_cert in the rule: still refused by the server" 1 "$?"

# --- inbound: gnutls-serv under require_client_cert --------------------------------
# serv PORT shimmed|plain [ARGS...]: gnutls-serv --http on PORT.
serv() {
	local port=$1 pre=()
	[ "$2" = shimmed ] && pre=(env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$POLICY")
	shift 2
	run_bg "${pre[@]}" gnutls-serv --http -q -p "$port" --x509certfile "$CERTS/valid.pem" \
		--x509keyfile "$CERTS/valid.key" "$@" </dev/null >/dev/null 2>&1
	wait_port "$port"
}
serv "$SRV_CONTROL" plain
serv "$SRV" shimmed
serv "$SRV_NOREQ" shimmed --disable-client-cert

curl_in() { # PORT [CURL ARGS...]
	local port=$1
	shift
	curl -4 -sS -o /dev/null -w '%{http_code}\n' --max-time 10 --cacert "$CERTS/root.pem" "$@" \
		"https://localhost:$port/" 2>&1
}
s_client_in() { # PORT [S_CLIENT ARGS...]
	local port=$1
	shift
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -quiet \
		-connect "127.0.0.1:$port" -servername localhost -CAfile "$CERTS/root.pem" "$@" 2>&1
}
expect "control: gnutls-serv alone serves a client without a certificate" 200 \
	"$(curl_in "$SRV_CONTROL")"
expect_match "control: gnutls-serv alone serves s_client without a certificate" "HTTP/1.0 200" \
	"$(s_client_in "$SRV_CONTROL")"

for port_name in SRV SRV_NOREQ; do
	port=${!port_name}
	label="gnutls-serv${port_name#SRV}"
	[ "$port_name" = SRV_NOREQ ] && label="gnutls-serv --disable-client-cert"
	audit_mark
	out=$(curl_in "$port")
	expect_no_match "$label: curl without a client certificate gets nothing" "^200$" "$out"
	expect_match "$label: audit dir=in reason=no_client_cert" \
		"event=handshake verdict=block dir=in proto=tcp peer=127\.0\.0\.1:[0-9]+ .*rule=1 reason=no_client_cert" \
		"$(audit_since)"
	audit_mark
	out=$(s_client_in "$port")
	expect_no_match "$label: s_client without a client certificate gets nothing" "HTTP/1.0 200" "$out"
	expect_match "$label: s_client without a certificate: audit reason=no_client_cert" \
		"event=handshake verdict=block dir=in .*reason=no_client_cert" "$(audit_since)"
	audit_mark
	out=$(curl_in "$port" --cert "$CERTS/client.pem" --key "$CERTS/client.key")
	expect "$label: curl with a good client certificate is served" 200 "$out"
	expect_no_match "$label: good client certificate: no block or unmanaged event" \
		"verdict=block|unmanaged_tls" "$(audit_since)"
	out=$(s_client_in "$port" -cert "$CERTS/client.pem" -key "$CERTS/client.key")
	expect_match "$label: s_client with a good client certificate is served" "HTTP/1.0 200" "$out"
	audit_mark
	out=$(curl_in "$port" --cert "$CERTS/untrusted.pem" --key "$CERTS/untrusted.key")
	expect_no_match "$label: a client certificate from another CA is refused" "^200$" "$out"
	expect_match "$label: another CA: audit dir=in reason=cert_verify" \
		"event=handshake verdict=block dir=in .*reason=cert_verify" "$(audit_since)"
done

# --- the version floor on the server side ---------------------------------------------
# gnutls-serv alone speaks TLS 1.0 to a client that offers nothing newer; under
# the shim it must not, even to a client with a good certificate.
old_client() { # PORT
	s_client_in "$1" -tls1 -cipher 'DEFAULT:@SECLEVEL=0' -cert "$CERTS/client.pem" \
		-key "$CERTS/client.key"
}
expect_match "control: gnutls-serv alone serves a TLS 1.0 client" "HTTP/1.0 200" \
	"$(old_client "$SRV_CONTROL")"
audit_mark
out=$(old_client "$SRV")
expect_no_match "gnutls-serv under the shim: a TLS 1.0 client gets nothing" "HTTP/1.0 200" "$out"
events=$(audit_since)
expect_match "gnutls-serv under the shim, TLS 1.0 client: audit dir=in reason=protocol_version" \
	"event=handshake verdict=block dir=in .*reason=protocol_version" "$events"
expect_no_match "gnutls-serv under the shim, TLS 1.0 client: not recorded as unmanaged" \
	"unmanaged_tls" "$events"

# --- external = true: the served certificate must chain to a public root ---------
# The test root is not one, so gnutls-serv must not serve with valid.pem (as
# t_ssl_rules.sh checks for libssl servers); the control server alone does.
serv "$EXT" shimmed
audit_mark
out=$(curl_in "$EXT")
expect_no_match "external rule, certificate of a private CA: gnutls-serv does not serve it" "^200$" "$out"
expect_match "external rule: audit dir=in reason=cert_verify on the served certificate" \
	"event=handshake verdict=block dir=in .*rule=2 reason=cert_verify detail=\"served certificate" \
	"$(audit_since)"

# --- the server's own client CA does not widen the rule's client_ca_file ----------
# gnutls-serv --require-client-cert --verify-client-cert --x509cafile
# other-root.pem trusts client certificates of the other root (untrusted.pem
# has clientAuth); the rule names client-ca.pem only.
OWN=(--require-client-cert --verify-client-cert --x509cafile "$CERTS/other-root.pem")
serv "$OWNCA_CONTROL" plain "${OWN[@]}"
serv "$OWNCA" shimmed "${OWN[@]}"
expect "control: gnutls-serv alone serves a client certificate of its own CA" 200 \
	"$(curl_in "$OWNCA_CONTROL" --cert "$CERTS/untrusted.pem" --key "$CERTS/untrusted.key")"
audit_mark
out=$(curl_in "$OWNCA" --cert "$CERTS/untrusted.pem" --key "$CERTS/untrusted.key")
expect_no_match "gnutls-serv with its own client CA: a certificate of that CA is refused" "^200$" "$out"
expect_match "gnutls-serv with its own client CA: audit dir=in reason=cert_verify" \
	"event=handshake verdict=block dir=in .*reason=cert_verify" "$(audit_since)"

# --- audit mode: the same refusal is let through and recorded ----------------------
sed 's/^mode = "enforce";/mode = "audit";/' "$POLICY" | write_policy "$T/audit.conf"
run_bg env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$T/audit.conf" gnutls-serv --http -q -p "$AUDITED" \
	--x509certfile "$CERTS/valid.pem" --x509keyfile "$CERTS/valid.key" </dev/null >/dev/null 2>&1
wait_port "$AUDITED"
audit_mark
expect "audit mode: gnutls-serv serves a client without a certificate" 200 "$(curl_in "$AUDITED")"
expect_match "audit mode: recorded as verdict=audit dir=in reason=no_client_cert" \
	"event=handshake verdict=audit dir=in .*reason=no_client_cert" "$(audit_since)"
