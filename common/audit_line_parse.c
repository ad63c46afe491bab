/*
 * Reading an audit body back (see audit_line.h): the inverse of
 * audit_format_body in audit_line.c, with its field names and quoting rule.
 * Pure, no allocation: values are copied into the caller's scratch.
 *
 * A value is bare, or quoted when empty or holding a space, a quote or a
 * backslash, with \" and \\ inside quotes; control bytes are written as \xNN
 * everywhere, so a raw control byte never belongs to an event.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "audit_line.h"

/* A cursor over the body: never reads at or past end. */
struct cursor {
	const char *p;
	const char *end;
};

/* One value at c into *out (NUL-terminated); advances both. */
static bool parse_value(struct cursor *c, char **out)
{
	const char *start = c->p;
	char *o = *out;

	if (c->p < c->end && *c->p == '"') {
		c->p++;
		for (;;) {
			if (c->p == c->end) {
				return false; /* unterminated */
			}
			if (*c->p == '"') {
				c->p++;
				break;
			}
			if (*c->p == '\\' && c->end - c->p > 1 &&
			    (c->p[1] == '"' || c->p[1] == '\\')) {
				c->p++;
			}
			*o++ = *c->p++;
		}
	} else {
		while (c->p < c->end && *c->p != ' ' && *c->p != '"') {
			*o++ = *c->p++;
		}
		if (c->p == start) {
			return false; /* an empty value is always quoted */
		}
	}
	*o++ = '\0';
	*out = o;
	return true;
}

/* The field called key (n bytes), or AUDIT_NFIELDS for a key this parser does
 * not know. */
static enum audit_field field_of(const char *key, size_t n)
{
	int i;

	for (i = 0; i < AUDIT_NFIELDS; i++) {
		if (strlen(audit_field_names[i]) == n &&
		    memcmp(audit_field_names[i], key, n) == 0) {
			return (enum audit_field)i;
		}
	}
	return AUDIT_NFIELDS;
}

static bool is_key_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || ch == '_';
}

/* "key=value key=value ...": unknown keys are skipped, a repeated key is an
 * error (it could hide the first). */
static bool parse_fields(struct cursor *c, char *scratch, struct audit_fields *f)
{
	enum audit_field field;
	const char *key;
	char *o = scratch;

	while (c->p < c->end) {
		key = c->p;
		while (c->p < c->end && is_key_char(*c->p)) {
			c->p++;
		}
		if (c->p == key || c->p == c->end || *c->p != '=') {
			return false;
		}
		field = field_of(key, (size_t)(c->p - key));
		c->p++;
		if (field != AUDIT_NFIELDS && f->value[field] != NULL) {
			return false;
		}
		if (field != AUDIT_NFIELDS) {
			f->value[field] = o;
		}
		if (!parse_value(c, &o)) {
			return false;
		}
		if (c->p < c->end && (*c->p++ != ' ' || c->p == c->end)) {
			return false; /* one space between fields, none at the end */
		}
	}
	return true;
}

static bool is_one_of(const char *v, const char *const *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(v, set[i]) == 0) {
			return true;
		}
	}
	return false;
}

static bool is_number(const char *v)
{
	size_t n = strspn(v, "0123456789");

	return n > 0 && n <= 10 && v[n] == '\0';
}

/* A reason is one lower-case word (contract "Audit events"). */
static bool is_word(const char *v)
{
	size_t n = strspn(v, "abcdefghijklmnopqrstuvwxyz_");

	return n > 0 && n <= 32 && v[n] == '\0';
}

/* "-", "10.0.0.1:443" or "[::1]:443", as format_peer writes it. */
static bool is_peer(const char *v)
{
	char ip[INET6_ADDRSTRLEN + 1];
	unsigned char bin[16];
	bool v6 = v[0] == '[';
	const char *colon;
	size_t n;

	if (strcmp(v, "-") == 0) {
		return true;
	}
	if (v6) {
		colon = strstr(v, "]:");
		v++;
	} else {
		colon = strchr(v, ':');
	}
	if (colon == NULL || (n = (size_t)(colon - v)) >= sizeof(ip)) {
		return false;
	}
	memcpy(ip, v, n);
	ip[n] = '\0';
	colon += *colon == ']' ? 2 : 1;
	return is_number(colon) && strlen(colon) <= 5 &&
	       inet_pton(v6 ? AF_INET6 : AF_INET, ip, bin) == 1;
}

static bool valid_fields(const struct audit_fields *f)
{
	static const char *const dirs[] = {"out", "in"};
	static const char *const protos[] = {"tcp", "udp"};
	static const enum audit_field required[] = {
	    AUDIT_FIELD_EVENT,  AUDIT_FIELD_VERDICT, AUDIT_FIELD_DIR,
	    AUDIT_FIELD_PEER,   AUDIT_FIELD_HOST,    AUDIT_FIELD_RULE,
	    AUDIT_FIELD_REASON, AUDIT_FIELD_EXE,     AUDIT_FIELD_PID};
	const char *const *v = f->value;
	size_t i;

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (v[required[i]] == NULL) {
			return false; /* a field is missing: truncated or forged */
		}
	}
	if ((v[AUDIT_FIELD_COUNT] != NULL) !=
	    (strcmp(v[AUDIT_FIELD_EVENT], audit_kind_names[AUDIT_SUPPRESSED]) == 0)) {
		return false; /* a count belongs to event=suppressed, and it has one */
	}
	if (v[AUDIT_FIELD_COUNT] != NULL && !is_number(v[AUDIT_FIELD_COUNT])) {
		return false;
	}
	return is_one_of(v[AUDIT_FIELD_EVENT], audit_kind_names, AUDIT_NKINDS) &&
	       is_one_of(v[AUDIT_FIELD_VERDICT], audit_verdict_names, AUDIT_NVERDICTS) &&
	       is_one_of(v[AUDIT_FIELD_DIR], dirs, 2) &&
	       (v[AUDIT_FIELD_PROTO] == NULL || is_one_of(v[AUDIT_FIELD_PROTO], protos, 2)) &&
	       is_peer(v[AUDIT_FIELD_PEER]) && is_word(v[AUDIT_FIELD_REASON]) &&
	       is_number(v[AUDIT_FIELD_PID]) &&
	       (is_number(v[AUDIT_FIELD_RULE]) || strcmp(v[AUDIT_FIELD_RULE], "default") == 0);
}

int audit_parse_body(const char *body, size_t len, char *scratch, struct audit_fields *f)
{
	struct cursor c = {body, body + len};
	size_t i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)body[i];
		if (ch < 0x20 || ch == 0x7f) {
			return -1; /* the writer escapes these */
		}
	}
	if (!parse_fields(&c, scratch, f) || !valid_fields(f)) {
		memset(f, 0, sizeof(*f));
		return -1;
	}
	return 0;
}
