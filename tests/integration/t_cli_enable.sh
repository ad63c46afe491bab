#!/bin/bash
# tlsguard enable / disable / status: the systemd drop-in written below a
# scratch root (and accepted by systemd-analyze verify), refused service names
# and policies, its removal, and the processes status finds with the shim.
. "$(dirname "$0")/lib.sh"

ROOT="$T/root"
mkdir -p "$ROOT"
UNITS="$ROOT/etc/systemd/system"
write_policy "$T/policy.conf" <<'EOF2'
version = 1;
mode = "enforce";
EOF2
write_policy "$T/bad.conf" <<'EOF2'
version = 1;
mode = "enforcing";
EOF2
shim_real=$(realpath "$SHIM")

# --- enable writes the drop-in, in audit mode, and says how to apply it ---
out=$("$CLI" enable demo -p "$T/policy.conf" --audit --root "$ROOT" 2>"$T/err")
rc=$?
expect "enable: exit 0" 0 "$rc"
dropin="$UNITS/demo.service.d/tlsguard.conf"
expect "enable: the drop-in's [Service] lines" \
	"[Service]
Environment=LD_PRELOAD=$shim_real
Environment=TLSGUARD_POLICY=$T/policy.conf
Environment=TLSGUARD_MODE=audit" "$(grep -v '^#' "$dropin" 2>&1)"
expect "enable: the drop-in is 0644" 644 "$(stat -c %a "$dropin" 2>&1)"
expect_match "enable: prints what it wrote" "wrote $dropin:" "$out"
expect_match "enable: prints daemon-reload" "systemctl daemon-reload" "$out"
expect_match "enable: prints the restart" "systemctl restart demo\.service" "$out"

# Enforce mode: no TLSGUARD_MODE line, a reminder that audit comes first; a
# relative policy is written as an absolute path; ".service" is optional.
(cd "$T" && "$CLI" enable web.service -p policy.conf --root "$ROOT" >/dev/null 2>"$T/err")
expect "enable: enforce mode, relative policy" \
	"Environment=LD_PRELOAD=$shim_real
Environment=TLSGUARD_POLICY=$T/policy.conf" "$(grep '^Environment' "$UNITS/web.service.d/tlsguard.conf" 2>&1)"
expect_match "enable: enforce mode suggests --audit first" "--audit" "$(cat "$T/err")"

# --- an invalid policy: FILE:LINE, exit 1, nothing written ---
out=$("$CLI" enable broken -p "$T/bad.conf" --root "$ROOT" 2>&1)
rc=$?
expect "enable: invalid policy exits 1" 1 "$rc"
expect_match "enable: invalid policy says FILE:LINE" "^$T/bad.conf:2: " "$out"
expect "enable: invalid policy writes nothing" "" "$(ls "$UNITS" | grep broken)"

# --- service names that would leave the unit directory, or are no service ---
for name in ../evil a/b .hidden foo.socket 'x y' '' 'a..b'; do
	"$CLI" enable "$name" -p "$T/policy.conf" --root "$ROOT" >/dev/null 2>&1
	expect "enable: service name [$name] refused" 2 "$?"
done
expect "enable: refused names write nothing" "demo.service.d web.service.d" "$(ls "$UNITS" | tr '\n' ' ' | sed 's/ $//')"
expect "enable: nothing outside the unit directory" "" "$(find "$ROOT" -path "$UNITS" -prune -o -type f -print)"

# --- systemd reads the drop-in as written ---
if command -v systemd-analyze >/dev/null && systemd-analyze --help 2>/dev/null | grep -q -- '--root'; then
	mkdir -p "$ROOT/bin"
	cp /bin/sleep "$ROOT/bin/sleep"
	printf '[Unit]\nDescription=tlsguard test\nDefaultDependencies=no\n[Service]\nExecStart=/bin/sleep 60\n' \
		>"$UNITS/demo.service"
	SYSTEMD_LOG_LEVEL=debug systemd-analyze verify --root="$ROOT" demo.service >"$T/verify.out" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && grep -qiE 'not supported|cannot|failed to (initialize|connect)' "$T/verify.out" &&
		! grep -q 'tlsguard.conf' "$T/verify.out"; then
		skip "systemd-analyze verify" "does not run here: $(head -n 1 "$T/verify.out")"
	else
		expect "systemd-analyze verify: exit 0" 0 "$rc"
		expect "systemd-analyze verify: no complaint about the drop-in" "" \
			"$(grep 'tlsguard.conf:' "$T/verify.out")"
		expect "systemd-analyze verify: the service gets the environment" \
			"LD_PRELOAD=$shim_real TLSGUARD_POLICY=$T/policy.conf TLSGUARD_MODE=audit" \
			"$(sed -n 's/^[[:space:]]*Environment: //p' "$T/verify.out" | tr '\n' ' ' | sed 's/ $//')"
	fi
else
	skip "systemd-analyze verify" "systemd-analyze with --root is not installed"
fi

# --- disable removes the drop-in and its directory; twice is harmless ---
out=$("$CLI" disable demo --root "$ROOT" 2>&1)
expect "disable: exit 0" 0 "$?"
expect "disable: the drop-in is gone" "no" "$([ -e "$dropin" ] && echo yes || echo no)"
expect "disable: its directory is gone" "no" "$([ -e "$UNITS/demo.service.d" ] && echo yes || echo no)"
expect_match "disable: prints daemon-reload" "systemctl daemon-reload" "$out"
out=$("$CLI" disable demo --root "$ROOT" 2>&1)
expect "disable: again, exit 0" 0 "$?"
expect_match "disable: again, says there is nothing to do" "nothing to do" "$out"
# Another drop-in of the same service stays, and so does its directory.
printf '[Service]\nNice=5\n' >"$UNITS/web.service.d/local.conf"
"$CLI" disable web --root "$ROOT" >/dev/null 2>&1
expect "disable: other drop-ins are kept" "local.conf" "$(ls "$UNITS/web.service.d" 2>&1)"
"$CLI" disable ../evil --root "$ROOT" >/dev/null 2>&1
expect "disable: a path as service name is refused" 2 "$?"

# --- status: a shimmed sleep with its mode and policy; an unshimmed one not ---
run_bg env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$T/policy.conf" TLSGUARD_MODE=audit sleep 120
audited=$!
run_bg env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$T/policy.conf" sleep 120
enforced=$!
run_bg sleep 120
plain=$!
maps_have_shim() { grep -q libtlsguard "/proc/$1/maps" 2>/dev/null; }
wait_until maps_have_shim "$audited" && wait_until maps_have_shim "$enforced" &&
	wait_until test "$(readlink "/proc/$plain/exe" 2>/dev/null)" = "$(realpath "$(command -v sleep)")"
out=$("$CLI" status 2>&1)
rc=$?
expect "status: exit 0" 0 "$rc"
sleep_exe=$(realpath "$(command -v sleep)")
expect "status: the audited sleep, its mode and policy" \
	"$audited audit $T/policy.conf $sleep_exe" \
	"$(printf '%s\n' "$out" | awk -v p="$audited" '$1 == p { print $1, $2, $3, $4 }')"
expect "status: the enforced sleep, mode from the policy file" \
	"$enforced enforce $T/policy.conf $sleep_exe" \
	"$(printf '%s\n' "$out" | awk -v p="$enforced" '$1 == p { print $1, $2, $3, $4 }')"
expect "status: the unshimmed sleep is not listed" "" \
	"$(printf '%s\n' "$out" | awk -v p="$plain" '$1 == p')"
# The process lines are those between the header and the count.
n=$(printf '%s\n' "$out" | sed -n '2,/loaded$/p' | grep -vc 'loaded$')
expect_match "status: the count matches the lines" "^$n process(es)? ha(s|ve) libtlsguard.so loaded$" \
	"$(printf '%s\n' "$out" | grep 'loaded$')"
"$CLI" status extra >/dev/null 2>&1
expect "status: an argument is a usage error" 2 "$?"

# --- help for the new commands: every option, the exit statuses ---
for cmd in enable disable status; do
	h=$("$CLI" help "$cmd")
	expect_match "help $cmd: exit statuses" "exit status: 0" "$h"
	expect "help $cmd: same as $cmd --help" "$h" "$("$CLI" "$cmd" --help)"
done
expect_match "help enable: every option" "--policy.*--audit.*--root" "$("$CLI" help enable | tr '\n' ' ')"
