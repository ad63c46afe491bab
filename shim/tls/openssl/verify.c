/*
 * The shim's own certificate verification (verify.h): whatever the program
 * configured or its callbacks returned, a governed peer passes only if its
 * chain verifies against the policy's anchors, carries the right name and
 * matches the pins.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "state.h"
#include "store.h"
#include "tls/peer.h"
#include "verdict.h"
#include "verify.h"

const char *ossl_reason_of_x509(long err)
{
	switch (err) {
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return "hostname";
	default:
		return "cert_verify";
	}
}

static bool spki_matches(const struct ssl_fns *f, X509 *cert, const struct policy_tls *tls)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int len;
	bool hit = false;

	len = f->i2d_X509_PUBKEY(f->X509_get_X509_PUBKEY(cert), &der);
	if (len <= 0 || der == NULL) {
		return false;
	}
	if (f->EVP_Digest(der, (size_t)len, md, &mdlen, f->EVP_sha256(), NULL) == 1 &&
	    mdlen == POLICY_PIN_LEN) {
		hit = tls_pin_match(tls, md);
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
	if (tls_name_is_ip(name)) {
		(void)f->X509_VERIFY_PARAM_set1_ip_asc(param, name);
		return;
	}
	(void)f->X509_VERIFY_PARAM_set1_host(param, name, 0);
	f->X509_VERIFY_PARAM_set_hostflags(param, flags);
}

/* The anchors of this verification: the policy's (client_ca_file for client
 * certificates), and with trust "policy+app" a private copy that adds the
 * certificates of the program's own store as they are now. A new reference. */
static X509_STORE *anchors_of(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st)
{
	if (!st->server && st->tls->trust == POLICY_TRUST_POLICY_AND_APP) {
		return ossl_store_with_app(f, st->store, f->SSL_get_SSL_CTX(ssl), st->tls);
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
 * callback. Returns the X509 error; *pins_ok the pins' verdict. */
static long verify_once(const struct ssl_fns *f, X509_STORE *store, struct ossl_state *st,
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
	f->X509_VERIFY_PARAM_set_auth_level(param, OSSL_MIN_SECURITY_LEVEL);
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
static long verify_peer(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st, X509 *leaf,
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
	err = verify_once(f, store, st, leaf, untrusted, OSSL_HOST_FLAGS, &pins_ok);
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
		*why = ossl_reason_of_x509(err);
	}
out:
	if (store != NULL) {
		f->X509_STORE_free(store);
	}
	return err;
}

/* verify_peer's failure, refused with the words the audit gives it. */
static bool refuse_peer(const struct ssl_fns *f, struct ossl_state *st, const char *why, long err,
                        enum ossl_shut when)
{
	const char *detail =
	    strcmp(why, "pin") == 0 ? TLS_PIN_MISMATCH : f->X509_verify_cert_error_string(err);

	return ossl_refuse(st, why, err, detail, when);
}

/* The program's SSL verify callback (SSL_set_verify(3ssl)) runs only on the
 * program's own view of the chain (its store, its parameters). It may make the
 * outcome stricter: refusing a certificate that its view passed is honoured.
 * Its view failing counts for nothing, nor does the callback clearing the
 * error: the verdict is the shim's own verification (ossl_cert_verify_cb). */
int ossl_verify_cb(int ok, X509_STORE_CTX *x)
{
	const struct ssl_fns *f = ssl_fns_if_bound();
	SSL *ssl;
	struct ossl_state *st;
	int prog = 1;

	if (f == NULL || x == NULL) {
		return 0;
	}
	ssl = f->X509_STORE_CTX_get_ex_data(x, f->SSL_get_ex_data_X509_STORE_CTX_idx());
	st = ssl != NULL ? ossl_state_get(f, ssl) : NULL;
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
                                struct ossl_state *st, bool *refused)
{
	int (*cb)(X509_STORE_CTX *, void *) = NULL;
	void *cb_arg = NULL;
	int ok;

	if (st != NULL) {
		st->prog_refused = false;
	}
	if (ossl_ctx_app_verify(f, arg, &cb, &cb_arg)) {
		ok = cb(x, cb_arg) > 0 ? 1 : 0;
		*refused = !ok && f->X509_STORE_CTX_get_error(x) == X509_V_OK;
	} else {
		ok = f->X509_verify_cert(x) == 1 ? 1 : 0;
		*refused = false;
	}
	*refused = *refused || (st != NULL && st->prog_refused);
	return ok;
}

/* Remembers leaf as the one the shim's verifier passed (a reference held). */
static void keep_verified_leaf(const struct ssl_fns *f, struct ossl_state *st, X509 *leaf)
{
	if (st->verified_leaf != NULL) {
		f->X509_free(st->verified_leaf);
		st->verified_leaf = NULL;
	}
	if (leaf != NULL && f->X509_up_ref(leaf) == 1) {
		st->verified_leaf = leaf;
	}
}

/* On a governed SSL in enforce mode the shim's own verifier decides, so the
 * handshake fails early with the proper alert and SSL_get_verify_result gives
 * the real X509 error; the program's own verification then still runs when it
 * has a callback to see it, and can only make the outcome stricter. Elsewhere
 * it is the program's verification, unchanged
 * (SSL_CTX_set_cert_verify_callback(3ssl)). */
int ossl_cert_verify_cb(X509_STORE_CTX *x, void *arg)
{
	const struct ssl_fns *f = ssl_fns_if_bound();
	int (*cb)(X509_STORE_CTX *, void *) = NULL;
	void *cb_arg = NULL;
	SSL *ssl;
	struct ossl_state *st;
	const char *why = NULL;
	bool refused = false;
	X509 *leaf;
	long err;

	if (f == NULL || x == NULL) {
		return 0;
	}
	ssl = f->X509_STORE_CTX_get_ex_data(x, f->SSL_get_ex_data_X509_STORE_CTX_idx());
	st = ssl != NULL ? ossl_state_get(f, ssl) : NULL;
	if (st == NULL || !st->applied || !st->governed || !ossl_enforcing() ||
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
		(void)refuse_peer(f, st, why, err, OSSL_SHUT_AFTER_HANDSHAKE);
		f->X509_STORE_CTX_set_error(x, (int)err);
		return 0;
	}
	keep_verified_leaf(f, st, leaf);
	if (st->prog_cb != NULL || ossl_ctx_app_verify(f, arg, &cb, &cb_arg)) {
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

void ossl_verify_own_ctx(const struct ssl_fns *f, SSL_CTX *ctx)
{
	ossl_ctx_take_verify(f, ctx, ossl_cert_verify_cb);
}

bool ossl_verify_chain(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st, X509 *leaf)
{
	const char *why = NULL;
	long err;

	/* The shim's own verifier passed this very leaf during the handshake
	 * (ossl_cert_verify_cb; the reference held makes it the same object):
	 * not repeated. libssl's own result never counts. */
	if (st->verified_leaf != NULL && st->verified_leaf == leaf) {
		return true;
	}
	err = verify_peer(f, ssl, st, leaf, f->SSL_get_peer_cert_chain(ssl), &why);
	if (err == X509_V_OK) {
		return true;
	}
	return refuse_peer(f, st, why, err, OSSL_SHUT_NOW);
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

bool ossl_verify_served(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st)
{
	struct policy_tls system = {.trust = POLICY_TRUST_POLICY}; /* no files: system store */
	X509 *cert = f->SSL_get_certificate(ssl);
	X509_STORE *store = ossl_store_for(f, &system);
	X509_STORE_CTX *v = f->X509_STORE_CTX_new();
	long err = X509_V_ERR_UNSPECIFIED;
	char detail[OSSL_DETAIL_MAX];

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
	return ossl_refuse(st, "cert_verify", err, detail, OSSL_SHUT_NOW);
}
