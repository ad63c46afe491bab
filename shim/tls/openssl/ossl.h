/*
 * The OpenSSL layer's shared vocabulary: the shim's state for one SSL, the
 * constants the policy is forced with, and the three questions every file asks
 * (is the layer on, is it enforcing, what is the version floor). Types and
 * inline answers only: no file of the layer is called from here.
 *
 * What happens to an SSL. The interposed entry points (interpose.c) hand each
 * handshake or I/O call to call.c. The outermost first call applies the policy
 * (apply.c: stricter settings, the shim's trust store from store.c, the
 * connection's rule) and puts the shim's callbacks on the SSL (hooks.c). While
 * the handshake runs the SSL is listed (registry.c), so that the socket layer,
 * seeing a ClientHello on a governed socket, can find the SSL that made it and
 * bind it to the connection (claim.c, through the library-neutral seam
 * tls/tls.h). libssl's chain verification is the shim's own (verify.c); when
 * the handshake has finished its outcome is checked once (outcome.c), and a
 * refusal is recorded and enforced in one place (verdict.c). What the program
 * sets on an SSL afterwards, or reads back, goes through settings.c.
 *
 * Who calls whom (an arrow: calls or includes the header of; no cycles):
 *
 *   interpose.c -> call.c, settings.c
 *   tls/tls.c   -> claim.c
 *   call.c      -> apply.c, hooks.c, outcome.c, verdict.c, state.c
 *   settings.c  -> hooks.c, verify.c, state.c
 *   hooks.c     -> claim.c, apply.c, outcome.c, state.c
 *   claim.c     -> registry.c, apply.c
 *   apply.c     -> verify.c, store.c, registry.c
 *   outcome.c   -> verify.c, verdict.c, registry.c
 *   verify.c    -> verdict.c, store.c, state.c
 *   verdict.c   -> (core/audit, core/conn)
 *   state.c     -> registry.c
 *   registry.c, store.c -> (nothing of the layer)
 *
 * Below the layer: core/conn (conn_acquire; the socket layer's fields are
 * written only through conn_tls_bind, conn_tls_closed and conn_refuse),
 * core/audit, bind/real, and OpenSSL itself, reached only through the bound
 * table (bind/ssl_fns.h). Every file includes this header.
 */
#ifndef TLSGUARD_OSSL_H
#define TLSGUARD_OSSL_H

#include <stdbool.h>
#include <stdint.h>

#include "bind/ssl_fns.h"
#include "core/conn.h"
#include "policy.h"
#include "shim.h"

#include <openssl/tls1.h>
#include <openssl/x509v3.h>

#define OSSL_REASON_MAX 24
#define OSSL_DETAIL_MAX 160

/* Debian's default; a program lowering it to 0 would re-enable TLS 1.0/1.1 and
 * NULL ciphers (SSL_CTX_set_security_level(3ssl)). */
#define OSSL_MIN_SECURITY_LEVEL 2

/* No CN fallback, no "f*o.example" (X509_check_host(3)). */
#define OSSL_HOST_FLAGS (X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS)

typedef void (*ossl_info_fn)(const SSL *, int, int);
typedef int (*ossl_sec_fn)(const SSL *, const SSL_CTX *, int, int, int, void *, void *);

/* What the shim put in place of the program's own settings on an SSL
 * (hooks.c), and the program's settings it stands in for: what the getters
 * give back (settings.c). Kept across SSL_clear, as libssl keeps the settings
 * themselves. */
struct ossl_hooks {
	bool info;              /* the shim's info callback is the SSL's */
	bool security;          /* the shim's security callback is the SSL's */
	bool have_mode;         /* prog_mode holds the program's verify mode */
	bool unclaimed;         /* a server on memory BIOs, its connection not known yet */
	int prog_mode;          /* SSL_get_verify_mode as the program set it */
	ossl_info_fn prog_info; /* the program's SSL info callback, or NULL */
	ossl_sec_fn prog_sec;   /* the program's security callback, or NULL */
};

/* The shim's state for one SSL, in its ex_data (state.c): created on the
 * first handshake or I/O call, freed with the SSL. */
struct ossl_state {
	bool applied;        /* the first handshake call has looked at the policy */
	bool governed;       /* the policy requires TLS here: settings forced, outcome checked */
	bool server;         /* this process is the TLS server */
	bool bound;          /* tied to a governed connection (descriptor or ClientHello) */
	bool checked;        /* the finished handshake's outcome was checked */
	bool failed;         /* enforce mode refused it: every later call fails */
	bool reported;       /* the audit event for it was sent */
	bool in_handshake;   /* listed in the registry of handshakes under way */
	bool shut_pending;   /* refused inside libssl's handshake: the socket is
	                      * shut once the handshake call returns */
	bool prog_refused;   /* the program's verify callback refused a certificate
	                      * that its own verification passed (stricter: honoured) */
	bool cn_fallback;    /* the name matched only by the subject CN
	                      * (insecure_cn_fallback), audited once */
	X509 *verified_leaf; /* the peer leaf the shim's own verifier passed during
	                      * the handshake (a reference is held), or NULL */
	int fd;              /* the socket, or -1 */
	long verify_result;  /* the real reason of the failure (X509_V_ERR_*) */
	const struct policy_rule *rule; /* NULL: the policy's defaults */
	const struct policy_tls *tls;   /* the effective TLS requirements */
	bool have_peer;
	struct policy_addr peer;
	uint16_t port;
	char host[CONN_HOST_MAX]; /* the name the program resolved, or "" */
	char name[CONN_HOST_MAX]; /* the name the certificate must carry, or "" */
	SSL_verify_cb prog_cb;    /* the program's own verify callback */
	X509_STORE *store;        /* the policy's trust anchors, private to the shim's own
	                           * verifier: never set on the SSL or its context
	                           * (a reference is held) */
	char reason[OSSL_REASON_MAX];
	char detail[OSSL_DETAIL_MAX];
	struct ossl_hooks hooks;
};

/* Whether the layer acts at all (policy loaded, mode not off). */
static inline bool ossl_active(void)
{
	return shim_policy() != NULL && shim_mode() != POLICY_MODE_OFF;
}

static inline bool ossl_enforcing(void)
{
	return shim_mode() == POLICY_MODE_ENFORCE;
}

/* The lowest protocol version tls allows (tlsguard.conf.5, min_version), as
 * libssl counts versions: what is forced on an SSL, what a program may not
 * set below, and what the negotiated version is checked against. */
static inline long ossl_version_floor(const struct policy_tls *tls)
{
	switch (tls->min_version) {
	case POLICY_TLS_1_3:
		return TLS1_3_VERSION;
	case POLICY_TLS_1_2:
	default:
		return TLS1_2_VERSION;
	}
}

#endif
