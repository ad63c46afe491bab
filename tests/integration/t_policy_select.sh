#!/bin/bash
# Which policy applies, decided once (policy/policy_select.c) for the shim and
# the CLI: TLSGUARD_POLICY set but empty is an error (fail closed), with the
# same message from `tlsguard check`/`explain`/`run` as from the shim, which
# refuses every connection and records why.
. "$(dirname "$0")/lib.sh"

unset TLSGUARD_POLICY TLSGUARD_MODE
WANT_MSG='(policy): no policy path given: TLSGUARD_POLICY is set but empty'

# --- the CLI -------------------------------------------------------------------

TLSGUARD_POLICY="" "$CLI" check >"$T/out" 2>"$T/err"
RC=$?
CLI_ERR=$(cat "$T/err")
expect "check: TLSGUARD_POLICY='' exits 1" "1" "$RC"
expect_match "check: says TLSGUARD_POLICY is set but empty" "TLSGUARD_POLICY is set but empty" "$CLI_ERR"
expect_no_match "check: never says the built-in default is OK" "OK" "$(cat "$T/out" "$T/err")"

TLSGUARD_POLICY="" "$CLI" explain example.com:443 >"$T/out" 2>"$T/err"
RC=$?
expect_match "explain: TLSGUARD_POLICY='' fails with the same message" \
	"^[1-9][0-9]*:.*TLSGUARD_POLICY is set but empty" "$RC:$(cat "$T/err")"

TLSGUARD_POLICY="" "$CLI" run -- /bin/true >"$T/out" 2>"$T/err"
RC=$?
expect_match "run: TLSGUARD_POLICY='' exits 78 and runs nothing" \
	"^78:.*TLSGUARD_POLICY is set but empty" "$RC:$(cat "$T/err")"

# --- the shim ------------------------------------------------------------------

# A plain TCP server that records every connection it accepts: under an empty
# TLSGUARD_POLICY, curl must not reach it at all.
PORT=$(free_port)
ACCEPTS="$T/accepts"
: >"$ACCEPTS"
run_bg "$PY" -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
while True:
    c, _ = s.accept()
    open(sys.argv[2], "a").write("accepted\n")
    c.close()' "$PORT" "$ACCEPTS"
wait_port "$PORT" || not_ok "server" "port $PORT never opened"
: >"$ACCEPTS" # wait_port's own probe

LD_PRELOAD="$SHIM" TLSGUARD_POLICY="" timeout -k 5 60 \
	curl -sS --max-time 10 "http://127.0.0.1:$PORT/" >"$T/out" 2>"$T/err"
RC=$?
SHIM_ERR=$(cat "$T/err")
expect_match "curl under the shim with TLSGUARD_POLICY='' fails" "^[1-9]" "$RC"
expect "curl under the shim with TLSGUARD_POLICY='': the server saw no connection" "" \
	"$(cat "$ACCEPTS")"
expect_match "shim: says TLSGUARD_POLICY is set but empty and refuses" \
	"TLSGUARD_POLICY is set but empty.*refusing every network connection" "$SHIM_ERR"
expect_match "shim: the refused connection is audited (policy_error, with the peer)" \
	"event=policy verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$PORT .*reason=policy_error detail=\".*TLSGUARD_POLICY is set but empty" \
	"$SHIM_ERR"

# The same words on both sides: the CLI's message is the shim's.
MSG=$CLI_ERR
case "$SHIM_ERR" in
*"$MSG"*) ok "shim and CLI print the same message" ;;
*) not_ok "shim and CLI print the same message" "CLI [$MSG] not in shim [$SHIM_ERR]" ;;
esac
case "$MSG" in
"$WANT_MSG"*) ok "the message names the empty TLSGUARD_POLICY" ;;
*) not_ok "the message names the empty TLSGUARD_POLICY" "[$MSG]" ;;
esac
