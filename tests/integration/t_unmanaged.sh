# TLS that does not go through the process's own libssl (GnuTLS in wget, the
# OpenSSL bundled in node) cannot be verified by the shim: tls.unmanaged
# decides, deny by default. Managed TLS to the same server is the control.
. "$(dirname "$0")/lib.sh"

bash "$TOP/tests/lib/certs.sh" "$T/pki" >/dev/null
PORT=$(free_port)
# s_server sends the first certificate of -cert only: the intermediate goes
# in -cert_chain.
run_bg openssl s_server -quiet -www -accept "127.0.0.1:$PORT" -cert "$T/pki/valid.pem" \
	-key "$T/pki/valid.key" -cert_chain "$T/pki/inter.pem" </dev/null >/dev/null 2>&1
wait_port "$PORT"
start_audit_sink

policy_with() { # policy_with UNMANAGED: writes $T/UNMANAGED.conf
	write_policy "$T/$1.conf" <<EOF
version = 1;
audit = { socket = "$AUDIT_SOCK"; stderr = false; };
tls = { ca_file = "$T/pki/root.pem"; unmanaged = "$1"; };
EOF
}
for u in deny audit allow; do policy_with $u; done
URL="https://localhost:$PORT/"

# The control: python3's ssl is the process's libssl, verified by the shim.
out=$(POLICY="$T/deny.conf" shimmed "$PY" -c 'import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
print(urllib.request.urlopen(sys.argv[1], context=ctx, timeout=10).status)' "$URL" "$T/pki/root.pem" 2>&1)
expect "managed TLS (python3 ssl) to a valid server: allowed" "200" "$out"

if command -v wget >/dev/null; then
	POLICY="$T/deny.conf" shimmed wget -q -O /dev/null -T 10 -t 1 \
		--ca-certificate="$T/pki/root.pem" "$URL" 2>/dev/null
	rc=$?
	expect_no_match "wget (GnuTLS), unmanaged = deny: refused" "^0$" "$rc"
	if audit_lines | grep -Eq "event=unmanaged_tls verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$PORT host=localhost .*reason=unmanaged_tls exe=/usr/bin/wget"; then
		ok "wget (GnuTLS), unmanaged = deny: audit line"
	else
		not_ok "wget (GnuTLS), unmanaged = deny: audit line" "$(cat "$AUDIT_LOG")"
	fi
	: >"$AUDIT_LOG"
	POLICY="$T/audit.conf" shimmed wget -q -O /dev/null -T 10 -t 1 \
		--ca-certificate="$T/pki/root.pem" "$URL" 2>/dev/null
	expect "wget, unmanaged = audit: goes through" "0" "$?"
	if audit_lines | grep -Eq "event=unmanaged_tls verdict=audit .*exe=/usr/bin/wget"; then
		ok "wget, unmanaged = audit: recorded as verdict=audit"
	else
		not_ok "wget, unmanaged = audit: recorded as verdict=audit" "$(cat "$AUDIT_LOG")"
	fi
	POLICY="$T/allow.conf" shimmed wget -q -O /dev/null -T 10 -t 1 \
		--ca-certificate="$T/pki/root.pem" "$URL" 2>/dev/null
	expect "wget, unmanaged = allow: goes through" "0" "$?"
else
	skip "wget" "wget is not installed (make deps installs it)"
fi

if command -v node >/dev/null; then
	: >"$AUDIT_LOG"
	out=$(POLICY="$T/deny.conf" shimmed node -e '
const https = require("https");
https.get(process.argv[1], { rejectUnauthorized: false, timeout: 10000 }, (r) => {
  console.log("STATUS", r.statusCode); r.resume();
}).on("error", (e) => console.log("ERROR", e.code));' "$URL" 2>&1)
	expect_match "node (bundled OpenSSL), unmanaged = deny: refused" "^ERROR" "$out"
	if audit_lines | grep -Eq "event=unmanaged_tls verdict=block .*reason=unmanaged_tls"; then
		ok "node, unmanaged = deny: audit line"
	else
		not_ok "node, unmanaged = deny: audit line" "$(cat "$AUDIT_LOG")"
	fi
else
	skip "node" "node is not installed"
fi
