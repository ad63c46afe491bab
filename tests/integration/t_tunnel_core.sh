#!/bin/bash
# Tunnels (issue 17): plaintext programs upgraded to TLS by the shim
# (upgrade_tls) and plaintext servers served over TLS (terminate_tls), with the
# same verification and audit as every TLS connection, and nothing a program
# can notice: blocking and non-blocking I/O, epoll/poll readiness, the socket
# calls, shutdown, close, sendfile, fork, exec, many small writes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"
. "$(dirname "$0")/lib_tunnel.sh"

peer good collect valid
peer untrusted collect untrusted
peer expired collect expired
peer wronghost collect wronghost
peer greet greet valid
peer pgS pg-S valid
peer pgN pg-N valid
peer mtls mtls valid
WWW=$(new_port)
CLOSED=$(new_port) # nothing listens there
tls_server "$WWW" "$CERTS/valid.pem" "$CERTS/valid.key" -cert_chain "$CERTS/inter.pem"

POLICY="$T/policy.conf"
rule() { # rule PORT [TLS-GROUP] [EXTRA]
	printf '    { to = "127.0.0.1"; port = %s; action = "upgrade_tls"; %s\n      tls = { ca_file = "%s"; %s }; },\n' \
		"$1" "${3:-}" "$CERTS/root.pem" "${2:-}"
}
{
	cat <<-EOF
		version = 1;
		audit = { socket = "$AUDIT_SOCK"; stderr = false; };
		outbound = { default = "allow"; rules = (
	EOF
	rule "${PORTS[good]}"
	rule "${PORTS[untrusted]}"
	rule "${PORTS[expired]}"
	rule "${PORTS[wronghost]}"
	rule "${PORTS[greet]}"
	rule "${PORTS[pgS]}" "" 'starttls = "postgres";'
	rule "${PORTS[pgN]}" "" 'starttls = "postgres";'
	rule "${PORTS[mtls]}" "client_cert = \"$CERTS/client.pem\"; client_key = \"$CERTS/client.key\";"
	rule "$WWW"
	rule "$CLOSED"
	cat <<-EOF
		    { port = 1; action = "deny"; }
		); };
	EOF
} | write_policy "$POLICY"
"$CLI" check "$POLICY" >/dev/null 2>&1 || not_ok "policy" "$("$CLI" check "$POLICY" 2>&1)"

# ---- outbound: real programs ----

out=$(shimmed bash -c 'exec 5<>/dev/tcp/127.0.0.1/'"$WWW"'; printf "GET / HTTP/1.0\r\n\r\n" >&5; head -1 <&5' 2>&1)
expect_match "bash /dev/tcp upgraded to s_server -www" "^HTTP/1.0 200 ok" "$out"

out=$(shimmed "$PY" -c 'import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
c.request("GET", "/")
r = c.getresponse()
print(r.status, b"s_server" in r.read())' "$WWW" 2>&1)
expect "python3 http.client upgraded" "200 True" "$out"

# ---- outbound: what the program must not notice ----

out=$(shimmed "$CLIENT" epoll "$WWW" 2>&1)
expect_match "non-blocking connect + edge-triggered epoll" "^HTTP/1.0 200 ok bytes=[0-9]{4,}" "$out"
expect_match "epoll: no spurious wake-up" "spurious=0" "$out"
out=$(shimmed "$CLIENT" poll "$WWW" 2>&1)
expect_match "non-blocking connect + poll" "^HTTP/1.0 200 ok bytes=[0-9]{4,}" "$out"

out=$(shimmed "$CLIENT" sockopt "$WWW" 2>&1)
expect_match "getpeername is the server's" "peer=127.0.0.1:$WWW family=inet" "$out"
expect_match "getsockname is an inet address" "self=127.0.0.1 family=inet" "$out"
expect_match "TCP_NODELAY set and read back" "nodelay=1" "$out"
expect_match "SO_KEEPALIVE set and read back" "keepalive=1" "$out"
expect_match "SO_DOMAIN says inet" "domain=inet" "$out"
expect_match "SO_ERROR is 0" "so_error=0" "$out"
expect_match "FIONREAD counts decrypted bytes" "fionread_positive=1" "$out"

out=$(shimmed "$CLIENT" shutdown "${PORTS[good]}" "hello
" 2>&1)
expect_match "shutdown(SHUT_WR): the server gets close_notify, then the reply" \
	"got=6 close_notify=yes lines=hello:1" "$out"

: >"$T/good.log"
shimmed "$CLIENT" close "${PORTS[good]}" "flushed by close
" >/dev/null 2>&1
wait_until grep -q "flushed by close" "$T/good.log"
expect "close flushes what the program wrote" "flushed by close" "$(cat "$T/good.log")"

head -c 300000 /dev/urandom >"$T/blob"
out=$(shimmed "$CLIENT" sendfile "${PORTS[good]}" "$T/blob" 2>&1)
expect_match "sendfile from a file" "got=300000 close_notify=yes" "$out"

out=$(shimmed "$PY" -c 'import socket, sys
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendto(b"sendto\n", ("127.0.0.1", port))  # TCP ignores the address of a connected socket
s.shutdown(socket.SHUT_WR)
print(s.recv(200).decode())' "${PORTS[good]}" 2>&1)
expect_match "sendto with the peer's address on a connected socket" "lines=sendto:1" "$out"

out=$(shimmed "$CLIENT" fork "${PORTS[good]}" 2>&1)
expect_match "fork: parent and child both write" "lines=child:1,parent:1" "$out"

out=$(shimmed "$CLIENT" many "${PORTS[good]}" 10000 2>&1)
expect_match "10,000 small writes" "got=10000 close_notify=yes" "$out"

out=$(shimmed "$CLIENT" first "${PORTS[greet]}" 2>&1)
expect_match "server speaks first: the greeting is read before any write" \
	"greeting=220 greeting" "$out"
expect_match "server speaks first: then the exchange" "lines=hi:1" "$out"

out=$(shimmed "$CLIENT" exec "${PORTS[good]}" 2>&1)
expect_match "exec: the new image keeps using the upgraded connection" "lines=exec:1" "$out"
expect_match "exec: getpeername in the new image" "execd peer=127.0.0.1:${PORTS[good]}" "$out"

out=$(shimmed "$CLIENT" execself "${PORTS[good]}" 2>&1)
expect_match "exec in the process that made the tunnel: the connection survives" \
	"lines=before:1,exec:1" "$out"
expect_match "exec in the process that made the tunnel: getpeername" \
	"execd peer=127.0.0.1:${PORTS[good]}" "$out"

out=$(shimmed "$CLIENT" shutdown "${PORTS[mtls]}" "mutual
" 2>&1)
expect_match "client_cert presented to a server that requires one" "lines=mutual:1" "$out"

# ---- outbound: refusals ----

for bad in untrusted expired wronghost; do
	audit_mark
	out=$(shimmed "$CLIENT" refused "${PORTS[$bad]}" 2>&1)
	expect_match "$bad: blocking connect refused" "connect: ECONNREFUSED" "$out"
	expect_match "$bad: later calls fail as refused" "write: ECONNREFUSED.*read: ECONNREFUSED" \
		"$(echo "$out" | tr '\n' ' ')"
	case $bad in
	wronghost) want="reason=hostname" ;;
	*) want="reason=cert_verify" ;;
	esac
	expect_match "$bad: audited" "event=upgrade verdict=block dir=out .*peer=127.0.0.1:${PORTS[$bad]} .*$want" \
		"$(audit_since)"
done
out=$(shimmed "$CLIENT" nbrefused "${PORTS[untrusted]}" 2>&1)
expect_match "non-blocking: SO_ERROR reports the refusal" "so_error=ECONNREFUSED" "$out"
expect_match "non-blocking: a write after it fails" "write: ECONNREFUSED" "$out"
shimmed "$PY" -c 'import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
c.request("GET", "/secret")' "${PORTS[expired]}" >/dev/null 2>&1
for bad in untrusted expired wronghost; do
	expect "$bad: no application byte reached the server" "" "$(cat "$T/$bad.log")"
done

# audit mode: the refusal is recorded, the connection goes on (upgraded)
audit_mark
out=$(TLSGUARD_MODE=audit shimmed "$CLIENT" shutdown "${PORTS[untrusted]}" "audited
" 2>&1)
expect_match "audit mode: an untrusted server is still reached, over TLS" "lines=audited:1" "$out"
expect_match "audit mode: the would-be refusal is recorded" \
	"event=upgrade verdict=audit dir=out .*reason=cert_verify" "$(audit_since)"
: >"$T/untrusted.log"

# nothing listening: the connect fails as it would without the shim
out=$(shimmed "$CLIENT" refused "$CLOSED" 2>&1)
expect_match "no server: blocking connect fails with ECONNREFUSED" "connect: ECONNREFUSED" "$out"
out=$(shimmed "$CLIENT" nbrefused "$CLOSED" 2>&1)
expect_match "no server: non-blocking connect, SO_ERROR says ECONNREFUSED" "so_error=ECONNREFUSED" "$out"

audit_mark
out=$(shimmed "$CLIENT" hello "${PORTS[good]}" 2>&1)
expect_match "TLS inside TLS: refused" "read: ECONNREFUSED" "$out"
expect_match "TLS inside TLS: audited" "event=upgrade verdict=block .*reason=tls_in_tls" "$(audit_since)"

# ---- starttls postgres ----

out=$(shimmed "$CLIENT" shutdown "${PORTS[pgS]}" "startup
" 2>&1)
expect_match "postgres S: SSLRequest by the shim, the startup packet inside TLS" \
	"lines=startup:1" "$out"
audit_mark
out=$(shimmed "$CLIENT" refused "${PORTS[pgN]}" 2>&1)
expect_match "postgres N: a downgrade, refused" "connect: ECONNREFUSED" "$out"
expect_match "postgres N: audited as downgrade" "reason=downgrade" "$(audit_since)"
expect "postgres N: no program byte reached the server" "" "$(cat "$T/pgN.log")"

# ---- inbound: terminate_tls ----

HTTP=$(new_port)
MHTTP=$(new_port)
XHTTP=$(new_port)
mkdir -p "$T/www"
echo "served through the shim" >"$T/www/index.html"
IN_POLICY="$T/inbound.conf"
write_policy "$IN_POLICY" <<EOF
version = 1;
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
outbound = { default = "allow"; };
inbound = { default = "allow"; rules = (
    { port = $HTTP; action = "terminate_tls";
      tls = { cert_file = "$CERTS/valid.pem"; key_file = "$CERTS/valid.key"; }; },
    { port = $XHTTP; action = "terminate_tls"; external = true;
      tls = { cert_file = "$CERTS/valid.pem"; key_file = "$CERTS/valid.key"; }; },
    { port = $MHTTP; action = "terminate_tls";
      tls = { cert_file = "$CERTS/valid.pem"; key_file = "$CERTS/valid.key";
              require_client_cert = true; client_ca_file = "$CERTS/client-ca.pem"; }; }
); };
EOF
cd "$T/www" || exit 1
LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$IN_POLICY" run_bg "$PY" -m http.server --bind 127.0.0.1 "$HTTP" \
	>"$T/http.log" 2>&1
LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$IN_POLICY" run_bg "$PY" -m http.server --bind 127.0.0.1 "$MHTTP" \
	>"$T/mhttp.log" 2>&1
cd "$T" || exit 1
LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$IN_POLICY" run_bg "$PY" -m http.server --bind 127.0.0.1 "$XHTTP" \
	>"$T/xhttp.log" 2>&1
wait_port "$HTTP"
wait_port "$MHTTP"
wait_port "$XHTTP"

out=$(curl -sS --max-time 10 --cacert "$CERTS/root.pem" "https://localhost:$HTTP/index.html" 2>&1)
expect "terminate_tls: curl https:// to python3 -m http.server" "served through the shim" "$out"
expect_match "terminate_tls: the server logs the real client's address" \
	"127\.0\.0\.1 - - .*GET /index.html" "$(cat "$T/http.log")"
audit_mark
out=$(curl -sS --max-time 10 "http://127.0.0.1:$HTTP/index.html" 2>&1)
expect_no_match "terminate_tls: curl http:// (plaintext) is refused" "served through the shim" "$out"
expect_match "terminate_tls: plaintext client audited" "verdict=block dir=in .*reason=plaintext" \
	"$(audit_since)"
audit_mark
out=$(curl -sS --max-time 10 --cacert "$CERTS/root.pem" "https://localhost:$MHTTP/index.html" 2>&1)
expect_no_match "require_client_cert: curl without a client certificate is refused" \
	"served through the shim" "$out"
expect_match "require_client_cert: audited" "event=upgrade verdict=block dir=in .*reason=no_client_cert" \
	"$(audit_since)"
out=$(curl -sS --max-time 10 --cacert "$CERTS/root.pem" --cert "$CERTS/client.pem" \
	--key "$CERTS/client.key" "https://localhost:$MHTTP/index.html" 2>&1)
expect "require_client_cert: curl with a client certificate works" "served through the shim" "$out"
audit_mark
out=$(curl -sS --max-time 10 --cacert "$CERTS/root.pem" "https://localhost:$XHTTP/index.html" 2>&1)
expect_no_match "external = true: a certificate without a public root is not served" \
	"served through the shim" "$out"
expect_match "external = true: audited" "event=upgrade verdict=block dir=in .*rule=2" "$(audit_since)"

cat "$AUDIT_LOG" >"${TUNNEL_CORE_AUDIT_COPY:-/dev/null}"
exit 0
