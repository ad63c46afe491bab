/*
 * Policy load time for `make bench` (bench/README.md): policy_load FILE RUNS
 *
 * Loads FILE RUNS times in this process with policy_load_file (read, parse,
 * validate, compile, the same call the shim makes at its first network call)
 * and prints the median and the fastest load in milliseconds: "MEDIAN MIN".
 * Exit status 1 if any load fails (the error is printed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "policy.h"

#define MAX_RUNS 1000

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static double ms[MAX_RUNS];
	struct policy_error err;
	char *end;
	long runs, i;

	if (argc != 3 || (runs = strtol(argv[2], &end, 10)) <= 0 || *end != '\0' ||
	    runs > MAX_RUNS) {
		fprintf(stderr, "usage: policy_load FILE RUNS (1-%d)\n", MAX_RUNS);
		return 2;
	}
	for (i = 0; i < runs; i++) {
		double start = now_ms();
		struct policy *p = policy_load_file(argv[1], &err);

		ms[i] = now_ms() - start;
		if (p == NULL) {
			fprintf(stderr, "policy_load: %s\n", err.msg);
			return 1;
		}
		policy_free(p);
	}
	qsort(ms, (size_t)runs, sizeof(ms[0]), by_value);
	printf("%.3f %.3f\n", ms[runs / 2], ms[0]);
	return 0;
}
