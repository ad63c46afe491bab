#!/bin/bash
# The installed layout: make install / make uninstall under DESTDIR are exact
# inverses; the Debian package (make deb) holds the files tlsguard.1 and
# tlsguard.8 name, passes lintian, and its extracted library, policy and
# command enforce on real programs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"

MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || cc -print-multiarch)
# A fresh make: the flags of the `make check` that runs this suite (-j and its
# jobserver descriptors) do not apply to it.
submake() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$TOP" BUILD="$BUILD" "$@"; }

# --- make install, then make uninstall: nothing left but directories ---
stage="$T/stage"
if ! out=$(submake DESTDIR="$stage" PREFIX=/opt/tg install 2>&1); then
	not_ok install "make install failed: $out"
else
	expect "install: the files, in the documented layout" \
		"opt/tg/bin/tlsguard
opt/tg/lib/$MA/tlsguard/libtlsguard.so
opt/tg/share/man/man1/tlsguard.1
opt/tg/share/man/man5/tlsguard.conf.5
opt/tg/share/man/man8/tlsguard.8" "$(cd "$stage" && find . -type f -o -type l | sed 's#^\./##' | sort)"
	# shellcheck disable=SC2016 # the child's $LD_PRELOAD, not ours
	expect "install: tlsguard run preloads the installed shim" \
		"$(realpath "$stage/opt/tg/lib/$MA/tlsguard/libtlsguard.so")" \
		"$(env -u LD_PRELOAD "$stage/opt/tg/bin/tlsguard" run -p "$TOP/etc/policy.conf" -- \
			/bin/sh -c 'printf %s "$LD_PRELOAD"' 2>&1)"
	touch "$stage/opt/tg/bin/not-ours"
	if ! out=$(submake DESTDIR="$stage" PREFIX=/opt/tg uninstall 2>&1); then
		not_ok uninstall "make uninstall failed: $out"
	else
		expect "uninstall: removes every file install wrote, and only those" "opt/tg/bin/not-ours" \
			"$(cd "$stage" && find . -type f -o -type l | sed 's#^\./##' | sort)"
		expect "uninstall: the shim's directory is gone" "no" \
			"$([ -e "$stage/opt/tg/lib/$MA/tlsguard" ] && echo yes || echo no)"
	fi
fi

# --- the Debian package ---
if ! command -v dpkg-buildpackage >/dev/null || ! command -v dh >/dev/null; then
	skip package "dpkg-buildpackage or debhelper is not installed (make deps)"
	exit 0
fi
version=$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb="$TOP/$BUILD/tlsguard_${version}_${arch}.deb"
dbgsym="$TOP/$BUILD/tlsguard-dbgsym_${version}_${arch}.deb"
# Reused when newer than every source file (CI runs make deb first).
stale=$([ -e "$deb" ] && cd "$TOP" && find Makefile README.md debian etc man policy shim tools examples \
	-newer "$deb" -type f 2>/dev/null | head -n 1)
if [ ! -e "$deb" ] || [ ! -e "$dbgsym" ] || [ -n "$stale" ]; then
	if ! out=$(submake deb 2>&1); then
		not_ok "make deb" "$(printf '%s\n' "$out" | tail -n 15)"
		exit 0
	fi
fi
ok "make deb: $(basename "$deb")"
expect "the package's version is the command's" "tlsguard $version" "$("$CLI" --version)"
expect "nothing outside the checkout: no package in its parent" "" \
	"$(ls "$TOP"/.. 2>/dev/null | grep -E '^tlsguard.*\.(deb|changes|buildinfo)$')"

files=$(dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's#^\./#/#')
for f in "/usr/lib/$MA/tlsguard/libtlsguard.so" /usr/bin/tlsguard /etc/tlsguard/policy.conf \
	/usr/share/man/man1/tlsguard.1.gz /usr/share/man/man5/tlsguard.conf.5.gz \
	/usr/share/man/man8/tlsguard.8.gz /usr/share/doc/tlsguard/copyright; do
	expect "package holds $f" "$f" "$(printf '%s\n' "$files" | grep -x "$f")"
done
for f in "$TOP"/examples/rsyslog/*.conf; do
	[ -e "$f" ] || continue
	g="/usr/share/doc/tlsguard/examples/rsyslog/$(basename "$f")"
	expect "package holds $g" "$g" "$(printf '%s\n' "$files" | grep -x "$g")"
done
expect "policy.conf is a conffile" "/etc/tlsguard/policy.conf" \
	"$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles 2>/dev/null)"
expect_match "the -dbgsym package holds the debug symbols" "/usr/lib/debug/\.build-id/.*\.debug" \
	"$(dpkg-deb -c "$dbgsym" 2>&1)"
if command -v lintian >/dev/null; then
	out=$(lintian --fail-on error "$deb" 2>&1 | grep -v 'running with root privileges')
	expect "lintian: no error" "" "$(printf '%s\n' "$out" | grep '^E:')"
else
	skip lintian "lintian is not installed (make deps)"
fi

# --- extracted: the library is stripped, the policy changes nothing, and a
# real program under them is enforced ---
X="$T/x"
dpkg -x "$deb" "$X"
lib="$X/usr/lib/$MA/tlsguard/libtlsguard.so"
expect "the library is stripped" "" "$(readelf -S "$lib" | grep -E '\.symtab|\.debug_info')"
xcli="$X/usr/bin/tlsguard"
# The built-in default, as check -v prints it (on a host that has an
# /etc/tlsguard/policy.conf of its own, the CLI would read that instead).
if [ -e /etc/tlsguard/policy.conf ]; then
	skip "shipped policy vs built-in" "this host has an /etc/tlsguard/policy.conf"
else
	builtin=$(cd "$T" && env -u TLSGUARD_POLICY "$xcli" check -v 2>/dev/null)
	expect "the shipped policy is the built-in default" "$builtin" \
		"$("$xcli" check -v "$X/etc/tlsguard/policy.conf" 2>/dev/null)"
	# Uncommented, every key it shows is still the built-in default.
	sed -E 's/^# ( *([a-z_]+ =|\}|\)))/\1/' "$X/etc/tlsguard/policy.conf" >"$T/uncommented.conf"
	chmod 0644 "$T/uncommented.conf"
	expect "the shipped policy, uncommented, is the built-in default" "$builtin" \
		"$("$xcli" check -v "$T/uncommented.conf" 2>/dev/null)"
fi
[ -e "$T/uncommented.conf" ] && expect_match "the shipped policy shows every section" \
	"mode = .*audit = .*tls = .*outbound = .*inbound = " "$(tr '\n' ' ' <"$T/uncommented.conf")"
# shellcheck disable=SC2016 # the child's $LD_PRELOAD, not ours
expect "tlsguard run from the package preloads the package's shim" "$(realpath "$lib")" \
	"$(env -u LD_PRELOAD "$xcli" run -p "$X/etc/tlsguard/policy.conf" -- /bin/sh -c 'printf %s "$LD_PRELOAD"' 2>&1)"

if ! command -v curl >/dev/null || ! command -v openssl >/dev/null; then
	skip "packaged shim enforces" "curl or openssl is not installed"
	exit 0
fi
run_bg "$PY" "$(dirname "$0")/sink_server.py" "$T/plain.port" "$T/plain.bytes"
wait_file "$T/plain.port"
port=$(cat "$T/plain.port")
SHIM=$lib POLICY="$X/etc/tlsguard/policy.conf" shimmed curl -sS --max-time 10 "http://127.0.0.1:$port/" \
	>/dev/null 2>"$T/curl.err"
expect "packaged shim: plaintext HTTP refused (curl exit 55)" 55 "$?"
sleep 0.2
expect "packaged shim: the server received nothing" "" "$(cat "$T/plain.bytes" 2>/dev/null)"
expect_match "packaged shim: the block is reported" "event=plaintext verdict=block" "$(cat "$T/curl.err")"

make_certs
tport=$(new_port)
tls_server "$tport" "$CERTS/valid.pem" "$CERTS/valid.key"
curl -sS -k --max-time 10 -o /dev/null "https://localhost:$tport/" 2>/dev/null
expect "without the shim, curl -k accepts the test CA's server" 0 "$?"
SHIM=$lib POLICY="$X/etc/tlsguard/policy.conf" shimmed curl -sS -k --max-time 10 -o /dev/null \
	"https://localhost:$tport/" 2>"$T/curl.err"
rc=$?
expect_match "packaged shim: curl -k to an untrusted server fails (35 or 60)" "^(35|60)$" "$rc"
expect_match "packaged shim: the verification failure is reported" "reason=cert_verify" "$(cat "$T/curl.err")"
