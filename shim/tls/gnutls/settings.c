/*
 * The setters and getters (settings.h). Each passes libgnutls's own inner
 * calls (depth, call.c) and every call in mode off straight through.
 */
#include "call.h"
#include "settings.h"
#include "state.h"
#include "verify.h"

static bool program_call(void)
{
	return gtls_call_outer() && gtls_active();
}

/* The program's verify function is recorded. While the shim's own is the
 * session's it stays recorded only (verify.c runs it after the shim's check):
 * set now, it would replace the shim's. gnutls_session_set_verify_cert(3)
 * arrives here too, through libgnutls's PLT, with its auto-verify function:
 * kept the same way, it can only refuse more. */
void gtls_set_verify_function(gnutls_session_t session, gnutls_certificate_verify_function *fn)
{
	const struct gnutls_fns *f = gnutls_fns();
	struct gtls_state *st = NULL;

	if (f == NULL) {
		return;
	}
	if (program_call() && fn != gtls_verify_function &&
	    (st = gtls_state_make(session)) != NULL) {
		st->prog_verify = fn;
		st->have_prog_verify = true;
	}
	if (st != NULL && st->shim_verify) {
		return;
	}
	gtls_call_in();
	f->gnutls_session_set_verify_function(session, fn);
	gtls_call_out();
}

/* Set on the credentials as asked (their ungoverned sessions keep it), and
 * recorded: on a governed session the shim's session-level function takes
 * precedence over it in GnuTLS, and calls it after its own check. */
void gtls_cred_set_verify_function(gnutls_certificate_credentials_t cred,
                                   gnutls_certificate_verify_function *fn)
{
	const struct gnutls_fns *f = gnutls_fns();

	if (f == NULL) {
		return;
	}
	gtls_cred_verify_set(cred, fn);
	gtls_call_in();
	f->gnutls_certificate_set_verify_function(cred, fn);
	gtls_call_out();
}

/* Forgotten with the credentials: new ones may come back at the same
 * address. */
void gtls_cred_free(gnutls_certificate_credentials_t cred)
{
	const struct gnutls_fns *f = gnutls_fns();

	if (f == NULL) {
		return;
	}
	gtls_cred_verify_forget(cred);
	gtls_call_in();
	f->gnutls_certificate_free_credentials(cred);
	gtls_call_out();
}

/* A resumed session carries the verification of the handshake that made it,
 * which may predate enforcement or a weaker rule. In enforce mode the data
 * is dropped (success is returned, as the program expects): every
 * connection does a full, verified handshake, as the OpenSSL layer does with
 * SSL_set_session. */
int gtls_session_set_data(gnutls_session_t session, const void *data, size_t size)
{
	const struct gnutls_fns *f = gnutls_fns();
	int ret;

	if (f == NULL) {
		return GNUTLS_E_INTERNAL_ERROR;
	}
	if (program_call() && gtls_enforcing() && data != NULL && size > 0) {
		return GNUTLS_E_SUCCESS;
	}
	gtls_call_in();
	ret = f->gnutls_session_set_data(session, data, size);
	gtls_call_out();
	return ret;
}

/* Server side: no session tickets in enforce mode, so no client resumes
 * (nor sends TLS 1.3 early data) past a client-certificate check. */
int gtls_ticket_enable_server(gnutls_session_t session, const gnutls_datum_t *key)
{
	const struct gnutls_fns *f = gnutls_fns();
	int ret;

	if (f == NULL) {
		return GNUTLS_E_INTERNAL_ERROR;
	}
	if (program_call() && gtls_enforcing()) {
		return GNUTLS_E_SUCCESS;
	}
	gtls_call_in();
	ret = f->gnutls_session_ticket_enable_server(session, key);
	gtls_call_out();
	return ret;
}

/* A governed server whose rule requires client certificates keeps
 * GNUTLS_CERT_REQUIRE (apply.c), whatever the program asks later. */
void gtls_server_set_request(gnutls_session_t session, gnutls_certificate_request_t req)
{
	const struct gnutls_fns *f = gnutls_fns();
	struct gtls_state *st = NULL;

	if (f == NULL) {
		return;
	}
	if (program_call() && (st = gtls_state_make(session)) != NULL) {
		st->prog_request = req;
		st->have_prog_request = true;
	}
	if (st != NULL && st->governed && gtls_enforcing() && st->tls->require_client_cert) {
		return;
	}
	gtls_call_in();
	f->gnutls_certificate_server_set_request(session, req);
	gtls_call_out();
}

/* A program that moves the records itself: the transport's int is then its
 * own pointer, not a descriptor, and the session is tied to its connection by
 * its ClientHello (claim.c). */
static void mark_custom_push(gnutls_session_t session)
{
	struct gtls_state *st;

	if (program_call() && (st = gtls_state_make(session)) != NULL) {
		st->custom_push = true;
	}
}

void gtls_set_push(gnutls_session_t session, gnutls_push_func push)
{
	const struct gnutls_fns *f = gnutls_fns();

	if (f == NULL) {
		return;
	}
	mark_custom_push(session);
	gtls_call_in();
	f->gnutls_transport_set_push_function(session, push);
	gtls_call_out();
}

void gtls_set_vec_push(gnutls_session_t session, gnutls_vec_push_func push)
{
	const struct gnutls_fns *f = gnutls_fns();

	if (f == NULL) {
		return;
	}
	mark_custom_push(session);
	gtls_call_in();
	f->gnutls_transport_set_vec_push_function(session, push);
	gtls_call_out();
}

/* The refused session's status, for the program's own look at it. */
static bool refused_status(gnutls_session_t session, unsigned *status)
{
	struct gtls_state *st;

	if (!gtls_call_outer() || (st = gtls_state_get(session)) == NULL || !st->failed) {
		return false;
	}
	*status = st->status;
	return true;
}

/* The program's own verification of a governed peer that the shim's passed
 * (in enforce mode): the trust anchors are the policy's, so its own anchors
 * neither widen nor narrow them (as SSL_get_verify_result under the OpenSSL
 * layer reports the shim's verdict). "Signer not found" is dropped from
 * its status, and the INVALID it alone caused; everything else it checked
 * (its own host name, its flags) stands and can only refuse more. That holds
 * inside the handshake too, where gnutls_session_set_verify_cert's
 * auto-verify function calls gnutls_certificate_verify_peers through the
 * PLT after the shim's own check passed. */
static unsigned policy_anchors(gnutls_session_t session, unsigned status)
{
	const struct gtls_state *st = gtls_state_get(session);

	if (st == NULL || !st->governed || !st->verified || !gtls_enforcing()) {
		return status;
	}
	status &= ~(unsigned)GNUTLS_CERT_SIGNER_NOT_FOUND;
	return status == GNUTLS_CERT_INVALID ? 0 : status;
}

unsigned gtls_get_verify_cert_status(gnutls_session_t session)
{
	const struct gnutls_fns *f = gnutls_fns();
	unsigned status = 0;

	if (refused_status(session, &status)) {
		return status;
	}
	if (f == NULL) {
		return GNUTLS_CERT_INVALID;
	}
	return policy_anchors(session, f->gnutls_session_get_verify_cert_status(session));
}

int gtls_verify_peers(gnutls_session_t session, gnutls_typed_vdata_st *data, unsigned n,
                      unsigned *status)
{
	const struct gnutls_fns *f = gnutls_fns();
	int ret;

	if (f == NULL) {
		return GNUTLS_E_INTERNAL_ERROR;
	}
	if (status != NULL && refused_status(session, status)) {
		return GNUTLS_E_SUCCESS;
	}
	gtls_call_in();
	ret = f->gnutls_certificate_verify_peers(session, data, n, status);
	gtls_call_out();
	if (ret == GNUTLS_E_SUCCESS && status != NULL) {
		*status = policy_anchors(session, *status);
	}
	return ret;
}

int gtls_verify_peers2(gnutls_session_t session, unsigned *status)
{
	const struct gnutls_fns *f = gnutls_fns();
	int ret;

	if (f == NULL) {
		return GNUTLS_E_INTERNAL_ERROR;
	}
	if (status != NULL && refused_status(session, status)) {
		return GNUTLS_E_SUCCESS;
	}
	gtls_call_in();
	ret = f->gnutls_certificate_verify_peers2(session, status);
	gtls_call_out();
	if (ret == GNUTLS_E_SUCCESS && status != NULL) {
		*status = policy_anchors(session, *status);
	}
	return ret;
}

int gtls_verify_peers3(gnutls_session_t session, const char *hostname, unsigned *status)
{
	const struct gnutls_fns *f = gnutls_fns();
	int ret;

	if (f == NULL) {
		return GNUTLS_E_INTERNAL_ERROR;
	}
	if (status != NULL && refused_status(session, status)) {
		return GNUTLS_E_SUCCESS;
	}
	gtls_call_in();
	ret = f->gnutls_certificate_verify_peers3(session, hostname, status);
	gtls_call_out();
	if (ret == GNUTLS_E_SUCCESS && status != NULL) {
		*status = policy_anchors(session, *status);
	}
	return ret;
}
