/*
 * LD_PRELOAD entries, one at a time (see preload_list.h).
 */
#include "preload_list.h"

static bool is_separator(char c)
{
	return c == ' ' || c == ':'; /* ld.so(8) */
}

bool preload_list_next(const char **cursor, const char **entry, size_t *len)
{
	const char *p = *cursor;
	size_t n = 0;

	if (p == NULL) {
		return false;
	}
	while (is_separator(*p)) {
		p++;
	}
	if (*p == '\0') {
		*cursor = p;
		return false;
	}
	while (p[n] != '\0' && !is_separator(p[n])) {
		n++;
	}
	*entry = p;
	*len = n;
	*cursor = p + n;
	return true;
}
