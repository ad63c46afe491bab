# Sourced by the demo, the benchmarks, the stress run and the integration
# suites: a scratch directory and every process started with run_bg, both gone when
# the script exits, however it exits.

BG_PIDS=()

# scratch_init PREFIX: SCRATCH becomes a new directory under $TMPDIR (mode
# 0755: servers running as another user, such as postgres, must reach it).
scratch_init() {
	SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || exit 1
	chmod 0755 "$SCRATCH"
	trap scratch_cleanup EXIT
}

# run_bg CMD...: starts CMD in the background; it is killed at exit.
run_bg() {
	"$@" &
	BG_PIDS+=($!)
}

scratch_cleanup() {
	local pid
	for pid in "${BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$SCRATCH"
}
