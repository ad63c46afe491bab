/*
 * A libFuzzer target as a plain program, for make check and the sanitizer
 * builds: feeds each file named on the command line to the target's
 * LLVMFuzzerTestOneInput, as `fuzz_NAME FILE` does in the fuzz build. A
 * violated property aborts with the target's own report; the path of each
 * input is printed before it runs, so the last line names the culprit.
 * `--self-test` runs the target's fuzz_self_test() first, when it has one.
 * tests/fuzz/replay.sh runs these over tests/fuzz/regressions/ and the seeds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

/* Weak: only some targets define them. */
#pragma weak LLVMFuzzerInitialize
#pragma weak fuzz_self_test

static unsigned char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data = NULL, *bigger;
	size_t cap = 0, n;

	*len = 0;
	if (f == NULL) {
		return NULL;
	}
	do {
		if (*len == cap) {
			cap = cap ? cap * 2 : 4096;
			bigger = realloc(data, cap);
			if (bigger == NULL) {
				free(data);
				fclose(f);
				return NULL;
			}
			data = bigger;
		}
		n = fread(data + *len, 1, cap - *len, f);
		*len += n;
	} while (n > 0);
	fclose(f);
	return data;
}

int main(int argc, char **argv)
{
	unsigned char *data;
	size_t len;
	int i = 1;

	if (LLVMFuzzerInitialize != NULL) {
		LLVMFuzzerInitialize(&argc, &argv);
	}
	if (i < argc && strcmp(argv[i], "--self-test") == 0) {
		if (fuzz_self_test != NULL && fuzz_self_test() != 0) {
			return 1;
		}
		i++;
	}
	for (; i < argc; i++) {
		printf("%s\n", argv[i]);
		fflush(stdout);
		data = read_all(argv[i], &len);
		if (data == NULL) {
			fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[i]);
			return 1;
		}
		LLVMFuzzerTestOneInput(data, len);
		free(data);
	}
	return 0;
}
