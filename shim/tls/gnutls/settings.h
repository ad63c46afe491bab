/*
 * What the program sets on a session or its credentials, or reads back: verify
 * functions, resumption, certificate requests, transports, and the
 * verification status getters.
 */
#ifndef TLSGUARD_GTLS_SETTINGS_H
#define TLSGUARD_GTLS_SETTINGS_H

#include "gtls.h"

void gtls_set_verify_function(gnutls_session_t session, gnutls_certificate_verify_function *fn);
void gtls_cred_set_verify_function(gnutls_certificate_credentials_t cred,
                                   gnutls_certificate_verify_function *fn);
void gtls_cred_free(gnutls_certificate_credentials_t cred);
int gtls_session_set_data(gnutls_session_t session, const void *data, size_t size);
int gtls_ticket_enable_server(gnutls_session_t session, const gnutls_datum_t *key);
void gtls_server_set_request(gnutls_session_t session, gnutls_certificate_request_t req);
int gtls_server_name_set(gnutls_session_t session, gnutls_server_name_type_t type, const void *name,
                         size_t len);
void gtls_set_push(gnutls_session_t session, gnutls_push_func push);
void gtls_set_vec_push(gnutls_session_t session, gnutls_vec_push_func push);
unsigned gtls_get_verify_cert_status(gnutls_session_t session);
int gtls_verify_peers(gnutls_session_t session, gnutls_typed_vdata_st *data, unsigned n,
                      unsigned *status);
int gtls_verify_peers2(gnutls_session_t session, unsigned *status);
int gtls_verify_peers3(gnutls_session_t session, const char *hostname, unsigned *status);

#endif
