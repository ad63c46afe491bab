# The socket layer with real programs: no plaintext byte leaves or enters an
# enforced process, whatever call it uses; allowed and denied destinations;
# inbound listeners; children and passed descriptors; audit mode; fail closed.
. "$(dirname "$0")/lib.sh"

PROBE="$TOP/$BUILD/tests/integration/programs/sockprobe"
HERE=$(dirname "$0")

# Servers on loopback that record what they receive.
sink() { # sink NAME [--v6|--reply TEXT]: starts a recording server on $T/NAME.port
	run_bg "$PY" "$HERE/sink_server.py" "${@:2}" "$T/$1.port" "$T/$1.bytes"
	wait_file "$T/$1.port"
}
sink tls && TLS_PORT=$(cat "$T/tls.port")
sink allowed && ALLOW_PORT=$(cat "$T/allowed.port")
sink v6 --v6 && V6_PORT=$(cat "$T/v6.port")
DENY_PORT=$(free_port)
start_audit_sink

POLICY="$T/policy.conf"
write_policy "$POLICY" <<EOF
version = 1;
mode = "enforce";
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
outbound = {
  default = "require_tls";
  rules = (
    { to = "127.0.0.1"; port = $ALLOW_PORT; action = "allow"; },
    { to = "127.0.0.1"; port = $DENY_PORT; action = "deny"; }
  );
};
inbound = { default = "require_tls"; };
EOF

received() { cat "$T/$1.bytes" 2>/dev/null; }
# received_wait NAME: what the server recorded, once it recorded something
# (the client may exit before the server has written the bytes down).
received_wait() {
	local i
	for i in $(seq 1 100); do
		[ -s "$T/$1.bytes" ] && break
		sleep 0.05
	done
	received "$1"
}
audit_has() { # audit_has NAME REGEX: one audit line matches
	if audit_lines | grep -Eq -- "$2"; then ok "$1"; else not_ok "$1" "no audit line /$2/ in: $(cat "$AUDIT_LOG")"; fi
}

# --- bash /dev/tcp: the shell's own redirection and builtins (stdio) ---
out=$(shimmed bash -c "exec 3<>/dev/tcp/127.0.0.1/$TLS_PORT && echo hello >&3" 2>&1)
rc=$?
expect "bash /dev/tcp plaintext: exit status" 1 "$rc"
expect_match "bash /dev/tcp plaintext: error names the refusal" "Permission denied" "$out"
audit_has "bash /dev/tcp plaintext: audit line" \
	"event=plaintext verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$TLS_PORT host=- rule=default reason=plaintext .*exe=/usr/bin/bash pid=[0-9]+"

# --- bash running an external program on the redirected socket (inherited fd) ---
shimmed bash -c "exec 3<>/dev/tcp/127.0.0.1/$TLS_PORT && /bin/cat /etc/hostname >&3" 2>/dev/null
expect "cat >&3 in a child of bash: refused" 1 "$?"

# --- python3 raw sockets: every send path ---
for how in send sendall sendto sendmsg os.write os.writev sendfile; do
	out=$(shimmed "$PY" - "$TLS_PORT" "$how" <<'PYEOF' 2>&1
import os, socket, sys, tempfile
port, how = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
data = b"GET / HTTP/1.0\r\n\r\n"
try:
    if how == "send": s.send(data)
    elif how == "sendall": s.sendall(data)
    elif how == "sendto": s.sendto(data, ("127.0.0.1", port))
    elif how == "sendmsg": s.sendmsg([data])
    elif how == "os.write": os.write(s.fileno(), data)
    elif how == "os.writev": os.writev(s.fileno(), [data])
    elif how == "sendfile":
        with tempfile.TemporaryFile() as f:
            f.write(data); f.flush(); f.seek(0)
            s.sendfile(f)
    print("SENT")
except OSError as e:
    print("REFUSED", e.errno)
PYEOF
)
	expect "python3 $how plaintext: refused with EACCES" "REFUSED 13" "$out"
done

# --- C probes: every other path ---
for mode in write byte-by-byte sendmsg splice sendfile sendmmsg fastopen dup2 fork scm \
	syscall-write stdout; do
	out=$(shimmed "$PROBE" "$mode" 127.0.0.1 "$TLS_PORT" 2>&1)
	expect "sockprobe $mode plaintext: refused" "REFUSED Permission denied" "$out"
done
# stderr is unbuffered: stdio itself refuses (EBADF) before any call the shim sees.
out=$(shimmed "$PROBE" stderr 127.0.0.1 "$TLS_PORT" 2>&1)
expect_match "sockprobe stderr (unbuffered stdio) plaintext: refused" "^REFUSED " "$out"
out=$(shimmed "$PROBE" threads 127.0.0.1 "$TLS_PORT" 2>/dev/null)
expect "64 threads writing plaintext at once: all refused" "THREADS refused 64 of 64" "$out"
expect "nothing of the plaintext reached the TLS-only server" "" "$(received tls)"

# --- a number reused after close_range starts clean ---
out=$(shimmed "$PROBE" close-range 127.0.0.1 "$TLS_PORT" 2>&1)
expect "descriptor reused after close_range: /dev/null write works" "SENT 17" "$out"
out=$(shimmed "$PROBE" stale-number 127.0.0.1 "$TLS_PORT" 2>/dev/null)
expect "refused socket closed by a raw syscall: its reused number works" "SENT 17" "$out"

# --- deny and allow rules ---
out=$(shimmed "$PROBE" connect 127.0.0.1 "$DENY_PORT" 2>&1)
expect "deny rule: connect fails with EACCES" "REFUSED connect: Permission denied" "$out"
audit_has "deny rule: audit line names rule 2" \
	"event=connect verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$DENY_PORT host=- rule=2 reason=denied"
out=$(shimmed "$PROBE" syscall-connect 127.0.0.1 "$DENY_PORT" 2>&1)
expect "deny rule through syscall(SYS_connect): refused" "REFUSED Permission denied" "$out"
out=$(shimmed "$PROBE" write 127.0.0.1 "$ALLOW_PORT" 2>&1)
expect "allow rule: plaintext goes through" "SENT 17" "$out"
expect "allow rule: the server got the bytes" "PLAINTEXT SECRET" "$(received_wait allowed)"

# --- IPv6 ---
out=$(shimmed "$PROBE" write ::1 "$V6_PORT" 2>&1)
expect "IPv6 ::1 plaintext: refused" "REFUSED Permission denied" "$out"
audit_has "IPv6 audit line" "event=plaintext verdict=block dir=out proto=tcp peer=\[::1\]:$V6_PORT "
expect "IPv6 server got nothing" "" "$(received v6)"

# --- a child started with an empty environment is still enforced ---
out=$(shimmed bash -c "env -i /usr/bin/curl -sS -m 5 http://127.0.0.1:$TLS_PORT/ ; echo rc=\$?" 2>&1)
expect_match "env -i curl http:// from a shimmed shell: refused" "rc=[1-9]" "$out"
expect "env -i curl: the server got nothing" "" "$(received tls)"

# --- UDP: only what the policy allows; DNS on port 53 allowed by default ---
udp() {
	shimmed "$PY" -c 'import socket,sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.sendto(b"x", ("127.0.0.1", int(sys.argv[1]))); print("SENT")
except OSError as e:
    print("REFUSED", e.errno)' "$1"
}
expect "UDP to a port no rule allows: refused" "REFUSED 13" "$(udp 9)"
expect "UDP to port 53 (outbound.dns): allowed" "SENT" "$(udp 53)"

# --- Unix-domain sockets are never touched ---
out=$(shimmed "$PY" -c 'import socket
a, b = socket.socketpair(); a.sendall(b"plain"); print(b.recv(5).decode())')
expect "Unix socketpair: untouched" "plain" "$out"

# --- inbound: a plaintext client never reaches the program ---
HTTP_PORT=$(free_port)
mkdir "$T/www" && echo "secret page" >"$T/www/index.html"
# env execs the server, so the process run_bg remembers is the server itself.
run_bg env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$POLICY" \
	"$PY" -m http.server --bind 127.0.0.1 --directory "$T/www" "$HTTP_PORT" >"$T/http.log" 2>&1
wait_port "$HTTP_PORT"
out=$(curl -sS -m 5 "http://127.0.0.1:$HTTP_PORT/index.html" 2>&1)
expect_no_match "inbound plaintext: the client gets no page" "secret page" "$out"
expect_no_match "inbound plaintext: the server never logged the request" "GET" "$(cat "$T/http.log")"
audit_has "inbound plaintext: audit line" \
	"event=plaintext verdict=block dir=in proto=tcp peer=127\.0\.0\.1:[0-9]+ host=- rule=default reason=plaintext"

# --- audit mode: everything goes through, and is recorded ---
out=$(TLSGUARD_MODE=audit shimmed "$PROBE" write 127.0.0.1 "$TLS_PORT" 2>&1)
expect "audit mode: plaintext goes through" "SENT 17" "$out"
audit_has "audit mode: recorded as verdict=audit" \
	"event=plaintext verdict=audit dir=out proto=tcp peer=127\.0\.0\.1:$TLS_PORT .*reason=plaintext"
out=$(TLSGUARD_MODE=audit shimmed "$PROBE" connect 127.0.0.1 "$DENY_PORT" 2>&1)
expect_match "audit mode: a denied destination is only recorded" "CONNECTED|REFUSED connect: Connection refused" "$out"
audit_has "audit mode: deny recorded" "event=connect verdict=audit dir=out proto=tcp peer=127\.0\.0\.1:$DENY_PORT .*reason=denied"

# --- fail closed: a broken policy means no network at all ---
printf 'version = 1;\nmode = "enforce";\noutbound = { default = "allow"; defualt = "deny"; };\n' >"$T/broken.conf"
chmod 0644 "$T/broken.conf"
out=$(LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$T/broken.conf" "$PROBE" connect 127.0.0.1 "$ALLOW_PORT" 2>&1)
expect_match "broken policy: connect refused" "REFUSED connect: Permission denied" "$out"
expect_match "broken policy: stderr names FILE:LINE" "tlsguard: $T/broken.conf:[0-9]+: " "$out"

# --- start-up: a process that opens no IP socket loads nothing ---
out=$(LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$T/broken.conf" /bin/true 2>&1; echo "rc=$?")
expect "/bin/true under a broken policy: untouched (policy never parsed)" "rc=0" "$out"
maps=$(LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$POLICY" cat /proc/self/maps)
expect_no_match "cat under the shim maps no libssl, libcrypto or libconfig" \
	"libssl|libcrypto|libconfig" "$maps"
out=$(LD_PRELOAD="$SHIM" LD_BIND_NOW=1 TLSGUARD_POLICY="$POLICY" "$PROBE" connect 127.0.0.1 "$DENY_PORT" 2>&1)
expect "LD_BIND_NOW=1: the shim loads, libconfig is found on demand" "REFUSED connect: Permission denied" "$out"

# --- as an ordinary user (CI runs as root): the root-owned audit socket is not
# writable, so events fall back to stderr; enforcement is the same ---
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	# Copies in the scratch directory (0755): the checkout may sit in a
	# directory nobody cannot enter (a 0700 home, a mktemp -d).
	mkdir -p "$T/nobody"
	cp "$SHIM" "$PROBE" "$T/nobody/"
	chmod 0755 "$T/nobody" "$T/nobody/$(basename "$SHIM")" "$T/nobody/$(basename "$PROBE")"
	out=$(runuser -u nobody -- env LD_PRELOAD="$T/nobody/$(basename "$SHIM")" TLSGUARD_POLICY="$POLICY" \
		"$T/nobody/$(basename "$PROBE")" write 127.0.0.1 "$TLS_PORT" 2>"$T/nobody.err")
	expect "as nobody: plaintext refused" "REFUSED Permission denied" "$out"
	expect_match "as nobody: unwritable audit socket falls back to stderr, said once" \
		"audit socket .* unavailable \(Permission denied\); events go to stderr" "$(cat "$T/nobody.err")"
	expect_match "as nobody: the event is on stderr" "event=plaintext verdict=block" "$(cat "$T/nobody.err")"
else
	skip "as nobody" "needs root to switch to the nobody user"
fi
