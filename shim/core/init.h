/*
 * The policy's start-up half (core/init.c): its bytes are read when the
 * program starts, before main can touch the file or TLSGUARD_POLICY. The
 * lazily loaded policy itself is shim_policy() (shim.h).
 */
#ifndef TLSGUARD_INIT_H
#define TLSGUARD_INIT_H

/* Reads the bytes of the policy that applies, once (thread-safe); parsed
 * later, by the first call that needs the policy. */
void shim_policy_read_at_start(void);

#endif
