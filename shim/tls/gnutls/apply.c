/*
 * Forcing the policy onto a session (apply.h). The version floor and the
 * security level are in the session's priorities already (priority.c); what
 * is set here depends on the connection's rule.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "apply.h"
#include "priority_str.h"
#include "registry.h"
#include "tls/peer.h"
#include "verify.h"

static void from_conn(struct gtls_state *st, const struct conn *c, int fd)
{
	st->bound = true;
	st->fd = fd;
	st->rule = c->rule;
	st->tls = &c->rule->tls;
	st->governed = c->rule->action == POLICY_ACTION_REQUIRE_TLS;
	st->have_peer = true;
	st->peer = c->peer;
	st->port = c->port;
	snprintf(st->host, sizeof(st->host), "%s", c->host);
}

static bool is_socket(int fd)
{
	struct stat sb;

	return fd >= 0 && fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode);
}

/* The name to check, and the SNI when the program sent none and the hello is
 * still to be written (RFC 6066 3: host names only, never an IP literal). */
static void force_name(const struct gnutls_fns *f, gnutls_session_t session, struct gtls_state *st,
                       bool hello_pending)
{
	tls_choose_name(st->tls, st->host, st->sni, st->have_peer ? &st->peer : NULL, st->name,
	                sizeof(st->name));
	if (hello_pending && st->sni[0] == '\0' && st->tls->verify_hostname &&
	    st->name[0] != '\0' && !tls_name_is_ip(st->name)) {
		(void)f->gnutls_server_name_set(session, GNUTLS_NAME_DNS, st->name,
		                                strlen(st->name));
	}
}

/* Whether the program's certificate credentials hold a certificate of its
 * own to present. */
static bool program_has_cert(const struct gnutls_fns *f, gnutls_certificate_credentials_t cred)
{
	gnutls_x509_crt_t *list = NULL;
	unsigned n = 0, i;

	if (cred == NULL || f->gnutls_certificate_get_x509_crt(cred, 0, &list, &n) < 0) {
		return false;
	}
	for (i = 0; i < n; i++) {
		f->gnutls_x509_crt_deinit(list[i]);
	}
	gnutls_fns_free(f, list);
	return n > 0;
}

/* client_cert/client_key presented when the program presents none: the
 * session gets credentials of the shim's own that hold the policy's key pair
 * (the key never enters the program's credentials, which other sessions
 * share). The program's verify function on its credentials was recorded
 * (settings.c) and still runs after the shim's check. A program whose
 * credentials carry a retrieve function instead of a stored certificate is
 * indistinguishable from one without: it gets the policy's certificate. */
static void force_client_cert(const struct gnutls_fns *f, gnutls_session_t session,
                              struct gtls_state *st)
{
	void *cred = NULL;
	gnutls_certificate_credentials_t mine = NULL;

	if (st->tls->client_cert == NULL || st->tls->client_key == NULL || st->shim_cred != NULL) {
		return;
	}
	if (f->gnutls_credentials_get(session, GNUTLS_CRD_CERTIFICATE, &cred) == 0 &&
	    program_has_cert(f, cred)) {
		return;
	}
	if (f->gnutls_certificate_allocate_credentials(&mine) < 0) {
		return;
	}
	if (f->gnutls_certificate_set_x509_key_file(mine, st->tls->client_cert, st->tls->client_key,
	                                            GNUTLS_X509_FMT_PEM) < 0 ||
	    f->gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, mine) < 0) {
		f->gnutls_certificate_free_credentials(mine);
		return;
	}
	st->prog_cred = cred;
	st->shim_cred = mine;
}

#define PRIO_MAX 2048

static int set_priorities(const struct gnutls_fns *f, gnutls_session_t session,
                          const struct gtls_state *st, enum policy_tls_version floor,
                          bool with_floor)
{
	char buf[PRIO_MAX];

	if (gtls_priority_compose(st->prog_prio, floor, with_floor, buf, sizeof(buf)) < 0) {
		return GNUTLS_E_INVALID_REQUEST;
	}
	if (st->prog_prio_default) {
		return f->gnutls_set_default_priority_append(session, buf, NULL,
		                                             st->prog_prio_flags);
	}
	return f->gnutls_priority_set_direct(session, buf, NULL);
}

/* A rule whose min_version differs from the top level's: the session's
 * priorities carry the top level's floor (priority.c: a cache is made before
 * any connection), so they are set again from the program's own string with
 * the rule's, while the ClientHello is still to be written. Where the
 * program's string is not known, or does not parse so, they stay: the outcome
 * check holds the rule's floor. */
static void force_rule_floor(const struct gnutls_fns *f, gnutls_session_t session,
                             const struct gtls_state *st)
{
	enum policy_tls_version floor = st->tls->min_version;
	int ret;

	if (floor == policy_tls_defaults(shim_policy())->min_version || !st->have_prog_prio) {
		return;
	}
	ret = set_priorities(f, session, st, floor, false);
	if (ret == GNUTLS_E_NO_PRIORITIES_WERE_SET) {
		(void)set_priorities(f, session, st, floor, true);
	}
}

static void install_verify(const struct gnutls_fns *f, gnutls_session_t session,
                           struct gtls_state *st)
{
	if (!st->shim_verify) {
		f->gnutls_session_set_verify_function(session, gtls_verify_function);
		st->shim_verify = true;
	}
}

/* The governed session's rule, as far as it can still take effect: before
 * the ClientHello (hello_pending) everything, after it what verification
 * uses. In audit mode nothing is forced: the outcome check records. */
static void apply_rule(const struct gnutls_fns *f, gnutls_session_t session, struct gtls_state *st,
                       bool hello_pending)
{
	if (!st->governed) {
		return;
	}
	if (st->server) {
		if (st->tls->external && !gtls_verify_served(f, session, st)) {
			return; /* refused: it will not serve */
		}
		if (gtls_enforcing() && st->tls->require_client_cert) {
			/* gnutls_certificate_server_set_request(3): REQUIRE fails the
			 * handshake of a client without one; the program cannot lower
			 * it (settings.c). */
			f->gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE);
			install_verify(f, session, st);
		}
		return;
	}
	force_name(f, session, st, hello_pending);
	if (gtls_enforcing()) {
		install_verify(f, session, st);
		force_client_cert(f, session, st);
		if (hello_pending) {
			force_rule_floor(f, session, st);
		}
	}
}

void gtls_apply(const struct gnutls_fns *f, gnutls_session_t session, struct gtls_state *st)
{
	int fd = st->custom_push ? -1 : f->gnutls_transport_get_int(session);
	struct conn *c = fd >= 0 ? conn_acquire(fd) : NULL;

	st->applied = true;
	st->fd = fd >= 0 ? fd : -1;
	if (c != NULL) {
		from_conn(st, c, fd);
		conn_tls_bind(c, session);
		conn_release(c);
	} else if (is_socket(fd)) {
		/* A socket the socket layer does not govern (an allowed destination,
		 * a Unix socket): left alone. */
		st->governed = false;
	} else if (st->server) {
		/* A server on its own transport: its ClientHello, remembered by the
		 * socket layer, ties it to its connection once parsed
		 * (gtls_claim_late, after the handshake); the outcome check then
		 * holds it to that rule. Left alone if never tied. */
		st->governed = false;
		st->fd = -1;
	} else {
		/* libcurl-gnutls's push function, a memory transport: the socket is
		 * known once the ClientHello shows up on a governed one, where
		 * tls_claim_hello binds the session (before the server's
		 * certificate can arrive). The verify function goes in now, from
		 * the policy's defaults; the rule follows. */
		st->governed = false;
		st->tls = policy_tls_defaults(shim_policy());
		if (gtls_enforcing()) {
			install_verify(f, session, st);
		}
	}
	gtls_registry_add(session, st);
	apply_rule(f, session, st, true);
}

void gtls_apply_bind(const struct gnutls_fns *f, gnutls_session_t session, struct gtls_state *st,
                     struct conn *c, int fd)
{
	/* Not again when tied by its descriptor already. Otherwise the
	 * ClientHello is out: its SNI and versions are final, and the version
	 * floor is checked when the handshake finishes. */
	if (!st->bound || st->fd != fd) {
		from_conn(st, c, fd);
		apply_rule(f, session, st, false);
	}
	conn_tls_bind(c, session);
}
