/*
 * The policy (core/init.c): its bytes are read when the program starts,
 * before main can touch the file or TLSGUARD_POLICY, and compiled by the
 * first call that needs it (shim_policy(), shim.h). This is the start-up half,
 * called by the constructor (exec/startup.c).
 */
#ifndef TLSGUARD_INIT_H
#define TLSGUARD_INIT_H

/* Reads the bytes of the policy that applies, once (thread-safe). */
void shim_policy_read_at_start(void);

#endif
