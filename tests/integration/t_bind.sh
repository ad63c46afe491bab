#!/bin/bash
# The shim never calls a name it interposes (STYLE.md, "Wrappers"): a call from
# inside libtlsguard.so to one of its own exported names would go through the
# global symbol lookup, to the shim's wrapper or to another preload's, instead
# of the real function (bind/real.h) or the shim's own code by a hidden name
# (sock/io.h). Such a call shows in the shared object as a relocation against
# the exported name (a PLT slot or a data pointer): none may exist.
. "$(dirname "$0")/lib.sh"

nm -D --defined-only "$SHIM" | awk '{ sub(/@.*/, "", $3); print $3 }' | sort -u >"$T/exported"
readelf -rW "$SHIM" | awk '$3 ~ /^R_X86_64_(JUMP_SLOT|GLOB_DAT|64)$/ { sub(/@.*/, "", $5); print $5 }' |
	sort -u >"$T/referenced"
expect_match "the shim exports its wrappers (>100 names)" "^[0-9]{3,}$" "$(wc -l <"$T/exported")"
expect_match "readelf lists the shim's relocations against names" "^[1-9][0-9]*$" \
	"$(wc -l <"$T/referenced")"

calls_own=$(comm -12 "$T/exported" "$T/referenced" | tr '\n' ' ')
expect "no interposed name is called from inside the shim" "" "${calls_own% }"
