/*
 * Name resolution is only watched, never changed: the shim learns which name the
 * program resolved to which address, for host-name rules and for host-name
 * verification of the TLS connection that follows.
 */
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>

#include "names.h"
#include "real.h"
#include "shim.h"

SHIM_EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                            struct addrinfo **res)
{
	int rc = real()->getaddrinfo(node, service, hints, res);
	const struct addrinfo *ai;

	if (rc != 0 || node == NULL || res == NULL) {
		return rc;
	}
	for (ai = *res; ai != NULL; ai = ai->ai_next) {
		names_record(ai->ai_addr, node);
	}
	return rc;
}

static void record_hostent(const struct hostent *he, const char *name)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	struct sockaddr_in sin = {.sin_family = AF_INET};
	char **addr;

	if (he == NULL || name == NULL || he->h_addr_list == NULL) {
		return;
	}
	for (addr = he->h_addr_list; *addr != NULL; addr++) {
		if (he->h_addrtype == AF_INET && he->h_length == sizeof(sin.sin_addr)) {
			memcpy(&sin.sin_addr, *addr, sizeof(sin.sin_addr));
			names_record((struct sockaddr *)&sin, name);
		} else if (he->h_addrtype == AF_INET6 && he->h_length == sizeof(sin6.sin6_addr)) {
			memcpy(&sin6.sin6_addr, *addr, sizeof(sin6.sin6_addr));
			names_record((struct sockaddr *)&sin6, name);
		}
	}
}

SHIM_EXPORT struct hostent *gethostbyname(const char *name)
{
	struct hostent *he = real()->gethostbyname(name);

	record_hostent(he, name);
	return he;
}

SHIM_EXPORT struct hostent *gethostbyname2(const char *name, int af)
{
	struct hostent *he = real()->gethostbyname2(name, af);

	record_hostent(he, name);
	return he;
}

SHIM_EXPORT int gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen,
                                struct hostent **result, int *h_errnop)
{
	int rc = real()->gethostbyname_r(name, ret, buf, buflen, result, h_errnop);

	if (rc == 0 && result != NULL) {
		record_hostent(*result, name);
	}
	return rc;
}
