/*
 * The interposed priority functions: whatever priority string a program sets
 * (or none: GnuTLS's default), the session's priorities lack every version
 * below the policy's floor and hold its security level.
 */
#ifndef TLSGUARD_GTLS_PRIORITY_H
#define TLSGUARD_GTLS_PRIORITY_H

#include "gtls.h"

/* gnutls_priority_init (init2 false, flags 0) and gnutls_priority_init2. */
int gtls_priority_init(gnutls_priority_t *cache, const char *prio, const char **err_pos,
                       unsigned flags, bool init2);
int gtls_priority_set(gnutls_session_t session, gnutls_priority_t cache);
void gtls_priority_deinit(gnutls_priority_t cache);
int gtls_priority_set_direct(gnutls_session_t session, const char *prio, const char **err_pos);
int gtls_set_default_priority(gnutls_session_t session);
int gtls_set_default_priority_append(gnutls_session_t session, const char *add,
                                     const char **err_pos, unsigned flags);

#endif
