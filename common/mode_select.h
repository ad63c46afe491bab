/*
 * Which mode is in force, enforce, audit or off: one rule for the shim
 * (core/init.c) and the CLI (tlsguard status), so that what the CLI reports
 * is what the shim does.
 */
#ifndef TLSGUARD_MODE_SELECT_H
#define TLSGUARD_MODE_SELECT_H

#include <stdbool.h>

#include "policy.h"

/* The policy's mode, or TLSGUARD_MODE's (env_mode, NULL: unset) when the
 * policy lets the environment override it (env_override, tlsguard.conf(5))
 * and it names a mode. *env_invalid (may be NULL) is set when an allowed
 * TLSGUARD_MODE names none: a typo must not change the mode silently, the
 * caller says so. */
enum policy_mode mode_in_force(const struct policy *policy, const char *env_mode,
                               bool *env_invalid);

#endif
