#!/bin/bash
# Tunnels under stress (shim/tunnel): tunnel_stress with THREADS threads, each
# with its own upgraded connection to an in-process plaintext server that the
# shim serves over TLS (upgrade_tls out, terminate_tls in), so a client pump
# and a server pump per connection run at once. Run by run.sh (make
# check-tsan) with the shim of $BUILD; fails when a reply is wrong or
# ThreadSanitizer reports anything. STRESS_SECONDS and STRESS_THREADS as run.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build-tsan}
SHIM="$top/$BUILD/libtlsguard.so"
TUNNEL_STRESS="$top/$BUILD/tests/stress/tunnel_stress"
SECONDS_RUN=${STRESS_SECONDS:-20}
THREADS=${STRESS_THREADS:-64}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

for f in "$SHIM" "$TUNNEL_STRESS"; do
	[ -f "$f" ] || { echo "stress: $f not built" >&2; exit 1; }
done

. "$top/tests/lib/scratch.sh"
scratch_init tlsguard-tunnel-stress
T=$SCRATCH

TUNNEL=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bash "$top/tests/lib/certs.sh" "$T/certs" >/dev/null 2>&1 || { echo "stress: certs.sh failed" >&2; exit 1; }
run_bg "$PY" "$top/tests/integration/audit_sink.py" "$T/audit.sock" "$T/audit.log"
for _ in $(seq 1 200); do
	[ -e "$T/audit.sock" ] && break
	sleep 0.05
done

cat >"$T/tunnel.conf" <<CONF
version = 1;
mode = "enforce";
audit = { socket = "$T/audit.sock"; stderr = false; };
tls = { ca_file = "$T/certs/root.pem"; };
outbound = { default = "deny"; rules = (
    { to = "127.0.0.1"; port = $TUNNEL; action = "upgrade_tls"; tls = { server_name = "localhost"; }; }
); };
inbound = { default = "deny"; rules = (
    { port = $TUNNEL; action = "terminate_tls";
      tls = { cert_file = "$T/certs/valid.pem"; key_file = "$T/certs/valid.key"; }; }
); };
CONF
chmod 0644 "$T/tunnel.conf"

# As run.sh: the first report fails the run; frames are symbolized after.
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:exitcode=66:symbolize=0 suppressions=$here/tsan.supp ${TSAN_OPTIONS:-}"
start=$(date +%s)
timeout -k 5 $((SECONDS_RUN + 120)) env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$T/tunnel.conf" \
	"$TUNNEL_STRESS" "$SECONDS_RUN" "$TUNNEL" "$THREADS" >"$T/out" 2>"$T/err"
rc=$?
end=$(date +%s)
cat "$T/out"
fail=0
if grep -q 'WARNING: ThreadSanitizer\|ERROR: ThreadSanitizer' "$T/err"; then
	echo "stress: tunnel_stress: ThreadSanitizer report:"
	sym=$(command -v llvm-symbolizer || ls /usr/bin/llvm-symbolizer-* 2>/dev/null | head -1)
	"$PY" - "$T/err" "$sym" "$SHIM" "$TUNNEL_STRESS" <<'PYEOF'
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
	fail=1
elif [ "$rc" -ne 0 ]; then
	echo "stress: tunnel_stress: exit status $rc after $((end - start)) s"
	head -50 "$T/err"
	fail=1
fi
if [ "$fail" -eq 0 ]; then
	echo "stress: tunnels passed ($((end - start)) s wall)"
else
	echo "stress: tunnels FAILED"
fi
exit "$fail"
