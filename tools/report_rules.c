/*
 * tlsguard report: the "Suggested rules" section, a libconfig snippet for
 * tlsguard.conf(5) built from what was seen, one rule per destination:
 *
 *   denied                 { to; port; proto; action = "deny"; }         keeps the refusal
 *   TLS seen, no plaintext { to; port; proto; action = "require_tls"; }  (a handshake
 *                          event: the program spoke TLS; fix the peer if it failed)
 *   plaintext seen         # { to; port; proto; action = "allow"; }      a waiver, commented
 *   plaintext seen, and    # { to; port = TWIN; proto; action = "upgrade_tls"; }
 *   TLS accepted on another  commented: the plaintext program, pointed at the
 *   port of the same host    TLS port TWIN, is upgraded by the shim (tunnel)
 *   only allowed connects  # a note: no evidence either way, the current rule stays
 *
 * A destination is only called TLS when a handshake was seen: an allowed
 * connect says nothing about what went over it, and plaintext seen means never
 * an active require_tls (it would break a working service). A TLS twin is a
 * destination on the same address, another TCP port, with a TLS session the
 * policy accepted (event handshake or upgrade, verdict allow: recorded with
 * audit.log_allowed): that server speaks TLS, so a plaintext program can reach
 * it through upgrade_tls instead of a waiver. The rule is for the twin's port
 * (upgrade_tls does not move a connection to another port: the program's own
 * configuration must name it) and stays a comment: programs that speak TLS to
 * the twin themselves would be refused under it (TLS inside TLS). Every rule carries
 * proto (a UDP destination needs a udp rule). Inbound events carry the peer,
 * not the local port a rule needs, so inbound suggestions are comments only.
 * The snippet starts with "version = 1;": it is a policy of its own that
 * `tlsguard check` accepts and `tlsguard explain` answers as predicted. Everything printed is valid
 * libconfig: rules are separated by commas (libconfig 1.5 refuses a trailing one), every other text
 * is a '#' comment made of printable ASCII.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define NOTE_WIDTH 60
#define NOTE_LINE  (80 - 6) /* after "    # " */

/* Everything seen for one destination: outbound IP and port, or inbound peer IP
 * (its port is ephemeral). */
struct dest {
	bool inbound;
	bool udp;
	char ip[INET6_ADDRSTRLEN];
	unsigned port;
	const char *host; /* the first name seen, NULL when none */
	const struct report_group *failure;
	unsigned long total, denied, plaintext, failed, ok;
	unsigned long tls_ok;      /* TLS sessions the policy accepted */
	unsigned long tls_refused; /* upgrades refused (each also had an allow) */
	unsigned twin;             /* a plaintext destination's TLS twin port, 0: none */
	bool active;               /* a rule, not only a comment */
};

/* "10.0.0.1:443" or "[::1]:443" into ip and port; -1 for "-". */
static int split_peer(const char *peer, char *ip, size_t iplen, unsigned *port)
{
	const char *colon = strrchr(peer, ':'), *start = peer;
	size_t n;

	if (colon == NULL) {
		return -1;
	}
	if (*start == '[') {
		start++;
	}
	n = (size_t)(colon - start) - (peer[0] == '[' ? 1 : 0);
	if (n == 0 || n >= iplen) {
		return -1;
	}
	memcpy(ip, start, n);
	ip[n] = '\0';
	*port = (unsigned)strtoul(colon + 1, NULL, 10);
	return 0;
}

static bool is_failure(const char *reason)
{
	static const char *const failures[] = {
	    "cert_verify",    "hostname",      "pin",       "protocol_version", "cipher",
	    "no_client_cert", "unmanaged_tls", "downgrade", "tls_in_tls",       NULL};
	const char *const *f;

	for (f = failures; *f != NULL; f++) {
		if (strcmp(reason, *f) == 0) {
			return true;
		}
	}
	return false;
}

static void dest_count(struct dest *d, const struct report_group *g)
{
	const char *reason = g->key[REPORT_KEY_REASON];

	d->total += g->count;
	d->tls_ok += g->tls_ok;
	if (d->host == NULL && strcmp(g->key[REPORT_KEY_HOST], "-") != 0) {
		d->host = g->key[REPORT_KEY_HOST];
	}
	if (strcmp(g->event, "upgrade") == 0 && strcmp(reason, "tls_in_tls") != 0) {
		/* the shim spoke TLS for a plaintext program: neither the program's
		 * plaintext nor its handshake (require_tls would break it); but a
		 * program refused for TLS inside TLS speaks TLS itself, and is
		 * counted below as a handshake seen: require_tls is its rule */
		if (strcmp(g->key[REPORT_KEY_VERDICT], "allow") != 0) {
			d->tls_refused += g->count;
			if (d->failure == NULL || g->count > d->failure->count) {
				d->failure = g;
			}
		}
		return;
	}
	if (strcmp(reason, "denied") == 0) {
		d->denied += g->count;
	} else if (strcmp(reason, "plaintext") == 0) {
		d->plaintext += g->count;
	} else if (strcmp(reason, "allowed") == 0) {
		d->ok += g->count;
	} else if (is_failure(reason) && strcmp(g->key[REPORT_KEY_VERDICT], "allow") != 0) {
		d->failed += g->count;
		if (d->failure == NULL || g->count > d->failure->count) {
			d->failure = g;
		}
	}
}

static bool dest_same(const struct dest *d, const struct dest *k)
{
	return d->inbound == k->inbound && d->udp == k->udp && strcmp(d->ip, k->ip) == 0 &&
	       (k->inbound || d->port == k->port);
}

/* Groups folded into destinations; a linear probe of the last few would miss
 * interleaved groups, so a sort by address first. */
static int dest_cmp(const void *a, const void *b)
{
	const struct dest *x = a, *y = b;
	int c;

	if (x->total != y->total) {
		return x->total > y->total ? -1 : 1;
	}
	if (x->inbound != y->inbound) {
		return x->inbound ? 1 : -1;
	}
	if ((c = strcmp(x->ip, y->ip)) != 0) {
		return c;
	}
	if (x->port != y->port) {
		return x->port < y->port ? -1 : 1;
	}
	return x->udp - y->udp;
}

struct keyed {
	const struct report_group *g;
	struct dest key;
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c;

	if (x->key.inbound != y->key.inbound) {
		return x->key.inbound ? 1 : -1;
	}
	if ((c = strcmp(x->key.ip, y->key.ip)) != 0) {
		return c;
	}
	if (x->key.udp != y->key.udp) {
		return x->key.udp - y->key.udp;
	}
	if (x->key.inbound || x->key.port == y->key.port) {
		return 0;
	}
	return x->key.port < y->key.port ? -1 : 1;
}

/* TLS sessions that went through: the shim records an upgrade_tls connection
 * as event=upgrade verdict=allow when it is made (with audit.log_allowed), and
 * once more as verdict=block when its handshake is refused. */
static unsigned long dest_tls_passed(const struct dest *d)
{
	return d->tls_ok > d->tls_refused ? d->tls_ok - d->tls_refused : 0;
}

/* For each outbound TCP destination where plaintext was seen (and nothing was
 * denied), the port of the same address with the most accepted TLS sessions. */
static void dests_find_twins(struct dest *d, size_t nd)
{
	size_t i, j;

	for (i = 0; i < nd; i++) {
		const struct dest *best = NULL;

		if (d[i].inbound || d[i].udp || d[i].plaintext == 0 || d[i].denied > 0) {
			continue;
		}
		for (j = 0; j < nd; j++) {
			if (d[j].inbound || d[j].udp || dest_tls_passed(&d[j]) == 0 ||
			    d[j].port == d[i].port || strcmp(d[j].ip, d[i].ip) != 0) {
				continue;
			}
			if (best == NULL || dest_tls_passed(&d[j]) > dest_tls_passed(best)) {
				best = &d[j];
			}
		}
		d[i].twin = best != NULL ? best->port : 0;
	}
}

/* The destinations of the groups (those with an address), sorted by count. */
static struct dest *dests_build(struct report_group *const *groups, size_t n, size_t *ndest)
{
	struct keyed *kv = calloc(n + 1, sizeof(*kv));
	struct dest *d = calloc(n + 1, sizeof(*d));
	size_t i, m = 0, nd = 0;

	if (kv == NULL || d == NULL) {
		goto err;
	}
	for (i = 0; i < n; i++) {
		kv[m].g = groups[i];
		kv[m].key.inbound = strcmp(groups[i]->key[REPORT_KEY_DIR], "in") == 0;
		kv[m].key.udp = strcmp(groups[i]->key[REPORT_KEY_PROTO], "udp") == 0;
		if (split_peer(groups[i]->key[REPORT_KEY_PEER], kv[m].key.ip, sizeof(kv[m].key.ip),
		               &kv[m].key.port) == 0) {
			m++;
		}
	}
	qsort(kv, m, sizeof(*kv), keyed_cmp);
	for (i = 0; i < m; i++) {
		if (nd == 0 || !dest_same(&d[nd - 1], &kv[i].key)) {
			d[nd++] = kv[i].key;
		}
		dest_count(&d[nd - 1], kv[i].g);
	}
	qsort(d, nd, sizeof(*d), dest_cmp);
	dests_find_twins(d, nd);
	free(kv);
	*ndest = nd;
	return d;
err:
	free(kv);
	free(d);
	return NULL;
}

/* "1 time", "2 times" */
static const char *times(unsigned long n)
{
	return n == 1 ? "time" : "times";
}

/* The comment above a rule: the host name when known, then why this rule. */
static void dest_note(const struct dest *d, char *buf, size_t len)
{
	char host[NOTE_WIDTH + 1], why[NOTE_WIDTH + 1];
	const struct report_group *f = d->failure;
	size_t n = 0;

	if (d->host != NULL) {
		n = (size_t)snprintf(buf, len, "%s: ", report_ascii(d->host, host, NOTE_WIDTH));
	}
	buf += n;
	len -= n;
	if (d->denied > 0) {
		snprintf(buf, len, "denied %lu %s", d->denied, times(d->denied));
	} else if (d->failed > 0 && d->plaintext == 0) {
		snprintf(buf, len, "TLS seen, handshake failed %lu %s: %s%s%s%s", d->failed,
		         times(d->failed), f->key[REPORT_KEY_REASON], f->detail != NULL ? " (" : "",
		         f->detail != NULL ? report_ascii(f->detail, why, NOTE_WIDTH) : "",
		         f->detail != NULL ? ")" : "");
	} else if (d->plaintext > 0 && d->twin != 0) {
		snprintf(buf, len, "plaintext seen %lu %s; TLS on port %u", d->plaintext,
		         times(d->plaintext), d->twin);
	} else if (d->plaintext > 0) {
		snprintf(buf, len, "plaintext seen %lu %s: require_tls would break it",
		         d->plaintext, times(d->plaintext));
	} else if (d->tls_refused > 0 && dest_tls_passed(d) == 0) {
		snprintf(buf, len, "upgrade refused %lu %s: %s%s%s%s", d->tls_refused,
		         times(d->tls_refused), f->key[REPORT_KEY_REASON],
		         f->detail != NULL ? " (" : "",
		         f->detail != NULL ? report_ascii(f->detail, why, NOTE_WIDTH) : "",
		         f->detail != NULL ? ")" : "");
	} else if (dest_tls_passed(d) > 0) {
		snprintf(buf, len, "TLS accepted %lu %s: the current rule stays",
		         dest_tls_passed(d), times(dest_tls_passed(d)));
	} else {
		snprintf(buf, len, "allowed %lu %s, no TLS seen: the current rule stays", d->ok,
		         times(d->ok));
	}
}

/* The note above a rule, one comment line within 80 columns. */
static void print_note(FILE *out, const struct dest *d)
{
	char note[4 * NOTE_WIDTH], line[NOTE_LINE + 1];

	dest_note(d, note, sizeof(note));
	fprintf(out, "    # %s\n", report_ascii(note, line, NOTE_LINE));
}

static const char *dest_action(struct dest *d)
{
	d->active = true;
	if (d->denied > 0) {
		return "deny";
	}
	if (d->plaintext > 0) {
		d->active = false; /* a waiver or an upgrade: the operator must decide */
		return d->twin != 0 ? "upgrade_tls" : "allow";
	}
	if (d->failed > 0) {
		return "require_tls"; /* a handshake was seen: the program speaks TLS */
	}
	d->active = false;
	if (d->ok > 0 || d->tls_ok > 0 || d->tls_refused > 0) {
		return ""; /* allowed, nothing known of the bytes: a note only */
	}
	return NULL; /* only policy errors and the like: nothing to suggest */
}

/* The port of the suggested rule: the TLS twin's for an upgrade. */
static unsigned rule_port(const struct dest *d)
{
	return d->twin != 0 ? d->twin : d->port;
}

static void print_outbound(FILE *out, struct dest *d, size_t nd)
{
	const char *action;
	size_t i, last = nd;

	for (i = 0; i < nd; i++) {
		if (!d[i].inbound && dest_action(&d[i]) != NULL && d[i].active) {
			last = i;
		}
	}
	fprintf(out, "outbound = {\n  rules = (\n");
	for (i = 0; i < nd; i++) {
		if (d[i].inbound || (action = dest_action(&d[i])) == NULL) {
			continue;
		}
		print_note(out, &d[i]);
		if (action[0] == '\0') {
			continue;
		}
		if (d[i].twin != 0) {
			fprintf(out, "    # upgrade_tls, with the program pointed at port %u:\n",
			        d[i].twin);
		}
		fprintf(out,
		        "    %s{ to = \"%s\"; port = %u; proto = \"%s\"; action = \"%s\"; }%s\n",
		        d[i].active ? "" : "# ", d[i].ip, rule_port(&d[i]),
		        d[i].udp ? "udp" : "tcp", action, d[i].active && i == last ? "" : ",");
	}
	fprintf(out, "  );\n};\n");
}

static void print_inbound(FILE *out, struct dest *d, size_t nd)
{
	const char *action;
	size_t i;

	fprintf(out, "inbound = {\n  rules = (\n");
	fprintf(out, "    # audit events name the peer, not the local port:\n"
	             "    # fill in port = N; to use these\n");
	for (i = 0; i < nd; i++) {
		if (!d[i].inbound || (action = dest_action(&d[i])) == NULL) {
			continue;
		}
		print_note(out, &d[i]);
		if (action[0] == '\0') {
			continue;
		}
		fprintf(out, "    # { from = \"%s/%d\"; port = N; action = \"%s\"; },\n", d[i].ip,
		        strchr(d[i].ip, ':') != NULL ? 128 : 32, action);
	}
	fprintf(out, "  );\n};\n");
}

int report_rules_print(FILE *out, struct report_group *const *groups, size_t n)
{
	struct dest *d;
	size_t nd = 0, i;
	bool inbound = false;

	if ((d = dests_build(groups, n, &nd)) == NULL) {
		return -1;
	}
	fprintf(out, "# Suggested rules (review before use)\nversion = 1;\n");
	print_outbound(out, d, nd);
	for (i = 0; i < nd; i++) {
		inbound = inbound || d[i].inbound;
	}
	if (inbound) {
		print_inbound(out, d, nd);
	}
	free(d);
	return 0;
}

int report_rules_json(FILE *out, struct report_group *const *groups, size_t n)
{
	struct dest *d;
	const char *action;
	size_t nd = 0, i, k = 0;

	if ((d = dests_build(groups, n, &nd)) == NULL) {
		return -1;
	}
	fputs("  \"suggestions\": [", out);
	for (i = 0; i < nd; i++) {
		if ((action = dest_action(&d[i])) == NULL) {
			continue;
		}
		fprintf(
		    out,
		    "%s\n    { \"dir\": \"%s\", \"to\": \"%s\", \"port\": %u, \"proto\": \"%s\", "
		    "\"action\": %s%s%s, \"active\": %s",
		    k++ == 0 ? "" : ",", d[i].inbound ? "in" : "out", d[i].ip, rule_port(&d[i]),
		    d[i].udp ? "udp" : "tcp", action[0] != '\0' ? "\"" : "",
		    action[0] != '\0' ? action : "null", action[0] != '\0' ? "\"" : "",
		    d[i].active && !d[i].inbound ? "true" : "false");
		if (d[i].twin != 0) {
			fprintf(out, ", \"plaintext_port\": %u", d[i].port);
		}
		fputs(" }", out);
	}
	fputs(k > 0 ? "\n  ]\n" : "]\n", out);
	free(d);
	return 0;
}
