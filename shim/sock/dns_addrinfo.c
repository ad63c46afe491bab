/*
 * Name resolution, the addrinfo family (getaddrinfo(3), getaddrinfo_a(3),
 * getnameinfo(3)): the real call when the policy lets DNS through, hosts(5)
 * only when it does not (dns_decide.c); the names the program resolved are
 * remembered for the connections that follow (core/names.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/names.h"
#include "dns_internal.h"
#include "shim.h"

static void record_addrinfo(const struct addrinfo *ai, const char *node)
{
	for (; ai != NULL; ai = ai->ai_next) {
		names_record(ai->ai_addr, node);
	}
}

/* ---- getaddrinfo ---- */

/* The answer from hosts(5), built by the real getaddrinfo from each address in
 * numeric form, so that the program's freeaddrinfo frees it as usual. */
static int addrinfo_from_hosts(const struct hosts_answer *ans, const char *service,
                               const struct addrinfo *hints, struct addrinfo **res)
{
	struct addrinfo numeric = {0}, *head = NULL, **tail = &head, *one;
	char text[INET6_ADDRSTRLEN];
	int i, rc = EAI_NONAME;

	if (hints != NULL) {
		numeric = *hints;
	}
	numeric.ai_flags |= AI_NUMERICHOST;
	for (i = 0; i < ans->n; i++) {
		inet_ntop(ans->addr[i].family, ans->addr[i].bytes, text, sizeof(text));
		rc = real()->getaddrinfo(text, service, &numeric, &one);
		if (rc != 0) {
			continue;
		}
		*tail = one;
		while (*tail != NULL) {
			tail = &(*tail)->ai_next;
		}
	}
	if (head == NULL) {
		return rc;
	}
	if ((numeric.ai_flags & AI_CANONNAME) != 0) {
		free(head->ai_canonname);
		head->ai_canonname = strdup(ans->name);
	}
	*res = head;
	return 0;
}

static int getaddrinfo_files_only(const char *node, const char *service,
                                  const struct addrinfo *hints, struct addrinfo **res)
{
	struct hosts_answer ans;
	int af = hints != NULL ? hints->ai_family : AF_UNSPEC;

	if (hosts_lookup(node, NULL, af, &ans) == 0) {
		return addrinfo_from_hosts(&ans, service, hints, res);
	}
	if (!dns_report(node)) {
		return real()->getaddrinfo(node, service, hints, res);
	}
	errno = EACCES;
	return EAI_SYSTEM;
}

static int dns_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                           struct addrinfo **res)
{
	int rc;

	if (node == NULL || (hints != NULL && (hints->ai_flags & AI_NUMERICHOST) != 0) ||
	    dns_decide(NULL) == DNS_QUERY) {
		rc = real()->getaddrinfo(node, service, hints, res);
	} else {
		rc = getaddrinfo_files_only(node, service, hints, res);
	}
	if (rc == 0 && node != NULL && res != NULL) {
		record_addrinfo(*res, node);
	}
	return rc;
}

SHIM_EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                            struct addrinfo **res)
{
	return dns_getaddrinfo(node, service, hints, res);
}

/* The asynchronous form resolves on threads of libc's own, through its
 * internal getaddrinfo: under a refusal it is refused whole. */
static int dns_getaddrinfo_a(int mode, struct gaicb **list, int nitems, struct sigevent *sevp)
{
	const struct real_fns *f = dns_real();

	if (f == NULL) {
		return EAI_SYSTEM;
	}
	if (dns_decide(NULL) == DNS_FILES_ONLY &&
	    dns_report(nitems > 0 && list != NULL && list[0] != NULL ? list[0]->ar_name : NULL)) {
		errno = EACCES;
		return EAI_SYSTEM;
	}
	return f->getaddrinfo_a(mode, list, nitems, sevp);
}

SHIM_EXPORT int getaddrinfo_a(int mode, struct gaicb **list, int nitems, struct sigevent *sevp)
{
	return dns_getaddrinfo_a(mode, list, nitems, sevp);
}

/* ---- getnameinfo ---- */

static int nameinfo_files_only(const struct sockaddr *sa, socklen_t salen, char *host,
                               socklen_t hostlen, char *serv, socklen_t servlen, int flags)
{
	const struct real_fns *f = dns_real();
	struct hosts_answer ans;
	struct policy_addr a;
	uint16_t port;
	int rc;

	if (policy_addr_from_sockaddr(&a, sa, &port) < 0) {
		return f->getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
	}
	if (hosts_lookup(NULL, &a, a.family, &ans) == 0) {
		if (strlen(ans.name) >= hostlen) {
			return EAI_OVERFLOW;
		}
		rc = f->getnameinfo(sa, salen, NULL, 0, serv, servlen, flags);
		if (rc == 0 || serv == NULL || servlen == 0) {
			memcpy(host, ans.name, strlen(ans.name) + 1);
			return 0;
		}
		return rc;
	}
	if (!dns_report(NULL)) {
		return f->getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
	}
	if ((flags & NI_NAMEREQD) != 0) {
		errno = EACCES;
		return EAI_SYSTEM;
	}
	/* As when the resolver finds no name: the numeric form. */
	return f->getnameinfo(sa, salen, host, hostlen, serv, servlen, flags | NI_NUMERICHOST);
}

static int dns_getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host,
                           socklen_t hostlen, char *serv, socklen_t servlen, int flags)
{
	const struct real_fns *f = dns_real();

	if (f == NULL) {
		return EAI_SYSTEM;
	}
	if (sa == NULL || host == NULL || hostlen == 0 || (flags & NI_NUMERICHOST) != 0 ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    dns_decide(NULL) == DNS_QUERY) {
		return f->getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
	}
	return nameinfo_files_only(sa, salen, host, hostlen, serv, servlen, flags);
}

SHIM_EXPORT int getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host,
                            socklen_t hostlen, char *serv, socklen_t servlen, int flags)
{
	return dns_getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
}
