#!/bin/sh
# Replays the saved inputs of each fuzz target given as an argument: a plain
# program ($(BUILD)/tests/fuzz/fuzz_NAME, the target linked with replay_main.c)
# runs the target's self-test, then every file of tests/fuzz/regressions/NAME/
# (inputs that once broke it) and every seed (seeds.sh). make check-unit,
# check-asan and check-tsan run it, so a crash `make fuzz` found becomes a test
# once its input is saved under regressions/NAME/ (tests/fuzz/README.md).
# Prints one line per target; exits non-zero if any input failed.
# Run from the top of the tree.

if [ "$#" -eq 0 ]; then
	echo "usage: $0 BUILD/tests/fuzz/fuzz_NAME..." >&2
	exit 2
fi
if [ ! -d tests/fuzz/corpus ]; then
	echo "$0: run from the top of the tree" >&2
	exit 2
fi
. tests/fuzz/seeds.sh

status=0
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
for bin in "$@"; do
	target=$(basename "$bin")
	name=${target#fuzz_}
	regression_files "$name" >"$tmp/list"
	regressions=$(wc -l <"$tmp/list")
	seed_files "$name" >>"$tmp/list"
	inputs=$(wc -l <"$tmp/list")
	if [ "$inputs" -eq 0 ]; then
		echo "$target: FAILED: no saved inputs (regressions/$name, seeds)"
		status=1
		continue
	fi
	# The program prints each path before it runs it: the last one failed.
	if ! xargs -d '\n' "$bin" --self-test <"$tmp/list" >"$tmp/out" 2>"$tmp/err"; then
		status=1
		last=$(tail -n 1 "$tmp/out")
		if [ -n "$last" ]; then
			echo "$target: FAILED on $last"
		else
			echo "$target: FAILED in its self-test"
		fi
		tail -n 5 "$tmp/err" | sed 's/^/    /'
		continue
	fi
	echo "$target: ok, self-test and $inputs inputs ($regressions regressions) replayed"
done
exit $status
