/*
 * The GnuTLS functions the GnuTLS layer calls, bound lazily into a typed
 * table, as ssl_fns.h binds OpenSSL's.
 *
 * libtlsguard.so is linked without libgnutls: every GnuTLS function is
 * reached through this table, never by name. The table is bound only once the
 * program has called a GnuTLS function the shim interposes (libgnutls is then
 * already mapped), and only from a libgnutls that is already loaded (dlopen
 * RTLD_NOLOAD): the shim never loads libgnutls itself. A process that never
 * calls a gnutls_* function never binds it. GnuTLS headers are included for
 * types and constants only (pkg-config gnutls --cflags).
 */
#ifndef TLSGUARD_GNUTLS_FNS_H
#define TLSGUARD_GNUTLS_FNS_H

#include <stdatomic.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/socket.h>
#include <gnutls/x509.h>

struct gnutls_fns {
	/* the real functions behind the interposed names */
	int (*gnutls_init)(gnutls_session_t *, unsigned int);
	void (*gnutls_deinit)(gnutls_session_t);
	int (*gnutls_handshake)(gnutls_session_t);
	int (*gnutls_bye)(gnutls_session_t, gnutls_close_request_t);
	ssize_t (*gnutls_record_send)(gnutls_session_t, const void *, size_t);
	ssize_t (*gnutls_record_send2)(gnutls_session_t, const void *, size_t, size_t, unsigned);
	ssize_t (*gnutls_record_send_range)(gnutls_session_t, const void *, size_t,
	                                    const gnutls_range_st *);
	ssize_t (*gnutls_record_send_early_data)(gnutls_session_t, const void *, size_t);
	ssize_t (*gnutls_record_send_file)(gnutls_session_t, int, off_t *, size_t);
	ssize_t (*gnutls_record_recv)(gnutls_session_t, void *, size_t);
	ssize_t (*gnutls_record_recv_seq)(gnutls_session_t, void *, size_t, unsigned char *);
	ssize_t (*gnutls_record_recv_packet)(gnutls_session_t, gnutls_packet_t *);
	ssize_t (*gnutls_record_recv_early_data)(gnutls_session_t, void *, size_t);
	void (*gnutls_session_set_verify_function)(gnutls_session_t,
	                                           gnutls_certificate_verify_function *);
	void (*gnutls_certificate_set_verify_function)(gnutls_certificate_credentials_t,
	                                               gnutls_certificate_verify_function *);
	int (*gnutls_priority_init)(gnutls_priority_t *, const char *, const char **);
	int (*gnutls_priority_init2)(gnutls_priority_t *, const char *, const char **, unsigned);
	int (*gnutls_priority_set)(gnutls_session_t, gnutls_priority_t);
	void (*gnutls_priority_deinit)(gnutls_priority_t);
	int (*gnutls_priority_set_direct)(gnutls_session_t, const char *, const char **);
	int (*gnutls_set_default_priority)(gnutls_session_t);
	int (*gnutls_set_default_priority_append)(gnutls_session_t, const char *, const char **,
	                                          unsigned);
	int (*gnutls_session_set_data)(gnutls_session_t, const void *, size_t);
	int (*gnutls_session_ticket_enable_server)(gnutls_session_t, const gnutls_datum_t *);
	void (*gnutls_certificate_server_set_request)(gnutls_session_t,
	                                              gnutls_certificate_request_t);
	unsigned (*gnutls_session_get_verify_cert_status)(gnutls_session_t);
	int (*gnutls_certificate_verify_peers)(gnutls_session_t, gnutls_typed_vdata_st *, unsigned,
	                                       unsigned *);
	int (*gnutls_certificate_verify_peers2)(gnutls_session_t, unsigned *);
	int (*gnutls_certificate_verify_peers3)(gnutls_session_t, const char *, unsigned *);
	void (*gnutls_transport_set_push_function)(gnutls_session_t, gnutls_push_func);
	void (*gnutls_transport_set_vec_push_function)(gnutls_session_t, gnutls_vec_push_func);
	void (*gnutls_certificate_free_credentials)(gnutls_certificate_credentials_t);
	/* libgnutls, not interposed */
	int (*gnutls_transport_get_int)(gnutls_session_t);
	void (*gnutls_session_get_random)(gnutls_session_t, gnutls_datum_t *, gnutls_datum_t *);
	int (*gnutls_server_name_set)(gnutls_session_t, gnutls_server_name_type_t, const void *,
	                              size_t);
	const gnutls_datum_t *(*gnutls_certificate_get_peers)(gnutls_session_t, unsigned *);
	gnutls_protocol_t (*gnutls_protocol_get_version)(gnutls_session_t);
	gnutls_credentials_type_t (*gnutls_auth_get_type)(gnutls_session_t);
	gnutls_cipher_algorithm_t (*gnutls_cipher_get)(gnutls_session_t);
	size_t (*gnutls_cipher_get_key_size)(gnutls_cipher_algorithm_t);
	gnutls_alert_description_t (*gnutls_alert_get)(gnutls_session_t);
	int (*gnutls_credentials_get)(gnutls_session_t, gnutls_credentials_type_t, void **);
	int (*gnutls_credentials_set)(gnutls_session_t, gnutls_credentials_type_t, void *);
	int (*gnutls_certificate_get_x509_crt)(gnutls_certificate_credentials_t, unsigned,
	                                       gnutls_x509_crt_t **, unsigned *);
	int (*gnutls_certificate_allocate_credentials)(gnutls_certificate_credentials_t *);
	int (*gnutls_certificate_set_x509_key_file)(gnutls_certificate_credentials_t, const char *,
	                                            const char *, gnutls_x509_crt_fmt_t);
	int (*gnutls_certificate_verification_status_print)(unsigned, gnutls_certificate_type_t,
	                                                    gnutls_datum_t *, unsigned);
	int (*gnutls_x509_crt_init)(gnutls_x509_crt_t *);
	void (*gnutls_x509_crt_deinit)(gnutls_x509_crt_t);
	int (*gnutls_x509_crt_import)(gnutls_x509_crt_t, const gnutls_datum_t *,
	                              gnutls_x509_crt_fmt_t);
	unsigned (*gnutls_x509_crt_check_hostname2)(gnutls_x509_crt_t, const char *, unsigned);
	int (*gnutls_x509_crt_get_subject_alt_name)(gnutls_x509_crt_t, unsigned, void *, size_t *,
	                                            unsigned *);
	int (*gnutls_x509_trust_list_init)(gnutls_x509_trust_list_t *, unsigned);
	void (*gnutls_x509_trust_list_deinit)(gnutls_x509_trust_list_t, unsigned);
	int (*gnutls_x509_trust_list_add_trust_file)(gnutls_x509_trust_list_t, const char *,
	                                             const char *, gnutls_x509_crt_fmt_t, unsigned,
	                                             unsigned);
	int (*gnutls_x509_trust_list_add_trust_dir)(gnutls_x509_trust_list_t, const char *,
	                                            const char *, gnutls_x509_crt_fmt_t, unsigned,
	                                            unsigned);
	int (*gnutls_x509_trust_list_add_system_trust)(gnutls_x509_trust_list_t, unsigned,
	                                               unsigned);
	int (*gnutls_x509_trust_list_verify_crt2)(gnutls_x509_trust_list_t, gnutls_x509_crt_t *,
	                                          unsigned, gnutls_typed_vdata_st *, unsigned,
	                                          unsigned, unsigned *,
	                                          gnutls_verify_output_function);
	void (*gnutls_certificate_get_trust_list)(gnutls_certificate_credentials_t,
	                                          gnutls_x509_trust_list_t *);
	int (*gnutls_x509_trust_list_get_issuer)(gnutls_x509_trust_list_t, gnutls_x509_crt_t,
	                                         gnutls_x509_crt_t *, unsigned);
	unsigned (*gnutls_x509_crt_check_issuer)(gnutls_x509_crt_t, gnutls_x509_crt_t);
	int (*gnutls_pubkey_init)(gnutls_pubkey_t *);
	void (*gnutls_pubkey_deinit)(gnutls_pubkey_t);
	int (*gnutls_pubkey_import_x509)(gnutls_pubkey_t, gnutls_x509_crt_t, unsigned);
	int (*gnutls_pubkey_export2)(gnutls_pubkey_t, gnutls_x509_crt_fmt_t, gnutls_datum_t *);
	/* 3.7.3 and later; NULL before (no kernel TLS then) */
	gnutls_transport_ktls_enable_flags_t (*gnutls_transport_is_ktls_enabled)(gnutls_session_t);
	int (*gnutls_hash_fast)(gnutls_digest_algorithm_t, const void *, size_t, void *);
	gnutls_free_function *gnutls_free; /* a variable in libgnutls: the pointer's address */
};

/* The table once bound (gnutls_fns.c). */
extern _Atomic(const struct gnutls_fns *) gnutls_fns_bound;

/* Binds the table (once, pthread_once) and returns it, or NULL. */
const struct gnutls_fns *gnutls_fns_bind(void);

/* The table if it was already bound, else NULL; never binds (for the socket
 * layer's questions in a process that may have no libgnutls). */
static inline const struct gnutls_fns *gnutls_fns_if_bound(void)
{
	return atomic_load_explicit(&gnutls_fns_bound, memory_order_acquire);
}

/* The table, bound on the first call; NULL when libgnutls.so.30 is not loaded
 * or a name is missing (older than 3.6.5). Call only from an interposed GnuTLS
 * function. Once bound, a load. */
static inline const struct gnutls_fns *gnutls_fns(void)
{
	const struct gnutls_fns *f = gnutls_fns_if_bound();

	return f != NULL ? f : gnutls_fns_bind();
}

/* gnutls_free(3) through the table (a function pointer variable). */
static inline void gnutls_fns_free(const struct gnutls_fns *f, void *p)
{
	if (p != NULL && f->gnutls_free != NULL && *f->gnutls_free != NULL) {
		(*f->gnutls_free)(p);
	}
}

#endif
