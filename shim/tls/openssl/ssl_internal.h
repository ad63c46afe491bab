/*
 * Private to the OpenSSL layer (ssl.c, ssl_state.c, ssl_policy.c).
 *
 * Each SSL the program uses gets a struct sslg_state in its ex_data, created on
 * the first handshake or I/O call and freed with the SSL. Policy is applied once
 * per SSL (at the outermost first handshake call), refined when the socket layer
 * ties the SSL to a governed connection (sslg_claim_hello), and the outcome is
 * checked once when the handshake has finished.
 */
#ifndef TLSGUARD_SSL_INTERNAL_H
#define TLSGUARD_SSL_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/conn.h"
#include "policy.h"
#include "bind/ssl_fns.h"

#include <openssl/x509v3.h>

#define SSLG_REASON_MAX 24
#define SSLG_DETAIL_MAX 160

/* Debian's default; a program lowering it to 0 would re-enable TLS 1.0/1.1 and
 * NULL ciphers (SSL_CTX_set_security_level(3ssl)). */
#define SSLG_MIN_SECURITY_LEVEL 2

/* No CN fallback, no "f*o.example" (X509_check_host(3)). */
#define SSLG_HOST_FLAGS (X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS)

typedef void (*sslg_info_fn)(const SSL *, int, int);
typedef int (*sslg_sec_fn)(const SSL *, const SSL_CTX *, int, int, int, void *, void *);

/* What the shim put in place of the program's own settings on an SSL (ssl.c),
 * and the program's settings it stands in for: what the getters give back.
 * Kept across SSL_clear, as libssl keeps the settings themselves. */
struct sslg_hooks {
	bool info;              /* the shim's info callback is the SSL's */
	bool security;          /* the shim's security callback is the SSL's */
	bool have_mode;         /* prog_mode holds the program's verify mode */
	bool unclaimed;         /* a server on memory BIOs, its connection not known yet */
	int prog_mode;          /* SSL_get_verify_mode as the program set it */
	sslg_info_fn prog_info; /* the program's SSL info callback, or NULL */
	sslg_sec_fn prog_sec;   /* the program's security callback, or NULL */
};

struct sslg_state {
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
	char reason[SSLG_REASON_MAX];
	char detail[SSLG_DETAIL_MAX];
	struct sslg_hooks hooks; /* ssl.c */
};

/* ssl_state.c */
/* How many states have been freed (with their SSL, or reset by SSL_clear): while
 * it holds, an SSL seen earlier is still the same SSL with the same state. */
extern atomic_uint sslg_state_frees;
struct sslg_state *sslg_state_get(const struct ssl_fns *f, const SSL *ssl);
struct sslg_state *sslg_state_make(const struct ssl_fns *f, SSL *ssl);
/* ssl was cleared (SSL_clear) after its handshake ended, for another
 * connection: its state starts over, to be applied again at the next
 * handshake call. */
void sslg_state_reset(const struct ssl_fns *f, SSL *ssl);
/* The program's cert-verify callback of ctx (stored by the interposed
 * SSL_CTX_set_cert_verify_callback), or false if it set none. */
bool sslg_ctx_app_verify(const struct ssl_fns *f, const SSL_CTX *ctx,
                         int (**cb)(X509_STORE_CTX *, void *), void **arg);
int sslg_ctx_app_verify_set(const struct ssl_fns *f, SSL_CTX *ctx,
                            int (*cb)(X509_STORE_CTX *, void *), void *arg);
/* A server SSL on memory BIOs that has processed a ClientHello: ties it to
 * the governed connection that ClientHello came in on, if any (sslg_bind).
 * false while it has processed none yet. */
bool sslg_claim_memory(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st);
void sslg_registry_add(SSL *ssl, struct sslg_state *st);
void sslg_registry_remove(SSL *ssl, struct sslg_state *st);
/* The policy's trust anchors for tls (cached per ca_file/ca_path; a new
 * reference, or NULL). Only the shim's own verifier ever sees these stores. */
X509_STORE *sslg_store_for(const struct ssl_fns *f, const struct policy_tls *tls);
/* trust "policy+app": a new private store holding the certificates of anchors
 * (the policy's) and of ctx's own store as it is now, plus anchors' ca_path
 * lookup (a new reference, or NULL). The program's store is only read. */
X509_STORE *sslg_store_with_app(const struct ssl_fns *f, X509_STORE *anchors, SSL_CTX *ctx,
                                const struct policy_tls *tls);
/* Makes sslg_cert_verify_cb ctx's chain verification (once per context), so
 * that a governed SSL's verdict is the shim's own verification. */
void sslg_ctx_take_verify(const struct ssl_fns *f, SSL_CTX *ctx);
/* Drops what a state holds (store, leaf) before it is freed or reset. */
void sslg_state_release(const struct ssl_fns *f, struct sslg_state *st);

/* ssl_policy.c */
/* Whether the SSL layer acts at all (policy loaded, mode not off). */
bool sslg_active(void);
/* The side of the connection as the entry point tells it: SSL_connect and
 * SSL_accept know before libssl does (an SSL of a TLS_method() context says
 * "server" until SSL_connect sets the connect state). */
enum sslg_side {
	SSLG_SIDE_ASK_SSL, /* SSL_do_handshake, I/O: SSL_is_server() is right by now */
	SSLG_SIDE_CLIENT,
	SSLG_SIDE_SERVER,
};

void sslg_apply(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st, enum sslg_side side);
/* Ties st to the governed connection c and applies its rule's settings that
 * can still take effect. */
void sslg_bind(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st, const struct conn *c,
               int fd);
/* After a handshake or I/O call returned ret: checks a finished handshake once
 * and records failures. Returns false when the call must fail. */
bool sslg_after(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st, int ret);
/* inbound `external = true`: the certificate the program serves must chain to
 * the system's public roots, be within its validity and not be self-signed.
 * Returns false when the SSL was refused (enforce mode). */
bool sslg_check_external(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st);
/* Puts the "verification failed" error on the queue (SSL_get_error then says
 * SSL_ERROR_SSL). */
void sslg_push_error(const struct ssl_fns *f, const struct sslg_state *st);
int sslg_verify_cb(int ok, X509_STORE_CTX *x);
int sslg_cert_verify_cb(X509_STORE_CTX *x, void *arg);

#endif
