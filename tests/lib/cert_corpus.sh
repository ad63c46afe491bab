#!/bin/bash
# Certificate validation corpus: cert_corpus.sh DIR
#
# Makes, with the openssl CLI only, one certificate chain per validation case
# in DIR, and DIR/cases: one line per case, tab-separated,
#
#   NAME  LEAF  KEY  CHAIN  ANCHOR  HOST  EXPECT  REASON
#
# LEAF/KEY: the certificate and key a server presents; CHAIN: the further
# certificates it sends (a file, or "-" for none); ANCHOR: the one trust anchor
# file a correctly configured client (and the policy's rule) trusts; HOST: the
# name the client connects with (an IP literal means "by address"); EXPECT:
# accept|refuse, the verdict of a correctly configured client (OpenSSL 3 with
# the SSL server purpose, security level 2, host-name
# flags NEVER_CHECK_SUBJECT and NO_PARTIAL_WILDCARDS, no partial chains);
# REASON: the tlsguard audit reason such a refusal deserves (cert_verify or
# hostname; "-" for accept).
#
# The guides were the badssl.com list and the names in OpenSSL's test/certs.
# Nothing here is committed output: tests/integration/t_cert_corpus.sh runs
# this into its scratch directory, and checks every EXPECT against a real
# reference client before it compares the shim with it.
#
# Certificates: the corpus root ("root", RSA-2048 so that it can also sign with
# SHA-1 and MD5) signs the intermediate "inter" (RSA-2048); leaves are EC
# P-256 unless the case is about the key. Every certificate carries what RFC
# 5280 asks a conforming CA to write (critical basicConstraints and keyUsage
# on CAs, subject and authority key identifiers), so that each case breaks one
# rule only. Certificates are valid from now for two years (openssl req -x509)
# unless the case is about dates: those are made with openssl ca -startdate
# and -enddate, the OpenSSL 3.0 tool that takes explicit dates.
#
# DIR/client-cases lists, the same way, the client certificates for mutual
# TLS: NAME CERT KEY EXPECT REASON (CERT "-": the client sends none).
set -eu
dir=${1:?usage: cert_corpus.sh DIR}
mkdir -p "$dir"
cd "$dir"

# --- the case table ------------------------------------------------------------
# The table is the corpus's documentation: NAME LEAF CHAIN ANCHOR HOST EXPECT
# REASON WHY. LEAF names a certificate made below (LEAF.crt, LEAF.key); CHAIN
# is a comma-separated list of certificates sent after the leaf, in that order.
# RFC 5280 = PKIX certificate profile and path validation; RFC 6125 = service
# identity; BR = CA/Browser Forum Baseline Requirements.
CASES=$(
	cat <<'TABLE'
# --- host names (RFC 6125; RFC 5280 4.2.1.6) ---
valid                  valid          inter        root  www.example.test   accept - a leaf for the name, via one intermediate to the anchor: RFC 5280 6.1
valid-ip               ip             inter        root  127.0.0.1          accept - iPAddress SAN 127.0.0.1 for a client that connected to 127.0.0.1: RFC 5280 4.2.1.6, RFC 2818 3.1
ip-mismatch            ip2            inter        root  127.0.0.1          refuse hostname the only iPAddress SAN is 127.0.0.2
ip-in-dns-san          ipasdns        inter        root  127.0.0.1          refuse hostname an address written as a dNSName does not identify it: RFC 2818 3.1 wants an iPAddress SAN that matches exactly
dns-and-ip-by-name     dnsip          inter        root  www.example.test   accept - SAN with dNSName and iPAddress, reached by name
dns-and-ip-by-ip       dnsip          inter        root  127.0.0.1          accept - the same certificate, reached by address
wrong-host             other          inter        root  www.example.test   refuse hostname SAN names other.example.test only: RFC 6125 6.4 (badssl wrong.host)
san-case-insensitive   upper          inter        root  www.example.test   accept - SAN WWW.Example.TEST: DNS names compare case-insensitively, RFC 6125 6.4.1
san-second-entry       multi          inter        root  www.example.test   accept - the name is the second of two dNSNames: every SAN entry counts, RFC 6125 6.4
wildcard               wild           inter        root  www.example.test   accept - *.example.test covers exactly one label: RFC 6125 6.4.3
wildcard-two-labels    wild           inter        root  a.b.example.test   refuse hostname *.example.test does not cover two labels: RFC 6125 6.4.3, BR 3.2.2.6
wildcard-bare-domain   wild           inter        root  example.test       refuse hostname *.example.test does not cover example.test: RFC 6125 6.4.3
wildcard-partial       partialwild    inter        root  www.example.test   refuse hostname w*.example.test: the wildcard must be the whole left-most label (RFC 9525 6.3; BR 1.6.1 "Wildcard Domain Name" is "*." + FQDN)
wildcard-tld           wildtld        inter        root  example.test       refuse hostname *.test: a wildcard needs at least two labels after it (RFC 6125 7.2, BR 3.2.2.6)
wildcard-not-leftmost  wildmid        inter        root  www.example.test   refuse hostname www.*.test: only the left-most label may be a wildcard, RFC 6125 6.4.3
cn-only                cnonly         inter        root  www.example.test   refuse hostname no SAN, the name only in the CN: RFC 6125 6.4.4 leaves CN to legacy use; BR 7.1.4.2.1 requires SANs; browsers refuse
cn-right-san-wrong     cnwrong        inter        root  www.example.test   refuse hostname the CN is right, the SAN is not: with a SAN the CN is never checked, RFC 6125 6.4.4
nul-in-san             nulsan         inter        root  www.example.test   refuse hostname dNSName "www.example.test\0.evil.test": a NUL byte must not truncate the name (CVE-2009-2408)
# --- validity periods (RFC 5280 6.1.3 (a)(2): every certificate in the path, the anchor too in OpenSSL) ---
leaf-expired           expired        inter        root  www.example.test   refuse cert_verify leaf notAfter in the past (badssl expired)
leaf-not-yet-valid     future         inter        root  www.example.test   refuse cert_verify leaf notBefore in the future
inter-expired          vexpinter      expinter     root  www.example.test   refuse cert_verify the intermediate expired: RFC 5280 6.1.3 (a)(2)
inter-not-yet-valid    vfutinter      futinter     root  www.example.test   refuse cert_verify the intermediate is not valid yet
root-expired           valid          inter   expiredroot www.example.test  refuse cert_verify the trust anchor's certificate expired (OpenSSL checks the anchor's validity)
root-not-yet-valid     valid          inter    futureroot www.example.test  refuse cert_verify the trust anchor's certificate is not valid yet
leaf-outlives-issuer   outlive        shortinter   root  www.example.test   accept - the leaf's notAfter is after the intermediate's: RFC 5280 does not require nesting
# --- purpose (RFC 5280 4.2.1.3, 4.2.1.12) ---
eku-clientauth-only    clientonly     inter        root  www.example.test   refuse cert_verify EKU clientAuth only: not for a TLS server, RFC 5280 4.2.1.12
eku-codesigning        codesign       inter        root  www.example.test   refuse cert_verify EKU codeSigning only
eku-absent             noeku          inter        root  www.example.test   accept - no EKU extension: no restriction, RFC 5280 4.2.1.12
eku-server-and-client  bothku         inter        root  www.example.test   accept - EKU serverAuth and clientAuth
leaf-ku-nonrepudiation nonrep         inter        root  www.example.test   refuse cert_verify keyUsage nonRepudiation only: the key may not sign a TLS handshake (RFC 5280 4.2.1.3, RFC 8446 4.4.2.2)
inter-eku-clientauth   vclientinter   clientinter  root  www.example.test   refuse cert_verify the intermediate's EKU (clientAuth) excludes serverAuth: BR 7.1.2.2, OpenSSL applies EKU to CAs
# --- CA constraints (RFC 5280 4.2.1.9, 6.1.4) ---
inter-ca-false         vcafalse       cafalse      root  www.example.test   refuse cert_verify intermediate with CA:FALSE signs the leaf: RFC 5280 6.1.4 (k)
inter-no-basic-constraints vnobc      nobc         root  www.example.test   refuse cert_verify intermediate without basicConstraints: RFC 5280 6.1.4 (k)
inter-no-keycertsign   vnokcs         nokcs        root  www.example.test   refuse cert_verify intermediate keyUsage without keyCertSign: RFC 5280 6.1.4 (n)
inter-bc-not-critical  vbcnc          bcnc         root  www.example.test   accept -           CA basicConstraints not critical: RFC 5280 4.2.1.9 binds the CA; OpenSSL, curl and browsers validate it (CA:TRUE is what matters), and so does tlsguard: X509_STRICT would also refuse internal CAs without key identifiers
pathlen-exceeded       vsubca         subca,pl0    root  www.example.test   refuse cert_verify pathLenConstraint 0 on pl0, which signed another CA: RFC 5280 6.1.4 (l)(m)
pathlen-zero-ok        vpl0           pl0          root  www.example.test   accept - pathLenConstraint 0 and the leaf right below: RFC 5280 6.1.4 (m)
long-chain             vlong          l7,l6,l5,l4,l3,l2,l1 root www.example.test accept - seven intermediates (depth 8): no length limit below OpenSSL's default depth 100
# --- name constraints (RFC 5280 4.2.1.10, 6.1.3 (b)(c)) ---
nc-permitted-ok        vncperm        ncperm       root  www.example.test   accept - permitted subtree example.test, leaf www.example.test
nc-permitted-violation vncpermbad     ncperm       root  www.other.test     refuse cert_verify permitted subtree example.test, leaf www.other.test
nc-excluded-violation  vncexclbad     ncexcl       root  www.bad.example.test refuse cert_verify excluded subtree bad.example.test, leaf www.bad.example.test
nc-excluded-ok         vncexcl        ncexcl       root  www.example.test   accept - excluded subtree bad.example.test, leaf www.example.test
nc-ip-excluded         vncip          ncip         root  127.0.0.1          refuse cert_verify excluded iPAddress 127.0.0.0/8, leaf IP 127.0.0.1
# --- keys and signatures (BR 6.1.5, 7.1.3; OpenSSL security level 2 = 112 bits) ---
leaf-rsa1024           rsa1024        inter        root  www.example.test   refuse cert_verify RSA-1024 leaf key: below 112 bits of security, BR 6.1.5 requires 2048
inter-rsa1024          vrsainter      rsainter1024 root  www.example.test   refuse cert_verify RSA-1024 intermediate key
root-rsa1024           vweakroot      weakroot-inter weakroot www.example.test refuse cert_verify RSA-1024 trust anchor key: the anchor's key counts at level 2
leaf-rsa2048           rsa2048        inter        root  www.example.test   accept - RSA-2048 leaf
leaf-sha1              sha1           inter        root  www.example.test   refuse cert_verify leaf signed with SHA-1: BR 7.1.3 (badssl sha1-intermediate family)
inter-sha1             vsha1inter     sha1inter    root  www.example.test   refuse cert_verify intermediate signed with SHA-1 (badssl sha1-intermediate)
leaf-md5               md5            inter        root  www.example.test   refuse cert_verify leaf signed with MD5 (RFC 6151)
inter-md5              vmd5inter      md5inter     root  www.example.test   refuse cert_verify intermediate signed with MD5
root-sha1-self-signature valid        inter     sha1root www.example.test   accept - the anchor's own SHA-1 self-signature is not part of the path: RFC 5280 6.1.1 (d) takes the anchor's name and key only
ec-explicit-params     explicit       inter        root  www.example.test   refuse cert_verify EC key with explicit curve parameters: RFC 5480 2.1.1 allows named curves only (CVE-2020-0601)
ecdsa-p256             vecinter       ecinter      root  www.example.test   accept - ECDSA P-256 leaf under an ECDSA P-256 intermediate
ecdsa-p384             p384           inter        root  www.example.test   accept - ECDSA P-384 leaf
ed25519                ed25519        inter        root  www.example.test   accept - Ed25519 leaf (RFC 8410, RFC 8446 4.2.3)
# --- extensions (RFC 5280 4.2) ---
leaf-unknown-critical  critext        inter        root  www.example.test   refuse cert_verify an unrecognised critical extension: RFC 5280 4.2 MUST reject
leaf-unknown-noncritical noncritext   inter        root  www.example.test   accept - an unrecognised non-critical extension MAY be ignored: RFC 5280 4.2
inter-unknown-critical vcritinter     critinter    root  www.example.test   refuse cert_verify the intermediate has an unrecognised critical extension
# --- chains and anchors (RFC 5280 6.1; RFC 8446 4.4.2) ---
leaf-only-sent         valid          -            root  www.example.test   refuse cert_verify the server omits the intermediate; no AIA fetching (badssl incomplete-chain)
anchor-is-inter        valid          -            inter www.example.test   refuse cert_verify the store holds only the intermediate: a partial chain is not a path to a root without X509_V_FLAG_PARTIAL_CHAIN
anchor-is-inter-full   valid          inter        inter www.example.test   refuse cert_verify the same with the intermediate sent as well
wrong-intermediate     valid          twin         root  www.example.test   refuse cert_verify the server sends another intermediate with the same name and a different key
chain-with-root        valid          inter,root   root  www.example.test   accept - the server also sends the root: allowed, RFC 8446 4.4.2
chain-with-stranger    valid          stranger,inter root www.example.test  accept - an unrelated certificate in the chain is skipped: RFC 8446 4.4.2 lets clients build the path
leaf-under-root        direct         -            root  www.example.test   accept - a leaf signed by the root itself
untrusted-root         untrusted      -            root  www.example.test   refuse cert_verify leaf under an unrelated root (badssl untrusted-root)
self-signed-leaf       selfsigned     -            root  www.example.test   refuse cert_verify a self-signed leaf (badssl self-signed)
TABLE
)

# Client certificates for mutual TLS (RFC 8446 4.4.2.4: the server verifies
# them as a client verifies the server, with the SSL client purpose): NAME
# CERT EXPECT REASON WHY, CERT "-" for none. They go, with the intermediate,
# to a server that requires a client certificate and trusts the corpus root.
CLIENT_CASES=$(
	cat <<'TABLE'
mtls-valid             cl-valid       accept -              EKU clientAuth, via the intermediate
mtls-eku-absent        cl-noeku       accept -              no EKU: no restriction, RFC 5280 4.2.1.12
mtls-eku-serverauth    cl-serveronly  refuse cert_verify    EKU serverAuth only: not a TLS client certificate, RFC 5280 4.2.1.12
mtls-expired           cl-expired     refuse cert_verify    notAfter in the past: RFC 5280 6.1.3 (a)(2)
mtls-not-yet-valid     cl-future      refuse cert_verify    notBefore in the future
mtls-untrusted         cl-untrusted   refuse cert_verify    issued under an unrelated root
mtls-self-signed       cl-selfsigned  refuse cert_verify    self-signed
mtls-rsa1024           cl-rsa1024     refuse cert_verify    RSA-1024 key: below security level 2
mtls-sha1              cl-sha1        refuse cert_verify    signed with SHA-1
mtls-unknown-critical  cl-critext     refuse cert_verify    an unrecognised critical extension: RFC 5280 4.2
mtls-none              -              refuse no_client_cert no certificate at all where one is required
TABLE
)

# --- certificate factory -------------------------------------------------------
START=$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)
PAST_START=20100101000000Z PAST_END=20110101000000Z
FUTURE_START=20400101000000Z FUTURE_END=20410101000000Z

# key NAME [ec|p384|rsa1024|rsa2048|ed25519|explicit]
key() {
	case "${2:-ec}" in
	ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" ;;
	p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$1.key" ;;
	rsa1024) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$1.key" ;;
	rsa2048) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.key" ;;
	ed25519) openssl genpkey -algorithm ED25519 -out "$1.key" ;;
	explicit) openssl ecparam -name prime256v1 -param_enc explicit -genkey -noout -out "$1.key" ;;
	*) return 1 ;;
	esac 2>/dev/null
}

# openssl ca, for the certificates with explicit dates; each its own database
# (directory $DB), as they are made in parallel
cat >ca.cnf <<'CNF'
[ca]
default_ca = corpus
[corpus]
database = $ENV::DB/index.txt
new_certs_dir = $ENV::DB
rand_serial = yes
policy = anything
unique_subject = no
email_in_dn = no
[anything]
commonName = supplied
CNF

# cert NAME SUBJECT ISSUER EXTENSIONS [DIGEST [START END]]: NAME.crt for the
# key NAME.key (made first), signed by ISSUER (ISSUER.crt, ISSUER.key) or, for
# ISSUER "self", by its own key. EXTENSIONS: extension lines, \n-separated.
# Without dates, one `openssl req -x509` (valid from now for two years);
# with dates, `openssl req` and `openssl ca`.
cert() {
	local name=$1 subj=$2 issuer=$3 ext=$4 md=${5:-sha256} start=${6:-} end=${7:-}
	local signer=(-CA "$issuer.crt" -CAkey "$issuer.key")
	printf '[req]\ndistinguished_name = dn\n[dn]\n[ext]\n%b\n' "$ext" >"$name.cnf"
	if [ -z "$start" ]; then
		[ "$issuer" = self ] && signer=()
		openssl req -x509 -new -key "$name.key" -subj "$subj" -config "$name.cnf" \
			-extensions ext "${signer[@]}" -days 730 "-$md" -out "$name.crt" 2>"$name.log" ||
			{ cat "$name.log" >&2 && return 1; }
	else
		signer=(-cert "$issuer.crt" -keyfile "$issuer.key")
		[ "$issuer" = self ] && signer=(-selfsign -keyfile "$name.key")
		openssl req -new -key "$name.key" -subj "$subj" -config "$name.cnf" -out "$name.csr" 2>/dev/null
		mkdir -p "db-$name" && : >"db-$name/index.txt"
		DB=db-$name openssl ca -batch -notext -preserveDN -config ca.cnf "${signer[@]}" -md "$md" \
			-startdate "$start" -enddate "$end" -extfile "$name.cnf" -extensions ext \
			-in "$name.csr" -out "$name.crt" >"$name.log" 2>&1 ||
			{ cat "$name.log" >&2 && return 1; }
	fi
}

KID='subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always'
ROOT_EXT='basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash'
CA_EXT="basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n$KID"
# leaf_ext SAN [EKU]: a server leaf's extensions
leaf_ext() {
	printf '%s' "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
	printf '%s' "extendedKeyUsage=${2:-serverAuth}\n$KID\nsubjectAltName=$1"
}
WWW=$(leaf_ext DNS:www.example.test)

# ca NAME ISSUER [KEYTYPE [EXT [DIGEST [START END]]]]: a CA certificate
ca() {
	local name=$1 issuer=$2 kt=${3:-ec} ext=${4:-$CA_EXT}
	key "$name" "$kt"
	if [ "$issuer" = self ]; then
		[ "$ext" = "$CA_EXT" ] && ext=$ROOT_EXT
	fi
	cert "$name" "/CN=tlsguard corpus $name" "$issuer" "$ext" "${@:5}"
}

# leaf NAME ISSUER EXT [KEYTYPE [DIGEST [START END]]] (CN = www.example.test).
# The P-256 leaves share one key: the cases are about the certificates.
leaf() {
	local name=$1 issuer=$2 ext=$3 kt=${4:-ec}
	if [ "$kt" = ec ]; then
		printf '%s\n' "$LEAF_KEY" >"$name.key" # a copy without a process
	else
		key "$name" "$kt"
	fi
	cert "$name" "/CN=www.example.test" "$issuer" "$ext" "${@:5}"
}

# par CMD...: runs CMD in the background, at most four at a time (the leaves
# need only their issuer, made in the foreground before them).
FAILED=0
par() {
	"$@" &
	while [ "$(jobs -rp | wc -l)" -ge 4 ]; do
		wait -n || FAILED=1
	done
}

key leaf-ec
LEAF_KEY=$(<leaf-ec.key)
# Anchors. The root's siblings share its key and name: the same CA, another
# certificate for it (expired, not yet valid, self-signed with SHA-1).
ca root self rsa2048
cp root.key expiredroot.key && cert expiredroot "/CN=tlsguard corpus root" self "$ROOT_EXT" sha256 "$PAST_START" "$PAST_END"
cp root.key futureroot.key && cert futureroot "/CN=tlsguard corpus root" self "$ROOT_EXT" sha256 "$FUTURE_START" "$FUTURE_END"
cp root.key sha1root.key && cert sha1root "/CN=tlsguard corpus root" self "$ROOT_EXT" sha1
ca weakroot self rsa1024
ca weakroot-inter weakroot
ca other-root self
ca inter root rsa2048

# host names
par leaf valid inter "$WWW"
par leaf ip inter "$(leaf_ext IP:127.0.0.1)"
par leaf ip2 inter "$(leaf_ext IP:127.0.0.2)"
par leaf ipasdns inter "$(leaf_ext DNS:127.0.0.1)"
par leaf dnsip inter "$(leaf_ext DNS:www.example.test,IP:127.0.0.1)"
par leaf other inter "$(leaf_ext DNS:other.example.test)"
par leaf upper inter "$(leaf_ext DNS:WWW.Example.TEST)"
par leaf multi inter "$(leaf_ext DNS:a.example.test,DNS:www.example.test)"
par leaf wild inter "$(leaf_ext 'DNS:*.example.test')"
par leaf partialwild inter "$(leaf_ext 'DNS:w*.example.test')"
par leaf wildtld inter "$(leaf_ext 'DNS:*.test')"
par leaf wildmid inter "$(leaf_ext 'DNS:www.*.test')"
par leaf cnonly inter "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n$KID"
par leaf cnwrong inter "$(leaf_ext DNS:other.example.test)"
# SEQUENCE { [2] IA5String "www.example.test\0.evil.test" }, written as DER
# because the config syntax cannot hold a NUL byte.
nul=$(printf 'www.example.test\0.evil.test' | od -An -tx1 -v | tr -s ' \n' ':' | sed 's/^://; s/:$//')
par leaf nulsan inter "$(leaf_ext x | sed 's/subjectAltName=x$//')subjectAltName=DER:30:1d:82:1b:$nul"

# validity periods
par leaf expired inter "$WWW" ec sha256 "$PAST_START" "$PAST_END"
par leaf future inter "$WWW" ec sha256 "$FUTURE_START" "$FUTURE_END"
ca expinter root ec "$CA_EXT" sha256 "$PAST_START" "$PAST_END"
par leaf vexpinter expinter "$WWW" ec sha256 "$PAST_START" "$FUTURE_END"
ca futinter root ec "$CA_EXT" sha256 "$FUTURE_START" "$FUTURE_END"
par leaf vfutinter futinter "$WWW"
ca shortinter root ec "$CA_EXT" sha256 "$START" "$(date -u -d '+30 days' +%Y%m%d%H%M%SZ)"
par leaf outlive shortinter "$WWW"

# purpose
par leaf clientonly inter "$(leaf_ext DNS:www.example.test clientAuth)"
par leaf codesign inter "$(leaf_ext DNS:www.example.test codeSigning)"
par leaf noeku inter "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n$KID\nsubjectAltName=DNS:www.example.test"
par leaf bothku inter "$(leaf_ext DNS:www.example.test serverAuth,clientAuth)"
par leaf nonrep inter "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,nonRepudiation\nextendedKeyUsage=serverAuth\n$KID\nsubjectAltName=DNS:www.example.test"
ca clientinter root ec "$CA_EXT\nextendedKeyUsage=clientAuth"
par leaf vclientinter clientinter "$WWW"

# CA constraints
ca cafalse root ec "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,keyCertSign,cRLSign\n$KID"
par leaf vcafalse cafalse "$WWW"
ca nobc root ec "keyUsage=critical,keyCertSign,cRLSign\n$KID"
par leaf vnobc nobc "$WWW"
ca nokcs root ec "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,cRLSign\n$KID"
par leaf vnokcs nokcs "$WWW"
ca bcnc root ec "basicConstraints=CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n$KID"
par leaf vbcnc bcnc "$WWW"
ca pl0 root ec "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n$KID"
par leaf vpl0 pl0 "$WWW"
ca subca pl0
par leaf vsubca subca "$WWW"
prev=root
for i in 1 2 3 4 5 6 7; do
	ca "l$i" "$prev"
	prev=l$i
done
par leaf vlong l7 "$WWW"

# name constraints (RFC 5280 4.2.1.10: critical)
ca ncperm root ec "$CA_EXT\nnameConstraints=critical,permitted;DNS:example.test"
par leaf vncperm ncperm "$WWW"
par leaf vncpermbad ncperm "$(leaf_ext DNS:www.other.test)"
ca ncexcl root ec "$CA_EXT\nnameConstraints=critical,excluded;DNS:bad.example.test"
par leaf vncexcl ncexcl "$WWW"
par leaf vncexclbad ncexcl "$(leaf_ext DNS:www.bad.example.test)"
ca ncip root ec "$CA_EXT\nnameConstraints=critical,excluded;IP:127.0.0.0/255.0.0.0"
par leaf vncip ncip "$(leaf_ext IP:127.0.0.1)"

# keys and signatures
par leaf rsa1024 inter "$WWW" rsa1024
ca rsainter1024 root rsa1024
par leaf vrsainter rsainter1024 "$WWW"
par leaf vweakroot weakroot-inter "$WWW"
par leaf rsa2048 inter "$WWW" rsa2048
par leaf sha1 inter "$WWW" ec sha1
ca sha1inter root ec "$CA_EXT" sha1
par leaf vsha1inter sha1inter "$WWW"
par leaf md5 inter "$WWW" ec md5
ca md5inter root ec "$CA_EXT" md5
par leaf vmd5inter md5inter "$WWW"
par leaf explicit inter "$WWW" explicit
ca ecinter root
par leaf vecinter ecinter "$WWW"
par leaf p384 inter "$WWW" p384
par leaf ed25519 inter "$WWW" ed25519

# extensions: a private-arc OID carrying an ASN.1 NULL
par leaf critext inter "$WWW\n1.3.6.1.4.1.55555.1=critical,DER:05:00"
par leaf noncritext inter "$WWW\n1.3.6.1.4.1.55555.1=DER:05:00"
ca critinter root ec "$CA_EXT\n1.3.6.1.4.1.55555.1=critical,DER:05:00"
par leaf vcritinter critinter "$WWW"

# chains and anchors: "twin" has the intermediate's name and another key
key twin
cert twin "/CN=tlsguard corpus inter" root "$CA_EXT"
ca stranger other-root
par leaf direct root "$WWW"
par leaf untrusted other-root "$WWW"
key selfsigned
cert selfsigned "/CN=www.example.test" self \
	"basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nsubjectAltName=DNS:www.example.test"

while [ -n "$(jobs -rp)" ]; do wait -n || FAILED=1; done
[ "$FAILED" = 0 ] || { echo "cert_corpus.sh: a certificate could not be made" >&2; exit 1; }

# client certificates
cl_ext() { # [EKU]
	printf '%s' "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
	[ -n "${1:-}" ] && printf '%s' "extendedKeyUsage=$1\n"
	printf '%s' "$KID\nsubjectAltName=DNS:client.example.test"
}
CLIENT=$(cl_ext clientAuth)
par leaf cl-valid inter "$CLIENT"
par leaf cl-noeku inter "$(cl_ext)"
par leaf cl-serveronly inter "$(cl_ext serverAuth)"
par leaf cl-expired inter "$CLIENT" ec sha256 "$PAST_START" "$PAST_END"
par leaf cl-future inter "$CLIENT" ec sha256 "$FUTURE_START" "$FUTURE_END"
par leaf cl-untrusted other-root "$CLIENT"
par leaf cl-rsa1024 inter "$CLIENT" rsa1024
par leaf cl-sha1 inter "$CLIENT" ec sha1
par leaf cl-critext inter "$CLIENT\n1.3.6.1.4.1.55555.1=critical,DER:05:00"
key cl-selfsigned
cert cl-selfsigned "/CN=client.example.test" self \
	"basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nsubjectAltName=DNS:client.example.test"

# --- the cases file --------------------------------------------------------------
: >cases
printf '%s\n' "$CASES" | while read -r name leafname chain anchor host expect reason _why; do
	case "$name" in '' | '#'*) continue ;; esac
	if [ ! -e "$leafname.crt" ] || [ ! -e "$anchor.crt" ]; then
		echo "cert_corpus.sh: case $name names a certificate that was not made" >&2
		exit 1
	fi
	chainfile=-
	if [ "$chain" != - ]; then
		chainfile="$PWD/case-$name.chain"
		: >"$chainfile"
		for c in ${chain//,/ }; do cat "$c.crt" >>"$chainfile"; done
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$PWD/$leafname.crt" "$PWD/$leafname.key" \
		"$chainfile" "$PWD/$anchor.crt" "$host" "$expect" "$reason" >>cases
done
# client-cases: NAME CERT KEY EXPECT REASON, CERT the certificate and the
# intermediate below it (what curl --cert sends), "-" for none
: >client-cases
printf '%s\n' "$CLIENT_CASES" | while read -r name cl expect reason _why; do
	certfile=- keyfile=-
	if [ "$cl" != - ]; then
		certfile="$PWD/$cl.pem" keyfile="$PWD/$cl.key"
		cat "$cl.crt" inter.crt >"$certfile"
	fi
	printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$certfile" "$keyfile" "$expect" "$reason" >>client-cases
done
rm -rf db-* ca.cnf ./*.cnf ./*.csr ./*.log
