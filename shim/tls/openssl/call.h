/*
 * The flow of one handshake, I/O or teardown call on an SSL, behind the
 * interposed entry points: the policy applied at the outermost first call, an
 * SSL already refused failing at once, the outcome checked when the call
 * returns. libssl calls some of these names itself (SSL_connect ->
 * SSL_do_handshake, the SSL BIO -> SSL_read, ...), through the PLT and so
 * through the shim: only the outermost call of a thread does anything.
 */
#ifndef TLSGUARD_OSSL_CALL_H
#define TLSGUARD_OSSL_CALL_H

#include "apply.h"
#include "ossl.h"

/* Which handshake entry point the program called. */
enum ossl_handshake_call {
	OSSL_CALL_CONNECT,      /* SSL_connect: this process is the client */
	OSSL_CALL_ACCEPT,       /* SSL_accept: this process is the server */
	OSSL_CALL_DO_HANDSHAKE, /* SSL_do_handshake: the side set earlier */
};

enum ossl_io_op {
	OSSL_IO_READ,
	OSSL_IO_PEEK,
	OSSL_IO_WRITE,
};

int ossl_call_handshake(SSL *ssl, enum ossl_handshake_call which);
/* SSL_set_connect_state / SSL_set_accept_state (side: client or server). */
void ossl_call_set_side(SSL *ssl, enum ossl_side side);
/* SSL_read, SSL_peek, SSL_write. */
int ossl_call_io(SSL *ssl, enum ossl_io_op op, void *buf, int num);
/* SSL_read_ex, SSL_peek_ex, SSL_write_ex. */
int ossl_call_io_ex(SSL *ssl, enum ossl_io_op op, void *buf, size_t num, size_t *done);
int ossl_call_shutdown(SSL *ssl);
int ossl_call_clear(SSL *ssl);

#endif
