/*
 * sockprobe: tries to get plaintext out of a TCP connection in one particular
 * way, and prints what happened: "SENT n" when the bytes went out, "REFUSED
 * <error text>" when the call failed. Exit 0 either way; 2 when the probe could
 * not even be set up. The integration suites run it under the shim.
 *
 * usage: sockprobe MODE HOST PORT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

static const char payload[] = "PLAINTEXT SECRET\n";
static struct sockaddr_storage dest;
static socklen_t dest_len;

static void setup_dest(const char *host, const char *port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&dest;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&dest;

	memset(&dest, 0, sizeof(dest));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)atoi(port));
		dest_len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)atoi(port));
		dest_len = sizeof(*sin6);
	} else {
		fprintf(stderr, "sockprobe: bad address %s\n", host);
		exit(2);
	}
}

static int tcp_socket(void)
{
	int fd = socket(dest.ss_family, SOCK_STREAM, 0);

	if (fd < 0) {
		perror("sockprobe: socket");
		exit(2);
	}
	return fd;
}

/* A connected socket, or exit with REFUSED when connect itself is refused. */
static int connected(void)
{
	int fd = tcp_socket();

	if (connect(fd, (struct sockaddr *)&dest, dest_len) < 0) {
		printf("REFUSED connect: %s\n", strerror(errno));
		exit(0);
	}
	return fd;
}

static void outcome(ssize_t n)
{
	if (n < 0) {
		printf("REFUSED %s\n", strerror(errno));
	} else {
		printf("SENT %zd\n", n);
	}
}

static ssize_t via_splice(int fd)
{
	int p[2];

	if (pipe(p) < 0 || write(p[1], payload, sizeof(payload) - 1) < 0) {
		exit(2);
	}
	return splice(p[0], NULL, fd, NULL, sizeof(payload) - 1, 0);
}

static ssize_t via_sendfile(int fd)
{
	char path[] = "/tmp/sockprobe.XXXXXX";
	int file = mkstemp(path);
	off_t off = 0;

	if (file < 0 || write(file, payload, sizeof(payload) - 1) < 0) {
		exit(2);
	}
	unlink(path);
	return sendfile(fd, file, &off, sizeof(payload) - 1);
}

static ssize_t via_sendmmsg(int fd)
{
	struct iovec iov = {(void *)payload, sizeof(payload) - 1};
	struct mmsghdr m = {.msg_hdr = {.msg_iov = &iov, .msg_iovlen = 1}};
	int n = sendmmsg(fd, &m, 1, 0);

	return n < 0 ? -1 : (ssize_t)m.msg_len;
}

static ssize_t via_sendmsg(int fd)
{
	struct iovec iov = {(void *)payload, sizeof(payload) - 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};

	return sendmsg(fd, &m, 0);
}

/* A forked child writes on the inherited socket; its result is reported. */
static void via_fork(int fd)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		outcome(write(fd, payload, sizeof(payload) - 1));
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &status, 0);
}

static void *thread_main(void *arg)
{
	int fd = tcp_socket();
	ssize_t n;

	(void)arg;
	if (connect(fd, (struct sockaddr *)&dest, dest_len) < 0) {
		return (void *)2;
	}
	n = write(fd, payload, sizeof(payload) - 1);
	close(fd);
	return (void *)(n < 0 && errno == EACCES ? 1L : 0L);
}

static void via_threads(void)
{
	pthread_t t[64];
	long refused = 0;
	void *rc;
	int i;

	for (i = 0; i < 64; i++) {
		pthread_create(&t[i], NULL, thread_main, NULL);
	}
	for (i = 0; i < 64; i++) {
		pthread_join(t[i], &rc);
		refused += (long)rc == 1;
	}
	printf("THREADS refused %ld of 64\n", refused);
}

/* The descriptor travels to a new process image over SCM_RIGHTS. */
static void via_scm_rights(const char *self, const char *host, const char *port)
{
	char fdarg[16];
	int sv[2], fd, status;
	char byte = 'x';
	struct iovec iov = {&byte, 1};
	char control[CMSG_SPACE(sizeof(int))];
	struct msghdr m = {.msg_iov = &iov,
	                   .msg_iovlen = 1,
	                   .msg_control = control,
	                   .msg_controllen = sizeof(control)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		exit(2);
	}
	pid = fork();
	if (pid == 0) {
		fcntl(sv[1], F_SETFD, 0);
		snprintf(fdarg, sizeof(fdarg), "%d", sv[1]);
		execl(self, self, "scm-recv", host, port, fdarg, (char *)NULL);
		_exit(2);
	}
	fd = connected();
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(sv[0], &m, 0) < 0) {
		exit(2);
	}
	close(fd);
	waitpid(pid, &status, 0);
}

static void scm_receive(int unix_fd)
{
	char byte, control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {&byte, 1};
	struct msghdr m = {.msg_iov = &iov,
	                   .msg_iovlen = 1,
	                   .msg_control = control,
	                   .msg_controllen = sizeof(control)};
	int fd;

	if (recvmsg(unix_fd, &m, 0) <= 0 || CMSG_FIRSTHDR(&m) == NULL) {
		exit(2);
	}
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
	outcome(write(fd, payload, sizeof(payload) - 1));
}

/* A number reused after close_range must start clean: /dev/null gets it. */
static void via_close_range(void)
{
	int fd = connected(), null;

	close_range((unsigned int)fd, (unsigned int)fd, 0);
	null = open("/dev/null", O_WRONLY);
	if (null != fd) {
		printf("SETUP /dev/null got %d, not %d\n", null, fd);
		return;
	}
	outcome(write(null, payload, sizeof(payload) - 1));
}

/* close(2) by the syscall instruction itself: no wrapper can see it. */
static long raw_close(int fd)
{
#if defined(__x86_64__)
	long ret;

	__asm__ volatile("syscall"
	                 : "=a"(ret)
	                 : "a"((long)SYS_close), "D"((long)fd)
	                 : "rcx", "r11", "memory");
	return ret;
#else
	return syscall(SYS_close, fd);
#endif
}

/* A refused socket closed behind the shim's back: its number, reused by
 * open(), must not stay refused. */
static void via_stale_number(void)
{
	int fd = connected(), null;

	if (write(fd, payload, sizeof(payload) - 1) >= 0) {
		printf("SETUP plaintext was not refused\n");
		return;
	}
	raw_close(fd);
	null = open("/dev/null", O_WRONLY);
	if (null != fd) {
		printf("SETUP /dev/null got %d, not %d\n", null, fd);
		return;
	}
	outcome(write(null, payload, sizeof(payload) - 1));
}

int main(int argc, char **argv)
{
	const char *mode;
	int fd;

	if (argc == 5 && strcmp(argv[1], "scm-recv") == 0) {
		scm_receive(atoi(argv[4]));
		return 0;
	}
	if (argc != 4) {
		fprintf(stderr, "usage: sockprobe MODE HOST PORT\n");
		return 2;
	}
	mode = argv[1];
	setup_dest(argv[2], argv[3]);
	setvbuf(stdout, NULL, _IONBF, 0);
	if (strcmp(mode, "connect") == 0) {
		connected();
		printf("CONNECTED\n");
	} else if (strcmp(mode, "write") == 0) {
		outcome(write(connected(), payload, sizeof(payload) - 1));
	} else if (strcmp(mode, "byte-by-byte") == 0) {
		fd = connected();
		for (size_t i = 0; i < sizeof(payload) - 1; i++) {
			if (write(fd, payload + i, 1) < 0) {
				outcome(-1);
				return 0;
			}
		}
		outcome(sizeof(payload) - 1);
	} else if (strcmp(mode, "sendmsg") == 0) {
		outcome(via_sendmsg(connected()));
	} else if (strcmp(mode, "splice") == 0) {
		outcome(via_splice(connected()));
	} else if (strcmp(mode, "sendfile") == 0) {
		outcome(via_sendfile(connected()));
	} else if (strcmp(mode, "sendmmsg") == 0) {
		outcome(via_sendmmsg(connected()));
	} else if (strcmp(mode, "fastopen") == 0) {
		outcome(sendto(tcp_socket(), payload, sizeof(payload) - 1, MSG_FASTOPEN,
		               (struct sockaddr *)&dest, dest_len));
	} else if (strcmp(mode, "dup2") == 0) {
		fd = connected();
		if (dup2(fd, 77) != 77) {
			return 2;
		}
		close(fd);
		outcome(write(77, payload, sizeof(payload) - 1));
	} else if (strcmp(mode, "fork") == 0) {
		via_fork(connected());
	} else if (strcmp(mode, "threads") == 0) {
		via_threads();
	} else if (strcmp(mode, "scm") == 0) {
		via_scm_rights(argv[0], argv[2], argv[3]);
	} else if (strcmp(mode, "stale-number") == 0) {
		via_stale_number();
	} else if (strcmp(mode, "close-range") == 0) {
		via_close_range();
	} else if (strcmp(mode, "stderr") == 0) {
		/* stderr is unbuffered: every fprintf is a write inside libc. */
		int saved = dup(2);

		fd = connected();
		dup2(fd, 2);
		if (fprintf(stderr, "%s", payload) < 0) {
			dprintf(saved, "REFUSED %s\n", strerror(errno));
		} else {
			dprintf(saved, "SENT %zu\n", sizeof(payload) - 1);
		}
	} else if (strcmp(mode, "syscall-connect") == 0) {
		fd = tcp_socket();
		outcome(syscall(SYS_connect, fd, (struct sockaddr *)&dest, dest_len));
	} else if (strcmp(mode, "syscall-write") == 0) {
		outcome(syscall(SYS_write, connected(), payload, sizeof(payload) - 1));
	} else if (strcmp(mode, "stdout") == 0) {
		/* dup2 onto stdout, then printf: stdio writes through libc internals. */
		int saved = dup(1), rc;

		fd = connected();
		dup2(fd, 1);
		printf("%s", payload);
		rc = fflush(stdout);
		if (rc == 0) {
			dprintf(saved, "SENT %zu\n", sizeof(payload) - 1);
		} else {
			dprintf(saved, "REFUSED %s\n", strerror(errno));
		}
	} else {
		fprintf(stderr, "sockprobe: unknown mode %s\n", mode);
		return 2;
	}
	return 0;
}
