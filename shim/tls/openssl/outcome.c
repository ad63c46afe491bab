/*
 * The outcome of a finished handshake (outcome.h), checked by the shim itself:
 * whatever the program configured or its callbacks returned, the connection is
 * used only if the version and cipher meet the floor and the peer's chain
 * passes the shim's own verification.
 */
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/sslerr.h>

#include "outcome.h"
#include "registry.h"
#include "verdict.h"
#include "verify.h"

/* Every refusal of this file is recorded on the spot, outside libssl's
 * handshake. */
static bool violation(struct ossl_state *st, const char *reason, long verify_result,
                      const char *detail)
{
	return ossl_refuse(st, reason, verify_result, detail, OSSL_SHUT_NOW);
}

/* The negotiated suite and key exchange protect the connection, whatever
 * security level, cipher string or security callback the program set:
 * encryption (not eNULL, RFC 5246 A.5), a certificate-authenticated server
 * (not aNULL, PSK-only or SRP-only: nothing ties the peer to a certificate
 * the policy checks), and strength at the shim's security level 2
 * (SSL_CTX_set_security_level(3ssl): 112 bits, for the cipher and for the
 * ephemeral key exchange). NULL when it does, else why not. */
static const char *weak_suite(const struct ssl_fns *f, SSL *ssl, const SSL_CIPHER *cipher)
{
	EVP_PKEY *tmp = NULL;
	int auth, bits = 0;
	const char *why = NULL;

	if (cipher == NULL || f->SSL_CIPHER_get_cipher_nid(cipher) == NID_undef) {
		return "NULL cipher suite: no encryption";
	}
	auth = f->SSL_CIPHER_get_auth_nid(cipher);
	if (auth == NID_auth_null) {
		return "anonymous cipher suite: no server certificate";
	}
	if (auth == NID_auth_psk || auth == NID_auth_srp) {
		return "PSK or SRP cipher suite: no server certificate";
	}
	if (f->SSL_CIPHER_get_bits(cipher, NULL) < 112) {
		return "cipher below security level 2 (112 bits)";
	}
	if (f->SSL_ctrl(ssl, SSL_CTRL_GET_PEER_TMP_KEY, 0, &tmp) == 1 && tmp != NULL) {
		bits = f->EVP_PKEY_get_security_bits(tmp);
		if (bits > 0 && bits < 112) {
			why = "key exchange below security level 2 (112 bits)";
		}
		f->EVP_PKEY_free(tmp);
	}
	return why;
}

static bool check_finished(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st)
{
	const SSL_CIPHER *cipher = f->SSL_get_current_cipher(ssl);
	X509 *peer = f->SSL_get0_peer_certificate(ssl);
	const char *weak;

	if (f->SSL_version(ssl) < ossl_version_floor(st->tls)) {
		return violation(st, "protocol_version", X509_V_ERR_APPLICATION_VERIFICATION,
		                 "negotiated version below the policy minimum");
	}
	if ((weak = weak_suite(f, ssl, cipher)) != NULL) {
		return violation(st, "cipher", X509_V_ERR_APPLICATION_VERIFICATION, weak);
	}
	if (st->server && !st->tls->require_client_cert) {
		return true;
	}
	if (peer == NULL) {
		return violation(st, st->server ? "no_client_cert" : "cert_verify",
		                 X509_V_ERR_APPLICATION_VERIFICATION, "no peer certificate");
	}
	if (!ossl_verify_chain(f, ssl, st, peer)) {
		return false;
	}
	if (st->cn_fallback && !st->reported) {
		ossl_report_cn_fallback(st);
	}
	return true;
}

static bool is_version_error(int reason)
{
	switch (reason) {
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_NO_PROTOCOLS_AVAILABLE:
	case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
	case SSL_R_WRONG_SSL_VERSION:
	case SSL_R_VERSION_TOO_LOW:
		return true;
	default:
		return false;
	}
}

/* libssl's own refusal of the peer's key or signature digest, before the
 * chain verification (SSL_R_*_TOO_SMALL/WEAK): the X509 error that says the
 * same, or X509_V_OK for another reason. */
static long weak_key_error(int reason)
{
	switch (reason) {
	case SSL_R_EE_KEY_TOO_SMALL:
		return X509_V_ERR_EE_KEY_TOO_SMALL;
	case SSL_R_CA_KEY_TOO_SMALL:
		return X509_V_ERR_CA_KEY_TOO_SMALL;
	case SSL_R_CA_MD_TOO_WEAK:
		return X509_V_ERR_CA_MD_TOO_WEAK;
	default:
		return X509_V_OK;
	}
}

/* libssl itself failed the handshake the shim made strict: say why. */
static void classify_failure(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st)
{
	unsigned long e = f->ERR_peek_last_error();
	long vr = f->SSL_get_verify_result(ssl);
	int reason = ERR_GET_REASON(e);
	long weak_key;

	if (st->reported) {
		return;
	}
	if (vr != X509_V_OK) {
		(void)violation(st, ossl_reason_of_x509(vr), vr,
		                f->X509_verify_cert_error_string(vr));
	} else if (e == 0 || ERR_GET_LIB(e) != ERR_LIB_SSL) {
		return; /* not a TLS failure (I/O, resources): nothing to record */
	} else if (is_version_error(reason)) {
		(void)violation(st, "protocol_version", X509_V_ERR_APPLICATION_VERIFICATION,
		                "no protocol version the policy allows");
	} else if (reason == SSL_R_NO_CIPHERS_AVAILABLE || reason == SSL_R_NO_SHARED_CIPHER) {
		/* The program offered only suites below the policy's floor (NULL,
		 * anonymous, export): with the security level kept, none is left. */
		(void)violation(st, "cipher", X509_V_ERR_APPLICATION_VERIFICATION,
		                "no cipher suite the policy allows");
	} else if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
		(void)violation(st, "no_client_cert", X509_V_ERR_APPLICATION_VERIFICATION,
		                "the client sent no certificate");
	} else if ((weak_key = weak_key_error(reason)) != X509_V_OK) {
		/* still a refusal the audit must show */
		(void)violation(st, "cert_verify", weak_key,
		                f->X509_verify_cert_error_string(weak_key));
	} else if (reason == SSL_R_DH_KEY_TOO_SMALL || reason == SSL_R_BAD_DH_VALUE) {
		(void)violation(st, "cipher", X509_V_ERR_APPLICATION_VERIFICATION,
		                "key exchange below security level 2 (112 bits)");
	}
}

bool ossl_outcome_check(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st, int ret)
{
	if (st->failed) {
		ossl_shut_if_pending(st);
		return false;
	}
	if (!st->applied || st->checked) {
		return true;
	}
	if (f->SSL_is_init_finished(ssl) == 1) {
		st->checked = true;
		ossl_registry_remove(ssl, st);
		return !st->governed || check_finished(f, ssl, st);
	}
	if (ret <= 0 && st->governed && ossl_enforcing()) {
		classify_failure(f, ssl, st);
	}
	return true;
}
