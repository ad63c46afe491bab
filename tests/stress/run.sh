#!/bin/bash
# Runs the stress programs under the shim of $BUILD (make check-tsan: the
# ThreadSanitizer build, build-tsan/libtlsguard.so, preloaded into a
# ThreadSanitizer-built stress program, whose runtime it uses).
#
# Fails when a program reports a wrong result or ThreadSanitizer reports anything.
# STRESS_SECONDS (default 20) and STRESS_THREADS (default 64) change the run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build-tsan}
SHIM="$top/$BUILD/libtlsguard.so"
STRESS="$top/$BUILD/tests/stress/stress"
SECONDS_RUN=${STRESS_SECONDS:-20}
THREADS=${STRESS_THREADS:-64}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

for f in "$SHIM" "$STRESS"; do
	[ -f "$f" ] || { echo "stress: $f not built" >&2; exit 1; }
done

. "$top/tests/lib/scratch.sh"
scratch_init tlsguard-stress
T=$SCRATCH

# Four distinct free loopback ports, released by the kernel before use.
read -r ALLOW DENY PLAIN TLS < <("$PY" -c '
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')

bash "$top/tests/lib/certs.sh" "$T/certs" || { echo "stress: certs.sh failed" >&2; exit 1; }

# Audit events go to a sink, as in production: the sender is part of what runs
# concurrently (and its rate limit is hit: 64 threads refuse plaintext at once).
run_bg "$PY" "$top/tests/integration/audit_sink.py" "$T/audit.sock" "$T/audit.log"
for _ in $(seq 1 200); do
	[ -e "$T/audit.sock" ] && break
	sleep 0.05
done

cat >"$T/policy.conf" <<CONF
version = 1;
mode = "enforce";
audit = { socket = "$T/audit.sock"; stderr = false; };
tls = { ca_file = "$T/certs/root.pem"; min_version = "TLSv1.3"; };
outbound = {
  default = "require_tls";
  rules = (
    { to = "127.0.0.1"; port = $ALLOW; action = "allow"; },
    { to = "127.0.0.1"; port = $DENY; action = "deny"; },
    { to = "127.0.0.1"; port = $PLAIN; action = "require_tls"; },
    { to = "127.0.0.1"; port = $TLS; action = "require_tls"; }
  );
};
inbound = {
  default = "deny";
  rules = (
    { port = $ALLOW; action = "allow"; },
    # the counting server must see whatever plaintext gets out
    { port = $PLAIN; action = "allow"; },
    { port = $TLS; action = "require_tls"; }
  );
};
CONF
chmod 0644 "$T/policy.conf"

# halt_on_error: the first report fails the run (exit 66), with its stacks.
# second_deadlock_stack: lock-order reports show both acquisitions.
# symbolize=0: TSan would start llvm-symbolizer with our LD_PRELOAD, and that
# uninstrumented program cannot load a TSan shim; symbolize() below does it after.
# report_signal_unsafe stays on: the shim's signal paths are part of what is
# under test. The only suppressions are for races TSan cannot judge inside
# the uninstrumented OpenSSL libraries (tests/stress/tsan.supp says why).
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:exitcode=66:symbolize=0 suppressions=$here/tsan.supp ${TSAN_OPTIONS:-}"

# symbolize FILE: TSan's "(module+0xoffset)" frames, with function and line.
symbolize() {
	local sym
	sym=$(command -v llvm-symbolizer || ls /usr/bin/llvm-symbolizer-* 2>/dev/null | head -1)
	"$PY" - "$1" "$sym" "$SHIM" "$STRESS" $(ldd "$STRESS" | awk '/=> \//{print $3}') <<'PYEOF'
import os, re, subprocess, sys
report, sym, objs = sys.argv[1], sys.argv[2], sys.argv[3:]
paths = {os.path.basename(o): o for o in objs}
frame = re.compile(r"\(([^()+ ]+)\+(0x[0-9a-f]+)\)")
def where(m):
    path = paths.get(m.group(1))
    if not sym or path is None:
        return m.group(0)
    out = subprocess.run([sym, "--obj=" + path, m.group(2)], capture_output=True, text=True).stdout
    lines = [l for l in out.splitlines() if l]
    return "%s %s" % (m.group(0), " / ".join(lines[:2])) if lines else m.group(0)
for line in open(report, errors="replace"):
    print(frame.sub(where, line.rstrip("\n")))
PYEOF
}
if nm -D "$SHIM" | grep -q ' U __tsan_init'; then
	echo "stress: $SHIM is built with ThreadSanitizer"
fi
start=$(date +%s)
# The shim is preloaded into the stress program only (through env): timeout is
# not built with ThreadSanitizer and could not load a TSan shim.
timeout -k 5 $((SECONDS_RUN + 120)) env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$T/policy.conf" \
	"$STRESS" "$SECONDS_RUN" "$T/certs/root.pem" \
	"$T/certs/valid.pem" "$T/certs/valid.key" "$ALLOW" "$DENY" "$PLAIN" "$TLS" "$THREADS" \
	>"$T/out" 2>"$T/err"
rc=$?
end=$(date +%s)
cat "$T/out"
fail=0
if grep -q 'WARNING: ThreadSanitizer\|ERROR: ThreadSanitizer' "$T/err"; then
	echo "stress: ThreadSanitizer report:"
	symbolize "$T/err"
	fail=1
elif [ "$rc" -ne 0 ]; then
	echo "stress: exit status $rc after $((end - start)) s"
	head -50 "$T/err"
	fail=1
fi
events=$(wc -l <"$T/audit.log")
echo "stress: $events audit events received; $((end - start)) s wall"
if [ "$fail" -eq 0 ]; then
	echo "stress: passed"
else
	echo "stress: FAILED"
fi
# Tunnels (shim/tunnel), with the same shim and settings.
BUILD=$BUILD bash "$here/run_tunnel.sh" || fail=1
exit "$fail"
