#!/bin/bash
# Runs every integration suite tests/integration/t_*.sh with real programs under
# the shim, each in its own temporary directory, and prints one closing line
# "integration: N passed, N failed" (N skipped only when a suite says why).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
export TOP=$top BUILD=${BUILD:-build}
export SHIM="$top/$BUILD/libtlsguard.so" CLI="$top/$BUILD/tlsguard"
passed=0 failed=0 skipped=0
for suite in "$here"/t_*.sh; do
	[ -e "$suite" ] || continue
	name=$(basename "$suite" .sh)
	log=$(mktemp)
	timeout -k 10 600 bash "$suite" >"$log" 2>&1 </dev/null
	rc=$?
	[ $rc -eq 124 ] && echo "not ok $name: suite killed after 600 s" >>"$log"
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	s=$(grep -c '^skip ' "$log")
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok $name: suite exited $rc" >>"$log"
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	if [ "$f" -gt 0 ]; then
		echo "== $name: FAILED"
		cat "$log"
	else
		if [ "$s" -gt 0 ]; then
			echo "== $name: $p passed, $s skipped"
		else
			echo "== $name: $p passed"
		fi
		grep '^skip ' "$log"
	fi
	rm -f "$log"
done
echo "integration: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
