/*
 * The priority strings of the shim (priority_str.h).
 */
#include <stdio.h>

#include "priority_str.h"

/* Below TLS 1.2 (RFC 8996 deprecates TLS 1.0 and 1.1, and DTLS 1.0 with
 * them); DTLS 0.9 is GnuTLS's name for the pre-standard OpenSSL DTLS. */
#define BELOW_TLS12 "-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1:-VERS-DTLS0.9:-VERS-DTLS1.0"
#define BELOW_TLS13 BELOW_TLS12 ":-VERS-TLS1.2:-VERS-DTLS1.2"
/* gnutls_priority_init(3): the certificate verification profile and the
 * minimum key exchange parameters; 112-bit security. */
#define PROFILE "%PROFILE_MEDIUM"

int gtls_priority_compose(const char *prog, enum policy_tls_version floor, bool with_floor,
                          char *out, size_t len)
{
	bool tls13 = floor == POLICY_TLS_1_3;
	const char *below = tls13 ? BELOW_TLS13 : BELOW_TLS12;
	const char *add = !with_floor ? "" : tls13 ? ":+VERS-TLS1.3" : ":+VERS-TLS1.2";
	bool have_prog = prog != NULL && prog[0] != '\0';
	int n;

	if (len == 0) {
		return -1;
	}
	n = snprintf(out, len, "%s%s%s:%s%s", have_prog ? prog : "", have_prog ? ":" : "", below,
	             PROFILE, add);
	if (n < 0 || (size_t)n >= len) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}
