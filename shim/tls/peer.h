/*
 * What every TLS library's layer decides the same way, whatever the library:
 * the one name a peer's certificate must carry, the pin match, and the words
 * an audit event gives a refusal (/work/shared/CONTRACT.md, "Reasons").
 * Pure functions of the policy and of what the caller passes in.
 */
#ifndef TLSGUARD_TLS_PEER_H
#define TLSGUARD_TLS_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define TLS_REASON_CERT_VERIFY      "cert_verify"
#define TLS_REASON_HOSTNAME         "hostname"
#define TLS_REASON_PIN              "pin"
#define TLS_REASON_PROTOCOL_VERSION "protocol_version"
#define TLS_REASON_CIPHER           "cipher"
#define TLS_REASON_NO_CLIENT_CERT   "no_client_cert"

#define TLS_PIN_MISMATCH "no certificate of the chain matches pin_sha256"
#define TLS_CN_FALLBACK_DETAIL                                                                     \
	"insecure_cn_fallback: name matched by the subject CN, no subjectAltName"

/* The security level every governed session is held to: 112 bits (OpenSSL's
 * security level 2, GnuTLS's GNUTLS_PROFILE_MEDIUM / %PROFILE_MEDIUM). */
#define TLS_MIN_SECURITY_BITS 112

/* Whether name is an IPv4 or IPv6 literal. */
bool tls_name_is_ip(const char *name);

/* The one name the certificate must carry (tlsguard.conf.5, "Host names"):
 * the rule's server_name; else the name the program resolved for the address
 * it connected to (resolved, may be NULL or ""); else, for an address it did
 * not resolve, the SNI it sent (sni, may be NULL); else the peer's address
 * (peer, may be NULL). The SNI comes after the resolved name: it is only what
 * the program says, the resolved name is where it actually connected. out
 * gets "" when none is known. */
void tls_choose_name(const struct policy_tls *tls, const char *resolved, const char *sni,
                     const struct policy_addr *peer, char *out, size_t len);

/* Whether digest (SHA-256 of a SubjectPublicKeyInfo, DER) is one of tls's
 * pin_sha256. */
bool tls_pin_match(const struct policy_tls *tls, const uint8_t digest[POLICY_PIN_LEN]);

#endif
