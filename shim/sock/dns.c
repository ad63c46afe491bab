/*
 * Name resolution: the shim learns which name the program resolved to which
 * address (for host-name rules and the host-name verification of the TLS
 * connection that follows), and holds DNS to outbound.dns at the API.
 *
 * glibc's stub resolver (res_send) and its NSS dns module open, connect and
 * write their UDP and TCP sockets through libc-internal aliases that never pass
 * the PLT, so the socket wrappers cannot see a query. The resolver's entry
 * points are interposed instead: getaddrinfo, getaddrinfo_a, the gethostbyname
 * and gethostbyaddr families, getnameinfo, and res_query, res_search,
 * res_querydomain, res_send with their res_n* and __res_* names (every one
 * libc.so.6 exports, nm -D). When the policy refuses port 53 (UDP or TCP) to a
 * name server the resolver would use (resolv.conf(5), or the res_state the
 * program passed), no query is made: names and addresses are answered from
 * hosts(5) only, as the "files" source of nsswitch.conf(5) would, and a name
 * that needs DNS fails with one audit event (reason denied). In audit mode the
 * event is recorded and the query goes out.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <dlfcn.h>

#include "core/audit.h"
#include "core/names.h"
#include "bind/real.h"
#include "shim.h"

#define HOSTS_PATH       "/etc/hosts"
#define RESOLV_CONF_PATH "/etc/resolv.conf"
#define DNS_PORT         53
/* resolv.h MAXNS: the resolver uses at most three name servers. */
#define NS_MAX MAXNS
/* Addresses kept for one name from hosts(5), as glibc's files module would
 * return them (it has no fixed limit; 16 is far beyond real hosts files). */
#define HOSTS_ADDRS_MAX 16
#define LINE_MAX_LEN    1024
#define DENIED_DETAIL   "dns query refused by outbound.dns"

/* The resolver functions that only this file interposes, bound once. */
struct dns_real_fns {
	int (*gethostbyname2_r)(const char *, int, struct hostent *, char *, size_t,
	                        struct hostent **, int *);
	struct hostent *(*gethostbyaddr)(const void *, socklen_t, int);
	int (*gethostbyaddr_r)(const void *, socklen_t, int, struct hostent *, char *, size_t,
	                       struct hostent **, int *);
	int (*getnameinfo)(const struct sockaddr *, socklen_t, char *, socklen_t, char *, socklen_t,
	                   int);
	int (*getaddrinfo_a)(int, struct gaicb **, int, struct sigevent *);
	int (*res_query)(const char *, int, int, unsigned char *, int);
	int (*res_search)(const char *, int, int, unsigned char *, int);
	int (*res_querydomain)(const char *, const char *, int, int, unsigned char *, int);
	int (*res_send)(const unsigned char *, int, unsigned char *, int);
	int (*res_nquery)(res_state, const char *, int, int, unsigned char *, int);
	int (*res_nsearch)(res_state, const char *, int, int, unsigned char *, int);
	int (*res_nquerydomain)(res_state, const char *, const char *, int, int, unsigned char *,
	                        int);
	int (*res_nsend)(res_state, const unsigned char *, int, unsigned char *, int);
};

static struct dns_real_fns dns_real_table;
static bool dns_real_broken;
static pthread_once_t dns_real_once = PTHREAD_ONCE_INIT;

static void *dns_bind_one(const char *name)
{
	void *fn = dlsym(RTLD_NEXT, name);

	if (fn == NULL) {
		dns_real_broken = true;
	}
	return fn;
}

#define DNS_BIND(field) (*(void **)&dns_real_table.field = dns_bind_one(#field))

static void dns_bind_all(void)
{
	DNS_BIND(gethostbyname2_r);
	DNS_BIND(gethostbyaddr);
	DNS_BIND(gethostbyaddr_r);
	DNS_BIND(getnameinfo);
	DNS_BIND(getaddrinfo_a);
	DNS_BIND(res_query);
	DNS_BIND(res_search);
	DNS_BIND(res_querydomain);
	DNS_BIND(res_send);
	DNS_BIND(res_nquery);
	DNS_BIND(res_nsearch);
	DNS_BIND(res_nquerydomain);
	DNS_BIND(res_nsend);
}

/* The table, or NULL when a name could not be bound (the caller fails). */
static const struct dns_real_fns *dns_real(void)
{
	pthread_once(&dns_real_once, dns_bind_all);
	return dns_real_broken ? NULL : &dns_real_table;
}

/* ---- The decision ---- */

/* What a lookup may do. */
enum dns_verdict {
	DNS_QUERY,      /* allowed (or audit mode, event recorded): the real call */
	DNS_FILES_ONLY, /* refused: hosts(5) only, and an event if DNS was needed */
};

/* The name servers the resolver would ask: statp's when the program set one
 * up, else resolv.conf(5)'s "nameserver" lines, else the resolver's default,
 * the loopback address (resolv.conf(5)). */
struct dns_servers {
	struct policy_addr addr[NS_MAX];
	int n;
};

/* Calls fn on every line of a text file, read with the real read (the shim
 * interposes read) in chunks on the stack: no static buffer, no lock, no
 * limit on the file's size. A line longer than LINE_MAX_LEN is cut there.
 * -1 when the file cannot be opened. */
static int for_each_line(const char *path, void (*fn)(char *line, void *ctx), void *ctx)
{
	char buf[LINE_MAX_LEN + 1];
	size_t have = 0, start, i;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		return -1;
	}
	for (;;) {
		n = real()->read(fd, buf + have, LINE_MAX_LEN - have);
		if (n <= 0) {
			break;
		}
		have += (size_t)n;
		for (start = 0, i = 0; i < have; i++) {
			if (buf[i] == '\n') {
				buf[i] = '\0';
				fn(buf + start, ctx);
				start = i + 1;
			}
		}
		if (start == 0 && have == LINE_MAX_LEN) {
			buf[have] = '\0';
			fn(buf, ctx); /* an overlong line: its head */
			have = 0;
			continue;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
	}
	real()->close(fd);
	if (have > 0) {
		buf[have] = '\0';
		fn(buf, ctx);
	}
	return 0;
}

static int parse_addr(const char *text, struct policy_addr *out)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, text, &a4) == 1) {
		out->family = AF_INET;
		memcpy(out->bytes, &a4, sizeof(a4));
		return 0;
	}
	if (inet_pton(AF_INET6, text, &a6) == 1) {
		out->family = AF_INET6;
		memcpy(out->bytes, &a6, sizeof(a6));
		return 0;
	}
	return -1;
}

/* One line of resolv.conf(5): "nameserver ADDRESS". */
static void resolv_conf_line(char *line, void *ctx)
{
	struct dns_servers *ns = ctx;
	char *save = NULL, *word = strtok_r(line, " \t\r", &save);

	if (ns->n >= NS_MAX || word == NULL || strcmp(word, "nameserver") != 0) {
		return;
	}
	word = strtok_r(NULL, " \t\r%", &save); /* an IPv6 %scope goes */
	if (word != NULL && parse_addr(word, &ns->addr[ns->n]) == 0) {
		ns->n++;
	}
}

static void dns_servers_of(res_state statp, struct dns_servers *ns)
{
	int i;

	ns->n = 0;
	if (statp != NULL && (statp->options & RES_INIT) != 0) {
		for (i = 0; i < statp->nscount && i < NS_MAX; i++) {
			if (statp->nsaddr_list[i].sin_family == AF_INET) {
				ns->addr[ns->n].family = AF_INET;
				memcpy(ns->addr[ns->n].bytes, &statp->nsaddr_list[i].sin_addr, 4);
				ns->n++;
			}
		}
	}
	if (ns->n == 0) {
		for_each_line(RESOLV_CONF_PATH, resolv_conf_line, ns);
	}
	if (ns->n == 0) {
		ns->addr[0].family = AF_INET;
		memcpy(ns->addr[0].bytes, (const uint8_t[]){127, 0, 0, 1}, 4);
		ns->n = 1;
	}
}

/* A refused query: what the event names. */
struct dns_refusal {
	struct policy_addr server;
	int rule;
	enum policy_proto proto;
};

/* Whether the policy lets port 53 through to every server, UDP and TCP (the
 * resolver retries over TCP): the socket layer's own rules for a program that
 * sent its queries itself. */
static bool dns_denied(const struct policy *policy, const struct dns_servers *ns,
                       struct dns_refusal *why)
{
	static const enum policy_proto protos[] = {POLICY_PROTO_UDP, POLICY_PROTO_TCP};
	const struct policy_rule *rule;
	int i, p;

	for (i = 0; i < ns->n; i++) {
		for (p = 0; p < 2; p++) {
			rule = policy_match_out(policy, &ns->addr[i], DNS_PORT, protos[p], NULL);
			if (rule->action != POLICY_ACTION_ALLOW) {
				why->server = ns->addr[i];
				why->rule = rule->index;
				why->proto = protos[p];
				return true;
			}
		}
	}
	return false;
}

/* Per thread: the refusal found by the last dns_decide, for dns_report. */
static SHIM_THREAD struct dns_refusal last_refusal;
static SHIM_THREAD bool last_no_policy;

/* The verdict for a lookup that may need DNS; statp: the program's resolver
 * state, or NULL. */
static enum dns_verdict dns_decide(res_state statp)
{
	const struct policy *policy;
	struct dns_servers ns;

	if (shim_busy) {
		return DNS_QUERY; /* the shim's own lookups */
	}
	policy = shim_policy();
	last_no_policy = policy == NULL;
	if (policy == NULL) {
		return DNS_FILES_ONLY; /* fail closed: no network at all */
	}
	if (shim_mode() == POLICY_MODE_OFF) {
		return DNS_QUERY;
	}
	dns_servers_of(statp, &ns);
	if (!dns_denied(policy, &ns, &last_refusal)) {
		return DNS_QUERY;
	}
	return DNS_FILES_ONLY;
}

/* The event of a query the policy refuses (name: what was asked, or NULL).
 * Returns true when the query must not go out (enforce mode). */
static bool dns_report(const char *name)
{
	int saved = errno;
	struct audit_event ev = {
	    .kind = last_no_policy ? AUDIT_POLICY : AUDIT_CONNECT,
	    .verdict = AUDIT_VERDICT_BLOCK,
	    .peer = last_no_policy ? NULL : &last_refusal.server,
	    .port = DNS_PORT,
	    .proto = last_refusal.proto,
	    .host = name,
	    .rule = last_no_policy ? POLICY_RULE_DEFAULT : last_refusal.rule,
	    .reason = last_no_policy ? "policy_error" : "denied",
	    .detail = last_no_policy ? shim_policy_error() : DENIED_DETAIL,
	};
	bool refuse = last_no_policy || shim_mode() == POLICY_MODE_ENFORCE;

	if (!refuse) {
		ev.verdict = AUDIT_VERDICT_AUDIT;
	}
	audit_emit(&ev);
	errno = saved;
	return refuse;
}

/* ---- hosts(5) ---- */

struct hosts_answer {
	char name[NI_MAXHOST]; /* the entry's canonical name */
	struct policy_addr addr[HOSTS_ADDRS_MAX];
	int n;
};

/* What hosts_line looks for. */
struct hosts_query {
	const char *name;                  /* a name, or NULL */
	const struct policy_addr *by_addr; /* or an address */
	int af;                            /* AF_UNSPEC: both families */
	struct hosts_answer *ans;
};

/* One line of hosts(5): address, canonical name, aliases. Adds the address
 * when the name or the address matches. */
static void hosts_line(char *line, void *ctx)
{
	const struct hosts_query *q = ctx;
	const char *name = q->name;
	const struct policy_addr *by_addr = q->by_addr;
	struct hosts_answer *ans = q->ans;
	int af = q->af;
	struct policy_addr addr;
	char *save = NULL, *word, *canon;
	bool match = false;

	if ((word = strchr(line, '#')) != NULL) {
		*word = '\0';
	}
	word = strtok_r(line, " \t\r", &save);
	if (word == NULL || parse_addr(word, &addr) < 0 || (af != AF_UNSPEC && addr.family != af)) {
		return;
	}
	canon = strtok_r(NULL, " \t\r", &save);
	if (canon == NULL) {
		return;
	}
	if (by_addr != NULL) {
		match = addr.family == by_addr->family &&
		        memcmp(addr.bytes, by_addr->bytes, addr.family == AF_INET ? 4 : 16) == 0;
	}
	for (word = canon; !match && name != NULL && word != NULL;
	     word = strtok_r(NULL, " \t\r", &save)) {
		match = strcasecmp(word, name) == 0;
	}
	if (!match || ans->n >= HOSTS_ADDRS_MAX || (by_addr != NULL && ans->n > 0)) {
		return;
	}
	if (ans->n == 0) {
		snprintf(ans->name, sizeof(ans->name), "%s", canon);
	}
	ans->addr[ans->n++] = addr;
}

/* Looks name (or the address by_addr) up in hosts(5) for family af
 * (AF_UNSPEC: both). A numeric name is its own answer. 0 when found. */
static int hosts_lookup(const char *name, const struct policy_addr *by_addr, int af,
                        struct hosts_answer *ans)
{
	struct hosts_query q = {.name = name, .by_addr = by_addr, .af = af, .ans = ans};

	memset(ans, 0, sizeof(*ans));
	if (name != NULL && parse_addr(name, &ans->addr[0]) == 0) {
		if (af != AF_UNSPEC && ans->addr[0].family != af) {
			return -1;
		}
		snprintf(ans->name, sizeof(ans->name), "%s", name);
		ans->n = 1;
		return 0;
	}
	for_each_line(HOSTS_PATH, hosts_line, &q);
	return ans->n > 0 ? 0 : -1;
}

static size_t addr_len(int af)
{
	return af == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
}

/* Lays a struct hostent for ans out in buf (the _r calling convention):
 * 0, or ERANGE when buf is too small. */
static int hostent_fill(struct hostent *he, char *buf, size_t buflen,
                        const struct hosts_answer *ans, int af)
{
	size_t name_len = strlen(ans->name) + 1, alen = addr_len(af), need;
	char **list;
	char *p;
	int i, n = 0;

	for (i = 0; i < ans->n; i++) {
		n += ans->addr[i].family == af;
	}
	need = sizeof(char *) * ((size_t)n + 2) + alen * (size_t)n + name_len + sizeof(char *);
	if (buflen < need) {
		return ERANGE;
	}
	list = (char **)(void *)(buf + (-(uintptr_t)buf & (sizeof(char *) - 1)));
	if ((char *)list + need > buf + buflen) {
		return ERANGE;
	}
	p = (char *)(list + n + 2);
	he->h_aliases = list + n + 1; /* an empty alias list */
	he->h_aliases[0] = NULL;
	he->h_addr_list = list;
	for (n = 0, i = 0; i < ans->n; i++) {
		if (ans->addr[i].family == af) {
			memcpy(p, ans->addr[i].bytes, alen);
			list[n++] = p;
			p += alen;
		}
	}
	list[n] = NULL;
	memcpy(p, ans->name, name_len);
	he->h_name = p;
	he->h_addrtype = af;
	he->h_length = (int)alen;
	return 0;
}

/* ---- What the program learns from a lookup ---- */

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
	const struct dns_real_fns *f = dns_real();

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

/* ---- gethostbyname, gethostbyaddr ---- */

/* hosts(5) for the _r calls; ret is NULL-terminated on a miss. */
static int hostent_files_only(const char *name, const struct policy_addr *by_addr, int af,
                              struct hostent *ret, char *buf, size_t buflen,
                              struct hostent **result, int *h_errnop)
{
	struct hosts_answer ans;
	int rc;

	*result = NULL;
	if (hosts_lookup(name, by_addr, af, &ans) < 0) {
		if (!dns_report(name)) {
			return -1; /* audit mode: the caller asks the real resolver */
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
	const struct dns_real_fns *f = dns_real();
	int rc = -1;

	if (f == NULL) {
		*result = NULL;
		*h_errnop = NETDB_INTERNAL;
		return EACCES;
	}
	if (name != NULL && (af == AF_INET || af == AF_INET6) &&
	    dns_decide(NULL) == DNS_FILES_ONLY) {
		rc = hostent_files_only(name, NULL, af, ret, buf, buflen, result, h_errnop);
	}
	if (rc < 0) {
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
 * per process. */
static SHIM_THREAD struct hostent static_he;
static SHIM_THREAD char static_buf[4096];

static struct hostent *dns_gethostbyname2(const char *name, int af, bool inet_only)
{
	struct hostent *result = NULL;
	int herr = 0, rc = -1;

	if (name != NULL && (af == AF_INET || af == AF_INET6) &&
	    dns_decide(NULL) == DNS_FILES_ONLY) {
		rc = hostent_files_only(name, NULL, af, &static_he, static_buf, sizeof(static_buf),
		                        &result, &herr);
	}
	if (rc < 0) {
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
	const struct dns_real_fns *f = dns_real();
	struct policy_addr a;
	int rc = -1;

	if (f == NULL) {
		*result = NULL;
		*h_errnop = NETDB_INTERNAL;
		return EACCES;
	}
	if (addr != NULL && (type == AF_INET || type == AF_INET6) &&
	    len == (socklen_t)addr_len(type) && dns_decide(NULL) == DNS_FILES_ONLY) {
		a.family = type;
		memcpy(a.bytes, addr, len);
		rc = hostent_files_only(NULL, &a, type, ret, buf, buflen, result, h_errnop);
	}
	if (rc < 0) {
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
	const struct dns_real_fns *f = dns_real();
	struct hostent *result = NULL;
	struct policy_addr a;
	int herr = 0, rc = -1;

	if (f == NULL) {
		h_errno = NETDB_INTERNAL;
		return NULL;
	}
	if (addr != NULL && (type == AF_INET || type == AF_INET6) &&
	    len == (socklen_t)addr_len(type) && dns_decide(NULL) == DNS_FILES_ONLY) {
		a.family = type;
		memcpy(a.bytes, addr, len);
		rc = hostent_files_only(NULL, &a, type, &static_he, static_buf, sizeof(static_buf),
		                        &result, &herr);
	}
	if (rc < 0) {
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

/* ---- getnameinfo ---- */

static int nameinfo_files_only(const struct sockaddr *sa, socklen_t salen, char *host,
                               socklen_t hostlen, char *serv, socklen_t servlen, int flags)
{
	const struct dns_real_fns *f = dns_real();
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
	const struct dns_real_fns *f = dns_real();

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

/* ---- res_* ---- */

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
	const struct dns_real_fns *f = dns_real();

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
	const struct dns_real_fns *f = dns_real();

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
	const struct dns_real_fns *f = dns_real();

	if (f == NULL || res_refused(statp, NULL)) {
		errno = EACCES;
		return -1;
	}
	return statp != NULL ? f->res_nsend(statp, msg, msglen, answer, anslen)
	                     : f->res_send(msg, msglen, answer, anslen);
}

SHIM_EXPORT int res_query(const char *dname, int class, int type, unsigned char *answer, int anslen)
{
	return dns_res_query(NULL, dname, class, type, answer, anslen, false);
}

SHIM_EXPORT int __res_query(const char *dname, int class, int type, unsigned char *answer,
                            int anslen)
{
	return dns_res_query(NULL, dname, class, type, answer, anslen, false);
}

SHIM_EXPORT int res_search(const char *dname, int class, int type, unsigned char *answer,
                           int anslen)
{
	return dns_res_query(NULL, dname, class, type, answer, anslen, true);
}

SHIM_EXPORT int __res_search(const char *dname, int class, int type, unsigned char *answer,
                             int anslen)
{
	return dns_res_query(NULL, dname, class, type, answer, anslen, true);
}

SHIM_EXPORT int res_nquery(res_state statp, const char *dname, int class, int type,
                           unsigned char *answer, int anslen)
{
	return dns_res_query(statp, dname, class, type, answer, anslen, false);
}

SHIM_EXPORT int __res_nquery(res_state statp, const char *dname, int class, int type,
                             unsigned char *answer, int anslen)
{
	return dns_res_query(statp, dname, class, type, answer, anslen, false);
}

SHIM_EXPORT int res_nsearch(res_state statp, const char *dname, int class, int type,
                            unsigned char *answer, int anslen)
{
	return dns_res_query(statp, dname, class, type, answer, anslen, true);
}

SHIM_EXPORT int __res_nsearch(res_state statp, const char *dname, int class, int type,
                              unsigned char *answer, int anslen)
{
	return dns_res_query(statp, dname, class, type, answer, anslen, true);
}

SHIM_EXPORT int res_querydomain(const char *name, const char *domain, int class, int type,
                                unsigned char *answer, int anslen)
{
	return dns_res_querydomain(NULL, name, domain, class, type, answer, anslen);
}

SHIM_EXPORT int __res_querydomain(const char *name, const char *domain, int class, int type,
                                  unsigned char *answer, int anslen)
{
	return dns_res_querydomain(NULL, name, domain, class, type, answer, anslen);
}

SHIM_EXPORT int res_nquerydomain(res_state statp, const char *name, const char *domain, int class,
                                 int type, unsigned char *answer, int anslen)
{
	return dns_res_querydomain(statp, name, domain, class, type, answer, anslen);
}

SHIM_EXPORT int __res_nquerydomain(res_state statp, const char *name, const char *domain, int class,
                                   int type, unsigned char *answer, int anslen)
{
	return dns_res_querydomain(statp, name, domain, class, type, answer, anslen);
}

SHIM_EXPORT int res_send(const unsigned char *msg, int msglen, unsigned char *answer, int anslen)
{
	return dns_res_send(NULL, msg, msglen, answer, anslen);
}

SHIM_EXPORT int __res_send(const unsigned char *msg, int msglen, unsigned char *answer, int anslen)
{
	return dns_res_send(NULL, msg, msglen, answer, anslen);
}

SHIM_EXPORT int res_nsend(res_state statp, const unsigned char *msg, int msglen,
                          unsigned char *answer, int anslen)
{
	return dns_res_send(statp, msg, msglen, answer, anslen);
}

SHIM_EXPORT int __res_nsend(res_state statp, const unsigned char *msg, int msglen,
                            unsigned char *answer, int anslen)
{
	return dns_res_send(statp, msg, msglen, answer, anslen);
}
