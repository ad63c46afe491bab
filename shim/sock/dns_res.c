/*
 * Name resolution, the raw resolver calls (res_query(3) and its kin, their
 * res_n* forms with the program's res_state, and the __res_* names libc also
 * exports): refused whole when the policy keeps the program from DNS
 * (dns_decide.c), since a raw query has no hosts(5) answer.
 */
#include <errno.h>

#include "dns_internal.h"
#include "shim.h"

/* A raw query the policy refuses: -1 with h_errno (and statp's) NO_RECOVERY
 * and errno EACCES, as res_query(3) fails; false: let it through. */
static bool res_refused(res_state statp, const char *name)
{
	if (dns_decide(statp) == DNS_QUERY || !dns_report(name)) {
		return false;
	}
	if (statp != NULL) {
		statp->res_h_errno = NO_RECOVERY;
	}
	h_errno = NO_RECOVERY;
	errno = EACCES;
	return true;
}

static int dns_res_query(res_state statp, const char *dname, int class, int type,
                         unsigned char *answer, int anslen, bool search)
{
	const struct real_fns *f = dns_real();

	if (f == NULL || res_refused(statp, dname)) {
		errno = EACCES;
		return -1;
	}
	if (statp != NULL) {
		return search ? f->res_nsearch(statp, dname, class, type, answer, anslen)
		              : f->res_nquery(statp, dname, class, type, answer, anslen);
	}
	return search ? f->res_search(dname, class, type, answer, anslen)
	              : f->res_query(dname, class, type, answer, anslen);
}

static int dns_res_querydomain(res_state statp, const char *name, const char *domain, int class,
                               int type, unsigned char *answer, int anslen)
{
	const struct real_fns *f = dns_real();

	if (f == NULL || res_refused(statp, name)) {
		errno = EACCES;
		return -1;
	}
	return statp != NULL ? f->res_nquerydomain(statp, name, domain, class, type, answer, anslen)
	                     : f->res_querydomain(name, domain, class, type, answer, anslen);
}

static int dns_res_send(res_state statp, const unsigned char *msg, int msglen,
                        unsigned char *answer, int anslen)
{
	const struct real_fns *f = dns_real();

	if (f == NULL || res_refused(statp, NULL)) {
		errno = EACCES;
		return -1;
	}
	return statp != NULL ? f->res_nsend(statp, msg, msglen, answer, anslen)
	                     : f->res_send(msg, msglen, answer, anslen);
}

/* Each name has the __res_* alias libc exports beside it (nm -D libc.so.6). */

SHIM_EXPORT int res_query(const char *dname, int class, int type, unsigned char *answer, int anslen)
{
	return dns_res_query(NULL, dname, class, type, answer, anslen, false);
}
SHIM_EXPORT int __res_query(const char *, int, int, unsigned char *, int) __THROW
    __attribute__((alias("res_query")));

SHIM_EXPORT int res_search(const char *dname, int class, int type, unsigned char *answer,
                           int anslen)
{
	return dns_res_query(NULL, dname, class, type, answer, anslen, true);
}
SHIM_EXPORT int __res_search(const char *, int, int, unsigned char *, int) __THROW
    __attribute__((alias("res_search")));

SHIM_EXPORT int res_nquery(res_state statp, const char *dname, int class, int type,
                           unsigned char *answer, int anslen)
{
	return dns_res_query(statp, dname, class, type, answer, anslen, false);
}
SHIM_EXPORT int __res_nquery(res_state, const char *, int, int, unsigned char *, int) __THROW
    __attribute__((alias("res_nquery")));

SHIM_EXPORT int res_nsearch(res_state statp, const char *dname, int class, int type,
                            unsigned char *answer, int anslen)
{
	return dns_res_query(statp, dname, class, type, answer, anslen, true);
}
SHIM_EXPORT int __res_nsearch(res_state, const char *, int, int, unsigned char *, int) __THROW
    __attribute__((alias("res_nsearch")));

SHIM_EXPORT int res_querydomain(const char *name, const char *domain, int class, int type,
                                unsigned char *answer, int anslen)
{
	return dns_res_querydomain(NULL, name, domain, class, type, answer, anslen);
}
SHIM_EXPORT int __res_querydomain(const char *, const char *, int, int, unsigned char *,
                                  int) __THROW __attribute__((alias("res_querydomain")));

SHIM_EXPORT int res_nquerydomain(res_state statp, const char *name, const char *domain, int class,
                                 int type, unsigned char *answer, int anslen)
{
	return dns_res_querydomain(statp, name, domain, class, type, answer, anslen);
}
SHIM_EXPORT int __res_nquerydomain(res_state, const char *, const char *, int, int, unsigned char *,
                                   int) __THROW __attribute__((alias("res_nquerydomain")));

SHIM_EXPORT int res_send(const unsigned char *msg, int msglen, unsigned char *answer, int anslen)
{
	return dns_res_send(NULL, msg, msglen, answer, anslen);
}
SHIM_EXPORT int __res_send(const unsigned char *, int, unsigned char *, int) __THROW
    __attribute__((alias("res_send")));

SHIM_EXPORT int res_nsend(res_state statp, const unsigned char *msg, int msglen,
                          unsigned char *answer, int anslen)
{
	return dns_res_send(statp, msg, msglen, answer, anslen);
}
SHIM_EXPORT int __res_nsend(res_state, const unsigned char *, int, unsigned char *, int) __THROW
    __attribute__((alias("res_nsend")));
