#!/bin/bash
# make demo: tlsguard on loopback, with real clients. Starts a plaintext HTTP
# server, a TLS server with a good certificate chain, one with an expired
# certificate and an audit sink; runs each client without and with the shim;
# prints what happened and the audit lines the shim sent; then plaintext
# programs upgraded to TLS by the shim (upgrade_tls), and refused against a
# server nobody trusts. Exits 0 only when
# every row behaved as intended. Leaves no process and no file behind.
set -u
BUILD=${BUILD:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
SHIM="$TOP/$BUILD/libtlsguard.so"
CLI="$TOP/$BUILD/tlsguard"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
for f in "$SHIM" "$CLI"; do
	[ -e "$f" ] || { echo "demo: $f missing: run make first" >&2; exit 1; }
done
for tool in curl openssl "$PY"; do
	command -v "$tool" >/dev/null || { echo "demo: $tool not found: run make deps" >&2; exit 1; }
done

. "$TOP/tests/lib/scratch.sh"
scratch_init tlsguard-demo
D=$SCRATCH
trap 'exit 130' INT TERM

# start CMD...: a quiet background server, killed at exit (tests/lib/scratch.sh).
start() {
	run_bg "$@" </dev/null >/dev/null 2>&1
}

# A free loopback port, never one already handed out here.
TAKEN=" "
port() {
	local p
	while :; do
		p=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
		case "$TAKEN" in *" $p "*) continue ;; esac
		TAKEN="$TAKEN$p "
		echo "$p"
		return
	done
}

# wait_ready PORT|PATH: up to 10 s for a listener or a socket file.
wait_ready() {
	local i
	for i in $(seq 1 200); do
		if [ "${1#/}" != "$1" ]; then
			[ -S "$1" ] && return 0
		elif "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	echo "demo: $1 did not come up" >&2
	exit 1
}

echo "== tlsguard demo (loopback only)"
bash "$TOP/tests/lib/certs.sh" "$D/pki" >/dev/null 2>&1 || { echo "demo: tests/lib/certs.sh failed" >&2; exit 1; }

HTTP=$(port) GOOD=$(port) BAD=$(port)
mkdir -p "$D/www" && echo "hello from the plaintext server" >"$D/www/index.html"
start "$PY" -m http.server --bind 127.0.0.1 --directory "$D/www" "$HTTP"
start openssl s_server -quiet -www -accept "127.0.0.1:$GOOD" -cert "$D/pki/valid.pem" \
	-key "$D/pki/valid.key" -cert_chain "$D/pki/inter.pem"
start openssl s_server -quiet -www -accept "127.0.0.1:$BAD" -cert "$D/pki/expired.pem" \
	-key "$D/pki/expired.key" -cert_chain "$D/pki/inter.pem"
SINK="$D/audit.sock"
: >"$D/audit.log"
start "$PY" "$TOP/tests/integration/audit_sink.py" "$SINK" "$D/audit.log"
for w in "$HTTP" "$GOOD" "$BAD" "$SINK"; do
	wait_ready "$w"
done

POLICY="$D/policy.conf"
cat >"$POLICY" <<CONF
version = 1;
mode = "enforce";
env_override = false;
audit = { socket = "$SINK"; stderr = false; };
tls = { ca_file = "$D/pki/root.pem"; };   # the demo's own root CA
outbound = { default = "require_tls"; };   # every TCP connection: TLS, verified
inbound = { default = "allow"; };
CONF
chmod 0644 "$POLICY"
"$CLI" check "$POLICY" >/dev/null || { echo "demo: the demo policy is invalid" >&2; exit 1; }
echo "servers: http :$HTTP (plaintext), https :$GOOD (valid chain), https :$BAD (expired)"

# The clients; each prints what it got. The "bad" ones all switch certificate
# verification off, as careless programs do.
c_curl_http() { curl -4 -sS --max-time 10 -o - -w '\nHTTP/%{http_version} %{http_code}\n' "http://127.0.0.1:$HTTP/"; }
c_curl_k_bad() { curl -4 -sSi -k --max-time 10 "https://localhost:$BAD/"; }
c_curl_good() { curl -4 -sSi --cacert "$D/pki/root.pem" --max-time 10 "https://localhost:$GOOD/"; }
c_python_bad() {
	"$PY" - "$BAD" <<'PYEOF'
import socket, ssl, sys
ctx = ssl._create_unverified_context()
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        print(s.recv(200).decode(errors="replace").splitlines()[0])
PYEOF
}
c_s_client_bad() {
	printf 'GET / HTTP/1.0\r\n\r\n' |
		timeout 10 openssl s_client -quiet -connect "127.0.0.1:$BAD" -servername localhost
}

# outcome OUTPUT STATUS: one cell of the table.
outcome() {
	case "$1" in
	*"hello from the plaintext server"*) echo "OK (plaintext sent)" ;;
	*"HTTP/1.0 200"* | *"HTTP/1.1 200"*) echo "OK (TLS)" ;;
	*"Permission denied"*) echo "BLOCKED: Permission denied" ;;
	*"certificate verify failed"* | *"CERTIFICATE_VERIFY_FAILED"* | *"certificate has expired"*)
		echo "BLOCKED: certificate verify failed" ;;
	*) echo "FAILED (exit $2)" ;;
	esac
}

# ROW: client function | target | expected without | expected with (prefixes)
ROWS=(
	"c_curl_http|curl http://|http :$HTTP|OK (plaintext sent)|BLOCKED"
	"c_curl_k_bad|curl -k https://|expired :$BAD|OK (TLS)|BLOCKED"
	"c_curl_good|curl https://|valid :$GOOD|OK (TLS)|OK (TLS)"
	"c_python_bad|python3 unverified ctx|expired :$BAD|OK (TLS)|BLOCKED"
	"c_s_client_bad|openssl s_client|expired :$BAD|OK (TLS)|BLOCKED"
)
printf '\n%-24s %-14s %-19s %s\n' "client" "target" "without tlsguard" "with tlsguard"
printf '%s\n' "-------------------------------------------------------------------------------"
failed=0
for row in "${ROWS[@]}"; do
	IFS='|' read -r fn client target want_off want_on <<<"$row"
	out=$($fn 2>&1)
	off=$(outcome "$out" "$?")
	out=$(LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$POLICY" $fn 2>&1)
	on=$(outcome "$out" "$?")
	mark=""
	if [ "${off#"$want_off"}" = "$off" ] || [ "${on#"$want_on"}" = "$on" ]; then
		mark="  <-- want: $want_off / $want_on"
		failed=$((failed + 1))
	fi
	printf '%-24s %-14s %-19s %s%s\n' "$client" "$target" "$off" "$on" "$mark"
done

# Programs that cannot speak TLS at all: under upgrade_tls the shim speaks it
# for them (bash's /dev/tcp and python3's http.client send plaintext HTTP to an
# https server), verified like any other connection: against a server whose
# certificate nobody trusts, nothing leaves and the program's call fails.
UNTRUSTED=$(port)
start openssl s_server -quiet -www -accept "127.0.0.1:$UNTRUSTED" -cert "$D/pki/untrusted.pem" \
	-key "$D/pki/untrusted.key"
wait_ready "$UNTRUSTED"
UPOLICY="$D/upgrade.conf"
cat >"$UPOLICY" <<CONF
version = 1;
mode = "enforce";
env_override = false;
audit = { socket = "$SINK"; stderr = false; };
tls = { ca_file = "$D/pki/root.pem"; };
outbound = {
  default = "require_tls";
  rules = ( { to = "127.0.0.1"; port = [ $GOOD, $UNTRUSTED ]; action = "upgrade_tls";
              tls = { server_name = "localhost"; }; } );   # the shim speaks TLS here
};
inbound = { default = "allow"; };
CONF
chmod 0644 "$UPOLICY"
"$CLI" check "$UPOLICY" >/dev/null || { echo "demo: the upgrade policy is invalid" >&2; exit 1; }
c_bash_devtcp() {
	bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "GET / HTTP/1.0\r\n\r\n" >&3 &&
		timeout 10 head -c 200 <&3' bash "$1"
}
c_bash_good() { c_bash_devtcp "$GOOD"; }
c_bash_untrusted() { c_bash_devtcp "$UNTRUSTED"; }
c_py_http_good() {
	"$PY" - "$GOOD" <<'PYEOF'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
c.request("GET", "/")
r = c.getresponse()
print("HTTP/1.0", r.status)
PYEOF
}
# upgraded OUTPUT STATUS: one cell of the second table.
upgraded() {
	case "$1" in
	*"HTTP/1.0 200"* | *"HTTP/1.1 200"*) echo "OK (TLS)" ;;
	*"refused"* | *"Permission denied"* | *"reset by peer"*) echo "BLOCKED: refused" ;;
	*) echo "FAILED: no HTTP answer" ;; # plaintext to a TLS port
	esac
}
UROWS=(
	"c_bash_good|bash /dev/tcp http|valid :$GOOD|FAILED|OK (TLS)"
	"c_py_http_good|python3 http.client|valid :$GOOD|FAILED|OK (TLS)"
	"c_bash_untrusted|bash /dev/tcp http|untrusted :$UNTRUSTED|FAILED|BLOCKED"
)
echo
echo "plaintext programs, upgraded to TLS by tlsguard (upgrade_tls):"
printf '%-20s %-17s %-23s %s\n' "client" "target" "without tlsguard" "with tlsguard"
printf '%s\n' "-------------------------------------------------------------------------------"
for row in "${UROWS[@]}"; do
	IFS='|' read -r fn client target want_off want_on <<<"$row"
	out=$($fn 2>&1)
	off=$(upgraded "$out" "$?")
	out=$(LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$UPOLICY" $fn 2>&1)
	on=$(upgraded "$out" "$?")
	mark=""
	if [ "${off#"$want_off"}" = "$off" ] || [ "${on#"$want_on"}" = "$on" ]; then
		mark="  <-- want: $want_off / $want_on"
		failed=$((failed + 1))
	fi
	printf '%-20s %-17s %-23s %s%s\n' "$client" "$target" "$off" "$on" "$mark"
done

# the sink writes each datagram as it arrives; a moment for the last one
for i in $(seq 1 20); do
	[ "$(wc -l <"$D/audit.log")" -ge 4 ] && break
	sleep 0.05
done
echo
echo "audit lines received on $SINK:"
sed 's/^/  /' "$D/audit.log"
blocks=$(grep -c 'verdict=block' "$D/audit.log")
if [ "$blocks" -lt 4 ]; then
	echo "demo: want at least 4 blocks in the audit log, got $blocks" >&2
	failed=$((failed + 1))
fi
echo
echo "the same, summarised by tlsguard report:"
"$CLI" report "$D/audit.log" | sed 's/^/  /'
echo
if [ "$failed" -ne 0 ]; then
	echo "demo: FAILED ($failed unexpected results)"
	exit 1
fi
echo "demo: every result as intended"
