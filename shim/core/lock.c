/*
 * The contended halves of struct lock (see lock.h). futex(2) is reached through
 * the real syscall(), never the shim's own.
 */
#include <linux/futex.h>
#include <sys/syscall.h>

#include "lock.h"
#include "bind/real.h"

void lock_wait(struct lock *l, unsigned seen)
{
	/* Mark it waited before sleeping, so that the holder's lock_give wakes
	 * someone; whoever takes it this way keeps the mark, which may cost one
	 * needless wake but never a lost one. */
	if (seen != LOCK_WAITED) {
		seen = atomic_exchange_explicit(&l->state, LOCK_WAITED, memory_order_acquire);
	}
	while (seen != LOCK_FREE) {
		/* Returns at once (EAGAIN) if the state moved on meanwhile. */
		(void)real()->syscall(SYS_futex, &l->state, FUTEX_WAIT_PRIVATE, LOCK_WAITED, NULL,
		                      NULL, 0);
		seen = atomic_exchange_explicit(&l->state, LOCK_WAITED, memory_order_acquire);
	}
}

void lock_wake(struct lock *l)
{
	(void)real()->syscall(SYS_futex, &l->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
