/*
 * Name resolution, the hostent family (gethostbyname(3) and
 * gethostbyaddr(3), their 2 and _r forms): the real call when the policy lets
 * DNS through, hosts(5) only when it does not (dns_decide.c); the names the
 * program resolved are remembered for the connections that follow
 * (core/names.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/names.h"
#include "dns_internal.h"
#include "shim.h"

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

/* What hostent_files_only returns, besides 0 and an errno value, when the
 * lookup is not its to answer: the real resolver is asked (also the value a
 * caller starts from when the policy lets DNS through). */
enum { ASK_RESOLVER = -1 };

/* hosts(5) for the _r calls (the _r convention: 0 or an errno value, *result
 * NULL on a miss), or ASK_RESOLVER. */
static int hostent_files_only(const char *name, const struct policy_addr *by_addr, int af,
                              struct hostent *ret, char *buf, size_t buflen,
                              struct hostent **result, int *h_errnop)
{
	struct hosts_answer ans;
	int rc;

	*result = NULL;
	if (hosts_lookup(name, by_addr, af, &ans) < 0) {
		if (!dns_report(name)) {
			return ASK_RESOLVER; /* audit mode: the query goes out */
		}
		*h_errnop = NO_RECOVERY;
		return EACCES;
	}
	rc = hostent_fill(ret, buf, buflen, &ans, af);
	if (rc != 0) {
		*h_errnop = NETDB_INTERNAL;
		return rc;
	}
	*result = ret;
	*h_errnop = NETDB_SUCCESS;
	return 0;
}

static int dns_gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf,
                                size_t buflen, struct hostent **result, int *h_errnop)
{
	const struct real_fns *f = dns_real();
	int rc = ASK_RESOLVER;

	if (f == NULL) {
		*result = NULL;
		*h_errnop = NETDB_INTERNAL;
		return EACCES;
	}
	if (name != NULL && (af == AF_INET || af == AF_INET6) &&
	    dns_decide(NULL) == DNS_FILES_ONLY) {
		rc = hostent_files_only(name, NULL, af, ret, buf, buflen, result, h_errnop);
	}
	if (rc == ASK_RESOLVER) {
		rc = f->gethostbyname2_r(name, af, ret, buf, buflen, result, h_errnop);
	}
	if (rc == 0 && *result != NULL) {
		record_hostent(*result, name);
	}
	return rc;
}

SHIM_EXPORT int gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf,
                                 size_t buflen, struct hostent **result, int *h_errnop)
{
	return dns_gethostbyname2_r(name, af, ret, buf, buflen, result, h_errnop);
}

SHIM_EXPORT int gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen,
                                struct hostent **result, int *h_errnop)
{
	return dns_gethostbyname2_r(name, AF_INET, ret, buf, buflen, result, h_errnop);
}

/* The non-reentrant forms: one answer per thread, as glibc's static one is
 * per process. On the heap, made by the thread's first such call and freed
 * when the thread exits: 4 KiB of static TLS would be zeroed by the loader,
 * a page fault, in every process and every thread. */
struct static_answer {
	struct hostent he;
	char buf[4096];
};
static SHIM_THREAD struct static_answer *static_answer;
static pthread_key_t static_answer_key;
static pthread_once_t static_answer_once = PTHREAD_ONCE_INIT;
static bool static_answer_keyed;

/* Not free itself: its address would be bound at start-up in every process. */
static void static_answer_free(void *ans)
{
	free(ans);
}

static void static_answer_key_make(void)
{
	static_answer_keyed = pthread_key_create(&static_answer_key, static_answer_free) == 0;
}

/* This thread's answer, or NULL (out of memory: h_errno and errno set). */
static struct static_answer *thread_answer(void)
{
	struct static_answer *ans = static_answer;

	if (ans != NULL) {
		return ans;
	}
	pthread_once(&static_answer_once, static_answer_key_make);
	if (!static_answer_keyed || (ans = calloc(1, sizeof(*ans))) == NULL) {
		h_errno = NETDB_INTERNAL;
		errno = ENOMEM;
		return NULL;
	}
	if (pthread_setspecific(static_answer_key, ans) != 0) {
		free(ans);
		h_errno = NETDB_INTERNAL;
		errno = ENOMEM;
		return NULL;
	}
	static_answer = ans;
	return ans;
}

static struct hostent *dns_gethostbyname2(const char *name, int af, bool inet_only)
{
	struct static_answer *ans;
	struct hostent *result = NULL;
	int herr = 0, rc = ASK_RESOLVER;

	if (name != NULL && (af == AF_INET || af == AF_INET6) &&
	    dns_decide(NULL) == DNS_FILES_ONLY) {
		if ((ans = thread_answer()) == NULL) {
			return NULL;
		}
		rc = hostent_files_only(name, NULL, af, &ans->he, ans->buf, sizeof(ans->buf),
		                        &result, &herr);
	}
	if (rc == ASK_RESOLVER) {
		/* Allowed: glibc's own static answer, which grows as needed. */
		result = inet_only ? real()->gethostbyname(name) : real()->gethostbyname2(name, af);
		record_hostent(result, name);
		return result;
	}
	if (rc != 0 || result == NULL) {
		h_errno = herr != 0 ? herr : HOST_NOT_FOUND;
		errno = rc != 0 ? rc : errno;
		return NULL;
	}
	record_hostent(result, name);
	return result;
}

SHIM_EXPORT struct hostent *gethostbyname(const char *name)
{
	return dns_gethostbyname2(name, AF_INET, true);
}

SHIM_EXPORT struct hostent *gethostbyname2(const char *name, int af)
{
	return dns_gethostbyname2(name, af, false);
}

static int dns_gethostbyaddr_r(const void *addr, socklen_t len, int type, struct hostent *ret,
                               char *buf, size_t buflen, struct hostent **result, int *h_errnop)
{
	const struct real_fns *f = dns_real();
	struct policy_addr a;
	int rc = ASK_RESOLVER;

	if (f == NULL) {
		*result = NULL;
		*h_errnop = NETDB_INTERNAL;
		return EACCES;
	}
	if (addr != NULL && (type == AF_INET || type == AF_INET6) &&
	    len == (socklen_t)dns_addr_len(type) && dns_decide(NULL) == DNS_FILES_ONLY) {
		a.family = type;
		memcpy(a.bytes, addr, len);
		rc = hostent_files_only(NULL, &a, type, ret, buf, buflen, result, h_errnop);
	}
	if (rc == ASK_RESOLVER) {
		rc = f->gethostbyaddr_r(addr, len, type, ret, buf, buflen, result, h_errnop);
	}
	return rc;
}

SHIM_EXPORT int gethostbyaddr_r(const void *addr, socklen_t len, int type, struct hostent *ret,
                                char *buf, size_t buflen, struct hostent **result, int *h_errnop)
{
	return dns_gethostbyaddr_r(addr, len, type, ret, buf, buflen, result, h_errnop);
}

static struct hostent *dns_gethostbyaddr(const void *addr, socklen_t len, int type)
{
	const struct real_fns *f = dns_real();
	struct static_answer *ans;
	struct hostent *result = NULL;
	struct policy_addr a;
	int herr = 0, rc = ASK_RESOLVER;

	if (f == NULL) {
		h_errno = NETDB_INTERNAL;
		return NULL;
	}
	if (addr != NULL && (type == AF_INET || type == AF_INET6) &&
	    len == (socklen_t)dns_addr_len(type) && dns_decide(NULL) == DNS_FILES_ONLY) {
		if ((ans = thread_answer()) == NULL) {
			return NULL;
		}
		a.family = type;
		memcpy(a.bytes, addr, len);
		rc = hostent_files_only(NULL, &a, type, &ans->he, ans->buf, sizeof(ans->buf),
		                        &result, &herr);
	}
	if (rc == ASK_RESOLVER) {
		return f->gethostbyaddr(addr, len, type);
	}
	if (rc != 0 || result == NULL) {
		h_errno = herr != 0 ? herr : HOST_NOT_FOUND;
		return NULL;
	}
	return result;
}

SHIM_EXPORT struct hostent *gethostbyaddr(const void *addr, socklen_t len, int type)
{
	return dns_gethostbyaddr(addr, len, type);
}
