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
