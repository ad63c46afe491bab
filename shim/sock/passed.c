/*
 * Descriptors passed over SCM_RIGHTS: the one walk over a message's control
 * data that recv.c (a governed socket arriving) and send.c (a tunnel's
 * descriptor leaving) share.
 */
#include <string.h>

#include "io.h"

void io_each_passed_fd(const struct msghdr *msg, void (*each)(int fd))
{
	struct cmsghdr *cm;
	size_t i, count;
	int fd;

	for (cm = CMSG_FIRSTHDR((struct msghdr *)msg); cm != NULL;
	     cm = CMSG_NXTHDR((struct msghdr *)msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
			continue;
		}
		count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < count; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			each(fd);
		}
	}
}
