#!/bin/bash
# Rule features for GnuTLS programs, as t_ssl_rules.sh checks them for libssl:
# trust = "policy+app" (the program's own anchors count too), a rule's
# server_name (the name checked, whatever the program sent), else the name the
# program gave with gnutls_server_name_set, a matching pin, a rule's
# min_version TLSv1.3, an allow rule (left alone), mode off, many threads
# handshaking at once, and the program's own transport functions (a vector
# push; a push that writes the ClientHello in pieces, refused as documented).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"

make_certs || { not_ok "certificate factory" "tests/lib/certs.sh failed"; exit 1; }
start_audit_sink

https_recorders "valid:$CERTS/valid.pem:$CERTS/valid.key" \
	"expired:$CERTS/expired.pem:$CERTS/expired.key" \
	"apptrust:$CERTS/untrusted.pem:$CERTS/untrusted.key" \
	"named:$CERTS/wronghost.pem:$CERTS/wronghost.key" \
	"namedbad:$CERTS/valid.pem:$CERTS/valid.key" \
	"allowed:$CERTS/selfsigned.pem:$CERTS/selfsigned.key" \
	"pinok:$CERTS/valid.pem:$CERTS/valid.key" \
	"sniname:$CERTS/wronghost.pem:$CERTS/wronghost.key"
TLS12=$(new_port)
tls_server "$TLS12" "$CERTS/valid.pem" "$CERTS/valid.key" -cert_chain "$CERTS/inter.pem" -no_tls1_3

POLICY="$T/policy.conf"
write_policy "$POLICY" <<CONF
version = 1;
mode = "enforce";
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
tls = { ca_file = "$CERTS/root.pem"; };
outbound = {
  default = "require_tls";
  rules = (
    { to = "127.0.0.1"; port = $apptrust_PORT; action = "require_tls"; tls = { trust = "policy+app"; }; },
    { to = "127.0.0.1"; port = [ $named_PORT, $namedbad_PORT ]; action = "require_tls";
      tls = { server_name = "wrong.example"; }; },
    { to = "127.0.0.1"; port = $TLS12; action = "require_tls"; tls = { min_version = "TLSv1.3"; }; },
    { to = "127.0.0.1"; port = $allowed_PORT; action = "allow"; },
    { to = "127.0.0.1"; port = $pinok_PORT; action = "require_tls";
      tls = { pin_sha256 = [ "$(cat "$CERTS/other.pin")", "$(cat "$CERTS/valid.pin")" ]; }; }
  );
};
inbound = { default = "allow"; };
CONF

page() { printf '%s\n' "$1" | grep -Eq '^(RESPONSE HTTP/1.0 200|hello$)'; }
works() { # NAME OUTPUT STATUS
	local events
	events=$(audit_since)
	expect "$1: works" 0 "$3"
	page "$2" && ok "$1: the page" || not_ok "$1: the page" "$2"
	expect_no_match "$1: no block or unmanaged event" "verdict=block|unmanaged_tls" "$events"
}
refused() { # NAME OUTPUT STATUS REASON RULE
	local events
	events=$(audit_since)
	page "$2" && not_ok "$1: refused" "$2" || ok "$1: refused"
	expect_no_match "$1: exit status is a failure" "^0$" "$3"
	expect_match "$1: audit rule=$5 reason=$4" "event=handshake verdict=block .*rule=$5 reason=$4" "$events"
}

# --- trust = "policy+app" ----------------------------------------------------------
careful() { # PORT CAFILE
	printf 'GET / HTTP/1.0\r\n\r\n' | shimmed gnutls-cli --x509cafile="$2" --sni-hostname localhost \
		-p "$1" 127.0.0.1 2>&1
}
out=$(SHIM='' careful "$apptrust_PORT" "$CERTS/other-root.pem")
page "$out" && ok "control: gnutls-cli --x509cafile=other-root alone trusts the server" ||
	not_ok "control: gnutls-cli --x509cafile=other-root alone trusts the server" "$out"
out=$("$CARELESS_GNUTLS" -a "$CERTS/other-root.pem" -n localhost careful "$apptrust_PORT" 2>&1)
expect "control: a client verifying with its own trust file alone trusts the server" 0 "$?"
out=$("$CARELESS_GNUTLS" -a "$CERTS/root.pem" -n localhost careful "$apptrust_PORT" 2>&1)
expect "control: ... and verifies (with another trust file it refuses)" 1 "$?"
audit_mark
out=$(careful "$apptrust_PORT" "$CERTS/other-root.pem")
works "policy+app: gnutls-cli --x509cafile=other-root is added to the policy's anchors" "$out" "$?"
audit_mark
out=$(shimmed "$CARELESS_GNUTLS" -a "$CERTS/other-root.pem" -n localhost careful "$apptrust_PORT" 2>&1)
works "policy+app: a client with its own trust file (gnutls_certificate_set_x509_trust_file)" \
	"$out" "$?"
audit_mark
out=$(shimmed "$CARELESS_GNUTLS" all "$apptrust_PORT" 2>&1)
refused "policy+app: a program with no anchors of its own still gets verification" "$out" "$?" \
	cert_verify 1

# --- server_name in the rule: the name checked ------------------------------------
# wronghost.pem is for wrong.example only: the rule's name makes it right,
# whatever name the program sends; valid.pem (localhost) is then wrong.
for cl in none all-sni gnutls-cli; do
	run() {
		case $cl in
		none) shimmed "$CARELESS_GNUTLS" none "$1" 2>&1 ;;
		all-sni) shimmed "$CARELESS_GNUTLS" -n localhost all "$1" 2>&1 ;;
		gnutls-cli) gnutls_cli_insecure "$1" ;;
		esac
	}
	audit_mark
	out=$(run "$named_PORT")
	works "server_name rule, $cl: a certificate for the rule's name is accepted" "$out" "$?"
	audit_mark
	out=$(run "$namedbad_PORT")
	refused "server_name rule, $cl: a certificate for the program's name is not" "$out" "$?" hostname 2
done

# --- the name the program gives (gnutls_server_name_set) is the name checked ---
# The program connects by address and names wrong.example, for which
# wronghost.pem is made: accepted (without a name, 127.0.0.1 would be checked
# and refused: t_gnutls_matrix.sh).
out=$("$CARELESS_GNUTLS" -a "$CERTS/root.pem" -n wrong.example careful "$sniname_PORT" 2>&1)
expect "control: a correct client naming wrong.example alone accepts the server" 0 "$?"
out=$("$CARELESS_GNUTLS" -a "$CERTS/root.pem" -n localhost careful "$sniname_PORT" 2>&1)
expect "control: ... and naming localhost refuses it" 1 "$?"
audit_mark
out=$(shimmed "$CARELESS_GNUTLS" -n wrong.example all "$sniname_PORT" 2>&1)
works "gnutls_server_name_set(wrong.example), careless client" "$out" "$?"
audit_mark
out=$(shimmed "$CARELESS_GNUTLS" -a "$CERTS/root.pem" -n wrong.example careful "$sniname_PORT" 2>&1)
works "gnutls_server_name_set(wrong.example), a client that verifies correctly" "$out" "$?"
audit_mark
out=$(printf 'GET / HTTP/1.0\r\n\r\n' | shimmed gnutls-cli --insecure --sni-hostname wrong.example \
	-p "$sniname_PORT" 127.0.0.1 2>&1)
works "gnutls-cli --sni-hostname wrong.example 127.0.0.1" "$out" "$?"
audit_mark
out=$(shimmed "$CARELESS_GNUTLS" -n localhost all "$sniname_PORT" 2>&1)
refused "gnutls_server_name_set(localhost) to the wrong.example server" "$out" "$?" hostname default

# --- min_version TLSv1.3 in the rule ------------------------------------------------
out=$("$CARELESS_GNUTLS" none "$TLS12" 2>&1)
expect_match "control: the TLS 1.2 server alone serves the careless client" "^HANDSHAKE_OK TLS1.2 " "$out"
audit_mark
out=$(shimmed "$CARELESS_GNUTLS" tls10 "$TLS12" 2>&1)
refused "min_version TLSv1.3, a TLS 1.2 server" "$out" "$?" protocol_version 3
audit_mark
out=$(shimmed "$CARELESS_GNUTLS" tls10 "$valid_PORT" 2>&1)
works "a program allowing TLS 1.0 still gets a session with a modern server" "$out" "$?"
expect_match "... at least TLS 1.2" "^HANDSHAKE_OK TLS1\.[23] " "$out"

# --- a pin that matches (t_gnutls_matrix.sh has the mismatch) ----------------------
audit_mark
out=$(shimmed "$CARELESS_GNUTLS" all "$pinok_PORT" 2>&1)
works "pin_sha256 lists the server's key: careless client works" "$out" "$?"
audit_mark
out=$(gnutls_cli_insecure "$pinok_PORT")
works "pin_sha256 lists the server's key: gnutls-cli works" "$out" "$?"

# --- allow rule: left alone ---------------------------------------------------------
audit_mark
out=$(shimmed "$CARELESS_GNUTLS" none "$allowed_PORT" 2>&1)
works "allow rule: careless client to a self-signed server is left alone" "$out" "$?"
audit_mark
out=$(gnutls_cli_insecure "$allowed_PORT")
works "allow rule: gnutls-cli --insecure is left alone" "$out" "$?"

# --- modes ------------------------------------------------------------------------------
audit_mark
out=$(TLSGUARD_MODE=off shimmed "$CARELESS_GNUTLS" all "$expired_PORT" 2>&1)
expect "off mode: nothing is enforced" 0 "$?"
expect_no_match "off mode: no handshake event" "event=handshake" "$(audit_since)"

# --- many threads ------------------------------------------------------------------------
out=$(shimmed "$CARELESS_GNUTLS" -t 16 all "$valid_PORT" 2>&1)
expect_match "16 threads, valid certificate: all succeed" "OK_COUNT 16" "$out"
audit_mark
out=$(shimmed "$CARELESS_GNUTLS" -t 16 all "$expired_PORT" 2>&1)
expect_match "16 threads, expired certificate: none succeeds" "OK_COUNT 0" "$out"
events=$(audit_since)
expect_match "16 threads, expired certificate: recorded as cert_verify" \
	"event=handshake verdict=block .*reason=cert_verify" "$events"
expect_no_match "16 threads, expired certificate: none as unmanaged" "unmanaged_tls" "$events"

# --- the program's own transport: the hello still ties the session ---------------
# A vector push function (writev): the trusted server works as a managed
# session, the expired one is refused for its certificate, never as
# unmanaged TLS.
out=$("$CARELESS_GNUTLS" -v all "$expired_PORT" 2>&1)
expect_match "control: careless client -v (vector push) alone accepts the expired certificate" \
	"^RESPONSE HTTP/1.0 200" "$out"
audit_mark
out=$(shimmed "$CARELESS_GNUTLS" -v all "$valid_PORT" 2>&1)
works "careless client -v (vector push), trusted server" "$out" "$?"
audit_mark
out=$(shimmed "$CARELESS_GNUTLS" -v all "$expired_PORT" 2>&1)
refused "careless client -v (vector push), expired certificate" "$out" "$?" cert_verify default

# Documented limit (tlsguard.8: a write that ends inside the first ClientHello
# is refused): a push function that writes the ClientHello 7 bytes at a time
# is refused as plaintext before any byte leaves, whatever the server.
out=$("$CARELESS_GNUTLS" -p -f all "$valid_PORT" 2>&1)
expect_match "control: careless client with a 7-byte push function alone works" \
	"^RESPONSE HTTP/1.0 200" "$out"
for srv in valid expired; do
	port_var=${srv}_PORT
	: >"$T/$srv.bytes"
	audit_mark
	out=$(shimmed "$CARELESS_GNUTLS" -p -f all "${!port_var}" 2>&1)
	expect_match "7-byte push function, $srv server: the handshake fails in the push function" \
		"^HANDSHAKE_FAILED -53 GNUTLS_E_PUSH_ERROR" "$out"
	expect_match "7-byte push function, $srv server: refused as a ClientHello written in pieces" \
		"event=plaintext verdict=block .*reason=plaintext detail=\"ClientHello not written whole in one call\"" \
		"$(audit_since)"
	expect "7-byte push function, $srv server: no application byte" 0 "$(recorded "$srv")"
done
