#!/bin/bash
# The GnuTLS layer against careless clients (issue 16): careless_gnutls_client
# in each way of switching verification off, `gnutls-cli --insecure`,
# `gnutls-cli --x509cafile=` another root (as curl --cacert in t_ssl_matrix.sh)
# and `wget --no-check-certificate`, under the shim in enforce mode, against
# recording TLS servers with a good certificate and with each kind of bad one
# (untrusted, expired, wrong host, incomplete chain, TLS 1.0 only, pinned-key
# mismatch). Good: works, no block and no unmanaged_tls event. Each bad case:
# refused, one handshake event with the right reason (cert_verify with
# GnuTLS's status text, hostname, pin, protocol_version), and the server saw
# no application byte. Then the same under mode audit (goes through,
# verdict=audit), and a careful program with its own trust (gnutls-cli
# --x509cafile) cannot widen trust = "policy".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"

make_certs || { not_ok "certificate factory" "tests/lib/certs.sh failed"; exit 1; }
start_audit_sink

# The python recorders send the whole PEM file as the chain: valid.pem and
# the others are leaf + intermediate; valid-leaf.pem forgets the intermediate.
https_recorders "valid:$CERTS/valid.pem:$CERTS/valid.key" \
	"untrusted:$CERTS/untrusted.pem:$CERTS/untrusted.key" \
	"expired:$CERTS/expired.pem:$CERTS/expired.key" \
	"wronghost:$CERTS/wronghost.pem:$CERTS/wronghost.key" \
	"incomplete:$CERTS/valid-leaf.pem:$CERTS/valid.key" \
	"tls10:$CERTS/valid.pem:$CERTS/valid.key:tls10" \
	"pinbad:$CERTS/valid.pem:$CERTS/valid.key"

policy_text() { # MODE
	cat <<CONF
version = 1;
mode = "$1";
env_override = false;
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
tls = { ca_file = "$CERTS/root.pem"; trust = "policy"; };
outbound = {
  default = "require_tls";
  rules = (
    { to = "127.0.0.1"; port = $pinbad_PORT; action = "require_tls";
      tls = { pin_sha256 = [ "$(cat "$CERTS/other.pin")" ]; }; }
  );
};
inbound = { default = "allow"; };
CONF
}
POLICY="$T/policy.conf"
policy_text enforce | write_policy "$POLICY"
policy_text audit | write_policy "$T/audit.conf"

# case NAME REASON DETAIL: REASON "-" means the connection must work; DETAIL
# (a regex, "-" for none) is what the event's detail must start with: for
# cert_verify, GnuTLS's own status text.
CASES=(
	"valid - -"
	"untrusted cert_verify .*issuer.is.unknown"
	"expired cert_verify .*expired"
	"wronghost hostname -"
	"incomplete cert_verify .*issuer.is.unknown"
	"tls10 protocol_version -"
	"pinbad pin -"
)

# The clients. careless_gnutls_client connects by address without a name
# (the host name checked is then 127.0.0.1, which valid.pem carries) unless
# given -n; gnutls-cli and wget send the name localhost.
CLIENTS=(none credcb sesscb flags tls10 all all-push all-sni gnutls-cli gnutls-cli-other-ca wget)
client() { # CLIENT PORT
	case $1 in
	flags) shimmed "$CARELESS_GNUTLS" -a "$CERTS/root.pem" flags "$2" 2>&1 ;;
	all-push) shimmed "$CARELESS_GNUTLS" -a "$CERTS/root.pem" -p all "$2" 2>&1 ;;
	all-sni) shimmed "$CARELESS_GNUTLS" -n localhost all "$2" 2>&1 ;;
	gnutls-cli) gnutls_cli_insecure "$2" ;;
	# verifying, against its own CA file (the other root): as curl --cacert in
	# t_ssl_matrix.sh, the policy's anchors decide, not the program's
	gnutls-cli-other-ca)
		printf 'GET / HTTP/1.0\r\n\r\n' | shimmed gnutls-cli --x509cafile="$CERTS/other-root.pem" \
			--sni-hostname localhost -p "$2" 127.0.0.1 2>&1
		;;
	wget) wget_insecure "$2" ;;
	*) shimmed "$CARELESS_GNUTLS" "$1" "$2" 2>&1 ;;
	esac
}
# answered OUTPUT: the page came back (careless: RESPONSE line; the others
# print the body).
answered() { printf '%s\n' "$1" | grep -Eq '^(RESPONSE HTTP/1.0 200|hello$)'; }

# --- controls: without the shim every client gets through every bad server,
# so what follows measures the shim.
for c in "${CASES[@]}"; do
	set -- $c
	name=$1 port_var=${1}_PORT
	[ "$name" = valid ] && continue
	failed=
	for cl in "${CLIENTS[@]}"; do
		# the flags mode trusts root.pem: alone it still refuses an unknown issuer
		[ "$cl" = flags ] && [ "${2}" = cert_verify ] && [ "$name" != expired ] && continue
		# and gnutls-cli with the other root trusts only the untrusted server
		[ "$cl" = gnutls-cli-other-ca ] && [ "$name" != untrusted ] && continue
		out=$(SHIM='' client "$cl" "${!port_var}")
		answered "$out" || failed="$failed $cl"
	done
	expect "control: without the shim every client gets through to $name" "" "$failed"
done
expect_match "control: the TLS 1.0 server speaks TLS 1.0 to the careless client" \
	"HANDSHAKE_OK TLS1.0 " "$("$CARELESS_GNUTLS" tls10 "$tls10_PORT" 2>&1)"

# check NAME REASON DETAIL OUTPUT STATUS BYTES_BEFORE [VERDICT]
check() {
	local name=$1 reason=$2 detail=$3 out=$4 rc=$5 before=$6 verdict=${7:-block} events
	events=$(audit_since)
	expect_no_match "$name: no unmanaged_tls event" "reason=unmanaged_tls" "$events"
	if [ "$reason" = - ]; then
		expect "$name: succeeds" 0 "$rc"
		answered "$out" && ok "$name: page received" || not_ok "$name: page received" "$out"
		expect_no_match "$name: no block recorded" "verdict=block" "$events"
		return
	fi
	expect_match "$name: audit verdict=$verdict reason=$reason" \
		"event=handshake verdict=$verdict dir=out proto=tcp peer=127\.0\.0\.1:[0-9]+ .*reason=$reason" "$events"
	if [ "$detail" != - ]; then
		expect_match "$name: audit detail (GnuTLS's status text)" \
			"reason=$reason detail=\"$detail" "$events"
	fi
	expect "$name: one handshake event" 1 "$(printf '%s\n' "$events" | grep -c 'event=handshake')"
	if [ "$verdict" = audit ]; then
		expect "$name: audit mode lets it through" 0 "$rc"
		return
	fi
	if answered "$out"; then not_ok "$name: refused" "$out"; else ok "$name: refused"; fi
	expect_no_match "$name: exit status is a failure" "^0$" "$rc"
	expect "$name: the server saw no application byte" "$before" "$(recorded "${name##*/}")"
}

for c in "${CASES[@]}"; do
	set -- $c
	name=$1 reason=$2 detail=$3 port_var=${1}_PORT
	for cl in "${CLIENTS[@]}"; do
		# gnutls-cli, wget and all-sni name localhost, the others 127.0.0.1:
		# valid.pem has both names, wronghost.pem neither
		before=$(recorded "$name")
		audit_mark
		out=$(client "$cl" "${!port_var}")
		check "$cl/$name" "$reason" "$detail" "$out" "$?" "$before"
	done
done

# What the program sees: GnuTLS's own verification error, and the status it
# reports says why.
out=$(shimmed "$CARELESS_GNUTLS" all "$expired_PORT" 2>&1)
expect_match "expired: gnutls_handshake fails with GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR" \
	"^HANDSHAKE_FAILED -348 GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR" "$out"
expect_match "expired: gnutls_session_get_verify_cert_status says expired" \
	"^VERIFY_STATUS .*expired" "$out"
out=$(shimmed "$CARELESS_GNUTLS" none "$untrusted_PORT" 2>&1)
expect_match "untrusted, no verification asked: still GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR" \
	"^HANDSHAKE_FAILED -348 " "$out"

# --- audit mode: every bad case goes through, recorded as verdict=audit -----
for c in "${CASES[@]}"; do
	set -- $c
	name=$1 reason=$2 detail=$3 port_var=${1}_PORT
	[ "$name" = valid ] && continue
	before=$(recorded "$name")
	audit_mark
	out=$(POLICY="$T/audit.conf" client all "${!port_var}")
	check "audit/$name" "$reason" "$detail" "$out" "$?" "$before" audit
done

# --- trust = "policy": a careful program's own anchors do not widen it ------
out=$(printf 'GET / HTTP/1.0\r\n\r\n' | gnutls-cli --x509cafile="$CERTS/other-root.pem" \
	--sni-hostname localhost -p "$untrusted_PORT" 127.0.0.1 2>&1)
expect_match "control: gnutls-cli --x509cafile=other-root alone trusts the untrusted server" \
	"^hello$" "$out"
before=$(recorded untrusted)
audit_mark
out=$(printf 'GET / HTTP/1.0\r\n\r\n' | shimmed gnutls-cli --x509cafile="$CERTS/other-root.pem" \
	--sni-hostname localhost -p "$untrusted_PORT" 127.0.0.1 2>&1)
check "gnutls-cli --x509cafile=other-root/untrusted" cert_verify ".*issuer.is.unknown" "$out" "$?" \
	"$before"
# and with the policy's own root the careful program works as before
audit_mark
out=$(printf 'GET / HTTP/1.0\r\n\r\n' | shimmed gnutls-cli --x509cafile="$CERTS/root.pem" \
	--sni-hostname localhost -p "$valid_PORT" 127.0.0.1 2>&1)
check "gnutls-cli --x509cafile=root/valid" - - "$out" "$?" 0
