# Shared by the bypass suites (t_bypass, t_bypass_libc, t_children,
# t_handshake_paths): the programs of tests/bypass/, built by make into $BYP,
# the audit sink started, and recording plaintext servers. Sourced after lib.sh.
BYP="$TOP/$BUILD/tests/bypass"
for src in "$TOP"/tests/bypass/*.c; do
	name=$(basename "$src" .c)
	[[ $name == plugin_* ]] && name=$name.so
	if [ ! -x "$BYP/$name" ]; then
		not_ok "bypass programs" "$BYP/$name is missing: run make check-integration"
		exit 1
	fi
done
start_audit_sink

# sink NAME: a recording plaintext server for one attempt; its port lands in
# $T/NAME.port, what it receives in $T/NAME.bytes.
sink() {
	run_bg "$PY" "$(dirname "${BASH_SOURCE[0]}")/sink_server.py" "$T/$1.port" "$T/$1.bytes"
	wait_file "$T/$1.port"
}
# received NAME: what sink NAME has received so far.
received() { tr -d '\0' <"$T/$1.bytes" 2>/dev/null; }
