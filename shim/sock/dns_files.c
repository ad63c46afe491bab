/*
 * Name resolution, the files the resolver reads: the name servers of
 * resolv.conf(5), and hosts(5), which answers a lookup the policy keeps from
 * DNS as the "files" source of nsswitch.conf(5) would.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dns_internal.h"

#define HOSTS_PATH       "/etc/hosts"
#define RESOLV_CONF_PATH "/etc/resolv.conf"
#define LINE_MAX_LEN     1024

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

	if (ns->n >= DNS_SERVERS_MAX || word == NULL || strcmp(word, "nameserver") != 0) {
		return;
	}
	word = strtok_r(NULL, " \t\r%", &save); /* an IPv6 %scope goes */
	if (word != NULL && parse_addr(word, &ns->addr[ns->n]) == 0) {
		ns->n++;
	}
}

void dns_servers_of(res_state statp, struct dns_servers *ns)
{
	int i;

	ns->n = 0;
	if (statp != NULL && (statp->options & RES_INIT) != 0) {
		for (i = 0; i < statp->nscount && i < DNS_SERVERS_MAX; i++) {
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

/* ---- hosts(5) ---- */

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

int hosts_lookup(const char *name, const struct policy_addr *by_addr, int af,
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

int hostent_fill(struct hostent *he, char *buf, size_t buflen, const struct hosts_answer *ans,
                 int af)
{
	size_t name_len = strlen(ans->name) + 1, alen = dns_addr_len(af), need;
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
