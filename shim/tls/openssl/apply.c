/*
 * Forcing the policy onto an SSL (apply.h): versions, security level, host
 * name, client certificate, the shim's verify callback and trust store; in
 * audit mode only the trust store, for the outcome check.
 */
#include <stdio.h>
#include <sys/stat.h>

#include "apply.h"
#include "registry.h"
#include "store.h"
#include "verify.h"

static bool is_ip_literal(const char *name)
{
	struct policy_addr a;

	return policy_addr_parse(&a, name) == 0;
}

/* The one name the certificate must carry (tlsguard.conf.5, "Host names"):
 * the rule's server_name; else the name the program resolved for the address
 * it connected to; else, for an address it did not resolve, the SNI it sent;
 * else the peer's address. The SNI comes after the resolved name: it is only
 * what the program says, the resolved name is where it actually connected. */
static void choose_name(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st)
{
	const char *sni = st->server ? NULL : f->SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	const char *name = "";
	char ip[64];

	if (st->tls->server_name != NULL) {
		name = st->tls->server_name;
	} else if (st->host[0] != '\0') {
		name = st->host;
	} else if (sni != NULL && sni[0] != '\0') {
		name = sni;
	} else if (st->have_peer && policy_addr_format(&st->peer, ip, sizeof(ip)) != NULL) {
		name = ip;
	}
	snprintf(st->name, sizeof(st->name), "%s", name);
}

/* The anchors of the shim's own verifier. They are never handed to libssl:
 * a store set on the SSL is the one a program's verify callback gets back from
 * X509_STORE_CTX_get0_store, and could add its own anchors to. */
static void set_store(const struct ssl_fns *f, struct ossl_state *st,
                      const struct policy_tls *anchors)
{
	X509_STORE *s = ossl_store_for(f, anchors);

	if (s == NULL) {
		return; /* no anchors: verification fails closed */
	}
	if (st->store != NULL) {
		f->X509_STORE_free(st->store);
	}
	st->store = s;
}

static void force_versions(const struct ssl_fns *f, SSL *ssl, const struct policy_tls *tls)
{
	long floor = ossl_version_floor(tls);
	long min = f->SSL_ctrl(ssl, SSL_CTRL_GET_MIN_PROTO_VERSION, 0, NULL);
	long max = f->SSL_ctrl(ssl, SSL_CTRL_GET_MAX_PROTO_VERSION, 0, NULL);

	if (min == 0 || min < floor) {
		(void)f->SSL_ctrl(ssl, SSL_CTRL_SET_MIN_PROTO_VERSION, floor, NULL);
	}
	/* A program capped below the floor gets the floor, not a weaker version:
	 * against an old-only server the handshake then fails, as it must. */
	if (max != 0 && max < floor) {
		(void)f->SSL_ctrl(ssl, SSL_CTRL_SET_MAX_PROTO_VERSION, floor, NULL);
	}
}

static void force_common(const struct ssl_fns *f, SSL *ssl, const struct policy_tls *tls)
{
	force_versions(f, ssl, tls);
	if (f->SSL_get_security_level(ssl) < OSSL_MIN_SECURITY_LEVEL) {
		f->SSL_set_security_level(ssl, OSSL_MIN_SECURITY_LEVEL);
	}
	/* Kernel TLS hands the plaintext to the kernel (sendfile, sendmsg on a
	 * TCP_ULP "tls" socket) behind the socket layer's back: refused on
	 * governed connections. OpenSSL then keeps doing the record layer itself. */
	(void)f->SSL_clear_options(ssl, SSL_OP_ENABLE_KTLS);
}

static void keep_program_callback(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st)
{
	SSL_verify_cb cb = f->SSL_get_verify_callback(ssl);

	if (cb != ossl_verify_cb) {
		st->prog_cb = cb;
	}
}

static void force_host(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st, bool may_set_sni)
{
	const char *sni;

	if (!st->tls->verify_hostname || st->name[0] == '\0') {
		return;
	}
	/* SSL_set1_host(3ssl): an IP literal becomes an iPAddress SAN check. */
	(void)f->SSL_set1_host(ssl, st->name);
	f->SSL_set_hostflags(ssl, OSSL_HOST_FLAGS);
	sni = f->SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	/* RFC 6066 3: SNI carries host names only, never an IP literal. */
	if (may_set_sni && (sni == NULL || sni[0] == '\0') && !is_ip_literal(st->name)) {
		(void)f->SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
		                  st->name);
	}
}

static void force_client_cert(const struct ssl_fns *f, SSL *ssl, const struct policy_tls *tls)
{
	if (tls->client_cert == NULL || tls->client_key == NULL ||
	    f->SSL_get_certificate(ssl) != NULL) {
		return; /* none in the rule, or the program brought its own */
	}
	if (f->SSL_use_certificate_chain_file(ssl, tls->client_cert) == 1) {
		(void)f->SSL_use_PrivateKey_file(ssl, tls->client_key, SSL_FILETYPE_PEM);
	}
}

/* Client side: everything the rule requires, whatever the program set. */
static void force_client(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st, bool may_set_sni)
{
	keep_program_callback(f, ssl, st);
	f->SSL_set_verify(ssl, SSL_VERIFY_PEER, ossl_verify_cb);
	set_store(f, st, st->tls);
	force_host(f, ssl, st, may_set_sni);
	force_common(f, ssl, st->tls);
	force_client_cert(f, ssl, st->tls);
}

/* Server side: the version floor, and client certificates when required,
 * verified against client_ca_file (else the rule's anchors). In audit mode only
 * the store is taken, for the outcome check. */
static void server_side(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st, bool force)
{
	struct policy_tls anchors = *st->tls;

	if (st->tls->external && !ossl_verify_served(f, ssl, st)) {
		return; /* refused: it will not serve */
	}
	if (force) {
		force_common(f, ssl, st->tls);
	}
	if (!st->tls->require_client_cert) {
		return;
	}
	if (st->tls->client_ca_file != NULL) {
		anchors.ca_file = st->tls->client_ca_file;
		anchors.ca_path = NULL;
	}
	anchors.trust = POLICY_TRUST_POLICY;
	set_store(f, st, &anchors);
	if (force) {
		keep_program_callback(f, ssl, st);
		f->SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
		                  ossl_verify_cb);
	}
}

static void from_conn(struct ossl_state *st, const struct conn *c, int fd)
{
	st->bound = true;
	st->fd = fd;
	st->rule = c->rule;
	st->tls = &c->rule->tls;
	/* upgrade_tls/terminate_tls: the tunnel's own SSL (shim/tunnel), governed
	 * here exactly as a program's SSL on a require_tls connection */
	st->governed = policy_action_has_tls(c->rule->action);
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

/* The governed SSL's rule, as far as it can still take effect: everything
 * before the ClientHello (hello_pending), or what verification and the
 * outcome check use after it. In audit mode only the trust store, for the
 * outcome check. */
static void apply_rule(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st, bool hello_pending)
{
	if (!st->governed) {
		return;
	}
	if (st->server) {
		server_side(f, ssl, st, ossl_enforcing());
		return;
	}
	choose_name(f, ssl, st);
	if (ossl_enforcing()) {
		force_client(f, ssl, st, hello_pending);
	} else {
		set_store(f, st, st->tls);
	}
}

static bool is_server(const struct ssl_fns *f, const SSL *ssl, enum ossl_side side)
{
	switch (side) {
	case OSSL_SIDE_CLIENT:
		return false;
	case OSSL_SIDE_SERVER:
		return true;
	case OSSL_SIDE_ASK_SSL:
	default:
		return f->SSL_is_server(ssl) == 1;
	}
}

void ossl_apply(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st, enum ossl_side side)
{
	int fd = f->SSL_get_fd(ssl);
	struct conn *c = fd >= 0 ? conn_acquire(fd) : NULL;

	st->applied = true;
	if (ossl_enforcing()) {
		ossl_verify_own_ctx(f, f->SSL_get_SSL_CTX(ssl));
	}
	st->server = is_server(f, ssl, side);
	st->fd = fd;
	if (c != NULL) {
		from_conn(st, c, fd);
		conn_tls_bind(c, ssl);
		conn_release(c);
	} else if (st->server || is_socket(fd)) {
		/* A socket the socket layer does not govern (an allowed destination,
		 * a Unix socket), or a server on an unknown transport: left alone. */
		st->governed = false;
	} else {
		/* curl's own BIO, python's memory BIOs: the transport is unknown
		 * until the ClientHello shows up on a governed socket, where
		 * tls_claim_hello binds it (always before the server's certificate
		 * can arrive). What must be in the ClientHello is set now from the
		 * policy's defaults; the rest waits for the rule. A handshake never
		 * claimed went over something the socket layer does not govern and
		 * is left alone. */
		st->governed = false;
		st->tls = policy_tls_defaults(shim_policy());
		if (ossl_enforcing()) {
			force_common(f, ssl, st->tls);
		}
	}
	ossl_registry_add(ssl, st);
	apply_rule(f, ssl, st, true);
}

void ossl_apply_bind(const struct ssl_fns *f, SSL *ssl, struct ossl_state *st, struct conn *c,
                     int fd)
{
	/* Not again when tied by its descriptor already. Otherwise the
	 * ClientHello is out: its SNI and versions are final, and the version
	 * floor is checked when the handshake finishes. */
	if (!st->bound || st->fd != fd) {
		from_conn(st, c, fd);
		apply_rule(f, ssl, st, false);
	}
	conn_tls_bind(c, ssl);
}
