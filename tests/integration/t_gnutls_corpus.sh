#!/bin/bash
# The certificate corpus (tests/lib/cert_corpus.sh: 68 server chains, each
# with the verdict of a correctly configured client and the reason a refusal
# deserves; t_cert_corpus.sh checks the table against a reference client and
# libssl programs) against GnuTLS programs under the shim (issue 16: GnuTLS
# sessions are governed exactly as SSLs are):
#
#   gnutls-corpus/CASE        careless_gnutls_client in mode all (accept-all
#                             verify functions, every loosening flag, TLS 1.0
#                             allowed), naming the case's host with
#                             gnutls_server_name_set (by address for an IP host);
#   gnutls-corpus/CASE/rule   careless_gnutls_client in mode none (no name, no
#                             verification) with a rule whose server_name is
#                             the case's host.
#
# Each must reach the table's verdict; a refusal leaves exactly one block event
# with the table's reason, an acceptance none (GnuTLS itself refuses a few
# certificates whatever the program asks; for those, checked by running the
# same client without the shim, the refusal is enough). Controls: without the
# shim the careless client takes an expired and a wrong-host certificate.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"

CORPUS="$T/corpus"
bash "$TOP/tests/lib/cert_corpus.sh" "$CORPUS" >"$T/corpus.log" 2>&1 ||
	{ not_ok "corpus: tests/lib/cert_corpus.sh failed" "$(tail -5 "$T/corpus.log")"; exit 1; }
start_audit_sink

# One port per case, all held bound until every one is chosen (as
# t_cert_corpus.sh does), then one openssl s_server -www per case at security
# level 0 (it must load the weak keys the corpus is about; the client judges).
"$PY" -S - "$(wc -l <"$CORPUS/cases")" >"$T/portlist" <<'PYEOF'
import random, socket, sys
held = []
while len(held) < int(sys.argv[1]):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", random.randrange(20000, 32768)))
    except OSError:
        s.close()
        continue
    held.append(s)
print("\n".join(str(s.getsockname()[1]) for s in held))
PYEOF
: >"$T/ports"
while IFS=$'\t' read -r name leaf key chain anchor host expect reason <&3 && read -r port <&4; do
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$port" "$anchor" "$host" "$expect" "$reason" >>"$T/ports"
	chain_arg=()
	[ "$chain" != - ] && chain_arg=(-cert_chain "$chain")
	run_bg openssl s_server -quiet -www -accept "127.0.0.1:$port" -cert "$leaf" -key "$key" \
		"${chain_arg[@]}" -cipher 'DEFAULT:@SECLEVEL=0' </dev/null >"$T/server-$name.log" 2>&1
done 3<"$CORPUS/cases" 4<"$T/portlist"

is_ip() { [[ $1 =~ ^[0-9.]+$ ]]; }

# Two policies: the corpus root in tls.ca_file and a rule per case whose anchor
# is another; the second also names each case's host in server_name.
policy_text() { # WITH_SERVER_NAME(0|1)
	local root="$CORPUS/root.crt" name port anchor host expect reason tls
	cat <<CONF
version = 1;
mode = "enforce";
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
tls = { ca_file = "$root"; verify_hostname = true; };
inbound = { default = "allow"; };
outbound = {
  default = "require_tls";
  rules = (
CONF
	while IFS=$'\t' read -r name port anchor host expect reason; do
		tls=""
		[ "$anchor" != "$root" ] && tls="ca_file = \"$anchor\"; "
		[ "$1" = 1 ] && ! is_ip "$host" && tls="${tls}server_name = \"$host\"; "
		[ -n "$tls" ] && printf '    { to = "127.0.0.1"; port = %s; action = "require_tls"; tls = { %s}; },\n' \
			"$port" "$tls"
	done <"$T/ports"
	printf '    { to = "127.0.0.1"; port = 1; action = "deny"; }\n  );\n};\n'
}
POLICY="$T/policy.conf"
policy_text 0 | write_policy "$POLICY"
policy_text 1 | write_policy "$T/server_name.conf"

# Readiness: every server accepts a connection (one process polls them all).
"$PY" -S - "$T/ports" >"$T/not-ready" <<'PYEOF'
import socket, sys, time
waiting = dict(l.split("\t")[:2] for l in open(sys.argv[1]))
deadline = time.monotonic() + 60
while waiting and time.monotonic() < deadline:
    for name, port in list(waiting.items()):
        try:
            socket.create_connection(("127.0.0.1", int(port)), 1).close()
            del waiting[name]
        except OSError:
            pass
    time.sleep(0.05)
print("\n".join(waiting))
PYEOF
while read -r name; do
	[ -n "$name" ] && not_ok "gnutls-corpus/$name/server" "openssl s_server did not start: $(cat "$T/server-$name.log")"
done <"$T/not-ready"

# --- controls: without the shim the careless client takes bad certificates -------
port_of() { awk -F'\t' -v n="$1" '$1 == n { print $2 }' "$T/ports"; }
"$CARELESS_GNUTLS" -n www.example.test all "$(port_of leaf-expired)" >/dev/null 2>&1
expect "gnutls-corpus control: careless_gnutls_client alone accepts leaf-expired" 0 "$?"
"$CARELESS_GNUTLS" -n www.example.test all "$(port_of wrong-host)" >/dev/null 2>&1
expect "gnutls-corpus control: careless_gnutls_client alone accepts wrong-host" 0 "$?"

# --- the passes ------------------------------------------------------------------
# pass named|rule: every case under the shim, one after another; $T/pass-PASS
# has "CASE STATUS PID" lines. The client is exec'ed from a subshell, so $! is
# its own pid, which names its events (pid=) in the sink: no waiting after
# each run for events that may not come.
pass() { # named|rule
	local name port host args policy pid
	while IFS=$'\t' read -r name port _ host _; do
		if [ "$1" = named ]; then
			args=(all "$port")
			is_ip "$host" || args=(-n "$host" all "$port")
			policy=$POLICY
		else
			args=(none "$port")
			policy=$T/server_name.conf
		fi
		(exec env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$policy" "$CARELESS_GNUTLS" "${args[@]}" \
			>"$T/$1-$name.out" 2>&1) &
		pid=$!
		wait "$pid"
		echo "$name $? $pid"
		printf '%s\n' "${args[@]}" >"$T/$1-$name.args"
	done <"$T/ports" >"$T/pass-$1"
}

# judge named|rule SUFFIX: each case's verdict against the table. For a case
# the table refuses without exactly one block event of the shim's, the same
# client runs again without the shim: GnuTLS itself refuses a few certificates
# whatever the program says (a leaf whose key usage forbids signing the
# handshake, a key it cannot parse); for those the refusal is enough.
judge() { # named|rule SUFFIX
	local name port host expect reason rc pid events label args
	audit_flush # the last events are in
	while IFS=$'\t' read -r name port _ host expect reason; do
		label="gnutls-corpus/$name$2"
		read -r _ rc pid < <(grep "^$name " "$T/pass-$1")
		events=$(grep -E "pid=$pid( |\$)" "$AUDIT_LOG")
		if [ "$expect" = accept ]; then
			if [ "$rc" = 0 ] && ! grep -q "verdict=block" <<<"$events"; then
				ok "$label: accepted"
			else
				not_ok "$label: accepted" "rc=$rc $(tr '\n' ' ' <"$T/$1-$name.out") $events"
			fi
			continue
		fi
		if [ "$rc" = 0 ]; then
			not_ok "$label: refused ($reason)" "the client got the page"
		elif [ "$(grep -c 'event=handshake verdict=block' <<<"$events")" = 1 ] &&
			grep -q "reason=$reason" <<<"$events"; then
			ok "$label: refused ($reason)"
		else
			mapfile -t args <"$T/$1-$name.args"
			if ! "$CARELESS_GNUTLS" "${args[@]}" >/dev/null 2>&1; then
				ok "$label: refused (by GnuTLS itself, as without the shim)"
			else
				not_ok "$label: refused ($reason)" "events: [$events] $(tr '\n' ' ' <"$T/$1-$name.out")"
			fi
		fi
	done <"$T/ports"
}

pass named
judge named ""
pass rule
judge rule /rule
