/*
 * The shim's trust lists: the policy's anchors alone (ca_file, ca_path, or
 * the system's), loaded once per (ca_file, ca_path) and kept for the life of
 * the process. Never handed to a session or to the program's credentials.
 */
#ifndef TLSGUARD_GTLS_STORE_H
#define TLSGUARD_GTLS_STORE_H

#include "gtls.h"

/* The trust list of tls's anchors, or NULL (no memory). *owned: the caller
 * must gnutls_x509_trust_list_deinit it (the cache was full). A missing or
 * unreadable file leaves it empty: verification fails closed. */
gnutls_x509_trust_list_t gtls_store_for(const struct gnutls_fns *f, const struct policy_tls *tls,
                                        bool *owned);

#endif
