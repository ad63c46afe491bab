# shellcheck shell=bash
# The tunnel suites' common set-up (t_tunnel_core.sh, t_tunnel_direct.sh),
# sourced after lib.sh and lib_tls.sh: the plaintext client program, the
# certificates, the audit sink, and the TLS peers.
# shellcheck disable=SC2034 # used by the suites that source this
CLIENT="$TOP/$BUILD/tests/integration/programs/tunnel_client"
PEER="$(dirname "${BASH_SOURCE[0]}")/tunnel_core_peer.py"
make_certs || { not_ok "certificates" "certs.sh failed"; exit 1; }
start_audit_sink

# peer NAME MODE [CERT]: a tunnel_core_peer.py in MODE serving CERT (default
# valid); its port in ${PORTS[NAME]}, the bytes it received in $T/NAME.log.
declare -A PORTS
peer() {
	local cert=${3:-valid}
	: >"$T/$1.log"
	CLIENT_CA="$CERTS/client-ca.pem" run_bg "$PY" "$PEER" "$2" "$CERTS/$cert.pem" \
		"$CERTS/$cert.key" "$T/$1.port" "$T/$1.log"
	wait_file "$T/$1.port" || { not_ok "peer $1" "did not start"; exit 1; }
	PORTS[$1]=$(cat "$T/$1.port")
}
