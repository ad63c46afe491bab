#!/bin/bash
# Tunnels, the direct path (shim/tunnel/direct.c): in the process that pumps a
# tunnel, plain reads and writes run on the tunnel's SSL in the caller's
# thread, every other call goes through the pair and the pump. What a program
# must not notice: the order of its bytes when it mixes the two (writev, sendmsg,
# MSG_MORE, stdio, a forked child), poll() seeing bytes a short read left in
# libssl, SO_RCVTIMEO, EINTR and SA_RESTART, edge-triggered epoll, MSG_PEEK,
# a peer's reset without SIGPIPE, a write after shutdown(SHUT_WR) (EPIPE), a
# blocking write that writes everything,
# and a plaintext server (terminate_tls) doing request/response.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"
. "$(dirname "$0")/lib_tunnel.sh"

peer orderout echo1
peer orderstdio echo1
peer orderfork echo1
peer big echo1
peer aftershut echo1
peer burst burst
peer pollburst smallburst
peer silent collect
peer bulk bulk
peer drip drip
peer late late
peer reset reset
SERVE=$(new_port)

POLICY="$T/policy.conf"
{
	cat <<-EOF
		version = 1;
		audit = { socket = "$AUDIT_SOCK"; stderr = false; };
		outbound = { default = "allow"; rules = (
	EOF
	for name in "${!PORTS[@]}"; do
		printf '    { to = "127.0.0.1"; port = %s; action = "upgrade_tls"; tls = { ca_file = "%s"; }; },\n' \
			"${PORTS[$name]}" "$CERTS/root.pem"
	done
	cat <<-EOF
		    { port = 1; action = "deny"; }
		); };
		inbound = { default = "allow"; rules = (
		    { port = $SERVE; action = "terminate_tls";
		      tls = { cert_file = "$CERTS/valid.pem"; key_file = "$CERTS/valid.key"; }; }
		); };
	EOF
} | write_policy "$POLICY"
"$CLI" check "$POLICY" >/dev/null 2>&1 || not_ok "policy" "$("$CLI" check "$POLICY" 2>&1)"

# expect_ms NAME LO HI TEXT: the ms=N in TEXT is within [LO, HI].
expect_ms() {
	local ms
	ms=$(printf '%s' "$4" | sed -n 's/.* ms=\([0-9]*\).*/\1/p' | head -1)
	if [ -n "$ms" ] && [ "$ms" -ge "$2" ] && [ "$ms" -le "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "want ms in [$2, $3], got [$4]"
	fi
}

# expect_same NAME WANT-FILE GOT-FILE: the files are byte for byte the same.
expect_same() {
	local where
	if where=$(cmp "$2" "$3" 2>&1); then
		ok "$1"
	else
		not_ok "$1" "$where ($(wc -c <"$2") bytes sent, $(wc -c <"$3") received)"
	fi
}

# ---- the order of the program's bytes on the way out ----

for mode in orderout orderstdio orderfork; do
	out=$(shimmed "$CLIENT" "$mode" "${PORTS[$mode]}" "$T/$mode.sent" 2>&1)
	expect_match "$mode: the exchange ends with close_notify" "close_notify=yes" "$out"
	# the peer answers once it has logged everything it received
	expect_same "$mode: the peer received every byte in the order sent" \
		"$T/$mode.sent" "$T/$mode.log"
done

out=$(shimmed "$CLIENT" bigwrite "${PORTS[big]}" 300000 2>&1)
expect_match "one blocking write() of 300000 bytes writes them all" "bigwrite: n=300000$" "$out"
expect_match "bigwrite: the peer got them all" "got=300006 close_notify=yes" "$out"

# ---- on the way in ----

# bulk: 200 KiB at once; drip: in 4 KiB pieces 10 ms apart, so that reads
# find nothing ready and wait on the tunnel's SSL (empty=N), leaving the rest
# of a record in libssl for the next poll
for mode in bulk drip; do
	out=$(shimmed "$CLIENT" smallreads "${PORTS[$mode]}" 204800 2>&1)
	expect_match "$mode: reads of 1..100 bytes, poll after a wait: no timeout, every byte right" \
		"^smallreads got=204800 bad=0 timeouts=0" "$out"
done
expect_match "drip: reads found nothing ready and waited" "empty=([2-9]|[1-9][0-9]+)$" "$out"

out=$(shimmed "$CLIENT" rcvtimeo "${PORTS[silent]}" 2>&1)
expect_match "SO_RCVTIMEO 300 ms, silent peer: read fails with EAGAIN" "n=-1 errno=EAGAIN" "$out"
expect_ms "SO_RCVTIMEO 300 ms: after about 0.3 s" 200 3000 "$out"

out=$(shimmed "$CLIENT" eintr "${PORTS[silent]}" 2>&1)
expect_match "handler without SA_RESTART: the blocking read fails with EINTR" \
	"n=-1 errno=EINTR .*alarms=1" "$out"
expect_ms "EINTR: after about 0.3 s" 200 3000 "$out"

out=$(shimmed "$CLIENT" restart "${PORTS[late]}" 2>&1)
expect_match "handler with SA_RESTART: the read goes on and returns the peer's line" \
	"got=\[late\] .*alarms=1" "$out"

# a handler that jumps out of the read (an old-style timeout): the pump takes
# the socket back from the reader that never returns, so poll still wakes
out=$(shimmed "$CLIENT" jumpout "${PORTS[late]}" 2>&1)
expect_match "a handler that jumps out of a blocking read: poll and read still get the later line" \
	"got=\[late\] alarms=1" "$out"

out=$(shimmed "$CLIENT" etlate "${PORTS[late]}" 2>&1)
expect_match "edge-triggered epoll: nothing at first" "before=\[\]" "$out"
expect_match "edge-triggered epoll: woken for each later line, which read gets" \
	"got=\[late,later,\]" "$out"

out=$(shimmed "$CLIENT" peek "${PORTS[late]}" 2>&1)
expect "MSG_PEEK after a short read, then read: the same bytes" \
	"peek: head=[la] peeked=[te] read=[te]" "$out"

out=$(shimmed "$CLIENT" sigpipe "${PORTS[reset]}" 2>&1)
rc=$?
expect "a peer's reset: the program is not killed by SIGPIPE" 0 "$rc"
expect_match "a peer's reset: send(MSG_NOSIGNAL) fails with EPIPE or ECONNRESET" \
	"send failed errno=(EPIPE|ECONNRESET|ECONNREFUSED)" "$out"

out=$(shimmed "$CLIENT" burst "${PORTS[burst]}" 2>&1)
expect_match "records read ahead with the one a read returned: poll sees them at once" \
	"burst: lines=20 timeouts=0" "$out"

out=$(shimmed "$CLIENT" pollburst "${PORTS[pollburst]}" 2>&1)
expect_match "520 small records at once, the program in poll: the pump decrypts them all" \
	"pollburst: lines=520 timeouts=0" "$out"

out=$(shimmed "$CLIENT" aftershut "${PORTS[aftershut]}" 2>&1)
expect_match "a write after shutdown(SHUT_WR) fails with EPIPE" "after_shut=EPIPE" "$out"
expect_match "shutdown(SHUT_WR): the peer got what came before, then close_notify, nothing after" \
	"got=13 close_notify=yes lines=before:1,first:1$" "$out"

# ---- inbound: a plaintext server's request/response ----

LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$POLICY" run_bg timeout -k 5 60 "$CLIENT" serve "$SERVE" \
	"$T/serve.port" 1000 >"$T/serve.out" 2>&1
SERVER_PID=${BG_PIDS[-1]}
wait_file "$T/serve.port" || not_ok "serve" "the server did not start"
out=$("$PY" - "$SERVE" "$CERTS/root.pem" 2>&1 <<'PYEOF'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
right = wrong = 0
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        f = s.makefile("rb")
        for i in range(1000):
            # now and then a request of several records
            req = b"req %d %s\n" % (i, b"x" * (40000 if i % 100 == 7 else i % 50))
            s.sendall(req)
            if f.readline() == b"echo " + req:
                right += 1
            else:
                wrong += 1
print("right=%d wrong=%d" % (right, wrong))
PYEOF
)
expect "terminate_tls: 1000 requests, every answer right" "right=1000 wrong=0" "$out"
wait "$SERVER_PID"
expect "terminate_tls: the server answered 1000 requests" "served=1000" "$(cat "$T/serve.out")"

exit 0
