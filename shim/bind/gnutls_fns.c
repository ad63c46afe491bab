/*
 * Lazy binding of the GnuTLS functions (see gnutls_fns.h), as ssl_fns.c binds
 * OpenSSL's: from the libgnutls already mapped, through the real dlvsym/dlsym.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "gnutls_fns.h"
#include "real.h"

/* libgnutls.map: most public names carry GNUTLS_3_4; the later ones the node
 * of the release that added them. */
#define V34  "GNUTLS_3_4"
#define V363 "GNUTLS_3_6_3"
#define V365 "GNUTLS_3_6_5"
#define V374 "GNUTLS_3_7_4"

static struct gnutls_fns fns;
_Atomic(const struct gnutls_fns *) gnutls_fns_bound;
static pthread_once_t bind_once = PTHREAD_ONCE_INIT;

/* The libgnutls already mapped into the process; RTLD_NOLOAD never loads it.
 * One dlopen'ed RTLD_LOCAL (a plugin) is outside RTLD_NEXT's reach, hence the
 * handle. */
static void *libgnutls_handle(void)
{
	void *h = real()->dlopen("libgnutls.so.30", RTLD_LAZY | RTLD_NOLOAD);

	return h != NULL ? h : RTLD_NEXT;
}

/* Through the real dlvsym/dlsym, never the shim's own (dl.c): the shim's
 * dlsym would hand back the shim's own wrappers for the interposed names. */
static void *find(void *handle, const char *name, const char *node, bool *missing)
{
	const struct real_fns *dl = real_dl();
	void *p = NULL;

	if (dl->dlvsym != NULL) {
		p = dl->dlvsym(handle, name, node);
	}
	if (p == NULL && dl->dlsym != NULL) {
		p = dl->dlsym(handle, name);
	}
	if (p == NULL) {
		*missing = true;
	}
	return p;
}

#define BIND(name, node) (f->name = (__typeof__(f->name))find(h, #name, node, &missing))
/* Names of later releases than the oldest libgnutls.so.30 the shim supports
 * (3.6.5): NULL when absent, and the wrapper of that name is then never
 * called, since the program could not have linked against it. */
#define BIND_OPT(name, node) (f->name = (__typeof__(f->name))find(h, #name, node, &optional))

static bool bind_interposed(struct gnutls_fns *f, void *h)
{
	bool missing = false, optional = false;

	BIND(gnutls_init, V34);
	BIND(gnutls_deinit, V34);
	BIND(gnutls_handshake, V34);
	BIND(gnutls_bye, V34);
	BIND(gnutls_record_send, V34);
	BIND(gnutls_record_send2, V363);
	BIND(gnutls_record_send_range, V34);
	BIND(gnutls_record_send_early_data, V365);
	BIND_OPT(gnutls_record_send_file, V374);
	BIND(gnutls_record_recv, V34);
	BIND(gnutls_record_recv_seq, V34);
	BIND(gnutls_record_recv_packet, V34);
	BIND(gnutls_record_recv_early_data, V365);
	BIND(gnutls_session_set_verify_function, V34);
	BIND(gnutls_certificate_set_verify_function, V34);
	BIND(gnutls_priority_init, V34);
	BIND(gnutls_priority_init2, V363);
	BIND(gnutls_priority_set, V34);
	BIND(gnutls_priority_deinit, V34);
	BIND(gnutls_priority_set_direct, V34);
	BIND(gnutls_set_default_priority, V34);
	BIND(gnutls_set_default_priority_append, V363);
	BIND(gnutls_session_set_data, V34);
	BIND(gnutls_session_ticket_enable_server, V34);
	BIND(gnutls_certificate_server_set_request, V34);
	BIND(gnutls_session_get_verify_cert_status, V34);
	BIND(gnutls_certificate_verify_peers, V34);
	BIND(gnutls_certificate_verify_peers2, V34);
	BIND(gnutls_certificate_verify_peers3, V34);
	BIND(gnutls_transport_set_push_function, V34);
	BIND(gnutls_transport_set_vec_push_function, V34);
	BIND(gnutls_certificate_free_credentials, V34);
	(void)optional;
	return !missing;
}

static bool bind_library(struct gnutls_fns *f, void *h)
{
	bool missing = false, optional = false;

	BIND(gnutls_transport_get_int, V34);
	BIND(gnutls_session_get_random, V34);
	BIND(gnutls_server_name_set, V34);
	BIND(gnutls_certificate_get_peers, V34);
	BIND(gnutls_protocol_get_version, V34);
	BIND(gnutls_auth_get_type, V34);
	BIND(gnutls_cipher_get, V34);
	BIND(gnutls_cipher_get_key_size, V34);
	BIND(gnutls_alert_get, V34);
	BIND(gnutls_credentials_get, V34);
	BIND(gnutls_credentials_set, V34);
	BIND(gnutls_certificate_get_x509_crt, V34);
	BIND(gnutls_certificate_allocate_credentials, V34);
	BIND(gnutls_certificate_set_x509_key_file, V34);
	BIND(gnutls_certificate_verification_status_print, V34);
	BIND(gnutls_x509_crt_init, V34);
	BIND(gnutls_x509_crt_deinit, V34);
	BIND(gnutls_x509_crt_import, V34);
	BIND(gnutls_x509_crt_check_hostname2, V34);
	BIND(gnutls_x509_crt_get_subject_alt_name, V34);
	BIND(gnutls_x509_trust_list_init, V34);
	BIND(gnutls_x509_trust_list_deinit, V34);
	BIND(gnutls_x509_trust_list_add_trust_file, V34);
	BIND(gnutls_x509_trust_list_add_trust_dir, V34);
	BIND(gnutls_x509_trust_list_add_system_trust, V34);
	BIND(gnutls_x509_trust_list_verify_crt2, V34);
	BIND(gnutls_certificate_get_trust_list, V34);
	BIND(gnutls_x509_trust_list_get_issuer, V34);
	BIND(gnutls_x509_crt_check_issuer, V34);
	BIND(gnutls_pubkey_init, V34);
	BIND(gnutls_pubkey_deinit, V34);
	BIND(gnutls_pubkey_import_x509, V34);
	BIND(gnutls_pubkey_export2, V34);
	BIND_OPT(gnutls_transport_is_ktls_enabled, "GNUTLS_3_7_3");
	BIND(gnutls_hash_fast, V34);
	BIND(gnutls_free, V34);
	(void)optional;
	return !missing;
}

#undef BIND
#undef BIND_OPT

static void bind_all(void)
{
	void *h = libgnutls_handle();
	bool ok = bind_interposed(&fns, h);

	ok = bind_library(&fns, h) && ok;
	if (ok) {
		atomic_store_explicit(&gnutls_fns_bound, &fns, memory_order_release);
	}
}

const struct gnutls_fns *gnutls_fns_bind(void)
{
	pthread_once(&bind_once, bind_all);
	return gnutls_fns_if_bound();
}
