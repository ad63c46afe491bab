#!/bin/bash
# tlsguard check and tlsguard explain: exit statuses, the FILE:LINE of broken
# policies, `check -v` round trips, permission refusal, and which rule explain
# names for addresses, host names, IPv6, UDP, inbound ports and deny rules.
. "$(dirname "$0")/lib.sh"

FIX="$TOP/tests/fixtures"
unset TLSGUARD_POLICY TLSGUARD_MODE

# run_cli NAME ARGS...: runs the CLI; sets OUT, ERR and RC.
run_cli() {
	"$CLI" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# --- the command itself -------------------------------------------------------

run_cli --version
expect "version" "0:tlsguard 0.1.0" "$RC:$OUT"
run_cli --help
expect_match "help lists check and explain" "^0:.*check.*explain" "$RC:$(echo $OUT)"
run_cli
expect_match "no command: usage on stderr only, exit 2" "^2::usage: tlsguard COMMAND" "$RC:$OUT:$ERR"
run_cli frobnicate
expect_match "unknown command exits 2" "^2:.*unknown command 'frobnicate'" "$RC:$ERR"
run_cli check --bogus
expect_match "check: unknown option exits 2" "^2:.*unknown option '--bogus'" "$RC:$ERR"
run_cli check a.conf b.conf
expect "check: two files exit 2" "2" "$RC"

# --- check over the policy engine's fixtures ------------------------------------
# tests/fixtures/policy/README: bad_*.conf are broken, every other *.conf is
# valid; @PKI@ stands for the absolute path of pki/ there.

# The line each broken fixture's error must name (one row per fixture; a
# fixture missing here must still be refused, with some FILE:LINE).
declare -A BAD_LINE=(
	[bad_big_int]=5        # port beyond 32 bits: libconfig would truncate it
	[bad_cidr_hostbits]=4  # 10.0.0.1/8 has host bits set
	[bad_duplicate]=3      # second `mode`
	[bad_inbound_proto]=5  # proto on an inbound rule
	[bad_include]=2        # @include refused
	[bad_missing_ca]=3     # ca_file that does not exist
	[bad_no_action]=5      # rule 2 starts on line 5 and has no action
	[bad_pin]=6            # the short pin is on line 6
	[bad_udp_tls]=5        # require_tls with proto udp
	[bad_unknown_key]=4    # verify_hostnme typo
)

# Real certificates and keys: check opens the client pair with OpenSSL (the
# fixtures' pki/ holds placeholders only the policy engine accepts).
PKI="$T/pki"
mkdir -p "$PKI"
for n in public-ca internal-ca clients-ca me; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=$n" -keyout "$PKI/$n.key" -out "$PKI/$n.pem" 2>/dev/null
done

# Copied: a checkout may carry any mode, and policy files must not be writable.
mkdir -p "$T/policy"
for f in "$FIX/policy"/*.conf; do
	[ -e "$f" ] || continue
	sed "s|@PKI@|$PKI|g" "$f" >"$T/policy/$(basename "$f")"
	chmod 0644 "$T/policy/$(basename "$f")"
done
nvalid=0 nbad=0
for f in "$T/policy"/*.conf; do
	[ -e "$f" ] || continue
	name=$(basename "$f" .conf)
	case $name in
	bad_*) continue ;;
	*) nvalid=$((nvalid + 1)) ;;
	esac
	run_cli check "$f"
	expect "check accepts $name" "0:policy OK: $f" "$RC:$OUT"
	run_cli check -v "$f"
	cp "$T/out" "$T/v1.conf"
	chmod 0644 "$T/v1.conf"
	# (settings.conf names an audit socket that does not exist: tested below)
	expect_match "check -v $name: OK line on stderr only" "^0:policy OK: $f$" \
		"$RC:$(grep -v "warning: audit socket" "$T/err")"
	expect_no_match "check -v $name: stdout is only the policy" "policy OK" "$OUT"
	run_cli check -v "$f"
	expect "check -v $name is stable" "$(cat "$T/v1.conf")" "$OUT"
	run_cli check -v "$T/v1.conf"
	expect "check -v $name reloads to the same policy" "0:$(cat "$T/v1.conf")" "$RC:$OUT"
done
for f in "$T/policy"/bad_*.conf; do
	[ -e "$f" ] || continue
	nbad=$((nbad + 1))
	name=$(basename "$f" .conf)
	want_line=${BAD_LINE[$name]:-}
	run_cli check "$f"
	if [ -n "$want_line" ]; then
		expect_match "check rejects $name at line $want_line" "^1:$f:$want_line: " "$RC:$ERR"
	else
		expect_match "check rejects $name" "^1:$f(:[0-9]+)?: " "$RC:$ERR"
	fi
	expect "check rejects $name: nothing on stdout" "" "$OUT"
done
[ "$nvalid" -gt 0 ] || not_ok "valid policy fixtures" "none under $FIX/policy"
[ "$nbad" -ge "${#BAD_LINE[@]}" ] || not_ok "broken policy fixtures" "$nbad found under $FIX/policy"

# --- where the policy comes from -------------------------------------------------

write_policy "$T/min.conf" <<'EOF'
version = 1;
EOF
if [ -e /etc/tlsguard/policy.conf ]; then
	skip "check without a file uses the built-in default" "/etc/tlsguard/policy.conf exists"
else
	run_cli check
	expect "check without a file uses the built-in default" "0:built-in default policy OK" "$RC:$OUT"
	run_cli check -v
	cp "$T/out" "$T/builtin.conf"
	chmod 0644 "$T/builtin.conf"
	expect "check -v of the built-in default: OK on stderr" "0:built-in default policy OK" \
		"$RC:$(without_devlog_warning <"$T/err")"
	run_cli check "$T/builtin.conf"
	expect "the printed built-in default reloads" "0" "$RC"
	expect_match "the built-in default requires TLS 1.2 outbound" \
		'min_version *= *"TLSv1\.2".*default *= *"require_tls"' "$(tr -d '\n' <"$T/builtin.conf")"
fi
TLSGUARD_POLICY="$T/min.conf" run_cli check
expect "check uses \$TLSGUARD_POLICY" "0:policy OK: $T/min.conf" "$RC:$OUT"
(cd "$T" && run_cli check min.conf && echo "$RC:$OUT") >"$T/rel"
expect "check takes a path relative to the working directory" "0:policy OK: $T/min.conf" \
	"$(cat "$T/rel")"
TLSGUARD_POLICY=min.conf run_cli check
expect_match "check refuses a relative \$TLSGUARD_POLICY, as the shim does" "^1:min.conf: " "$RC:$ERR"
run_cli check "$T/missing.conf"
expect_match "check: missing file exits 1 naming it" "^1:$T/missing.conf: " "$RC:$ERR"

# --- permissions ---------------------------------------------------------------------

cp "$T/min.conf" "$T/open.conf"
chmod 0666 "$T/open.conf"
run_cli check "$T/open.conf"
expect_match "check refuses a world-writable policy (names chmod)" "^1:$T/open.conf: .*chmod" "$RC:$ERR"
chmod 0664 "$T/open.conf"
run_cli check "$T/open.conf"
expect_match "check refuses a group-writable policy" "^1:$T/open.conf: " "$RC:$ERR"

# --- what check finds beyond the syntax ----------------------------------------------------------
# Each is reported with FILE:LINE: a private key given as CA file, a client key
# that belongs to another certificate, an encrypted key, an audit socket that
# does not exist, a rule an earlier rule shadows, a policy in a directory
# others can write to, and an empty policy path.

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj "/CN=other" -keyout "$PKI/other.key" -out "$PKI/other.pem" 2>/dev/null
openssl pkey -in "$PKI/me.key" -aes128 -passout pass:secret -out "$PKI/me-encrypted.key"
mkdir -p "$T/lint"
printf 'version = 1;\ntls = {\n  ca_file = "%s";\n};\n' "$PKI/me.key" |
	write_policy "$T/lint/key_as_ca.conf"
run_cli check "$T/lint/key_as_ca.conf"
expect "check: a private key as ca_file is an error at its line" \
	"1:$T/lint/key_as_ca.conf:3: ca_file '$PKI/me.key': holds no PEM certificate (it holds a PRIVATE KEY)" \
	"$RC:$ERR"

printf '%s\n' 'version = 1;' 'outbound = { rules = (' \
	'  { to = "db.example"; action = "require_tls";' \
	"    tls = { client_cert = \"$PKI/me.pem\";" \
	"            client_key = \"$PKI/other.key\"; }; }" ') ; };' |
	write_policy "$T/lint/mismatch.conf"
run_cli check "$T/lint/mismatch.conf"
expect "check: a client key of another certificate is an error at its line" \
	"1:$T/lint/mismatch.conf:5: client_key '$PKI/other.key': the client key does not belong to the client certificate '$PKI/me.pem'" \
	"$RC:$ERR"

printf 'version = 1;\ntls = { client_cert = "%s"; client_key = "%s"; };\n' \
	"$PKI/me.pem" "$PKI/me-encrypted.key" | write_policy "$T/lint/encrypted.conf"
run_cli check "$T/lint/encrypted.conf" </dev/null
expect_match "check: an encrypted client key is an error, with no passphrase prompt" \
	"^1:$T/lint/encrypted.conf:2: client_key .*holds an encrypted private key" "$RC:$ERR"

printf 'version = 1;\ntls = { client_cert = "%s"; client_key = "%s"; };\n' \
	"$PKI/me.pem" "$PKI/me.key" | write_policy "$T/lint/good_pair.conf"
run_cli check "$T/lint/good_pair.conf"
expect "check: a matching client pair is valid" "0:policy OK: $T/lint/good_pair.conf" "$RC:$OUT"

printf 'version = 1;\naudit = {\n  socket = "%s";\n};\n' "$T/lint/no-such.sock" |
	write_policy "$T/lint/no_socket.conf"
run_cli check "$T/lint/no_socket.conf"
expect "check: a missing audit socket is a warning at its line, still valid" \
	"0:policy OK: $T/lint/no_socket.conf:$T/lint/no_socket.conf:3: warning: audit socket '$T/lint/no-such.sock' does not exist: events will go to stderr only (is a syslog daemon running?)" \
	"$RC:$OUT:$ERR"

printf '%s\n' 'version = 1;' "audit = { socket = \"$T/lint/audit.sock\"; };" \
	'outbound = { rules = (' \
	'  { to = "10.0.0.0/8"; action = "deny"; },' \
	'  { to = "10.1.0.0/16"; port = 443; action = "allow"; },' \
	'  { to = "*.example.com"; port = "1-1000"; action = "allow"; },' \
	'  { to = "a.b.example.com"; port = [ 80, 443 ]; action = "deny"; },' \
	'  { to = "example.com"; port = 80; action = "deny"; },' \
	'  { to = "*.example.com"; port = "1-2000"; action = "deny"; },' \
	'  { to = "10.0.0.0/8"; proto = "udp"; action = "allow"; }' \
	') ; };' 'inbound = { rules = (' \
	'  { port = 22; action = "allow"; },' \
	'  { port = 22; from = "10.0.0.0/8"; action = "deny"; },' \
	'  { port = 23; from = "10.0.0.0/8"; action = "deny"; }' \
	') ; };' | write_policy "$T/lint/shadowed.conf"
"$PY" -c 'import socket, sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).bind(sys.argv[1])' \
	"$T/lint/audit.sock"
run_cli check "$T/lint/shadowed.conf"
expect "check: shadowed rules are warnings naming both rules; the rest is quiet" \
	"0|$T/lint/shadowed.conf:5: warning: outbound rule 2 can never match: rule 1 (line 4) takes every connection it names|$T/lint/shadowed.conf:7: warning: outbound rule 4 can never match: rule 3 (line 6) takes every connection it names|$T/lint/shadowed.conf:14: warning: inbound rule 2 can never match: rule 1 (line 13) takes every connection it names" \
	"$RC|$(printf '%s' "$ERR" | paste -sd '|')"

mkdir -p "$T/lint/open"
chmod 0777 "$T/lint/open"
cp "$T/lint/good_pair.conf" "$T/lint/open/p.conf"
chmod 0644 "$T/lint/open/p.conf"
run_cli check "$T/lint/open/p.conf"
expect_match "check: a policy in a directory others can write to is a warning" \
	"^0:$T/lint/open/p.conf: warning: directory '$T/lint/open' is writable by others: they can replace the policy file" \
	"$RC:$ERR"

run_cli check ""
expect_match "check '': an empty path is an error, not the default" "^1:.*no policy path given" "$RC:$ERR"
TLSGUARD_POLICY="" run_cli check
expect_match "check with TLSGUARD_POLICY set but empty fails as the shim does" \
	"^1:.*no policy path given" "$RC:$ERR"

# --- explain against tests/fixtures/cli/explain.conf ------------------------------------

P="$T/explain.conf"
cp "$FIX/cli/explain.conf" "$P"
chmod 0644 "$P"
# line_of TEXT: the line of the fixture holding TEXT (the rule's first line).
line_of() { grep -nF -- "$1" "$P" | head -1 | cut -d: -f1; }
# field KEY: the value printed for KEY in $OUT.
field() { printf '%s\n' "$OUT" | sed -n "s/^$1: *//p" | head -1; }

# explain_case NAME WANT_RULE WANT_ACTION ARGS...: WANT_RULE is N (the rule's
# fixture line found with RULE_TEXT) or "default".
explain_case() {
	local name=$1 want_rule=$2 want_action=$3
	shift 3
	run_cli explain -p "$P" "$@"
	expect "explain $name: exit" "0" "$RC"
	expect_match "explain $name: rule" "^$want_rule" "$(field rule)"
	expect "explain $name: action" "$want_action" "$(field action)"
}

explain_case "host name db.internal:5432" "2 \\($P:$(line_of '"db.internal"')\\)" require_tls \
	db.internal:5432
expect "explain db.internal: postgres starttls" "postgres" "$(field starttls | cut -d' ' -f1)"
expect "explain db.internal: server_name is the name checked" \
	"yes, name checked: pg.db.internal (server_name)" "$(field 'verify hostname')"
expect_match "explain db.internal: says address rules were not consulted" \
	"address rules not consulted" "$(field note)"
explain_case "host name in capitals" "2 " require_tls DB.Internal:5432
explain_case "host name, other port" "default" require_tls db.internal
expect "explain db.internal:443: the host is the name checked" \
	"yes, name checked: db.internal" "$(field 'verify hostname')"
expect "explain db.internal:443: system store" "system store" "$(field 'trust anchors')"
explain_case "[::1]:443" "3 \\($P:$(line_of '"::1"')\\)" require_tls "[::1]:443"
expect "explain [::1]:443: TLSv1.3" "TLSv1.3" "$(field 'min version')"
explain_case "bare ::1 means port 443" "3 " require_tls ::1
explain_case "[::1]:8443" "default" require_tls "[::1]:8443"
explain_case "--udp 127.0.0.1:53" "1 \\($P:$(line_of 'port = 53;')\\)" allow --udp 127.0.0.1:53
explain_case "--udp to another DNS server uses outbound.dns" "default" allow --udp 127.0.0.2:53
explain_case "--udp elsewhere: require_tls default means deny" "default" deny --udp 127.0.0.1:5000
explain_case "deny rule 127.0.0.1:23" "4 \\($P:$(line_of 'port = 23;')\\)" deny 127.0.0.1:23
expect "explain deny: no TLS requirements printed" "" "$(field 'min version')"
explain_case "IPv4-mapped IPv6 matches the IPv4 rule" "4 " deny "[::ffff:127.0.0.1]:23"
explain_case "wildcard waiver" "5 \\($P:$(line_of 'legacy.internal')\\)" allow \
	app.legacy.internal:8080
explain_case "wildcard matches several labels" "5 " allow a.b.legacy.internal:8099
explain_case "wildcard never matches the bare suffix" "default" require_tls legacy.internal:8080
TLSGUARD_POLICY="$P" run_cli explain 127.0.0.1:23
expect_match "explain without -p uses \$TLSGUARD_POLICY" "^0:4 " "$RC:$(field rule)"
if [ -e "$T/policy/settings.conf" ]; then
	run_cli explain -p "$T/policy/settings.conf" 127.0.0.1:443
	expect_match "explain shows audit mode and that TLSGUARD_MODE is ignored" \
		"^audit: nothing is blocked.*TLSGUARD_MODE is ignored" "$(field mode)"
fi
explain_case "--in 8443" "1 \\($P:$(line_of 'port = 8443;')\\)" require_tls --in 8443
expect "explain --in 8443: direction" "inbound tcp on local port 8443 from any peer" \
	"$(field connection)"
explain_case "--in from an allowed peer" "2 " allow --in 127.0.0.1:9100
explain_case "--in without a peer skips from rules" "default" deny --in 9100
expect_match "explain --in 9100: says from rules were not consulted" "not consulted" "$(field note)"
explain_case "--in from a peer outside from" "default" deny --in "[::1]:9100"

# --- explain against the contract's example policy ------------------------------------------

PIN=$(openssl x509 -in "$PKI/me.pem" -pubkey -noout | openssl pkey -pubin -outform der |
	openssl dgst -sha256 -binary | base64)
P="$T/contract.conf"
sed -e "s|@PKI@|$PKI|g" -e "s|@PIN@|$PIN|g" "$FIX/cli/contract.conf.in" >"$P"
chmod 0644 "$P"
run_cli check "$P"
expect "check accepts the contract's example policy" "0:policy OK: $P" "$RC:$OUT"

explain_case "contract: internal API" "2 \\($P:$(line_of '"*.internal.example"')\\)" require_tls \
	api.internal.example:8444
expect "contract: rule trust anchors" "ca_file $PKI/internal-ca.pem, ca_path $PKI" \
	"$(field 'trust anchors')"
expect_match "contract: one pin" "^1 " "$(field pins)"
expect "contract: the pin value" "$PIN" "$(field '  pin_sha256')"
expect_match "contract: client certificate" "^$PKI/me.pem, key $PKI/me.key" "$(field 'client cert')"
expect "contract: trust mode" "policy (only the policy's anchors)" "$(field trust)"
expect "contract: unmanaged" "deny" "$(field 'unmanaged tls')"
expect_match "contract: mode" "^enforce" "$(field mode)"
explain_case "contract: internal API wrong port" "default" require_tls api.internal.example:8445
expect "contract: default uses the top-level anchors" "ca_file $PKI/public-ca.pem, ca_path $PKI" \
	"$(field 'trust anchors')"
explain_case "contract: postgres" "3 " require_tls 10.20.7.8:5432
explain_case "contract: telnet denied everywhere" "4 " deny 127.0.0.1:23
explain_case "contract: statsd over UDP" "1 " allow --udp 127.0.0.1:8125
explain_case "contract: --in 8443 mTLS" "2 " require_tls --in 8443
expect "contract: --in 8443 client cert" "required, issued by $PKI/clients-ca.pem" \
	"$(field 'client cert')"
explain_case "contract: --in 443 external" "3 " require_tls --in 443
expect_match "contract: --in 443 external" "^yes" "$(field external)"

# --- the policies printed in tlsguard.conf(5) are valid ---------------------------------------
# Each literal block from "The built-in default policy" on is a policy; /etc/pki
# paths point at the test's certificates here. The first is the built-in default.

mkdir -p "$T/man/pki"
for f in internal-ca.pem me.pem me.key clients-ca.pem; do
	cp "$PKI/$f" "$T/man/pki/$f"
done
cp "$PKI/public-ca.pem" "$T/man/pki/db-ca.pem"
awk -v dir="$T/man" '
	/^\.Ss The built-in default/ { on = 1 }
	on && /^\.Bd -literal/ { n++; out = sprintf("%s/example%d.conf", dir, n); next }
	on && /^\.Ed/ { close(out); out = ""; next }
	out != "" { gsub(/\/etc\/pki/, dir "/pki"); print > out }
' "$TOP/man/tlsguard.conf.5"
nex=0
for f in "$T/man"/example*.conf; do
	[ -e "$f" ] || continue
	nex=$((nex + 1))
	chmod 0644 "$f"
	run_cli check "$f"
	expect "man page $(basename "$f" .conf) is a valid policy" "0:policy OK: $f" "$RC:$OUT"
done
expect_match "man page has the default policy and four examples" "^[5-9]$" "$nex"
if [ -e "$T/builtin.conf" ]; then
	run_cli check -v "$T/man/example1.conf"
	expect "the man page's built-in default is the real one" "$(cat "$T/builtin.conf")" "$OUT"
fi

# --- explain errors ------------------------------------------------------------------------------

P="$T/explain.conf"
for arg in "127.0.0.1:0" "127.0.0.1:70000" "127.0.0.1:" "127.0.0.1:4x3" "a b" "10.0.0" \
	"[::1" "[::1]443" "[::1]:443x" "[127.0.0.1]:443" "a:b:c" "*.internal" "-" "-a.example" \
	"a-.example" "a..example" "$(printf 'a%.0s' {1..64}).example" \
	"$(printf 'abcdefghi.%.0s' {1..26})example" ""; do
	run_cli explain -p "$P" -- "$arg"
	expect_match "explain rejects '$arg' with exit 2" "^2:.*is not" "$RC:$(echo $ERR)"
done
for args in "--in 0" "--in 65536" "--in localhost:80" "--in --udp 53"; do
	# shellcheck disable=SC2086
	run_cli explain -p "$P" $args
	expect "explain $args exits 2" "2" "$RC"
done
run_cli explain -p "$P"
expect_match "explain without a target exits 2" "^2:.*usage: tlsguard explain" "$RC:$(echo $ERR)"
run_cli explain -p
expect_match "explain -p without a file exits 2" "^2:.*needs an argument" "$RC:$ERR"
run_cli explain -p "$P" a.example b.example
expect "explain with two targets exits 2" "2" "$RC"
run_cli explain -p "$T/open.conf" 127.0.0.1
expect_match "explain with a refused policy exits 1 with the message" "^1:$T/open.conf: " "$RC:$ERR"
if [ -e "$T/policy" ]; then
	for f in "$T/policy"/bad_*.conf; do
		[ -e "$f" ] || continue
		run_cli explain -p "$f" 127.0.0.1
		expect_match "explain with $(basename "$f") exits 1 with FILE:LINE" "^1:$f(:[0-9]+)?: " "$RC:$ERR"
		break
	done
fi

# --- explain: the tunnel actions, upgrade_tls and terminate_tls (issue 17) ---------------------
# Each action is shown with the tls keys the shim uses for it: what upgrade_tls
# verifies (anchors, name, pins, client certificate, starttls) and what a
# refused program sees; the certificate terminate_tls serves and what it asks
# of clients.

P="$T/tunnel.conf"
write_policy "$P" <<CONF
version = 1;
outbound = {
  rules = (
    { to = "10.30.0.5"; port = 6379; action = "upgrade_tls";
      tls = { ca_file = "$PKI/internal-ca.pem"; server_name = "cache.internal.example";
              client_cert = "$PKI/me.pem"; client_key = "$PKI/me.key"; min_version = "TLSv1.3"; }; },
    { to = "10.20.0.0/16"; port = 5432; action = "upgrade_tls"; starttls = "postgres"; }
  );
};
inbound = {
  default = "deny";
  rules = (
    { port = 8080; action = "terminate_tls";
      tls = { cert_file = "$PKI/me.pem"; key_file = "$PKI/me.key"; require_client_cert = true;
              client_ca_file = "$PKI/clients-ca.pem"; }; },
    { port = 8443; action = "terminate_tls"; external = true;
      tls = { cert_file = "$PKI/me.pem"; key_file = "$PKI/me.key"; }; }
  );
};
CONF
explain_case "upgrade_tls rule" "1 \\($P:$(line_of '"10.30.0.5"')\\)" upgrade_tls 10.30.0.5:6379
expect_match "upgrade_tls: the shim speaks TLS for the program" "^upgrade_tls: the program writes plaintext" \
	"$(field tunnel)"
expect "upgrade_tls: handshake before any byte" "before any program byte leaves" "$(field handshake)"
expect_match "upgrade_tls: a refused handshake's errno" "fails with E[A-Z]+$" "$(field refused)"
expect_match "upgrade_tls: the program's own TLS is refused with its reason word" \
	"^refused \\(reason [a-z_]+\\)" "$(field "program's own TLS")"
expect "upgrade_tls: rule's anchors" "ca_file $PKI/internal-ca.pem" "$(field 'trust anchors')"
expect "upgrade_tls: server_name" "yes, name checked: cache.internal.example (server_name)" \
	"$(field 'verify hostname')"
expect "upgrade_tls: min version" "TLSv1.3" "$(field 'min version')"
expect_match "upgrade_tls: client certificate" "^$PKI/me.pem, key $PKI/me.key" "$(field 'client cert')"
explain_case "upgrade_tls with starttls postgres" "2 " upgrade_tls 10.20.1.2:5432
expect "upgrade_tls postgres: the shim's own SSLRequest" \
	"before any program byte leaves, after the shim's own SSLRequest" "$(field handshake)"
expect "upgrade_tls postgres: starttls" "postgres" "$(field starttls | cut -d' ' -f1)"
explain_case "upgrade_tls: other port falls to the default" "default" require_tls 10.30.0.5:6380
expect "the default shows no tunnel" "" "$(field tunnel)"

explain_case "terminate_tls rule" "1 \\($P:$(line_of 'port = 8080;')\\)" terminate_tls --in 8080
expect_match "terminate_tls: the shim serves TLS" "^terminate_tls: the shim serves TLS" "$(field tunnel)"
expect "terminate_tls: cert_file and key_file" "$PKI/me.pem, key $PKI/me.key" "$(field certificate)"
expect_match "terminate_tls: refused clients, the errno the program sees" "^plaintext, .*fail with ECONNRESET" "$(field refused)"
expect "terminate_tls: client certificate required" "required, issued by $PKI/clients-ca.pem" \
	"$(field 'client cert')"
explain_case "terminate_tls external" "2 " terminate_tls --in 8443
expect "terminate_tls external: the served certificate" "yes (cert_file must chain to a public root)" \
	"$(field external)"
expect "terminate_tls external: no client certificate" "not required" "$(field 'client cert')"
run_cli check -v "$P"
expect_match "check -v prints both actions" 'action = "upgrade_tls".*action = "terminate_tls"' "$(echo $OUT)"
# check opens the terminate_tls pair like a client_cert pair: a key that does
# not belong to cert_file is refused before any handshake would fail on it.
write_policy "$T/tunnel-mismatch.conf" <<CONF
version = 1;
inbound = { rules = ( { port = 8080; action = "terminate_tls";
  tls = { cert_file = "$PKI/me.pem"; key_file = "$PKI/internal-ca.key"; }; } ); };
CONF
run_cli check "$T/tunnel-mismatch.conf"
expect_match "check refuses a terminate_tls key_file that does not belong to cert_file" \
	"^1:$T/tunnel-mismatch.conf: key_file '$PKI/internal-ca.key': the key does not belong to cert_file '$PKI/me.pem'$" \
	"$RC:$ERR"
