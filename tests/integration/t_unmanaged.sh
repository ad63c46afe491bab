# TLS that goes through neither the process's libssl.so.3 nor its
# libgnutls.so.30 cannot be verified by the shim: tls.unmanaged decides, deny by
# default. Two such programs: python3 writing a ClientHello it made itself on a
# plain socket (no ssl module: TLS built into the program, as a statically
# linked library or Go's would be), always there, and node (its bundled
# OpenSSL) when installed. Managed TLS to the same server is the control.
. "$(dirname "$0")/lib.sh"

HERE=$(dirname "$0")

bash "$TOP/tests/lib/certs.sh" "$T/pki" >/dev/null
PORT=$(free_port)
# s_server sends the first certificate of -cert only: the intermediate goes
# in -cert_chain.
run_bg openssl s_server -quiet -www -accept "127.0.0.1:$PORT" -cert "$T/pki/valid.pem" \
	-key "$T/pki/valid.key" -cert_chain "$T/pki/inter.pem" </dev/null >/dev/null 2>&1
wait_port "$PORT"
start_audit_sink

policy_with() { # policy_with UNMANAGED: writes $T/UNMANAGED.conf
	write_policy "$T/$1.conf" <<EOF
version = 1;
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
tls = { ca_file = "$T/pki/root.pem"; unmanaged = "$1"; };
EOF
}
for u in deny audit allow; do policy_with $u; done
URL="https://localhost:$PORT/"

# The control: python3's ssl is the process's libssl, verified by the shim.
out=$(POLICY="$T/deny.conf" shimmed "$PY" -c 'import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
print(urllib.request.urlopen(sys.argv[1], context=ctx, timeout=10).status)' "$URL" "$T/pki/root.pem" 2>&1)
expect "managed TLS (python3 ssl) to a valid server: allowed" "200" "$out"

# A ClientHello made by hand, as TLS built into a program writes it: one
# suite, null compression, a server_name extension for "localhost". Sent to
# the recording server, which answers nothing: what counts is whether the
# shim lets the hello out.
run_bg "$PY" "$HERE/sink_server.py" "$T/sink.port" "$T/sink.bytes"
wait_file "$T/sink.port"
SINK_PORT=$(cat "$T/sink.port")
cat >"$T/rawhello.py" <<'PYEOF'
import socket, struct, sys
name = b"localhost"
sni = struct.pack(">HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
body = bytes([3, 3]) + b"R" * 32 + bytes([0, 0, 2, 0x13, 1, 1, 0]) + struct.pack(">H", len(sni)) + sni
hs = bytes([1]) + struct.pack(">I", len(body))[1:] + body
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
try:
    s.sendall(bytes([0x16, 3, 1]) + struct.pack(">H", len(hs)) + hs)
    print("HELLO SENT")
except OSError as e:
    print("ERR %s" % e.strerror)
PYEOF
rawhello() { # rawhello UNMANAGED: the hand-made hello under $T/UNMANAGED.conf
	: >"$AUDIT_LOG"
	: >"$T/sink.bytes"
	out=$(POLICY="$T/$1.conf" shimmed "$PY" "$T/rawhello.py" "$SINK_PORT" 2>&1)
	sink_flushed "$SINK_PORT" "$T/sink.bytes"
	bytes=$(tr -d '\0' <"$T/sink.bytes" | LC_ALL=C tr -c 'A-Za-z' '.')
}
PYEXE=$(readlink -f "$PY")

rawhello deny
expect_match "hand-made hello, unmanaged = deny: refused with EACCES" "ERR Permission denied" "$out"
expect "hand-made hello, unmanaged = deny: the server got no byte of it" "END" "$bytes"
expect_match "hand-made hello, unmanaged = deny: audit line" \
	"event=unmanaged_tls verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$SINK_PORT .*reason=unmanaged_tls exe=$PYEXE" \
	"$(audit_lines)"

rawhello audit
expect "hand-made hello, unmanaged = audit: goes through" "HELLO SENT" "$out"
expect_match "hand-made hello, unmanaged = audit: the server got it" "RRRRRRRR.*localhost" "$bytes"
expect_match "hand-made hello, unmanaged = audit: recorded as verdict=audit" \
	"event=unmanaged_tls verdict=audit .*reason=unmanaged_tls exe=$PYEXE" "$(audit_lines)"

rawhello allow
expect "hand-made hello, unmanaged = allow: goes through" "HELLO SENT" "$out"
expect_match "hand-made hello, unmanaged = allow: the server got it" "RRRRRRRR.*localhost" "$bytes"
expect_no_match "hand-made hello, unmanaged = allow: nothing blocked" "verdict=block" "$(audit_lines)"

# wget was this suite's unmanaged example while GnuTLS was not governed: its
# hello is now its session's, managed, and the same deny policy lets it through.
if command -v wget >/dev/null; then
	: >"$AUDIT_LOG"
	POLICY="$T/deny.conf" shimmed wget -q -O /dev/null -T 10 -t 1 \
		--ca-certificate="$T/pki/root.pem" "$URL" 2>/dev/null
	expect "wget (GnuTLS, governed), unmanaged = deny: goes through" "0" "$?"
	expect_no_match "wget (GnuTLS, governed): not unmanaged" "unmanaged_tls" "$(audit_lines)"
else
	skip "wget" "wget is not installed (make deps installs it)"
fi

if command -v node >/dev/null; then
	: >"$AUDIT_LOG"
	out=$(POLICY="$T/deny.conf" shimmed node -e '
const https = require("https");
https.get(process.argv[1], { rejectUnauthorized: false, timeout: 10000 }, (r) => {
  console.log("STATUS", r.statusCode); r.resume();
}).on("error", (e) => console.log("ERROR", e.code));' "$URL" 2>&1)
	expect_match "node (bundled OpenSSL), unmanaged = deny: refused" "^ERROR" "$out"
	if audit_lines | grep -Eq "event=unmanaged_tls verdict=block .*reason=unmanaged_tls"; then
		ok "node, unmanaged = deny: audit line"
	else
		not_ok "node, unmanaged = deny: audit line" "$(cat "$AUDIT_LOG")"
	fi
else
	skip "node" "node is not installed"
fi
