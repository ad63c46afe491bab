/*
 * Across exec: what a new image inherits from a governed parent (shim/exec.c).
 */
#ifndef TLSGUARD_EXEC_H
#define TLSGUARD_EXEC_H

/* Governs again, before any of their bytes move, the sockets an exec'ed parent
 * governed: list is TLSGUARD_FDS, "3:o,7:i" (descriptor, outbound or inbound). */
void exec_adopt_inherited(const char *list);

#endif
