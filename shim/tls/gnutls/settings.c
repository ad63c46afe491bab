/*
 * The setters and getters (settings.h). Each passes libgnutls's own inner
 * calls (depth, call.c) and every call in mode off straight through.
 */
#include <string.h>
#include <strings.h>

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

/* The host name a client program sends as SNI is the name its peer must carry
 * when no rule names one and it resolved none itself (tls/peer.h), and a
 * client session cannot read it back (gnutls_server_name_get(3) is the
 * server's): kept as it is set. Only the last DNS name counts, as in GnuTLS;
 * one that does not fit is kept cut short, so that it can never match. */
int gtls_server_name_set(gnutls_session_t session, gnutls_server_name_type_t type, const void *name,
                         size_t len)
{
	const struct gnutls_fns *f = gnutls_fns();
	struct gtls_state *st;
	size_t n;
	int ret;

	if (f == NULL) {
		return GNUTLS_E_INTERNAL_ERROR;
	}
	gtls_call_in();
	ret = f->gnutls_server_name_set(session, type, name, len);
	gtls_call_out();
	if (ret == GNUTLS_E_SUCCESS && type == GNUTLS_NAME_DNS && name != NULL &&
	    (st = gtls_state_make(session)) != NULL) {
		n = len < sizeof(st->sni) ? len : sizeof(st->sni) - 1;
		memcpy(st->sni, name, n);
		st->sni[n] = '\0';
	}
	return ret;
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

/* What the program asks of a verification, as far as the shim's own already
 * answers it: the host name it names (NULL: none), and whether it asks only
 * for what the shim checked (the peer's purpose, that name). */
struct asked {
	const char *host;
	bool only_checked;
};

static struct asked asked_of(const struct gtls_state *st, const gnutls_typed_vdata_st *data,
                             unsigned n)
{
	const char *purpose = st->server ? GNUTLS_KP_TLS_WWW_CLIENT : GNUTLS_KP_TLS_WWW_SERVER;
	struct asked a = {.host = NULL, .only_checked = true};
	unsigned i;

	for (i = 0; i < n && a.only_checked; i++) {
		if (data[i].type == GNUTLS_DT_DNS_HOSTNAME && data[i].data != NULL) {
			a.host = (const char *)data[i].data;
		} else if (data[i].type != GNUTLS_DT_KEY_PURPOSE_OID || data[i].data == NULL ||
		           strcmp((const char *)data[i].data, purpose) != 0) {
			a.only_checked = false;
		}
	}
	return a;
}

/* The shim's verdict stands for the program's own verification of session
 * when the shim's verifier passed this peer in this handshake (enforce mode)
 * and the program asks nothing it did not check: no host name, or the very
 * name the shim matched. Its status is then 0 without a second chain
 * verification (which would cost as much as the shim's own, and could only
 * differ by its anchors, which the policy's replace). Anything else, a
 * different name or another purpose, goes to GnuTLS: stricter at most. */
static bool answered_by_shim(gnutls_session_t session, struct asked a, unsigned *status)
{
	const struct gtls_state *st = gtls_state_get(session);

	if (status == NULL || !a.only_checked || st == NULL || !st->governed || !st->verified ||
	    !gtls_enforcing()) {
		return false;
	}
	if (a.host != NULL && (!st->tls->verify_hostname || strcasecmp(a.host, st->name) != 0)) {
		return false;
	}
	*status = 0;
	return true;
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
	const struct gtls_state *st;
	int ret;

	if (f == NULL) {
		return GNUTLS_E_INTERNAL_ERROR;
	}
	if (status != NULL && refused_status(session, status)) {
		return GNUTLS_E_SUCCESS;
	}
	if ((st = gtls_state_get(session)) != NULL &&
	    answered_by_shim(session, asked_of(st, data, n), status)) {
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
	if (answered_by_shim(session, (struct asked){.host = NULL, .only_checked = true}, status)) {
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
	if (answered_by_shim(session, (struct asked){.host = hostname, .only_checked = true},
	                     status)) {
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
