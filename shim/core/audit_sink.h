/*
 * Where audit events go (core/audit_sink.c): the sender's own AF_UNIX datagram
 * socket, connected to audit.socket as syslog(3) connects to /dev/log,
 * reopened when the program closed it or the daemon restarted, and a bounded
 * wait when the daemon's queue is full (audit_wait.h).
 */
#ifndef TLSGUARD_AUDIT_SINK_H
#define TLSGUARD_AUDIT_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "audit_wait.h"

struct audit_sink {
	const char *path; /* audit.socket */
	int fd;           /* -1: not open */
	dev_t dev;        /* of the socket we made, to recognise it */
	ino_t ino;
};

#define AUDIT_SINK_INIT(socket_path)                                                               \
	{                                                                                          \
		.path = (socket_path), .fd = -1                                                    \
	}

/* Sends one datagram (one RFC 3164 message), opening or reopening the socket
 * as needed and waiting within w's limits; -1 with the reason in *err. */
int audit_sink_send(struct audit_sink *s, struct audit_wait *w, const char *msg, size_t len,
                    int *err);

/* True when s->fd is still the socket we made: the program may have closed it
 * and got the number back for a descriptor of its own. */
bool audit_sink_is_ours(const struct audit_sink *s);

/* Closes the socket, if the number is still ours (a new path, tests). */
void audit_sink_drop(struct audit_sink *s);

#endif
