# Children and start-up: a child governs exactly the sockets its parent
# governed, whatever number they reach it at and however it was started
# (execveat, syscall(SYS_execve), posix_spawn file actions, vfork); sockets
# systemd socket activation hands over (LISTEN_FDS) are governed; the policy
# is the one the program started with, whatever it writes to the file after.
# Programs: tests/bypass/ (README.md, "Children and start-up").
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"
. "$(dirname "$0")/lib_bypass.sh"


POLICY="$T/policy.conf"
POLICY_TEXT="version = 1;
mode = \"enforce\";
env_override = false;
audit = { socket = \"$AUDIT_SOCK\"; stderr = false; };
outbound = { default = \"require_tls\"; };
inbound = { default = \"require_tls\"; };"
write_policy "$POLICY" <<<"$POLICY_TEXT"

# attempt LABEL NAME ARGS...: runs $BYP/NAME under the shim; $OUT, $RC, $EV
attempt() {
	local label=$1 name=$2
	shift 2
	audit_mark
	OUT=$(shimmed "$BYP/$name" "$@" 2>&1)
	RC=$?
	EV=$(audit_since)
}

# child_refused LABEL NAME PORT: the child's write was refused with EACCES,
# the event names the child (the same program, re-executed), the server got
# nothing.
child_refused() {
	local label=$1 name=$2 port=$3
	expect "$label: the child's plaintext write fails with EACCES" \
		"REFUSED EACCES|CHILD_EXIT 1" "$(tr '\n' '|' <<<"$OUT" | sed 's/|$//')"
	expect_match "$label: audit line from the child" \
		"event=plaintext verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$port host=- rule=default reason=plaintext .*exe=$BYP/$name " "$EV"
	sink_flushed "$port" "$T/$label.bytes"
	expect "$label: the server received nothing" "END" "$(received "$label")"
}

# --- exec paths ---
for how in path empty_path fexecve; do
	label=exec_execveat_$how
	sink "$label"
	port=$(cat "$T/$label.port")
	attempt "$label" exec_execveat 127.0.0.1 "$port" "$how"
	child_refused "$label" exec_execveat "$port"
done
for how in execve execveat; do
	label=exec_raw_syscall_$how
	sink "$label"
	port=$(cat "$T/$label.port")
	attempt "$label" exec_raw_syscall 127.0.0.1 "$port" "$how"
	child_refused "$label" exec_raw_syscall "$port"
done

# --- the socket reaches the child at another number, or loses FD_CLOEXEC ---
for how in move self; do
	label=spawn_adddup2_$how
	sink "$label"
	port=$(cat "$T/$label.port")
	attempt "$label" spawn_adddup2 127.0.0.1 "$port" "$how"
	child_refused "$label" spawn_adddup2 "$port"
done
label=vfork_execveat
sink "$label"
port=$(cat "$T/$label.port")
attempt "$label" vfork_execveat 127.0.0.1 "$port"
child_refused "$label" vfork_execveat "$port"

# A governed socket that stays close-on-exec is not the child's: the child
# (a plain exec, nothing moved) writes to a descriptor it does not hold.
sink cloexec_kept
port=$(cat "$T/cloexec_kept.port")
audit_mark
OUT=$(shimmed "$PY" -c 'import os, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
os.execv(sys.executable, [sys.executable, "-c", "import os\ntry:\n    os.write(%d, b\"x\")\nexcept OSError as e:\n    print(e.errno)\nprint(os.environ.get(\"TLSGUARD_FDS\", \"unset\"))" % s.fileno()])' "$port" 2>&1)
expect "a close-on-exec governed socket is not named to the child" "9|unset" "$(tr '\n' '|' <<<"$OUT" | sed 's/|$//')"

# --- systemd socket activation, without systemd: a launcher that runs
# without the shim hands the service fd 3 with LISTEN_FDS=1 and LISTEN_PID ---
cat >"$T/activate.py" <<'PYEOF'
import os, random, socket, sys
mode, port_file, shim, policy, service = sys.argv[1:6]
srv = socket.socket()
while True:
    try:
        srv.bind(("127.0.0.1", random.randrange(20000, 32000)))
        break
    except OSError:
        pass
srv.listen(8)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
handed = srv.accept()[0] if mode == "conn" else srv
pid = os.fork()
if pid == 0:
    if handed.fileno() != 3:
        os.dup2(handed.fileno(), 3)
    os.set_inheritable(3, True)
    env = dict(os.environ, LD_PRELOAD=shim, TLSGUARD_POLICY=policy, LISTEN_FDS="1",
               LISTEN_PID=str(os.getpid()), LISTEN_FDNAMES="svc")
    os.execve(service, [service, mode], env)
handed.close()
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
PYEOF
# client PORT SEND: connects, sends SEND (may be empty), prints what it receives
client() {
	"$PY" -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(sys.argv[2].encode())
got = b""
try:
    while True:
        b = s.recv(100)
        if not b:
            break
        got += b
except OSError:
    pass
print(got.decode(errors="replace"))' "$1" "$2"
}
audit_mark
"$PY" "$T/activate.py" conn "$T/act_conn.port" "$SHIM" "$POLICY" "$BYP/listen_fds_service" \
	>"$T/act_conn.out" 2>&1 &
act=$!
wait_file "$T/act_conn.port"
got=$(client "$(cat "$T/act_conn.port")" "")
wait $act
expect "LISTEN_FDS, Accept=yes: plaintext written on the adopted connection fails with EACCES" \
	"REFUSED EACCES" "$(cat "$T/act_conn.out")"
expect "LISTEN_FDS, Accept=yes: the client received nothing" "" "$got"
EV=$(audit_since)
expect_match "LISTEN_FDS, Accept=yes: audit line (inbound)" \
	"event=plaintext verdict=block dir=in proto=tcp peer=127\.0\.0\.1:[0-9]+ host=- rule=default reason=plaintext .*exe=$BYP/listen_fds_service " "$EV"

audit_mark
"$PY" "$T/activate.py" listen "$T/act_listen.port" "$SHIM" "$POLICY" "$BYP/listen_fds_service" \
	>"$T/act_listen.out" 2>&1 &
act=$!
wait_file "$T/act_listen.port"
client "$(cat "$T/act_listen.port")" "PLAINTEXT SECRET" >/dev/null
wait $act
expect "LISTEN_FDS listener: inbound plaintext is refused (ECONNRESET), never read" \
	"REFUSED ECONNRESET" "$(cat "$T/act_listen.out")"
EV=$(audit_since)
expect_match "LISTEN_FDS listener: audit line (inbound)" \
	"event=plaintext verdict=block dir=in .*reason=plaintext .*exe=$BYP/listen_fds_service " "$EV"

# The same with systemd's own launcher (--accept: Accept=yes), when installed.
if command -v systemd-socket-activate >/dev/null; then
	port=$(new_port)
	audit_mark
	run_bg systemd-socket-activate --accept -l "127.0.0.1:$port" -E LD_PRELOAD="$SHIM" \
		-E TLSGUARD_POLICY="$POLICY" "$BYP/listen_fds_service" conn >"$T/sd_act.out" 2>&1
	wait_until grep -q "Listening on" "$T/sd_act.out"
	got=$(client "$port" "")
	wait_until grep -q "REFUSED\|SENT" "$T/sd_act.out"
	expect_match "systemd-socket-activate --accept: plaintext on the connection fails with EACCES" \
		"^REFUSED EACCES$" "$(cat "$T/sd_act.out")"
	expect "systemd-socket-activate --accept: the client received nothing" "" "$got"
	EV=$(audit_since)
	expect_match "systemd-socket-activate --accept: audit line (inbound)" \
		"event=plaintext verdict=block dir=in .*reason=plaintext .*exe=$BYP/listen_fds_service " "$EV"
else
	skip "systemd-socket-activate --accept" "systemd-socket-activate is not installed"
fi

# --- the policy is read when the program starts ---
for how in inplace rename; do
	label=policy_rewrite_$how
	write_policy "$POLICY" <<<"$POLICY_TEXT"
	sink "$label"
	port=$(cat "$T/$label.port")
	attempt "$label" policy_rewrite 127.0.0.1 "$port" "$how"
	expect "$label: the program rewrote its policy, the original applies (EACCES)" \
		"REFUSED EACCES" "$OUT"
	expect_match "$label: the file now allows everything" 'default = "allow"' "$(cat "$POLICY")"
	expect_match "$label: audit line" \
		"event=plaintext verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$port host=- rule=default reason=plaintext .*exe=$BYP/policy_rewrite " "$EV"
	sink_flushed "$port" "$T/$label.bytes"
	expect "$label: the server received nothing" "END" "$(received "$label")"
done
write_policy "$POLICY" <<<"$POLICY_TEXT"
