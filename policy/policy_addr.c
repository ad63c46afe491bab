/* IP addresses and CIDR networks. IPv4-mapped IPv6 is always stored as IPv4. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "policy_internal.h"

/* RFC 4291 2.5.5.2: ::ffff:a.b.c.d is the IPv4 address a.b.c.d. */
static bool addr_is_v4_mapped(const uint8_t bytes[16])
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return memcmp(bytes, prefix, sizeof(prefix)) == 0;
}

static void addr_set_v6(struct policy_addr *out, const uint8_t bytes[16])
{
	memset(out, 0, sizeof(*out));
	if (addr_is_v4_mapped(bytes)) {
		out->family = AF_INET;
		memcpy(out->bytes, bytes + 12, 4);
		return;
	}
	out->family = AF_INET6;
	memcpy(out->bytes, bytes, 16);
}

int policy_addr_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

void policy_addr_from_sin6(struct policy_addr *out, const struct sockaddr_in6 *sin6)
{
	addr_set_v6(out, sin6->sin6_addr.s6_addr);
}

int policy_addr_parse(struct policy_addr *out, const char *text)
{
	uint8_t bytes[16];

	if (text == NULL)
		return -1;
	if (inet_pton(AF_INET, text, bytes) == 1) {
		memset(out, 0, sizeof(*out));
		out->family = AF_INET;
		memcpy(out->bytes, bytes, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, text, bytes) == 1) {
		addr_set_v6(out, bytes);
		return 0;
	}
	return -1;
}

const char *policy_addr_format(const struct policy_addr *addr, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	if (inet_ntop(addr->family, addr->bytes, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

void policy_addr_mask(struct policy_addr *out, const struct policy_addr *in, int prefix)
{
	int full = prefix / 8;
	int rest = prefix % 8;

	memset(out, 0, sizeof(*out));
	out->family = in->family;
	memcpy(out->bytes, in->bytes, (size_t)full);
	if (rest != 0)
		out->bytes[full] = (uint8_t)(in->bytes[full] & (0xff << (8 - rest)));
}

bool policy_net_contains(const struct policy_addr *net, int prefix, const struct policy_addr *addr)
{
	int full = prefix / 8;
	int rest = prefix % 8;
	uint8_t mask;

	if (net->family != addr->family)
		return false;
	if (memcmp(net->bytes, addr->bytes, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return (net->bytes[full] & mask) == (addr->bytes[full] & mask);
}

static int net_parse_prefix(const char *text, int max, int *prefix)
{
	int value = 0;
	size_t i;

	/* Decimal digits only: no sign, no blanks, no "0x" (inet_net_pton(3) would
	 * accept forms an operator does not expect). */
	if (text[0] == '\0' || strlen(text) > 3)
		return -1;
	for (i = 0; text[i] != '\0'; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		value = value * 10 + (text[i] - '0');
	}
	if (value > max)
		return -1;
	*prefix = value;
	return 0;
}

int policy_net_parse(const char *text, struct policy_addr *net, int *prefix, char *why,
                     size_t whylen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	uint8_t bytes[16];
	struct policy_addr addr, masked;
	char buf[INET6_ADDRSTRLEN];
	size_t hostlen;
	int bits;

	if (slash == NULL) {
		if (policy_addr_parse(net, text) != 0) {
			snprintf(why, whylen, "not an IP address");
			return -1;
		}
		*prefix = policy_addr_bits(net->family);
		return 0;
	}
	hostlen = (size_t)(slash - text);
	if (hostlen >= sizeof(host)) {
		snprintf(why, whylen, "not an IP address before '/'");
		return -1;
	}
	memcpy(host, text, hostlen);
	host[hostlen] = '\0';
	memset(&addr, 0, sizeof(addr));
	if (inet_pton(AF_INET, host, bytes) == 1) {
		addr.family = AF_INET;
		memcpy(addr.bytes, bytes, 4);
	} else if (inet_pton(AF_INET6, host, bytes) == 1) {
		addr.family = AF_INET6;
		memcpy(addr.bytes, bytes, 16);
	} else {
		snprintf(why, whylen, "'%s' is not an IP address", host);
		return -1;
	}
	bits = policy_addr_bits(addr.family);
	if (net_parse_prefix(slash + 1, bits, prefix) != 0) {
		snprintf(why, whylen, "prefix length '%s' is not a number from 0 to %d", slash + 1,
		         bits);
		return -1;
	}
	/* ::ffff:10.0.0.0/104 is 10.0.0.0/8: addresses are compared as IPv4. */
	if (addr.family == AF_INET6 && *prefix >= 96 && addr_is_v4_mapped(addr.bytes)) {
		addr_set_v6(&addr, bytes);
		*prefix -= 96;
	}
	policy_addr_mask(&masked, &addr, *prefix);
	if (memcmp(&masked, &addr, sizeof(addr)) != 0) {
		snprintf(why, whylen, "host bits are set (the network is %s/%d)",
		         policy_addr_format(&masked, buf, sizeof(buf)), *prefix);
		return -1;
	}
	*net = masked;
	return 0;
}
