# outbound.dns at the API: under "deny" no DNS query leaves the process, from
# getaddrinfo, gethostbyname(_r), getnameinfo or res_query, although glibc's
# resolver writes its queries through libc-internal calls that no socket
# wrapper sees; hosts(5) names still resolve; the refusal is one audit event.
# Under "allow" (and in audit mode) the query reaches the name server.
#
# Runs in a user, mount and network namespace of its own: a loopback DNS
# responder on 127.0.0.1:53 there, and /etc/resolv.conf and /etc/hosts bind-
# mounted from files the test writes. Skipped where namespaces are not allowed.
. "$(dirname "$0")/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
PROBE="$TOP/$BUILD/tests/integration/programs/dnsprobe"

if ! unshare -rmn sh -c 'ip link set lo up && mount --bind /dev/null /etc/hosts' 2>/dev/null; then
	skip "dns" "cannot make a user, mount and network namespace here"
	exit 0
fi
start_audit_sink

printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$T/resolv.conf"
printf '127.0.0.1 localhost\n127.0.0.9 hostsonly.test hostsalias.test\n' >"$T/hosts"
for mode in deny allow; do
	write_policy "$T/$mode.conf" <<POL
version = 1;
mode = "enforce";
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
outbound = { default = "require_tls"; dns = "$mode"; };
POL
done
write_policy "$T/audit.conf" <<POL
version = 1;
mode = "audit";
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
outbound = { default = "require_tls"; dns = "deny"; };
POL

# The namespace's side: the responder, then every probe, one output file each
# ($T/out.CASE, with the exit status on the last line), and the responder's
# log per phase ($T/queries.PHASE).
cat >"$T/inner.sh" <<'INNER'
set -u
T=$1 PROBE=$2 SHIM=$3 HERE=$4
ip link set lo up
mount --bind "$T/resolv.conf" /etc/resolv.conf
mount --bind "$T/hosts" /etc/hosts
/usr/bin/python3 "$HERE/dns_responder.py" 127.0.0.1 53 "$T/queries" "$T/ready" &
resp=$!
for i in $(seq 1 200); do [ -e "$T/ready" ] && break; sleep 0.05; done
probe() { # probe CASE POLICY CMD...: runs CMD under the shim (POLICY "-": without)
	local name=$1 pol=$2
	shift 2
	if [ "$pol" = - ]; then
		timeout 30 "$@" >"$T/out.$name" 2>&1
	else
		LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$T/$pol.conf" timeout 30 "$@" >"$T/out.$name" 2>&1
	fi
	echo "rc=$?" >>"$T/out.$name"
}
phase() { # phase NAME: what the responder received since the last phase
	touch "$T/queries"
	mv "$T/queries" "$T/queries.$1"
}
probe deny_gai deny "$PROBE" gai dnsonly.test
probe deny_gai_hosts deny "$PROBE" gai hostsonly.test
probe deny_gai_alias deny "$PROBE" gai HOSTSALIAS.test
probe deny_gai_numeric deny "$PROBE" gai 192.0.2.1
probe deny_ghbn deny "$PROBE" ghbn dnsonly.test
probe deny_ghbn_hosts deny "$PROBE" ghbn hostsonly.test
probe deny_ghbn2r deny "$PROBE" ghbn2r dnsonly.test
probe deny_ghbn2r_hosts deny "$PROBE" ghbn2r hostsonly.test
probe deny_gni deny "$PROBE" gni 10.53.53.53
probe deny_gni_hosts deny "$PROBE" gni 127.0.0.9
probe deny_resq deny "$PROBE" resq dnsonly.test
probe deny_python deny /usr/bin/python3 -c 'import socket; print(socket.getaddrinfo("dnsonly.test", 80)[0][4][0])'
probe deny_getent deny getent ahosts dnsonly.test
probe deny_getent_hosts deny getent hosts hostsonly.test
phase deny
probe control_gai - "$PROBE" gai dnsonly.test
phase control
probe allow_gai allow "$PROBE" gai dnsonly.test
probe allow_resq allow "$PROBE" resq dnsonly.test
phase allow
probe audit_gai audit "$PROBE" gai dnsonly.test
phase audit
kill "$resp"
INNER
unshare -rmn bash "$T/inner.sh" "$T" "$PROBE" "$SHIM" "$HERE" >"$T/inner.log" 2>&1
expect "namespace side ran" 0 "$?"

out() { cat "$T/out.$1" 2>/dev/null; }

# --- without the shim, the responder answers: the test's resolver works ---
expect_match "no shim: getaddrinfo asks the name server" "^10\.53\.53\.53" "$(out control_gai)"
expect_match "no shim: the responder saw the query" "^dnsonly\.test 1" "$(cat "$T/queries.control")"

# --- dns = "deny": no query leaves, by any entry point ---
expect "deny: no query reached the name server" "" "$(cat "$T/queries.deny")"
expect_match "deny: getaddrinfo fails with EACCES" "^ERR System error errno=13" "$(out deny_gai)"
expect_match "deny: gethostbyname fails" "^ERR h_errno=3 " "$(out deny_ghbn)"
expect_match "deny: gethostbyname2_r fails" "^ERR rc=13 h_errno=3" "$(out deny_ghbn2r)"
expect_match "deny: getnameinfo(NI_NAMEREQD) fails" "^ERR System error" "$(out deny_gni)"
expect_match "deny: res_query fails with EACCES" "^ERR errno=13" "$(out deny_resq)"
expect_match "deny: python's getaddrinfo fails" "Errno|gaierror" "$(out deny_python)"
expect_match "deny: getent ahosts finds nothing" "rc=2" "$(out deny_getent)"
# hosts(5) and numeric addresses need no query
expect_match "deny: getaddrinfo of a hosts(5) name" "^127\.0\.0\.9" "$(out deny_gai_hosts)"
expect_match "deny: getaddrinfo of a hosts(5) alias, any case" "^127\.0\.0\.9" "$(out deny_gai_alias)"
expect_match "deny: getaddrinfo of a numeric address" "^192\.0\.2\.1" "$(out deny_gai_numeric)"
expect_match "deny: gethostbyname of a hosts(5) name" "^127\.0\.0\.9" "$(out deny_ghbn_hosts)"
expect_match "deny: gethostbyname2_r of a hosts(5) name" "^127\.0\.0\.9" "$(out deny_ghbn2r_hosts)"
expect_match "deny: getnameinfo of a hosts(5) address" "^hostsonly\.test" "$(out deny_gni_hosts)"
expect_match "deny: getent hosts of a hosts(5) name" "^127\.0\.0\.9 +hostsonly\.test" "$(out deny_getent_hosts)"
lines=$(audit_lines)
expect_match "deny: the refusal is an audit event" \
	'event=connect verdict=block dir=out proto=udp peer=127\.0\.0\.1:53 host=dnsonly\.test rule=default reason=denied detail="dns query refused by outbound\.dns" exe=[^ ]*/dnsprobe pid=[0-9]+' \
	"$lines"
# (getent hosts asks for AF_INET6 first, which hosts(5) cannot answer for this
# name: that lookup would have needed DNS and is recorded; getaddrinfo's is not.)
expect_no_match "deny: a hosts(5) name is no event" "host=hostsonly\.test .*dnsprobe" "$lines"

# --- dns = "allow": the query goes out as before ---
expect_match "allow: getaddrinfo asks the name server" "^10\.53\.53\.53" "$(out allow_gai)"
expect_match "allow: res_query gets an answer" "^LEN [0-9]+" "$(out allow_resq)"
expect_match "allow: the responder saw the queries" "^dnsonly\.test 1" "$(cat "$T/queries.allow")"

# --- audit mode: recorded, not refused ---
expect_match "audit mode: getaddrinfo still resolves" "^10\.53\.53\.53" "$(out audit_gai)"
expect_match "audit mode: the query went out" "^dnsonly\.test 1" "$(cat "$T/queries.audit")"
expect_match "audit mode: the event says audit" \
	'event=connect verdict=audit dir=out proto=udp peer=127\.0\.0\.1:53 host=dnsonly\.test rule=default reason=denied' \
	"$(audit_lines)"
