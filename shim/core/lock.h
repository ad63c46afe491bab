/*
 * The lock of a governed connection (struct conn): held for a few dozen
 * instructions around every read and write on a TLS socket, so its
 * uncontended cost is the product's. Taking it is one compare-and-swap and
 * giving it back one exchange; a thread that finds it held sleeps in the
 * kernel (futex(2)) instead of spinning, as in "Futexes Are Tricky" (Drepper,
 * mutex 3). Not recursive; never held across a call that can block.
 *
 * Kept instead of a pthread_mutex_t because it is cheaper on that path:
 * `make bench`, row "governed send's lock" (bench/lock_path.c), counts 31 Ir
 * per governed send (three uncontended take/give pairs) with this lock against
 * 193 Ir with a default pthread_mutex_t (callgrind, glibc 2.36, x86-64).
 */
#ifndef TLSGUARD_LOCK_H
#define TLSGUARD_LOCK_H

#include <stdatomic.h>

enum {
	LOCK_FREE,
	LOCK_HELD,
	LOCK_WAITED, /* held, and a thread may be asleep on it */
};

struct lock {
	atomic_uint state;
};

#define LOCK_INIT                                                                                  \
	{                                                                                          \
		LOCK_FREE                                                                          \
	}

/* The contended halves (lock.c). */
void lock_wait(struct lock *l, unsigned seen);
void lock_wake(struct lock *l);

static inline void lock_take(struct lock *l)
{
	unsigned seen = LOCK_FREE;

	if (!atomic_compare_exchange_strong_explicit(&l->state, &seen, LOCK_HELD,
	                                             memory_order_acquire, memory_order_relaxed)) {
		lock_wait(l, seen);
	}
}

static inline void lock_give(struct lock *l)
{
	if (atomic_exchange_explicit(&l->state, LOCK_FREE, memory_order_release) == LOCK_WAITED) {
		lock_wake(l);
	}
}

/* In a child after fork: whoever held it is gone. */
static inline void lock_reset(struct lock *l)
{
	atomic_store_explicit(&l->state, LOCK_FREE, memory_order_relaxed);
}

#endif
