#!/bin/bash
# tlsguard report suggests upgrade_tls for a plaintext destination with a TLS
# twin: plaintext was seen to HOST:PORT and a TLS session the policy accepted
# (event=handshake or event=upgrade, verdict=allow, recorded with
# audit.log_allowed) to the same address on another TCP port. The suggestion is
# a commented rule for the twin's port (the program must be pointed there:
# upgrade_tls does not move a connection), the JSON names both ports, the
# snippet stays a valid policy, and with the rule uncommented `tlsguard
# explain` answers upgrade_tls. No twin: a failed handshake, another address,
# UDP, a denied destination, or the same port.
. "$(dirname "$0")/lib.sh"

export TZ=UTC TLSGUARD_REPORT_NOW=1796385600

# ev EVENT VERDICT PEER HOST REASON [PROTO]: one audit line body.
ev() {
	printf 'event=%s verdict=%s dir=out proto=%s peer=%s host=%s rule=default reason=%s exe=/usr/bin/redis-cli pid=7\n' \
		"$1" "$2" "${6:-tcp}" "$3" "$4" "$5"
}

# suggested FILE: the "Suggested rules" snippet of the report on FILE.
suggested() { "$CLI" report "$1" | sed -n '/^# Suggested rules/,$p'; }

# --- the twin: 6379 plaintext, 6380 TLS accepted ----------------------------------
{
	ev plaintext block 10.0.0.5:6379 cache.example plaintext
	ev plaintext block 10.0.0.5:6379 cache.example plaintext
	ev plaintext block 10.0.0.5:6379 cache.example plaintext
	ev handshake allow 10.0.0.5:6380 cache.example allowed
	ev handshake allow 10.0.0.5:6380 cache.example allowed
} >"$T/twin.log"
out=$(suggested "$T/twin.log")
expect_match "twin: the note names the TLS port" \
	'^    # cache\.example: plaintext seen 3 times; TLS on port 6380$' "$out"
expect_match "twin: says the program must be pointed at the TLS port" \
	'^    # upgrade_tls, with the program pointed at port 6380:$' "$out"
expect_match "twin: a commented upgrade_tls rule for the TLS port" \
	'^    # \{ to = "10\.0\.0\.5"; port = 6380; proto = "tcp"; action = "upgrade_tls"; \},$' "$out"
expect_no_match "twin: no plaintext waiver any more" 'port = 6379; proto = "tcp"; action = "allow"' "$out"
expect_match "twin: the TLS port itself keeps its rule" \
	'# cache\.example: TLS accepted 2 times: the current rule stays' "$out"
json=$("$CLI" report --json "$T/twin.log" | "$PY" -c '
import json, sys
for s in json.load(sys.stdin)["suggestions"]:
    if s["action"] == "upgrade_tls":
        print(s["to"], s["port"], s.get("plaintext_port"), s["active"])')
expect "twin: JSON suggestion names both ports, inactive" "10.0.0.5 6380 6379 False" "$json"

# The snippet is a valid policy; with the suggestion uncommented it still is,
# and explain says upgrade_tls for the twin port.
printf '%s\n' "$out" >"$T/s.conf"
chmod 0644 "$T/s.conf"
"$CLI" check "$T/s.conf" >/dev/null 2>&1
expect "twin: the snippet passes tlsguard check" 0 "$?"
sed 's/^    # \({ to = "10\.0\.0\.5"; port = 6380;.*\),$/    \1/' "$T/s.conf" >"$T/u.conf"
chmod 0644 "$T/u.conf"
"$CLI" check "$T/u.conf" >"$T/check.out" 2>&1
expect "twin: uncommented, the rule passes tlsguard check" 0 "$?"
got=$("$CLI" explain -p "$T/u.conf" 10.0.0.5:6380 | sed -n 's/^action: *//p')
expect "twin: explain answers upgrade_tls for the TLS port" upgrade_tls "$got"

# --- an upgrade the tunnel made is TLS evidence too (event=upgrade, verdict=allow) ---
{
	ev plaintext block 10.0.0.6:80 - plaintext
	ev upgrade allow 10.0.0.6:8443 - allowed
} >"$T/upgrade.log"
out=$(suggested "$T/upgrade.log")
expect_match "upgrade event: the twin is found" \
	'^    # \{ to = "10\.0\.0\.6"; port = 8443; proto = "tcp"; action = "upgrade_tls"; \},?$' "$out"
expect "upgrade event: no line skipped as malformed" "0" \
	"$("$CLI" report --json "$T/upgrade.log" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["malformed"])')"
# a refused upgrade is no evidence
{
	ev plaintext block 10.0.0.6:80 - plaintext
	ev upgrade block 10.0.0.6:8443 - cert_verify
} >"$T/refused.log"
expect_no_match "refused upgrade: no twin" 'upgrade_tls' "$(suggested "$T/refused.log")"

# a program refused for TLS inside TLS speaks TLS itself: require_tls is its rule
{
	ev upgrade allow 10.0.0.7:6380 - allowed
	ev upgrade block 10.0.0.7:6380 - tls_in_tls
} >"$T/tlsintls.log"
expect_match "tls_in_tls: the program speaks TLS, an active require_tls" \
	'^    \{ to = "10\.0\.0\.7"; port = 6380; proto = "tcp"; action = "require_tls"; \}$' \
	"$(suggested "$T/tlsintls.log")"

# --- the twin with the most accepted sessions wins --------------------------------
{
	ev plaintext block 10.0.0.5:6379 - plaintext
	ev handshake allow 10.0.0.5:16380 - allowed
	ev handshake allow 10.0.0.5:6380 - allowed
	ev handshake allow 10.0.0.5:6380 - allowed
} >"$T/two.log"
expect_match "two twins: the busier one" 'port = 6380; proto = "tcp"; action = "upgrade_tls"' \
	"$(suggested "$T/two.log")"

# --- no twin ------------------------------------------------------------------------
# no_twin NAME LOG...: the plaintext destination keeps its commented waiver.
no_twin() {
	local name=$1
	shift
	printf '%s\n' "$@" >"$T/none.log"
	local s
	s=$(suggested "$T/none.log")
	expect_no_match "no twin ($name): no upgrade_tls" 'upgrade_tls' "$s"
}
no_twin "the TLS port's handshakes failed" "$(ev plaintext block 10.0.0.5:6379 - plaintext)" \
	"$(ev handshake block 10.0.0.5:6380 - cert_verify)"
no_twin "TLS on another address" "$(ev plaintext block 10.0.0.5:6379 - plaintext)" \
	"$(ev handshake allow 10.0.0.6:6380 - allowed)"
no_twin "an allowed connect is no evidence of TLS" "$(ev plaintext block 10.0.0.5:6379 - plaintext)" \
	"$(ev connect allow 10.0.0.5:6380 - allowed)"
no_twin "the plaintext destination was denied" "$(ev connect block 10.0.0.5:6379 - denied)" \
	"$(ev handshake allow 10.0.0.5:6380 - allowed)"
no_twin "UDP" "$(ev plaintext block 10.0.0.5:6379 - plaintext udp)" \
	"$(ev handshake allow 10.0.0.5:6380 - allowed)"
no_twin "TLS accepted on the same port" "$(ev plaintext block 10.0.0.5:6379 - plaintext)" \
	"$(ev handshake allow 10.0.0.5:6379 - allowed)"
expect_match "no twin: the waiver is still suggested" \
	'# \{ to = "10\.0\.0\.5"; port = 6379; proto = "tcp"; action = "allow"; \},' \
	"$(suggested "$T/none.log")"

# --- events the shim really sent ---------------------------------------------------
# A plaintext client blocked under the require_tls default (port PLAIN), the
# same host reached through upgrade_tls (port TLS, audit.log_allowed records
# the upgrade), and an upgrade refused for an untrusted certificate (port BAD):
# the report finds TLS as the twin, never BAD.
bash "$TOP/tests/lib/certs.sh" "$T/pki" >/dev/null
start_audit_sink
run_bg "$PY" "$TOP/tests/integration/sink_server.py" "$T/plain.port" "$T/plain.out"
for n in good:valid bad:untrusted; do
	run_bg "$PY" "$TOP/tests/integration/tls_recorder.py" "$T/pki/${n#*:}.pem" "$T/pki/${n#*:}.key" \
		"$T/${n%%:*}.port" "$T/${n%%:*}.out" 2>/dev/null
done
wait_until test -s "$T/plain.port" && wait_until test -s "$T/good.port" && wait_until test -s "$T/bad.port"
PLAIN=$(cat "$T/plain.port") GOOD=$(cat "$T/good.port") BAD=$(cat "$T/bad.port")
POLICY="$T/policy.conf"
write_policy "$POLICY" <<CONF
version = 1;
audit = { socket = "$AUDIT_SOCK"; stderr = false; log_allowed = true; };
tls = { ca_file = "$T/pki/root.pem"; };
outbound = {
  default = "require_tls";
  rules = ( { to = "127.0.0.1"; port = [ $GOOD, $BAD ]; action = "upgrade_tls"; } );
};
CONF
# shellcheck disable=SC2016 # the inner shell's variables
devtcp='exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "PING\n" >&3 && read -r -t 10 l <&3 && echo "$l"'
shimmed "$PY" -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
try:
    s.sendall(b"PING\n")
except PermissionError:
    pass' "$PLAIN" >/dev/null 2>&1
expect "real events: the upgraded client gets its answer" "ok" "$(shimmed bash -c "$devtcp" bash "$GOOD" 2>&1)"
shimmed bash -c "$devtcp" bash "$BAD" >/dev/null 2>&1
wait_until grep -q "peer=127.0.0.1:$BAD .*verdict=block\|verdict=block .*peer=127.0.0.1:$BAD" "$AUDIT_LOG"
out=$("$CLI" report "$AUDIT_LOG")
expect_match "real events: plaintext to the plain port, TLS twin named" \
	"plaintext seen 1 time; TLS on port $GOOD\$" "$out"
expect_match "real events: the upgrade_tls suggestion is for the port that worked" \
	"^    # \\{ to = \"127\\.0\\.0\\.1\"; port = $GOOD; proto = \"tcp\"; action = \"upgrade_tls\"; \\},?\$" "$out"
expect_match "real events: the refused upgrade is a note" \
	"# upgrade refused 1 time: cert_verify" "$out"
expect_no_match "real events: never require_tls for an upgraded destination" \
	"port = ($GOOD|$BAD); proto = \"tcp\"; action = \"require_tls\"" "$out"
