#!/bin/bash
# Unmodified GnuTLS programs under the shim (issue 16): git (git-remote-https
# on libcurl-gnutls) with GIT_SSL_NO_VERIFY=1 cloning a dumb-http repository
# served by `openssl s_server -WWW`, wget --no-check-certificate, apt-get
# update with Acquire::https::Verify-Peer=false, gnutls-cli with a priority
# string that allows only TLS 1.0/1.1, and session resumption (gnutls-cli
# --resume, and a session saved before enforcement), each against a trusted
# server and an untrusted one; and that a process without GnuTLS maps none
# under the shim. Controls without the shim show every program alone accepts
# the untrusted server.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"

make_certs || { not_ok "certificate factory" "tests/lib/certs.sh failed"; exit 1; }
start_audit_sink

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

# --- a dumb-http git repository: `git update-server-info` writes info/refs;
# s_server -WWW serves files by path and does not strip the query string, so
# the smart-protocol probe (info/refs?service=git-upload-pack) finds the same
# list under that name and git goes on as with any dumb server.
mkdir -p "$T/www"
(
	export GIT_CONFIG_NOSYSTEM=1 HOME=$T
	git init -q "$T/src" && cd "$T/src" &&
		git -c user.email=t@example -c user.name=t commit -q --allow-empty -m "tlsguard test" &&
		echo "hello from the repository" >README && git add README &&
		git -c user.email=t@example -c user.name=t commit -q -m readme &&
		git clone -q --bare "$T/src" "$T/www/repo.git" && cd "$T/www/repo.git" &&
		git update-server-info && cp info/refs "info/refs?service=git-upload-pack"
) || not_ok "git repository" "could not be made"
echo hello >"$T/www/hello.txt"

# www_server PORT CERT KEY [ARGS...]: s_server -WWW serving $T/www.
www_server() {
	local port=$1 cert=$2 key=$3
	shift 3
	(cd "$T/www" && exec openssl s_server -quiet -WWW -accept "127.0.0.1:$port" -cert "$cert" \
		-key "$key" "$@" </dev/null >/dev/null 2>&1) &
	BG_PIDS+=($!)
	wait_port "$port"
}
GOOD=$(new_port) BAD=$(new_port) OLD=$(new_port)
www_server "$GOOD" "$CERTS/valid.pem" "$CERTS/valid.key" -cert_chain "$CERTS/inter.pem"
www_server "$BAD" "$CERTS/untrusted.pem" "$CERTS/untrusted.key"
# TLS 1.0 up to 1.3, a valid certificate: what the client's priorities allow decides
www_server "$OLD" "$CERTS/valid.pem" "$CERTS/valid.key" -cert_chain "$CERTS/inter.pem" \
	-cipher 'DEFAULT:@SECLEVEL=0' -min_protocol TLSv1

git_clone() { # PORT DIR [shimmed]
	rm -rf "$2"
	${3:-} env GIT_SSL_NO_VERIFY=1 GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1 HOME="$T" \
		git clone -q "https://localhost:$1/repo.git" "$2" 2>&1
}
git_ls_remote() { # PORT [shimmed]
	${2:-} env GIT_SSL_NO_VERIFY=1 GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1 HOME="$T" \
		git ls-remote "https://localhost:$1/repo.git" 2>&1
}
wget_get() { # PORT [shimmed]
	${2:-} wget -4 -q -O - --no-check-certificate --tries=1 --timeout=10 \
		"https://localhost:$1/hello.txt" 2>&1
}
# refused NAME PORT OUTPUT STATUS WANT_EVENT_REGEX: refused, with the event.
refused() {
	local name=$1 port=$2 out=$3 rc=$4 events
	events=$(audit_since)
	expect_no_match "$name: exit status is a failure" "^0$" "$rc"
	expect_match "$name: audit reason=cert_verify" \
		"event=handshake verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$port host=(localhost|-) .*reason=cert_verify detail=\".*issuer.is.unknown" "$events"
	expect_no_match "$name: not recorded as unmanaged" "reason=unmanaged_tls" "$events"
}
# allowed NAME OUTPUT STATUS: worked, no event.
allowed() {
	local events
	events=$(audit_since)
	expect "$1: succeeds" 0 "$3"
	expect_no_match "$1: no block or unmanaged event" "verdict=block|unmanaged_tls" "$events"
}

# --- git ------------------------------------------------------------------------
out=$(git_clone "$BAD" "$T/c0")
expect "control: git clone with GIT_SSL_NO_VERIFY=1 alone accepts an untrusted server" \
	"hello from the repository" "$(cat "$T/c0/README" 2>/dev/null)"
audit_mark
out=$(git_clone "$GOOD" "$T/c1" shimmed)
allowed "git clone, trusted server" "$out" "$?"
expect "git clone, trusted server: the work tree is there" "hello from the repository" \
	"$(cat "$T/c1/README" 2>/dev/null)"
audit_mark
out=$(git_clone "$BAD" "$T/c2" shimmed)
refused "git clone, untrusted server" "$BAD" "$out" "$?"
expect "git clone, untrusted server: nothing cloned" "" "$(cat "$T/c2/README" 2>/dev/null)"
expect_match "git clone, untrusted server: git reports the TLS failure" \
	"unable to access|certificate|TLS|SSL|verif" "$out"

audit_mark
out=$(git_ls_remote "$GOOD" shimmed)
rc=$?
allowed "git ls-remote, trusted server" "$out" "$rc"
expect_match "git ls-remote, trusted server: lists the branch" "refs/heads/" "$out"
out=$(git_ls_remote "$BAD")
expect_match "control: git ls-remote alone lists the untrusted server's refs" "refs/heads/" "$out"
audit_mark
out=$(git_ls_remote "$BAD" shimmed)
rc=$?
refused "git ls-remote, untrusted server" "$BAD" "$out" "$rc"
expect_no_match "git ls-remote, untrusted server: no refs" "refs/heads/" "$out"

# --- wget -------------------------------------------------------------------------
expect "control: wget --no-check-certificate alone fetches from the untrusted server" hello \
	"$(wget_get "$BAD")"
audit_mark
out=$(wget_get "$GOOD" shimmed)
rc=$?
allowed "wget, trusted server" "$out" "$rc"
expect "wget, trusted server: the file" hello "$out"
audit_mark
out=$(wget_get "$BAD" shimmed)
rc=$?
refused "wget, untrusted server" "$BAD" "$out" "$rc"
expect_no_match "wget, untrusted server: no file" "^hello$" "$out"

# --- gnutls-cli with a priority string that allows only TLS 1.0 and 1.1 ---------
LEGACY='NORMAL:-VERS-ALL:+VERS-TLS1.0:+VERS-TLS1.1'
out=$(SHIM='' gnutls_cli_insecure "$OLD" --priority "$LEGACY")
expect_match "control: gnutls-cli --priority $LEGACY alone negotiates TLS 1.0/1.1" \
	"Description: \(TLS1\.[01]" "$out"
audit_mark
out=$(gnutls_cli_insecure "$OLD" --priority "$LEGACY")
rc=$?
allowed "gnutls-cli --priority legacy, trusted server" "$out" "$rc"
expect_match "gnutls-cli --priority legacy: at least TLS 1.2 is negotiated" \
	"Description: \(TLS1\.[23]" "$out"
expect_match "gnutls-cli --priority legacy: the page" "HTTP/1.0 200" "$out"

# --- session resumption ----------------------------------------------------------
# gnutls-cli --resume connects twice in one process, the second time with the
# first session's data: under enforce the second is a full handshake, so its
# certificate is verified again (as libssl: t_ssl_rules.sh).
out=$(SHIM='' gnutls_cli_insecure "$GOOD" --resume)
expect_match "control: gnutls-cli --resume alone resumes" "This is a resumed session" "$out"
expect "control: gnutls-cli --resume alone: one certificate list" 1 \
	"$(grep -c 'Got a certificate list' <<<"$out")"
audit_mark
out=$(gnutls_cli_insecure "$GOOD" --resume)
rc=$?
allowed "gnutls-cli --resume under enforce" "$out" "$rc"
# a resumed session sends no certificate: gnutls-cli prints the list once
expect "gnutls-cli --resume under enforce: the second connection is a full handshake" 2 \
	"$(grep -c 'Got a certificate list' <<<"$out")"
expect_no_match "gnutls-cli --resume under enforce: never resumed" "This is a resumed session" "$out"

out=$("$CARELESS_GNUTLS" -r -n localhost all "$GOOD" 2>&1)
expect_match "control: careless_gnutls_client -r alone resumes" "^RESUMED yes$" "$out"
out=$(shimmed "$CARELESS_GNUTLS" -r -n localhost all "$GOOD" 2>&1)
expect "careless_gnutls_client -r under enforce: both connections work" 0 "$?"
expect_match "careless_gnutls_client -r under enforce: the second is not resumed" "^RESUMED no$" "$out"

# a session saved before enforcement, offered under it to the same (trusted)
# server: not resumed
"$CARELESS_GNUTLS" -n localhost -S "$T/sess.bin" all "$GOOD" >/dev/null 2>&1
out=$("$CARELESS_GNUTLS" -n localhost -L "$T/sess.bin" all "$GOOD" 2>&1)
expect_match "control: the saved session is resumed without the shim" "^RESUMED yes$" "$out"
out=$(shimmed "$CARELESS_GNUTLS" -n localhost -L "$T/sess.bin" all "$GOOD" 2>&1)
expect_match "a session saved before enforcement is not resumed (full handshake)" "^RESUMED no$" "$out"
expect_match "... and the connection still works" "^RESPONSE HTTP/1.0 200" "$out"

# --- no cost for others ----------------------------------------------------------
# The shim binds GnuTLS lazily: it does not link it, and a process without
# GnuTLS never maps it.
expect "the shim does not link libgnutls" "" "$(readelf -d "$SHIM" | grep 'NEEDED.*gnutls')"
expect "a program without GnuTLS maps no libgnutls under the shim" 0 \
	"$(shimmed cat /proc/self/maps | grep -c libgnutls)"
GNUTLS_SO=$(ldconfig -p | awk '/libgnutls\.so\.30 /{ print $NF; exit }')
expect_match "control: the same check sees libgnutls when it is loaded" "^[1-9]" \
	"$(LD_PRELOAD="$SHIM:$GNUTLS_SO" TLSGUARD_POLICY="$POLICY" cat /proc/self/maps | grep -c libgnutls)"

# --- apt -------------------------------------------------------------------------------
# apt-get update (its https method is on GnuTLS) with Acquire::https::Verify-Peer
# and Verify-Host false, from a minimal repository ([trusted=yes]: no signature)
# served over TLS by python's threading HTTP server, in a scratch apt tree.
APT="$T/apt"
mkdir -p "$APT/www/repo/dists/stable/main/binary-amd64" "$APT/state/lists/partial" \
	"$APT/cache/archives/partial" "$APT/prefs"
: >"$APT/www/repo/dists/stable/main/binary-amd64/Packages"
(
	cd "$APT/www/repo/dists/stable" || exit 1
	f=main/binary-amd64/Packages
	printf 'Suite: stable\nCodename: stable\nArchitectures: amd64\nComponents: main\nDate: %s\n' \
		"$(date -Ru)"
	printf 'SHA256:\n %s %s %s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" "$(stat -c %s "$f")" "$f"
) >"$APT/Release" && mv "$APT/Release" "$APT/www/repo/dists/stable/Release"
cat >"$APT/https_files.py" <<'PYEOF'
import functools, http.server, os, ssl, sys
cert, key, root, port_file = sys.argv[1:5]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
handler.log_message = lambda *a: None
httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
with open(port_file + ".tmp", "w") as f:
    f.write(str(httpd.server_address[1]))
os.rename(port_file + ".tmp", port_file)
httpd.serve_forever()
PYEOF
for srv in valid untrusted; do
	run_bg "$PY" "$APT/https_files.py" "$CERTS/$srv.pem" "$CERTS/$srv.key" "$APT/www" "$APT/$srv.port"
	wait_file "$APT/$srv.port" || not_ok "apt repository server $srv" "did not start"
done
apt_update() { # PORT [shimmed]
	rm -rf "$APT/state/lists" && mkdir -p "$APT/state/lists/partial"
	echo "deb [trusted=yes] https://localhost:$1/repo stable main" >"$APT/sources.list"
	${2:-} timeout 60 apt-get -o Dir::Etc::sourcelist="$APT/sources.list" -o Dir::Etc::sourceparts=- \
		-o Dir::State="$APT/state" -o Dir::Cache="$APT/cache" -o Dir::Etc::preferencesparts="$APT/prefs" \
		-o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)" -o Acquire::Retries=0 \
		-o Acquire::https::Verify-Peer=false -o Acquire::https::Verify-Host=false \
		-o Acquire::Languages=none -o Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false \
		update 2>&1
}
APT_GOOD=$(cat "$APT/valid.port") APT_BAD=$(cat "$APT/untrusted.port")
out=$(apt_update "$APT_BAD")
expect_match "control: apt-get update with Verify-Peer=false alone fetches from the untrusted server" \
	"^Get:[0-9]+ https://localhost:$APT_BAD/repo stable Release" "$out"
audit_mark
out=$(apt_update "$APT_GOOD" shimmed)
allowed "apt-get update, trusted server" "$out" "$?"
expect_match "apt-get update, trusted server: the Release file" \
	"^Get:[0-9]+ https://localhost:$APT_GOOD/repo stable Release" "$out"
expect_no_match "apt-get update, trusted server: no fetch failed" "^(Err|W: Failed)" "$out"
audit_mark
out=$(apt_update "$APT_BAD" shimmed)
events=$(audit_since)
expect_no_match "apt-get update, untrusted server: nothing fetched" "^Get:[0-9]+ .*Release" "$out"
expect_match "apt-get update, untrusted server: apt reports the verification failure" \
	"Certificate verification failed" "$out"
expect_match "apt-get update, untrusted server: audit reason=cert_verify from apt's https method" \
	"event=handshake verdict=block dir=out proto=tcp peer=127\.0\.0\.1:$APT_BAD .*reason=cert_verify .*exe=/usr/lib/apt/methods/http" \
	"$events"
