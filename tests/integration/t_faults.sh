# Faults around the shim: the audit socket missing or full, EINTR and EAGAIN
# through wrapped calls, descriptor exhaustion, a policy file changed while the
# program runs, and very high descriptor numbers. What the program sees must be
# what it would see without the shim (or the contract's refusal), never a hang.
. "$(dirname "$0")/lib.sh"

PROBE="$TOP/$BUILD/tests/integration/programs/fault_probe"
HERE=$(dirname "$0")

sink() { # sink NAME: a recording server on $T/NAME.port, bytes in $T/NAME.bytes
	run_bg "$PY" "$HERE/sink_server.py" "$T/$1.port" "$T/$1.bytes"
	wait_file "$T/$1.port"
}
sink tls && TLS_PORT=$(cat "$T/tls.port")
sink allowed && ALLOW_PORT=$(cat "$T/allowed.port")
received() { cat "$T/$1.bytes" 2>/dev/null; }

# policy FILE AUDIT_SOCKET: TLS_PORT require_tls (the default), ALLOW_PORT allowed.
policy() {
	write_policy "$1" <<-CONF
		version = 1;
		mode = "enforce";
		audit = { socket = "$2"; stderr = false; };
		outbound = {
		  default = "require_tls";
		  rules = ( { to = "127.0.0.1"; port = $ALLOW_PORT; action = "allow"; } );
		};
	CONF
}

# --- the audit socket is missing: stderr, one notice, same result ---
POLICY="$T/missing.conf"
policy "$POLICY" "$T/no-such.sock"
out=$(shimmed timeout 10 "$PROBE" refuse-many "$TLS_PORT" 20 2>"$T/missing.err")
expect "audit socket missing: every plaintext write still refused" "REFUSED 20 of 20" "$out"
expect "audit socket missing: one notice, not one per event" 1 \
	"$(grep -c "audit socket $T/no-such.sock unavailable (No such file or directory); events go to stderr" "$T/missing.err")"
expect "audit socket missing: every event on stderr" 20 \
	"$(grep -c "event=plaintext verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$TLS_PORT " "$T/missing.err")"

# --- the audit socket is full: a bound datagram socket nobody reads ---
cat >"$T/full_sink.py" <<'PYEOF'
import os, socket, sys, time
path = sys.argv[1]
sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sink.bind(path + ".tmp")
# fill its queue from another socket until the kernel refuses, then never read
filler = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
filler.setblocking(False)
try:
    while True:
        filler.sendto(b"<86>filler", path + ".tmp")
except BlockingIOError:
    pass
os.rename(path + ".tmp", path)
while True:
    time.sleep(60)
PYEOF
run_bg "$PY" "$T/full_sink.py" "$T/full.sock"
wait_file "$T/full.sock"
POLICY="$T/full.conf"
policy "$POLICY" "$T/full.sock"
start=$(date +%s%N)
out=$(shimmed timeout 10 "$PROBE" refuse-many "$TLS_PORT" 200 2>"$T/full.err")
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
expect "audit socket full: 200 refused writes finish (no blocking on the sink)" \
	"0 REFUSED 200 of 200" "$rc $out"
expect_match "audit socket full: fallback notice names the reason" \
	"audit socket $T/full.sock is full and did not drain in time; events that cannot wait go to stderr" \
	"$(head -1 "$T/full.err")"
# The token bucket: a burst of 100, then 100 a second.
n=$(grep -c "event=plaintext verdict=block" "$T/full.err")
most=$((100 + ms / 10 + 2))
if [ "$n" -ge 100 ] && [ "$n" -le "$most" ]; then
	ok "audit socket full: events on stderr, rate-limited ($n lines for 200 blocks in $ms ms)"
else
	not_ok "audit socket full: events on stderr, rate-limited" \
		"$n event lines for 200 blocks in $ms ms (want 100..$most)"
fi
expect "audit socket full: nothing reached the TLS-only server" "" "$(received tls)"

# The remaining checks log to a sink that works.
start_audit_sink
POLICY="$T/policy.conf"
policy "$POLICY" "$AUDIT_SOCK"

# --- EINPROGRESS, EAGAIN, EINTR: errno as the kernel set it ---
out=$(shimmed timeout 10 "$PROBE" nonblock "$TLS_PORT" 2>&1)
expect "non-blocking connect to a require_tls server: EINPROGRESS, stays non-blocking, EAGAIN" \
	"$(printf 'CONNECT EINPROGRESS\nFLAGS O_NONBLOCK\nREAD EAGAIN\nRECV EAGAIN')" "$out"
out=$(shimmed timeout 10 "$PROBE" eintr "$TLS_PORT" 2>&1)
expect "blocking read/recv interrupted by SIGALRM (no SA_RESTART): EINTR" \
	"$(printf 'READ EINTR\nRECV EINTR')" "$out"

# --- partial writes on a full non-blocking socket of an allowed destination ---
cat >"$T/hold.py" <<'PYEOF'
import os, socket, sys, time
base = sys.argv[1]
srv = socket.socket()
srv.bind(("127.0.0.1", 0)); srv.listen(4)
with open(base + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(base + ".tmp", base + ".port")
conn, _ = srv.accept()
while not os.path.exists(base + ".drain"):  # read nothing until told to
    time.sleep(0.02)
total = 0
while True:
    data = conn.recv(1 << 20)
    if not data:
        break
    total += len(data)
with open(base + ".tmp", "w") as f:
    f.write(str(total))
os.rename(base + ".tmp", base + ".count")
PYEOF
run_bg "$PY" "$T/hold.py" "$T/hold"
wait_file "$T/hold.port"
HOLD_PORT=$(cat "$T/hold.port")
write_policy "$T/hold.conf" <<XCONF
version = 1;
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
outbound = { rules = ( { to = "127.0.0.1"; port = $HOLD_PORT; action = "allow"; } ); };
XCONF
out=$(LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$T/hold.conf" timeout 10 "$PROBE" fill "$HOLD_PORT" 2>/dev/null)
expect_match "full non-blocking socket: counts in (0, 64 KiB], then EAGAIN" \
	"^FILLED [1-9][0-9]* EAGAIN bad=0$" "$out"
touch "$T/hold.drain"
wait_file "$T/hold.count"
expect "full non-blocking socket: the server got exactly the bytes write() reported" \
	"$(echo "$out" | awk '{print $2}')" "$(cat "$T/hold.count" 2>/dev/null)"

# --- EMFILE: the kernel's error, and everything as before once one is freed ---
out=$( (ulimit -n 64 && shimmed timeout 10 "$PROBE" emfile "$TLS_PORT") 2>"$T/emfile.err")
expect_match "ulimit -n 64: socket() fails with EMFILE" "^SOCKET EMFILE after [0-9]+" "$out"
expect_match "after freeing one: a require_tls connect works and plaintext is refused" \
	"AGAIN CONNECTED.WRITE EACCES" "$(echo "$out" | tr '\n' '.')"
expect "EMFILE: nothing reached the TLS-only server" "" "$(received tls)"
# The limit reached before the first socket: the shim needs descriptors of its
# own to load the policy (and libconfig). The load is refused while they are
# missing and tried again once they are back; no plaintext gets out meanwhile.
for freed in 1 2; do
	out=$( (ulimit -n 64 && shimmed timeout 10 "$PROBE" emfile-cold "$TLS_PORT" $freed) 2>/dev/null)
	expect_match "EMFILE before the first socket ($freed freed): refused, then enforced normally" \
		"^PIPE EMFILE.(AGAIN EACCES|AGAIN CONNECTED.WRITE EACCES).AGAIN CONNECTED.WRITE EACCES.$" \
		"$(echo "$out" | tr '\n' '.')"
done
expect "EMFILE before the first socket: nothing reached the TLS-only server" "" "$(received tls)"

# --- the policy file deleted or rewritten while the program runs ---
cat >"$T/twice.py" <<'PYEOF'
import os, socket, sys, time
port, go = int(sys.argv[1]), sys.argv[2]
def attempt():
    s = socket.create_connection(("127.0.0.1", port))
    try:
        s.sendall(b"PLAINTEXT AFTER CHANGE\n")
        return "SENT"
    except OSError as e:
        return "REFUSED %d" % e.errno
    finally:
        s.close()
first = attempt()
open(go + ".ready", "w").close()
for _ in range(500):  # the test changes the policy, then creates GO
    if os.path.exists(go):
        break
    time.sleep(0.02)
print(first, attempt())
PYEOF
permissive='version = 1;
outbound = { default = "allow"; };'
for change in delete permissive broken; do
	write_policy "$T/live.conf" <"$POLICY"
	rm -f "$T/go" "$T/go.ready"
	LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$T/live.conf" timeout 20 "$PY" "$T/twice.py" "$TLS_PORT" \
		"$T/go" >"$T/twice.out" 2>/dev/null &
	pid=$!
	wait_file "$T/go.ready"
	case $change in
	delete) rm -f "$T/live.conf" ;;
	permissive) printf '%s\n' "$permissive" >"$T/live.conf" ;;
	broken) printf 'version = 1;\noutbound = { default = "allow"; bogus = 1; };\n' >"$T/live.conf" ;;
	*) ;;
	esac
	touch "$T/go"
	wait "$pid"
	expect "policy file $change while running: the loaded policy stays in force" \
		"REFUSED 13 REFUSED 13" "$(cat "$T/twice.out")"
done
expect "policy changes: nothing reached the TLS-only server" "" "$(received tls)"

# --- very high descriptor numbers ---
if (ulimit -n 200000) 2>/dev/null; then
	out=$( (ulimit -n 200000 && shimmed timeout 10 "$PROBE" highfd "$TLS_PORT" 150000) 2>/dev/null)
	expect "a require_tls socket dup2'ed to fd 150000: plaintext refused" "WRITE 150000 EACCES" "$out"
else
	skip "a require_tls socket at fd 150000" \
		"ulimit -n 200000 not permitted here (hard limit $(ulimit -Hn), no CAP_SYS_RESOURCE)"
fi
# The highest number this environment allows, whatever it is.
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
[ "$hard" -gt 1048576 ] && hard=1048576
high=$((hard - 1))
out=$( (ulimit -n "$hard" && shimmed timeout 10 "$PROBE" highfd "$TLS_PORT" "$high") 2>/dev/null)
expect "a require_tls socket dup2'ed to fd $high (the hard limit's last): plaintext refused" \
	"WRITE $high EACCES" "$out"
expect "high descriptors: nothing reached the TLS-only server" "" "$(received tls)"
