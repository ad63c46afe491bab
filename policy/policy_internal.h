/*
 * Private structures of the policy engine, shared by the policy/ sources only.
 *
 * A loaded policy owns one arena: every string, rule and index table lives in
 * it, so an error path or policy_free() releases everything with one call and
 * the matching functions never allocate.
 */
#ifndef TLSGUARD_POLICY_INTERNAL_H
#define TLSGUARD_POLICY_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "policy.h"

#define POLICY_HOST_MAX 253 /* RFC 1035 2.3.4, without the trailing dot */

/* ---- arena (policy_arena.c) ---- */

struct arena_block;

struct arena {
	struct arena_block *head;
};

void *arena_alloc(struct arena *arena, size_t size); /* zeroed; NULL when out of memory */
void *arena_calloc(struct arena *arena, size_t count, size_t size);
char *arena_strdup(struct arena *arena, const char *text);
void arena_release(struct arena *arena);

/* ---- errors (policy_error.c) ---- */

void policy_set_errorv(struct policy_error *err, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* ---- names (policy_names.c) ---- */

struct policy_name {
	const char *name;
	int value;
};

extern const struct policy_name policy_mode_names[];
extern const struct policy_name policy_action_names[];
extern const struct policy_name policy_proto_names[];
extern const struct policy_name policy_tls_version_names[];
extern const struct policy_name policy_trust_names[];
extern const struct policy_name policy_unmanaged_names[];
extern const struct policy_name policy_starttls_names[]; /* without "none" */
extern const struct policy_name policy_dns_names[];      /* allow | deny */
extern const struct policy_name policy_default_names[];  /* require_tls | allow | deny */
extern const struct policy_name policy_facility_names[];

/* Tables end with a { NULL, 0 } row. */
int policy_name_lookup(const struct policy_name *table, const char *name, int *value);
const char *policy_name_of(const struct policy_name *table, int value);
/* "a, b, c" into buf, for error messages. */
const char *policy_name_list(const struct policy_name *table, char *buf, size_t len);

/* ---- addresses (policy_addr.c) ---- */

int policy_addr_bits(int family); /* 32 or 128 */
void policy_addr_mask(struct policy_addr *out, const struct policy_addr *in, int prefix);
bool policy_net_contains(const struct policy_addr *net, int prefix, const struct policy_addr *addr);
/* "10.0.0.0/8", "fd00::/8" or a bare address (full prefix). On error returns -1
 * and writes the reason into why. */
int policy_net_parse(const char *text, struct policy_addr *net, int *prefix, char *why,
                     size_t whylen);

/* ---- host names (policy_host.c) ---- */

/* Validates a host name and writes it lower-cased without a trailing dot.
 * out must hold POLICY_HOST_MAX + 1 bytes. -1 with a reason in why. */
int policy_host_normalise(const char *text, char *out, char *why, size_t whylen);
/* ASCII only: never the locale's tolower(). */
static inline char policy_ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* ---- PEM files (policy_pem.c) ---- */
enum policy_pem_need {
	POLICY_PEM_CERTIFICATE,
	POLICY_PEM_PRIVATE_KEY, /* unencrypted: the shim has no passphrase */
};
/* Reads fd to the first block of the kind needed. -1 with the reason in why
 * ("holds no PEM certificate (it holds a PRIVATE KEY)"). */
int policy_pem_check(int fd, enum policy_pem_need need, char *why, size_t whylen);

/* ---- pins (policy_pin.c) ---- */

/* Strict RFC 4648 section 4 base64 of exactly POLICY_PIN_LEN bytes. */
int policy_pin_decode(const char *text, uint8_t out[POLICY_PIN_LEN]);
void policy_pin_encode(const uint8_t pin[POLICY_PIN_LEN], char out[64]);

/* ---- compiled rules ---- */

struct port_range {
	uint16_t lo;
	uint16_t hi;
};

enum rule_to {
	RULE_TO_ANY,
	RULE_TO_NET,    /* address or CIDR: net/prefix */
	RULE_TO_HOST,   /* exact host name */
	RULE_TO_SUFFIX, /* "*.suffix": host is the suffix */
};

struct rule {
	struct policy_rule pub;
	enum rule_to to;        /* outbound `to`; inbound: RULE_TO_NET when `from` is set */
	struct policy_addr net; /* RULE_TO_NET, masked */
	int prefix;
	const char *host;                /* RULE_TO_HOST/SUFFIX: lower case, no trailing dot */
	const struct port_range *ports;  /* as written, for printing; nports 0: any port */
	const struct port_range *sorted; /* sorted by lo, for matching */
	size_t nports;
};

/* Open-addressing hash table from a byte key to a run of rule positions, in
 * ascending (file) order. Built once at load time. */
struct ptab_entry {
	uint64_t hash;
	const uint8_t *key;
	uint32_t keylen;
	uint32_t start;
	uint32_t count;
};

struct ptab {
	struct ptab_entry *slots;
	uint32_t mask;
	uint32_t used;
	uint32_t *idx;
};

struct ptab_item {
	const uint8_t *key;
	uint32_t keylen;
	uint32_t rule;
};

uint64_t ptab_hash_init(void);
uint64_t ptab_hash_step(uint64_t hash, uint8_t byte);
uint64_t ptab_hash(const uint8_t *key, size_t len);
int ptab_build(struct arena *arena, struct ptab *tab, const struct ptab_item *items, size_t n);
const struct ptab_entry *ptab_find(const struct ptab *tab, uint64_t hash, const uint8_t *key,
                                   size_t len);

/* IPv4: per prefix length, open addressing on the 32-bit masked address (one
 * multiply, no byte hashing, no memcmp), to a run of rule positions in file
 * order. Built once at load time (policy_net4.c). */
struct net4_slot {
	uint32_t key; /* the masked address, host order */
	uint32_t start;
	uint32_t count; /* 0: an empty slot */
};

struct net4_table {
	uint32_t netmask; /* host order */
	uint32_t shift;   /* 32 - log2(slots): the slot is the top bits of the hash */
	uint32_t slot_mask;
	struct net4_slot *slots;
	uint32_t *idx;
};

struct net4_item {
	uint32_t key;
	uint32_t rule;
};

#define NET4_HASH 0x9e3779b1u /* 2^32 / golden ratio: Fibonacci hashing */

int net4_build(struct arena *arena, struct net4_table *tab, int prefix,
               const struct net4_item *items, size_t n);

/* The slot of addr's network in tab, or NULL. */
static inline const struct net4_slot *net4_find(const struct net4_table *tab, uint32_t addr)
{
	uint32_t key = addr & tab->netmask, i = (key * NET4_HASH) >> tab->shift;
	const struct net4_slot *s;

	for (;; i = (i + 1) & tab->slot_mask) {
		s = &tab->slots[i];
		if (s->count == 0)
			return NULL;
		if (s->key == key)
			return s;
	}
}

/* IPv6: one byte-keyed table per prefix length present in the rules. */
struct net6_index {
	int prefix;
	struct ptab tab;
};

/* Rules indexed by port: single ports in a hash table, the rest (ranges, or no
 * port at all) in a list checked one by one. */
struct port_index {
	struct ptab ports; /* key: a single port, 2 bytes big-endian */
	uint32_t *other;
	size_t nother;
};

struct out_index {
	struct net4_table *nets4;
	size_t nnets4;
	struct net6_index *nets6;
	size_t nnets6;
	struct ptab hosts;     /* key: the name reversed, so suffixes are key prefixes */
	struct ptab suffixes;  /* key: the suffix reversed */
	struct port_index any; /* rules without `to` */
};

struct policy {
	struct arena arena;
	const char *source;
	enum policy_mode mode;
	bool env_override;
	bool inherit;
	struct policy_audit audit;
	struct policy_tls tls;
	enum policy_action out_default;
	enum policy_action dns;
	enum policy_action in_default;
	struct rule *out;
	size_t nout;
	struct rule *in;
	size_t nin;
	struct policy_rule out_default_tcp;
	struct policy_rule out_default_udp;
	struct policy_rule dns_tcp;
	struct policy_rule dns_udp;
	struct policy_rule in_default_rule;
	struct out_index out_tcp;
	struct out_index out_udp;
	struct port_index in_idx;
};

/* ---- parsing (policy_parse.c, policy_rules.c, policy_tls.c) ---- */

struct parse {
	struct policy *policy;
	const char *name;
	struct policy_error *err;
};

int parse_error(struct parse *ps, const config_setting_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A key that is not allowed somewhere, with the reason why. */
struct key_reason {
	const char *key;
	const char *reason;
};

int parse_check_keys(struct parse *ps, const config_setting_t *group, const char *where,
                     const char *const *valid, const struct key_reason *reasons);
int parse_bool(struct parse *ps, const config_setting_t *s, bool *out);
int parse_int(struct parse *ps, const config_setting_t *s, long long *out);
int parse_string(struct parse *ps, const config_setting_t *s, const char **out);
int parse_enum(struct parse *ps, const config_setting_t *s, const struct policy_name *table,
               int *out);
int parse_group(struct parse *ps, const config_setting_t *s);

enum tls_where {
	TLS_TOP,
	TLS_OUT_RULE,
	TLS_IN_RULE,
	TLS_TERMINATE_RULE, /* an inbound terminate_tls rule: also cert_file, key_file */
};

/* Parses a `tls` group over *tls (which holds the inherited values). */
int parse_tls(struct parse *ps, const config_setting_t *group, enum tls_where where,
              struct policy_tls *tls);
int parse_outbound(struct parse *ps, const config_setting_t *group);
int parse_inbound(struct parse *ps, const config_setting_t *group);
int parse_policy(struct parse *ps, const config_t *cfg);

/* ---- compiling and matching (policy_index.c) ---- */

int policy_index_build(struct policy *policy);
bool policy_ports_match(const struct rule *rule, uint16_t port);

/* ---- loading (policy_load.c) ---- */

struct policy *policy_compile(const char *text, size_t len, const char *name,
                              struct policy_error *err);

#endif
