#!/bin/bash
# examples/rsyslog/tlsguard.conf for real: two rsyslogd instances on loopback,
# a host (its own imuxsock socket is the shim's audit.socket, the snippet's
# rules with the test's CA and certificates) and a collector (imtcp with TLS,
# x509/name both ways, examples/rsyslog/collector.conf). Shimmed programs are
# blocked (a plaintext write, 100 denied connects in a burst); every event must
# arrive, in the host's own file and at the collector under the host's name,
# and none may fall back to the program's stderr.
. "$(dirname "$0")/lib.sh"

EX="$TOP/examples/rsyslog"
RSYSLOGD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
if [ ! -x "$RSYSLOGD" ]; then
	skip "rsyslog forwarding" "rsyslogd is not installed"
	exit 0
fi
if ! "$RSYSLOGD" -v 2>/dev/null | grep -q .; then
	skip "rsyslog forwarding" "rsyslogd does not run here"
	exit 0
fi
if [ ! -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so ] &&
	! find /usr/lib -name lmnsd_gtls.so 2>/dev/null | grep -q .; then
	skip "rsyslog forwarding" "rsyslog-gnutls (lmnsd_gtls) is not installed"
	exit 0
fi

HOSTNAME_A=tlsguard-host-a
# The certificates: a CA, the collector (collector.test) and the host (host.test).
mkdir -p "$T/pki"
(
	cd "$T/pki" || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
		-subj "/CN=tlsguard test log CA" -days 2 -out ca.pem \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
	for name in collector host; do
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$name.key" \
			-subj "/CN=$name.test" -out "$name.csr" 2>/dev/null
		printf 'subjectAltName=DNS:%s.test\nextendedKeyUsage=serverAuth,clientAuth\n' "$name" >"$name.ext"
		openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
			-extfile "$name.ext" -out "$name.pem" 2>/dev/null
	done
)
if [ ! -s "$T/pki/host.pem" ]; then
	not_ok "test certificates" "openssl could not make them"
	exit 0
fi

PORT=$(free_port)
mkdir -p "$T/collector-work" "$T/host-work" "$T/collector-logs"

# The collector: the shipped collector.conf, placeholders filled in.
{
	echo "global(workDirectory=\"$T/collector-work\")"
	sed -e "s|@CA_FILE@|$T/pki/ca.pem|; s|@CERT_FILE@|$T/pki/collector.pem|" \
		-e "s|@KEY_FILE@|$T/pki/collector.key|; s|@PORT@|$PORT|" \
		-e "s|@PERMITTED_PEERS@|host.test|; s|/var/log/tlsguard/|$T/collector-logs/|" \
		"$EX/collector.conf"
} >"$T/collector.conf"

# The host: its own imuxsock socket, a distinct host name, and the shipped
# snippet with the collector's address and the test's certificates.
HOST_SOCK="$T/host-log.sock"
{
	cat <<CONF
global(workDirectory="$T/host-work" localHostname="$HOSTNAME_A")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" socket="$HOST_SOCK" ratelimit.interval="0")
CONF
	sed -e "s|@COLLECTOR@|127.0.0.1|; s|@COLLECTOR_PORT@|$PORT|" \
		-e "s|@COLLECTOR_NAME@|collector.test|; s|@CA_FILE@|$T/pki/ca.pem|" \
		-e "s|@CERT_FILE@|$T/pki/host.pem|; s|@KEY_FILE@|$T/pki/host.key|" \
		-e "s|/var/log/tlsguard.log|$T/host-tlsguard.log|" \
		"$EX/tlsguard.conf"
} >"$T/host.conf"

for conf in collector host; do
	if ! "$RSYSLOGD" -N1 -f "$T/$conf.conf" >"$T/$conf.check" 2>&1; then
		not_ok "rsyslogd -N1 accepts the $conf configuration" "$(tail -5 "$T/$conf.check")"
		exit 0
	fi
done
ok "rsyslogd -N1 accepts the shipped snippets (host and collector)"

run_bg "$RSYSLOGD" -n -f "$T/collector.conf" -i "$T/collector.pid" >"$T/collector.out" 2>&1
if ! wait_port "$PORT"; then
	skip "rsyslog forwarding" "the collector rsyslogd did not listen: $(tail -3 "$T/collector.out")"
	exit 0
fi
run_bg "$RSYSLOGD" -n -f "$T/host.conf" -i "$T/host.pid" >"$T/host.out" 2>&1
if ! wait_file "$HOST_SOCK"; then
	skip "rsyslog forwarding" "the host rsyslogd did not start: $(tail -3 "$T/host.out")"
	exit 0
fi

POLICY="$T/policy.conf"
write_policy "$POLICY" <<CONF
version = 1;
audit = { socket = "$HOST_SOCK"; stderr = false; };
outbound = {
  default = "require_tls";
  rules = ( { to = "127.0.0.1"; port = 9; action = "deny"; } );
};
inbound = { default = "allow"; };
CONF

# A plaintext server the shimmed client must not reach.
run_bg "$PY" "$TOP/tests/integration/sink_server.py" "$T/sink.port" "$T/sink.out"
wait_file "$T/sink.port" && wait_until test -s "$T/sink.port"
SINK_PORT=$(cat "$T/sink.port")

shimmed "$PY" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
try:
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
except OSError as e:
    print("refused", e.errno)' "$SINK_PORT" >"$T/plain.out" 2>"$T/plain.err"
expect_match "plaintext write refused" "refused 13" "$(cat "$T/plain.out")"

# 100 denied connects at once: within the rate limit, each one an event; the
# host's socket queue (max_dgram_qlen) is far smaller, so the sender must wait.
shimmed "$PY" -c '
import socket
refused = 0
for i in range(100):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", 9))
    except PermissionError:
        refused += 1
    s.close()
print(refused)' >"$T/burst.out" 2>"$T/burst.err"
expect "100 denied connects refused" "100" "$(cat "$T/burst.out")"
expect "no event fell back to the programs' stderr" "" "$(cat "$T/plain.err" "$T/burst.err")"

count_events() { cat "$@" 2>/dev/null | grep -c 'tlsguard\[[0-9]*\]: event='; }
collector_has() { [ "$(count_events "$T"/collector-logs/*.log)" -ge "$1" ]; }
host_has() { [ "$(count_events "$T/host-tlsguard.log")" -ge "$1" ]; }

wait_until host_has 101
expect "the host files all 101 events in its own log" "101" "$(count_events "$T/host-tlsguard.log")"
for i in 1 2 3; do wait_until collector_has 101 && break; done
expect "the collector received all 101 events over TLS" "101" "$(count_events "$T"/collector-logs/*.log)"
expect "the collector files them under the host's name" "$HOSTNAME_A.log" \
	"$(cd "$T/collector-logs" && ls)"
expect "every collected line names the host" "0" \
	"$(grep -vc " $HOSTNAME_A tlsguard\[" "$T/collector-logs/$HOSTNAME_A.log")"
expect "the plaintext block is there" "1" \
	"$(grep -c 'event=plaintext verdict=block dir=out proto=tcp' "$T/collector-logs/$HOSTNAME_A.log")"
expect_match "lines carry the year and time zone" "^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:.]+([+-][0-9][0-9]:[0-9][0-9]|Z) $HOSTNAME_A " \
	"$(head -1 "$T/collector-logs/$HOSTNAME_A.log")"
expect "nothing reached the plaintext server" "" "$(cat "$T/sink.out" 2>/dev/null)"

# The collector's files are what `tlsguard report` reads, grouped by host.
out=$("$CLI" report "$T"/collector-logs/*.log 2>&1)
expect_match "report reads the collector's file: 101 events" "101 events" "$out"
expect_match "report names the host" "$HOSTNAME_A" "$out"
