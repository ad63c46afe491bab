/*
 * The outcome of a handshake (outcome.h): whatever the program configured or
 * its callbacks returned, the session is used only if the version, the
 * authentication and the cipher meet the policy and the peer's chain passes
 * the shim's own verification.
 */
#include "outcome.h"
#include "registry.h"
#include "tls/peer.h"
#include "verdict.h"
#include "verify.h"

static bool violation(struct gtls_state *st, const char *reason, const char *detail)
{
	return gtls_refuse(st, reason, GNUTLS_CERT_INVALID, detail, GTLS_SHUT_NOW);
}

/* Encryption, certificate authentication (not anonymous, PSK or SRP: nothing
 * ties the peer to a certificate the policy checks), and strength at the
 * shim's security level (112 bits). NULL when it does, else why not. */
static const char *weak_suite(const struct gnutls_fns *f, gnutls_session_t session)
{
	gnutls_cipher_algorithm_t cipher = f->gnutls_cipher_get(session);

	if (f->gnutls_auth_get_type(session) != GNUTLS_CRD_CERTIFICATE) {
		return "not certificate-authenticated (anonymous, PSK or SRP)";
	}
	if (cipher == GNUTLS_CIPHER_NULL || cipher == GNUTLS_CIPHER_UNKNOWN) {
		return "NULL cipher suite: no encryption";
	}
	if (f->gnutls_cipher_get_key_size(cipher) * 8 < TLS_MIN_SECURITY_BITS) {
		return "cipher below security level 2 (112 bits)";
	}
	return NULL;
}

/* Kernel TLS (GnuTLS built with it, and enabled in its system
 * configuration) hands the records to the kernel: the program's plaintext
 * would then pass the socket layer as plaintext. Refused at the handshake,
 * with its own words, rather than at the first write. (The OpenSSL layer
 * switches SSL_OP_ENABLE_KTLS off; GnuTLS has no per-session switch.) */
static bool kernel_tls(const struct gnutls_fns *f, gnutls_session_t session)
{
	return f->gnutls_transport_is_ktls_enabled != NULL &&
	       f->gnutls_transport_is_ktls_enabled(session) != 0;
}

static bool check_finished(const struct gnutls_fns *f, gnutls_session_t session,
                           struct gtls_state *st)
{
	const char *weak;

	if (kernel_tls(f, session)) {
		return violation(st, TLS_REASON_CIPHER,
		                 "kernel TLS offload: records would bypass the shim");
	}
	if (!gtls_version_ok(f->gnutls_protocol_get_version(session), st->tls)) {
		return violation(st, TLS_REASON_PROTOCOL_VERSION,
		                 "negotiated version below the policy minimum");
	}
	if (st->server && !st->tls->require_client_cert) {
		return (weak = weak_suite(f, session)) == NULL ||
		       violation(st, TLS_REASON_CIPHER, weak);
	}
	if ((weak = weak_suite(f, session)) != NULL) {
		return violation(st, TLS_REASON_CIPHER, weak);
	}
	/* The shim's own verify function passed this handshake's peer: not
	 * repeated. GnuTLS's own result never counts. */
	if (!st->verified && !gtls_verify_peer(f, session, st, GTLS_SHUT_NOW)) {
		return false;
	}
	st->verified = true;
	if (st->cn_fallback && !st->reported) {
		gtls_report_cn_fallback(st);
	}
	return true;
}

/* GnuTLS itself failed the handshake the shim made strict: say why. */
static void classify_failure(const struct gnutls_fns *f, gnutls_session_t session,
                             struct gtls_state *st, int ret)
{
	if (st->reported) {
		return;
	}
	switch (ret) {
	case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
	case GNUTLS_E_NO_PRIORITIES_WERE_SET:
		(void)violation(st, TLS_REASON_PROTOCOL_VERSION,
		                "no protocol version the policy allows");
		break;
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		if (f->gnutls_alert_get(session) == GNUTLS_A_PROTOCOL_VERSION) {
			(void)violation(
			    st, TLS_REASON_PROTOCOL_VERSION,
			    "the peer refused every protocol version the policy allows");
		} else if (f->gnutls_alert_get(session) == GNUTLS_A_HANDSHAKE_FAILURE ||
		           f->gnutls_alert_get(session) == GNUTLS_A_INSUFFICIENT_SECURITY) {
			(void)violation(st, TLS_REASON_CIPHER,
			                "the peer shares no cipher suite the policy allows");
		}
		break;
	case GNUTLS_E_NO_CIPHER_SUITES:
	case GNUTLS_E_INSUFFICIENT_SECURITY:
	case GNUTLS_E_UNKNOWN_CIPHER_SUITE:
		(void)violation(st, TLS_REASON_CIPHER, "no cipher suite the policy allows");
		break;
	case GNUTLS_E_NO_CERTIFICATE_FOUND:
	case GNUTLS_E_CERTIFICATE_REQUIRED:
		if (st->server) {
			(void)violation(st, TLS_REASON_NO_CLIENT_CERT,
			                "the client sent no certificate");
		}
		break;
	default:
		break; /* I/O, resources, the program's own verification: not the policy's */
	}
}

/* Whether ret ends the handshake (gnutls_handshake(3): these ask to call
 * again). */
static bool is_final(int ret)
{
	switch (ret) {
	case GNUTLS_E_AGAIN:
	case GNUTLS_E_INTERRUPTED:
	case GNUTLS_E_WARNING_ALERT_RECEIVED:
	case GNUTLS_E_GOT_APPLICATION_DATA:
		return false;
	default:
		return true;
	}
}

int gtls_outcome_check(const struct gnutls_fns *f, gnutls_session_t session, struct gtls_state *st,
                       int ret)
{
	if (st->failed) {
		gtls_registry_remove(session, st);
		gtls_shut_if_pending(st);
		return GTLS_REFUSED;
	}
	if (!is_final(ret)) {
		return ret;
	}
	gtls_registry_remove(session, st);
	if (!st->governed) {
		return ret;
	}
	if (ret == GNUTLS_E_SUCCESS) {
		st->checked = true;
		return check_finished(f, session, st) ? ret : GTLS_REFUSED;
	}
	if (gtls_enforcing()) {
		classify_failure(f, session, st, ret);
	}
	gtls_shut_if_pending(st);
	return ret;
}
