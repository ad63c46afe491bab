/*
 * The shim's own certificate verification (verify.h): whatever the program
 * configured (its trust files, gnutls_certificate_set_verify_flags, a
 * %VERIFY_ALLOW_* priority, its verify function), a governed peer passes only
 * if its chain verifies against the policy's anchors with the policy's
 * profile, carries the right name for the right purpose, and matches the
 * pins.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "state.h"
#include "store.h"
#include "tls/peer.h"
#include "verify.h"

#define CHAIN_MAX 16
#define SAN_MAX   1024

/* The policy's verification profile: 112-bit keys and signatures
 * (GNUTLS_PROFILE_MEDIUM, as OpenSSL's security level 2); a textual IP never
 * matches a dNSName. Nothing else: no GNUTLS_VERIFY_ALLOW_*, no
 * DISABLE_TIME_CHECKS. */
#define VERIFY_FLAGS                                                                               \
	(GNUTLS_PROFILE_TO_VFLAGS(GNUTLS_PROFILE_MEDIUM) | GNUTLS_VERIFY_DO_NOT_ALLOW_IP_MATCHES)

struct chain {
	gnutls_x509_crt_t crt[CHAIN_MAX];
	unsigned n;
};

static void chain_free(const struct gnutls_fns *f, struct chain *ch)
{
	while (ch->n > 0) {
		f->gnutls_x509_crt_deinit(ch->crt[--ch->n]);
	}
}

/* The peer's certificates as GnuTLS received them (DER), parsed. */
static int chain_import(const struct gnutls_fns *f, gnutls_session_t session, struct chain *ch)
{
	unsigned n = 0, i;
	const gnutls_datum_t *der = f->gnutls_certificate_get_peers(session, &n);

	ch->n = 0;
	for (i = 0; der != NULL && i < n && i < CHAIN_MAX; i++) {
		if (f->gnutls_x509_crt_init(&ch->crt[ch->n]) < 0) {
			return -1;
		}
		ch->n++;
		if (f->gnutls_x509_crt_import(ch->crt[ch->n - 1], &der[i], GNUTLS_X509_FMT_DER) <
		    0) {
			return -1;
		}
	}
	return 0;
}

/* GnuTLS's own words for a verification status. */
static void status_text(const struct gnutls_fns *f, unsigned status, char *out, size_t len)
{
	gnutls_datum_t text = {NULL, 0};

	if (f->gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) <
	        0 ||
	    text.data == NULL) {
		snprintf(out, len, "certificate verification failed (status 0x%x)", status);
		return;
	}
	snprintf(out, len, "%s", (const char *)text.data);
	gnutls_fns_free(f, text.data);
}

static bool spki_pinned(const struct gnutls_fns *f, gnutls_x509_crt_t crt,
                        const struct policy_tls *tls)
{
	gnutls_pubkey_t key = NULL;
	gnutls_datum_t der = {NULL, 0};
	uint8_t md[POLICY_PIN_LEN];
	bool hit = false;

	if (f->gnutls_pubkey_init(&key) < 0) {
		return false;
	}
	if (f->gnutls_pubkey_import_x509(key, crt, 0) == 0 &&
	    f->gnutls_pubkey_export2(key, GNUTLS_X509_FMT_DER, &der) == 0 &&
	    f->gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, md) == 0) {
		hit = tls_pin_match(tls, md);
	}
	gnutls_fns_free(f, der.data);
	f->gnutls_pubkey_deinit(key);
	return hit;
}

/* The pins match a certificate of the verified chain: one the peer sent, or
 * the anchor the policy's trust list holds for its last one. */
static bool chain_pinned(const struct gnutls_fns *f, gnutls_x509_trust_list_t list,
                         const struct chain *ch, const struct policy_tls *tls)
{
	gnutls_x509_crt_t anchor = NULL;
	unsigned i;
	bool hit = false;

	for (i = 0; i < ch->n && !hit; i++) {
		hit = spki_pinned(f, ch->crt[i], tls);
	}
	if (!hit && ch->n > 0 &&
	    f->gnutls_x509_trust_list_get_issuer(list, ch->crt[ch->n - 1], &anchor,
	                                         GNUTLS_TL_GET_COPY) == 0) {
		hit = spki_pinned(f, anchor, tls);
		f->gnutls_x509_crt_deinit(anchor);
	}
	return hit;
}

/* Whether leaf carries a dNSName subjectAltName. GnuTLS matches a host name
 * against the subject CN when it has none (RFC 6125 6.4.4); the policy allows
 * that only with insecure_cn_fallback. */
static bool has_dns_san(const struct gnutls_fns *f, gnutls_x509_crt_t leaf)
{
	char buf[SAN_MAX];
	unsigned i;
	int type;

	for (i = 0;; i++) {
		size_t size = sizeof(buf);

		type = f->gnutls_x509_crt_get_subject_alt_name(leaf, i, buf, &size, NULL);
		if (type == GNUTLS_SAN_DNSNAME) {
			return true;
		}
		if (type < 0 && type != GNUTLS_E_SHORT_MEMORY_BUFFER) {
			return false;
		}
	}
}

/* The anchors of this verification: the policy's, and for client
 * certificates client_ca_file when the rule names one. */
static struct policy_tls anchors_of(const struct gtls_state *st)
{
	struct policy_tls anchors = *st->tls;

	if (st->server && st->tls->client_ca_file != NULL) {
		anchors.ca_file = st->tls->client_ca_file;
		anchors.ca_path = NULL;
	}
	return anchors;
}

/* trust "policy+app" (tlsguard.conf.5): the trust list of the program's own
 * certificate credentials, read as they are now (gnutls_certificate_get_trust_list(3):
 * the credentials' own, not a copy, so only read), or NULL. Only ever a second
 * chance for a chain the policy's anchors alone do not pass, with the same
 * name, purpose and profile. */
static gnutls_x509_trust_list_t app_list(const struct gnutls_fns *f, gnutls_session_t session,
                                         const struct gtls_state *st)
{
	gnutls_x509_trust_list_t list = NULL;
	void *cred = st->prog_cred;

	if (st->server || st->tls->trust != POLICY_TRUST_POLICY_AND_APP) {
		return NULL;
	}
	if (cred == NULL &&
	    f->gnutls_credentials_get(session, GNUTLS_CRD_CERTIFICATE, &cred) != 0) {
		return NULL;
	}
	if (cred != NULL && cred != st->shim_cred) {
		f->gnutls_certificate_get_trust_list(cred, &list);
	}
	return list;
}

/* Whether ch, which GnuTLS passed against list, also passes OpenSSL's rule
 * (X509_verify_cert(3) without X509_V_FLAG_PARTIAL_CHAIN), which the OpenSSL
 * layer and a correctly configured client follow: the path ends at a
 * self-signed certificate of the trust list. GnuTLS takes any certificate of
 * its trust list as an anchor, an intermediate among them. The path is walked
 * up from the leaf through the trust list's certificates first, then the ones
 * the peer sent, until a self-signed certificate of the list (a root the
 * policy trusts); a self-signed one only the peer sent, or no issuer at all,
 * ends the walk refused. */
static bool ends_at_root(const struct gnutls_fns *f, gnutls_x509_trust_list_t list,
                         const struct chain *ch)
{
	gnutls_x509_crt_t cur = ch->crt[0], issuer, copies[CHAIN_MAX];
	unsigned ncopies = 0, steps, i;
	bool ok = false;
	int rc;

	for (steps = 0; steps < CHAIN_MAX && !ok; steps++) {
		/* The list's own certificate, read in place (the list does not
		 * change once loaded: store.c); a PKCS#11 trust module answers
		 * only with a copy (gnutls_x509_trust_list_get_issuer(3)). */
		rc = f->gnutls_x509_trust_list_get_issuer(list, cur, &issuer, 0);
		if (rc == GNUTLS_E_INVALID_REQUEST &&
		    f->gnutls_x509_trust_list_get_issuer(list, cur, &issuer, GNUTLS_TL_GET_COPY) ==
		        0) {
			copies[ncopies++] = issuer;
			rc = 0;
		}
		if (rc == 0) {
			cur = issuer;
			ok = f->gnutls_x509_crt_check_issuer(cur, cur) == 1;
			continue;
		}
		for (i = 0; i < ch->n; i++) {
			if (ch->crt[i] != cur &&
			    f->gnutls_x509_crt_check_issuer(cur, ch->crt[i]) == 1) {
				break;
			}
		}
		if (i == ch->n) {
			break;
		}
		cur = ch->crt[i];
	}
	while (ncopies > 0) {
		f->gnutls_x509_crt_deinit(copies[--ncopies]);
	}
	return ok;
}

/* One verification of ch: the GNUTLS_CERT_* status, 0 when it passed. */
static unsigned verify_chain(const struct gnutls_fns *f, gnutls_x509_trust_list_t list,
                             struct gtls_state *st, struct chain *ch)
{
	gnutls_typed_vdata_st data[2];
	unsigned ndata = 0, status = 0;
	unsigned char ip[16];
	int ret;

	data[ndata++] = (gnutls_typed_vdata_st){
	    .type = GNUTLS_DT_KEY_PURPOSE_OID,
	    .data = (void *)(st->server ? GNUTLS_KP_TLS_WWW_CLIENT : GNUTLS_KP_TLS_WWW_SERVER),
	};
	if (!st->server && st->tls->verify_hostname && st->name[0] != '\0') {
		if (inet_pton(AF_INET, st->name, ip) == 1) {
			data[ndata++] = (gnutls_typed_vdata_st){GNUTLS_DT_IP_ADDRESS, ip, 4};
		} else if (inet_pton(AF_INET6, st->name, ip) == 1) {
			data[ndata++] = (gnutls_typed_vdata_st){GNUTLS_DT_IP_ADDRESS, ip, 16};
		} else {
			data[ndata++] =
			    (gnutls_typed_vdata_st){GNUTLS_DT_DNS_HOSTNAME, (void *)st->name, 0};
		}
	}
	ret = f->gnutls_x509_trust_list_verify_crt2(list, ch->crt, ch->n, data, ndata, VERIFY_FLAGS,
	                                            &status, NULL);
	if (ret < 0) {
		status |= GNUTLS_CERT_INVALID;
	}
	if (status == 0 && !ends_at_root(f, list, ch)) {
		status = GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_NOT_FOUND;
	}
	return status;
}

/* The name matched by the subject CN alone: refused, or with
 * insecure_cn_fallback let through and marked for the audit. */
static bool cn_only(const struct gnutls_fns *f, struct gtls_state *st, const struct chain *ch)
{
	if (st->server || !st->tls->verify_hostname || st->name[0] == '\0' ||
	    tls_name_is_ip(st->name) || has_dns_san(f, ch->crt[0])) {
		return false;
	}
	if (st->tls->insecure_cn_fallback) {
		st->cn_fallback = true;
		return false;
	}
	return true;
}

bool gtls_verify_peer(const struct gnutls_fns *f, gnutls_session_t session, struct gtls_state *st,
                      enum gtls_shut when)
{
	struct policy_tls anchors = anchors_of(st);
	struct chain ch = {.n = 0};
	gnutls_x509_trust_list_t list, app, pin_list;
	char detail[GTLS_DETAIL_MAX];
	unsigned status;
	bool owned = false, ok = false;

	if (chain_import(f, session, &ch) < 0 || ch.n == 0) {
		ok =
		    gtls_refuse(st, st->server ? TLS_REASON_NO_CLIENT_CERT : TLS_REASON_CERT_VERIFY,
		                GNUTLS_CERT_INVALID, "no peer certificate", when);
		goto out;
	}
	list = gtls_store_for(f, &anchors, &owned);
	pin_list = list;
	status = list != NULL ? verify_chain(f, list, st, &ch)
	                      : (GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_NOT_FOUND);
	if (status != 0 && (app = app_list(f, session, st)) != NULL &&
	    verify_chain(f, app, st, &ch) == 0) {
		status = 0;
		pin_list = app;
	}
	if (status != 0) {
		status_text(f, status, detail, sizeof(detail));
		ok = gtls_refuse(st,
		                 status == (GNUTLS_CERT_INVALID | GNUTLS_CERT_UNEXPECTED_OWNER)
		                     ? TLS_REASON_HOSTNAME
		                     : TLS_REASON_CERT_VERIFY,
		                 status, detail, when);
	} else if (cn_only(f, st, &ch)) {
		ok = gtls_refuse(st, TLS_REASON_HOSTNAME,
		                 GNUTLS_CERT_INVALID | GNUTLS_CERT_UNEXPECTED_OWNER,
		                 "the name matches only the subject CN: no subjectAltName", when);
	} else if (st->tls->npins > 0 && !chain_pinned(f, pin_list, &ch, st->tls)) {
		ok = gtls_refuse(st, TLS_REASON_PIN, GNUTLS_CERT_INVALID, TLS_PIN_MISMATCH, when);
	} else {
		ok = true;
	}
	if (owned) {
		f->gnutls_x509_trust_list_deinit(list, 1);
	}
out:
	chain_free(f, &ch);
	return ok;
}

/* The program's own verify function for session: the one it set on the
 * session, else the one on its certificate credentials. 0 when none. */
static int program_verify(const struct gnutls_fns *f, gnutls_session_t session,
                          const struct gtls_state *st)
{
	gnutls_certificate_verify_function *fn = NULL;
	void *cred = NULL;

	if (st != NULL && st->have_prog_verify) {
		fn = st->prog_verify;
	} else if (st != NULL && st->prog_cred != NULL) {
		fn = gtls_cred_verify_get(st->prog_cred);
	} else if (f->gnutls_credentials_get(session, GNUTLS_CRD_CERTIFICATE, &cred) == 0) {
		fn = gtls_cred_verify_get(cred);
	}
	return fn != NULL ? fn(session) : 0;
}

int gtls_verify_function(gnutls_session_t session)
{
	const struct gnutls_fns *f = gnutls_fns_if_bound();
	struct gtls_state *st;

	if (f == NULL) {
		return GTLS_REFUSED;
	}
	st = gtls_state_get(session);
	if (st == NULL || !st->applied || !st->governed || !gtls_enforcing() ||
	    (st->server && !st->tls->require_client_cert)) {
		return program_verify(f, session, st);
	}
	if (st->failed) {
		return GTLS_REFUSED;
	}
	if (!gtls_verify_peer(f, session, st, GTLS_SHUT_AFTER_HANDSHAKE)) {
		return GTLS_REFUSED;
	}
	st->verified = true;
	return program_verify(f, session, st);
}

/* The certificate the program serves with: its credentials' first, with the
 * chain stored with it; its status against the system's anchors (an inbound
 * `external` rule: it must chain to a public root), 0 when it does. */
static unsigned served_status(const struct gnutls_fns *f, gnutls_session_t session)
{
	struct policy_tls system = {.trust = POLICY_TRUST_POLICY}; /* no files: the system's */
	gnutls_x509_trust_list_t list;
	gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
	                                 (void *)GNUTLS_KP_TLS_WWW_SERVER, 0};
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0, i, status = GNUTLS_CERT_INVALID;
	void *cred = NULL;
	bool owned = false;

	if (f->gnutls_credentials_get(session, GNUTLS_CRD_CERTIFICATE, &cred) != 0 ||
	    cred == NULL || f->gnutls_certificate_get_x509_crt(cred, 0, &crts, &n) < 0) {
		return status;
	}
	list = n > 0 ? gtls_store_for(f, &system, &owned) : NULL;
	if (list != NULL && f->gnutls_x509_trust_list_verify_crt2(
	                        list, crts, n, &purpose, 1, VERIFY_FLAGS, &status, NULL) < 0) {
		status |= GNUTLS_CERT_INVALID;
	}
	if (owned) {
		f->gnutls_x509_trust_list_deinit(list, 1);
	}
	for (i = 0; i < n; i++) {
		f->gnutls_x509_crt_deinit(crts[i]);
	}
	gnutls_fns_free(f, crts);
	return status;
}

bool gtls_verify_served(const struct gnutls_fns *f, gnutls_session_t session, struct gtls_state *st)
{
	unsigned status = served_status(f, session);
	char text[GTLS_DETAIL_MAX - 24], detail[GTLS_DETAIL_MAX];

	if (status == 0) {
		return true;
	}
	status_text(f, status, text, sizeof(text));
	snprintf(detail, sizeof(detail), "served certificate: %s", text);
	return gtls_refuse(st, TLS_REASON_CERT_VERIFY, status, detail, GTLS_SHUT_NOW);
}
