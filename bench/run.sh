#!/bin/bash
# make bench: every workload without and with the shim, in the same run; one
# table on stdout and $BUILD/bench.json. What each row measures, and how to
# reproduce it by hand: bench/README.md.
#
# Environment: BUILD (default build), BENCH_RUNS (wall-time runs per side,
# default 5), BENCH_BULK_MIB (TLS bulk size, default 1024), BENCH_STRICT=1 (exit 1
# when a budget is missed; by default only a workload that cannot be measured
# makes the exit status non-zero).
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$TOP" || exit 1
BUILD=${BUILD:-build}
case $BUILD in /*) BDIR=$BUILD ;; *) BDIR=$TOP/$BUILD ;; esac
B=$BDIR/bench
SHIM=$BDIR/libtlsguard.so
RUNS=${BENCH_RUNS:-5}
BULK_MIB=${BENCH_BULK_MIB:-1024}
HANDSHAKES=500
WRITES=1000000
PAIRS=500000 # one write and one read each: 1M calls
CONNECTS=2000
RULES=1000
JSON=$BDIR/bench.json

for f in "$SHIM" "$B/calls" "$B/tls_pair" "$B/policy_load"; do
	if [ ! -x "$f" ] && [ ! -f "$f" ]; then
		echo "bench: $f is missing (run make bench)" >&2
		exit 1
	fi
done
if ! command -v valgrind >/dev/null; then
	echo "bench: valgrind is needed for the per-call rows (make deps)" >&2
	exit 1
fi

. "$TOP/tools/scratch.sh"
scratch_init tlsguard-bench
W=$SCRATCH

ROWS=()    # one "|"-separated line per row: the table and the JSON are made from them
ERRORS=0
MISSES=0

# row NAME UNIT WITHOUT WITH CHANGE BUDGET RESULT [NOTE]
row() {
	ROWS+=("$1|$2|$3|$4|$5|$6|$7|${8:-}")
	case $7 in
	MISS) MISSES=$((MISSES + 1)) ;;
	ERROR) ERRORS=$((ERRORS + 1)) ;;
	*) ;;
	esac
}

calc() { awk "BEGIN { printf \"$1\n\", $2 }"; }
# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
# at_most X LIMIT, at_least X LIMIT: PASS or MISS
at_most() { awk -v x="$1" -v l="$2" 'BEGIN { print (x <= l) ? "PASS" : "MISS" }'; }
at_least() { awk -v x="$1" -v l="$2" 'BEGIN { print (x >= l) ? "PASS" : "MISS" }'; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ---------------------------------------------------------------------------
# Fixtures: certificates (tests/certs.sh), the 1,000-rule policy, a small one.

echo "bench: preparing certificates and policies in $W" >&2
if ! bash "$TOP/tests/certs.sh" "$W/certs" >/dev/null 2>&1; then
	echo "bench: tests/certs.sh failed" >&2
	exit 1
fi
TLS_PORT=$(free_port)
run_bg "$B/calls" listen "$W/listen.port"
for _ in $(seq 1 200); do
	[ -s "$W/listen.port" ] && break
	sleep 0.05
done
ALLOW_PORT=$(cat "$W/listen.port" 2>/dev/null)
if [ -z "$ALLOW_PORT" ]; then
	echo "bench: the loopback listener did not start" >&2
	exit 1
fi
POLICY=$W/policy-$RULES.conf
SMALL=$W/policy-small.conf
bash "$TOP/bench/gen_policy.sh" "$RULES" "$ALLOW_PORT" "$TLS_PORT" "$W/certs/root.pem" >"$POLICY"
bash "$TOP/bench/gen_policy.sh" 5 "$ALLOW_PORT" "$TLS_PORT" "$W/certs/root.pem" >"$SMALL"
chmod 0644 "$POLICY" "$SMALL"

# ---------------------------------------------------------------------------
# Per-call rows: callgrind instruction counts (Ir, user space, whole process).

# ir LIB WORD ARGS...: total Ir of `calls ARGS` with LIB preloaded ("-": none),
# through env so that both sides start the same way; with WORD, the measured
# process must have an object matching WORD loaded (calls exits 77 otherwise).
ir() {
	local lib=$1 word=$2 out pre=()
	shift 2
	out=$(mktemp -d "$W/cg.XXXXXX")
	[ "$lib" != - ] && pre=("LD_PRELOAD=$lib")
	if ! valgrind --tool=callgrind --dump-instr=no --trace-children=yes \
		--callgrind-out-file="$out/cg.%p" /usr/bin/env "${pre[@]}" \
		TLSGUARD_POLICY="$POLICY" BENCH_EXPECT="$word" PROXYCHAINS_CONF_FILE="$W/proxychains.conf" \
		PROXYCHAINS_QUIET_MODE=1 "$B/calls" "$@" >"$out/log" 2>&1; then
		echo "bench: calls $* under callgrind failed:" >&2
		tail -5 "$out/log" >&2
		return 1
	fi
	# the file of the process that ran calls (env exec'd it: same pid)
	grep -l "^cmd: .*bench/calls" "$out"/cg.* | head -1 | xargs -r awk '/^totals:/ { print $2 }'
}

# per_call LIB WORD CALLS ARGS0... -- ARGSN...: (Ir with N calls - Ir with 0) / CALLS
per_call() {
	local lib=$1 word=$2 calls=$3 zero=() full=() a i0 iN
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		zero+=("$1")
		shift
	done
	shift
	full=("$@")
	i0=$(ir "$lib" "$word" "${zero[@]}") || return 1
	iN=$(ir "$lib" "$word" "${full[@]}") || return 1
	[ -n "$i0" ] && [ -n "$iN" ] || return 1
	calc "%.1f" "($iN - $i0) / $calls"
}

# call_row NAME BUDGET CALLS ARGS0... -- ARGSN...
call_row() {
	local name=$1 budget=$2 calls=$3 plain shim delta
	shift 3
	echo "bench: $name (callgrind)" >&2
	if ! plain=$(per_call - "" "$calls" "$@") || ! shim=$(per_call "$SHIM" libtlsguard "$calls" "$@"); then
		row "$name" "Ir/call" - - - "+$budget Ir" ERROR "see the messages above"
		return
	fi
	delta=$(calc "%+.1f" "$shim - $plain")
	row "$name" "Ir/call" "$plain" "$shim" "$delta" "<= +$budget Ir" "$(at_most "$delta" "$budget")"
}

call_row "write /dev/null, 1M calls" 10 "$WRITES" write-null 0 -- write-null "$WRITES"
call_row "read+write socketpair, 1M calls" 10 $((PAIRS * 2)) socketpair 0 -- socketpair "$PAIRS"
call_row "connect+close loopback allow, $RULES rules" 150 "$CONNECTS" \
	connect 0 "$ALLOW_PORT" -- connect "$CONNECTS" "$ALLOW_PORT"

# The other preload libraries, for reference, only when installed.
find_lib() {
	local pkg=$1 name=$2
	dpkg -L "$pkg" 2>/dev/null | grep -E "/$name\$" | head -1
}
reference_row() {
	local name=$1 lib=$2 word=$3 plain other delta
	echo "bench: $name (callgrind)" >&2
	if ! plain=$(per_call - "" "$CONNECTS" connect 0 "$ALLOW_PORT" -- connect "$CONNECTS" "$ALLOW_PORT") ||
		! other=$(per_call "$lib" "$word" "$CONNECTS" connect 0 "$ALLOW_PORT" -- connect "$CONNECTS" "$ALLOW_PORT"); then
		row "$name" "Ir/call" - - - "reference" ERROR "see the messages above"
		return
	fi
	delta=$(calc "%+.1f" "$other - $plain")
	row "$name" "Ir/call" "$plain" "$other" "$delta" "reference" INFO "tiny configuration"
}
# proxychains-ng: loopback is a localnet, so the connect goes direct (no proxy).
cat >"$W/proxychains.conf" <<EOF
strict_chain
quiet_mode
localnet 127.0.0.0/255.0.0.0
[ProxyList]
socks5 127.0.0.1 9
EOF
lib=$(find_lib proxychains4 'libproxychains\.so\.4')
[ -z "$lib" ] && lib=$(find_lib libproxychains4 'libproxychains\.so\.4')
if command -v proxychains4 >/dev/null && [ -n "$lib" ]; then
	reference_row "connect+close loopback, proxychains4" "$lib" proxychains
else
	row "connect+close loopback, proxychains4" "Ir/call" - - - reference SKIP "not installed"
fi
lib=$(find_lib torsocks 'libtorsocks\.so')
if command -v torsocks >/dev/null && [ -n "$lib" ]; then
	reference_row "connect+close loopback, torsocks" "$lib" torsocks
else
	row "connect+close loopback, torsocks" "Ir/call" - - - reference SKIP "not installed"
fi

# ---------------------------------------------------------------------------
# Wall-time rows: the two sides alternate, so drift on a busy machine hits both.

# tls_median OUT MODE COUNT: medians of RUNS runs into OUT.plain and OUT.shim
tls_runs() {
	local out=$1 mode=$2 count=$3 r v
	: >"$out.plain"
	: >"$out.shim"
	for r in $(seq 1 "$RUNS"); do
		v=$("$B/tls_pair" "$mode" "$count" "$TLS_PORT" "$W/certs") || return 1
		echo "$v" >>"$out.plain"
		v=$(LD_PRELOAD=$SHIM TLSGUARD_POLICY=$POLICY BENCH_EXPECT=libtlsguard \
			"$B/tls_pair" "$mode" "$count" "$TLS_PORT" "$W/certs") || return 1
		echo "$v" >>"$out.shim"
	done
}

# ratio_row NAME UNIT OUT BUDGET
ratio_row() {
	local name=$1 unit=$2 out=$3 budget=$4 plain shim ratio
	plain=$(median <"$out.plain")
	shim=$(median <"$out.shim")
	ratio=$(calc "%.3f" "$shim / $plain")
	row "$name" "$unit" "$plain" "$shim" "${ratio}x" ">= ${budget}x" "$(at_least "$ratio" "$budget")" \
		"median of $RUNS"
}

echo "bench: TLS bulk, $BULK_MIB MiB x $RUNS per side" >&2
name="TLS bulk $BULK_MIB MiB, AES-128-GCM"
if tls_runs "$W/bulk" bulk "$BULK_MIB"; then
	ratio_row "$name" "MiB/s" "$W/bulk" 0.99
else
	row "$name" "MiB/s" - - - ">= 0.99x" ERROR "tls_pair failed"
fi

echo "bench: TLS handshakes, $HANDSHAKES x $RUNS per side" >&2
name="TLS handshakes (new sessions, ECDHE)"
if tls_runs "$W/hs" handshakes "$HANDSHAKES"; then
	ratio_row "$name" "per s" "$W/hs" 0.97
else
	row "$name" "per s" - - - ">= 0.97x" ERROR "tls_pair failed"
fi

# wall CMD...: seconds CMD took
wall() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1 || return 1
	t1=$(date +%s%N)
	calc "%.4f" "($t1 - $t0) / 1e9"
}

echo "bench: exec loop, 1000 x /bin/true x $RUNS per side" >&2
LOOP='for i in $(seq 1000); do /bin/true; done'
name="exec /bin/true 1000 times (bash loop)"
: >"$W/exec.plain"
: >"$W/exec.shim"
exec_ok=1
for r in $(seq 1 "$RUNS"); do
	wall bash -c "$LOOP" >>"$W/exec.plain" || exec_ok=0
	wall env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$SMALL" bash -c "$LOOP" >>"$W/exec.shim" || exec_ok=0
done
if [ "$exec_ok" = 1 ]; then
	plain=$(median <"$W/exec.plain")
	shim=$(median <"$W/exec.shim")
	ratio=$(calc "%.3f" "$shim / $plain")
	row "$name" "s" "$plain" "$shim" "${ratio}x" "<= 1.05x" "$(at_most "$ratio" 1.05)" "median of $RUNS"
else
	row "$name" "s" - - - "<= 1.05x" ERROR "the loop failed"
fi

echo "bench: policy load, $RULES rules" >&2
name="policy load, $RULES rules"
if load=$("$B/policy_load" "$POLICY" 51); then
	ms=${load%% *}
	row "$name" "ms" - "$ms" - "< 5 ms" "$(awk -v x="$ms" 'BEGIN { print (x < 5) ? "PASS" : "MISS" }')" \
		"median of 51, in-process"
else
	row "$name" "ms" - - - "< 5 ms" ERROR "policy_load_file failed"
fi

# ---------------------------------------------------------------------------
# The table and the JSON.

printf '\n%-42s %-8s %12s %12s %10s %12s  %s\n' workload unit without with change budget result
printf '%s\n' "$(printf '%.0s-' $(seq 1 108))"
for r in "${ROWS[@]}"; do
	IFS='|' read -r name unit plain shim change budget result note <<<"$r"
	printf '%-42s %-8s %12s %12s %10s %12s  %s%s\n' "$name" "$unit" "$plain" "$shim" "$change" \
		"$budget" "$result" "${note:+ ($note)}"
done
echo
echo "Ir/call: callgrind instructions per call, (Ir with N calls - Ir with 0) / N, user space."
echo "$((${#ROWS[@]})) rows, $MISSES budget(s) missed, $ERRORS workload(s) not measured."

json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
json_num() {
	if [[ $1 =~ ^[-+]?[0-9]+(\.[0-9]+)?$ ]]; then printf '%s' "${1#+}"; else printf 'null'; fi
}
{
	printf '{\n  "date": %s,\n  "host": %s,\n  "cpus": %s,\n  "runs": %s,\n  "tls_bulk_mib": %s,\n  "rows": [\n' \
		"$(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")" "$(json_str "$(uname -srm)")" \
		"$(nproc)" "$RUNS" "$BULK_MIB"
	n=0
	for r in "${ROWS[@]}"; do
		IFS='|' read -r name unit plain shim change budget result note <<<"$r"
		n=$((n + 1))
		printf '    {"workload": %s, "unit": %s, "without": %s, "with": %s, "change": %s, "change_value": %s, "budget": %s, "result": %s, "note": %s}%s\n' \
			"$(json_str "$name")" "$(json_str "$unit")" "$(json_num "$plain")" "$(json_num "$shim")" \
			"$(json_str "$change")" "$(json_num "${change%x}")" "$(json_str "$budget")" \
			"$(json_str "$result")" "$(json_str "$note")" "$([ "$n" -lt "${#ROWS[@]}" ] && echo ,)"
	done
	printf '  ]\n}\n'
} >"$JSON"
echo "written: $JSON"

[ "$ERRORS" -gt 0 ] && exit 1
[ "${BENCH_STRICT:-0}" = 1 ] && [ "$MISSES" -gt 0 ] && exit 1
exit 0
