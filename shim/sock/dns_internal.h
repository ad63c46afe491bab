/*
 * What the files of the name-resolution layer share (dns_decide.c: the
 * decision; dns_files.c: resolv.conf(5) and hosts(5); the interposed families
 * in dns_addrinfo.c, dns_hostent.c and dns_res.c). See dns_decide.c for why
 * the resolver's entry points are interposed at all.
 */
#ifndef TLSGUARD_DNS_INTERNAL_H
#define TLSGUARD_DNS_INTERNAL_H

#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stddef.h>

#include "bind/real.h"
#include "policy.h"

#define DNS_PORT 53
/* resolv.h MAXNS: the resolver uses at most three name servers. */
#define DNS_SERVERS_MAX MAXNS
/* Addresses kept for one name from hosts(5), as glibc's files module would
 * return them (it has no fixed limit; 16 is far beyond real hosts files). */
#define HOSTS_ADDRS_MAX 16

/* The real resolver functions, or NULL when one could not be bound (the caller
 * fails: real.h). */
static inline const struct real_fns *dns_real(void)
{
	return real_broken() ? NULL : real();
}

/* ---- the decision (dns_decide.c) ---- */

/* What a lookup may do. */
enum dns_verdict {
	DNS_QUERY,      /* allowed (or audit mode, event recorded): the real call */
	DNS_FILES_ONLY, /* refused: hosts(5) only, and an event if DNS was needed */
};

/* The verdict for a lookup that may need DNS; statp: the program's resolver
 * state, or NULL. */
enum dns_verdict dns_decide(res_state statp);

/* The event of a query the policy refuses (name: what was asked, or NULL),
 * after dns_decide said DNS_FILES_ONLY on this thread. Returns true when the
 * query must not go out (enforce mode). */
bool dns_report(const char *name);

/* ---- the resolver's files (dns_files.c) ---- */

/* The name servers the resolver would ask. */
struct dns_servers {
	struct policy_addr addr[DNS_SERVERS_MAX];
	int n;
};

/* statp's when the program set one up, else resolv.conf(5)'s "nameserver"
 * lines, else the resolver's default, the loopback address (resolv.conf(5)). */
void dns_servers_of(res_state statp, struct dns_servers *ns);

struct hosts_answer {
	char name[NI_MAXHOST]; /* the entry's canonical name */
	struct policy_addr addr[HOSTS_ADDRS_MAX];
	int n;
};

/* Looks name (or the address by_addr) up in hosts(5) for family af
 * (AF_UNSPEC: both). A numeric name is its own answer. 0 when found. */
int hosts_lookup(const char *name, const struct policy_addr *by_addr, int af,
                 struct hosts_answer *ans);

/* Lays a struct hostent for the af addresses of ans out in buf (the _r calling
 * convention): 0, or ERANGE when buf is too small. */
int hostent_fill(struct hostent *he, char *buf, size_t buflen, const struct hosts_answer *ans,
                 int af);

/* The size of an address of family af (AF_INET or AF_INET6). */
static inline size_t dns_addr_len(int af)
{
	return af == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
}

#endif
