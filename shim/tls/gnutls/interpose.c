/*
 * The interposed GnuTLS entry points: each exported name is a one-line
 * trampoline into the layer (call.c for the session's life and records,
 * priority.c for priorities, settings.c for setters and getters); GnuTLS
 * itself is reached only through gnutls_fns().
 *
 * Chosen from where application data can flow (every gnutls_record_* that
 * sends or receives, gnutls_record_send_file) and from every way the API
 * offers to weaken verification or versions. Not interposed on purpose:
 * gnutls_certificate_set_verify_flags, gnutls_certificate_set_verify_limits
 * and the trust setters (gnutls_certificate_set_x509_trust_*): they shape
 * only the program's own verification, which the shim's never uses;
 * gnutls_session_set_verify_cert(2): it reaches
 * gnutls_session_set_verify_function through libgnutls's PLT; gnutls_reauth
 * and gnutls_rehandshake: the session's verify function (the shim's) runs in
 * them.
 */
#include "call.h"
#include "priority.h"
#include "settings.h"

SHIM_EXPORT int gnutls_init(gnutls_session_t *session, unsigned int flags)
{
	return gtls_call_init(session, flags);
}

SHIM_EXPORT void gnutls_deinit(gnutls_session_t session)
{
	gtls_call_deinit(session);
}

SHIM_EXPORT int gnutls_handshake(gnutls_session_t session)
{
	return gtls_call_handshake(session);
}

SHIM_EXPORT int gnutls_bye(gnutls_session_t session, gnutls_close_request_t how)
{
	return gtls_call_bye(session, how);
}

SHIM_EXPORT ssize_t gnutls_record_send(gnutls_session_t session, const void *data, size_t len)
{
	return gtls_call_io(session,
	                    &(struct gtls_io){.op = GTLS_SEND, .buf = (void *)data, .len = len});
}

SHIM_EXPORT ssize_t gnutls_record_send2(gnutls_session_t session, const void *data, size_t len,
                                        size_t pad, unsigned flags)
{
	return gtls_call_io(
	    session,
	    &(struct gtls_io){
	        .op = GTLS_SEND2, .buf = (void *)data, .len = len, .pad = pad, .flags = flags});
}

SHIM_EXPORT ssize_t gnutls_record_send_range(gnutls_session_t session, const void *data, size_t len,
                                             const gnutls_range_st *range)
{
	return gtls_call_io(
	    session, &(struct gtls_io){
	                 .op = GTLS_SEND_RANGE, .buf = (void *)data, .len = len, .range = range});
}

SHIM_EXPORT ssize_t gnutls_record_send_early_data(gnutls_session_t session, const void *data,
                                                  size_t len)
{
	return gtls_call_io(
	    session, &(struct gtls_io){.op = GTLS_SEND_EARLY, .buf = (void *)data, .len = len});
}

SHIM_EXPORT ssize_t gnutls_record_send_file(gnutls_session_t session, int fd, off_t *offset,
                                            size_t count)
{
	return gtls_call_send_file(session, fd, offset, count);
}

SHIM_EXPORT ssize_t gnutls_record_recv(gnutls_session_t session, void *data, size_t len)
{
	return gtls_call_io(session, &(struct gtls_io){.op = GTLS_RECV, .buf = data, .len = len});
}

SHIM_EXPORT ssize_t gnutls_record_recv_seq(gnutls_session_t session, void *data, size_t len,
                                           unsigned char *seq)
{
	return gtls_call_io(
	    session, &(struct gtls_io){.op = GTLS_RECV_SEQ, .buf = data, .len = len, .seq = seq});
}

SHIM_EXPORT ssize_t gnutls_record_recv_early_data(gnutls_session_t session, void *data, size_t len)
{
	return gtls_call_io(session,
	                    &(struct gtls_io){.op = GTLS_RECV_EARLY, .buf = data, .len = len});
}

SHIM_EXPORT ssize_t gnutls_record_recv_packet(gnutls_session_t session, gnutls_packet_t *packet)
{
	return gtls_call_recv_packet(session, packet);
}

SHIM_EXPORT int gnutls_priority_init(gnutls_priority_t *cache, const char *prio,
                                     const char **err_pos)
{
	return gtls_priority_init(cache, prio, err_pos, 0, false);
}

SHIM_EXPORT int gnutls_priority_init2(gnutls_priority_t *cache, const char *prio,
                                      const char **err_pos, unsigned flags)
{
	return gtls_priority_init(cache, prio, err_pos, flags, true);
}

SHIM_EXPORT int gnutls_priority_set(gnutls_session_t session, gnutls_priority_t cache)
{
	return gtls_priority_set(session, cache);
}

SHIM_EXPORT void gnutls_priority_deinit(gnutls_priority_t cache)
{
	gtls_priority_deinit(cache);
}

SHIM_EXPORT int gnutls_priority_set_direct(gnutls_session_t session, const char *prio,
                                           const char **err_pos)
{
	return gtls_priority_set_direct(session, prio, err_pos);
}

SHIM_EXPORT int gnutls_set_default_priority(gnutls_session_t session)
{
	return gtls_set_default_priority(session);
}

SHIM_EXPORT int gnutls_set_default_priority_append(gnutls_session_t session, const char *add,
                                                   const char **err_pos, unsigned flags)
{
	return gtls_set_default_priority_append(session, add, err_pos, flags);
}

SHIM_EXPORT void gnutls_session_set_verify_function(gnutls_session_t session,
                                                    gnutls_certificate_verify_function *fn)
{
	gtls_set_verify_function(session, fn);
}

SHIM_EXPORT void gnutls_certificate_set_verify_function(gnutls_certificate_credentials_t cred,
                                                        gnutls_certificate_verify_function *fn)
{
	gtls_cred_set_verify_function(cred, fn);
}

SHIM_EXPORT void gnutls_certificate_free_credentials(gnutls_certificate_credentials_t cred)
{
	gtls_cred_free(cred);
}

SHIM_EXPORT int gnutls_session_set_data(gnutls_session_t session, const void *data, size_t size)
{
	return gtls_session_set_data(session, data, size);
}

SHIM_EXPORT int gnutls_session_ticket_enable_server(gnutls_session_t session,
                                                    const gnutls_datum_t *key)
{
	return gtls_ticket_enable_server(session, key);
}

SHIM_EXPORT void gnutls_certificate_server_set_request(gnutls_session_t session,
                                                       gnutls_certificate_request_t req)
{
	gtls_server_set_request(session, req);
}

SHIM_EXPORT int gnutls_server_name_set(gnutls_session_t session, gnutls_server_name_type_t type,
                                       const void *name, size_t len)
{
	return gtls_server_name_set(session, type, name, len);
}

SHIM_EXPORT void gnutls_transport_set_push_function(gnutls_session_t session, gnutls_push_func push)
{
	gtls_set_push(session, push);
}

SHIM_EXPORT void gnutls_transport_set_vec_push_function(gnutls_session_t session,
                                                        gnutls_vec_push_func push)
{
	gtls_set_vec_push(session, push);
}

SHIM_EXPORT unsigned gnutls_session_get_verify_cert_status(gnutls_session_t session)
{
	return gtls_get_verify_cert_status(session);
}

SHIM_EXPORT int gnutls_certificate_verify_peers(gnutls_session_t session,
                                                gnutls_typed_vdata_st *data, unsigned n,
                                                unsigned *status)
{
	return gtls_verify_peers(session, data, n, status);
}

SHIM_EXPORT int gnutls_certificate_verify_peers2(gnutls_session_t session, unsigned *status)
{
	return gtls_verify_peers2(session, status);
}

SHIM_EXPORT int gnutls_certificate_verify_peers3(gnutls_session_t session, const char *hostname,
                                                 unsigned *status)
{
	return gtls_verify_peers3(session, hostname, status);
}
