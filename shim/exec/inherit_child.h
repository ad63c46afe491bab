/*
 * Across exec, the child side: what a new image inherits from a governed
 * parent, a super-server or systemd (shim/exec/inherit_child.c). The parent
 * side is inherit_parent.h.
 */
#ifndef TLSGUARD_INHERIT_CHILD_H
#define TLSGUARD_INHERIT_CHILD_H

/* Governs again, before any of their bytes move, the sockets an exec'ed parent
 * governed (list: TLSGUARD_FDS, fdlist.h), wherever they now are; the
 * standard streams a super-server handed over; and the connections systemd
 * socket activation handed over (LISTEN_PID, LISTEN_FDS: sd_listen_fds(3)). */
void inherit_child_adopt(const char *list, const char *listen_pid, const char *listen_fds);

#endif
