# Shared by the integration suites: results in TAP-like lines ("ok NAME",
# "not ok NAME: why", "skip NAME: why"), a scratch directory, an audit sink,
# free loopback ports, and cleanup of every process a suite starts.
set -u
: "${SHIM:?run through tests/integration/run.sh}"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
. "$(dirname "${BASH_SOURCE[0]}")/../lib/scratch.sh"
scratch_init tlsguard-test
T=$SCRATCH

ok() { echo "ok $1"; }
not_ok() { echo "not ok $1: $2"; }
skip() { echo "skip $1: $2"; }

# expect NAME WANT GOT: passes when GOT equals WANT.
expect() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "want [$2], got [$3]"; fi
}
# expect_match NAME REGEX TEXT: passes when TEXT matches the extended REGEX.
expect_match() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then ok "$1"; else not_ok "$1" "[$3] does not match /$2/"; fi
}
expect_no_match() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then not_ok "$1" "[$3] matches /$2/"; else ok "$1"; fi
}

# free_port: prints a TCP port nothing is bound to, below the ephemeral range
# (ip_local_port_range starts at 32768): a port the kernel picked would be
# free again once released, and any client connection of the suite could take
# it as its own local port before the server that was meant to bind it does.
free_port() {
	"$PY" -c 'import random, socket
while True:
    port = random.randrange(20000, 32768)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break'
}

# wait_until CMD...: runs CMD until it succeeds, for up to 10 s; 1 if it never did.
wait_until() {
	local i
	for i in $(seq 1 200); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# wait_port PORT [HOST]: waits (up to 10 s) until something accepts on PORT.
wait_port() {
	wait_until "$PY" -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1).close()' \
		"${2:-127.0.0.1}" "$1" 2>/dev/null
}

# wait_file PATH: waits (up to 10 s) until PATH exists.
wait_file() {
	wait_until test -e "$1"
}

# sink_flushed PORT FILE: one last connection to the recording server on PORT
# (sink_server.py) says END; returns once FILE holds it, so every byte sent
# to the server earlier has been written too.
sink_flushed() {
	"$PY" -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"END")
s.close()' "$1"
	wait_until grep -q END "$2"
}

# start_audit_sink: binds $T/audit.sock; events land one per line in $T/audit.log.
AUDIT_SOCK="$T/audit.sock"
AUDIT_LOG="$T/audit.log"
start_audit_sink() {
	: >"$AUDIT_LOG"
	run_bg "$PY" "$(dirname "${BASH_SOURCE[0]}")/audit_sink.py" "$AUDIT_SOCK" "$AUDIT_LOG"
	wait_file "$AUDIT_SOCK"
}

# audit_lines: the events received so far (datagrams are delivered before the
# sending call returns, but the sink may still be writing: give it a moment).
audit_lines() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		[ -s "$AUDIT_LOG" ] && break
		sleep 0.05
	done
	sleep 0.05
	cat "$AUDIT_LOG"
}

# without_devlog_warning: stdin less `tlsguard check`'s warning that /dev/log is
# missing (true on a machine without a syslog daemon, as CI may be).
without_devlog_warning() {
	grep -v "warning: audit socket '/dev/log'" || true
}

# write_policy FILE <<EOF ... EOF: a policy file with safe permissions.
write_policy() {
	cat >"$1"
	chmod 0644 "$1"
}

# shimmed CMD...: runs CMD with the shim and $POLICY; a command that hangs is
# killed after 60 s (status 124) so a deadlock fails the suite instead of CI.
shimmed() {
	LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$POLICY" timeout -k 5 60 "$@"
}
