/*
 * The lock of a governed connection, shim/core/lock.h against a default
 * pthread_mutex_t, on the path a governed send takes: guarded_send
 * (shim/sock/send.c) takes and gives the connection's lock three times
 * (guard_send_classifying, guard_send_check, guard_send_commit). Counted under
 * callgrind by bench/run.sh, N sends against 0 (bench/README.md), so the
 * figure is the instructions per governed send that the lock costs.
 *
 *   lock_path lock N     N sends' worth of lock_take/lock_give
 *   lock_path mutex N    the same with pthread_mutex_lock/unlock
 *
 * One thread: the lock is never contended, as on the common path, so the
 * contended halves of lock.h (lock.c, which needs the shim) are never reached.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../shim/core/lock.h"

#define PAIRS_PER_SEND 3

void lock_wait(struct lock *l, unsigned seen)
{
	(void)l;
	(void)seen;
	abort(); /* one thread: never contended */
}

void lock_wake(struct lock *l)
{
	(void)l;
	abort();
}

static struct lock conn_lock = LOCK_INIT;
static pthread_mutex_t conn_mutex = PTHREAD_MUTEX_INITIALIZER;

static void sends_with_lock(long n)
{
	long i;
	int k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < PAIRS_PER_SEND; k++) {
			lock_take(&conn_lock);
			lock_give(&conn_lock);
		}
	}
}

static void sends_with_mutex(long n)
{
	long i;
	int k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < PAIRS_PER_SEND; k++) {
			pthread_mutex_lock(&conn_mutex);
			pthread_mutex_unlock(&conn_mutex);
		}
	}
}

int main(int argc, char **argv)
{
	char *end;
	long n;

	if (argc != 3) {
		fprintf(stderr, "usage: lock_path lock|mutex N\n");
		return 2;
	}
	errno = 0;
	n = strtol(argv[2], &end, 10);
	if (errno != 0 || *end != '\0' || n < 0) {
		fprintf(stderr, "lock_path: bad count '%s'\n", argv[2]);
		return 2;
	}
	/* one warm-up send each way, as bench/calls does: first-call costs
	 * (lazy binding of pthread_mutex_lock) belong to start-up */
	sends_with_lock(1);
	sends_with_mutex(1);
	if (strcmp(argv[1], "lock") == 0) {
		sends_with_lock(n);
	} else if (strcmp(argv[1], "mutex") == 0) {
		sends_with_mutex(n);
	} else {
		fprintf(stderr, "lock_path: unknown mode '%s'\n", argv[1]);
		return 2;
	}
	return 0;
}
