/*
 * The tunnels' shared state (struct tunnel_shared, tunnel_internal.h) comes
 * from shared anonymous memory carved into slots: one mmap of shared memory
 * costs about 50 us here, which once per tunnel was a tenth of the time to a
 * connection's first response. A slot that was in use when the process
 * forked may still be read by the child: it is never given out again. The
 * slots free at a fork stay the parent's; the child starts on fresh memory.
 */
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include "tunnel_internal.h"

#define SHARED_CHUNK 65536
#define SLOT         ((sizeof(struct tunnel_shared) + 63) & ~(size_t)63) /* own cache lines */

struct free_slot {
	struct free_slot *next;
};

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static struct free_slot *free_slots;
static char *chunk;       /* the chunk slots are cut from, or NULL */
static size_t chunk_used; /* bytes of it given out */
static unsigned forks;    /* bumped at every fork: a slot's generation */

struct tunnel_shared *tunnel_shared_new(unsigned *gen)
{
	struct tunnel_shared *sh = NULL;
	void *fresh;

	pthread_mutex_lock(&shared_lock);
	if (free_slots != NULL) {
		sh = (struct tunnel_shared *)free_slots;
		free_slots = free_slots->next;
	} else {
		if (chunk == NULL || chunk_used + SLOT > SHARED_CHUNK) {
			fresh = mmap(NULL, SHARED_CHUNK, PROT_READ | PROT_WRITE,
			             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
			chunk = fresh == MAP_FAILED ? NULL : fresh;
			chunk_used = 0;
		}
		if (chunk != NULL) {
			sh = (struct tunnel_shared *)(chunk + chunk_used);
			chunk_used += SLOT;
		}
	}
	*gen = forks;
	pthread_mutex_unlock(&shared_lock);
	if (sh != NULL) {
		memset(sh, 0, sizeof(*sh));
	}
	return sh;
}

void tunnel_shared_free(struct tunnel_shared *sh, unsigned gen)
{
	struct free_slot *slot = (struct free_slot *)sh;

	pthread_mutex_lock(&shared_lock);
	if (gen == forks) {
		slot->next = free_slots;
		free_slots = slot;
	}
	pthread_mutex_unlock(&shared_lock);
}

void tunnel_shared_before_fork(void)
{
	pthread_mutex_lock(&shared_lock);
	forks++;
}

void tunnel_shared_after_fork(bool child)
{
	if (child) {
		pthread_mutex_init(&shared_lock, NULL);
		free_slots = NULL;
		chunk = NULL;
		chunk_used = 0;
		return;
	}
	pthread_mutex_unlock(&shared_lock);
}
