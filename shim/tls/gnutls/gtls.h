/*
 * The GnuTLS layer's shared vocabulary: the shim's state for one
 * gnutls_session_t, and the questions every file asks (is the layer on, is it
 * enforcing, what is the version floor). Types and inline answers only.
 *
 * What happens to a session. gnutls_init (interpose.c -> call.c) makes the
 * shim's state for it in a side table keyed by the session pointer (state.c):
 * GnuTLS has no ex_data, and the init flags are the one reliable way to know a
 * server. The priority functions (priority.c) append the policy's version
 * floor and security level to whatever priority string the program gives
 * (built by priority_str.c, a pure function). The outermost first
 * gnutls_handshake call applies the policy (apply.c: the connection and its
 * rule, the shim's verify function in place of the program's, client
 * certificates required or presented). While the handshake runs the session
 * is listed (registry.c), so that the socket layer, seeing a ClientHello on a
 * governed socket, finds the session that wrote it by its client random and
 * binds it to the connection (claim.c, through the library-neutral seam
 * tls/tls.h), whatever push function the program uses. The chain is verified
 * by the shim inside the handshake (verify.c, with store.c's trust lists built
 * from the policy alone); when gnutls_handshake returns, the outcome is
 * checked (outcome.c) and a refusal is recorded and enforced in one place
 * (verdict.c). What the program sets or reads back on a session afterwards
 * (verify functions, resumption data, certificate requests, the verification
 * status) goes through settings.c.
 *
 * libgnutls calls many of its own public names through its PLT (objdump -R:
 * gnutls_handshake, gnutls_priority_init, gnutls_session_set_verify_function,
 * gnutls_certificate_verify_peers2, ...), so a preloaded definition sees its
 * internal calls too. Every interposed call counts its nesting in a thread's
 * depth (call.c): only the outermost applies policy, inner calls pass straight
 * through to the real function.
 *
 * Who calls whom (an arrow: calls or includes the header of; no cycles):
 *
 *   interpose.c -> call.c, priority.c, settings.c
 *   tls/tls.c   -> claim.c
 *   call.c      -> apply.c, claim.c, outcome.c, registry.c, state.c
 *   priority.c  -> priority_str.c, state.c, call.c (depth)
 *   settings.c  -> verify.c, state.c, call.c (depth)
 *   claim.c     -> registry.c, apply.c
 *   apply.c     -> verify.c, registry.c, priority_str.c
 *   outcome.c   -> verify.c, verdict.c, registry.c
 *   verify.c    -> verdict.c, store.c, state.c
 *   verdict.c   -> state.c (the count of refused sessions), (tls/report, tls/peer)
 *   registry.c, store.c, state.c, priority_str.c -> (nothing of the layer)
 *
 * Below the layer: core/conn (conn_acquire, conn_tls_bind, conn_tls_closed,
 * and conn_refuse through tls/report), core/audit, tls/peer (the name to
 * check, pins, reason words, shared with the OpenSSL layer), and GnuTLS
 * itself, reached only through the bound table (bind/gnutls_fns.h).
 */
#ifndef TLSGUARD_GTLS_H
#define TLSGUARD_GTLS_H

#include <stdbool.h>
#include <stdint.h>

#include "bind/gnutls_fns.h"
#include "core/conn.h"
#include "policy.h"
#include "shim.h"

#define GTLS_REASON_MAX 24
#define GTLS_DETAIL_MAX 160

/* What a refused session's calls return: GnuTLS's own verification failure
 * (gnutls_handshake(3), gnutls_session_set_verify_cert(3)). */
#define GTLS_REFUSED GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR

/* The shim's state for one session, in the side table (state.c): made by
 * gnutls_init (or the first call that needs it), freed by gnutls_deinit. */
struct gtls_state {
	gnutls_session_t session;
	struct gtls_state *next; /* the side table's chain */
	bool server;             /* gnutls_init said GNUTLS_SERVER */
	bool applied;            /* the first handshake call has looked at the policy */
	bool governed;          /* the policy requires TLS here: settings forced, outcome checked */
	bool bound;             /* tied to a governed connection (descriptor or ClientHello) */
	bool checked;           /* the finished handshake's outcome was checked */
	bool failed;            /* enforce mode refused it: every later call fails */
	bool reported;          /* the audit event for it was sent */
	bool in_handshake;      /* listed in the registry of handshakes under way */
	bool shut_pending;      /* refused inside the handshake: the socket is shut
	                         * once gnutls_handshake returns */
	bool verified;          /* the shim's verify function passed the peer in this
	                         * handshake */
	bool cn_fallback;       /* the name matched only by the subject CN
	                         * (insecure_cn_fallback), audited once */
	bool custom_push;       /* the program moves the records itself: the
	                         * transport's int is not a descriptor */
	bool shim_verify;       /* the shim's verify function is the session's */
	bool have_prog_verify;  /* prog_verify holds the program's own */
	bool have_prog_request; /* prog_request holds the program's own */
	gnutls_certificate_verify_function *prog_verify;
	gnutls_certificate_request_t prog_request;
	gnutls_certificate_credentials_t shim_cred; /* the policy's client
	                                             * certificate, or NULL */
	void *prog_cred; /* the program's certificate credentials shim_cred
	                  * stands in for on this session (their verify function) */
	/* The program's own priorities, as it set them (priority.c), so that a
	 * rule with another floor than the top level's can set them again with
	 * its own (apply.c). */
	bool have_prog_prio;
	bool prog_prio_default; /* GnuTLS's default priorities, prog_prio appended */
	unsigned prog_prio_flags;
	char *prog_prio;                /* malloc'd; NULL: none (the default alone) */
	int fd;                         /* the socket, or -1 */
	unsigned status;                /* GNUTLS_CERT_* of the refusal, for the status getters */
	const struct policy_rule *rule; /* NULL: the policy's defaults */
	const struct policy_tls *tls;   /* the effective TLS requirements */
	bool have_peer;
	struct policy_addr peer;
	uint16_t port;
	char host[CONN_HOST_MAX]; /* the name the program resolved, or "" */
	char name[CONN_HOST_MAX]; /* the name the certificate must carry, or "" */
	char sni[CONN_HOST_MAX];  /* the host name the program gave gnutls_server_name_set,
	                           * or "" (a client session cannot read it back:
	                           * gnutls_server_name_get is the server's) */
	char reason[GTLS_REASON_MAX];
	char detail[GTLS_DETAIL_MAX];
};

/* Whether the layer acts at all (policy loaded, mode not off). */
static inline bool gtls_active(void)
{
	return shim_policy() != NULL && shim_mode() != POLICY_MODE_OFF;
}

static inline bool gtls_enforcing(void)
{
	return shim_mode() == POLICY_MODE_ENFORCE;
}

/* Whether v, a negotiated version, meets tls's min_version. DTLS 1.2 counts
 * as TLS 1.2 (RFC 6347), older DTLS as below it. */
static inline bool gtls_version_ok(gnutls_protocol_t v, const struct policy_tls *tls)
{
	switch (v) {
	case GNUTLS_TLS1_3:
		return true;
	case GNUTLS_TLS1_2:
	case GNUTLS_DTLS1_2:
		return tls->min_version != POLICY_TLS_1_3;
	default:
		return false;
	}
}

#endif
