# PostgreSQL's STARTTLS: psql (libpq) with sslmode=prefer and sslmode=require
# against real servers on loopback. prefer silently falls back to plaintext when
# the server says N; require does not verify the certificate. Under the shim
# neither may end in plaintext or in an unverified session.
. "$(dirname "$0")/lib.sh"

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$PGBIN" ] || ! command -v psql >/dev/null; then
	skip "postgres" "PostgreSQL is not installed (make deps installs it)"
	exit 0
fi

bash "$TOP/tests/lib/certs.sh" "$T/pki" >/dev/null
CA="$T/pki/root.pem"

# The server runs as an unprivileged user: postgres when we are root.
as_server() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# start_pg NAME PORT SSL CERT KEY: a server in $T/NAME listening on 127.0.0.1.
start_pg() {
	local dir="$T/$1"
	cp -a "$T/template" "$dir"
	mkdir -p "$dir/sock"
	if [ "$3" = on ]; then
		cp "$4" "$dir/server.crt" && cp "$5" "$dir/server.key"
		chmod 0600 "$dir/server.key"
	fi
	cat >>"$dir/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $2
unix_socket_directories = '$dir/sock'
ssl = $3
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
EOF
	[ "$(id -u)" -eq 0 ] && chown -R postgres "$dir"
	as_server "$PGBIN/pg_ctl" -D "$dir" -l "$dir/log" -w -t 30 start >/dev/null
}

mkdir "$T/template"
[ "$(id -u)" -eq 0 ] && chown postgres "$T/template" && chmod 0755 "$T"
as_server "$PGBIN/initdb" -D "$T/template" -A trust -U postgres --no-sync >/dev/null 2>&1 ||
	{ not_ok "postgres initdb" "initdb failed"; exit 1; }
echo "host all all 127.0.0.1/32 trust" >>"$T/template/pg_hba.conf"

PLAIN_PORT=$(free_port)
start_pg plain "$PLAIN_PORT" off
UNTRUSTED_PORT=$(free_port)
start_pg untrusted "$UNTRUSTED_PORT" on "$T/pki/untrusted.pem" "$T/pki/untrusted.key"
GOOD_PORT=$(free_port)
start_pg good "$GOOD_PORT" on "$T/pki/valid.pem" "$T/pki/valid.key"
stop_all() {
	local d
	for d in plain untrusted good; do
		as_server "$PGBIN/pg_ctl" -D "$T/$d" -m immediate stop >/dev/null 2>&1
	done
}
trap 'stop_all; scratch_cleanup' EXIT

start_audit_sink
POLICY="$T/policy.conf"
write_policy "$POLICY" <<EOF
version = 1;
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
tls = { ca_file = "$CA"; };
outbound = {
  default = "require_tls";
  rules = (
    { to = "127.0.0.1"; port = [ $PLAIN_PORT, $UNTRUSTED_PORT, $GOOD_PORT ];
      action = "require_tls"; starttls = "postgres"; }
  );
};
EOF

psql_run() { # psql_run PORT SSLMODE: prints the query result or the error
	shimmed psql "host=localhost hostaddr=127.0.0.1 port=$1 user=postgres dbname=postgres sslmode=$2 connect_timeout=5" \
		-Atc "select 'ssl=' || ssl from pg_stat_ssl where pid = pg_backend_pid()" 2>&1
}

for mode in prefer require; do
	out=$(psql_run "$PLAIN_PORT" "$mode")
	expect_no_match "psql sslmode=$mode, server ssl=off: no plaintext session" "ssl=" "$out"
	out=$(psql_run "$UNTRUSTED_PORT" "$mode")
	expect_no_match "psql sslmode=$mode, untrusted certificate: refused" "ssl=" "$out"
	out=$(psql_run "$GOOD_PORT" "$mode")
	expect "psql sslmode=$mode, trusted certificate: TLS session" "ssl=true" "$out"
done
if audit_lines | grep -Eq "peer=127\.0\.0\.1:$PLAIN_PORT .*reason=downgrade"; then
	ok "psql against ssl=off: audit reason=downgrade"
else
	not_ok "psql against ssl=off: audit reason=downgrade" "$(cat "$AUDIT_LOG")"
fi
if audit_lines | grep -Eq "peer=127\.0\.0\.1:$UNTRUSTED_PORT .*reason=cert_verify"; then
	ok "psql against an untrusted certificate: audit reason=cert_verify"
else
	not_ok "psql against an untrusted certificate: audit reason=cert_verify" "$(cat "$AUDIT_LOG")"
fi
