/*
 * What names a socket across exec (fdlist.h): the parent lists its governed
 * sockets by it, the child finds them by it (exec/socket_name.c).
 */
#ifndef TLSGUARD_SOCKET_NAME_H
#define TLSGUARD_SOCKET_NAME_H

#include <stdint.h>

#include "fdlist.h"

/* The SO_COOKIE of the socket at fd, or its inode on a kernel without
 * SO_COOKIE. -1 when fd is not a socket. Parent and child run on the same
 * kernel, so both pick the same kind. */
int socket_name(int fd, enum fdlist_kind *kind, uint64_t *id);

#endif
