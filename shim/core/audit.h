/*
 * Audit events: one syslog datagram per event, ident "tlsguard", sent to the
 * policy's audit.socket by the shim's own sender. It never calls openlog() or
 * syslog(), so the program's own logging state is untouched. Format: see the
 * contract and tlsguard.8.
 */
#ifndef TLSGUARD_AUDIT_H
#define TLSGUARD_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit_line.h"
#include "policy.h"
#include "shim.h"

/* Takes the audit settings of the loaded policy. Until called, events go to
 * /dev/log (facility authpriv) with a copy of blocks on stderr, so a policy that
 * fails to load is still reported. */
void audit_configure(const struct policy_audit *cfg);

/* Sends one event. Thread-safe, keeps errno, rate-limited: events beyond the
 * limit are counted and reported as "event=suppressed count=N" at least once a
 * rate-limit interval while suppression lasts, and at exit and exec
 * (audit_flush_suppressed), so every event is accounted for. A full socket is
 * waited for briefly, as syslog(3) does, within a per-event and a per-process
 * budget, so the program never hangs. When audit.socket is gone the event goes
 * to stderr and the fallback is announced once. With audit.stderr, every block
 * is also written to stderr as one line. */
void audit_emit(const struct audit_event *ev);
/* Registers the audit lock's fork handlers now (once): a layer whose lock is
 * held while it emits registers its own after this, so that fork takes its
 * lock first. */
void audit_register_fork_handlers(void);
/* Set on a tunnel's pump thread (shim/tunnel): the handshake events the TLS
 * layer emits there are the tunnel's, event=upgrade. */
extern SHIM_THREAD bool audit_in_tunnel;

/* Sends the count of suppressed events now, if there is one. The exec
 * wrappers call it: exec drops the process image and the count with it. */
void audit_flush_suppressed(void);

/* Records, once per process, that TLSGUARD_MODE weakened the policy's mode
 * (to audit or off): switching enforcement off is itself an audit event. */
void audit_note_mode(enum policy_mode policy_says, enum policy_mode in_force);

#endif
