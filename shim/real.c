/*
 * Binds the real libc functions once (dlsym(RTLD_NEXT, ...) under pthread_once),
 * so the shim stacks with other preloads and never calls an interposed name.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "real.h"

struct real_fns real_table;
atomic_bool real_ready;
static bool broken;
static pthread_once_t bind_once = PTHREAD_ONCE_INIT;

/* True when fn lives in this shared object: binding it would make a wrapper
 * call itself forever. */
static bool resolves_to_shim(void *fn)
{
	Dl_info self, found;

	if (dladdr((void *)real_bind, &self) == 0 || dladdr(fn, &found) == 0) {
		return false;
	}
	return self.dli_fbase == found.dli_fbase;
}

static void bind_one(void **slot, const char *name)
{
	void *fn = dlsym(RTLD_NEXT, name);

	if (fn == NULL || resolves_to_shim(fn)) {
		broken = true; /* reported when the policy loads (init.c) */
		*slot = NULL;
		return;
	}
	*slot = fn;
}

#define BIND(name)             bind_one((void **)&real_table.name, #name)
#define BIND_AS(field, symbol) bind_one((void **)&real_table.field, symbol)

static void bind_all(void)
{
	BIND(socket);
	BIND(socketpair);
	BIND(connect);
	BIND(bind);
	BIND(listen);
	BIND(accept);
	BIND(accept4);
	BIND(close);
	BIND(close_range);
	BIND(closefrom);
	BIND(shutdown);
	BIND(dup);
	BIND(dup2);
	BIND(dup3);
	BIND(fcntl);
	BIND(fcntl64);
	BIND(setsockopt);
	BIND(write);
	BIND(writev);
	BIND(pwritev);
	BIND(pwritev2);
	BIND(send);
	BIND(sendto);
	BIND(sendmsg);
	BIND(sendmmsg);
	BIND(sendfile);
	BIND(sendfile64);
	BIND(splice);
	BIND(read);
	BIND_AS(read_chk, "__read_chk");
	BIND(preadv2);
	BIND_AS(recv_chk, "__recv_chk");
	BIND_AS(recvfrom_chk, "__recvfrom_chk");
	BIND(readv);
	BIND(recv);
	BIND(recvfrom);
	BIND(recvmsg);
	BIND(recvmmsg);
	BIND(getaddrinfo);
	BIND(gethostbyname);
	BIND(gethostbyname2);
	BIND(gethostbyname_r);
	BIND(execve);
	BIND(execv);
	BIND(execvp);
	BIND(execvpe);
	BIND(fexecve);
	BIND(posix_spawn);
	BIND(posix_spawnp);
	BIND(fork);
	BIND(syscall);
}

void real_bind(void)
{
	pthread_once(&bind_once, bind_all);
	atomic_store_explicit(&real_ready, true, memory_order_release);
}

bool real_broken(void)
{
	real();
	return broken;
}
