/*
 * The interposed OpenSSL entry points: each exported name is a one-line
 * trampoline into the layer (call.c for handshake, I/O and teardown,
 * settings.c for setters and getters); OpenSSL itself is reached only through
 * ssl_fns().
 *
 * Not interposed on purpose: SSL_CTX_new/SSL_new and SSL_CTX_set_verify. An SSL
 * copies its context's settings at SSL_new, and the shim applies the policy to
 * the SSL itself at its first handshake call, after everything the program set
 * on either; what the program changes on the SSL after that goes through the
 * setters below.
 */
#include "call.h"
#include "settings.h"

SHIM_EXPORT int SSL_connect(SSL *ssl)
{
	return ossl_call_handshake(ssl, OSSL_CALL_CONNECT);
}

SHIM_EXPORT int SSL_accept(SSL *ssl)
{
	return ossl_call_handshake(ssl, OSSL_CALL_ACCEPT);
}

SHIM_EXPORT int SSL_do_handshake(SSL *ssl)
{
	return ossl_call_handshake(ssl, OSSL_CALL_DO_HANDSHAKE);
}

SHIM_EXPORT void SSL_set_accept_state(SSL *ssl)
{
	ossl_call_set_side(ssl, OSSL_SIDE_SERVER);
}

SHIM_EXPORT void SSL_set_connect_state(SSL *ssl)
{
	ossl_call_set_side(ssl, OSSL_SIDE_CLIENT);
}

SHIM_EXPORT int SSL_read(SSL *ssl, void *buf, int num)
{
	return ossl_call_io(ssl, OSSL_IO_READ, buf, num);
}

SHIM_EXPORT int SSL_peek(SSL *ssl, void *buf, int num)
{
	return ossl_call_io(ssl, OSSL_IO_PEEK, buf, num);
}

SHIM_EXPORT int SSL_write(SSL *ssl, const void *buf, int num)
{
	return ossl_call_io(ssl, OSSL_IO_WRITE, (void *)buf, num);
}

SHIM_EXPORT int SSL_read_ex(SSL *ssl, void *buf, size_t num, size_t *readbytes)
{
	return ossl_call_io_ex(ssl, OSSL_IO_READ, buf, num, readbytes);
}

SHIM_EXPORT int SSL_peek_ex(SSL *ssl, void *buf, size_t num, size_t *readbytes)
{
	return ossl_call_io_ex(ssl, OSSL_IO_PEEK, buf, num, readbytes);
}

SHIM_EXPORT int SSL_write_ex(SSL *ssl, const void *buf, size_t num, size_t *written)
{
	return ossl_call_io_ex(ssl, OSSL_IO_WRITE, (void *)buf, num, written);
}

SHIM_EXPORT int SSL_shutdown(SSL *ssl)
{
	return ossl_call_shutdown(ssl);
}

SHIM_EXPORT int SSL_clear(SSL *ssl)
{
	return ossl_call_clear(ssl);
}

SHIM_EXPORT void SSL_set_verify(SSL *ssl, int mode, SSL_verify_cb cb)
{
	ossl_set_verify(ssl, mode, cb);
}

SHIM_EXPORT void SSL_CTX_set_cert_verify_callback(SSL_CTX *ctx, int (*cb)(X509_STORE_CTX *, void *),
                                                  void *arg)
{
	ossl_ctx_set_cert_verify_callback(ctx, cb, arg);
}

SHIM_EXPORT void SSL_set_verify_result(SSL *ssl, long result)
{
	ossl_set_verify_result(ssl, result);
}

SHIM_EXPORT long SSL_get_verify_result(const SSL *ssl)
{
	return ossl_get_verify_result(ssl);
}

SHIM_EXPORT long SSL_ctrl(SSL *ssl, int cmd, long larg, void *parg)
{
	return ossl_ctrl(ssl, cmd, larg, parg);
}

SHIM_EXPORT void SSL_set_security_level(SSL *ssl, int level)
{
	ossl_set_security_level(ssl, level);
}

SHIM_EXPORT int SSL_set_cipher_list(SSL *ssl, const char *str)
{
	return ossl_set_cipher_list(ssl, str);
}

SHIM_EXPORT uint64_t SSL_set_options(SSL *ssl, uint64_t op)
{
	return ossl_set_options(ssl, op);
}

SHIM_EXPORT uint64_t SSL_CTX_set_options(SSL_CTX *ctx, uint64_t op)
{
	return ossl_ctx_set_options(ctx, op);
}

SHIM_EXPORT uint64_t SSL_clear_options(SSL *ssl, uint64_t op)
{
	return ossl_clear_options(ssl, op);
}

SHIM_EXPORT int SSL_set_session(SSL *ssl, SSL_SESSION *session)
{
	return ossl_set_session(ssl, session);
}

SHIM_EXPORT void SSL_set_info_callback(SSL *ssl, void (*cb)(const SSL *, int, int))
{
	ossl_set_info_callback(ssl, cb);
}

SHIM_EXPORT void (*SSL_get_info_callback(const SSL *ssl))(const SSL *, int, int)
{
	return ossl_get_info_callback(ssl);
}

SHIM_EXPORT void SSL_set_security_callback(SSL *ssl, int (*cb)(const SSL *, const SSL_CTX *, int,
                                                               int, int, void *, void *))
{
	ossl_set_security_callback(ssl, cb);
}

SHIM_EXPORT int (*SSL_get_security_callback(const SSL *ssl))(const SSL *, const SSL_CTX *, int, int,
                                                             int, void *, void *)
{
	return ossl_get_security_callback(ssl);
}

SHIM_EXPORT SSL_CTX *SSL_set_SSL_CTX(SSL *ssl, SSL_CTX *ctx)
{
	return ossl_set_ssl_ctx(ssl, ctx);
}

SHIM_EXPORT int SSL_get_verify_mode(const SSL *ssl)
{
	return ossl_get_verify_mode(ssl);
}

SHIM_EXPORT SSL_verify_cb SSL_get_verify_callback(const SSL *ssl)
{
	return ossl_get_verify_callback(ssl);
}
