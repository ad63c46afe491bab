#!/bin/bash
# The bypass suite, libc paths: programs that reach the kernel through a libc
# entry point other than the wrapped names (glibc's __ aliases, dprintf,
# syslog's LOG_PERROR copy, dlsym/dlvsym on a libc handle, a RTLD_DEEPBIND
# plugin), a UDP destination written as AF_UNSPEC, and a thread that rewrites
# the buffer between the check and the kernel's copy. Each runs under the shim
# in enforce mode against a loopback server started here; the suite asserts
# what the program saw, what the server received, and the audit line.
# Table: tests/bypass/README.md, section "libc paths".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"
. "$(dirname "$0")/lib_bypass.sh"


DENY_PORT=$(new_port)
POLICY="$T/policy.conf"
write_policy "$POLICY" <<CONF
version = 1;
mode = "enforce";
env_override = false;
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
outbound = {
  default = "require_tls";
  rules = ( { to = "127.0.0.1"; port = $DENY_PORT; action = "deny"; } );
};
inbound = { default = "allow"; };
CONF

# attempt LABEL NAME ARGS...: runs $BYP/NAME under the shim; output in $OUT,
# status in $RC, events in $EV
attempt() {
	shift
	audit_mark
	OUT=$(shimmed "$BYP/$@" 2>/dev/null)
	RC=$?
	EV=$(audit_since)
}

# plaintext_refused LABEL NAME [ARG]: NAME writes plaintext on a require_tls
# connection to a fresh sink; refused with EACCES, one event, nothing received.
plaintext_refused() {
	local label=$1 name=$2 port detail=${4:-}
	sink "$label"
	port=$(cat "$T/$label.port")
	attempt "$label" "$name" 127.0.0.1 "$port" ${3:+"$3"}
	expect "$label: refused with EACCES" "REFUSED EACCES" "$OUT"
	expect "$label: exit status 1" 1 "$RC"
	expect_match "$label: audit line" \
		"event=plaintext verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$port host=- rule=default reason=plaintext ${detail}.*exe=$BYP/$name " "$EV"
	sink_flushed "$port" "$T/$label.bytes"
	expect "$label: the server received nothing" "END" "$(received "$label")"
}

# --- glibc's exported aliases ---
plaintext_refused libc_alias_write libc_alias_send write
plaintext_refused libc_alias_send libc_alias_send send

attempt libc_alias_connect libc_alias_connect 127.0.0.1 "$DENY_PORT"
expect "libc_alias_connect: __connect to a denied port fails EACCES" "REFUSED EACCES" "$OUT"
expect_match "libc_alias_connect: audit line names the deny rule" \
	"event=connect verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$DENY_PORT host=- rule=1 reason=denied" "$EV"

# --- formatted output straight to a descriptor ---
for how in dprintf vdprintf dprintf_chk vdprintf_chk; do
	plaintext_refused "dprintf_socket_$how" dprintf_socket "$how"
done

# syslog's LOG_PERROR copy to a governed fd 2: refused, the connection shut
# down; the message itself still goes to the system log.
for how in syslog vsyslog syslog_chk; do
	plaintext_refused "syslog_perror_$how" syslog_perror_socket "$how" \
		'detail="syslog LOG_PERROR moves bytes the shim cannot inspect" '
done

# --- libc's own functions looked up by handle, and a plugin bound deep ---
plaintext_refused dlvsym_libc_send dlvsym_libc_send
plaintext_refused dlopen_libc_send_h dlopen_libc_send
label=deepbind_plugin_send
sink "$label"
port=$(cat "$T/$label.port")
out=$("$BYP/deepbind_plugin_send" 127.0.0.1 "$port" "$BYP/plugin_send.so" 2>&1)
expect "$label: control, without the shim the plugin sends" "SENT 17" "$out"
wait_until grep -q "PLAINTEXT SECRET" "$T/$label.bytes"
: >"$T/$label.bytes"
attempt "$label" deepbind_plugin_send 127.0.0.1 "$port" "$BYP/plugin_send.so"
expect "$label: RTLD_DEEPBIND dropped, the plugin's send is refused (EACCES)" "REFUSED EACCES" "$OUT"
expect_match "$label: audit line" \
	"event=plaintext verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$port .*reason=plaintext .*exe=$BYP/deepbind_plugin_send " "$EV"
sink_flushed "$port" "$T/$label.bytes"
expect "$label: the server received nothing" "END" "$(received "$label")"

# --- AF_UNSPEC on a UDP sendto: the kernel sends it as AF_INET ---
cat >"$T/udp_sink.py" <<'PYEOF'
import os, socket, sys
port_file, out = sys.argv[1:3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
with open(port_file + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
while True:
    data = s.recv(65536)
    with open(out, "ab") as f:
        f.write(data)
PYEOF
run_bg "$PY" "$T/udp_sink.py" "$T/udp.port" "$T/udp.bytes"
wait_file "$T/udp.port"
UDP_PORT=$(cat "$T/udp.port")
out=$("$BYP/af_unspec_sendto" 127.0.0.1 "$UDP_PORT" 2>&1)
expect "af_unspec_sendto: control, without the shim the kernel delivers it" "SENT 17" "$out"
wait_until grep -q "PLAINTEXT SECRET" "$T/udp.bytes"
expect "af_unspec_sendto: control, the datagram arrived" "PLAINTEXT SECRET" "$(received udp)"
: >"$T/udp.bytes"
attempt af_unspec_sendto af_unspec_sendto 127.0.0.1 "$UDP_PORT"
expect "af_unspec_sendto: a denied UDP destination (require_tls means deny) fails EACCES" \
	"REFUSED EACCES" "$OUT"
expect_match "af_unspec_sendto: audit line, decided as the IPv4 destination" \
	"event=connect verdict=block dir=out proto=udp peer=127\.0\.0\.1:$UDP_PORT host=- rule=default reason=denied" "$EV"
"$PY" -c 'import socket,sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"END", ("127.0.0.1", int(sys.argv[1])))' "$UDP_PORT"
wait_until grep -q END "$T/udp.bytes"
expect "af_unspec_sendto: the server received nothing" "END" "$(received udp)"

# connect(AF_UNSPEC) still dissolves a UDP association (connect(2)): a
# datagram socket connected to an allowed port, then disconnected, then
# unconnected sendto to a denied port is refused; the disconnect itself works.
cat >"$T/udp_disconnect.py" <<'PYEOF'
import ctypes, socket, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("127.0.0.1", 53))
unspec = struct.pack("<H", 0) + b"\0" * 14
rc = libc.connect(s.fileno(), unspec, len(unspec))
print("DISCONNECT", rc, ctypes.get_errno())
try:
    s.getpeername()
    print("STILL_CONNECTED")
except OSError:
    print("NOT_CONNECTED")
PYEOF
out=$(shimmed "$PY" "$T/udp_disconnect.py" 2>&1)
expect_match "connect(AF_UNSPEC) on a UDP socket still disconnects it" "^DISCONNECT 0 0
NOT_CONNECTED$" "$out"

# --- a thread rewrites the buffer between the check and the kernel's copy ---
# The buffer is a whole, valid ClientHello: the classifier refuses a hello
# that is not written whole in one call, so nothing shorter reaches the
# moment under test. It is hand-made, not this process's libssl's, which the
# suite's policy (tls.unmanaged at its default "deny") refuses as unmanaged
# TLS whatever the bytes. These two run with the same policy but unmanaged
# TLS allowed: the race is about the copy the shim judges, not about who made
# the hello, and a refusal for unmanaged TLS would hide whether it held.
POLICY_SUITE=$POLICY
POLICY="$T/policy-unmanaged.conf"
write_policy "$POLICY" <<CONF
version = 1;
mode = "enforce";
env_override = false;
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
tls = { unmanaged = "allow"; };
outbound = {
  default = "require_tls";
  rules = ( { to = "127.0.0.1"; port = $DENY_PORT; action = "deny"; } );
};
inbound = { default = "allow"; };
CONF

label=race_flip_send
sink "$label"
port=$(cat "$T/$label.port")
audit_mark
OUT=$(shimmed "$BYP/race_flip_send" 127.0.0.1 "$port" 400 5 2>/dev/null)
expect_match "$label: the race ran and some hellos were written" \
	"^RACED attempts=[0-9]+ written=[1-9][0-9]* refused=[0-9]+$" "$OUT"
sink_flushed "$port" "$T/$label.bytes"
expect_no_match "$label: the server never received the flipped plaintext" "PLAIN" \
	"$(received "$label")"

# The same, made deterministic: the hello straddles a page the program keeps
# closed, and its SIGSEGV handler rewrites the hello's first bytes to "PLAIN"
# when the bytes behind them are first read. The shim copied the hello before
# the fault, judged its copy and sent it: the write goes through and the
# server receives the hello as it was (the old shim sent "PLAIN").
label=fault_flip_send
sink "$label"
port=$(cat "$T/$label.port")
attempt "$label" fault_flip_send 127.0.0.1 "$port"
expect "$label: the hello was rewritten during the call, and the write went through" \
	"FLIPPED 1
SENT 52" "$OUT"
expect_no_match "$label: no audit line refuses it" "verdict=block.*peer=127\.0\.0\.1:$port " "$EV"
sink_flushed "$port" "$T/$label.bytes"
expect "$label: the server received the hello it judged, then END" \
	"16030100 2f010000 2b0303$(printf '%064d' 0) 0000 02002f 0100 0000 454e44" \
	"$(od -An -v -tx1 "$T/$label.bytes" | tr -d ' \n' |
		sed -E 's/^(.{8})(.{8})(.{6})(.{64})(.{4})(.{6})(.{4})(.{4})/\1 \2 \3\4 \5 \6 \7 \8 /')"
POLICY=$POLICY_SUITE
