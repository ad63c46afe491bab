/*
 * TLSGUARD_FDS encoding (see fdlist.h). A parent writes it at exec; its child
 * reads it in a constructor, before main, so neither side may depend on
 * anything but the text.
 */
#include <stdio.h>

#include "fdlist.h"

/* "c" + 16 hex digits + ":o" + "," */
#define ENTRY_MAX 20
#define MORE      '*'

size_t fdlist_encode(char *out, size_t len, const struct fdlist_entry *e, size_t n)
{
	size_t used = 0, i;
	int w;

	if (len == 0) {
		return 0;
	}
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		/* room for this entry and, after it, a "," and the marker */
		if (used + ENTRY_MAX + 2 >= len) {
			if (used + 2 < len) {
				snprintf(out + used, len - used, "%s%c", used != 0 ? "," : "",
				         MORE);
			}
			return i;
		}
		w = snprintf(out + used, len - used, "%s%c%llx:%c", used != 0 ? "," : "",
		             (char)e[i].kind, (unsigned long long)e[i].id,
		             e[i].inbound ? 'i' : 'o');
		used += (size_t)w;
	}
	return n;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	return -1;
}

/* One "kHEX:d" at *p; advances *p past it. -1 when malformed. */
static int decode_entry(const char **p, struct fdlist_entry *e)
{
	const char *s = *p;
	uint64_t id = 0;
	int digits = 0, v;

	if (*s != FDLIST_COOKIE && *s != FDLIST_INODE) {
		return -1;
	}
	e->kind = (enum fdlist_kind) * s++;
	for (; (v = hex_value(*s)) >= 0; s++) {
		if (++digits > 16) {
			return -1; /* more than 64 bits */
		}
		id = id << 4 | (uint64_t)v;
	}
	if (digits == 0 || s[0] != ':' || (s[1] != 'o' && s[1] != 'i')) {
		return -1;
	}
	e->id = id;
	e->inbound = s[1] == 'i';
	*p = s + 2;
	return 0;
}

int fdlist_decode(const char *text, struct fdlist_entry *out, size_t max, bool *more)
{
	struct fdlist_entry e;
	const char *p = text;
	size_t n = 0;

	*more = false;
	if (p == NULL || *p == '\0') {
		return 0;
	}
	for (;;) {
		if (p[0] == MORE && p[1] == '\0') {
			*more = true;
			return (int)n;
		}
		if (decode_entry(&p, &e) < 0) {
			return -1;
		}
		if (n < max) {
			out[n++] = e;
		} else {
			*more = true; /* the rest are decided from their addresses */
		}
		if (*p == '\0') {
			return (int)n;
		}
		if (*p++ != ',') {
			return -1;
		}
	}
}

const struct fdlist_entry *fdlist_find(const struct fdlist_entry *e, size_t n,
                                       enum fdlist_kind kind, uint64_t id)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (e[i].kind == kind && e[i].id == id) {
			return &e[i];
		}
	}
	return NULL;
}
