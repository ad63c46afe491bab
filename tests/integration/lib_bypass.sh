# Shared by the bypass suites (t_bypass, t_bypass_libc, t_children,
# t_handshake_paths): the programs of tests/bypass/ built into $BYP, the audit
# sink started, and recording plaintext servers. Sourced after lib.sh.
BYP="$TOP/$BUILD/tests/bypass"
if ! BUILD=$BUILD TOP=$TOP bash "$TOP/tests/bypass/build.sh"; then
	not_ok "bypass programs" "tests/bypass/build.sh failed"
	exit 1
fi
start_audit_sink

# sink NAME: a recording plaintext server for one attempt; its port lands in
# $T/NAME.port, what it receives in $T/NAME.bytes.
sink() {
	run_bg "$PY" "$(dirname "${BASH_SOURCE[0]}")/sink_server.py" "$T/$1.port" "$T/$1.bytes"
	wait_file "$T/$1.port"
}
# received NAME: what sink NAME has received so far.
received() { tr -d '\0' <"$T/$1.bytes" 2>/dev/null; }
