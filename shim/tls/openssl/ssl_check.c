/*
 * The outcome of a finished handshake, checked by the shim itself: whatever
 * the program configured or its callbacks returned, the connection is used only
 * if the peer's chain verifies against the policy's anchors, carries the right
 * name, matches the pins, and the version and cipher meet the floor.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/sslerr.h>
#include <openssl/tls1.h>
#include <openssl/x509v3.h>

#include "core/audit.h"
#include "bind/real.h"
#include "shim.h"
#include "ssl_internal.h"

static bool enforcing(void)
{
	return shim_mode() == POLICY_MODE_ENFORCE;
}

static void report(const struct sslg_state *st, enum audit_verdict verdict)
{
	struct audit_event ev = {
	    .kind = AUDIT_HANDSHAKE,
	    .verdict = verdict,
	    .inbound = st->server,
	    .peer = st->have_peer ? &st->peer : NULL,
	    .port = st->port,
	    .host = st->host,
	    .rule = st->rule != NULL ? st->rule->index : POLICY_RULE_DEFAULT,
	    .reason = st->reason,
	    .detail = st->detail[0] != '\0' ? st->detail : NULL,
	};
	int saved = errno;

	audit_emit(&ev);
	errno = saved;
}

static void shut_socket(const struct sslg_state *st)
{
	struct conn *c;
	struct stat sb;

	if (st->fd < 0) {
		return;
	}
	c = conn_acquire(st->fd);
	if (c != NULL) {
		conn_refuse(c, st->fd);
		conn_release(c);
	} else if (fstat(st->fd, &sb) == 0 && S_ISSOCK(sb.st_mode)) {
		(void)real()->shutdown(st->fd, SHUT_RDWR);
	}
}

/* A violation of the policy: recorded once; in enforce mode the SSL is dead
 * from here on. Returns false when the call must fail. Inside libssl's
 * handshake (shut_now false) the socket is shut only once the handshake call
 * returned, so that libssl's alert still tells the peer why. */
static bool refuse(struct sslg_state *st, const char *reason, long verify_result,
                   const char *detail, bool shut_now)
{
	int saved = errno;

	if (st->reported) {
		return !st->failed;
	}
	snprintf(st->reason, sizeof(st->reason), "%s", reason);
	snprintf(st->detail, sizeof(st->detail), "%s", detail != NULL ? detail : "");
	st->reported = true;
	if (!enforcing()) {
		report(st, AUDIT_VERDICT_AUDIT);
		return true;
	}
	st->verify_result = verify_result;
	st->failed = true;
	report(st, AUDIT_VERDICT_BLOCK);
	if (shut_now) {
		shut_socket(st);
	} else {
		st->shut_pending = true;
	}
	errno = saved;
	return false;
}

static bool violation(struct sslg_state *st, const char *reason, long verify_result,
                      const char *detail)
{
	return refuse(st, reason, verify_result, detail, true);
}

void sslg_push_error(const struct ssl_fns *f, const struct sslg_state *st)
{
	f->ERR_new();
	f->ERR_set_debug(__FILE__, __LINE__, "tlsguard");
	f->ERR_set_error(ERR_LIB_SSL, SSL_R_CERTIFICATE_VERIFY_FAILED, "tlsguard: %s%s%s",
	                 st->reason, st->detail[0] != '\0' ? ": " : "", st->detail);
}

static const char *reason_of_x509(long err)
{
	switch (err) {
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return "hostname";
	default:
		return "cert_verify";
	}
}

static long verify_peer(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st, X509 *leaf,
                        STACK_OF(X509) * untrusted, const char **why);
static bool refuse(struct sslg_state *st, const char *reason, long err, const char *detail,
                   bool shut_now);

/* The program's SSL verify callback (SSL_set_verify(3ssl)) runs only on the
 * program's own view of the chain (its store, its parameters). It may make the
 * outcome stricter: refusing a certificate that its view passed is honoured.
 * Its view failing counts for nothing, nor does the callback clearing the
 * error: the verdict is the shim's own verification (sslg_cert_verify_cb). */
int sslg_verify_cb(int ok, X509_STORE_CTX *x)
{
	const struct ssl_fns *f = ssl_fns_if_bound();
	SSL *ssl;
	struct sslg_state *st;
	int prog = 1;

	if (f == NULL || x == NULL) {
		return 0;
	}
	ssl = f->X509_STORE_CTX_get_ex_data(x, f->SSL_get_ex_data_X509_STORE_CTX_idx());
	st = ssl != NULL ? sslg_state_get(f, ssl) : NULL;
	if (st != NULL && st->prog_cb != NULL) {
		prog = st->prog_cb(ok, x);
	}
	if (st != NULL && ok && !prog) {
		st->prog_refused = true;
	}
	return ok && prog ? 1 : 0;
}

/* What the program would have had libssl do with x: its cert-verify callback
 * if it set one, else X509_verify_cert with its store, parameters and verify
 * callback. *refused: the program itself turned down what its view passed. */
static int program_verification(const struct ssl_fns *f, X509_STORE_CTX *x, void *arg,
                                struct sslg_state *st, bool *refused)
{
	int (*cb)(X509_STORE_CTX *, void *) = NULL;
	void *cb_arg = NULL;
	int ok;

	if (st != NULL) {
		st->prog_refused = false;
	}
	if (sslg_ctx_app_verify(f, arg, &cb, &cb_arg)) {
		ok = cb(x, cb_arg) > 0 ? 1 : 0;
		*refused = !ok && f->X509_STORE_CTX_get_error(x) == X509_V_OK;
	} else {
		ok = f->X509_verify_cert(x) == 1 ? 1 : 0;
		*refused = false;
	}
	*refused = *refused || (st != NULL && st->prog_refused);
	return ok;
}

/* libssl's chain verification on every context of a governed program
 * (SSL_CTX_set_cert_verify_callback(3ssl), installed by sslg_ctx_take_verify).
 * On a governed SSL in enforce mode the shim's own verifier decides, so the
 * handshake fails early with the proper alert and SSL_get_verify_result gives
 * the real X509 error; the program's own verification then still runs when it
 * has a callback to see it, and can only make the outcome stricter. Elsewhere
 * it is the program's verification, unchanged. */
int sslg_cert_verify_cb(X509_STORE_CTX *x, void *arg)
{
	const struct ssl_fns *f = ssl_fns_if_bound();
	int (*cb)(X509_STORE_CTX *, void *) = NULL;
	void *cb_arg = NULL;
	SSL *ssl;
	struct sslg_state *st;
	const char *why = NULL;
	bool refused = false;
	X509 *leaf;
	long err;

	if (f == NULL || x == NULL) {
		return 0;
	}
	ssl = f->X509_STORE_CTX_get_ex_data(x, f->SSL_get_ex_data_X509_STORE_CTX_idx());
	st = ssl != NULL ? sslg_state_get(f, ssl) : NULL;
	if (st == NULL || !st->applied || !st->governed || !enforcing() ||
	    (st->server && !st->tls->require_client_cert)) {
		return program_verification(f, x, arg, st, &refused);
	}
	if (st->failed) {
		f->X509_STORE_CTX_set_error(x, (int)st->verify_result);
		return 0;
	}
	leaf = f->X509_STORE_CTX_get0_cert(x);
	err = verify_peer(f, ssl, st, leaf, f->X509_STORE_CTX_get0_untrusted(x), &why);
	if (err != X509_V_OK) {
		(void)refuse(st, why, err,
		             strcmp(why, "pin") == 0
		                 ? "no certificate of the chain matches pin_sha256"
		                 : f->X509_verify_cert_error_string(err),
		             false);
		f->X509_STORE_CTX_set_error(x, (int)err);
		return 0;
	}
	if (st->verified_leaf != NULL) {
		f->X509_free(st->verified_leaf);
		st->verified_leaf = NULL;
	}
	if (leaf != NULL && f->X509_up_ref(leaf) == 1) {
		st->verified_leaf = leaf;
	}
	if (st->prog_cb != NULL || sslg_ctx_app_verify(f, arg, &cb, &cb_arg)) {
		(void)program_verification(f, x, arg, st, &refused);
		if (refused) {
			if (f->X509_STORE_CTX_get_error(x) == X509_V_OK) {
				f->X509_STORE_CTX_set_error(x, X509_V_ERR_APPLICATION_VERIFICATION);
			}
			return 0;
		}
	}
	f->X509_STORE_CTX_set_error(x, X509_V_OK);
	return 1;
}

static bool spki_matches(const struct ssl_fns *f, X509 *cert, const struct policy_tls *tls)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int len;
	size_t i;
	bool hit = false;

	len = f->i2d_X509_PUBKEY(f->X509_get_X509_PUBKEY(cert), &der);
	if (len <= 0 || der == NULL) {
		return false;
	}
	if (f->EVP_Digest(der, (size_t)len, md, &mdlen, f->EVP_sha256(), NULL) == 1 &&
	    mdlen == POLICY_PIN_LEN) {
		for (i = 0; i < tls->npins && !hit; i++) {
			hit = memcmp(tls->pins[i], md, POLICY_PIN_LEN) == 0;
		}
	}
	f->CRYPTO_free(der, __FILE__, __LINE__);
	return hit;
}

static bool chain_pinned(const struct ssl_fns *f, STACK_OF(X509) * chain,
                         const struct policy_tls *tls)
{
	int i, n = chain != NULL ? f->OPENSSL_sk_num((const OPENSSL_STACK *)chain) : 0;

	for (i = 0; i < n; i++) {
		X509 *cert = f->OPENSSL_sk_value((const OPENSSL_STACK *)chain, i);

		if (cert != NULL && spki_matches(f, cert, tls)) {
			return true;
		}
	}
	return false;
}

static void set_name(const struct ssl_fns *f, X509_VERIFY_PARAM *param, const char *name,
                     unsigned int flags)
{
	struct policy_addr a;

	if (policy_addr_parse(&a, name) == 0) {
		(void)f->X509_VERIFY_PARAM_set1_ip_asc(param, name);
		return;
	}
	(void)f->X509_VERIFY_PARAM_set1_host(param, name, 0);
	f->X509_VERIFY_PARAM_set_hostflags(param, flags);
}

/* The anchors of this verification: the policy's (client_ca_file for client
 * certificates), and with trust "policy+app" a private copy that adds the
 * certificates of the program's own store as they are now. A new reference. */
static X509_STORE *anchors_of(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st)
{
	if (!st->server && st->tls->trust == POLICY_TRUST_POLICY_AND_APP) {
		return sslg_store_with_app(f, st->store, f->SSL_get_SSL_CTX(ssl), st->tls);
	}
	if (st->store == NULL || f->X509_STORE_up_ref(st->store) != 1) {
		return NULL;
	}
	return st->store;
}

/* One X509_verify_cert of leaf over untrusted, with nothing of the program's:
 * the shim's own anchors (never handed to libssl or the program), a fresh
 * X509_VERIFY_PARAM from the policy alone (purpose and trust "ssl_server" /
 * "ssl_client", X509_VERIFY_PARAM_set_auth_level(3) at the shim's security
 * level so RSA < 2048 and SHA-1/MD5 signatures fail, the current time, no
 * PARTIAL_CHAIN / NO_CHECK_TIME / IGNORE_CRITICAL, the one chosen name), no
 * callback. Returns the X509 error; *chain_pinned the pins' verdict. */
static long verify_once(const struct ssl_fns *f, X509_STORE *store, struct sslg_state *st,
                        X509 *leaf, STACK_OF(X509) * untrusted, unsigned int hostflags,
                        bool *pins_ok)
{
	X509_STORE_CTX *v = f->X509_STORE_CTX_new();
	X509_VERIFY_PARAM *param;
	long err;

	*pins_ok = false;
	if (v == NULL || f->X509_STORE_CTX_init(v, store, leaf, untrusted) != 1) {
		err = X509_V_ERR_OUT_OF_MEM;
		goto out;
	}
	(void)f->X509_STORE_CTX_set_default(v, st->server ? "ssl_client" : "ssl_server");
	param = f->X509_STORE_CTX_get0_param(v);
	f->X509_VERIFY_PARAM_set_auth_level(param, SSLG_MIN_SECURITY_LEVEL);
	if (!st->server && st->tls->verify_hostname && st->name[0] != '\0') {
		set_name(f, param, st->name, hostflags);
	}
	if (f->X509_verify_cert(v) != 1) {
		err = f->X509_STORE_CTX_get_error(v);
		err = err == X509_V_OK ? X509_V_ERR_UNSPECIFIED : err;
		goto out;
	}
	err = X509_V_OK;
	*pins_ok = st->tls->npins == 0 || chain_pinned(f, f->X509_STORE_CTX_get0_chain(v), st->tls);
out:
	if (v != NULL) {
		f->X509_STORE_CTX_free(v);
	}
	return err;
}

/* The shim's own verification of the peer's chain: X509_V_OK, or the X509
 * error with *why the audit reason. A rule with insecure_cn_fallback gets a
 * second try that lets a certificate without a DNS subjectAltName match by
 * its subject CN; st->cn_fallback then marks the audit. */
static long verify_peer(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st, X509 *leaf,
                        STACK_OF(X509) * untrusted, const char **why)
{
	X509_STORE *store = anchors_of(f, ssl, st);
	bool pins_ok = false;
	long err;

	*why = "cert_verify";
	if (leaf == NULL) {
		err = X509_V_ERR_APPLICATION_VERIFICATION;
		goto out;
	}
	if (store == NULL) {
		err = X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY; /* no anchors: closed */
		goto out;
	}
	err = verify_once(f, store, st, leaf, untrusted, SSLG_HOST_FLAGS, &pins_ok);
	if (err == X509_V_ERR_HOSTNAME_MISMATCH && st->tls->insecure_cn_fallback &&
	    verify_once(f, store, st, leaf, untrusted, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
	                &pins_ok) == X509_V_OK) {
		err = X509_V_OK;
		st->cn_fallback = true;
	}
	if (err == X509_V_OK && !pins_ok) {
		err = X509_V_ERR_APPLICATION_VERIFICATION;
		*why = "pin";
	} else if (err != X509_V_OK) {
		*why = reason_of_x509(err);
	}
out:
	if (store != NULL) {
		f->X509_STORE_free(store);
	}
	return err;
}

static bool check_chain(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st, X509 *leaf)
{
	const char *why = NULL;
	long err;

	/* The shim's own verifier passed this very leaf during the handshake
	 * (sslg_cert_verify_cb; the reference held makes it the same object):
	 * not repeated. libssl's own result never counts. */
	if (st->verified_leaf != NULL && st->verified_leaf == leaf) {
		return true;
	}
	err = verify_peer(f, ssl, st, leaf, f->SSL_get_peer_cert_chain(ssl), &why);
	if (err == X509_V_OK) {
		return true;
	}
	if (strcmp(why, "pin") == 0) {
		return violation(st, why, err, "no certificate of the chain matches pin_sha256");
	}
	return violation(st, why, err, f->X509_verify_cert_error_string(err));
}

/* The chain the program configured to send with its certificate. */
static STACK_OF(X509) * served_chain(const struct ssl_fns *f, SSL *ssl)
{
	STACK_OF(X509) *chain = NULL;
	SSL_CTX *ctx;

	(void)f->SSL_ctrl(ssl, SSL_CTRL_GET_CHAIN_CERTS, 0, &chain);
	if (chain != NULL && f->OPENSSL_sk_num((const OPENSSL_STACK *)chain) > 0) {
		return chain;
	}
	ctx = f->SSL_get_SSL_CTX(ssl);
	chain = NULL;
	if (ctx != NULL) {
		(void)f->SSL_CTX_ctrl(ctx, SSL_CTRL_GET_EXTRA_CHAIN_CERTS, 0, &chain);
	}
	return chain;
}

bool sslg_check_external(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st)
{
	struct policy_tls system = {.trust = POLICY_TRUST_POLICY}; /* no files: system store */
	X509 *cert = f->SSL_get_certificate(ssl);
	X509_STORE *store = sslg_store_for(f, &system);
	X509_STORE_CTX *v = f->X509_STORE_CTX_new();
	long err = X509_V_ERR_UNSPECIFIED;
	char detail[SSLG_DETAIL_MAX];

	if (cert == NULL) {
		err = X509_V_ERR_APPLICATION_VERIFICATION; /* nothing to serve with */
	} else if (v != NULL && store != NULL &&
	           f->X509_STORE_CTX_init(v, store, cert, served_chain(f, ssl)) == 1) {
		(void)f->X509_STORE_CTX_set_default(v, "ssl_server");
		err = f->X509_verify_cert(v) == 1 ? X509_V_OK : f->X509_STORE_CTX_get_error(v);
	}
	if (v != NULL) {
		f->X509_STORE_CTX_free(v);
	}
	if (store != NULL) {
		f->X509_STORE_free(store);
	}
	if (err == X509_V_OK) {
		return true;
	}
	snprintf(detail, sizeof(detail), "served certificate: %s",
	         f->X509_verify_cert_error_string(err));
	return violation(st, "cert_verify", err, detail);
}

static long floor_version(const struct policy_tls *tls)
{
	return tls->min_version == POLICY_TLS_1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
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

/* A legacy CN-only certificate let through by the rule's
 * insecure_cn_fallback: one event says so (verdict allow, or audit). */
static void report_cn_fallback(struct sslg_state *st)
{
	snprintf(st->reason, sizeof(st->reason), "hostname");
	snprintf(st->detail, sizeof(st->detail),
	         "insecure_cn_fallback: name matched by the subject CN, no subjectAltName");
	report(st, enforcing() ? AUDIT_VERDICT_ALLOW : AUDIT_VERDICT_AUDIT);
	st->reason[0] = '\0';
	st->detail[0] = '\0';
}

static bool check_outcome(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st)
{
	const SSL_CIPHER *cipher = f->SSL_get_current_cipher(ssl);
	X509 *peer = f->SSL_get0_peer_certificate(ssl);
	const char *weak;

	if (f->SSL_version(ssl) < floor_version(st->tls)) {
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
	if (!check_chain(f, ssl, st, peer)) {
		return false;
	}
	if (st->cn_fallback && !st->reported) {
		report_cn_fallback(st);
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

/* libssl itself failed the handshake the shim made strict: say why. */
static void classify_failure(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st)
{
	unsigned long e = f->ERR_peek_last_error();
	long vr = f->SSL_get_verify_result(ssl);
	int reason = ERR_GET_REASON(e);

	if (st->reported) {
		return;
	}
	if (vr != X509_V_OK) {
		(void)violation(st, reason_of_x509(vr), vr, f->X509_verify_cert_error_string(vr));
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
	} else if (reason == SSL_R_EE_KEY_TOO_SMALL) {
		/* libssl's own security check of the peer's key, before the chain
		 * verification: still a refusal the audit must show */
		(void)violation(st, "cert_verify", X509_V_ERR_EE_KEY_TOO_SMALL,
		                f->X509_verify_cert_error_string(X509_V_ERR_EE_KEY_TOO_SMALL));
	} else if (reason == SSL_R_CA_KEY_TOO_SMALL) {
		(void)violation(st, "cert_verify", X509_V_ERR_CA_KEY_TOO_SMALL,
		                f->X509_verify_cert_error_string(X509_V_ERR_CA_KEY_TOO_SMALL));
	} else if (reason == SSL_R_CA_MD_TOO_WEAK) {
		(void)violation(st, "cert_verify", X509_V_ERR_CA_MD_TOO_WEAK,
		                f->X509_verify_cert_error_string(X509_V_ERR_CA_MD_TOO_WEAK));
	} else if (reason == SSL_R_DH_KEY_TOO_SMALL || reason == SSL_R_BAD_DH_VALUE) {
		(void)violation(st, "cipher", X509_V_ERR_APPLICATION_VERIFICATION,
		                "key exchange below security level 2 (112 bits)");
	}
}

bool sslg_after(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st, int ret)
{
	if (st->failed) {
		if (st->shut_pending) {
			st->shut_pending = false;
			shut_socket(st);
		}
		return false;
	}
	if (!st->applied || st->checked) {
		return true;
	}
	if (f->SSL_is_init_finished(ssl) == 1) {
		st->checked = true;
		sslg_registry_remove(ssl, st);
		return !st->governed || check_outcome(f, ssl, st);
	}
	if (ret <= 0 && st->governed && enforcing()) {
		classify_failure(f, ssl, st);
	}
	return true;
}
