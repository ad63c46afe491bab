/*
 * The tunnels' SSL_CTX: one per rule and side, made on first use and kept
 * for the life of the process (the policy is immutable). A client context
 * carries nothing of its own: the OpenSSL layer forces everything the rule
 * asks (version floor, trust, host name, pins, client certificate) on each
 * SSL at its first handshake call, as it does for a program's. A server
 * context carries the rule's cert_file and key_file.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "tunnel_internal.h"

struct ctx_entry {
	const struct policy_rule *rule;
	bool server;
	SSL_CTX *ctx;
	struct ctx_entry *next;
};

static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ctx_entry *ctxs;

static SSL_CTX *make(const struct ssl_fns *f, const struct tunnel_ssl_fns *tf,
                     const struct policy_rule *rule, bool server, char *why, size_t whylen)
{
	SSL_CTX *ctx = f->SSL_CTX_new(f->TLS_method());

	if (ctx == NULL) {
		snprintf(why, whylen, "SSL_CTX_new failed");
		return NULL;
	}
	/* the pump retries a write with the same buffer; records may move */
	f->SSL_CTX_ctrl(ctx, SSL_CTRL_MODE, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER, NULL);
	/* libssl reads what the socket holds, not a record header and then its
	 * body: half the reads through the socket layer */
	f->SSL_CTX_ctrl(ctx, SSL_CTRL_SET_READ_AHEAD, 1, NULL);
	if (!server) {
		return ctx;
	}
	if (tf->SSL_CTX_use_certificate_chain_file(ctx, rule->tls.cert_file) != 1 ||
	    tf->SSL_CTX_use_PrivateKey_file(ctx, rule->tls.key_file, SSL_FILETYPE_PEM) != 1 ||
	    tf->SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(why, whylen, "cert_file %.60s and key_file %.60s cannot be used together",
		         rule->tls.cert_file, rule->tls.key_file);
		f->SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

SSL_CTX *tunnel_ctx(const struct ssl_fns *f, const struct tunnel_ssl_fns *tf,
                    const struct policy_rule *rule, bool server, char *why, size_t whylen)
{
	struct ctx_entry *e;
	SSL_CTX *ctx = NULL;

	pthread_mutex_lock(&ctx_lock);
	for (e = ctxs; e != NULL; e = e->next) {
		if (e->rule == rule && e->server == server) {
			ctx = e->ctx;
			break;
		}
	}
	if (ctx == NULL && (ctx = make(f, tf, rule, server, why, whylen)) != NULL) {
		e = calloc(1, sizeof(*e));
		if (e == NULL) {
			f->SSL_CTX_free(ctx);
			ctx = NULL;
			snprintf(why, whylen, "out of memory");
		} else {
			e->rule = rule;
			e->server = server;
			e->ctx = ctx;
			e->next = ctxs;
			ctxs = e;
		}
	}
	pthread_mutex_unlock(&ctx_lock);
	return ctx;
}
