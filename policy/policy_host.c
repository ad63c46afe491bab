/* Host names as written in `to` and `server_name`. */
#include <stdio.h>
#include <string.h>

#include "policy_internal.h"

static bool host_char_ok(char c)
{
	/* RFC 1123 2.1 letters, digits, hyphen; underscore appears in real DNS
	 * names (RFC 2782 service labels) and is harmless for matching. */
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static int host_check_label(const char *label, size_t len, char *why, size_t whylen)
{
	size_t i;

	if (len == 0) {
		snprintf(why, whylen, "empty label");
		return -1;
	}
	if (len > 63) {
		snprintf(why, whylen, "label longer than 63 characters");
		return -1;
	}
	if (label[0] == '-' || label[len - 1] == '-') {
		snprintf(why, whylen, "label starts or ends with '-'");
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (!host_char_ok(label[i])) {
			if ((unsigned char)label[i] >= 0x21 && (unsigned char)label[i] < 0x7f)
				snprintf(why, whylen, "character '%c' is not allowed", label[i]);
			else
				snprintf(why, whylen, "byte 0x%02x is not allowed",
				         (unsigned char)label[i]);
			return -1;
		}
	}
	return 0;
}

int policy_host_normalise(const char *text, char *out, char *why, size_t whylen)
{
	size_t len = strlen(text);
	size_t i, start, last = 0;
	bool numeric = true;

	if (len > 0 && text[len - 1] == '.')
		len--;
	if (len == 0) {
		snprintf(why, whylen, "empty host name");
		return -1;
	}
	if (len > POLICY_HOST_MAX) {
		snprintf(why, whylen, "host name longer than %d characters", POLICY_HOST_MAX);
		return -1;
	}
	for (i = 0; i < len; i++)
		out[i] = policy_ascii_lower(text[i]);
	out[len] = '\0';
	start = 0;
	for (i = 0; i <= len; i++) {
		if (i < len && out[i] != '.')
			continue;
		if (host_check_label(out + start, i - start, why, whylen) != 0)
			return -1;
		last = start;
		start = i + 1;
	}
	/* RFC 3696 2: a top-level label is never all-numeric, so "10.0.0.300" is a
	 * mistyped address, not a name. */
	for (i = last; i < len; i++)
		numeric = numeric && out[i] >= '0' && out[i] <= '9';
	if (numeric) {
		snprintf(why, whylen, "neither an IP address nor a host name");
		return -1;
	}
	return 0;
}
