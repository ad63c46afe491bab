/*
 * The policy code's file calls (policy.h, struct policy_io): libc's, for the
 * CLI and the tests. The shim defines policy_io_calls itself
 * (shim/bind/policy_io.c) and lists its objects before libpolicy.a, so the
 * linker never takes this member into the shim, which then references no name
 * it interposes.
 */
#include <unistd.h>

#include "policy.h"

const struct policy_io policy_io_calls = {.read = read, .close = close};
