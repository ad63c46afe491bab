#!/bin/bash
# tlsguard report on events the shim really sent: the suggested policy is
# valid as printed, and `tlsguard explain` gives, for every destination, the
# verdict the report predicted (an active rule: its action; a comment: the
# default). A plaintext service allowed with log_allowed never becomes
# require_tls; a denied UDP destination gets a udp rule. Then the input forms:
# a rotated .gz log, journalctl -o json/-o short/-o cat, several hosts, --top,
# --wide, standard input, event=suppressed counts.
. "$(dirname "$0")/lib.sh"

export TZ=UTC
start_audit_sink
PLAIN_OUT="$T/plain.out"
run_bg "$PY" "$TOP/tests/integration/sink_server.py" "$T/plain.port" "$PLAIN_OUT"
run_bg "$PY" "$TOP/tests/integration/sink_server.py" "$T/other.port" "$T/other.out"
wait_until test -s "$T/plain.port" && wait_until test -s "$T/other.port"
PLAIN_PORT=$(cat "$T/plain.port") OTHER_PORT=$(cat "$T/other.port")

# A TLS server whose certificate nobody trusts: a handshake the shim refuses.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/tls.key" \
	-subj /CN=localhost -days 1 -out "$T/tls.pem" 2>/dev/null
TLS_PORT=$(free_port)
run_bg openssl s_server -quiet -accept "127.0.0.1:$TLS_PORT" -cert "$T/tls.pem" -key "$T/tls.key" \
	-naccept 3 </dev/null >/dev/null 2>&1
wait_port "$TLS_PORT"

POLICY="$T/policy.conf"
write_policy "$POLICY" <<CONF
version = 1;
audit = { socket = "$AUDIT_SOCK"; stderr = false; log_allowed = true; };
outbound = {
  default = "require_tls";
  rules = (
    { to = "127.0.0.1"; port = $PLAIN_PORT; action = "allow"; },
    { to = "127.0.0.1"; port = 9; proto = "udp"; action = "deny"; },
    { to = "127.0.0.1"; port = 10; action = "deny"; }
  );
};
inbound = { default = "allow"; };
CONF

shimmed "$PY" - "$PLAIN_PORT" "$OTHER_PORT" "$TLS_PORT" <<'PYEOF' >"$T/client.out" 2>&1
import socket, ssl, sys
plain, other, tls = (int(a) for a in sys.argv[1:4])
for i in range(3):                       # a plaintext service, allowed by rule 1
    s = socket.create_connection(("127.0.0.1", plain))
    s.sendall(b"hello\n")
    s.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(2):                       # a denied UDP destination
    try:
        u.sendto(b"x", ("127.0.0.1", 9))
    except PermissionError:
        pass
try:                                     # a denied TCP destination
    socket.create_connection(("127.0.0.1", 10))
except PermissionError:
    pass
s = socket.create_connection(("127.0.0.1", other))
try:                                     # plaintext where TLS is required
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
except PermissionError:
    pass
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE          # a careless program: the shim verifies
try:
    ctx.wrap_socket(socket.create_connection(("127.0.0.1", tls)), server_hostname="localhost")
    print("handshake passed")
except (ssl.SSLError, OSError) as e:
    print("handshake refused")
PYEOF
expect_match "the careless TLS client was refused" "handshake refused" "$(cat "$T/client.out")"
wait_until grep -q 'reason=cert_verify' "$AUDIT_LOG"
cp "$AUDIT_LOG" "$T/events.log"

out=$("$CLI" report "$T/events.log")
printf '%s\n' "$out" | sed -n '/^# Suggested rules/,$p' >"$T/suggested.conf"
chmod 0644 "$T/suggested.conf"
check=$("$CLI" check "$T/suggested.conf" 2>&1)
rc=$?
check=$(printf '%s\n' "$check" | without_devlog_warning)
expect "the suggested policy passes tlsguard check as printed" "0 policy OK: $T/suggested.conf" "$rc $check"
expect_no_match "the allowed plaintext service never gets require_tls" \
	"port = $PLAIN_PORT; proto = \"tcp\"; action = \"require_tls\"" "$out"
expect_match "the denied UDP destination gets a udp rule" \
	'^    \{ to = "127\.0\.0\.1"; port = 9; proto = "udp"; action = "deny"; \}' "$out"
expect_match "the failed handshake: TLS seen, require_tls" \
	"^    \\{ to = \"127\\.0\\.0\\.1\"; port = $TLS_PORT; proto = \"tcp\"; action = \"require_tls\"; \\}" "$out"
expect_match "plaintext where TLS was required: a commented waiver" \
	"^    # \\{ to = \"127\\.0\\.0\\.1\"; port = $OTHER_PORT; proto = \"tcp\"; action = \"allow\"; \\}" "$out"

# Every suggestion through explain: the verdict the report predicted.
"$CLI" report --json "$T/events.log" >"$T/report.json"
result=$("$PY" - "$CLI" "$T/suggested.conf" "$T/report.json" <<'PYEOF'
import json, subprocess, sys
cli, policy, report = sys.argv[1:4]
d = json.load(open(report))
bad, n = [], 0
for s in d["suggestions"]:
    if s["dir"] != "out":
        continue
    n += 1
    args = [cli, "explain", "-p", policy]
    if s["proto"] == "udp":
        args.append("--udp")
    host = "[%s]" % s["to"] if ":" in s["to"] else s["to"]
    text = subprocess.run(args + ["%s:%d" % (host, s["port"])], capture_output=True, text=True).stdout
    fields = dict(l.split(":", 1) for l in text.splitlines() if ":" in l)
    action, rule = fields.get("action", "").strip(), fields.get("rule", "").strip()
    if s["active"]:
        ok = action == s["action"] and not rule.startswith("default")
    else:
        ok = rule.startswith("default")
    if not ok:
        bad.append("%s:%d/%s want %s got %s (%s)" % (s["to"], s["port"], s["proto"],
                   s["action"] if s["active"] else "default", action, rule))
print(n, "; ".join(bad) or "all as predicted")
PYEOF
)
expect_match "explain agrees with every prediction (5 destinations)" "^5 all as predicted$" "$result"
expect "JSON: the allowed plaintext service is a note, not a rule" "null False" "$("$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = [s for s in d["suggestions"] if s["port"] == int(sys.argv[2])][0]
print(s["action"] if s["action"] else "null", s["active"])' "$T/report.json" "$PLAIN_PORT")"

# The same events in every form the report reads.
total=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["events"])' "$T/report.json")
"$PY" - "$T/events.log" "$T" <<'PYEOF'
import json, re, sys
lines = [l.rstrip("\n") for l in open(sys.argv[1])]
bodies = [l.split(": ", 1)[1] for l in lines if "tlsguard[" in l]
out = sys.argv[2]
with open(out + "/journal.json", "w") as f:          # journalctl -o json, host h2
    for i, b in enumerate(bodies):
        f.write(json.dumps({"__REALTIME_TIMESTAMP": str(1796385600000000 + i), "_HOSTNAME": "h2",
                            "SYSLOG_IDENTIFIER": "tlsguard", "MESSAGE": b, "PRIORITY": "4",
                            "_CMDLINE": ["not", "a", "string"]}) + "\n")
    f.write(json.dumps({"_HOSTNAME": "h2", "SYSLOG_IDENTIFIER": "sshd", "MESSAGE": "x"}) + "\n")
with open(out + "/short.log", "w") as f:             # journalctl -o short, host h1
    for b in bodies:
        f.write("Dec 04 11:00:00 h1 tlsguard[42]: " + b + "\n")
with open(out + "/cat.log", "w") as f:               # journalctl -o cat
    for b in bodies:
        f.write(b + "\n")
PYEOF
gzip -c "$T/short.log" >"$T/short.log.2.gz"
n_of() { "$CLI" report --json "$@" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["events"])'; }
expect "journalctl -o json: every event" "$total" "$(n_of "$T/journal.json")"
expect "journalctl -o short: every event" "$total" "$(n_of "$T/short.log")"
expect "journalctl -o cat: every event" "$total" "$(n_of "$T/cat.log")"
expect "a rotated .gz log: every event" "$total" "$(n_of "$T/short.log.2.gz")"
expect "several files at once" "$((total * 3))" "$(n_of "$T/short.log" "$T/short.log.2.gz" "$T/journal.json")"
both=$("$CLI" report "$T/short.log" "$T/journal.json")
expect_match "grouped by host: h1" "^host h1: $total events" "$both"
expect_match "grouped by host: h2" "^host h2: $total events" "$both"
expect_match "journal stamps: year and zone" "seen from 2026-12-04 12:00:00 \+00:00" "$("$CLI" report "$T/journal.json")"
"$CLI" report "$T/broken.gz" >/dev/null 2>&1 </dev/null
expect "a missing .gz: exit 1" 1 "$?"
printf 'not gzip at all' | gzip -c | head -c 10 >"$T/truncated.gz"
"$CLI" report "$T/truncated.gz" >/dev/null 2>&1
expect "a truncated .gz: exit 1" 1 "$?"

# --top, --wide, standard input, suppressed counts
expect_match "--top 1: one group per host, the rest counted" "more groups; --top 1 shows the largest" \
	"$("$CLI" report --top 1 "$T/short.log")"
long="/opt/a-rather-long-vendor-directory/bin/some-daemon-with-a-long-name"
line="event=connect verdict=block dir=out proto=tcp peer=10.0.0.1:23 host=- rule=1 reason=denied exe=$long pid=7"
expect_match "--wide: the program name whole" "$long" "$(printf '%s\n' "$line" | "$CLI" report --wide 2>/dev/null)"
expect_no_match "without --wide: cut to the column" "$long" "$(printf '%s\n' "$line" | "$CLI" report 2>/dev/null)"
err=$(printf '%s\n' "$line" | "$CLI" report 2>&1 >/dev/null)
expect "standard input: said on stderr" "tlsguard report: reading standard input" "$err"
sup="event=suppressed verdict=block dir=out proto=tcp peer=- host=- rule=default reason=rate_limit detail=\"events held back by the rate limit\" count=900 exe=/bin/x pid=7"
got=$(printf '%s\n%s\n%s\n' "$line" "$sup" "${sup/count=900/count=5}" | "$CLI" report 2>/dev/null)
expect_match "event=suppressed counts added up" "^and 905 more held back by the rate limit" "$got"
expect_match "suppressed lines are not events" "^tlsguard report: 1 events" "$got"
expect "JSON: suppressed" "905" "$(printf '%s\n%s\n%s\n' "$line" "$sup" "${sup/count=900/count=5}" |
	"$CLI" report --json 2>/dev/null | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["suppressed"])')"
