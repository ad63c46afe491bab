#!/bin/sh
# Runs each Check suite given as an argument; Check prints its own summary line
# per suite. Exits non-zero if any suite failed.
status=0
for suite in "$@"; do
	echo "== $suite"
	"$suite" || status=1
done
exit $status
