/*
 * The library-neutral decisions about a peer (peer.h).
 */
#include <stdio.h>
#include <string.h>

#include "peer.h"

bool tls_name_is_ip(const char *name)
{
	struct policy_addr a;

	return name != NULL && policy_addr_parse(&a, name) == 0;
}

void tls_choose_name(const struct policy_tls *tls, const char *resolved, const char *sni,
                     const struct policy_addr *peer, char *out, size_t len)
{
	const char *name = "";
	char ip[64];

	if (tls->server_name != NULL) {
		name = tls->server_name;
	} else if (resolved != NULL && resolved[0] != '\0') {
		name = resolved;
	} else if (sni != NULL && sni[0] != '\0') {
		name = sni;
	} else if (peer != NULL && policy_addr_format(peer, ip, sizeof(ip)) != NULL) {
		name = ip;
	}
	snprintf(out, len, "%s", name);
}

bool tls_pin_match(const struct policy_tls *tls, const uint8_t digest[POLICY_PIN_LEN])
{
	size_t i;

	for (i = 0; i < tls->npins; i++) {
		if (memcmp(tls->pins[i], digest, POLICY_PIN_LEN) == 0) {
			return true;
		}
	}
	return false;
}
