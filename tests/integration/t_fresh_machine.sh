#!/bin/bash
# README's first command on a machine that has nothing yet: `make deps` and the
# build in one make invocation. pkg-config and apt-get are replaced on PATH by
# stand-ins that know no package until apt-get install has run in this same
# make; then pkg-config answers as the real one does. A Makefile that asks
# pkg-config before deps has run links without libconfig and fails.
. "$(dirname "$0")/lib.sh"

real_pkg_config=$(command -v pkg-config)
if [ -z "$real_pkg_config" ]; then
	skip fresh_machine "pkg-config is not installed (make deps)"
	exit 0
fi
FAKE="$T/fakebin"
mkdir -p "$FAKE"
LOG="$T/calls.log"
INSTALLED="$T/installed"
: >"$LOG"
cat >"$FAKE/apt-get" <<EOF2
#!/bin/sh
echo "apt-get \$*" >>"$LOG"
case " \$* " in *" install "*) touch "$INSTALLED" ;; esac
exit 0
EOF2
cat >"$FAKE/pkg-config" <<EOF2
#!/bin/sh
if [ -e "$INSTALLED" ]; then
	echo "pkg-config \$*" >>"$LOG"
	exec "$real_pkg_config" "\$@"
fi
echo "pkg-config before install: \$*" >>"$LOG"
for a in "\$@"; do case "\$a" in -*) ;; *) echo "Package \$a was not found in the pkg-config search path." >&2 ;; esac; done
exit 1
EOF2
# make deps asks sudo for apt-get when not root.
cat >"$FAKE/sudo" <<'EOF2'
#!/bin/sh
exec "$@"
EOF2
chmod 0755 "$FAKE"/*

out=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL PATH="$FAKE:$PATH" \
	make -C "$TOP" -j2 deps all BUILD="$T/build" 2>&1)
rc=$?
expect "make deps all: exit 0" 0 "$rc"
[ $rc -eq 0 ] || printf '%s\n' "$out" | tail -n 20 | sed 's/^/# /'
expect "no pkg-config query before apt-get install" "" "$(grep 'before install' "$LOG")"
expect_match "apt-get install ran, then pkg-config" "apt-get .*install.*pkg-config --" \
	"$(tr '\n' ' ' <"$LOG")"
expect_no_match "apt-get shows its progress (no -qq)" "apt-get .*-qq" "$(cat "$LOG")"
expect "the command built links libconfig" "yes" \
	"$(ldd "$T/build/tlsguard" 2>/dev/null | grep -q 'libconfig\.so' && echo yes || echo no)"
printf 'version = 1;\n' >"$T/p.conf"
chmod 0644 "$T/p.conf"
expect "the command built checks a policy" "policy OK: $T/p.conf" \
	"$("$T/build/tlsguard" check "$T/p.conf" 2>&1 | without_devlog_warning)"
expect "the shim is built" "yes" "$([ -s "$T/build/libtlsguard.so" ] && echo yes || echo no)"
