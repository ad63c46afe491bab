/*
 * The OpenSSL functions the SSL layer calls, bound lazily into a typed table.
 *
 * libtlsguard.so is linked without libssl/libcrypto, so every OpenSSL function
 * is reached through this table, never by name: a direct call would be an
 * undefined symbol that --no-undefined refuses at link time, and that the
 * dynamic linker could not resolve in a process without libssl.
 * The table is bound only once the program has called an OpenSSL function the
 * shim interposes (libssl is then already mapped) and only from a libssl that
 * is already loaded (dlopen RTLD_NOLOAD): the shim never loads libssl itself.
 * OpenSSL headers are included for types and constants only.
 */
#ifndef TLSGUARD_SSL_FNS_H
#define TLSGUARD_SSL_FNS_H

#include <stdatomic.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

struct ssl_fns {
	/* the real functions behind the interposed names */
	int (*SSL_connect)(SSL *);
	int (*SSL_accept)(SSL *);
	int (*SSL_do_handshake)(SSL *);
	void (*SSL_set_accept_state)(SSL *);
	void (*SSL_set_connect_state)(SSL *);
	int (*SSL_read)(SSL *, void *, int);
	int (*SSL_read_ex)(SSL *, void *, size_t, size_t *);
	int (*SSL_peek)(SSL *, void *, int);
	int (*SSL_peek_ex)(SSL *, void *, size_t, size_t *);
	int (*SSL_write)(SSL *, const void *, int);
	int (*SSL_write_ex)(SSL *, const void *, size_t, size_t *);
	int (*SSL_shutdown)(SSL *);
	int (*SSL_clear)(SSL *);
	void (*SSL_set_verify)(SSL *, int, SSL_verify_cb);
	void (*SSL_CTX_set_cert_verify_callback)(SSL_CTX *, int (*)(X509_STORE_CTX *, void *),
	                                         void *);
	void (*SSL_set_verify_result)(SSL *, long);
	long (*SSL_get_verify_result)(const SSL *);
	long (*SSL_ctrl)(SSL *, int, long, void *);
	void (*SSL_set_security_level)(SSL *, int);
	int (*SSL_set_cipher_list)(SSL *, const char *);
	uint64_t (*SSL_set_options)(SSL *, uint64_t);
	uint64_t (*SSL_CTX_set_options)(SSL_CTX *, uint64_t);
	int (*SSL_set_session)(SSL *, SSL_SESSION *);
	void (*SSL_set_info_callback)(SSL *, void (*)(const SSL *, int, int));
	void (*(*SSL_get_info_callback)(const SSL *))(const SSL *, int, int);
	void (*SSL_set_security_callback)(SSL *, int (*)(const SSL *, const SSL_CTX *, int, int,
	                                                 int, void *, void *));
	int (*(*SSL_get_security_callback)(const SSL *))(const SSL *, const SSL_CTX *, int, int,
	                                                 int, void *, void *);
	SSL_CTX *(*SSL_set_SSL_CTX)(SSL *, SSL_CTX *);
	/* libssl, not interposed */
	long (*SSL_CTX_ctrl)(SSL_CTX *, int, long, void *);
	int (*CRYPTO_get_ex_new_index)(int, long, void *, CRYPTO_EX_new *, CRYPTO_EX_dup *,
	                               CRYPTO_EX_free *);
	void *(*SSL_get_ex_data)(const SSL *, int);
	int (*SSL_set_ex_data)(SSL *, int, void *);
	void *(*SSL_CTX_get_ex_data)(const SSL_CTX *, int);
	int (*SSL_CTX_set_ex_data)(SSL_CTX *, int, void *);
	int (*SSL_get_ex_data_X509_STORE_CTX_idx)(void);
	int (*SSL_get_fd)(const SSL *);
	int (*SSL_is_server)(const SSL *);
	int (*SSL_is_init_finished)(const SSL *);
	int (*SSL_get_verify_mode)(const SSL *);
	SSL_verify_cb (*SSL_get_verify_callback)(const SSL *);
	const char *(*SSL_get_servername)(const SSL *, int);
	int (*SSL_set1_host)(SSL *, const char *);
	void (*SSL_set_hostflags)(SSL *, unsigned int);
	int (*SSL_get_security_level)(const SSL *);
	SSL_CTX *(*SSL_get_SSL_CTX)(const SSL *);
	X509_STORE *(*SSL_CTX_get_cert_store)(const SSL_CTX *);
	X509 *(*SSL_get_certificate)(const SSL *);
	int (*SSL_use_certificate_chain_file)(SSL *, const char *);
	int (*SSL_use_PrivateKey_file)(SSL *, const char *, int);
	size_t (*SSL_get_client_random)(const SSL *, unsigned char *, size_t);
	X509 *(*SSL_get0_peer_certificate)(const SSL *);
	STACK_OF(X509) * (*SSL_get_peer_cert_chain)(const SSL *);
	int (*SSL_version)(const SSL *);
	const SSL_CIPHER *(*SSL_get_current_cipher)(const SSL *);
	int (*SSL_CIPHER_get_cipher_nid)(const SSL_CIPHER *);
	int (*SSL_CIPHER_get_auth_nid)(const SSL_CIPHER *);
	uint64_t (*SSL_clear_options)(SSL *, uint64_t);
	void (*(*SSL_CTX_get_info_callback)(SSL_CTX *))(const SSL *, int, int);
	int (*(*SSL_CTX_get_security_callback)(const SSL_CTX *))(const SSL *, const SSL_CTX *, int,
	                                                         int, int, void *, void *);
	SSL_CTX *(*SSL_CTX_new)(const SSL_METHOD *);
	void (*SSL_CTX_free)(SSL_CTX *);
	const SSL_METHOD *(*TLS_method)(void);
	BIO *(*SSL_get_wbio)(const SSL *);
	/* libcrypto */
	X509_STORE *(*X509_STORE_new)(void);
	void (*X509_STORE_free)(X509_STORE *);
	int (*X509_STORE_up_ref)(X509_STORE *);
	int (*X509_STORE_load_file)(X509_STORE *, const char *);
	int (*X509_STORE_load_path)(X509_STORE *, const char *);
	int (*X509_STORE_set_default_paths)(X509_STORE *);
	int (*X509_STORE_add_cert)(X509_STORE *, X509 *);
	STACK_OF(X509_OBJECT) * (*X509_STORE_get0_objects)(const X509_STORE *);
	X509 *(*X509_OBJECT_get0_X509)(const X509_OBJECT *);
	X509_STORE_CTX *(*X509_STORE_CTX_new)(void);
	void (*X509_STORE_CTX_free)(X509_STORE_CTX *);
	int (*X509_STORE_CTX_init)(X509_STORE_CTX *, X509_STORE *, X509 *, STACK_OF(X509) *);
	int (*X509_STORE_CTX_set_default)(X509_STORE_CTX *, const char *);
	X509_VERIFY_PARAM *(*X509_STORE_CTX_get0_param)(const X509_STORE_CTX *);
	X509 *(*X509_STORE_CTX_get0_cert)(const X509_STORE_CTX *);
	STACK_OF(X509) * (*X509_STORE_CTX_get0_untrusted)(const X509_STORE_CTX *);
	void (*X509_STORE_CTX_set_error)(X509_STORE_CTX *, int);
	int (*X509_STORE_CTX_get_error)(const X509_STORE_CTX *);
	STACK_OF(X509) * (*X509_STORE_CTX_get0_chain)(const X509_STORE_CTX *);
	void *(*X509_STORE_CTX_get_ex_data)(const X509_STORE_CTX *, int);
	int (*X509_VERIFY_PARAM_set1_host)(X509_VERIFY_PARAM *, const char *, size_t);
	int (*X509_VERIFY_PARAM_set1_ip_asc)(X509_VERIFY_PARAM *, const char *);
	void (*X509_VERIFY_PARAM_set_hostflags)(X509_VERIFY_PARAM *, unsigned int);
	int (*X509_verify_cert)(X509_STORE_CTX *);
	const char *(*X509_verify_cert_error_string)(long);
	X509_PUBKEY *(*X509_get_X509_PUBKEY)(const X509 *);
	int (*i2d_X509_PUBKEY)(const X509_PUBKEY *, unsigned char **);
	int (*EVP_Digest)(const void *, size_t, unsigned char *, unsigned int *, const EVP_MD *,
	                  ENGINE *);
	const EVP_MD *(*EVP_sha256)(void);
	int (*OPENSSL_sk_num)(const OPENSSL_STACK *);
	void *(*OPENSSL_sk_value)(const OPENSSL_STACK *, int);
	void (*CRYPTO_free)(void *, const char *, int);
	void (*ERR_new)(void);
	void (*ERR_set_debug)(const char *, int, const char *);
	void (*ERR_set_error)(int, int, const char *, ...);
	unsigned long (*ERR_peek_last_error)(void);
	long (*BIO_ctrl)(BIO *, int, long, void *);
	int (*BIO_method_type)(const BIO *);
	/* the independent verifier (tls/openssl/verify.c) */
	int (*X509_up_ref)(X509 *);
	void (*X509_free)(X509 *);
	int (*X509_STORE_lock)(X509_STORE *);
	int (*X509_STORE_unlock)(X509_STORE *);
	void (*X509_VERIFY_PARAM_set_auth_level)(X509_VERIFY_PARAM *, int);
	int (*SSL_CIPHER_get_bits)(const SSL_CIPHER *, int *);
	int (*EVP_PKEY_get_security_bits)(const EVP_PKEY *);
	void (*EVP_PKEY_free)(EVP_PKEY *);
};

/* The table once bound (ssl_fns.c); read through the two functions below. */
extern _Atomic(const struct ssl_fns *) ssl_fns_bound;

/* Binds the table (once, pthread_once) and returns it: ssl_fns() below. */
const struct ssl_fns *ssl_fns_bind(void);

/* The table if it was already bound, else NULL; never binds (for the socket
 * layer's questions in a process that may have no libssl). */
static inline const struct ssl_fns *ssl_fns_if_bound(void)
{
	return atomic_load_explicit(&ssl_fns_bound, memory_order_acquire);
}

/* The table, bound on the first call; NULL when libssl is not loaded in this
 * process or a name is missing (not OpenSSL 3). Call only from an interposed
 * OpenSSL function or from a path that found one running. Once bound, a load. */
static inline const struct ssl_fns *ssl_fns(void)
{
	const struct ssl_fns *f = ssl_fns_if_bound();

	return f != NULL ? f : ssl_fns_bind();
}

#endif
