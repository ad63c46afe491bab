/*
 * The seam from the descriptor wrappers (fd.c) to the stdio fence (stdio.c):
 * a standard stream follows its descriptor in and out of governance.
 */
#ifndef TLSGUARD_STDIO_GUARD_H
#define TLSGUARD_STDIO_GUARD_H

/* fd (0, 1 or 2) changed: fence its standard stream when it now names a governed
 * connection, lift the fence when it no longer does. */
void stdio_guard_fd(int fd);

#endif
