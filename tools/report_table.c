/*
 * tlsguard report: events counted per group (program, destination, reason,
 * verdict) in an open-addressing hash table, so a million lines cost a million
 * lookups, not a million list walks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define TABLE_MIN_CAP 1024

static const char *event_key(const struct report_event *ev, enum report_key k)
{
	switch (k) {
	case REPORT_KEY_EXE:
		return ev->f.value[AUDIT_FIELD_EXE];
	case REPORT_KEY_DIR:
		return ev->f.value[AUDIT_FIELD_DIR];
	case REPORT_KEY_PEER:
		return ev->f.value[AUDIT_FIELD_PEER];
	case REPORT_KEY_HOST:
		return ev->f.value[AUDIT_FIELD_HOST];
	case REPORT_KEY_REASON:
		return ev->f.value[AUDIT_FIELD_REASON];
	case REPORT_KEY_PROTO:
		return ev->f.value[AUDIT_FIELD_PROTO];
	case REPORT_KEY_LOGHOST:
		return ev->loghost;
	case REPORT_KEY_VERDICT:
	default:
		return ev->f.value[AUDIT_FIELD_VERDICT];
	}
}

/* FNV-1a over the key fields, each ended by its NUL so "ab"+"c" != "a"+"bc". */
static size_t event_hash(const struct report_event *ev)
{
	uint64_t h = 14695981039346656037ULL;
	const unsigned char *p;
	int k;

	for (k = 0; k < REPORT_NKEYS; k++) {
		for (p = (const unsigned char *)event_key(ev, k);; p++) {
			h = (h ^ *p) * 1099511628211ULL;
			if (*p == '\0') {
				break;
			}
		}
	}
	return (size_t)h;
}

static bool group_matches(const struct report_group *g, const struct report_event *ev, size_t hash)
{
	int k;

	if (g->hash != hash) {
		return false;
	}
	for (k = 0; k < REPORT_NKEYS; k++) {
		if (strcmp(g->key[k], event_key(ev, k)) != 0) {
			return false;
		}
	}
	return true;
}

/* One allocation: the struct, then every string it points to. */
static struct report_group *group_new(const struct report_event *ev, size_t hash)
{
	const char *src[REPORT_NKEYS + 2];
	size_t len[REPORT_NKEYS + 2], total = sizeof(struct report_group);
	struct report_group *g;
	char *p;
	int k;

	for (k = 0; k < REPORT_NKEYS; k++) {
		src[k] = event_key(ev, k);
	}
	src[REPORT_NKEYS] = ev->f.value[AUDIT_FIELD_EVENT];
	src[REPORT_NKEYS + 1] =
	    ev->f.value[AUDIT_FIELD_DETAIL] != NULL ? ev->f.value[AUDIT_FIELD_DETAIL] : "";
	for (k = 0; k < REPORT_NKEYS + 2; k++) {
		len[k] = strlen(src[k]) + 1;
		total += len[k];
	}
	if ((g = calloc(1, total)) == NULL) {
		return NULL;
	}
	p = (char *)(g + 1);
	for (k = 0; k < REPORT_NKEYS + 2; k++) {
		memcpy(p, src[k], len[k]);
		if (k < REPORT_NKEYS) {
			g->key[k] = p;
		} else if (k == REPORT_NKEYS) {
			g->event = p;
		} else if (ev->f.value[AUDIT_FIELD_DETAIL] != NULL) {
			g->detail = p;
		}
		p += len[k];
	}
	g->hash = hash;
	return g;
}

static int table_grow(struct report_table *t)
{
	size_t cap = t->cap != 0 ? t->cap * 2 : TABLE_MIN_CAP, i, j;
	struct report_group **slots;

	if (cap < t->cap || (slots = calloc(cap, sizeof(*slots))) == NULL) {
		return -1;
	}
	for (i = 0; i < t->cap; i++) {
		if (t->slots[i] == NULL) {
			continue;
		}
		for (j = t->slots[i]->hash & (cap - 1); slots[j] != NULL; j = (j + 1) & (cap - 1)) {
		}
		slots[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

/* First and last seen follow the input order: a log is written in time order,
 * and a year-less syslog stamp cannot be compared with an RFC 3339 one. */
static void group_seen(struct report_group *g, const struct report_event *ev)
{
	const char *event = ev->f.value[AUDIT_FIELD_EVENT];

	g->count++;
	if (strcmp(ev->f.value[AUDIT_FIELD_VERDICT], "allow") == 0 &&
	    (strcmp(event, "handshake") == 0 || strcmp(event, "upgrade") == 0)) {
		g->tls_ok++;
	}
	if (ev->ts[0] == '\0') {
		return;
	}
	if (g->first_ts[0] == '\0') {
		memcpy(g->first_ts, ev->ts, sizeof(g->first_ts));
		memcpy(g->first_when, ev->when, sizeof(g->first_when));
	}
	memcpy(g->last_ts, ev->ts, sizeof(g->last_ts));
	memcpy(g->last_when, ev->when, sizeof(g->last_when));
}

int report_table_add(struct report_table *t, const struct report_event *ev)
{
	size_t hash = event_hash(ev), i;

	/* Load factor at most 1/2: probes stay short. */
	if ((t->ngroups + 1) * 2 > t->cap && table_grow(t) != 0) {
		return -1;
	}
	for (i = hash & (t->cap - 1); t->slots[i] != NULL; i = (i + 1) & (t->cap - 1)) {
		if (group_matches(t->slots[i], ev, hash)) {
			group_seen(t->slots[i], ev);
			return 0;
		}
	}
	if ((t->slots[i] = group_new(ev, hash)) == NULL) {
		return -1;
	}
	t->ngroups++;
	group_seen(t->slots[i], ev);
	return 0;
}

static int group_cmp(const void *a, const void *b)
{
	const struct report_group *x = *(const struct report_group *const *)a;
	const struct report_group *y = *(const struct report_group *const *)b;
	int k, c;

	/* By host first: the report prints one section per host. */
	if ((c = strcmp(x->key[REPORT_KEY_LOGHOST], y->key[REPORT_KEY_LOGHOST])) != 0) {
		return c;
	}
	if (x->count != y->count) {
		return x->count > y->count ? -1 : 1;
	}
	for (k = 0; k < REPORT_NKEYS; k++) {
		if ((c = strcmp(x->key[k], y->key[k])) != 0) {
			return c;
		}
	}
	return 0;
}

struct report_group **report_table_sorted(const struct report_table *t)
{
	struct report_group **v;
	size_t i, n = 0;

	if (t->ngroups == 0 || (v = calloc(t->ngroups, sizeof(*v))) == NULL) {
		return NULL;
	}
	for (i = 0; i < t->cap; i++) {
		if (t->slots[i] != NULL) {
			v[n++] = t->slots[i];
		}
	}
	qsort(v, n, sizeof(*v), group_cmp);
	return v;
}

void report_table_free(struct report_table *t)
{
	size_t i;

	for (i = 0; i < t->cap; i++) {
		free(t->slots[i]);
	}
	free(t->slots);
	t->slots = NULL;
	t->cap = t->ngroups = 0;
}
