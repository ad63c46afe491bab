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
EMPTY=$B/empty_preload.so
RUNS=${BENCH_RUNS:-5}
BULK_MIB=${BENCH_BULK_MIB:-1024}
HANDSHAKES=500
WRITES=1000000
PAIRS=500000 # one write and one read each: 1M calls
CONNECTS=2000
SPREAD_CONNECTS=2000 # the cold connect row: every connect a new destination ...
SPREAD_SPAN=2000     # ... out of this many ports, far more than the 256 cache slots
RULES=1000
# the instruction-count TLS rows: (Ir with N - Ir with N0) / (N - N0)
HS_IR=60
HS_IR0=10
BULK_IR_MIB=64
BULK_IR_MIB0=8
JSON=$BDIR/bench.json

for f in "$SHIM" "$EMPTY" "$B/calls" "$B/tls_pair" "$B/gtls_pair" "$B/policy_load"; do
	if [ ! -x "$f" ] && [ ! -f "$f" ]; then
		echo "bench: $f is missing (run make bench)" >&2
		exit 1
	fi
done
if ! command -v valgrind >/dev/null; then
	echo "bench: valgrind is needed for the per-call rows (make deps)" >&2
	exit 1
fi

. "$TOP/tests/lib/scratch.sh"
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

# spread_base SPAN: the first of 21000, 22000, ... whose SPAN + 1 ports (the
# cold row's connects and its warm-up) stay below the ephemeral range (32768)
# and start with a few ports nothing is bound to. A listener further in the
# range does no harm (that connect succeeds).
spread_base() {
	python3 - "$1" <<'EOF'
import socket, sys
span = int(sys.argv[1])
for base in range(21000, 32768 - span, 1000):
    free = True
    for port in range(base, base + 8):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            free = False
        s.close()
        if not free:
            break
    if free:
        print(base)
        break
EOF
}

# ---------------------------------------------------------------------------
# Fixtures: certificates (tests/lib/certs.sh), the 1,000-rule policy, a small one.

echo "bench: preparing certificates and policies in $W" >&2
if ! bash "$TOP/tests/lib/certs.sh" "$W/certs" >/dev/null 2>&1; then
	echo "bench: tests/lib/certs.sh failed" >&2
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
SPREAD_BASE=$(spread_base "$SPREAD_SPAN")
if [ -z "$SPREAD_BASE" ]; then
	echo "bench: no free range of $SPREAD_SPAN ports between 21000 and 32767" >&2
	exit 1
fi
POLICY=$W/policy-$RULES.conf
SMALL=$W/policy-small.conf
SPREAD_PORTS=$SPREAD_BASE-$((SPREAD_BASE + SPREAD_SPAN)) \
	bash "$TOP/bench/gen_policy.sh" "$RULES" "$ALLOW_PORT" "$TLS_PORT" "$W/certs/root.pem" >"$POLICY"
bash "$TOP/bench/gen_policy.sh" 5 "$ALLOW_PORT" "$TLS_PORT" "$W/certs/root.pem" >"$SMALL"
chmod 0644 "$POLICY" "$SMALL"

# ---------------------------------------------------------------------------
# Per-call rows: callgrind instruction counts (Ir, user space, whole process).

# cg_total PROCS PROG LIB WORD ARGS...: total Ir of `$B/PROG ARGS` with LIB
# preloaded ("-": none), through env so that both sides start the same way,
# summed over the PROCS processes that ran PROG (1 for calls; 2 for tls_pair,
# whose server is a forked child); with WORD, the measured process must have an
# object matching WORD loaded (the program exits 77 otherwise).
cg_total() {
	local procs=$1 prog=$2 lib=$3 word=$4 out pre=() files=()
	shift 4
	out=$(mktemp -d "$W/cg.XXXXXX")
	[ "$lib" != - ] && pre=("LD_PRELOAD=$lib")
	if ! valgrind --tool=callgrind --dump-instr=no --trace-children=yes \
		--callgrind-out-file="$out/cg.%p" /usr/bin/env "${pre[@]}" \
		TLSGUARD_POLICY="$POLICY" BENCH_EXPECT="$word" PROXYCHAINS_CONF_FILE="$W/proxychains.conf" \
		PROXYCHAINS_QUIET_MODE=1 TORSOCKS_CONF_FILE="$W/torsocks.conf" "$B/$prog" "$@" >"$out/log" 2>&1; then
		echo "bench: $prog $* under callgrind failed:" >&2
		grep -v '^==[0-9]*==' "$out/log" | tail -5 >&2 # the program's words, not valgrind's
		return 1
	fi
	# the files of the processes that ran PROG (env exec'd it: same pid)
	mapfile -t files < <(grep -l "^cmd: .*bench/$prog " "$out"/cg.*)
	if [ "${#files[@]}" != "$procs" ]; then
		echo "bench: $prog $*: ${#files[@]} callgrind profile(s) of $prog, expected $procs" >&2
		return 1
	fi
	awk '/^totals:/ { s += $2 } END { print s }' "${files[@]}"
}

# ir LIB WORD ARGS...: total Ir of `calls ARGS` (cg_total, one process)
ir() { cg_total 1 calls "$@"; }

# per_call LIB WORD CALLS ARGS0... -- ARGSN...: (Ir with N calls - Ir with 0) / CALLS
per_call() {
	local lib=$1 word=$2 calls=$3 zero=() full=() i0 iN
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
	local name=$1 budget=$2 calls=$3 plain shim delta limit
	shift 3
	limit="<= +$budget Ir"
	[ "$budget" = - ] && limit=reference
	echo "bench: $name (callgrind)" >&2
	if ! plain=$(per_call - "" "$calls" "$@") || ! shim=$(per_call "$SHIM" libtlsguard "$calls" "$@"); then
		row "$name" "Ir/call" - - - "$limit" ERROR "see the messages above"
		return
	fi
	delta=$(calc "%+.1f" "$shim - $plain")
	if [ "$budget" = - ]; then
		row "$name" "Ir/call" "$plain" "$shim" "$delta" "$limit" INFO "no budget: a first connect, the full match"
	else
		row "$name" "Ir/call" "$plain" "$shim" "$delta" "$limit" "$(at_most "$delta" "$budget")"
	fi
}

call_row "write /dev/null, 1M calls" 10 "$WRITES" write-null 0 -- write-null "$WRITES"
call_row "read+write socketpair, 1M calls" 10 $((PAIRS * 2)) socketpair 0 -- socketpair "$PAIRS"
call_row "connect+close loopback allow, warm, $RULES rules" 150 "$CONNECTS" \
	connect 0 "$ALLOW_PORT" -- connect "$CONNECTS" "$ALLOW_PORT"
# every connect a new destination (SPREAD_SPAN ports from SPREAD_BASE; the
# warm-up goes to SPREAD_BASE + SPREAD_SPAN), so the shim's 256-slot decision
# cache never hits: the full policy match every time. The issue's budget is
# the warm row's; this one shows what a first connect to a destination costs.
call_row "connect+close loopback allow, cold, $RULES rules" - "$SPREAD_CONNECTS" \
	connect-spread 0 "$SPREAD_BASE" "$SPREAD_SPAN" -- \
	connect-spread "$SPREAD_CONNECTS" "$SPREAD_BASE" "$SPREAD_SPAN"

# The other preload libraries, for reference, only when installed.
# The connection lock (shim/core/lock.h) against a default pthread_mutex_t, per
# governed send (three take/give pairs): lock.h is kept only while it is the
# cheaper of the two (issue 14).
LOCK_SENDS=200000
lock_path_per_send() {
	local i0 iN
	i0=$(cg_total 1 lock_path - "" "$1" 0) || return 1
	iN=$(cg_total 1 lock_path - "" "$1" "$LOCK_SENDS") || return 1
	calc "%.1f" "($iN - $i0) / $LOCK_SENDS"
}
name="governed send's lock, pthread_mutex / lock.h"
echo "bench: $name (callgrind)" >&2
if mutex=$(lock_path_per_send mutex) && own=$(lock_path_per_send lock); then
	row "$name" "Ir/send" "$mutex" "$own" "$(calc "%+.1f" "$own - $mutex")" "lock.h <= mutex" \
		"$(at_most "$own" "$mutex")" "without: pthread_mutex_t, with: lock.h; no shim involved"
else
	row "$name" "Ir/send" - - - "lock.h <= mutex" ERROR "see the messages above"
fi

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
# torsocks refuses loopback destinations unless told otherwise; nothing listens
# on its Tor port, and nothing needs to: a loopback connect goes direct.
cat >"$W/torsocks.conf" <<EOF
TorAddress 127.0.0.1
TorPort 9
AllowOutboundLocalhost 1
EOF
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

# ---------------------------------------------------------------------------
# The TLS workloads again, as instruction counts: stable where the wall-time rows
# above swing by +-10% run to run on a 2-core machine.

# tls_per PROG LIB WORD MODE N0 N: (Ir with N - Ir with N0) / (N - N0), client
# and server together, so set-up (policy, certificates, first connect) cancels
# out; PROG is tls_pair (OpenSSL) or gtls_pair (GnuTLS)
tls_per() {
	local prog=$1 lib=$2 word=$3 mode=$4 n0=$5 n=$6 i0 iN
	i0=$(cg_total 2 "$prog" "$lib" "$word" "$mode" "$n0" "$TLS_PORT" "$W/certs") || return 1
	iN=$(cg_total 2 "$prog" "$lib" "$word" "$mode" "$n" "$TLS_PORT" "$W/certs") || return 1
	[ -n "$i0" ] && [ -n "$iN" ] || return 1
	calc "%.0f" "($iN - $i0) / ($n - $n0)"
}

# tls_ir_row NAME UNIT BUDGET PROG MODE N0 N: the change is without/with, a
# throughput-equivalent like the wall-time rows' with/without (user-space
# instructions only: the kernel's share of the work is not in either figure)
tls_ir_row() {
	local name=$1 unit=$2 budget=$3 prog=$4 mode=$5 n0=$6 n=$7 plain shim ratio
	echo "bench: $name, $prog $mode $n and $n0 (callgrind)" >&2
	if ! plain=$(tls_per "$prog" - "" "$mode" "$n0" "$n") ||
		! shim=$(tls_per "$prog" "$SHIM" libtlsguard "$mode" "$n0" "$n"); then
		row "$name" "$unit" - - - ">= ${budget}x" ERROR "see the messages above"
		return
	fi
	ratio=$(calc "%.3f" "$plain / $shim")
	row "$name" "$unit" "$plain" "$shim" "${ratio}x" ">= ${budget}x" "$(at_least "$ratio" "$budget")" \
		"instructions, both processes"
}

tls_ir_row "TLS bulk, instructions" "Ir/MiB" 0.99 tls_pair bulk "$BULK_IR_MIB0" "$BULK_IR_MIB"
tls_ir_row "TLS handshakes, instructions" "Ir/hs" 0.97 tls_pair handshakes "$HS_IR0" "$HS_IR"
# The same handshakes with GnuTLS at both ends (gtls_pair): the shim's GnuTLS
# layer (the session's priorities, the outcome check, the hello tied to its
# session), under the OpenSSL row's budget.
tls_ir_row "GnuTLS handshakes, instructions" "Ir/hs" 0.97 gtls_pair handshakes "$HS_IR0" "$HS_IR"

# ---------------------------------------------------------------------------
# More wall-time rows: start-up (exec loop) and policy load.

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
: >"$W/exec.empty"
: >"$W/exec.shim"
exec_ok=1
# three sides, alternating: none, an empty preload (the floor), the shim
for r in $(seq 1 "$RUNS"); do
	wall bash -c "$LOOP" >>"$W/exec.plain" || exec_ok=0
	wall env LD_PRELOAD="$EMPTY" bash -c "$LOOP" >>"$W/exec.empty" || exec_ok=0
	wall env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$SMALL" bash -c "$LOOP" >>"$W/exec.shim" || exec_ok=0
done
if [ "$exec_ok" = 1 ]; then
	plain=$(median <"$W/exec.plain")
	empty=$(median <"$W/exec.empty")
	shim=$(median <"$W/exec.shim")
	ratio=$(calc "%.3f" "$shim / $plain")
	row "$name" "s" "$plain" "$shim" "${ratio}x" "<= 1.05x" "$(at_most "$ratio" 1.05)" "median of $RUNS"
	ratio=$(calc "%.3f" "$empty / $plain")
	row "exec loop, an empty preload instead" "s" "$plain" "$empty" "${ratio}x" reference INFO \
		"preloading any library; median of $RUNS"
else
	row "$name" "s" - - - "<= 1.05x" ERROR "the loop failed"
fi

# Page faults per exec of /bin/true: deterministic, unlike the wall time.
faults_per_exec() {
	/usr/bin/python3 - "$@" <<'PY'
import os, resource, sys
env = dict(os.environ)
if sys.argv[1] != "-":
    env["LD_PRELOAD"] = sys.argv[1]
    env["TLSGUARD_POLICY"] = sys.argv[2]
before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt
for _ in range(200):
    os.waitpid(os.posix_spawn("/bin/true", ["/bin/true"], env), 0)
print("%.1f" % ((resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt - before) / 200))
PY
}
echo "bench: page faults per exec of /bin/true" >&2
if plain=$(faults_per_exec -) && empty=$(faults_per_exec "$EMPTY" "$SMALL") &&
	shim=$(faults_per_exec "$SHIM" "$SMALL"); then
	row "page faults per exec of /bin/true" "faults" "$plain" "$shim" "$(calc "%+.1f" "$shim - $plain")" \
		reference INFO "an empty preload: $(calc "%+.1f" "$empty - $plain")"
else
	row "page faults per exec of /bin/true" "faults" - - - reference ERROR "python3 failed"
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

# The tunnel rows (upgrade_tls, terminate_tls) against stunnel4: bench/tunnel.sh.
. "$TOP/bench/tunnel.sh"

# ---------------------------------------------------------------------------
# The table and the JSON.

printf '\n%-47s %-8s %12s %12s %10s %12s  %s\n' workload unit without with change budget result
printf '%s\n' "$(printf '%.0s-' $(seq 1 113))"
for r in "${ROWS[@]}"; do
	IFS='|' read -r name unit plain shim change budget result note <<<"$r"
	printf '%-47s %-8s %12s %12s %10s %12s  %s%s\n' "$name" "$unit" "$plain" "$shim" "$change" \
		"$budget" "$result" "${note:+ ($note)}"
done
echo
echo "Ir/call: callgrind instructions per call, (Ir with N calls - Ir with 0) / N, user space."
echo "Ir/MiB, Ir/hs: the same for tls_pair (gtls_pair: GnuTLS), client and server, (Ir(N) - Ir(N0)) / (N - N0);"
echo "  their change is without/with, a throughput-equivalent like the wall-time rows' ratio."
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
