#!/bin/bash
# The audit trail loses nothing: 1,000 refused datagrams are accounted for to
# the event (events plus event=suppressed counts, also across exec); events say
# proto=udp; the program cannot write into the shim's audit socket (EBADF), so
# the next block's event still arrives, and closing or dup2-ing over it only
# makes the shim open a new one; TLSGUARD_MODE=off is itself an event, once.
. "$(dirname "$0")/lib.sh"

start_audit_sink
POLICY="$T/policy.conf"
write_policy "$POLICY" <<CONF
version = 1;
mode = "enforce";
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
outbound = {
  default = "allow";
  rules = (
    { to = "127.0.0.1"; port = 9; proto = "udp"; action = "deny"; },
    { to = "127.0.0.1"; port = 10; action = "deny"; }
  );
};
inbound = { default = "allow"; };
CONF

# accounted PID: events of PID, and the sum of its event=suppressed counts.
accounted() {
	"$PY" - "$AUDIT_LOG" "$1" <<'PYEOF'
import re, sys
events = held = summaries = 0
for line in open(sys.argv[1], errors="replace"):
    if "tlsguard[%s]:" % sys.argv[2] not in line:
        continue
    if " event=suppressed " in line or ": event=suppressed " in line:
        summaries += 1
        held += int(re.search(r" count=(\d+)", line).group(1))
    elif "event=" in line:
        events += 1
print(events, held, summaries, events + held)
PYEOF
}

# wait_total PID N: until the sink wrote everything PID's events account for.
wait_total() {
	[ "$(accounted "$1" | cut -d' ' -f4)" = "$2" ]
}

# 1,000 refused sendto calls in one process.
pid_out=$(shimmed "$PY" -c '
import os, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
refused = 0
for i in range(1000):
    try:
        s.sendto(b"x", ("127.0.0.1", 9))
    except PermissionError:
        refused += 1
print(os.getpid(), refused)')
pid=${pid_out%% *}
expect "1000 sendto: every one refused" "1000" "${pid_out#* }"
wait_until wait_total "$pid" 1000
read -r events held summaries total <<<"$(accounted "$pid")"
expect "1000 sendto: events + suppressed counts == 1000" "1000" "$total"
expect_match "1000 sendto: the rate limit held some back, in a count" "^[1-9]" "$summaries"
line=$(grep "tlsguard\[$pid\]: event=connect" "$AUDIT_LOG" | head -1)
expect_match "a denied datagram says proto=udp" "event=connect verdict=block dir=out proto=udp peer=127.0.0.1:9 " "$line"
line=$(grep "tlsguard\[$pid\]: event=suppressed" "$AUDIT_LOG" | head -1)
expect_match "the count is a block in enforce mode" "event=suppressed verdict=block .*reason=rate_limit .*count=[0-9]+ " "$line"

# The same in audit mode: the count says audit.
pid=$(TLSGUARD_MODE=audit shimmed "$PY" -c '
import os, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(300):
    s.sendto(b"x", ("127.0.0.1", 9))
print(os.getpid())')
# 300 would-be blocks, and the event that TLSGUARD_MODE=audit weakened the policy.
wait_until wait_total "$pid" 301
expect "audit mode: 300 would-be blocks (+1 mode event) accounted for" "301" "$(accounted "$pid" | cut -d' ' -f4)"
line=$(grep "tlsguard\[$pid\]: event=suppressed" "$AUDIT_LOG" | head -1)
expect_match "audit mode: the count says verdict=audit" "event=suppressed verdict=audit " "$line"

# exec drops the process image: the count is sent before it.
pid=$(shimmed "$PY" -c '
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(250):
    try:
        s.sendto(b"x", ("127.0.0.1", 9))
    except PermissionError:
        pass
print(os.getpid())
sys.stdout.flush()
os.execv("/bin/true", ["true"])')
wait_until wait_total "$pid" 250
expect "exec: 250 refused datagrams accounted for before exec" "250" "$(accounted "$pid" | cut -d' ' -f4)"

# The audit socket is the shim's alone.
out=$(shimmed "$PY" - "$AUDIT_SOCK" <<'PYEOF'
import errno, os, socket, sys

def denied_connect():
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", 10))
    except PermissionError:
        pass
    s.close()

def audit_fd():
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            s = socket.socket(fileno=fd)
        except OSError:
            continue
        try:
            # the sink binds PATH.tmp, then renames it to PATH
            if s.family == socket.AF_UNIX and s.getpeername().startswith(sys.argv[1]):
                return fd
        except OSError:
            pass
        finally:
            s.detach()
    return None

denied_connect()                      # the first event opens the audit socket
fd = audit_fd()
print("found", fd is not None)
seen = set()
for i in range(3000):                 # more than any socket buffer holds
    try:
        os.write(fd, b"<12>forged: event=connect verdict=allow")
        seen.add("written")
    except OSError as e:
        seen.add(errno.errorcode[e.errno])
print("write", " ".join(sorted(seen)))
try:
    socket.socket(fileno=os.dup(fd)).send(b"x")
    print("send written")
except OSError as e:
    print("send", errno.errorcode[e.errno])
print("pid", os.getpid())
sys.stdout.flush()
denied_connect()                      # marker 2: must arrive
os.close(fd)
denied_connect()                      # marker 3: the shim opens a new socket
fd = audit_fd()
null = os.open("/dev/null", os.O_WRONLY)
os.dup2(null, fd)
denied_connect()                      # marker 4: again
PYEOF
)
expect_match "the audit socket is found" "found True" "$out"
expect_match "writes to the audit socket: EBADF, every one" "^write EBADF$" "$(printf '%s\n' "$out" | grep '^write')"
expect_match "send on a dup of it: EBADF" "^send EBADF$" "$(printf '%s\n' "$out" | grep '^send')"
pid=$(printf '%s\n' "$out" | sed -n 's/^pid //p')
wait_until wait_total "$pid" 4
expect "after the writes, closing and dup2: all 4 blocks arrived" "4 0 0 4" "$(accounted "$pid")"
expect "nothing forged reached the log" "0" "$(grep -c forged "$AUDIT_LOG")"

# TLSGUARD_MODE=off weakens the policy: one event, once per process.
pid=$(TLSGUARD_MODE=off shimmed "$PY" -c '
import os, socket
for i in range(3):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", 10))
    except OSError:
        pass
print(os.getpid())')
wait_until wait_total "$pid" 1
lines=$(grep "tlsguard\[$pid\]:" "$AUDIT_LOG")
expect "TLSGUARD_MODE=off: exactly one event" "1" "$(printf '%s\n' "$lines" | grep -c .)"
expect_match "TLSGUARD_MODE=off: event=policy reason=env_override" \
	'event=policy verdict=audit dir=out proto=tcp peer=- host=- rule=default reason=env_override detail="mode set to off by TLSGUARD_MODE; the policy says enforce"' "$lines"
pid=$(TLSGUARD_MODE=enforce shimmed "$PY" -c '
import os, socket
s = socket.socket()
try:
    s.connect(("127.0.0.1", 10))
except OSError:
    pass
print(os.getpid())')
wait_until wait_total "$pid" 1
expect_no_match "TLSGUARD_MODE=enforce (the policy's own): no override event" "env_override" \
	"$(grep "tlsguard\[$pid\]:" "$AUDIT_LOG")"
