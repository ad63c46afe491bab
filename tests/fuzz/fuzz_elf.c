/*
 * libFuzzer target: the ELF reader of `tlsguard inspect` (tools/elf_read.c,
 * linked from the build's libtools.a) with hostile files: truncated headers,
 * offsets and counts past the end, overlapping tables, strings without a NUL.
 *
 * Properties (a violation aborts):
 * - the reader never reads outside the file (ASan: the input is a heap copy
 *   of exactly its size), for the file as given and for prefixes of it;
 * - what it returns lies inside the file: the interpreter, every needed
 *   library, rpath and runpath are NUL-terminated strings within it;
 * - the symbol lookups terminate and stay inside the file too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_read.h"

/* s points into [base, base + size) and its NUL does too. */
static int inside(const char *s, const unsigned char *base, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;

	return s == NULL ||
	       (p >= base && p < base + size && memchr(p, '\0', (size_t)(base + size - p)) != NULL);
}

static const char *elf_check_one(const uint8_t *data, size_t size)
{
	unsigned char *copy = malloc(size > 0 ? size : 1);
	struct policy_error err;
	struct elf_file elf;
	const char *why = NULL;
	size_t i;

	if (copy == NULL) {
		return NULL;
	}
	memcpy(copy, data, size);
	if (elf_parse_memory(&elf, copy, size, &err) == 0) {
		if (!inside(elf.interp, copy, size) || !inside(elf.rpath, copy, size) ||
		    !inside(elf.runpath, copy, size)) {
			why = "a path outside the file";
		}
		if (elf.nneeded > ELF_MAX_NEEDED) {
			why = "more needed libraries than room";
		}
		for (i = 0; why == NULL && i < elf.nneeded; i++) {
			if (elf.needed[i] == NULL || !inside(elf.needed[i], copy, size)) {
				why = "a needed library outside the file";
			}
		}
		(void)elf_defines(&elf, "SSL_CTX_new");
		(void)elf_defines_prefix(&elf, "gnutls_");
		elf_close(&elf);
	} else if (memchr(err.msg, '\0', sizeof(err.msg)) == NULL || err.msg[0] == '\0') {
		why = "an error without a message";
	}
	free(copy);
	return why;
}

const char *fuzz_elf_check(const uint8_t *data, size_t size)
{
	const char *why = elf_check_one(data, size);
	size_t cut;

	/* Prefixes too: files cut by a copy that ran out of space. */
	for (cut = 1; why == NULL && cut < size && cut < 1024; cut *= 4) {
		why = elf_check_one(data, size - cut);
	}
	return why;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = fuzz_elf_check(data, size);

	if (why != NULL) {
		fprintf(stderr, "fuzz_elf: property violated: %s\n", why);
		abort();
	}
	return 0;
}
#endif
