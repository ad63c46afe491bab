# shellcheck shell=bash
# The tunnel rows of make bench (bench/README.md, "The tunnel rows"), sourced by
# bench/run.sh: it uses run.sh's row, calc, median, at_most, at_least,
# free_port, run_bg, W, B, SHIM and the certificates in $W/certs.
#
# One plaintext client and one plaintext server (bench/tunnel_peer), three ways
# in the same run, alternating run by run so that drift hits all three:
#   plaintext   client -> server, no TLS at all
#   stunnel4    client -> stunnel (client mode) -> TLS server, and
#               TLS client -> stunnel (server mode) -> server
#   tlsguard    client under the shim, upgrade_tls -> TLS server, and
#               TLS client -> server under the shim, terminate_tls
# The far end of each tunnel is the same program speaking TLS itself through
# OpenSSL (tunnel_peer --tls: TLS 1.3, TLS_AES_128_GCM_SHA256 only, no session
# resumption), so both tunnels negotiate the same suite, make a full handshake
# per connection and verify the same chain and host name; only the tunnel
# differs. A tunnel that did not speak TLS fails the row (the far end refuses
# plaintext), so a row never silently measures plaintext.
#
# Environment: BENCH_TUNNEL_MIB (bulk size, default 1024), BENCH_TUNNEL_RUNS
# (runs per side, default 3).

TUNNEL_MIB=${BENCH_TUNNEL_MIB:-1024}
TUNNEL_RUNS=${BENCH_TUNNEL_RUNS:-3}
TUNNEL_PINGS=10000
TUNNEL_CONNECTS=200
TP=$B/tunnel_peer

# tunnel_wait FILE: up to 10 s for a server's port file (written once it listens).
tunnel_wait() {
	local _
	for _ in $(seq 1 200); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	echo "bench: $1 never appeared" >&2
	return 1
}

# tunnel_wait_port PORT: up to 10 s for a listener (stunnel).
tunnel_wait_port() {
	local _
	for _ in $(seq 1 200); do
		python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' \
			"$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "bench: nothing listens on port $1" >&2
	return 1
}

# tunnel_setup: the servers, stunnel and the shim's policy; 0 or 1.
tunnel_setup() {
	T_PLAIN=$(free_port)
	T_TLS=$(free_port)
	T_TERM=$(free_port)
	T_SCLIENT=$(free_port)
	T_SSERVER=$(free_port)
	T_TERM_CG=$(free_port)
	TPOLICY=$W/policy-tunnel.conf
	cat >"$TPOLICY" <<EOF
version = 1;
mode = "enforce";
env_override = false;
audit = { socket = "$W/no-audit.sock"; stderr = false; };
tls = { ca_file = "$W/certs/root.pem"; };
outbound = {
  default = "deny";
  rules = ( { to = "127.0.0.1"; port = $T_TLS; action = "upgrade_tls";
              tls = { server_name = "localhost"; }; } );
};
inbound = {
  default = "deny";
  rules = ( { port = [ $T_TERM, $T_TERM_CG ]; action = "terminate_tls";
              tls = { cert_file = "$W/certs/valid.pem"; key_file = "$W/certs/valid.key"; }; } );
};
EOF
	chmod 0644 "$TPOLICY"
	cat >"$W/stunnel.conf" <<EOF
; stunnel4 for make bench: the same verification as the shim's upgrade_tls
; (chain to the test root, host name localhost), Nagle off on both sockets as
; the plaintext peers have it off on theirs.
foreground = yes
pid =
syslog = no
debug = 3
output = $W/stunnel.log
socket = l:TCP_NODELAY=1
socket = r:TCP_NODELAY=1
[client]
client = yes
accept = 127.0.0.1:$T_SCLIENT
connect = 127.0.0.1:$T_TLS
CAfile = $W/certs/root.pem
verifyChain = yes
checkHost = localhost
sni = localhost
[server]
accept = 127.0.0.1:$T_SSERVER
connect = 127.0.0.1:$T_PLAIN
cert = $W/certs/valid.pem
key = $W/certs/valid.key
EOF
	run_bg "$TP" server "$T_PLAIN" "$W/t-plain.port" 2>>"$W/tunnel-servers.log"
	run_bg "$TP" server "$T_TLS" "$W/t-tls.port" --tls "$W/certs" 2>>"$W/tunnel-servers.log"
	run_bg env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$TPOLICY" BENCH_EXPECT=libtlsguard \
		"$TP" server "$T_TERM" "$W/t-term.port" 2>>"$W/tunnel-servers.log"
	run_bg stunnel4 "$W/stunnel.conf" >/dev/null 2>&1
	tunnel_wait "$W/t-plain.port" && tunnel_wait "$W/t-tls.port" && tunnel_wait "$W/t-term.port" &&
		tunnel_wait_port "$T_SCLIENT" && tunnel_wait_port "$T_SSERVER"
}

# The three ways, one function each: tunnel_SIDE DIR MODE N prints the figure.
# DIR is "up" (the client's side is tunnelled) or "term" (the server's).
tunnel_plain() { "$TP" client "$2" "$3" "$T_PLAIN"; }
tunnel_stunnel() {
	if [ "$1" = up ]; then
		"$TP" client "$2" "$3" "$T_SCLIENT"
	else
		"$TP" client "$2" "$3" "$T_SSERVER" --tls "$W/certs"
	fi
}
tunnel_shim() {
	if [ "$1" = up ]; then
		env LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$TPOLICY" BENCH_EXPECT=libtlsguard \
			"$TP" client "$2" "$3" "$T_TLS"
	else
		"$TP" client "$2" "$3" "$T_TERM" --tls "$W/certs"
	fi
}

# tunnel_runs OUT DIR MODE N: TUNNEL_RUNS figures per way into OUT.{plain,stunnel,shim}
tunnel_runs() {
	local out=$1 dir=$2 mode=$3 n=$4 side v _
	for side in plain stunnel shim; do
		: >"$out.$side"
	done
	for _ in $(seq 1 "$TUNNEL_RUNS"); do
		for side in plain stunnel shim; do
			v=$("tunnel_$side" "$dir" "$mode" "$n" 2>>"$out.err") || {
				echo "bench: tunnel $dir $mode ($side) failed:" >&2
				tail -3 "$out.err" >&2
				return 1
			}
			echo "$v" >>"$out.$side"
		done
	done
}

# tunnel_row NAME UNIT DIR MODE N HIGHER BUDGET: stunnel in "without", tlsguard in
# "with", plaintext in the note. HIGHER=1: a rate (tlsguard/stunnel at least
# BUDGET); HIGHER=0: a time (tlsguard/stunnel at most BUDGET).
tunnel_row() {
	local name=$1 unit=$2 dir=$3 mode=$4 n=$5 higher=$6 budget=$7 out plain st sh ratio result limit
	out=$W/tunnel-$dir-$mode
	if [ "$higher" = 1 ]; then limit=">= ${budget}x"; else limit="<= ${budget}x"; fi
	echo "bench: $name x $TUNNEL_RUNS per side (plaintext, stunnel4, tlsguard)" >&2
	if [ "$TUNNEL_READY" != 1 ] || ! tunnel_runs "$out" "$dir" "$mode" "$n"; then
		row "$name" "$unit" - - - "$limit" ERROR "${TUNNEL_WHY:-see the messages above}"
		return
	fi
	plain=$(median <"$out.plain")
	st=$(median <"$out.stunnel")
	sh=$(median <"$out.shim")
	ratio=$(calc "%.3f" "$sh / $st")
	if [ "$higher" = 1 ]; then
		result=$(at_least "$ratio" "$budget")
	else
		result=$(at_most "$ratio" "$budget")
	fi
	row "$name" "$unit" "$st" "$sh" "${ratio}x" "$limit" "$result" \
		"without: stunnel4, with: tlsguard; plaintext $plain; median of $TUNNEL_RUNS"
}

# ---------------------------------------------------------------------------
# The bulk rows again as instruction counts (callgrind, user space), for the
# tunnel's side only: the client's process (upgrade_tls; with the shim: the
# program and its pump thread; with stunnel: the client and stunnel) or the
# server's (terminate_tls); the TLS far end is the same both ways and not
# counted. (Ir(N) - Ir(N0)) / (N - N0) per MiB, so start-up, certificates and
# the handshake cancel out. Kernel work (the copies through the pair or the
# loopback, the wake-ups) is in neither figure.
TUNNEL_IR_MIB=32
TUNNEL_IR_MIB0=4

# tunnel_cg DIR CMD...: CMD under callgrind in the background, through env (as
# cg_total does), its profiles in DIR; its pid in TCG_PID
tunnel_cg() {
	local dir=$1
	shift
	valgrind --tool=callgrind --dump-instr=no --trace-children=yes \
		--callgrind-out-file="$dir/cg.%p" /usr/bin/env "$@" >>"$dir/log" 2>&1 &
	TCG_PID=$!
}

# tunnel_cg_sum DIR: the totals of the profiles of tunnel_peer and stunnel4
tunnel_cg_sum() {
	local files=()
	mapfile -t files < <(grep -l -E "^cmd: .*(bench/tunnel_peer|stunnel4) " "$1"/cg.* 2>/dev/null)
	[ "${#files[@]}" -gt 0 ] || return 1
	awk '/^totals:/ { s += $2 } END { print s }' "${files[@]}"
}

# tunnel_cg_stop PID...: SIGTERM (the servers and stunnel exit through
# exit_group, so callgrind writes their profiles), then wait for them
tunnel_cg_stop() {
	local pid
	for pid in "$@"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "$@"; do
		wait "$pid" 2>/dev/null
	done
}

# tunnel_stunnel_conf FILE SECTION ACCEPT CONNECT: one service of stunnel.conf
tunnel_stunnel_conf() {
	sed -n "1,/^\[client\]/p" "$W/stunnel.conf" | sed '$d' >"$1"
	sed -i "s|^output = .*|output = $1.log|" "$1"
	if [ "$2" = client ]; then
		printf '[c]\nclient = yes\naccept = 127.0.0.1:%s\nconnect = 127.0.0.1:%s\nCAfile = %s\nverifyChain = yes\ncheckHost = localhost\nsni = localhost\n' \
			"$3" "$4" "$W/certs/root.pem" >>"$1"
	else
		printf '[s]\naccept = 127.0.0.1:%s\nconnect = 127.0.0.1:%s\ncert = %s\nkey = %s\n' \
			"$3" "$4" "$W/certs/valid.pem" "$W/certs/valid.key" >>"$1"
	fi
}

# tunnel_ir WAY DIR MIB: Ir of the tunnel's side for one bulk of MIB MiB
tunnel_ir() {
	local way=$1 dir=$2 mib=$3 d pids=() p1 p2 rc=0
	d=$(mktemp -d "$W/tcg.XXXXXX")
	case "$way/$dir" in
	plain/up)
		tunnel_cg "$d" "$TP" client bulk "$mib" "$T_PLAIN"
		wait "$TCG_PID" || rc=1
		;;
	shim/up)
		tunnel_cg "$d" LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$TPOLICY" BENCH_EXPECT=libtlsguard \
			"$TP" client bulk "$mib" "$T_TLS"
		wait "$TCG_PID" || rc=1
		;;
	stunnel/up)
		p1=$(free_port)
		tunnel_stunnel_conf "$d/st.conf" client "$p1" "$T_TLS"
		tunnel_cg "$d" stunnel4 "$d/st.conf"
		pids+=("$TCG_PID")
		tunnel_wait_port "$p1" || rc=1
		[ "$rc" = 0 ] && { valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$d/cg.c%p" \
			"$TP" client bulk "$mib" "$p1" >>"$d/log" 2>&1 || rc=1; }
		tunnel_cg_stop "${pids[@]}"
		;;
	plain/term | stunnel/term)
		p1=$(free_port)
		tunnel_cg "$d" "$TP" server "$p1" "$d/srv.port"
		pids+=("$TCG_PID")
		tunnel_wait "$d/srv.port" || rc=1
		p2=$p1
		if [ "$way" = stunnel ]; then
			p2=$(free_port)
			tunnel_stunnel_conf "$d/st.conf" server "$p2" "$p1"
			tunnel_cg "$d" stunnel4 "$d/st.conf"
			pids+=("$TCG_PID")
			tunnel_wait_port "$p2" || rc=1
			[ "$rc" = 0 ] && { "$TP" client bulk "$mib" "$p2" --tls "$W/certs" >>"$d/log" 2>&1 || rc=1; }
		else
			[ "$rc" = 0 ] && { "$TP" client bulk "$mib" "$p2" >>"$d/log" 2>&1 || rc=1; }
		fi
		tunnel_cg_stop "${pids[@]}"
		;;
	shim/term)
		tunnel_cg "$d" LD_PRELOAD="$SHIM" TLSGUARD_POLICY="$TPOLICY" BENCH_EXPECT=libtlsguard \
			"$TP" server "$T_TERM_CG" "$d/srv.port"
		pids+=("$TCG_PID")
		tunnel_wait "$d/srv.port" || rc=1
		[ "$rc" = 0 ] && { "$TP" client bulk "$mib" "$T_TERM_CG" --tls "$W/certs" >>"$d/log" 2>&1 || rc=1; }
		tunnel_cg_stop "${pids[@]}"
		;;
	*)
		rc=1
		;;
	esac
	[ "$rc" = 0 ] || { grep -v '^==' "$d/log" | tail -3 >&2; return 1; }
	tunnel_cg_sum "$d"
}

# tunnel_ir_per WAY DIR: Ir per MiB
tunnel_ir_per() {
	local i0 iN
	i0=$(tunnel_ir "$1" "$2" "$TUNNEL_IR_MIB0") || return 1
	iN=$(tunnel_ir "$1" "$2" "$TUNNEL_IR_MIB") || return 1
	[ -n "$i0" ] && [ -n "$iN" ] || return 1
	calc "%.0f" "($iN - $i0) / ($TUNNEL_IR_MIB - $TUNNEL_IR_MIB0)"
}

# tunnel_ir_row NAME DIR: stunnel's Ir/MiB over tlsguard's, budget 1.5 (a
# throughput-equivalent, as the TLS instruction rows)
tunnel_ir_row() {
	local name=$1 dir=$2 plain st sh ratio
	echo "bench: $name, bulk $TUNNEL_IR_MIB and $TUNNEL_IR_MIB0 MiB (callgrind)" >&2
	if [ "$TUNNEL_READY" != 1 ] || ! plain=$(tunnel_ir_per plain "$dir") ||
		! st=$(tunnel_ir_per stunnel "$dir") || ! sh=$(tunnel_ir_per shim "$dir"); then
		row "$name" "Ir/MiB" - - - ">= 1.5x" ERROR "${TUNNEL_WHY:-see the messages above}"
		return
	fi
	ratio=$(calc "%.3f" "$st / $sh")
	row "$name" "Ir/MiB" "$st" "$sh" "${ratio}x" ">= 1.5x" "$(at_least "$ratio" 1.5)" \
		"without: stunnel4, with: tlsguard, the tunnel's side; plaintext $plain"
}

TUNNEL_READY=0
TUNNEL_WHY=
if ! command -v stunnel4 >/dev/null; then
	TUNNEL_WHY="stunnel4 not installed (make deps)"
elif ! [ -x "$TP" ]; then
	TUNNEL_WHY="$TP missing"
elif tunnel_setup; then
	TUNNEL_READY=1
else
	TUNNEL_WHY="the tunnel servers did not start: $(tail -2 "$W/tunnel-servers.log" 2>/dev/null | tr '\n' ' ')"
fi
if [ "$TUNNEL_READY" != 1 ] && [ -z "$TUNNEL_WHY" ]; then
	TUNNEL_WHY="set-up failed"
fi

tunnel_row "tunnel bulk $TUNNEL_MIB MiB, upgrade_tls" "MiB/s" up bulk "$TUNNEL_MIB" 1 1.5
tunnel_row "tunnel 1-byte ping-pong x$TUNNEL_PINGS, upgrade_tls" "us/rtt" up ping "$TUNNEL_PINGS" 0 0.7
tunnel_row "tunnel connect to 1st response, upgrade_tls" "us" up connect "$TUNNEL_CONNECTS" 0 1.0
tunnel_row "tunnel bulk $TUNNEL_MIB MiB, terminate_tls" "MiB/s" term bulk "$TUNNEL_MIB" 1 1.5
tunnel_row "tunnel 1-byte ping-pong x$TUNNEL_PINGS, terminate_tls" "us/rtt" term ping "$TUNNEL_PINGS" 0 0.7
tunnel_row "tunnel connect to 1st response, terminate_tls" "us" term connect "$TUNNEL_CONNECTS" 0 1.0
tunnel_ir_row "tunnel bulk, instructions, upgrade_tls" up
tunnel_ir_row "tunnel bulk, instructions, terminate_tls" term
