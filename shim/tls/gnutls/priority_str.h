/*
 * The priority strings the shim hands GnuTLS in place of the program's
 * (gnutls_priority_init(3), "Priority strings"): the program's string with
 * the policy's version floor and security level appended. Pure: no GnuTLS
 * call, unit-tested (tests/unit/check_gtls_priority.c).
 */
#ifndef TLSGUARD_GTLS_PRIORITY_STR_H
#define TLSGUARD_GTLS_PRIORITY_STR_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

/* Writes prog (NULL or "": none) followed by the suffix for floor into out:
 * every version below floor removed, and %PROFILE_MEDIUM (112-bit security,
 * as OpenSSL's security level 2). with_floor adds the floor version itself
 * (after a first try left a program that allowed only older versions with
 * none: it gets the floor, not a weaker version, as the OpenSSL layer raises
 * a maximum below the floor). Returns 0, or -1 when out is too short (out is
 * then ""). */
int gtls_priority_compose(const char *prog, enum policy_tls_version floor, bool with_floor,
                          char *out, size_t len);

#endif
