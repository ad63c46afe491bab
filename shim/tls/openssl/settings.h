/*
 * What the program sets on an SSL or SSL_CTX once the policy was applied, held
 * to the policy (it may make things stricter, never looser), and what it reads
 * back: the settings it made itself, whatever the shim forces behind them.
 * One function per interposed setter or getter (interpose.c).
 */
#ifndef TLSGUARD_OSSL_SETTINGS_H
#define TLSGUARD_OSSL_SETTINGS_H

#include "ossl.h"

void ossl_set_verify(SSL *ssl, int mode, SSL_verify_cb cb);
void ossl_ctx_set_cert_verify_callback(SSL_CTX *ctx, int (*cb)(X509_STORE_CTX *, void *),
                                       void *arg);
void ossl_set_verify_result(SSL *ssl, long result);
long ossl_get_verify_result(const SSL *ssl);
long ossl_ctrl(SSL *ssl, int cmd, long larg, void *parg);
void ossl_set_security_level(SSL *ssl, int level);
int ossl_set_cipher_list(SSL *ssl, const char *str);
uint64_t ossl_set_options(SSL *ssl, uint64_t op);
uint64_t ossl_ctx_set_options(SSL_CTX *ctx, uint64_t op);
uint64_t ossl_clear_options(SSL *ssl, uint64_t op);
int ossl_set_session(SSL *ssl, SSL_SESSION *session);
void ossl_set_info_callback(SSL *ssl, ossl_info_fn cb);
ossl_info_fn ossl_get_info_callback(const SSL *ssl);
void ossl_set_security_callback(SSL *ssl, ossl_sec_fn cb);
ossl_sec_fn ossl_get_security_callback(const SSL *ssl);
SSL_CTX *ossl_set_ssl_ctx(SSL *ssl, SSL_CTX *ctx);
int ossl_get_verify_mode(const SSL *ssl);
SSL_verify_cb ossl_get_verify_callback(const SSL *ssl);

#endif
