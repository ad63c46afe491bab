#!/bin/bash
# The GnuTLS attempts of the bypass suite (tests/bypass/gnutls_*.c, table in
# tests/bypass/README.md, "GnuTLS"): each runs without the shim first (the
# control: the attempt does get its plaintext out, or a session with a server
# the policy refuses), then under the shim in enforce mode, where it must be
# blocked; the suite asserts what the program saw, what the server received
# (recording servers), and the audit line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"
. "$(dirname "$0")/lib_bypass.sh"

make_certs || { not_ok "certificate factory" "tests/lib/certs.sh failed"; exit 1; }

# Recording TLS servers: untrusted (another root; TLS 1.0 and later), expired
# (trusted chain), valid, and a TLS 1.0-only server with a valid certificate.
https_recorders "untrusted:$CERTS/untrusted.pem:$CERTS/untrusted.key:old" \
	"expired:$CERTS/expired.pem:$CERTS/expired.key" \
	"valid:$CERTS/valid.pem:$CERTS/valid.key" \
	"tls10:$CERTS/valid.pem:$CERTS/valid.key:tls10"

POLICY="$T/policy.conf"
write_policy "$POLICY" <<CONF
version = 1;
mode = "enforce";
env_override = false;
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
tls = { ca_file = "$CERTS/root.pem"; };
outbound = { default = "require_tls"; };
inbound = { default = "allow"; };
CONF

# attempt NAME ARGS...: runs $BYP/NAME under the shim; output in $OUT, status
# in $RC, events in $EV. The TLS recorders start it with nothing recorded.
attempt() {
	local name=$1 srv
	shift
	for srv in untrusted expired valid tls10; do
		: >"$T/$srv.bytes"
	done
	audit_mark
	OUT=$(shimmed "$BYP/$name" "$@" 2>&1)
	RC=$?
	EV=$(audit_since)
}
# control NAME WANT_REGEX ARGS...: NAME without the shim gets WANT_REGEX.
control() {
	local name=$1 want=$2 out
	shift 2
	out=$("$BYP/$name" "$@" 2>&1)
	expect_match "$name${LABEL:+ ($LABEL)}: control, without the shim" "$want" "$out"
}
# handshake_refused NAME SERVER REASON [DETAIL]: the attempt's handshake failed
# as a genuine verification failure (or, for protocol_version, as GnuTLS
# fails it), no response, one block event with REASON, no byte at SERVER.
handshake_refused() {
	local name=$1 srv=$2 reason=$3 detail=${4:-} port_var=${2}_PORT label
	label="$name${LABEL:+ ($LABEL)}"
	expect_no_match "$label: no response under the shim" "^RESPONSE" "$OUT"
	expect "$label: exit status 1" 1 "$RC"
	if [ "$reason" = cert_verify ] || [ "$reason" = hostname ] || [ "$reason" = pin ]; then
		expect_match "$label: gnutls_handshake fails with GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR" \
			"^HANDSHAKE_FAILED -348 GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR$" "$OUT"
	else
		expect_match "$label: gnutls_handshake fails" "^HANDSHAKE_FAILED -[0-9]+ " "$OUT"
	fi
	expect_match "$label: audit reason=$reason" \
		"event=handshake verdict=block dir=out proto=tcp peer=127\.0\.0\.1:${!port_var} .*reason=$reason${detail:+ detail=\"$detail}" "$EV"
	expect_no_match "$label: not recorded as unmanaged" "reason=unmanaged_tls" "$EV"
	expect "$label: the server saw no application byte" 0 "$(recorded "$srv")"
}

# --- a custom push function writing plaintext before / instead of the hello --
# The sink answers every connection with a line of plaintext, so the control's
# handshake ends at once.
for how in before instead; do
	name=push_$how
	run_bg "$PY" "$(dirname "$0")/sink_server.py" --reply $'HTTP/1.0 400 no\r\n' \
		"$T/$name.port" "$T/$name.bytes"
	wait_file "$T/$name.port"
	port=$(cat "$T/$name.port")
	out=$("$BYP/gnutls_push_plaintext" "$port" "$how" 2>&1)
	expect_match "gnutls_push_plaintext ($how): control, the plaintext goes out" "^SENT 17$" "$out"
	sink_flushed "$port" "$T/$name.bytes"
	: >"$T/$name.bytes"
	attempt gnutls_push_plaintext "$port" "$how"
	expect_match "gnutls_push_plaintext ($how): refused with EACCES" "^REFUSED EACCES$" "$OUT"
	expect "gnutls_push_plaintext ($how): exit status 1" 1 "$RC"
	expect_match "gnutls_push_plaintext ($how): audit line" \
		"event=plaintext verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$port host=- rule=default reason=plaintext .*exe=$BYP/gnutls_push_plaintext " "$EV"
	sink_flushed "$port" "$T/$name.bytes"
	expect "gnutls_push_plaintext ($how): the server received nothing" "END" "$(received "$name")"
done

# --- verification switched off or loosened ----------------------------------
control gnutls_verify_accept_all "^RESPONSE HTTP/1.0 200" "$untrusted_PORT"
attempt gnutls_verify_accept_all "$untrusted_PORT"
handshake_refused gnutls_verify_accept_all untrusted cert_verify

control gnutls_verify_flags "^RESPONSE HTTP/1.0 200" "$expired_PORT" "$CERTS/root.pem"
attempt gnutls_verify_flags "$expired_PORT" "$CERTS/root.pem"
handshake_refused gnutls_verify_flags expired cert_verify

control gnutls_verify_fn_after "LOOSENED_DURING_HANDSHAKE yes
HANDSHAKE_OK .*
RESPONSE HTTP/1.0 200" "$untrusted_PORT"
attempt gnutls_verify_fn_after "$untrusted_PORT"
expect_match "gnutls_verify_fn_after: the functions were set during the handshake" \
	"^LOOSENED_DURING_HANDSHAKE yes$" "$OUT"
handshake_refused gnutls_verify_fn_after untrusted cert_verify

# --- a priority string allowing TLS 1.0 only ---------------------------------
for how in direct init; do
	LABEL=$how
	control gnutls_prio_tls10 "^HANDSHAKE_OK TLS1.0
RESPONSE HTTP/1.0 200" "$untrusted_PORT" "$how"
	attempt gnutls_prio_tls10 "$untrusted_PORT" "$how"
	# the floor is raised to the policy's TLS 1.2: the server then speaks
	# TLS 1.2 or 1.3 and its certificate is what is refused
	handshake_refused gnutls_prio_tls10 untrusted cert_verify
	expect_no_match "gnutls_prio_tls10 ($how): TLS 1.0 was not negotiated" "HANDSHAKE_OK TLS1.0" "$OUT"

	control gnutls_prio_tls10 "^HANDSHAKE_OK TLS1.0
RESPONSE HTTP/1.0 200" "$tls10_PORT" "$how"
	attempt gnutls_prio_tls10 "$tls10_PORT" "$how"
	handshake_refused gnutls_prio_tls10 tls10 protocol_version
done
LABEL=

# --- a session saved from an earlier connection, resumed ----------------------
# without the shim: saved from the expired server and resumed (the control);
# under the shim the saved session must not be resumed, so the certificate is
# looked at and refused.
: >"$T/sess.bin"
out=$("$BYP/gnutls_resume_saved" "$expired_PORT" "$T/sess.bin" save 2>&1)
expect_match "gnutls_resume_saved: control, a session saved without the shim" "RESPONSE HTTP/1.0 200" "$out"
control gnutls_resume_saved "^RESUMED yes$" "$expired_PORT" "$T/sess.bin" load
attempt gnutls_resume_saved "$expired_PORT" "$T/sess.bin" load
expect_no_match "gnutls_resume_saved: the saved session is not resumed" "^RESUMED yes" "$OUT"
handshake_refused gnutls_resume_saved expired cert_verify

# --- records after a refused handshake ----------------------------------------
control gnutls_record_after_refused "^RESPONSE HTTP/1.0 200" "$untrusted_PORT"
attempt gnutls_record_after_refused "$untrusted_PORT"
handshake_refused gnutls_record_after_refused untrusted cert_verify
expect_match "gnutls_record_after_refused: a second gnutls_handshake fails too" "^HANDSHAKE_AGAIN -[0-9]+ " "$OUT"
expect_match "gnutls_record_after_refused: gnutls_record_send fails" "^RECORD_SEND -[0-9]+ " "$OUT"
expect_match "gnutls_record_after_refused: write() of plaintext on the socket fails" \
	"^WRITE REFUSED " "$OUT"

# --- GnuTLS loaded with dlopen after start-up -------------------------------------
# "linked, or dlopen'ed later": a program that does not link libgnutls loads it
# and finds its functions with dlsym, on the library's handle (RTLD_LOCAL) or
# in the global scope (RTLD_GLOBAL). Governed the same: the trusted server
# works (no unmanaged_tls), the untrusted one is refused as a verification error.
expect "dlopen_gnutls_client: does not link libgnutls" "" \
	"$(readelf -d "$BYP/dlopen_gnutls_client" | grep 'NEEDED.*libgnutls')"
for how in local global; do
	LABEL=$how
	control dlopen_gnutls_client "^RESPONSE HTTP/1.0 200" "$untrusted_PORT" "$how"
	attempt dlopen_gnutls_client "$valid_PORT" "$how"
	expect_match "dlopen_gnutls_client ($how): the trusted server works" "^RESPONSE HTTP/1.0 200" "$OUT"
	expect_no_match "dlopen_gnutls_client ($how), trusted server: no block or unmanaged event" \
		"verdict=block|unmanaged_tls" "$EV"
	attempt dlopen_gnutls_client "$untrusted_PORT" "$how"
	handshake_refused dlopen_gnutls_client untrusted cert_verify
done
LABEL=

# --- a GnuTLS ClientHello replayed by the program after its session is gone ----
# The hello is real TLS but no governed session writes it: unmanaged TLS,
# refused (tls.unmanaged = "deny" by default), nothing reaches the server.
sink replayed_hello
port=$(cat "$T/replayed_hello.port")
out=$("$BYP/gnutls_replayed_hello" "$port" 2>&1)
expect_match "gnutls_replayed_hello: control, the captured hello goes out" "^SENT [0-9]+$" "$out"
sink_flushed "$port" "$T/replayed_hello.bytes"
: >"$T/replayed_hello.bytes"
attempt gnutls_replayed_hello "$port"
expect_match "gnutls_replayed_hello: the write is refused (EACCES)" "^REFUSED EACCES$" "$OUT"
expect "gnutls_replayed_hello: exit status 1" 1 "$RC"
expect_match "gnutls_replayed_hello: audit reason=unmanaged_tls" \
	"event=unmanaged_tls verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$port .*reason=unmanaged_tls" "$EV"
sink_flushed "$port" "$T/replayed_hello.bytes"
expect "gnutls_replayed_hello: the server received nothing" "END" "$(received replayed_hello)"

# --- a priority string with NULL ciphers only -----------------------------------
# Against a server with a certificate the policy trusts that accepts NULL
# ciphers: the control negotiates one; under the shim it must not be used.
NULL_PORT=$(new_port)
tls_server "$NULL_PORT" "$CERTS/valid.pem" "$CERTS/valid.key" -cert_chain "$CERTS/inter.pem" \
	-cipher 'ALL:eNULL:@SECLEVEL=0' || not_ok "NULL cipher server" "did not start"
NULL_ONLY='NONE:+VERS-TLS1.2:+NULL:+SHA1:+SHA256:+ECDHE-ECDSA:+SIGN-ALL:+GROUP-ALL:+COMP-NULL:+CTYPE-X509'
out=$("$CARELESS_GNUTLS" -P "$NULL_ONLY" none "$NULL_PORT" 2>&1)
expect_match "careless_gnutls_client -P NULL-only: control negotiates a NULL cipher" \
	"^HANDSHAKE_OK TLS1.2 .*\(NULL\)" "$out"
audit_mark
out=$(shimmed "$CARELESS_GNUTLS" -P "$NULL_ONLY" none "$NULL_PORT" 2>&1)
rc=$?
EV=$(audit_since)
expect "careless_gnutls_client -P NULL-only: exit status 1" 1 "$rc"
expect_no_match "careless_gnutls_client -P NULL-only: no NULL session" "HANDSHAKE_OK|RESPONSE" "$out"
expect_match "careless_gnutls_client -P NULL-only: audit reason=cipher" \
	"event=handshake verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$NULL_PORT .*reason=cipher" "$EV"
out=$(shimmed "$CARELESS_GNUTLS" -P 'NORMAL:+NULL:%NO_ETM' none "$NULL_PORT" 2>&1)
expect_match "careless_gnutls_client -P NORMAL:+NULL: a real cipher is negotiated" \
	"^HANDSHAKE_OK .*\((AES|CHACHA)" "$out"

# --- TLS 1.3 early data on a session saved before enforcement --------------------
# gnutls-serv --earlydata (not under the shim) with the expired certificate:
# without the shim the saved session is resumed and the early data accepted,
# before any certificate could be looked at; under the shim the session is not
# resumed, so nothing goes early, and the certificate is refused.
EARLY_PORT=$(new_port)
run_bg gnutls-serv --http -q --earlydata -p "$EARLY_PORT" --x509certfile "$CERTS/expired.pem" \
	--x509keyfile "$CERTS/expired.key" </dev/null >/dev/null 2>&1
wait_port "$EARLY_PORT" || not_ok "gnutls-serv --earlydata" "did not start"
out=$("$BYP/gnutls_resume_saved" "$EARLY_PORT" "$T/early.sess" save 2>&1)
expect_match "gnutls_early_data: control, a session saved without the shim" "RESPONSE HTTP/1.0 200" "$out"
control gnutls_early_data "^EARLY_DATA accepted
RESUMED yes" "$EARLY_PORT" "$T/early.sess"
audit_mark
OUT=$(shimmed "$BYP/gnutls_early_data" "$EARLY_PORT" "$T/early.sess" 2>&1)
RC=$?
EV=$(audit_since)
expect_no_match "gnutls_early_data: no early data accepted, no resumption" "EARLY_DATA accepted|RESUMED yes" "$OUT"
expect_match "gnutls_early_data: gnutls_handshake fails with GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR" \
	"^HANDSHAKE_FAILED -348 " "$OUT"
expect "gnutls_early_data: exit status 1" 1 "$RC"
expect_match "gnutls_early_data: audit reason=cert_verify" \
	"event=handshake verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$EARLY_PORT .*reason=cert_verify" "$EV"

# --- TLS without a certificate: PSK, anonymous key exchange -------------------------
# Servers that present no certificate at all (s_server -nocert): PSK (TLS 1.3),
# anonymous ECDH (TLS 1.2). Without the shim the program gets its page.
PSK_PORT=$(new_port) ANON_PORT=$(new_port)
PSK_KEY=$(openssl rand -hex 16)
run_bg openssl s_server -quiet -www -accept "127.0.0.1:$PSK_PORT" -nocert -psk "$PSK_KEY" \
	</dev/null >/dev/null 2>&1
run_bg openssl s_server -quiet -www -accept "127.0.0.1:$ANON_PORT" -nocert -no_tls1_3 \
	-cipher 'aNULL:@SECLEVEL=0' </dev/null >/dev/null 2>&1
wait_port "$PSK_PORT"
wait_port "$ANON_PORT"
for how in psk anon; do
	LABEL=$how
	args=("$ANON_PORT" anon) port=$ANON_PORT
	[ "$how" = psk ] && args=("$PSK_PORT" psk "$PSK_KEY") port=$PSK_PORT
	control gnutls_no_certificate "^RESPONSE HTTP/1.0 200" "${args[@]}"
	attempt gnutls_no_certificate "${args[@]}"
	expect_no_match "gnutls_no_certificate ($how): no response under the shim" "^RESPONSE" "$OUT"
	expect "gnutls_no_certificate ($how): exit status 1" 1 "$RC"
	expect_match "gnutls_no_certificate ($how): gnutls_handshake fails with GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR" \
		"^HANDSHAKE_FAILED -348 " "$OUT"
	expect_match "gnutls_no_certificate ($how): audit reason=cipher (not certificate-authenticated)" \
		"event=handshake verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$port .*reason=cipher" "$EV"
done
LABEL=

# --- a raw public key (RFC 7250) instead of a certificate ------------------------
# gnutls-serv sends a bare key (openssl pkey -pubout), which no anchor vouches for.
RAWPK_PORT=$(new_port)
openssl pkey -in "$CERTS/valid.key" -pubout -out "$T/rawpk.pem" 2>/dev/null
run_bg gnutls-serv --http -q -p "$RAWPK_PORT" --rawpkkeyfile "$CERTS/valid.key" \
	--rawpkfile "$T/rawpk.pem" --priority 'NORMAL:+CTYPE-SRV-RAWPK:+CTYPE-CLI-RAWPK' \
	</dev/null >/dev/null 2>&1
wait_port "$RAWPK_PORT" || not_ok "gnutls-serv --rawpkfile" "did not start"
control gnutls_rawpk "^SERVER_CERT_TYPE Raw Public Key
RESPONSE HTTP/1.0 200" "$RAWPK_PORT"
attempt gnutls_rawpk "$RAWPK_PORT"
expect_no_match "gnutls_rawpk: no response under the shim" "^RESPONSE" "$OUT"
expect "gnutls_rawpk: exit status 1" 1 "$RC"
expect_match "gnutls_rawpk: gnutls_handshake fails with GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR" \
	"^HANDSHAKE_FAILED -348 " "$OUT"
expect_match "gnutls_rawpk: audit reason=cert_verify" \
	"event=handshake verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$RAWPK_PORT .*reason=cert_verify" "$EV"

# --- renegotiation of a verified TLS 1.2 session to NULL ciphers -------------------
# gnutls-serv (not under the shim) with a trusted certificate, accepting NULL
# ciphers and renegotiation: the control renegotiates to NULL; under the shim
# the second handshake is held to the policy and fails, and nothing more is
# sent on that session.
RENEG_PORT=$(new_port)
run_bg gnutls-serv --http -q -p "$RENEG_PORT" --x509certfile "$CERTS/valid.pem" \
	--x509keyfile "$CERTS/valid.key" --priority 'NORMAL:+NULL:%NO_ETM' </dev/null >/dev/null 2>&1
wait_port "$RENEG_PORT" || not_ok "gnutls-serv for renegotiation" "did not start"
control gnutls_renegotiate_null "^REHANDSHAKE_OK NULL
RESPONSE HTTP/1.0 200" "$RENEG_PORT" "$CERTS/root.pem"
attempt gnutls_renegotiate_null "$RENEG_PORT" "$CERTS/root.pem"
expect_match "gnutls_renegotiate_null: the verified session works" "^CIPHER AES" "$OUT"
expect_match "gnutls_renegotiate_null: the renegotiation to NULL fails" "^REHANDSHAKE_FAILED -" "$OUT"
expect_no_match "gnutls_renegotiate_null: no request goes after it" "^RESPONSE" "$OUT"
expect_match "gnutls_renegotiate_null: audit reason=cipher" \
	"event=handshake verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$RENEG_PORT .*reason=cipher" "$EV"
