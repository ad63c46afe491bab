/*
 * The libssl functions only the tunnels (shim/tunnel/) call, and the one place
 * the shim loads libssl itself. A process reaches tunnel_ssl_load() only when a
 * connection first matches an upgrade_tls or terminate_tls rule: a process
 * without such a rule never maps libssl because of the shim. The interposed
 * names and the verification core are reached through ssl_fns.h as ever;
 * this table holds what that one does not (SSL_new, SSL_set_fd, ...).
 */
#ifndef TLSGUARD_TUNNEL_SSL_H
#define TLSGUARD_TUNNEL_SSL_H

#include <openssl/ssl.h>

#include "ssl_fns.h"

struct tunnel_ssl_fns {
	SSL *(*SSL_new)(SSL_CTX *);
	void (*SSL_free)(SSL *);
	int (*SSL_set_fd)(SSL *, int);
	int (*SSL_get_error)(const SSL *, int);
	int (*SSL_pending)(const SSL *);
	int (*SSL_has_pending)(const SSL *);
	int (*SSL_CTX_use_certificate_chain_file)(SSL_CTX *, const char *);
	int (*SSL_CTX_use_PrivateKey_file)(SSL_CTX *, const char *, int);
	int (*SSL_CTX_check_private_key)(const SSL_CTX *);
	void (*ERR_clear_error)(void);
	unsigned long (*ERR_get_error)(void);
	void (*ERR_error_string_n)(unsigned long, char *, size_t);
	void (*OPENSSL_thread_stop)(void);
};

/* Maps libssl.so.3 if no one has (the real dlopen), binds both tables.
 * NULL when libssl cannot be loaded or bound: the caller refuses (fail
 * closed). *core gets the interposed-name table (ssl_fns.h). */
const struct tunnel_ssl_fns *tunnel_ssl_load(const struct ssl_fns **core);

#endif
