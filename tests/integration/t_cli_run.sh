#!/bin/bash
# tlsguard run and tlsguard inspect: run never starts a command under a broken
# policy, hands the command the shim and the policy, passes its exit status
# through and really enforces; inspect's verdicts for dynamic, static, setuid,
# capability-carrying, GnuTLS (governed: libgnutls.so.30), other-GnuTLS,
# bundled-GnuTLS, bundled-OpenSSL and script programs, and clean errors for
# files that are not programs.
. "$(dirname "$0")/lib.sh"

unset TLSGUARD_POLICY TLSGUARD_MODE LD_PRELOAD
HERE=$(dirname "$0")
SHIM_REAL=$(realpath "$SHIM")
LIBM=/lib/x86_64-linux-gnu/libm.so.6

# run_cli ARGS...: runs the CLI; sets OUT, ERR and RC.
run_cli() {
	timeout -k 5 60 "$CLI" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}
# env_of NAME: NAME's value in what the last command printed with env.
env_of() { grep "^$1=" "$T/out" | cut -d= -f2-; }

mkdir -p "$T/rel"
POLICY="$T/rel/good.conf"
write_policy "$POLICY" <<EOF
version = 1;
mode = "enforce";
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
EOF
write_policy "$T/bad.conf" <<EOF
version = 1;
mode = "enforce-ish";
EOF
write_policy "$T/noenv.conf" <<EOF
version = 1;
env_override = false;
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
EOF

# --- run: the policy first ------------------------------------------------------

run_cli run -p "$T/bad.conf" -- touch "$T/marker"
expect_match "broken policy: exit 78 with FILE:LINE" "^78:.*$T/bad.conf:2:" "$RC:$ERR"
if [ -e "$T/marker" ]; then not_ok "broken policy never starts CMD" "the marker exists"; else ok "broken policy never starts CMD"; fi
TLSGUARD_POLICY="$T/bad.conf" run_cli run -- touch "$T/marker"
expect_match "broken \$TLSGUARD_POLICY: exit 78" "^78:.*bad.conf:2:" "$RC:$ERR"
[ -e "$T/marker" ] && not_ok "broken \$TLSGUARD_POLICY never starts CMD" "the marker exists"
run_cli run -p "$T/missing.conf" -- touch "$T/marker"
expect_match "missing policy: exit 78, nothing run" "^78:.*missing.conf.*:no-marker$" "$RC:$ERR:$([ -e "$T/marker" ] || echo no-marker)"

# --- run: the environment CMD gets ----------------------------------------------

(cd "$T" && run_cli run -p rel/good.conf -- /usr/bin/env && echo "$RC" >"$T/rc")
expect "relative -p: exit 0" "0" "$(cat "$T/rc")"
expect "relative -p: LD_PRELOAD is the shim, absolute" "$SHIM_REAL" "$(env_of LD_PRELOAD)"
expect "relative -p: TLSGUARD_POLICY absolute" "$POLICY" "$(env_of TLSGUARD_POLICY)"
expect "no --audit: TLSGUARD_MODE stays unset" "" "$(env_of TLSGUARD_MODE)"

run_cli run -p "$POLICY" --audit -- /usr/bin/env
expect "--audit sets TLSGUARD_MODE=audit" "0:audit" "$RC:$(env_of TLSGUARD_MODE)"
run_cli run -p "$T/noenv.conf" --audit -- /usr/bin/env
expect_match "--audit under env_override = false warns" "^0:.*env_override = false" "$RC:$ERR"

if [ -e "$LIBM" ]; then
	LD_PRELOAD="$LIBM" run_cli run -p "$POLICY" -- /usr/bin/env
	expect "existing LD_PRELOAD kept after the shim" "$SHIM_REAL:$LIBM" "$(env_of LD_PRELOAD)"
	# Already preloaded (the policy matches, so the shim in tlsguard agrees).
	LD_PRELOAD="$LIBM $SHIM" TLSGUARD_POLICY="$POLICY" run_cli run -- /usr/bin/env
	expect "the shim is not duplicated" "0:$SHIM_REAL:$LIBM" "$RC:$(env_of LD_PRELOAD)"
else
	skip "existing LD_PRELOAD kept" "$LIBM is missing"
fi
# Under the shim tlsguard cannot hand CMD another policy: it refuses.
LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$T/noenv.conf" run_cli run -p "$POLICY" -- touch "$T/marker"
expect_match "under the shim with another policy: exit 78" "^78:.*already runs under the shim.*:no-marker$" \
	"$RC:$ERR:$([ -e "$T/marker" ] || echo no-marker)"

run_cli run -p "$POLICY" -- sh -c 'exit 7'
expect "CMD's exit status passed through" "7" "$RC"
run_cli run -p "$POLICY" -- tlsguard-no-such-command
expect_match "command not found: exit 127" "^127:tlsguard: tlsguard-no-such-command: command not found" "$RC:$ERR"
printf 'echo hi\n' >"$T/noexec"
chmod 0644 "$T/noexec"
run_cli run -p "$POLICY" -- "$T/noexec"
expect "not executable: exit 126" "126" "$RC"
run_cli run -p "$POLICY"
expect_match "no CMD: usage, exit 2" "^2:.*usage: tlsguard run" "$RC:$(echo $ERR)"

# --- run really enforces --------------------------------------------------------

run_bg "$PY" "$HERE/sink_server.py" "$T/sink.port" "$T/sink.bytes"
wait_file "$T/sink.port"
PORT=$(cat "$T/sink.port")
start_audit_sink
if [ -x /usr/bin/curl ]; then
	run_cli run -p "$POLICY" -- curl -s -m 10 "http://127.0.0.1:$PORT/"
	expect_no_match "plaintext curl under run fails" "^0$" "$RC"
	expect "the listener received nothing" "" "$(cat "$T/sink.bytes" 2>/dev/null)"
	expect_match "the block is audited" "reason=plaintext" "$(audit_lines)"
	run_cli run -p "$POLICY" --audit -- curl -s -m 10 -o /dev/null "http://127.0.0.1:$PORT/x"
	expect_match "--audit lets the request through" "GET /x HTTP" "$(cat "$T/sink.bytes" 2>/dev/null)"
else
	skip "run enforces" "curl is not installed"
fi

# --- inspect --------------------------------------------------------------------

run_cli --help
expect_match "--help lists run and inspect" "inspect PROGRAM.*run \[-p POLICY\] \[--audit\] -- CMD" "$(echo $OUT)"

run_cli inspect /usr/bin/curl
expect_match "inspect curl: enforceable, exit 0" "^0:.*libssl\.so\.3.*verdict: enforceable$" "$RC:$(echo $OUT)"
run_cli inspect true
expect_match "inspect resolves on PATH" "^0:program: /.*/true:.*verdict: enforceable$" "$RC:$(echo $OUT)"
# GnuTLS 3 (libgnutls.so.30) is governed like libssl.so.3: enforceable, and run
# says nothing about it.
for prog in /usr/bin/wget /usr/bin/gnutls-cli; do
	if [ -x "$prog" ]; then
		run_cli inspect "$prog"
		expect_match "inspect $(basename "$prog"): GnuTLS 3, enforceable" \
			"^0:.*library: libgnutls\.so\.30 => [^ ]*: the system GnuTLS 3: the shim validates its TLS.*verdict: enforceable$" \
			"$RC:$(echo $OUT)"
		expect_no_match "inspect $(basename "$prog"): nothing left to tls.unmanaged" "unmanaged|partly" "$OUT"
		run_cli run -p "$POLICY" -- "$prog" --version
		expect "run $(basename "$prog"): runs" "0" "$RC"
		expect_no_match "run $(basename "$prog"): no warning" "warning" "$ERR"
	else
		skip "inspect $(basename "$prog")" "$prog is not installed (make deps installs it)"
	fi
done
if [ -x /usr/bin/gnutls-cli ]; then
	run_cli inspect /usr/bin/gnutls-cli
	expect_match "inspect gnutls-cli: libgnutls-dane is part of GnuTLS" \
		"library: libgnutls-dane\.so\.0 => .*: part of GnuTLS: its TLS goes through libgnutls\.so\.30" "$OUT"
fi
if [ -x /usr/bin/node ]; then
	run_cli inspect /usr/bin/node
	# The oracle: readelf, independently, on whether node defines SSL_CTX_new.
	if readelf --dyn-syms -W /usr/bin/node 2>/dev/null | awk '$7 != "UND" && $8 ~ /^SSL_CTX_new(@|$)/' | grep -q .; then
		expect_match "inspect node: bundled OpenSSL, partly" "^1:.*verdict: partly enforceable: bundles its own OpenSSL" "$RC:$(echo $OUT)"
		run_cli run -p "$POLICY" -- /usr/bin/node --version
		expect_match "run node warns and still runs" "^0:.*warning: .*bundled: .*warning: .*partly enforceable: bundles its own OpenSSL" "$RC:$(echo $ERR)"
	else
		expect_match "inspect node: system OpenSSL" "^0:.*verdict: enforceable$" "$RC:$(echo $OUT)"
	fi
else
	skip "inspect node" "node is not installed"
fi

# Java does its TLS in the JVM (JSSE): partly enforceable.
if [ -x /usr/bin/java ]; then
	run_cli inspect /usr/bin/java
	expect_match "inspect java: TLS in the JVM, partly" \
		"^1:.*java: the JVM does its TLS itself.*verdict: partly enforceable: TLS inside the JVM \(JSSE\) is not validated" \
		"$RC:$(echo $OUT)"
else
	skip "inspect java" "java is not installed"
fi

# What stays unmanaged, on programs built here: a GnuTLS of another soname
# (found through the program's RUNPATH) and a GnuTLS built into a library.
mkdir -p "$T/gt"
echo 'int gnutls_global_init(void) { return 0; }' >"$T/gt/old.c"
printf '%s\n' 'int gnutls_init(void **s, unsigned f) { (void)s; (void)f; return 0; }' \
	'int gnutls_handshake(void *s) { (void)s; return 0; }' >"$T/gt/bundle.c"
echo 'int main(void) { return 0; }' >"$T/gt/main.c"
if cc -shared -fPIC -Wl,-soname,libgnutls.so.28 -o "$T/gt/libgnutls.so.28" "$T/gt/old.c" &&
	cc -shared -fPIC -Wl,-soname,libbundle.so.1 -o "$T/gt/libbundle.so.1" "$T/gt/bundle.c" &&
	cc -o "$T/gt/old" "$T/gt/main.c" -Wl,--no-as-needed "$T/gt/libgnutls.so.28" -Wl,-rpath,"$T/gt" &&
	cc -o "$T/gt/bundled" "$T/gt/main.c" -Wl,--no-as-needed "$T/gt/libbundle.so.1" -Wl,-rpath,"$T/gt"; then
	run_cli inspect "$T/gt/old"
	expect_match "inspect: libgnutls.so.28 is not governed, partly" \
		"^1:.*library: libgnutls\.so\.28 => $T/gt/libgnutls\.so\.28: a GnuTLS other than libgnutls\.so\.30: .*verdict: partly enforceable: TLS through a GnuTLS other than libgnutls\.so\.30 \(libgnutls\.so\.28\) is not validated" \
		"$RC:$(echo $OUT)"
	run_cli inspect "$T/gt/bundled"
	expect_match "inspect: a library defining gnutls_handshake is a bundled GnuTLS, partly" \
		"^1:.*bundled: libbundle\.so\.1 defines gnutls_handshake itself.*verdict: partly enforceable: bundles its own GnuTLS" \
		"$RC:$(echo $OUT)"
	run_cli run -p "$POLICY" -- "$T/gt/bundled"
	expect_match "run warns about the bundled GnuTLS and still runs" \
		"^0:.*warning: .*partly enforceable: bundles its own GnuTLS" "$RC:$(echo $ERR)"
else
	skip "inspect: other and bundled GnuTLS" "cannot build the test programs with cc"
fi
if [ -x /usr/bin/python3 ]; then
	run_cli inspect /usr/bin/python3
	expect_match "inspect python3: enforceable, dlopen noted" "^0:.*dlopen.*verdict: enforceable$" "$RC:$(echo $OUT)"
fi

cp /bin/true "$T/suid" && chmod u+s "$T/suid"
run_cli inspect "$T/suid"
expect_match "inspect setuid: not enforceable" "^1:.*verdict: not enforceable: setuid" "$RC:$(echo $OUT)"
cp /bin/true "$T/sgid" && chmod g+s "$T/sgid"
run_cli inspect "$T/sgid"
expect_match "inspect setgid: not enforceable" "^1:.*verdict: not enforceable: setgid" "$RC:$(echo $OUT)"
cp /bin/true "$T/caps"
if [ "$(id -u)" = 0 ] && command -v setcap >/dev/null && setcap cap_net_raw+ep "$T/caps" 2>/dev/null; then
	run_cli inspect "$T/caps"
	expect_match "inspect capabilities: not enforceable" "^1:.*verdict: not enforceable: file capabilities" "$RC:$(echo $OUT)"
else
	skip "inspect capabilities" "needs root, setcap and a file system with xattrs"
fi

printf 'int main(void) { return 0; }\n' >"$T/static.c"
if cc -static -o "$T/static" "$T/static.c" 2>/dev/null; then
	run_cli inspect "$T/static"
	expect_match "inspect static: not enforceable" "^1:.*verdict: not enforceable: statically linked" "$RC:$(echo $OUT)"
	printf '#!%s\n' "$T/static" >"$T/static-script"
	chmod 0755 "$T/static-script"
	run_cli inspect "$T/static-script"
	expect_match "inspect script on a static interpreter: not" "^1:.*interpreter $T/static.*verdict: not enforceable: statically linked" "$RC:$(echo $OUT)"
	run_cli run -p "$POLICY" -- "$T/static"
	expect_match "run static: warns, runs, exit 0" "^0:.*warning: .*statically linked" "$RC:$(echo $ERR)"
else
	skip "inspect static" "no static libc (libc6-dev's libc.a)"
fi

printf '#!/bin/sh\necho hi\n' >"$T/script"
chmod 0755 "$T/script"
run_cli inspect "$T/script"
expect_match "inspect #!/bin/sh script: enforceable" "^0:script: .*interpreter /bin/sh.*verdict: enforceable$" "$RC:$(echo $OUT)"
printf '#!/usr/bin/env -S true --x\n' >"$T/env-script"
chmod 0755 "$T/env-script"
run_cli inspect "$T/env-script"
expect_match "inspect #!/usr/bin/env script: its command on PATH" "^0:.*/usr/bin/env runs /.*/true.*verdict: enforceable$" "$RC:$(echo $OUT)"

# Hostile and non-program files: a clean error, exit 1, never a crash.
head -c 100 /bin/true >"$T/trunc"
chmod 0755 "$T/trunc"
run_cli inspect "$T/trunc"
expect_match "inspect truncated ELF: clean error, exit 1" "^1::tlsguard inspect: $T/trunc: truncated ELF" "$RC:$OUT:$ERR"
head -c 3000 /bin/true >"$T/trunc2"
run_cli inspect "$T/trunc2"
expect "inspect ELF cut after its headers: exit 1 or a verdict, no crash" "yes" "$([ "$RC" -le 1 ] && echo yes)"
printf 'just some text\n' >"$T/text"
chmod 0755 "$T/text"
run_cli inspect "$T/text"
expect_match "inspect text file: not an ELF, exit 1" "^1:.*not an ELF file or script" "$RC:$ERR"
: >"$T/empty"
run_cli inspect "$T/empty"
expect_match "inspect empty file: exit 1" "^1:.*not an ELF file or script" "$RC:$ERR"
run_cli inspect "$T"
expect_match "inspect a directory: exit 1" "^1:.*not a regular file" "$RC:$ERR"
run_cli inspect tlsguard-no-such-command
expect_match "inspect unknown command: exit 1" "^1:.*command not found" "$RC:$ERR"
run_cli inspect /nonexistent/tlsguard-no-such-file
expect_match "inspect a missing path: no such file, not 'command not found'" \
	"^1:.*tlsguard-no-such-file: No such file or directory$" "$RC:$ERR"
run_cli inspect "$T/suid"
expect_no_match "inspect setuid: never says LD_PRELOAD applies" "LD_PRELOAD applies" "$OUT"
expect_match "inspect setuid: the loader line says it ignores LD_PRELOAD" \
	"loader: .*in secure execution it ignores LD_PRELOAD" "$OUT"
for interp in /usr/bin/perl /usr/bin/node /usr/bin/bash; do
	[ -x "$interp" ] || continue
	run_cli inspect "$interp"
	expect_no_match "inspect $(basename "$interp"): no note about python's module" "python3|_ssl" "$OUT"
done
if [ -x /usr/bin/perl ]; then
	run_cli inspect /usr/bin/perl
	expect_match "inspect perl: its own TLS module named" "note: perl loads modules .*Net::SSLeay" "$OUT"
fi
# git's https goes through git-remote-https, which links libcurl-gnutls: GnuTLS
# 3, governed.
if [ -x /usr/lib/git-core/git-remote-http ] && [ -x /usr/bin/git ]; then
	run_cli inspect git
	expect_match "inspect git: names its https helper and its GnuTLS, enforceable" \
		"^0:.*helper: /usr/lib/git-core/git-remote-http \(git's http\(s\) and ftp\(s\) transport\): enforceable: TLS through libgnutls\.so\.30.*verdict: enforceable$" \
		"$RC:$(echo $OUT)"
else
	skip "inspect git" "git or its http helper is not installed"
fi
if [ -x /usr/lib/apt/methods/http ]; then
	run_cli inspect apt
	expect_match "inspect apt: names apt's https method and its GnuTLS, enforceable" \
		"^0:.*helper: /usr/lib/apt/methods/http \(apt's http and https method\): enforceable: TLS through libgnutls\.so\.30.*verdict: enforceable$" \
		"$RC:$(echo $OUT)"
else
	skip "inspect apt" "apt's http method is not installed"
fi
# Debian's psql is pg_wrapper (perl): the verdict says so and covers the client.
if [ "$(basename "$(readlink -f /usr/bin/psql 2>/dev/null)")" = pg_wrapper ]; then
	run_cli inspect psql
	expect_match "inspect psql: says it is pg_wrapper and inspects the real client" \
		"^0:.*wrapper: /usr/bin/psql is Debian's pg_wrapper.*helper: /usr/lib/postgresql/[0-9]+/bin/psql .*enforceable.*verdict: enforceable$" \
		"$RC:$(echo $OUT)"
else
	skip "inspect psql" "psql is not Debian's pg_wrapper here"
fi
