#!/bin/bash
# Real plaintext programs made TLS by the shim (issue 17; the engine's own
# semantics are in t_tunnel_core*.sh):
# - outbound upgrade_tls: redis-cli without --tls against a TLS-only
#   redis-server, bash /dev/tcp and python3 http.client against TLS servers,
#   psql "sslmode=disable" with starttls = "postgres" against a PostgreSQL whose
#   pg_hba.conf has only hostssl (and an ssl=off one: a downgrade), a program
#   that keeps one connection open for thousands of small writes;
# - the same clients against untrusted, expired and wrong-host servers:
#   refused, audited with the reason, and the recording server
#   (tls_recorder.py) never sees an application byte;
# - inbound terminate_tls: a forking C server and python3 -m http.server
#   reached by curl https:// (the test CA), curl http:// refused, and with
#   require_client_cert curl without a certificate refused, with one served;
#   the server's getpeername names the real client.
. "$(dirname "$0")/lib.sh"

PROGS="$TOP/$BUILD/tests/integration/programs"
bash "$TOP/tests/lib/certs.sh" "$T/pki" >/dev/null
PKI="$T/pki"
CA="$PKI/root.pem"
start_audit_sink

# recorder NAME CERT: a TLS server recording what it receives in $T/NAME.out;
# its port in PORT[NAME].
declare -A PORT
recorder() {
	run_bg "$PY" "$TOP/tests/integration/tls_recorder.py" "$PKI/$2.pem" "$PKI/$2.key" \
		"$T/$1.port" "$T/$1.out" 2>/dev/null
	wait_until test -s "$T/$1.port" || { not_ok "recorder $1" "did not start"; exit 1; }
	PORT[$1]=$(cat "$T/$1.port")
}
recorder good valid
recorder untrusted untrusted
recorder expired expired
recorder wronghost wronghost
recorder small valid

# redis-server on TLS only (port 0: no plaintext port at all).
REDIS_PORT=$(free_port)
have_redis=0
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
	run_bg redis-server --port 0 --tls-port "$REDIS_PORT" --bind 127.0.0.1 \
		--tls-cert-file "$PKI/valid.pem" --tls-key-file "$PKI/valid.key" \
		--tls-ca-cert-file "$CA" --tls-auth-clients no --save '' --appendonly no \
		--dir "$T" --logfile "$T/redis.log"
	wait_port "$REDIS_PORT" && have_redis=1
fi

# openssl s_server -WWW serving a file, for python3 http.client.
mkdir -p "$T/www" && echo "hello over an upgraded connection" >"$T/www/index.html"
WWW_PORT=$(free_port)
(cd "$T/www" && exec openssl s_server -quiet -WWW -accept "127.0.0.1:$WWW_PORT" \
	-cert "$PKI/valid.pem" -key "$PKI/valid.key" -cert_chain "$PKI/inter.pem" </dev/null >/dev/null 2>&1) &
BG_PIDS+=($!)
wait_port "$WWW_PORT"

FORK_PORT=$(free_port)
MTLS_PORT=$(free_port)
HTTP_PORT=$(free_port)
POLICY="$T/policy.conf"
write_policy "$POLICY" <<EOF
version = 1;
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
tls = { ca_file = "$CA"; };
outbound = {
  default = "require_tls";
  rules = (
    { to = "127.0.0.1";
      port = [ $REDIS_PORT, $WWW_PORT, ${PORT[good]}, ${PORT[untrusted]}, ${PORT[expired]},
               ${PORT[wronghost]}, ${PORT[small]} ];
      action = "upgrade_tls"; }
  );
};
inbound = {
  default = "allow";
  rules = (
    { port = [ $FORK_PORT, $HTTP_PORT ]; action = "terminate_tls";
      tls = { cert_file = "$PKI/valid.pem"; key_file = "$PKI/valid.key"; }; },
    { port = $MTLS_PORT; action = "terminate_tls";
      tls = { cert_file = "$PKI/valid.pem"; key_file = "$PKI/valid.key";
              require_client_cert = true; client_ca_file = "$PKI/client-ca.pem"; }; }
  );
};
EOF

# audited NAME REGEX: an audit line matching REGEX arrived.
audited() {
	if audit_lines | grep -Eq -- "$2"; then ok "$1"; else not_ok "$1" "no /$2/ in: $(cat "$AUDIT_LOG")"; fi
}
# nothing_recorded NAME: the recording server NAME saw no application byte.
nothing_recorded() {
	if [ -s "$T/$1.out" ]; then
		not_ok "$1 server saw no application byte" "it recorded: $(head -c 200 "$T/$1.out")"
	else
		ok "$1 server saw no application byte"
	fi
}

# shellcheck disable=SC2016 # the inner shell expands them
devtcp() {
	shimmed bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
printf "hello from bash\n" >&3 || exit 1
read -r -t 10 line <&3 || exit 1
echo "$line"' devtcp "$1" 2>&1
}

# --- outbound: redis-cli without --tls ------------------------------------------
if [ "$have_redis" = 1 ]; then
	out=$(timeout 10 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" PING 2>&1)
	expect_no_match "redis-cli without the shim cannot talk to a TLS-only server" "^PONG$" "$out"
	expect "redis-cli upgraded: PING" "PONG" "$(shimmed redis-cli -h 127.0.0.1 -p "$REDIS_PORT" PING 2>&1)"
	expect "redis-cli upgraded: SET" "OK" \
		"$(shimmed redis-cli -h 127.0.0.1 -p "$REDIS_PORT" SET tunnel "over TLS" 2>&1)"
	expect "redis-cli upgraded: GET" "over TLS" \
		"$(shimmed redis-cli -h 127.0.0.1 -p "$REDIS_PORT" GET tunnel 2>&1)"
	# several commands on one connection, read from standard input
	out=$(printf 'INCR n\nINCR n\nINCR n\nGET n\n' |
		shimmed redis-cli -h 127.0.0.1 -p "$REDIS_PORT" 2>&1 | tr '\n' ' ')
	expect "redis-cli upgraded: a pipeline on one connection" "1 2 3 3 " "$out"
else
	skip "redis-cli upgraded" "redis-server or redis-cli is not installed (make deps)"
fi
if command -v redis-cli >/dev/null; then
	out=$(shimmed redis-cli -h 127.0.0.1 -p "${PORT[untrusted]}" PING 2>&1)
	expect_match "redis-cli against an untrusted server: refused" "Connection refused" "$out"
else
	out=$(devtcp "${PORT[untrusted]}")
	expect_no_match "bash /dev/tcp against an untrusted server: refused" "^ok$" "$out"
fi
audited "redis-cli untrusted: audited cert_verify" \
	"verdict=block .*peer=127\.0\.0\.1:${PORT[untrusted]} .*reason=cert_verify"
nothing_recorded untrusted

# --- outbound: bash /dev/tcp ----------------------------------------------------
expect "bash /dev/tcp upgraded: the server's answer" "ok" "$(devtcp "${PORT[good]}")"
wait_until grep -qs "hello from bash" "$T/good.out"
expect "bash /dev/tcp upgraded: the server got the bytes, decrypted" "hello from bash" \
	"$(cat "$T/good.out" 2>/dev/null)"
out=$(devtcp "${PORT[expired]}")
expect_match "bash /dev/tcp against an expired certificate: refused as a refused connection" "Connection refused" "$out"
audited "expired: audited cert_verify" "verdict=block .*peer=127\.0\.0\.1:${PORT[expired]} .*reason=cert_verify"
nothing_recorded expired
out=$(devtcp "${PORT[wronghost]}")
expect_match "bash /dev/tcp against a wrong-host certificate: refused as a refused connection" "Connection refused" "$out"
audited "wrong host: audited hostname" "verdict=block .*peer=127\.0\.0\.1:${PORT[wronghost]} .*reason=hostname"
nothing_recorded wronghost

# --- exec: bash opens the upgraded connection, the program it execs uses it ------
recorder execd valid
write_policy "$T/exec.conf" <<EOF
version = 1;
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
tls = { ca_file = "$CA"; };
outbound = { rules = ( { to = "127.0.0.1"; port = ${PORT[execd]}; action = "upgrade_tls"; } ); };
EOF
cat >"$T/after_exec.py" <<'PYEOF'
import socket
s = socket.socket(fileno=3)
s.settimeout(10)
s.sendall(b"after exec\n")
got = b""
while got.count(b"ok") < 2:
    b = s.recv(100)
    if not b:
        break
    got += b
print(s.getpeername()[1], got.count(b"ok"))
PYEOF
# shellcheck disable=SC2016 # the inner shell's arguments
out=$(POLICY="$T/exec.conf" shimmed bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
printf "before exec\n" >&3
exec "$2" "$3"' bash "${PORT[execd]}" "$PY" "$T/after_exec.py" 2>&1)
expect "exec: the new image keeps the upgraded connection (getpeername, answers)" "${PORT[execd]} 2" "$out"
wait_until grep -qs "after exec" "$T/execd.out"
expect "exec: the server got both sides' bytes, in order" "before exec|after exec" \
	"$(tr '\n' '|' <"$T/execd.out" 2>/dev/null | sed 's/|$//')"

# --- urgent data cannot cross a tunnel: refused, never dropped silently ---------
out=$(shimmed "$PY" - "${PORT[good]}" <<'PYEOF' 2>&1
import errno, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
try:
    s.send(b"!", socket.MSG_OOB)
    print("accepted")
except OSError as e:
    # EOPNOTSUPP and ENOTSUP are one number on Linux; errorcode names it ENOTSUP
    print("EOPNOTSUPP" if e.errno == errno.EOPNOTSUPP else errno.errorcode.get(e.errno, e.errno))
PYEOF
)
expect "MSG_OOB on an upgraded connection fails with EOPNOTSUPP" "EOPNOTSUPP" "$out"

# --- outbound: python3 http.client to http:// -----------------------------------
out=$(shimmed "$PY" - "$WWW_PORT" <<'PYEOF' 2>&1
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
c.request("GET", "/index.html")
r = c.getresponse()
print(r.status, r.read().decode().strip())
PYEOF
)
expect "python3 http.client to http:// upgraded" "200 hello over an upgraded connection" "$out"

# --- outbound: thousands of small writes on one connection ----------------------
out=$(shimmed "$PY" - "${PORT[small]}" <<'PYEOF' 2>&1
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
for i in range(5000):
    s.send(b"line %d\n" % i)          # one write(2) each
s.shutdown(socket.SHUT_WR)            # close_notify: the server sees the end
got = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    got += b
print("answers", got.count(b"ok\n") > 0, "eof")
PYEOF
)
expect "5000 small writes: the connection stays up to the end" "answers True eof" "$out"
seq 0 4999 | sed 's/^/line /' >"$T/small.want"
if cmp -s "$T/small.want" "$T/small.out"; then
	ok "5000 small writes: every byte arrived, in order"
else
	not_ok "5000 small writes: every byte arrived, in order" \
		"$(cat "$T/small.out" 2>/dev/null | wc -c) of $(wc -c <"$T/small.want") bytes"
fi

# --- inbound: a forking C server and python3 -m http.server ---------------------
run_bg env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$POLICY" "$PROGS/tunnel_fork_server" "$FORK_PORT" \
	"$T/fork.port"
run_bg env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$POLICY" "$PROGS/tunnel_fork_server" "$MTLS_PORT" \
	"$T/mtls.port"
run_bg env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$POLICY" "$PY" -m http.server --bind 127.0.0.1 \
	--directory "$T/www" "$HTTP_PORT" >/dev/null 2>&1
wait_until test -s "$T/fork.port" && wait_until test -s "$T/mtls.port"
wait_port "$HTTP_PORT"

c1=$(curl -sS --max-time 10 --cacert "$CA" "https://localhost:$FORK_PORT/" 2>&1)
c2=$(curl -sS --max-time 10 --cacert "$CA" "https://localhost:$FORK_PORT/" 2>&1)
expect_match "forking server under terminate_tls: curl https:// works" "^forked pid=[0-9]+ peer=" "$c1"
expect_match "forking server: getpeername is the real client" "peer=127\.0\.0\.1$" "$c1"
if [ "${c1%% peer=*}" != "${c2%% peer=*}" ]; then
	ok "forking server: each connection served by its own child"
else
	not_ok "forking server: each connection served by its own child" "$c1 / $c2"
fi
out=$(curl -sS --max-time 10 "http://127.0.0.1:$FORK_PORT/" 2>&1)
rc=$?
expect_no_match "forking server: curl http:// refused" "forked pid" "$out"
expect_match "forking server: curl http:// fails" "^(52|56|35)$" "$rc"
audited "forking server: the plaintext client is audited" \
	"dir=in .*reason=plaintext"
out=$(curl -sS --max-time 10 "https://localhost:$FORK_PORT/" 2>&1)
expect_no_match "curl without the test CA does not trust the served certificate" "forked pid" "$out"

out=$(curl -sS --max-time 10 --cacert "$CA" "https://localhost:$HTTP_PORT/index.html" 2>&1)
expect "python3 -m http.server under terminate_tls: curl https:// works" \
	"hello over an upgraded connection" "$out"

out=$(curl -sS --max-time 10 --cacert "$CA" "https://localhost:$MTLS_PORT/" 2>&1)
expect_no_match "require_client_cert: curl without a certificate refused" "forked pid" "$out"
audited "require_client_cert: audited no_client_cert" "dir=in .*reason=no_client_cert"
out=$(curl -sS --max-time 10 --cacert "$CA" --cert "$PKI/client.pem" --key "$PKI/client.key" \
	"https://localhost:$MTLS_PORT/" 2>&1)
expect_match "require_client_cert: curl with a client certificate served" "^forked pid=[0-9]+ peer=127" "$out"

# --- outbound: psql sslmode=disable, starttls = "postgres" -------------------------
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$PGBIN" ] || ! command -v psql >/dev/null; then
	skip "psql upgraded" "PostgreSQL is not installed (make deps installs it)"
	exit 0
fi
as_server() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
# start_pg NAME PORT SSL HBA_LINE
start_pg() {
	local dir="$T/$1"
	cp -a "$T/pgtemplate" "$dir"
	mkdir -p "$dir/sock"
	cp "$PKI/valid.pem" "$dir/server.crt" && cp "$PKI/valid.key" "$dir/server.key"
	chmod 0600 "$dir/server.key"
	printf 'local all all trust\n%s\n' "$4" >"$dir/pg_hba.conf"
	cat >>"$dir/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $2
unix_socket_directories = '$dir/sock'
ssl = $3
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
fsync = off
EOF
	[ "$(id -u)" -eq 0 ] && chown -R postgres "$dir"
	as_server "$PGBIN/pg_ctl" -D "$dir" -l "$dir/log" -w -t 30 start >/dev/null
}
mkdir "$T/pgtemplate"
[ "$(id -u)" -eq 0 ] && chown postgres "$T/pgtemplate" && chmod 0755 "$T"
as_server "$PGBIN/initdb" -D "$T/pgtemplate" -A trust -U postgres --no-sync >/dev/null 2>&1 ||
	{ not_ok "postgres initdb" "initdb failed"; exit 1; }
PG_PORT=$(free_port)
PGOFF_PORT=$(free_port)
start_pg tlsonly "$PG_PORT" on "hostssl all all 127.0.0.1/32 trust"
start_pg ssloff "$PGOFF_PORT" off "host all all 127.0.0.1/32 trust"
trap 'for d in tlsonly ssloff; do as_server "$PGBIN/pg_ctl" -D "$T/$d" -m immediate stop >/dev/null 2>&1; done; scratch_cleanup' EXIT

PG_POLICY="$T/pg.conf"
write_policy "$PG_POLICY" <<EOF
version = 1;
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
tls = { ca_file = "$CA"; };
outbound = {
  rules = ( { to = "127.0.0.1"; port = [ $PG_PORT, $PGOFF_PORT ]; action = "upgrade_tls";
              starttls = "postgres"; tls = { server_name = "localhost"; }; } );
};
EOF
# psql_q PORT [CMD...]: the session's ssl flag, or psql's error; CMD prefixes psql
psql_q() {
	local port=$1
	shift
	"$@" psql "host=127.0.0.1 port=$port user=postgres dbname=postgres sslmode=disable connect_timeout=5" \
		-Atc "select 'ssl=' || ssl from pg_stat_ssl where pid = pg_backend_pid()" 2>&1
}
upgraded() { LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$PG_POLICY" timeout -k 5 60 "$@"; }
expect_match "psql sslmode=disable without the shim: refused by the hostssl-only server" \
	"no pg_hba.conf entry|no encryption" "$(psql_q "$PG_PORT" timeout 20)"
expect "psql sslmode=disable upgraded: a TLS session on a hostssl-only server" "ssl=true" \
	"$(psql_q "$PG_PORT" upgraded)"
out=$(psql_q "$PGOFF_PORT" upgraded)
expect_no_match "psql upgraded against an ssl=off server: refused" "ssl=" "$out"
audited "psql against ssl=off: audited downgrade" "peer=127\.0\.0\.1:$PGOFF_PORT .*reason=downgrade"
