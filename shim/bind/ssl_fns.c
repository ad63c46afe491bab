/*
 * Lazy binding of the OpenSSL functions (see ssl_fns.h).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "real.h"
#include "ssl_fns.h"

/* OpenSSL 3 exports every public name with this version (libssl.map). */
#define OPENSSL_VERSION_NODE "OPENSSL_3.0.0"

static struct ssl_fns fns;
_Atomic(const struct ssl_fns *) ssl_fns_bound;
static pthread_once_t bind_once = PTHREAD_ONCE_INIT;

/* The libssl already mapped into the process. RTLD_NOLOAD never loads it: a
 * program without libssl keeps having none. A libssl dlopen'ed with RTLD_LOCAL
 * (python's _ssl module) is outside RTLD_NEXT's reach, hence the handle. */
static void *libssl_handle(void)
{
	void *h = real()->dlopen("libssl.so.3", RTLD_LAZY | RTLD_NOLOAD);

	return h != NULL ? h : RTLD_NEXT;
}

/* Through the real dlvsym/dlsym, never the shim's own (dl.c). */
static void *find(void *handle, const char *name, bool *missing)
{
	const struct real_fns *dl = real_dl();
	void *p = NULL;

	if (dl->dlvsym != NULL) {
		p = dl->dlvsym(handle, name, OPENSSL_VERSION_NODE);
	}
	if (p == NULL && dl->dlsym != NULL) {
		p = dl->dlsym(handle, name);
	}
	if (p == NULL) {
		*missing = true;
	}
	return p;
}

#define BIND(name) (f->name = (__typeof__(f->name))find(h, #name, &missing))

static void bind_ssl(struct ssl_fns *f, void *h, bool *out_missing)
{
	bool missing = false;

	BIND(SSL_connect);
	BIND(SSL_accept);
	BIND(SSL_do_handshake);
	BIND(SSL_set_accept_state);
	BIND(SSL_set_connect_state);
	BIND(SSL_read);
	BIND(SSL_read_ex);
	BIND(SSL_peek);
	BIND(SSL_peek_ex);
	BIND(SSL_write);
	BIND(SSL_write_ex);
	BIND(SSL_shutdown);
	BIND(SSL_clear);
	BIND(SSL_set_verify);
	BIND(SSL_CTX_set_cert_verify_callback);
	BIND(SSL_set_verify_result);
	BIND(SSL_get_verify_result);
	BIND(SSL_ctrl);
	BIND(SSL_set_security_level);
	BIND(SSL_set_cipher_list);
	BIND(SSL_set_options);
	BIND(SSL_CTX_set_options);
	BIND(SSL_set_session);
	BIND(SSL_set_info_callback);
	BIND(SSL_get_info_callback);
	BIND(SSL_set_security_callback);
	BIND(SSL_get_security_callback);
	BIND(SSL_set_SSL_CTX);
	BIND(SSL_CTX_ctrl);
	BIND(CRYPTO_get_ex_new_index);
	BIND(SSL_get_ex_data);
	BIND(SSL_set_ex_data);
	BIND(SSL_CTX_get_ex_data);
	BIND(SSL_CTX_set_ex_data);
	BIND(SSL_get_ex_data_X509_STORE_CTX_idx);
	BIND(SSL_get_fd);
	BIND(SSL_is_server);
	BIND(SSL_is_init_finished);
	BIND(SSL_get_verify_mode);
	BIND(SSL_get_verify_callback);
	BIND(SSL_get_servername);
	BIND(SSL_set1_host);
	BIND(SSL_set_hostflags);
	BIND(SSL_get_security_level);
	BIND(SSL_get_SSL_CTX);
	BIND(SSL_CTX_get_cert_store);
	BIND(SSL_get_certificate);
	BIND(SSL_use_certificate_chain_file);
	BIND(SSL_use_PrivateKey_file);
	BIND(SSL_get_client_random);
	BIND(SSL_get0_peer_certificate);
	BIND(SSL_get_peer_cert_chain);
	BIND(SSL_version);
	BIND(SSL_get_current_cipher);
	BIND(SSL_CIPHER_get_cipher_nid);
	BIND(SSL_CIPHER_get_auth_nid);
	BIND(SSL_clear_options);
	BIND(SSL_CTX_get_info_callback);
	BIND(SSL_CTX_get_security_callback);
	BIND(SSL_CTX_new);
	BIND(SSL_CTX_free);
	BIND(TLS_method);
	BIND(SSL_get_wbio);
	BIND(SSL_CIPHER_get_bits);
	*out_missing = missing;
}

static void bind_crypto(struct ssl_fns *f, void *h, bool *out_missing)
{
	bool missing = false;

	BIND(X509_STORE_new);
	BIND(X509_STORE_free);
	BIND(X509_STORE_up_ref);
	BIND(X509_STORE_load_file);
	BIND(X509_STORE_load_path);
	BIND(X509_STORE_set_default_paths);
	BIND(X509_STORE_add_cert);
	BIND(X509_STORE_get0_objects);
	BIND(X509_OBJECT_get0_X509);
	BIND(X509_STORE_CTX_new);
	BIND(X509_STORE_CTX_free);
	BIND(X509_STORE_CTX_init);
	BIND(X509_STORE_CTX_set_default);
	BIND(X509_STORE_CTX_get0_param);
	BIND(X509_STORE_CTX_get0_cert);
	BIND(X509_STORE_CTX_get0_untrusted);
	BIND(X509_STORE_CTX_set_error);
	BIND(X509_STORE_CTX_get_error);
	BIND(X509_STORE_CTX_get0_chain);
	BIND(X509_STORE_CTX_get_ex_data);
	BIND(X509_VERIFY_PARAM_set1_host);
	BIND(X509_VERIFY_PARAM_set1_ip_asc);
	BIND(X509_VERIFY_PARAM_set_hostflags);
	BIND(X509_verify_cert);
	BIND(X509_verify_cert_error_string);
	BIND(X509_get_X509_PUBKEY);
	BIND(i2d_X509_PUBKEY);
	BIND(EVP_Digest);
	BIND(EVP_sha256);
	BIND(OPENSSL_sk_num);
	BIND(OPENSSL_sk_value);
	BIND(CRYPTO_free);
	BIND(ERR_new);
	BIND(ERR_set_debug);
	BIND(ERR_set_error);
	BIND(ERR_peek_last_error);
	BIND(BIO_ctrl);
	BIND(BIO_method_type);
	BIND(X509_up_ref);
	BIND(X509_free);
	BIND(X509_STORE_lock);
	BIND(X509_STORE_unlock);
	BIND(X509_VERIFY_PARAM_set_auth_level);
	BIND(EVP_PKEY_get_security_bits);
	BIND(EVP_PKEY_free);
	*out_missing = missing;
}

#undef BIND

static void bind_all(void)
{
	void *h = libssl_handle();
	bool ssl_missing = true, crypto_missing = true;

	/* libcrypto is a dependency of libssl: the libssl handle's scope holds it. */
	bind_ssl(&fns, h, &ssl_missing);
	bind_crypto(&fns, h, &crypto_missing);
	if (!ssl_missing && !crypto_missing) {
		atomic_store_explicit(&ssl_fns_bound, &fns, memory_order_release);
	}
}

const struct ssl_fns *ssl_fns_bind(void)
{
	pthread_once(&bind_once, bind_all);
	return ssl_fns_if_bound();
}
