#ifndef TLSGUARD_NAMES_H
#define TLSGUARD_NAMES_H

#include <sys/socket.h>

/* Remembers that the program resolved name to the address in sa. */
void names_record(const struct sockaddr *sa, const char *name);

#endif
