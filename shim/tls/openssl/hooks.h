/*
 * The shim's callbacks on an SSL: its info callback (when libssl says a
 * handshake ended, from inside its state machine, whatever drove it) and its
 * security callback (libssl's own check at the forced level first). The
 * program's own callbacks are kept behind them (st->hooks).
 */
#ifndef TLSGUARD_OSSL_HOOKS_H
#define TLSGUARD_OSSL_HOOKS_H

#include "ossl.h"

/* Puts the shim's callbacks on ssl once the policy was applied (and again
 * when a server on memory BIOs has been claimed). */
void ossl_hook(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st);
/* The shim's security callback on ssl, again after SSL_set_SSL_CTX (which
 * gives the SSL its new context's), with the level at least the minimum. */
void ossl_hook_security(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st);

void ossl_info_cb(const SSL *ssl, int where, int ret);
int ossl_sec_cb(const SSL *s, const SSL_CTX *ctx, int op, int bits, int nid, void *other, void *ex);
/* libssl's own security callback, the one a new context has (known once
 * ossl_hook_security ran; NULL before). */
ossl_sec_fn ossl_default_sec(void);

#endif
