/*
 * Forcing the policy onto an SSL: the rule's TLS requirements, stricter than
 * whatever the program configured and never looser, applied at the first
 * handshake call and refined when the SSL is bound to its governed connection.
 */
#ifndef TLSGUARD_OSSL_APPLY_H
#define TLSGUARD_OSSL_APPLY_H

#include "ossl.h"

/* The side of the connection as the entry point tells it: SSL_connect and
 * SSL_accept know before libssl does (an SSL of a TLS_method() context says
 * "server" until SSL_connect sets the connect state). */
enum ossl_side {
	OSSL_SIDE_ASK_SSL, /* SSL_do_handshake, I/O: SSL_is_server() is right by now */
	OSSL_SIDE_CLIENT,
	OSSL_SIDE_SERVER,
};

/* The first handshake call on ssl: what the policy says about its connection
 * (known by its descriptor, else later by its ClientHello) is put in force,
 * and the SSL is listed for the socket layer's claim. */
void ossl_apply(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st, enum ossl_side side);

/* Ties ssl (state st) to the governed connection c (descriptor fd), found
 * after the policy was applied, applies its rule's settings that can still
 * take effect, and records the SSL on c (conn_tls_bind). */
void ossl_apply_bind(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st, struct conn *c,
                     int fd);

#endif
