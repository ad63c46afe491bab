/*
 * tlsguard policy engine: libconfig text in, an immutable compiled policy out,
 * and the matching functions. Pure logic: no OpenSSL, no preloading, no global
 * state. Shared by the shim (shim/) and the CLI (tools/).
 *
 * The policy keys and their meaning are documented in man/tlsguard.conf.5.
 */
#ifndef TLSGUARD_POLICY_H
#define TLSGUARD_POLICY_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

struct sockaddr;

#define POLICY_DEFAULT_PATH "/etc/tlsguard/policy.conf"
#define POLICY_ERROR_MAX    1024
#define POLICY_PIN_LEN      32 /* SHA-256 of a SubjectPublicKeyInfo */
#define POLICY_MAX_FILE     (4 * 1024 * 1024)

/* Every failure is described here as "FILE:LINE: message" (or "FILE: message"
 * when no line applies), so the CLI and the shim print the same text. */
struct policy_error {
	char msg[POLICY_ERROR_MAX];
	int sys_errno; /* the errno of a failed system call or library load, else 0:
	                * EMFILE, ENFILE and ENOMEM may pass, the rest will not */
};

void policy_set_error(struct policy_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

enum policy_mode {
	POLICY_MODE_ENFORCE,
	POLICY_MODE_AUDIT,
	POLICY_MODE_OFF,
};

enum policy_action {
	POLICY_ACTION_REQUIRE_TLS,
	POLICY_ACTION_ALLOW,
	POLICY_ACTION_DENY,
	/* outbound, TCP: the program speaks plaintext, the shim speaks TLS for it
	 * (shim/tunnel/); the rule's tls group is what the shim verifies */
	POLICY_ACTION_UPGRADE_TLS,
	/* inbound: the program serves plaintext, the shim serves TLS for it with the
	 * rule's tls.cert_file and tls.key_file */
	POLICY_ACTION_TERMINATE_TLS,
};

/* Whether a rule with this action has TLS requirements (a tls group applies). */
static inline bool policy_action_has_tls(enum policy_action action)
{
	return action == POLICY_ACTION_REQUIRE_TLS || action == POLICY_ACTION_UPGRADE_TLS ||
	       action == POLICY_ACTION_TERMINATE_TLS;
}

/* Whether the shim itself speaks TLS on connections of this action. */
static inline bool policy_action_is_tunnel(enum policy_action action)
{
	return action == POLICY_ACTION_UPGRADE_TLS || action == POLICY_ACTION_TERMINATE_TLS;
}

enum policy_proto {
	POLICY_PROTO_TCP,
	POLICY_PROTO_UDP,
};

enum policy_tls_version {
	POLICY_TLS_1_2,
	POLICY_TLS_1_3,
};

enum policy_trust {
	POLICY_TRUST_POLICY,         /* only the policy's anchors */
	POLICY_TRUST_POLICY_AND_APP, /* also the anchors the program loaded */
};

enum policy_unmanaged {
	POLICY_UNMANAGED_DENY,
	POLICY_UNMANAGED_AUDIT,
	POLICY_UNMANAGED_ALLOW,
};

enum policy_starttls {
	POLICY_STARTTLS_NONE,
	POLICY_STARTTLS_POSTGRES,
};

/* Effective TLS requirements of one rule: the rule's own `tls` group merged over
 * the policy's top-level `tls` group, merged over the built-in defaults. Strings
 * are NULL when unset; they live as long as the policy. */
struct policy_tls {
	enum policy_tls_version min_version;
	const char *ca_file; /* NULL and ca_path NULL: the system store */
	const char *ca_path;
	enum policy_trust trust;
	bool verify_hostname;
	enum policy_unmanaged unmanaged;
	const uint8_t (*pins)[POLICY_PIN_LEN];
	size_t npins;
	const char *client_cert; /* outbound mTLS: presented when the program has none */
	const char *client_key;
	int client_key_line;     /* the policy line that set client_key, for messages */
	const char *server_name; /* outbound: the name the certificate must carry */
	/* outbound: a certificate without subjectAltName may match by its subject
	 * CN (legacy, insecure; the audit marks each use) */
	bool insecure_cn_fallback;
	bool require_client_cert; /* inbound */
	const char *client_ca_file;
	bool external;         /* inbound: server certificate must chain to a public root */
	const char *cert_file; /* inbound terminate_tls: the certificate the shim serves */
	const char *key_file;  /* and its private key */
};

/* What a match returns. index is the rule's 1-based position in its section's
 * `rules` list (what audit events print as rule=N and `explain` shows), or
 * POLICY_RULE_DEFAULT when no rule matched and the section's default (or, for
 * port 53, outbound.dns) applies. line is the policy file line of the rule, 0 for
 * defaults. */
#define POLICY_RULE_DEFAULT 0

struct policy_rule {
	int index;
	int line;
	enum policy_action action;
	enum policy_proto proto;
	enum policy_starttls starttls;
	struct policy_tls tls;
};

struct policy_audit {
	const char *socket; /* datagram socket, default /dev/log */
	int socket_line;    /* the policy line that set it; 0: the default */
	int facility;       /* syslog facility code, already shifted (LOG_AUTHPRIV) */
	bool to_stderr;
	bool log_allowed;
};

/* An IP address in network byte order. IPv4-mapped IPv6 addresses are stored as
 * IPv4 by every constructor, so ::ffff:10.0.0.1 matches 10.0.0.0/8. */
struct policy_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t bytes[16];
};

/* From a sockaddr_in6 (an IPv4-mapped address becomes IPv4). */
void policy_addr_from_sin6(struct policy_addr *out, const struct sockaddr_in6 *sin6);

/* From a sockaddr_in/sockaddr_in6; *port (may be NULL) gets the host-order port.
 * Returns -1 for any other family. Inline: every connect() parses one. */
static inline int policy_addr_from_sockaddr(struct policy_addr *out, const struct sockaddr *sa,
                                            uint16_t *port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;

	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		memset(out, 0, sizeof(*out));
		out->family = AF_INET;
		memcpy(out->bytes, &sin->sin_addr, 4);
		if (port != NULL)
			*port = ntohs(sin->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		policy_addr_from_sin6(out, sin6);
		if (port != NULL)
			*port = ntohs(sin6->sin6_port);
		return 0;
	}
	return -1;
}

/* From "10.0.0.1", "::1", "::ffff:10.0.0.1". Returns -1 if not an address. */
int policy_addr_parse(struct policy_addr *out, const char *text);
/* Text form into buf (INET6_ADDRSTRLEN is enough). */
const char *policy_addr_format(const struct policy_addr *addr, char *buf, size_t len);

struct policy; /* opaque and immutable once loaded */

/* Reads, validates and compiles a policy file. Refuses a file writable by group
 * or others or owned by anyone but root or the effective user. NULL on error,
 * with err filled in. */
struct policy *policy_load_file(const char *path, struct policy_error *err);
/* The checks of policy_load_file (absolute path, regular file, owner, mode,
 * size), on the opened descriptor: the descriptor (O_CLOEXEC, the caller reads
 * and closes it) and in *size the file's size then, or -1 with err filled in
 * (err->sys_errno set when a system call failed). */
int policy_open_file(const char *path, size_t *size, struct policy_error *err);
/* The read(2) and close(2) the policy code makes on the files it opens (the
 * policy, CA and key files): libc's (policy_io.c) in the CLI and the tests;
 * the shim links its own definition (shim/bind/policy_io.c) whose calls go to
 * the real functions, so a load inside a preloaded process never passes
 * through the shim's own wrappers. */
struct policy_io {
	ssize_t (*read)(int fd, void *buf, size_t len);
	int (*close)(int fd);
};
extern const struct policy_io policy_io_calls;
/* The same for text in memory; name is used in error messages. No ownership
 * check (there is no file). */
struct policy *policy_load_string(const char *text, size_t len, const char *name,
                                  struct policy_error *err);
/* The built-in default policy (contract: enforce, TLS >= 1.2 everywhere, full
 * verification against the system store). Never NULL unless out of memory. */
struct policy *policy_new_default(void);
void policy_free(struct policy *policy);

/* Which policy applies (contract "Activation"), decided here for the shim and
 * the CLI alike. env_policy: the value of TLSGUARD_POLICY, NULL when unset or
 * ignored (secure execution). */
struct policy_selection {
	const char *path;        /* the file to load (env_policy, or POLICY_DEFAULT_PATH) */
	bool builtin_if_missing; /* a missing file means the built-in default policy */
};
/* 0 and *sel filled in, or -1 with err filled in (TLSGUARD_POLICY set but
 * empty: fail closed, the same message in the shim and the CLI). */
int policy_select(const char *env_policy, struct policy_selection *sel, struct policy_error *err);
/* After opening sel->path failed with open_errno: whether the built-in default
 * policy applies instead (the default file does not exist). */
bool policy_select_builtin(const struct policy_selection *sel, int open_errno);

const char *policy_source(const struct policy *policy); /* path, or "(built-in)" */
enum policy_mode policy_mode(const struct policy *policy);
bool policy_env_override(const struct policy *policy);
bool policy_inherit(const struct policy *policy);
const struct policy_audit *policy_audit(const struct policy *policy);
const struct policy_tls *policy_tls_defaults(const struct policy *policy);

/* First matching outbound rule, or the default. ip may be NULL (only host-name
 * rules and rules without `to` can match then); hostname may be NULL (only
 * address rules and rules without `to` can match). Never NULL. For UDP the
 * answer is allow or deny: a `require_tls` default means deny for datagrams. */
const struct policy_rule *policy_match_out(const struct policy *policy,
                                           const struct policy_addr *ip, uint16_t port,
                                           enum policy_proto proto, const char *hostname);
/* Whether any outbound rule names a host (exact or *.suffix): only then can the
 * name a program resolved change which rule matches. */
bool policy_has_host_rules(const struct policy *policy);

/* First matching inbound rule for a TCP connection accepted on local_port from
 * peer (peer may be NULL: only rules without `from` match). Never NULL. */
const struct policy_rule *policy_match_in(const struct policy *policy, uint16_t local_port,
                                          const struct policy_addr *peer);

/* Warnings about a valid policy ("FILE:LINE: warning: ..."): a rule an earlier
 * rule shadows, an audit socket that is missing. Returns how many. */
typedef void (*policy_warn_fn)(void *arg, const char *msg);
size_t policy_lint(const struct policy *policy, policy_warn_fn warn, void *arg);

/* Calls fn on the top-level tls group, then on every rule's effective one. */
typedef void (*policy_tls_fn)(void *arg, const struct policy_tls *tls);
void policy_each_tls(const struct policy *policy, policy_tls_fn fn, void *arg);

/* The effective policy, every default filled in, as valid libconfig text that
 * policy_load_string accepts and that compiles to the same policy. */
int policy_print(const struct policy *policy, FILE *out);

/* Names used in audit events, `explain` and `check -v`. */
const char *policy_mode_name(enum policy_mode mode);
const char *policy_action_name(enum policy_action action);
const char *policy_proto_name(enum policy_proto proto);
const char *policy_tls_version_name(enum policy_tls_version version);
const char *policy_trust_name(enum policy_trust trust);
const char *policy_unmanaged_name(enum policy_unmanaged unmanaged);
const char *policy_starttls_name(enum policy_starttls starttls);

#endif
