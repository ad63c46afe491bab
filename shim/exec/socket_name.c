/*
 * A socket's name across exec (socket_name.h): what survives dup2, spawn file
 * actions and exec, where a descriptor number does not.
 */
#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "bind/real.h"
#include "socket_name.h"

int socket_name(int fd, enum fdlist_kind *kind, uint64_t *id)
{
	socklen_t len = sizeof(*id);
	struct stat st;

	/* socket(7): SO_COOKIE (Linux 4.12) is unique per socket for the life
	 * of the system. */
	if (real()->getsockopt(fd, SOL_SOCKET, SO_COOKIE, id, &len) == 0 && len == sizeof(*id)) {
		*kind = FDLIST_COOKIE;
		return 0;
	}
	if (errno == ENOTSOCK || errno == EBADF || fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		return -1;
	}
	*kind = FDLIST_INODE;
	*id = (uint64_t)st.st_ino;
	return 0;
}
