# TLS helpers shared by the t_ssl_*.sh suites (sourced after lib.sh): test
# certificates, openssl s_server instances on loopback, the careless client,
# and the audit events a single client run produced.
CERTS="$T/certs"
CARELESS="$TOP/$BUILD/tests/integration/programs/careless_client"

# make_certs: the certificate factory's output in $CERTS.
make_certs() {
	bash "$TOP/tests/lib/certs.sh" "$CERTS" >/dev/null 2>&1
}

# new_port: like free_port, but never one this suite already took (free_port
# only binds and releases, so two calls may give the same port).
USED_PORTS=" "
new_port() {
	local p
	while :; do
		p=$(free_port)
		case "$USED_PORTS" in
		*" $p "*) ;;
		*)
			USED_PORTS="$USED_PORTS$p "
			echo "$p"
			return
			;;
		esac
	done
}

# tls_server PORT CERT KEY [S_SERVER ARGS...]: openssl s_server -www on
# 127.0.0.1:PORT (not under the shim), ready when this returns.
tls_server() {
	local port=$1 cert=$2 key=$3
	shift 3
	run_bg openssl s_server -quiet -www -accept "127.0.0.1:$port" -cert "$cert" -key "$key" "$@" \
		</dev/null >/dev/null 2>&1
	wait_port "$port"
}

# audit_mark: remembers how many events the sink holds; audit_since then prints
# the events received after the mark (waiting briefly for a late datagram).
AUDIT_MARK=0
audit_mark() {
	AUDIT_MARK=$(wc -l <"$AUDIT_LOG")
}
audit_since() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		[ "$(wc -l <"$AUDIT_LOG")" -gt "$AUDIT_MARK" ] && break
		sleep 0.02
	done
	tail -n +"$((AUDIT_MARK + 1))" "$AUDIT_LOG"
}

# The clients of the matrix. Each prints what it received and returns its
# status; every one of them switches certificate verification off.
client_curl_k() {
	shimmed curl -4 -sSi -k --max-time 10 "https://localhost:$1/" 2>&1
}
client_curl_other_ca() {
	shimmed curl -4 -sSi --cacert "$CERTS/other-root.pem" --max-time 10 "https://localhost:$1/" 2>&1
}
client_python() {
	shimmed "$PY" - "$1" 2>&1 <<'PYEOF'
import socket, ssl, sys
ctx = ssl._create_unverified_context()
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        print(s.recv(200).decode(errors="replace").splitlines()[0])
PYEOF
}
client_s_client() {
	printf 'GET / HTTP/1.0\r\n\r\n' |
		shimmed timeout 10 openssl s_client -quiet -connect "127.0.0.1:$1" -servername localhost 2>&1
}

# --- GnuTLS suites (t_gnutls_*.sh) ----------------------------------------------
CARELESS_GNUTLS="$TOP/$BUILD/tests/integration/programs/careless_gnutls_client"

# https_recorders NAME:CERT:KEY[:tls10|:old] ...: one python process serving, for
# each NAME, a TLS server on an ephemeral 127.0.0.1 port ($NAME_PORT once this
# returns) with CERT (the whole file is the chain sent) and KEY, TLS 1.0 only
# with ":tls10", TLS 1.0 and later with ":old". Each connection's decrypted bytes are appended to
# $T/NAME.bytes (created empty); the answer is a small HTTP/1.0 200 page, so
# wget and gnutls-cli get through when nothing stops them.
https_recorders() {
	local spec name
	cat >"$T/https_recorder.py" <<'PYEOF'
import os, socket, ssl, sys, threading
out_dir = sys.argv[1]
def serve(name, ctx, conn):
    try:
        with ctx.wrap_socket(conn, server_side=True) as s:
            s.settimeout(10)
            data = b""
            while b"\r\n\r\n" not in data:
                got = s.recv(4096)
                if not got:
                    break
                data += got
                with open(os.path.join(out_dir, name + ".bytes"), "ab") as f:
                    f.write(got)
            if data:
                s.sendall(b"HTTP/1.0 200 ok\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n")
                # close_notify both ways: a client that already sent its own
                # must not get a reset before it read the answer
                s.unwrap().close()
    except (OSError, ssl.SSLError):
        pass
def listen(name, ctx, srv):
    while True:
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(name, ctx, c), daemon=True).start()
threads = []
for spec in sys.argv[2:]:
    name, cert, key, *opt = spec.split(":")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    if "tls10" in opt:
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1
    if "old" in opt:
        ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.load_cert_chain(cert, key)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(32)
    threads.append(threading.Thread(target=listen, args=(name, ctx, srv), daemon=True))
    open(os.path.join(out_dir, name + ".bytes"), "wb").close()
    with open(os.path.join(out_dir, name + ".port.tmp"), "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.rename(os.path.join(out_dir, name + ".port.tmp"), os.path.join(out_dir, name + ".port"))
for t in threads:
    t.start()
for t in threads:
    t.join()
PYEOF
	run_bg "$PY" "$T/https_recorder.py" "$T" "$@" 2>/dev/null
	for spec in "$@"; do
		name=${spec%%:*}
		wait_file "$T/$name.port" || { not_ok "recorder $name" "did not start"; continue; }
		printf -v "${name}_PORT" '%s' "$(cat "$T/$name.port")"
	done
}
# recorded NAME: how many application bytes recorder NAME has received.
recorded() { wc -c <"$T/$1.bytes"; }

# The GnuTLS clients, each with certificate verification off in its own way;
# each prints what it received and returns its status.
# gnutls_cli_insecure PORT [ARGS...]: gnutls-cli --insecure, SNI localhost.
gnutls_cli_insecure() {
	local port=$1
	shift
	printf 'GET / HTTP/1.0\r\n\r\n' |
		shimmed gnutls-cli --insecure --sni-hostname localhost -p "$port" "$@" 127.0.0.1 2>&1
}
# wget_insecure PORT: wget --no-check-certificate of https://localhost:PORT/.
wget_insecure() {
	shimmed wget -4 -q -O - --no-check-certificate --tries=1 --timeout=10 \
		"https://localhost:$1/" 2>&1
}

# audit_flush: returns once every event sent before it is in $AUDIT_LOG. The
# sink's socket delivers datagrams in order: a marker sent now is written
# after all of them (the line stays in the log; it names no pid or peer).
AUDIT_FLUSHES=0
audit_flush() {
	AUDIT_FLUSHES=$((AUDIT_FLUSHES + 1))
	"$PY" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(sys.argv[2].encode(), sys.argv[1])' "$AUDIT_SOCK" "audit-flush-$AUDIT_FLUSHES"
	wait_until grep -q "^audit-flush-$AUDIT_FLUSHES\$" "$AUDIT_LOG"
}
