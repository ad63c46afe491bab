#!/bin/bash
# Certificate factory for the TLS tests: certs.sh DIR
#
# Makes, with the openssl CLI and EC P-256 keys (fast), in DIR:
#   root.pem                 test root CA (what the policy trusts)
#   inter.pem                intermediate CA signed by root
#   valid.{pem,key}          leaf for localhost + IP 127.0.0.1, signed by inter;
#                            valid.pem is leaf + intermediate (the chain a server sends)
#   valid-leaf.pem           the leaf alone (a server that forgets the intermediate)
#   wronghost.{pem,key}      leaf for wrong.example only (chain)
#   untrusted.{pem,key}      leaf for localhost signed by a second, unrelated root
#   other-root.pem           that second root (what `curl --cacert` is given)
#   expired.{pem,key}        leaf for localhost, valid 2020-2021 (chain)
#   future.{pem,key}         leaf for localhost, valid from 2035 (chain)
#   selfsigned.{pem,key}     self-signed leaf for localhost
#   iponly.{pem,key}         leaf with only the IP SAN 127.0.0.1 (chain)
#   client-ca.pem            CA for client certificates
#   client.{pem,key}         client certificate signed by client-ca
#   valid.pin                base64 SHA-256 of valid's SubjectPublicKeyInfo
#   other.pin                a pin that matches nothing here
set -eu
dir=${1:?usage: certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null
}

# ca NAME SUBJECT [ISSUER]: a CA certificate (self-signed without ISSUER).
ca() {
	local name=$1 subj=$2 issuer=${3:-}
	key "$name"
	printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n' >"$name.ext"
	if [ -z "$issuer" ]; then
		openssl req -x509 -new -key "$name.key" -subj "$subj" -days 3650 \
			-addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign -out "$name.pem" 2>/dev/null
	else
		openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr" 2>/dev/null
		openssl x509 -req -in "$name.csr" -CA "$issuer.pem" -CAkey "$issuer.key" \
			-CAcreateserial -days 3650 -extfile "$name.ext" -out "$name.pem" 2>/dev/null
	fi
}

# leaf NAME ISSUER SAN [START END]: a server leaf; with START/END (YYYYMMDDHHMMSSZ)
# signed through `openssl ca`, the only 3.0 tool that takes explicit dates.
leaf() {
	local name=$1 issuer=$2 san=$3 start=${4:-} end=${5:-}
	key "$name"
	printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\n' \
		"$san" >"$name.ext"
	openssl req -new -key "$name.key" -subj "/CN=$name" -out "$name.csr" 2>/dev/null
	if [ -z "$start" ]; then
		openssl x509 -req -in "$name.csr" -CA "$issuer.pem" -CAkey "$issuer.key" \
			-CAcreateserial -days 825 -extfile "$name.ext" -out "$name.leaf" 2>/dev/null
	else
		mkdir -p "ca-$name"
		: >"ca-$name/index.txt"
		cat >"ca-$name/ca.cnf" <<-CNF
			[ca]
			default_ca = dated
			[dated]
			database = ca-$name/index.txt
			new_certs_dir = ca-$name
			serial = ca-$name/serial
			default_md = sha256
			policy = anything
			unique_subject = no
			[anything]
			commonName = supplied
		CNF
		openssl rand -hex 8 >"ca-$name/serial"
		openssl ca -batch -config "ca-$name/ca.cnf" -cert "$issuer.pem" -keyfile "$issuer.key" \
			-startdate "$start" -enddate "$end" -extfile "$name.ext" \
			-in "$name.csr" -out "$name.leaf" >/dev/null 2>&1
	fi
	# what the server sends: the leaf and, below a non-root issuer, the issuer
	if [ "$issuer" = inter ]; then
		cat "$name.leaf" inter.pem >"$name.pem"
	else
		cp "$name.leaf" "$name.pem"
	fi
}

ca root "/CN=tlsguard test root"
ca inter "/CN=tlsguard test intermediate" root
ca other-root "/CN=tlsguard other root"
ca client-ca "/CN=tlsguard client CA"

leaf valid inter "DNS:localhost,IP:127.0.0.1"
cp valid.leaf valid-leaf.pem
leaf wronghost inter "DNS:wrong.example"
leaf untrusted other-root "DNS:localhost,IP:127.0.0.1"
leaf expired inter "DNS:localhost,IP:127.0.0.1" 20200101000000Z 20210101000000Z
leaf future inter "DNS:localhost,IP:127.0.0.1" 20350101000000Z 20360101000000Z
leaf iponly inter "IP:127.0.0.1"
leaf client client-ca "DNS:client.example"

# self-signed leaf (not a CA)
key selfsigned
openssl req -x509 -new -key selfsigned.key -subj /CN=localhost -days 825 \
	-addext basicConstraints=CA:FALSE -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
	-out selfsigned.pem 2>/dev/null

openssl x509 -in valid.leaf -noout -pubkey | openssl pkey -pubin -outform DER |
	openssl dgst -sha256 -binary | base64 >valid.pin
openssl x509 -in untrusted.leaf -noout -pubkey | openssl pkey -pubin -outform DER |
	openssl dgst -sha256 -binary | base64 >other.pin
rm -f ./*.csr ./*.ext ./*.srl
