#!/bin/bash
# The certificate corpus (tests/lib/cert_corpus.sh: the table of cases, expected
# verdicts and why) served by openssl s_server, one server per case, judged by
# a correctly configured client, and compared with careless programs under the
# shim:
#
#   corpus/CASE/reference  a correctly configured client (python3 ssl: the
#                          case's anchor only, SSL server purpose, check_hostname
#                          without the CN fallback, no partial wildcards, no
#                          partial chains, security level
#                          2) gives the verdict the table expects: the corpus is
#                          right before anything is compared with it;
#   corpus/CASE            curl -k under the shim, connecting by the case's name
#                          (--resolve: curl resolves nothing, so the name
#                          reaches the shim as the SNI of a connection to an
#                          address the program did not resolve) or by address,
#                          agrees with the reference;
#   corpus/CASE/server_name  careless_client (SSL_VERIFY_NONE, no SNI) under the
#                          shim with a rule whose server_name is the case's name
#                          agrees as well;
#   corpus/CASE/loose      so does loose_client, which loosens every verification
#                          setting a program can reach (verify callback that
#                          clears errors, NO_CHECK_TIME, PARTIAL_CHAIN,
#                          IGNORE_CRITICAL, purpose "any", security level 0),
#                          with the same server_name rule;
#   corpus/mtls-CASE       a correct curl presents a client certificate of the
#                          corpus (tests/lib/cert_corpus.sh, CLIENT_CASES) to a
#                          verifying openssl s_server (the reference) and to
#                          careless_server, which asks for none, under the shim
#                          with a require_client_cert rule: same verdict.
#
# Each shim refusal must leave exactly one block event whose reason is the one
# the table gives (hostname, cert_verify, no_client_cert); an accepted
# connection none. A disagreement is reported, never skipped: the shim's
# verifier is what is under test. Controls: without the shim each careless
# client takes an expired and a wrong-host certificate.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"

CORPUS="$T/corpus"
LOOSE="$TOP/$BUILD/tests/integration/programs/loose_client"
bash "$TOP/tests/lib/cert_corpus.sh" "$CORPUS" >"$T/corpus.log" 2>&1 ||
	{ not_ok "corpus: tests/lib/cert_corpus.sh failed" "$(tail -5 "$T/corpus.log")"; exit 1; }
start_audit_sink

# Every case gets a port and a server (openssl s_server -www: it serves one
# connection after another). SECLEVEL=0 lets it load the weak keys and
# digests the corpus is about; the clients judge them. The ports are picked in
# one go, each held bound until all are chosen, so no two cases share one;
# below the ephemeral range, as free_port does.
"$PY" -S - "$(($(wc -l <"$CORPUS/cases") + 2))" >"$T/portlist" <<'PYEOF'
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

# Mutual TLS: two servers that require a client certificate and trust the
# corpus root. The reference is openssl s_server, correctly configured
# (-verify_return_error, security level 2: the client certificate is verified
# with the SSL client purpose); the other is careless_server, which asks for
# no certificate at all, under the shim with a require_client_cert rule. Its
# "tls10" mode runs at security level 0, so that on its own it would take
# weak keys and digests too: a refusal is the shim's, and must be audited.
{ read -r MTLS_REF && read -r MTLS_SHIM; } < <(tail -n 2 "$T/portlist")
run_bg openssl s_server -quiet -www -accept "127.0.0.1:$MTLS_REF" -cert "$CORPUS/valid.crt" \
	-key "$CORPUS/valid.key" -cert_chain "$CORPUS/inter.crt" -CAfile "$CORPUS/root.crt" \
	-Verify 5 -verify_return_error </dev/null >"$T/server-mtls-ref.log" 2>&1
cat "$CORPUS/valid.crt" "$CORPUS/inter.crt" >"$T/valid-chain.pem"
cat >"$T/mtls.conf" <<CONF
version = 1;
mode = "enforce";
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
tls = { ca_file = "$CORPUS/root.crt"; };
inbound = {
  default = "allow";
  rules = (
    { port = $MTLS_SHIM; action = "require_tls";
      tls = { require_client_cert = true; client_ca_file = "$CORPUS/root.crt"; }; }
  );
};
CONF
chmod 0644 "$T/mtls.conf"
run_bg env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$T/mtls.conf" \
	"$TOP/$BUILD/tests/integration/programs/careless_server" tls10 "$MTLS_SHIM" "$CORPUS/valid.crt" \
	"$CORPUS/valid.key" "$T/valid-chain.pem" </dev/null >"$T/server-mtls-shim.log" 2>&1

is_ip() { [[ $1 =~ ^[0-9.]+$ ]]; }

# Two policies: the corpus root in tls.ca_file, a rule per case whose anchor
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
for p in "$POLICY" "$T/server_name.conf"; do
	"$CLI" check "$p" >/dev/null 2>&1 || { not_ok "corpus: policy $p" "$("$CLI" check "$p" 2>&1)"; exit 1; }
done

# Readiness: every server accepts a connection (one process polls them all).
"$PY" -S - "$T/ports" "$MTLS_REF" >"$T/not-ready" <<'PYEOF'
import socket, sys, time
waiting = dict(l.split("\t")[:2] for l in open(sys.argv[1]))
waiting["mtls-ref"] = sys.argv[2]
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
	[ -n "$name" ] && not_ok "corpus/$name/server" "openssl s_server did not start: $(cat "$T/server-$name.log")"
done <"$T/not-ready"
wait_until grep -q READY "$T/server-mtls-shim.log" ||
	not_ok "corpus/mtls/server" "careless_server did not start: $(cat "$T/server-mtls-shim.log")"

# --- controls: without the shim the careless clients take a bad certificate ----
# (else agreeing with the reference client would prove nothing)
port_of() { awk -F'\t' -v n="$1" '$1 == n { print $2 }' "$T/ports"; }
for c in leaf-expired wrong-host; do
	p=$(port_of "$c")
	if [ "$c" = wrong-host ]; then
		code=$(curl -4 -sS -k --max-time 10 --resolve "www.example.test:$p:127.0.0.1" -o /dev/null \
			-w '%{http_code}' "https://www.example.test:$p/" 2>&1)
	else
		code=$(curl -4 -sS -k --max-time 10 -o /dev/null -w '%{http_code}' "https://127.0.0.1:$p/" 2>&1)
	fi
	expect "corpus control: curl -k alone accepts $c" 200 "$code"
	"$CARELESS" none "$p" - >/dev/null 2>&1
	expect "corpus control: careless_client alone accepts $c" 0 "$?"
	"$LOOSE" "$p" >/dev/null 2>&1
	expect "corpus control: loose_client alone accepts $c" 0 "$?"
done

# The reference, the three careless programs and the mutual TLS cases run at
# the same time (each server takes one connection after another); the
# verdicts are judged once all are done.
PASSES=()

# --- the reference: one correct client, all cases -------------------------------
"$PY" -S - "$T/ports" >"$T/reference" 2>&1 <<'PYEOF' &
import socket, ssl, sys

for line in open(sys.argv[1]):
    name, port, anchor, host, _expect, _reason = line.rstrip("\n").split("\t")
    ctx = ssl.create_default_context(cafile=anchor)
    ctx.check_hostname = True
    ctx.hostname_checks_common_name = False
    ctx.verify_flags &= ~getattr(ssl, "VERIFY_X509_PARTIAL_CHAIN", 0)
    # python's default context sets X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS and
    # security level 2 (its default cipher string ends in @SECLEVEL=2)
    verdict, why = "accept", "-"
    try:
        with socket.create_connection(("127.0.0.1", int(port)), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname=host) as s:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                if not s.recv(100).startswith(b"HTTP/1.0 200"):
                    verdict, why = "refuse", "no response"
    except ssl.SSLCertVerificationError as e:
        verdict, why = "refuse", e.verify_message
    except (ssl.SSLError, OSError) as e:
        verdict, why = "error", str(e)
    print(f"{name}\t{verdict}\t{why}")
PYEOF
PASSES+=($!)

# --- the careless clients under the shim ----------------------------------------
# accept = the client got the page.
verdict() { # STATUS
	if [ "$1" -eq 0 ]; then echo accept; else echo refuse; fi
}
with_names() { # CMD...: under the shim, with the server_name policy
	LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$T/server_name.conf" timeout -k 5 60 "$@"
}
careless_pass() { # curl|careless|loose: one program over every case
	local name port host resolve code
	while IFS=$'\t' read -r name port _ host _; do
		case "$1" in
		curl)
			resolve=()
			is_ip "$host" || resolve=(--resolve "$host:$port:127.0.0.1")
			code=$(shimmed curl -4 -sS -k --max-time 10 "${resolve[@]}" -o /dev/null \
				-w '%{http_code}' "https://$host:$port/" 2>"$T/curl-$name.err")
			[ "$code" = 200 ]
			;;
		careless) with_names "$CARELESS" none "$port" - >"$T/careless-$name.out" 2>&1 ;;
		*) with_names "$LOOSE" "$port" >"$T/loose-$name.out" 2>&1 ;;
		esac
		echo "$name $(verdict $?)"
	done <"$T/ports" >"$T/shim-$1"
}
for pass in curl careless loose; do
	careless_pass "$pass" &
	PASSES+=($!)
done

# Mutual TLS: a correct client (curl, the corpus root, the server's name)
# presents each client certificate to both servers; the shim's events are
# told apart by the client's port (peer= on the server side). curl runs at
# security level 0 (Debian's default of 2 would keep it from loading the
# RSA-1024 and SHA-1 certificates at all): the servers judge them.
cat >"$T/seclevel0.cnf" <<'CNF'
openssl_conf = init
[init]
ssl_conf = ssl
[ssl]
system_default = sys
[sys]
CipherString = DEFAULT:@SECLEVEL=0
CNF
mtls_pass() {
	local name cert key expect reason cert_arg port code client_port got ref
	while IFS=$'\t' read -r name cert key expect reason; do
		cert_arg=()
		[ "$cert" != - ] && cert_arg=(--cert "$cert" --key "$key")
		for port in "$MTLS_REF" "$MTLS_SHIM"; do
			read -r code client_port < <(OPENSSL_CONF="$T/seclevel0.cnf" curl -4 -sS \
				--max-time 10 --cacert "$CORPUS/root.crt" "${cert_arg[@]}" \
				--resolve "www.example.test:$port:127.0.0.1" -o /dev/null \
				-w '%{http_code} %{local_port}\n' "https://www.example.test:$port/" 2>/dev/null)
			[ "${code:-000}" = 200 ]
			got=$(verdict $?)
			if [ "$port" = "$MTLS_REF" ]; then
				ref=$got
			else
				printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$ref" "$got" "${client_port:-0}" \
					"$expect" "$reason"
			fi
		done
	done <"$CORPUS/client-cases" >"$T/mtls"
}
mtls_pass &
PASSES+=($!)
wait "${PASSES[@]}"

# The sink writes datagrams in arrival order: once a marker sent now is in
# the log, so is every event the clients above sent before they exited.
"$PY" -S -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"corpus-marker", sys.argv[1])' "$AUDIT_SOCK"
wait_until grep -q corpus-marker "$AUDIT_LOG" || not_ok "corpus: audit sink" "the marker never arrived"

# --- the verdicts ---------------------------------------------------------------
# One pass over the files above: for each case, the reference against the
# table, then each careless client against the reference and its events
# (peer=127.0.0.1:PORT tells the cases apart, exe= the three clients).
"$PY" -S - "$T" "$AUDIT_LOG" <<'PYEOF'
import re, sys

t, audit_log = sys.argv[1], sys.argv[2]
def table(path, width):
    return {f[0]: f[1:] for f in (l.rstrip("\n").split("\t", width) for l in open(path)) if f[0]}
reference = table(f"{t}/reference", 2)
shim = {client: dict(l.split() for l in open(f"{t}/shim-{client}"))
        for client in ("curl", "careless", "loose")}
# the body of each syslog line, from "event=" on
events = [l[l.find("event="):] for l in open(audit_log, errors="replace").read().splitlines()]

def judge(label, port, exe, want, reason, got):
    if want != got:
        return f"not ok {label}: reference={want} shim={got}"
    mine = [e for e in events if f"peer=127.0.0.1:{port} " in e and re.search(f"exe=\\S*/{exe} ", e)]
    blocks = [e for e in mine if "verdict=block" in e]
    if got == "accept":
        if blocks:
            return f"not ok {label}: accepted, yet block events: {blocks}"
        return f"ok {label}"
    if len(blocks) != 1:
        return f"not ok {label}: refused with {len(blocks)} block events, want exactly one: {blocks}"
    m = re.search(r"reason=(\S+)(?: detail=(\"[^\"]*\"))?", blocks[0])
    if not blocks[0].startswith("event=handshake ") or m is None or m.group(1) != reason:
        return f"not ok {label}: refused, but the event says [{blocks[0]}], want reason={reason}"
    return f"ok {label} # reason={m.group(1)} detail={m.group(2) or '-'}"

for line in open(f"{t}/ports"):
    name, port, _anchor, _host, expect, reason = line.rstrip("\n").split("\t")
    ref_verdict, ref_why = reference.get(name, ["missing", "no reference result"])
    if ref_verdict == expect:
        print(f"ok corpus/{name}/reference # {ref_why}")
    else:
        print(f"not ok corpus/{name}/reference: table says {expect}, the reference client says {ref_verdict}: {ref_why}")
    # the shim is compared with what the reference client does, not with the table
    print(judge(f"corpus/{name}", port, "curl", ref_verdict, reason, shim["curl"].get(name, "missing")))
    print(judge(f"corpus/{name}/server_name", port, "careless_client", ref_verdict, reason,
                shim["careless"].get(name, "missing")))
    print(judge(f"corpus/{name}/loose", port, "loose_client", ref_verdict, reason,
                shim["loose"].get(name, "missing")))

# mutual TLS: the events of careless_server (dir=in), by the client's port
for line in open(f"{t}/mtls"):
    name, ref_verdict, got, client_port, expect, reason = line.rstrip("\n").split("\t")
    if ref_verdict == expect:
        print(f"ok corpus/{name}/reference")
    else:
        print(f"not ok corpus/{name}/reference: table says {expect}, openssl s_server says {ref_verdict}")
    print(judge(f"corpus/{name}", client_port, "careless_server", ref_verdict, reason, got))
PYEOF
