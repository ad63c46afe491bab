#!/bin/sh
# Runs each libFuzzer target given as an argument (build-fuzz/fuzz/fuzz_NAME) for
# FUZZ_SECONDS (default 60) on a copy of its seeds (tests/fuzz/corpus/NAME, and
# for the policy target the policy fixtures: seeds.sh): the committed corpus
# never grows. Prints one summary line per target and, for
# a crash, the input that caused it. Exits non-zero if any target crashed.
# Run from the top of the tree (make fuzz does). See tests/fuzz/README.md.
#
#   FUZZ_SECONDS   seconds per target (default 60)
#   FUZZ_OUT       where logs, crash inputs and the grown corpora are kept
#                  (default: a fuzz-out directory beside the binaries)
#   FUZZ_ARGS      extra libFuzzer flags, e.g. "-jobs=4 -workers=4"

seconds=${FUZZ_SECONDS:-60}
here=tests/fuzz
status=0

if [ "$#" -eq 0 ]; then
	echo "usage: FUZZ_SECONDS=N $0 build-fuzz/fuzz/fuzz_NAME..." >&2
	exit 2
fi
if [ ! -d "$here/corpus" ]; then
	echo "$0: run from the top of the tree" >&2
	exit 2
fi
. "$here/seeds.sh"

# Inputs beyond these sizes only slow a target down: a policy file of a few KiB
# reaches every key, a stream input holds several TLS flights, an audit input
# holds host names and paths longer than any real one, an ELF input holds a
# small dynamically linked program whole.
max_len_of() {
	case "$1" in
	policy) echo 8192 ;;
	stream) echo 8192 ;;
	audit) echo 2048 ;;
	elf) echo 16384 ;;
	*) echo 4096 ;;
	esac
}

# The last "cov:" and "ft:" figures libFuzzer printed, and its execution count.
summary() {
	log=$1
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | cut -d' ' -f2)
	echo "execs=${execs:-?} cov=${cov:-?} ft=${ft:-?}"
}

for bin in "$@"; do
	target=$(basename "$bin")
	name=${target#fuzz_}
	out=${FUZZ_OUT:-$(dirname "$bin")/fuzz-out}/$name
	rm -rf "$out"
	mkdir -p "$out/corpus" "$out/artifacts"
	# The seeds (seeds.sh), named by their path: corpus/ and fixtures may
	# share a file name.
	seed_files "$name" | while read -r seed; do
		cp "$seed" "$out/corpus/$(echo "$seed" | tr / _)"
	done
	dict=
	if [ -f "$here/$name.dict" ]; then
		dict=-dict=$here/$name.dict
	fi
	# shellcheck disable=SC2086 # FUZZ_ARGS and dict are lists of flags
	LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0" \
		"$bin" -max_total_time="$seconds" -timeout=10 -max_len="$(max_len_of "$name")" \
		-print_final_stats=1 -artifact_prefix="$out/artifacts/" $dict ${FUZZ_ARGS:-} \
		"$out/corpus" >"$out/log" 2>&1
	rc=$?
	crash=$(find "$out/artifacts" -type f | head -n 1)
	if [ "$rc" -ne 0 ] || [ -n "$crash" ]; then
		status=1
		echo "$target: FAILED (exit $rc) $(summary "$out/log")"
		grep -E 'property violated|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' \
			"$out/log" | head -n 3 | sed 's/^/    /'
		echo "    input: ${crash:-none saved}; log: $out/log"
		echo "    replay: $bin ${crash:-INPUT}"
		continue
	fi
	echo "$target: ok $(summary "$out/log") seconds=$seconds corpus=$(find "$out/corpus" -type f | wc -l)"
done
exit $status
