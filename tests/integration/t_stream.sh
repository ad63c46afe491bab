# The stream classifier with a real program (python3's socket module) writing
# bytes shaped like TLS by hand on require_tls connections, with
# tls.unmanaged = "allow" so that only the classifier stands in the way:
# - a ClientHello followed at once by an application-data record, before the
#   server has said anything: the record is refused, the server gets no byte
#   of it;
# - a write that ends inside a ClientHello (its whole random included) is
#   refused before any byte of it leaves;
# - a server that speaks first in alert-shaped records: the read is refused
#   after one alert, the program never sees the second.
. "$(dirname "$0")/lib.sh"

HERE=$(dirname "$0")
run_bg "$PY" "$HERE/sink_server.py" "$T/sink.port" "$T/sink.bytes"
wait_file "$T/sink.port"
SINK_PORT=$(cat "$T/sink.port")

# A server that sends two alert records as soon as a client connects.
cat >"$T/alerts.py" <<'PYEOF'
import os, socket, sys
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(srv.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = srv.accept()
    c.sendall(bytes([0x15, 3, 3, 0, 2, 1, 0]) + bytes([0x15, 3, 3, 0, 2, ord("H"), ord("I")]))
    c.close()
PYEOF
run_bg "$PY" "$T/alerts.py" "$T/alerts.port"
wait_file "$T/alerts.port"
ALERT_PORT=$(cat "$T/alerts.port")
start_audit_sink

POLICY="$T/policy.conf"
write_policy "$POLICY" <<POL
version = 1;
mode = "enforce";
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
tls = { unmanaged = "allow"; };
outbound = { default = "require_tls"; };
POL

# A well-formed ClientHello: one suite, null compression, no extensions.
cat >"$T/client.py" <<'PYEOF'
import socket, sys
hello = bytes([0x16, 3, 1, 0, 0x2d, 1, 0, 0, 0x29, 3, 3]) + b"R" * 32 + bytes([0, 0, 2, 0x13, 1, 1, 0])
mode, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
try:
    if mode == "appdata":
        s.sendall(hello)
        print("HELLO SENT")
        s.sendall(bytes([0x17, 3, 3, 0, 9]) + b"SMUGGLED!")
        print("APPDATA SENT")
    elif mode == "partial":
        s.sendall(hello[:43])
        print("PARTIAL SENT")
    elif mode == "read":
        data = s.recv(100)
        print("READ %r" % data)
except OSError as e:
    print("ERR %s" % e.strerror)
    sys.exit(1)
PYEOF

out=$(LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$POLICY" timeout 30 "$PY" "$T/client.py" appdata "$SINK_PORT" 2>&1)
expect_match "appdata before the ServerHello: the hello goes" "HELLO SENT" "$out"
expect_match "appdata before the ServerHello: refused with EACCES" "ERR Permission denied" "$out"
sink_flushed "$SINK_PORT" "$T/sink.bytes"
expect_no_match "appdata before the ServerHello: the server got none of it" "SMUGGLED" "$(tr -d '\0' <"$T/sink.bytes")"
expect_match "appdata before the ServerHello: audit line" \
	"event=plaintext verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$SINK_PORT host=- rule=default reason=plaintext" \
	"$(audit_lines)"

: >"$T/sink.bytes"
out=$(LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$POLICY" timeout 30 "$PY" "$T/client.py" partial "$SINK_PORT" 2>&1)
expect_match "partial hello: refused with EACCES" "ERR Permission denied" "$out"
sink_flushed "$SINK_PORT" "$T/sink.bytes"
expect "partial hello: the server got no byte of it" "END" "$(tr -d '\0' <"$T/sink.bytes")"
expect_match "partial hello: audit line says why" \
	'reason=plaintext detail="ClientHello not written whole in one call"' "$(audit_lines)"

out=$(LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$POLICY" timeout 30 "$PY" "$T/client.py" read "$ALERT_PORT" 2>&1)
expect_match "server speaking first in alerts: the read is refused" "ERR Connection reset" "$out"
expect_no_match "server speaking first in alerts: the program sees none of it" "HI" "$out"

# Controls: without the shim every byte goes through.
: >"$T/sink.bytes"
"$PY" "$T/client.py" appdata "$SINK_PORT" >/dev/null 2>&1
sink_flushed "$SINK_PORT" "$T/sink.bytes"
expect_match "control: without the shim the record arrives" "SMUGGLED" "$(tr -d '\0' <"$T/sink.bytes")"
