#!/bin/bash
# tlsguard report: the summary of a mixed log (syslog, RFC 3339, journal -o
# short and -o cat, the shim's stderr, raw datagrams, garbage and malformed
# event lines) must match the expected table and JSON byte for byte; stdin
# works; the suggested rules are a policy `tlsguard check` accepts; hostile
# input (over-long lines, NUL bytes) is skipped and counted; a large log is
# summarised with the right counts; and a real event the shim sent is read back.
. "$(dirname "$0")/lib.sh"

FIX="$TOP/tests/fixtures/report"
# RFC 3164 stamps carry no year or zone: the report takes them from "now" and
# the local zone, both fixed here so the expected output holds in any year.
export TZ=UTC TLSGUARD_REPORT_NOW=1796385600 # 2026-12-04 12:00 UTC

out=$("$CLI" report "$FIX/mixed.log")
rc=$?
expect "mixed log: exit status" 0 "$rc"
if diff -u "$FIX/expected.txt" <(printf '%s\n' "$out") >"$T/diff" 2>&1; then
	ok "mixed log: table as expected"
else
	not_ok "mixed log: table as expected" "$(head -20 "$T/diff")"
fi
if "$CLI" report --json "$FIX/mixed.log" | diff -u "$FIX/expected.json" - >"$T/diff" 2>&1; then
	ok "mixed log: JSON as expected"
else
	not_ok "mixed log: JSON as expected" "$(head -20 "$T/diff")"
fi
json_ok=$("$CLI" report --json "$FIX/mixed.log" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
print(d["events"], d["skipped"], d["malformed"], sum(g["count"] for g in d["groups"]))')
expect "mixed log: JSON parses, counts add up" "15 6 5 15" "$json_ok"

# stdin, both as "-" and with no argument
expect "stdin via -" "$out" "$("$CLI" report - <"$FIX/mixed.log")"
expect "stdin by default" "$out" "$("$CLI" report <"$FIX/mixed.log")"

# the counts a user reads first
expect_match "header counts" "^tlsguard report: 15 events: 10 blocked, 2 audit-only, 3 allowed" "$out"
expect_match "non-events skipped and counted" "skipped 6 lines that are not tlsguard events" "$out"
expect_match "malformed event lines counted" "skipped 5 malformed tlsguard event lines" "$out"
long=$(printf '%s\n' "$out" | awk 'length($0) > 80' | head -1)
expect "every line fits 80 columns" "" "$long"
expect "plain ASCII only" 0 "$(printf '%s\n' "$out" | LC_ALL=C grep -c $'[\x80-\xff]')"

# the suggested rules are a valid policy as printed (they start with version = 1)
printf '%s\n' "$out" | sed -n '/^# Suggested rules/,$p' >"$T/suggested.conf"
chmod 0644 "$T/suggested.conf"
check=$("$CLI" check "$T/suggested.conf" 2>&1)
rc=$?
check=$(printf '%s\n' "$check" | without_devlog_warning)
expect "suggested rules pass tlsguard check" "0 policy OK: $T/suggested.conf" "$rc $check"
expect_match "plaintext destination gets a commented-out waiver" \
	'^    # \{ to = "10\.1\.2\.3"; port = 5432; proto = "tcp"; action = "allow"; \},$' "$out"
expect_no_match "allowed connects are no evidence of TLS: no require_tls for them" \
	'port = 4433; proto = "tcp"; action = "require_tls"' "$out"
expect_match "allowed connects get a note only" \
	'# localhost: allowed 3 times, no TLS seen: the current rule stays' "$out"
expect_match "a TLS destination whose handshake failed is required to use TLS" \
	'^    \{ to = "127\.0\.0\.1"; port = 4434; proto = "tcp"; action = "require_tls"; \},$' "$out"
expect_match "handshake failure names the reason" \
	'# localhost: TLS seen, handshake failed 3 times: cert_verify \(certificate' "$out"
expect_match "denied destination gets a deny rule" \
	'^    \{ to = "203\.0\.113\.7"; port = 23; proto = "tcp"; action = "deny"; \}$' "$out"
expect_match "inbound section when there were inbound events" '^inbound = \{' "$out"

# a log with only plaintext: every rule commented out, still a valid policy
printf 'event=plaintext verdict=block dir=out peer=10.0.0.1:80 host=- rule=default reason=plaintext exe=/bin/x pid=1\n' |
	"$CLI" report 2>/dev/null | sed -n '/^# Suggested rules/,$p' >"$T/only.txt"
cp "$T/only.txt" "$T/only.conf"
chmod 0644 "$T/only.conf"
"$CLI" check "$T/only.conf" >/dev/null 2>&1
expect "all-waiver snippet is a valid policy" 0 "$?"
expect_no_match "no inbound section without inbound events" '^inbound' "$(cat "$T/only.txt")"

# hostile input: a 70 KiB line, a 1 MiB line with no newline at the end,
# NUL bytes, invalid UTF-8, an empty file
ev='event=connect verdict=block dir=out peer=10.0.0.2:23 host=- rule=1 reason=denied exe=/bin/t pid=2'
{
	printf '%s\n' "$ev"
	head -c 71680 /dev/zero | tr '\0' 'a'
	printf '\n%s\n' "$ev"
	printf 'tlsguard: blocked: %s\0\n' "$ev"
	printf '\xff\xfe\x00garbage\n'
	printf 'event=%s' "$(head -c 1048576 /dev/zero | tr '\0' 'x')"
} >"$T/hostile.log"
got=$("$CLI" report --json "$T/hostile.log" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
print(d["events"], d["skipped"], d["malformed"])')
expect "hostile: long lines skipped, NUL line malformed, events kept" "2 3 1" "$got"
expect_match "hostile: long lines reported" "skipped 3 lines .*\(2 longer than 65536 bytes\)" \
	"$("$CLI" report "$T/hostile.log")"
: >"$T/empty.log"
expect "empty input: no events" "tlsguard report: 0 events: 0 blocked, 0 audit-only, 0 allowed" \
	"$("$CLI" report "$T/empty.log")"

# errors: an unreadable file is exit 1 with the file named, bad usage exit 2
err=$("$CLI" report "$T/missing.log" 2>&1 >/dev/null)
expect "missing file: exit 1" 1 "$?"
expect_match "missing file: named" "missing.log: No such file" "$err"
expect_match "several files: read one after the other" "^tlsguard report: 30 events" \
	"$("$CLI" report "$FIX/mixed.log" "$FIX/mixed.log")"
"$CLI" report --top 0 "$FIX/mixed.log" >/dev/null 2>&1
expect "--top 0: usage error" 2 "$?"
"$CLI" report --bogus >/dev/null 2>&1
expect "unknown option: usage error" 2 "$?"

# 200,000 lines: two programs, three destinations, and one garbage line in ten
"$PY" - "$T/big.log" <<'PYEOF'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(200000):
        if i % 10 == 9:
            f.write("Nov 23 12:00:00 host cron[1]: noise %d\n" % i)
        else:
            f.write("Nov 23 12:%02d:%02d host tlsguard[%d]: event=plaintext verdict=block "
                    "dir=out peer=10.0.%d.1:5432 host=- rule=default reason=plaintext "
                    "exe=/usr/bin/prog%d pid=%d\n" % (i // 60 % 60, i % 60, i, i % 3, i % 2, i))
PYEOF
got=$("$CLI" report --json "$T/big.log" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
print(d["events"], d["skipped"], d["malformed"], len(d["groups"]), sum(g["count"] for g in d["groups"]))')
expect "200k lines: counted right" "180000 20000 0 6 180000" "$got"

# an event the shim really sent, read back from the audit sink
start_audit_sink
POLICY="$T/policy.conf"
write_policy "$POLICY" <<CONF
version = 1;
mode = "enforce";
env_override = false;
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
outbound = { default = "require_tls"; rules = ( { to = "127.0.0.1"; port = 1; action = "deny"; } ); };
CONF
shimmed bash -c 'exec 3<>/dev/tcp/127.0.0.1/1' 2>/dev/null
audit_lines >"$T/real.log"
expect_match "real event: reported as a deny" \
	'^    \{ to = "127\.0\.0\.1"; port = 1; proto = "tcp"; action = "deny"; \}$' "$("$CLI" report "$T/real.log")"
