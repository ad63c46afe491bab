/*
 * BENCH_EXPECT=WORD: the benchmark programs refuse to measure (exit 77) unless
 * an object whose path contains WORD is loaded in their own process, so a row
 * "with the shim" can never silently measure the program without it.
 */
#ifndef TLSGUARD_BENCH_EXPECT_H
#define TLSGUARD_BENCH_EXPECT_H

#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bench_find_object(struct dl_phdr_info *info, size_t size, void *word)
{
	(void)size;
	return info->dlpi_name != NULL && strstr(info->dlpi_name, word) != NULL;
}

/* 0 when nothing is expected or the expected object is loaded. */
static int bench_check_loaded(const char *prog)
{
	char *word = getenv("BENCH_EXPECT");

	if (word == NULL || *word == '\0') {
		return 0;
	}
	if (dl_iterate_phdr(bench_find_object, word) == 0) {
		fprintf(stderr, "%s: no loaded object matches \"%s\"\n", prog, word);
		return -1;
	}
	return 0;
}

#endif
