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

#include "audit.h"
#include "real.h"
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
 * from here on. Returns false when the call must fail. */
static bool violation(struct sslg_state *st, const char *reason, long verify_result,
                      const char *detail)
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
	shut_socket(st);
	errno = saved;
	return false;
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

static bool chain_pinned(const struct ssl_fns *f, STACK_OF(X509) * chain,
                         const struct policy_tls *tls);

/* Did libssl just verify st's chain exactly as the outcome check would: with
 * the shim's own store and the name the policy requires, flags included? */
static bool verified_as_policy_says(const struct ssl_fns *f, X509_STORE_CTX *x,
                                    const struct sslg_state *st)
{
	X509_VERIFY_PARAM *param = f->X509_STORE_CTX_get0_param(x);
	struct policy_addr ip;
	const char *host;

	if (!st->governed || st->store == NULL || st->tls->trust != POLICY_TRUST_POLICY ||
	    f->X509_STORE_CTX_get0_store(x) != st->store || param == NULL) {
		return false;
	}
	if (st->server || !st->tls->verify_hostname || st->name[0] == '\0') {
		return true;
	}
	if (policy_addr_parse(&ip, st->name) == 0) {
		return false; /* an IP check: left to the full re-verification */
	}
	host = f->X509_VERIFY_PARAM_get0_host(param, 0);
	return host != NULL && strcasecmp(host, st->name) == 0 &&
	       (f->X509_VERIFY_PARAM_get_hostflags(param) & SSLG_HOST_FLAGS) == SSLG_HOST_FLAGS;
}

/* The program's verify callback may make verification stricter, never looser:
 * when OpenSSL's own check failed, the result is failure. The last call (depth
 * 0, everything passed) also tells whether the outcome check may rely on this
 * verification instead of repeating every signature check. */
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
	if (st != NULL) {
		st->libssl_verified = ok && prog && f->X509_STORE_CTX_get_error_depth(x) == 0 &&
		                      verified_as_policy_says(f, x, st);
		st->pinned = st->libssl_verified && st->tls->npins > 0 &&
		             chain_pinned(f, f->X509_STORE_CTX_get0_chain(x), st->tls);
	}
	return ok && prog ? 1 : 0;
}

/* A fresh verification of x's certificate with x's store and parameters, so
 * the program's own callback may still run X509_verify_cert on x afterwards. */
static int verify_copy(const struct ssl_fns *f, X509_STORE_CTX *x, int *err)
{
	X509_STORE_CTX *v = f->X509_STORE_CTX_new();
	int ok;

	if (v == NULL) {
		*err = X509_V_ERR_OUT_OF_MEM;
		return 0;
	}
	ok = f->X509_STORE_CTX_init(v, f->X509_STORE_CTX_get0_store(x),
	                            f->X509_STORE_CTX_get0_cert(x),
	                            f->X509_STORE_CTX_get0_untrusted(x));
	if (ok == 1) {
		ok = f->X509_VERIFY_PARAM_set1(f->X509_STORE_CTX_get0_param(v),
		                               f->X509_STORE_CTX_get0_param(x));
	}
	ok = ok == 1 ? f->X509_verify_cert(v) : 0;
	*err = ok == 1 ? X509_V_OK : f->X509_STORE_CTX_get_error(v);
	if (ok != 1 && *err == X509_V_OK) {
		*err = X509_V_ERR_UNSPECIFIED;
	}
	f->X509_STORE_CTX_free(v);
	return ok == 1;
}

/* SSL_CTX_set_cert_verify_callback(3ssl) replaces chain verification: on a
 * governed SSL OpenSSL's real verification runs first, and a failure stands
 * whatever the program's replacement says. */
int sslg_cert_verify_cb(X509_STORE_CTX *x, void *arg)
{
	const struct ssl_fns *f = ssl_fns_if_bound();
	int (*cb)(X509_STORE_CTX *, void *) = NULL;
	void *cb_arg = NULL;
	SSL *ssl;
	struct sslg_state *st;
	bool strict;
	int err;

	if (f == NULL || x == NULL) {
		return 0;
	}
	ssl = f->X509_STORE_CTX_get_ex_data(x, f->SSL_get_ex_data_X509_STORE_CTX_idx());
	st = ssl != NULL ? sslg_state_get(f, ssl) : NULL;
	strict = st != NULL && st->governed && enforcing();
	if (!sslg_ctx_app_verify(f, arg, &cb, &cb_arg)) {
		return f->X509_verify_cert(x);
	}
	if (strict && !verify_copy(f, x, &err)) {
		f->X509_STORE_CTX_set_error(x, err);
		return 0;
	}
	return cb(x, cb_arg) > 0 ? 1 : 0;
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

static void set_name(const struct ssl_fns *f, X509_VERIFY_PARAM *param, const char *name)
{
	struct policy_addr a;

	if (policy_addr_parse(&a, name) == 0) {
		(void)f->X509_VERIFY_PARAM_set1_ip_asc(param, name);
		return;
	}
	(void)f->X509_VERIFY_PARAM_set1_host(param, name, 0);
	f->X509_VERIFY_PARAM_set_hostflags(param, SSLG_HOST_FLAGS);
}

/* The peer's chain verified again, independently of the program's store,
 * parameters and callbacks: policy anchors, purpose, host name, pins. */
static bool check_chain(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st, X509 *leaf)
{
	X509_STORE_CTX *v = f->X509_STORE_CTX_new();
	const char *why = NULL;
	long err = X509_V_OK;
	bool ok = false;
	X509_STORE *fresh;

	/* libssl already verified this chain with the same store, purpose and
	 * host name (and libssl's result is X509_V_OK: check_outcome): only the
	 * pins are left, checked on the chain it built. */
	if (st->libssl_verified && f->SSL_get_verify_result(ssl) == X509_V_OK) {
		if (v != NULL) {
			f->X509_STORE_CTX_free(v);
		}
		if (st->tls->npins > 0 && !st->pinned) {
			return violation(st, "pin", X509_V_ERR_APPLICATION_VERIFICATION,
			                 "no certificate of the chain matches pin_sha256");
		}
		return true;
	}

	/* "policy+app": the context's store as it is now (the program may have
	 * loaded its anchors, or swapped the store, since the handshake began). */
	if (st->tls->trust == POLICY_TRUST_POLICY_AND_APP && !st->server &&
	    (fresh = sslg_app_store_with_policy(f, f->SSL_get_SSL_CTX(ssl), st->tls)) != NULL) {
		if (st->store != NULL) {
			f->X509_STORE_free(st->store);
		}
		st->store = fresh;
	}

	if (v == NULL || st->store == NULL ||
	    f->X509_STORE_CTX_init(v, st->store, leaf, f->SSL_get_peer_cert_chain(ssl)) != 1) {
		err = X509_V_ERR_UNSPECIFIED;
		goto out;
	}
	(void)f->X509_STORE_CTX_set_default(v, st->server ? "ssl_client" : "ssl_server");
	if (!st->server && st->tls->verify_hostname && st->name[0] != '\0') {
		set_name(f, f->X509_STORE_CTX_get0_param(v), st->name);
	}
	if (f->X509_verify_cert(v) != 1) {
		err = f->X509_STORE_CTX_get_error(v);
		err = err == X509_V_OK ? X509_V_ERR_UNSPECIFIED : err;
		goto out;
	}
	if (st->tls->npins > 0 && !chain_pinned(f, f->X509_STORE_CTX_get0_chain(v), st->tls)) {
		why = "pin";
		err = X509_V_ERR_APPLICATION_VERIFICATION;
		goto out;
	}
	ok = true;
out:
	if (v != NULL) {
		f->X509_STORE_CTX_free(v);
	}
	if (ok) {
		return true;
	}
	if (why != NULL) {
		return violation(st, why, err, "no certificate of the chain matches pin_sha256");
	}
	return violation(st, reason_of_x509(err), err, f->X509_verify_cert_error_string(err));
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

static bool check_outcome(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st)
{
	const SSL_CIPHER *cipher = f->SSL_get_current_cipher(ssl);
	X509 *peer = f->SSL_get0_peer_certificate(ssl);
	long real_result = f->SSL_get_verify_result(ssl);

	if (f->SSL_version(ssl) < floor_version(st->tls)) {
		return violation(st, "protocol_version", X509_V_ERR_APPLICATION_VERIFICATION,
		                 "negotiated version below the policy minimum");
	}
	/* RFC 5246 A.5: NULL encryption and anonymous key exchange protect nothing. */
	if (cipher == NULL || f->SSL_CIPHER_get_cipher_nid(cipher) == NID_undef ||
	    f->SSL_CIPHER_get_auth_nid(cipher) == NID_auth_null) {
		return violation(st, "cipher", X509_V_ERR_APPLICATION_VERIFICATION,
		                 "NULL or anonymous cipher suite");
	}
	if (st->server && !st->tls->require_client_cert) {
		return true;
	}
	if (peer == NULL) {
		return violation(st, st->server ? "no_client_cert" : "cert_verify",
		                 X509_V_ERR_APPLICATION_VERIFICATION, "no peer certificate");
	}
	if (enforcing() && real_result != X509_V_OK) {
		return violation(st, reason_of_x509(real_result), real_result,
		                 f->X509_verify_cert_error_string(real_result));
	}
	return check_chain(f, ssl, st, peer);
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
	}
}

bool sslg_after(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st, int ret)
{
	if (st->failed) {
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
