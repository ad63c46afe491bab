#!/bin/bash
# The OpenSSL layer against careless clients: every client switches certificate
# verification off in its own way (curl -k, curl with another CA, python's
# unverified context, openssl s_client, careless_client in each mode), runs
# under the shim against servers with each kind of bad certificate, and must
# get through only where the certificate is good. Each refusal must be in the
# audit log with the right reason.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"

make_certs || { not_ok "certificate factory" "tests/lib/certs.sh failed"; exit 1; }
start_audit_sink

POLICY="$T/policy.conf"
write_policy "$POLICY" <<CONF
version = 1;
mode = "enforce";
env_override = false;
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
tls = { ca_file = "$CERTS/root.pem"; };
outbound = { default = "require_tls"; };
inbound = { default = "allow"; };
CONF

# case NAME CERT KEY REASON DETAIL: REASON "-" means the certificate is good.
CASES=(
	"valid valid.pem valid.key - -"
	"wronghost wronghost.pem wronghost.key hostname -"
	"untrusted untrusted.pem untrusted.key cert_verify unable.to.get.local.issuer"
	"expired expired.pem expired.key cert_verify certificate.has.expired"
	"future future.pem future.key cert_verify certificate.is.not.yet.valid"
	"selfsigned selfsigned.pem selfsigned.key cert_verify self.signed"
	"incomplete valid-leaf.pem valid.key cert_verify unable.to.get.local.issuer"
	"iponly iponly.pem iponly.key hostname -"
)
declare -A PORT
for c in "${CASES[@]}"; do
	set -- $c
	PORT[$1]=$(new_port)
	chain=()
	# s_server sends only the first certificate of -cert; the intermediate
	# goes with -cert_chain (the "incomplete" server forgets it)
	[ "$1" = incomplete ] || [ "$1" = selfsigned ] || [ "$1" = untrusted ] ||
		chain=(-cert_chain "$CERTS/inter.pem")
	tls_server "${PORT[$1]}" "$CERTS/$2" "$CERTS/$3" "${chain[@]}" || not_ok "server $1" "did not start"
done

# check NAME WANT_REASON WANT_DETAIL OUTPUT STATUS
check() {
	local name=$1 reason=$2 detail=$3 out=$4 rc=$5 events
	events=$(audit_since)
	if [ "$reason" = - ]; then
		expect "$name: succeeds" "0" "$rc"
		expect_match "$name: response received" "HTTP/1.0 200" "$out"
		expect_no_match "$name: no block recorded" "verdict=block" "$events"
		return
	fi
	expect_no_match "$name: gets no response" "HTTP/1.0 200" "$out"
	expect_match "$name: audit reason=$reason" "event=handshake verdict=block .*reason=$reason" "$events"
	if [ "$detail" != - ]; then
		expect_match "$name: audit detail" "reason=$reason detail=\"?$detail" "$events"
	fi
	expect "$name: one handshake event" "1" "$(printf '%s\n' "$events" | grep -c 'event=handshake')"
}

# Control: without the shim the careless programs accept the bad certificates,
# so what follows measures the shim.
out=$("$CARELESS" none "${PORT[expired]}" 2>&1)
expect "control: careless_client alone accepts an expired certificate" 0 "$?"
out=$(curl -4 -sSi -k --max-time 10 "https://localhost:${PORT[selfsigned]}/" 2>&1)
expect_match "control: curl -k alone accepts a self-signed certificate" "HTTP/1.0 200" "$out"

for c in "${CASES[@]}"; do
	set -- $c
	name=$1 reason=$4 detail=$5 port=${PORT[$1]}
	for client in curl_k curl_other_ca python s_client; do
		audit_mark
		out=$(client_$client "$port")
		check "$client/$name" "$reason" "$detail" "$out" "$?"
	done
	# careless_client connects by address with no SNI: the certificate must
	# then carry the IP address, which the IP-only certificate does.
	creason=$reason
	[ "$name" = iponly ] && creason=-
	for mode in none ssl-none cb1 certcb1 seclevel0 tls10 setresult after generic; do
		audit_mark
		out=$(shimmed "$CARELESS" "$mode" "$port" 2>&1)
		check "careless-$mode/$name" "$creason" "$detail" "$out" "$?"
	done
done

# What the program sees: SSL_ERROR_SSL (1) and the real X509 reason (10:
# X509_V_ERR_CERT_HAS_EXPIRED), whatever it set with SSL_set_verify_result.
out=$(shimmed "$CARELESS" setresult "${PORT[expired]}" 2>&1)
expect_match "expired: SSL_get_error and SSL_get_verify_result tell the truth" \
	"HANDSHAKE_FAILED 1 10" "$out"
out=$(shimmed "$CARELESS" none "${PORT[wronghost]}" 2>&1)
expect_match "wrong host: verify result is X509_V_ERR_IP_ADDRESS_MISMATCH (64)" \
	"HANDSHAKE_FAILED 1 64" "$out"
