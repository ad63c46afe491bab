/*
 * Children stay enforced (child side): at start-up, before main and before
 * any of their bytes move, the sockets an exec'ed parent governed are governed
 * again wherever they now are (TLSGUARD_FDS names them by socket:
 * socket_name.h), as are the connections a super-server or systemd socket
 * activation handed over. Called only by the start-up constructor
 * (startup.c).
 */
#include <dirent.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bind/real.h"
#include "core/conn_internal.h"
#include "inherit_child.h"
#include "fdlist.h"
#include "sock/decide.h"
#include "sock/stdio_guard.h"
#include "socket_name.h"

/* Calls fn for every descriptor this process holds above `from` (the
 * directory's own excepted), from /proc/self/fd, or, without /proc, for every
 * number up to the descriptor limit (fn then sees EBADF for the unused). */
static void each_fd(int from, void (*fn)(int fd, void *arg), void *arg)
{
	struct rlimit rl;
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *d;
	long fd, last;

	if (dir != NULL) {
		while ((d = readdir(dir)) != NULL) {
			fd = strtol(d->d_name, NULL, 10);
			if (d->d_name[0] >= '0' && d->d_name[0] <= '9' && fd >= from &&
			    fd < FDT_MAX && fd != dirfd(dir)) {
				fn((int)fd, arg);
			}
		}
		closedir(dir);
		return;
	}
	last = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < FDT_MAX ? (long)rl.rlim_cur
	                                                                   : FDT_MAX;
	for (fd = from; fd < last; fd++) {
		fn((int)fd, arg);
	}
}

/* TLSGUARD_FDS decoded, and where each socket was first found. */
struct inherited {
	struct fdlist_entry *e;
	int *first_fd; /* -1: not found yet */
	int n;
	bool more;
};

/* The socket at fd: governed again when the parent governed it, sharing the
 * state of another descriptor of the same socket; decided from its addresses
 * when the list was cut short ("*") and did not name it. 0 to 2 not named are
 * left to adopt_standard_streams. */
static void adopt_if_listed(int fd, void *arg)
{
	struct inherited *in = arg;
	const struct fdlist_entry *e;
	enum fdlist_kind kind;
	uint64_t id;
	int i;

	if (socket_name(fd, &kind, &id) < 0) {
		return;
	}
	e = fdlist_find(in->e, (size_t)in->n, kind, id);
	if (e == NULL) {
		if (in->more && fd > 2 && fdt_peek(fd) == NULL) {
			decide_adopt(fd);
		}
		return;
	}
	i = (int)(e - in->e);
	if (in->first_fd[i] >= 0) {
		fdt_copy(in->first_fd[i], fd);
	} else {
		decide_adopt_as(fd, e->inbound);
		in->first_fd[i] = fd;
	}
	if (fd <= 2) {
		stdio_guard_fd(fd);
	}
}

/* Every descriptor is looked at: the parent named sockets, not numbers, and
 * file actions may have put one anywhere. Only a process whose parent held
 * governed sockets gets here. */
static void adopt_listed(const char *list)
{
	struct inherited in = {0};
	size_t cap = FDLIST_MAX / 5 + 1, i;

	in.e = malloc(cap * sizeof(*in.e));
	in.first_fd = malloc(cap * sizeof(*in.first_fd));
	if (in.e == NULL || in.first_fd == NULL) {
		in.n = 0; /* decide every socket by address */
		in.more = true;
	} else {
		in.n = fdlist_decode(list, in.e, cap, &in.more);
		if (in.n < 0) { /* not written by a shim: decide every socket by address */
			in.n = 0;
			in.more = true;
		}
		for (i = 0; i < (size_t)in.n; i++) {
			in.first_fd[i] = -1;
		}
	}
	each_fd(0, adopt_if_listed, &in);
	free(in.e);
	free(in.first_fd);
}

/* A super-server that runs without the shim (inetd, xinetd, socat, systemd's
 * StandardInput=socket) hands its child the accepted connection as standard
 * input and output, where no TLSGUARD_FDS names it: descriptors 0 to 2 are
 * always decided from their addresses. A terminal, pipe or file costs one
 * failing getsockopt. */
static void adopt_standard_streams(void)
{
	int fd, type;
	socklen_t len;

	for (fd = 0; fd <= 2; fd++) {
		len = sizeof(type);
		/* fdt_in_use first: until a descriptor is governed, the table's
		 * pages have never been touched, and reading them costs a fault. */
		if ((atomic_load_explicit(&fdt_in_use, memory_order_acquire) &&
		     fdt_peek(fd) != NULL) ||
		    real()->getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
		    type != SOCK_STREAM) {
			continue; /* governed already (listed), or not a stream socket */
		}
		decide_adopt(fd);
		if (fdt_peek(fd) != NULL) {
			stdio_guard_fd(fd);
		}
	}
}

/* sd_listen_fds(3): "LISTEN_FDS=n" sockets from descriptor 3 (SD_LISTEN_FDS_START)
 * on, meant for this process only when LISTEN_PID is its pid. A listener needs
 * nothing here (accept() decides each connection); a connected stream socket
 * (Accept=yes) was accepted for this service: governed as inbound, like an
 * inetd service's standard streams. */
static void adopt_listen_fds(const char *pid_text, const char *count_text)
{
	int fd, listening, type;
	long pid, count;
	socklen_t len;
	char *end;

	if (pid_text == NULL || count_text == NULL) {
		return;
	}
	pid = strtol(pid_text, &end, 10);
	if (end == pid_text || *end != '\0' || pid != (long)getpid()) {
		return;
	}
	count = strtol(count_text, &end, 10);
	if (end == count_text || *end != '\0' || count <= 0) {
		return;
	}
	count = count < FDT_MAX - 3 ? count : FDT_MAX - 3;
	for (fd = 3; fd < 3 + count; fd++) {
		len = sizeof(type);
		if ((atomic_load_explicit(&fdt_in_use, memory_order_acquire) &&
		     fdt_peek(fd) != NULL) ||
		    real()->getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
		    type != SOCK_STREAM) {
			continue; /* governed already, or not a stream socket */
		}
		len = sizeof(listening);
		if (real()->getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 ||
		    listening) {
			continue;
		}
		decide_adopt_as(fd, true);
	}
}

void inherit_child_adopt(const char *list, const char *listen_pid, const char *listen_fds)
{
	if (list != NULL && *list != '\0') {
		adopt_listed(list);
	}
	adopt_standard_streams();
	adopt_listen_fds(listen_pid, listen_fds);
}
