#!/bin/bash
# The manual pages say what the build really has: they render without mandoc
# warnings, tlsguard.1 documents every subcommand and option the CLI offers,
# tlsguard.8 names every call the shim exports and its policy examples load,
# and `make install` puts the pages where man(1) finds them.
. "$(dirname "$0")/lib.sh"

MAN="$TOP/man"
PAGE1="$MAN/tlsguard.1"
PAGE5="$MAN/tlsguard.conf.5"
PAGE8="$MAN/tlsguard.8"

if ! command -v mandoc >/dev/null; then
	skip docs_lint "mandoc is not installed (make deps)"
else
	for page in "$PAGE1" "$PAGE5" "$PAGE8"; do
		name=$(basename "$page")
		if [ ! -e "$page" ]; then
			not_ok "docs_lint_$name" "missing"
			continue
		fi
		expect "docs_lint_$name" "" "$(mandoc -Tlint -Wwarning "$page" 2>&1)"
	done
	# The lint check itself can fail: a page with a broken macro is reported.
	sed 's/^\.Sh DESCRIPTION$/.Sh DESCRIPTION\n.Bl -tag/' "$PAGE8" >"$T/broken.8"
	expect_match docs_lint_catches_breakage "not closed|missing|unclosed|WARNING|ERROR" \
		"$(mandoc -Tlint -Wwarning "$T/broken.8" 2>&1)"
fi

# Every subcommand `tlsguard --help` lists is in tlsguard.1: in SYNOPSIS, in
# DESCRIPTION (.It Cm NAME) and in EXIT STATUS; every option of its usage line
# has its own entry (.It Fl OPTION).
help=$("$CLI" --help)
cmds=$(printf '%s\n' "$help" | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p; s/^  \([a-z][a-z-]*\)$/\1/p')
if [ -z "$cmds" ]; then
	not_ok docs_help_lists_commands "no command found in: $help"
fi
for cmd in $cmds; do
	n=$(grep -cE "^\.(It )?Cm $cmd( |$)" "$PAGE1")
	# SYNOPSIS, the DESCRIPTION entry and the EXIT STATUS entry.
	if [ "$n" -ge 3 ]; then
		ok "docs_cli_$cmd"
	else
		not_ok "docs_cli_$cmd" "tlsguard.1 has $n of 3 places for '$cmd' (SYNOPSIS, DESCRIPTION, EXIT STATUS)"
	fi
	synopsis=$(printf '%s\n' "$help" | sed -n "s/^  $cmd \(.*\)/\1/p")
	missing=""
	for opt in $(printf '%s\n' "$synopsis" | grep -oE '(^|[[ ])--?[a-z][a-z-]*' | tr -d '[ '); do
		grep -qE "^\.It Fl ${opt#-}( |$)" "$PAGE1" || missing="$missing $opt"
	done
	expect "docs_cli_${cmd}_options" "" "$missing"
done

# And the other way round: every command in tlsguard.1's SYNOPSIS exists.
missing=""
for cmd in $(sed -n '/^\.Sh SYNOPSIS/,/^\.Sh DESCRIPTION/s/^\.Cm \([a-z-]*\)$/\1/p' "$PAGE1"); do
	printf '%s\n' "$cmds" | grep -qx "$cmd" || missing="$missing $cmd"
done
expect docs_cli_no_phantom_commands "" "$missing"

# The exit statuses tlsguard.1 documents are the ones the command returns.
write_policy "$T/good.conf" <<'EOF'
version = 1;
mode = "enforce";
EOF
write_policy "$T/bad.conf" <<'EOF'
version = 1;
mode = "enforcing";
EOF
printf 'not a program\n' >"$T/noexec"
chmod 0644 "$T/noexec"
printf '%s\n' 'Nov 23 12:00:01 host tlsguard[1]: event=connect verdict=block dir=out proto=tcp peer=127.0.0.1:23 host=- rule=1 reason=denied exe=/bin/x pid=1' >"$T/events.log"
cp /bin/true "$T/setuid-true"
chmod 4755 "$T/setuid-true"
printf '#!/bin/sh\nexit 7\n' >"$T/exit7"
chmod 0755 "$T/exit7"
# want_status|name|arguments: one row per documented status
while IFS='|' read -r want name args; do
	[ -n "$want" ] || continue
	# Word splitting of args is wanted: each row is a command line.
	# shellcheck disable=SC2086
	env -u LD_PRELOAD -u TLSGUARD_POLICY -u TLSGUARD_MODE "$CLI" $args </dev/null >/dev/null 2>&1
	expect "docs_exit_$name" "$want" "$?"
done <<ROWS
0|check_valid|check $T/good.conf
1|check_invalid|check $T/bad.conf
2|check_usage|check -x
0|explain_ok|explain -p $T/good.conf 127.0.0.1:443
1|explain_invalid_policy|explain -p $T/bad.conf 127.0.0.1:443
2|explain_bad_host|explain -p $T/good.conf not..a..host
7|run_command_status|run -p $T/good.conf -- $T/exit7
78|run_bad_policy|run -p $T/bad.conf -- true
127|run_not_found|run -p $T/good.conf -- tlsguard-no-such-command
126|run_not_executable|run -p $T/good.conf -- $T/noexec
2|run_no_command|run -p $T/good.conf
0|inspect_enforceable|inspect /bin/true
1|inspect_setuid|inspect $T/setuid-true
1|inspect_not_found|inspect tlsguard-no-such-command
0|report_ok|report $T/events.log
1|report_unreadable|report $T/no-such-file
0|enable_ok|enable svc -p $T/good.conf --root $T/units
1|enable_invalid_policy|enable svc -p $T/bad.conf --root $T/units
2|enable_bad_service|enable ../svc -p $T/good.conf --root $T/units
0|disable_ok|disable svc --root $T/units
2|disable_usage|disable
0|status_ok|status
2|status_usage|status extra
0|help_ok|help run
2|help_unknown|help no-such-command
ROWS

# Every name in shim/exports.map is in tlsguard.8 as a function (.Fn NAME).
syms=$(sed -e 's#/\*.*\*/##' "$TOP/shim/exports.map" | tr ';' '\n' |
	sed -n 's/^[[:space:]]*\(global:\)\{0,1\}[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*$/\2/p' |
	grep -vx -e global -e local)
nsyms=$(printf '%s\n' "$syms" | grep -c .)
if [ "$nsyms" -lt 50 ]; then
	not_ok docs_exports_parsed "only $nsyms names read from exports.map"
fi
missing=""
for sym in $syms; do
	grep -qE "Fn $sym( |$)" "$PAGE8" || missing="$missing $sym"
done
expect docs_shim_exports "" "$missing"

# The policy keys tlsguard.8 names (.Ic a.b) are keys tlsguard.conf.5 documents.
missing=""
for key in $(grep -ohE '\bIc [a-z0-9_.]+' "$PAGE8" | cut -d' ' -f2 | tr '.' '\n' | sort -u); do
	[ "$key" = tlsguard ] && continue
	grep -qE "Ic $key( |$)" "$PAGE5" || missing="$missing $key"
done
expect docs_shim_policy_keys "" "$missing"

# Every policy example in tlsguard.8 (a literal block starting "version =")
# passes tlsguard check.
awk -v dir="$T" '
	/^\.Bd -literal/ { n++; file = dir "/example" n ".conf"; inblock = 1; next }
	/^\.Ed/ { inblock = 0; next }
	inblock { print > file }
' "$PAGE8"
nex=0
for f in "$T"/example*.conf; do
	[ -e "$f" ] || continue
	head -n 1 "$f" | grep -q '^version *=' || continue
	nex=$((nex + 1))
	chmod 0644 "$f"
	out=$("$CLI" check "$f" 2>&1)
	rc=$?
	out=$(printf '%s\n' "$out" | without_devlog_warning)
	expect "docs_example_$(basename "$f" .conf)_checks" "0 policy OK: $f" "$rc $out"
done
if [ "$nex" -ge 1 ]; then ok docs_examples_found; else not_ok docs_examples_found "no policy example in tlsguard.8"; fi

# make install DESTDIR PREFIX: the shim, the command and the three pages. A
# fresh make: the flags of the `make check` that runs this suite (-j and its
# jobserver descriptors, which are not passed down) do not apply to it.
root="$T/root"
if ! out=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$TOP" BUILD="$BUILD" DESTDIR="$root" PREFIX=/usr install 2>&1); then
	not_ok docs_install "make install failed: $out"
else
	multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || cc -print-multiarch)
	shimdir="usr/lib/$multiarch/tlsguard"
	for f in "$shimdir/libtlsguard.so" usr/bin/tlsguard; do
		if [ -f "$root/$f" ] && [ -r "$root/$f" ]; then ok "docs_install_$(basename "$f")"; else not_ok "docs_install_$(basename "$f")" "$f missing"; fi
	done
	for f in man1/tlsguard.1 man5/tlsguard.conf.5 man8/tlsguard.8; do
		if cmp -s "$MAN/$(basename "$f")" "$root/usr/share/man/$f"; then
			ok "docs_install_$(basename "$f")"
		else
			not_ok "docs_install_$(basename "$f")" "usr/share/man/$f missing or not the page in man/"
		fi
	done
	# The installed command runs and lists its commands.
	expect_match docs_installed_cli_runs "commands:" "$("$root/usr/bin/tlsguard" --help 2>&1)"
	# tlsguard.1: run preloads the shim installed beside it, ../lib/MULTIARCH/tlsguard/.
	# shellcheck disable=SC2016 # the child's $LD_PRELOAD, not ours
	got=$(env -u LD_PRELOAD "$root/usr/bin/tlsguard" run -p "$T/good.conf" -- \
		/bin/sh -c 'printf %s "$LD_PRELOAD"' 2>&1)
	expect docs_installed_run_uses_installed_shim \
		"$(realpath "$root/$shimdir/libtlsguard.so")" "$got"
fi
