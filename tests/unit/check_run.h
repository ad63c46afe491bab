/*
 * The one runner of every Check suite: runs s, prints Check's summary, and
 * gives the exit status run-unit.sh reads.
 */
#ifndef TLSGUARD_CHECK_RUN_H
#define TLSGUARD_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>

static inline int check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
