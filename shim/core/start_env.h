/*
 * The environment as this process was started: TLSGUARD_POLICY, TLSGUARD_MODE,
 * TLSGUARD_FDS, LD_PRELOAD and systemd's LISTEN_PID/LISTEN_FDS, copied once
 * (core/start_env.c), so that a program that edits its environment changes
 * neither the policy it is held to nor what its children get.
 */
#ifndef TLSGUARD_START_ENV_H
#define TLSGUARD_START_ENV_H

/* Takes the copy (once; thread-safe). Every accessor below takes it first,
 * so a wrapper that runs before the constructor still sees the start values. */
void start_env_take(void);

/* TLSGUARD_POLICY, TLSGUARD_MODE and TLSGUARD_FDS as the process was started
 * (NULL: unset, or a secure-execution process, which ignores them). A value
 * too long to keep is a text every use refuses (TLSGUARD_POLICY,
 * TLSGUARD_MODE) or unknown (NULL). */
const char *shim_start_policy(void);
const char *shim_start_mode(void);
const char *shim_start_fds(void);
/* TLSGUARD_TUNNEL as started: the tunnels an exec'ed parent held. */
const char *shim_start_tunnel(void);
/* LD_PRELOAD's value as the process was started (the kept copy itself, so a
 * caller may compare by address first). */
const char *shim_start_preload(void);
/* LISTEN_PID and LISTEN_FDS (sd_listen_fds(3)), kept in every process: they
 * only ever add sockets to govern. */
const char *shim_start_listen_pid(void);
const char *shim_start_listen_fds(void);

#endif
