/*
 * What the OpenSSL layer does to an SSL: apply the rule's TLS requirements at
 * the first handshake call (stricter than whatever the program configured,
 * never looser), and check the outcome of the finished handshake itself.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/sslerr.h>
#include <openssl/tls1.h>
#include <openssl/x509v3.h>

#include "core/audit.h"
#include "bind/real.h"
#include "shim.h"
#include "ssl_internal.h"

bool sslg_active(void)
{
	return shim_policy() != NULL && shim_mode() != POLICY_MODE_OFF;
}

static bool enforcing(void)
{
	return shim_mode() == POLICY_MODE_ENFORCE;
}

static long policy_min_version(const struct policy_tls *tls)
{
	switch (tls->min_version) {
	case POLICY_TLS_1_3:
		return TLS1_3_VERSION;
	case POLICY_TLS_1_2:
	default:
		return TLS1_2_VERSION;
	}
}

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
static void choose_name(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st)
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
static void set_store(const struct ssl_fns *f, struct sslg_state *st,
                      const struct policy_tls *anchors)
{
	X509_STORE *s = sslg_store_for(f, anchors);

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
	long floor = policy_min_version(tls);
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
	if (f->SSL_get_security_level(ssl) < SSLG_MIN_SECURITY_LEVEL) {
		f->SSL_set_security_level(ssl, SSLG_MIN_SECURITY_LEVEL);
	}
	/* Kernel TLS hands the plaintext to the kernel (sendfile, sendmsg on a
	 * TCP_ULP "tls" socket) behind the socket layer's back: refused on
	 * governed connections. OpenSSL then keeps doing the record layer itself. */
	(void)f->SSL_clear_options(ssl, SSL_OP_ENABLE_KTLS);
}

static void keep_program_callback(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st)
{
	SSL_verify_cb cb = f->SSL_get_verify_callback(ssl);

	if (cb != sslg_verify_cb) {
		st->prog_cb = cb;
	}
}

static void force_host(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st, bool may_set_sni)
{
	const char *sni;

	if (!st->tls->verify_hostname || st->name[0] == '\0') {
		return;
	}
	/* SSL_set1_host(3ssl): an IP literal becomes an iPAddress SAN check. */
	(void)f->SSL_set1_host(ssl, st->name);
	f->SSL_set_hostflags(ssl, SSLG_HOST_FLAGS);
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
static void force_client(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st, bool may_set_sni)
{
	keep_program_callback(f, ssl, st);
	f->SSL_set_verify(ssl, SSL_VERIFY_PEER, sslg_verify_cb);
	set_store(f, st, st->tls);
	force_host(f, ssl, st, may_set_sni);
	force_common(f, ssl, st->tls);
	force_client_cert(f, ssl, st->tls);
}

/* Server side: the version floor, and client certificates when required,
 * verified against client_ca_file (else the rule's anchors). In audit mode only
 * the store is taken, for the outcome check. */
static void server_side(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st, bool force)
{
	struct policy_tls anchors = *st->tls;

	if (st->tls->external && !sslg_check_external(f, ssl, st)) {
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
		                  sslg_verify_cb);
	}
}

static void from_conn(struct sslg_state *st, const struct conn *c, int fd)
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

/* The governed SSL's rule, as far as it can still take effect: everything
 * before the ClientHello (hello_pending), or what verification and the
 * outcome check use after it. In audit mode only the trust store, for the
 * outcome check. */
static void apply_rule(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st, bool hello_pending)
{
	if (!st->governed) {
		return;
	}
	if (st->server) {
		server_side(f, ssl, st, enforcing());
		return;
	}
	choose_name(f, ssl, st);
	if (enforcing()) {
		force_client(f, ssl, st, hello_pending);
	} else {
		set_store(f, st, st->tls);
	}
}

void sslg_apply(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st, enum sslg_side side)
{
	int fd = f->SSL_get_fd(ssl);
	struct conn *c = fd >= 0 ? conn_acquire(fd) : NULL;

	st->applied = true;
	if (enforcing()) {
		/* before any handshake on this context can read its callback */
		sslg_ctx_take_verify(f, f->SSL_get_SSL_CTX(ssl));
	}
	switch (side) {
	case SSLG_SIDE_CLIENT:
		st->server = false;
		break;
	case SSLG_SIDE_SERVER:
		st->server = true;
		break;
	case SSLG_SIDE_ASK_SSL:
	default:
		st->server = f->SSL_is_server(ssl) == 1;
		break;
	}
	st->fd = fd;
	if (c != NULL) {
		from_conn(st, c, fd);
		lock_take(&c->lock);
		c->ssl = ssl;
		lock_give(&c->lock);
		conn_release(c);
	} else if (st->server || is_socket(fd)) {
		/* A socket the socket layer does not govern (an allowed destination,
		 * a Unix socket), or a server on an unknown transport: left alone. */
		st->governed = false;
	} else {
		/* curl's own BIO, python's memory BIOs: the transport is unknown
		 * until the ClientHello shows up on a governed socket, where
		 * sslg_claim_hello binds it (always before the server's
		 * certificate can arrive). What must be in the ClientHello is set
		 * now from the policy's defaults; the rest waits for the rule. A
		 * handshake never claimed went over something the socket layer
		 * does not govern and is left alone. */
		st->governed = false;
		st->tls = policy_tls_defaults(shim_policy());
		if (enforcing()) {
			force_common(f, ssl, st->tls);
		}
	}
	sslg_registry_add(ssl, st);
	apply_rule(f, ssl, st, true);
}

void sslg_bind(const struct ssl_fns *f, SSL *ssl, struct sslg_state *st, const struct conn *c,
               int fd)
{
	if (st->bound && st->fd == fd) {
		return; /* tied by its descriptor already */
	}
	from_conn(st, c, fd);
	/* The ClientHello is out: its SNI and versions are final, and the
	 * version floor is checked when the handshake finishes. */
	apply_rule(f, ssl, st, false);
}
