# Children stay enforced: every way of starting a program gets the shim, the
# policy and the mode back, whatever the parent did to its environment, unless
# the policy says inherit = false.
. "$(dirname "$0")/lib.sh"

SHIM_REAL=$(readlink -f "$SHIM")
start_audit_sink
POLICY="$T/policy.conf"
write_policy "$POLICY" <<EOF
version = 1;
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
EOF

# child_var NAME CMD...: the value of NAME in the environment CMD's child sees.
child_var() {
	local name=$1
	shift
	"$@" | sed -n "s/^$name=//p"
}

expect "env -i: LD_PRELOAD is put back" "$SHIM_REAL" "$(child_var LD_PRELOAD shimmed env -i /usr/bin/env)"
expect "env -i: TLSGUARD_POLICY is put back" "$POLICY" \
	"$(child_var TLSGUARD_POLICY shimmed env -i /usr/bin/env)"
expect "env -i: TLSGUARD_MODE follows the parent's" "audit" \
	"$(TLSGUARD_MODE=audit child_var TLSGUARD_MODE shimmed env -i /usr/bin/env)"
expect "a shell's child: the shim is not listed twice" "$SHIM" \
	"$(child_var LD_PRELOAD shimmed bash -c /usr/bin/env)"
expect "another preload is kept after the shim" "$SHIM_REAL:/lib/x86_64-linux-gnu/libm.so.6" \
	"$(child_var LD_PRELOAD shimmed env LD_PRELOAD=/lib/x86_64-linux-gnu/libm.so.6 /usr/bin/env)"
expect "a program cannot point its child at another policy" "$POLICY" \
	"$(child_var TLSGUARD_POLICY shimmed env TLSGUARD_POLICY=/tmp/lenient.conf /usr/bin/env)"

# posix_spawn and system() take other paths through libc.
out=$(shimmed "$PY" -c 'import os, sys
pid = os.posix_spawn("/usr/bin/env", ["env"], {})
os.waitpid(pid, 0)' | sed -n 's/^LD_PRELOAD=//p')
expect "posix_spawn with an empty environment: shim put back" "$SHIM_REAL" "$out"
out=$(shimmed "$PY" -c 'import os
del os.environ["LD_PRELOAD"]; del os.environ["TLSGUARD_POLICY"]
os.system("/usr/bin/env")' | sed -n 's/^TLSGUARD_POLICY=//p')
expect "system() after unsetenv: policy put back" "$POLICY" "$out"

# A program that sets its process title (PostgreSQL, nginx) writes over the
# strings of the environment it started with: the shim keeps copies.
RETITLE='import ctypes, os, socket, sys
libc = ctypes.CDLL(None)
env = ctypes.POINTER(ctypes.c_void_p).in_dll(libc, "environ")
i = 0
while env[i]:
    ctypes.memset(env[i], ord("x"), len(ctypes.string_at(env[i])))
    i += 1
'
# retitled_child POLICY: the TLSGUARD_POLICY a child of such a program sees
retitled_child() {
	POLICY=$1 shimmed "$PY" -c "$RETITLE"'
os.system("/usr/bin/env")' | sed -n 's/^TLSGUARD_POLICY=//p'
}
# retitled_connect POLICY: what such a program's connect to 127.0.0.1:9 gives
retitled_connect() {
	POLICY=$1 shimmed "$PY" -c "$RETITLE"'
try:
    socket.create_connection(("127.0.0.1", 9), timeout=5)
    print("connected")
except OSError as e:
    print(e.errno)' 2>&1
}
expect "environment overwritten in place: the child still gets the policy" "$POLICY" \
	"$(retitled_child "$POLICY")"
write_policy "$T/deny.conf" <<EOF
version = 1;
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
outbound = { default = "deny"; };
EOF
expect "environment overwritten in place: its own policy still loads and denies" "13" \
	"$(retitled_connect "$T/deny.conf")"

# Values too long for the small block the shim keeps in .data go to a larger
# one: a policy path of about 1 KB, overwritten in place as above.
LONG_DIR=$T/$(printf 'd%.0s' {1..250})/$(printf 'e%.0s' {1..250})/$(printf 'f%.0s' {1..250})/$(printf 'g%.0s' {1..250})
mkdir -p "$LONG_DIR"
write_policy "$LONG_DIR/deny.conf" <"$T/deny.conf"
expect "a policy path of ${#LONG_DIR} bytes: the child still gets it whole" "$LONG_DIR/deny.conf" \
	"$(retitled_child "$LONG_DIR/deny.conf")"
expect "a policy path of ${#LONG_DIR} bytes: it loads and denies" "13" \
	"$(retitled_connect "$LONG_DIR/deny.conf")"

# inherit = false: the operator chose to let children go.
write_policy "$T/noinherit.conf" <<EOF
version = 1;
inherit = false;
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
EOF
out=$(POLICY="$T/noinherit.conf" child_var LD_PRELOAD shimmed env -i /usr/bin/env)
expect "inherit = false: a scrubbed child is not preloaded" "" "$out"
out=$(POLICY="$T/noinherit.conf" child_var LD_PRELOAD shimmed /usr/bin/env)
expect "inherit = false: an untouched environment still passes through" "$SHIM" "$out"

# The process itself keeps the policy it was started with, whatever it sets.
err=$(shimmed env TLSGUARD_POLICY=/tmp/lenient.conf /usr/bin/env 2>&1 >/dev/null)
expect "a program's own TLSGUARD_POLICY edit is not loaded" "" "$err"

# More inherited governed sockets than TLSGUARD_FDS can name (it keeps to 4 KB,
# about 450 entries): the list ends with "*" and the child decides every other
# socket it holds from its addresses, so the last one is still governed.
run_bg "$PY" "$(dirname "$0")/sink_server.py" "$T/many.port" "$T/many.bytes"
wait_file "$T/many.port"
MANY_PORT=$(cat "$T/many.port")
write_policy "$T/many.conf" <<EOF
version = 1;
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
outbound = { rules = ( { to = "127.0.0.1"; port = $MANY_PORT; action = "require_tls"; } ); };
EOF
MANY_PARENT='import os, socket, sys
socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(900)]
for s in socks:
    os.set_inheritable(s.fileno(), True)
child = "import os\ntry:\n    os.write(%d, b\"PLAINTEXT\")\n    print(\"sent\")\nexcept OSError as e:\n    print(e.errno)\nprint(os.environ[\"TLSGUARD_FDS\"][-2:])"
os.execv(sys.executable, [sys.executable, "-c", child % socks[-1].fileno()])'
out=$( (ulimit -n 1024 && POLICY="$T/many.conf" shimmed "$PY" -c "$MANY_PARENT" "$MANY_PORT") 2>&1)
expect "900 inherited governed sockets: TLSGUARD_FDS ends with \"*\"" ",*" "$(tail -1 <<<"$out")"
expect "900 inherited governed sockets: plaintext on the last is refused (EACCES)" "13" \
	"$(head -1 <<<"$out")"
sink_flushed "$MANY_PORT" "$T/many.bytes"
expect_no_match "900 inherited governed sockets: the server got no plaintext" "PLAINTEXT" \
	"$(cat "$T/many.bytes" 2>/dev/null)"
# The same without /proc (a private mount namespace hides it): the child tries
# every descriptor number up to its limit instead.
if unshare -m true 2>/dev/null; then
	: >"$T/many.bytes"
	out=$( (ulimit -n 1024 && POLICY="$T/many.conf" unshare -m bash -c \
		'mount -t tmpfs none /proc && exec "$@"' - \
		env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$T/many.conf" timeout 60 "$PY" -c "$MANY_PARENT" \
		"$MANY_PORT") 2>&1)
	expect "900 inherited governed sockets, no /proc: plaintext on the last is refused" "13" \
		"$(head -1 <<<"$out")"
	sink_flushed "$MANY_PORT" "$T/many.bytes"
	expect_no_match "900 inherited governed sockets, no /proc: the server got no plaintext" \
		"PLAINTEXT" "$(cat "$T/many.bytes" 2>/dev/null)"
else
	skip "900 inherited governed sockets, no /proc" "unshare -m is not permitted here"
fi

# An inetd-style super-server, running without the shim, hands its child the
# accepted connection as standard input and output: no TLSGUARD_FDS names it,
# and the child governs it by the inbound rule of the service's port all the
# same (a port below the ephemeral range, as services have).
. "$(dirname "$0")/lib_tls.sh"
make_certs || not_ok "certificate factory" "tests/lib/certs.sh failed"
cat >"$T/inetd.py" <<'PYEOF'
import os, random, socket, subprocess, sys
port_file, shim, policy, argv = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
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
env = dict(os.environ, LD_PRELOAD=shim, TLSGUARD_POLICY=policy)
while True:
    conn, _ = srv.accept()
    subprocess.Popen(argv, stdin=conn, stdout=conn, env=env)
    conn.close()
PYEOF
cat >"$T/tls_service.py" <<'PYEOF'
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
s = ctx.wrap_socket(socket.socket(fileno=0), server_side=True)
s.recv(4096)
s.sendall(b"HTTP/1.0 200 OK\r\n\r\nhello from inetd\n")
s.close()
PYEOF
write_policy "$T/inetd.conf" <<EOF
version = 1;
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
inbound = { default = "require_tls"; };
EOF
write_policy "$T/inetd-allow.conf" <<EOF
version = 1;
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
inbound = { default = "allow"; };
EOF
# inetd_client PORT: what a plain client receives from the service
inetd_client() {
	"$PY" -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
print(s.recv(100).decode().strip())' "$1"
}
run_bg "$PY" "$T/inetd.py" "$T/inetd-plain.port" "$SHIM" "$T/inetd.conf" /bin/echo PLAINTEXT
run_bg "$PY" "$T/inetd.py" "$T/inetd-allow.port" "$SHIM" "$T/inetd-allow.conf" /bin/echo PLAINTEXT
run_bg "$PY" "$T/inetd.py" "$T/inetd-tls.port" "$SHIM" "$T/inetd.conf" \
	"$PY" "$T/tls_service.py" "$CERTS/valid.pem" "$CERTS/valid.key"
wait_file "$T/inetd-plain.port" && wait_file "$T/inetd-allow.port" && wait_file "$T/inetd-tls.port"
expect "inetd-style service, inbound allow: the plaintext answer arrives" "PLAINTEXT" \
	"$(inetd_client "$(cat "$T/inetd-allow.port")")"
audit_mark
port=$(cat "$T/inetd-plain.port")
expect "inetd-style service, inbound require_tls: no plaintext leaves" "" "$(inetd_client "$port")"
wait_until grep -q "event=plaintext verdict=block dir=in" "$AUDIT_LOG"
expect_match "inetd-style service: audit line for its standard output" \
	"event=plaintext verdict=block dir=in .*exe=/usr/bin/echo" "$(audit_since)"
port=$(cat "$T/inetd-tls.port")
expect_match "inetd-style TLS service, inbound require_tls: curl is served" "hello from inetd" \
	"$(curl -sS --max-time 10 --cacert "$CERTS/root.pem" "https://localhost:$port/" 2>&1)"
