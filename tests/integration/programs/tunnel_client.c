/*
 * A plaintext TCP client for the tunnel suites (t_tunnel_core.sh): it knows
 * nothing of TLS; the shim upgrades its connection. Each mode exercises one
 * thing a program must not notice:
 *
 *   tunnel_client MODE PORT [ARG]
 *   epoll     non-blocking connect, epoll for EPOLLOUT, SO_ERROR, request,
 *             edge-triggered reads to EOF; prints the first line and the size
 *   poll      the same with poll()
 *   sockopt   getpeername/getsockname, TCP_NODELAY, SO_KEEPALIVE, SO_ERROR,
 *             SO_DOMAIN, FIONREAD
 *   shutdown  writes ARG, shutdown(SHUT_WR), reads the reply to EOF
 *   close     writes ARG and closes at once (the pump flushes)
 *   sendfile  sendfile(ARG) into the socket, SHUT_WR, reads the reply
 *   fork      parent and child both write on the connection, then the reply
 *   exec      execs ARG with the connection as descriptor 3 (it writes "exec\n")
 *   execself  the process itself execs ARG (no fork): the pumps must survive
 *   execd     (what exec runs) writes on descriptor 3, shuts it, reads the reply
 *   many      ARG writes of 1 byte each, SHUT_WR, reads the reply
 *   first     reads first (server speaks first), then writes "hi\n", reads
 *   refused   blocking connect; prints "connect: <errno name>" or "connected",
 *             then the errno of a write and of a read
 *   nbrefused non-blocking connect; prints SO_ERROR's errno name
 *   hello     writes a TLS ClientHello header itself, then reads: prints errno
 * Exits 0 when the mode's exchange worked.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ename(int e)
{
	switch (e) {
	case 0:
		return "0";
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case ECONNRESET:
		return "ECONNRESET";
	case EACCES:
		return "EACCES";
	case EPIPE:
		return "EPIPE";
	case EAGAIN:
		return "EAGAIN";
	case EINPROGRESS:
		return "EINPROGRESS";
	default:
		return strerror(e);
	}
}

static struct sockaddr_in target(const char *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

static int connect_blocking(const char *port)
{
	struct sockaddr_in sa = target(port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		printf("connect: %s\n", ename(errno));
		exit(1);
	}
	return fd;
}

static int connect_nonblocking(const char *port)
{
	struct sockaddr_in sa = target(port);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno != EINPROGRESS) {
		printf("connect: %s (want EINPROGRESS)\n", ename(errno));
		exit(1);
	}
	return fd;
}

static int so_error(int fd)
{
	int err = -1;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
		return errno;
	}
	return err;
}

static void write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			poll(&p, 1, 10000);
			continue;
		}
		if (n <= 0) {
			printf("write: %s\n", ename(errno));
			exit(1);
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* Reads to EOF (blocking descriptor); prints what came. */
static int read_reply(int fd)
{
	char buf[65536];
	size_t got = 0;
	ssize_t n;

	while ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0) {
		got += (size_t)n;
		if (got == sizeof(buf) - 1) {
			break;
		}
	}
	if (n < 0) {
		printf("read: %s\n", ename(errno));
		return 1;
	}
	buf[got] = '\0';
	fputs(buf, stdout);
	return 0;
}

static const char request[] = "GET / HTTP/1.0\r\n\r\n";

static void print_response(const char *buf, size_t got)
{
	const char *eol = memchr(buf, '\r', got);

	printf("%.*s bytes=%zu\n", (int)(eol ? eol - buf : (long)(got < 40 ? got : 40)), buf, got);
}

static int mode_epoll(const char *port)
{
	static char buf[1 << 20];
	int fd = connect_nonblocking(port), ep = epoll_create1(0), spins = 0;
	struct epoll_event ev = {.events = EPOLLOUT}, out;
	size_t got = 0;
	ssize_t n;

	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	if (epoll_wait(ep, &out, 1, 10000) != 1 || so_error(fd) != 0) {
		printf("connect: %s\n", ename(so_error(fd)));
		return 1;
	}
	write_all(fd, request, sizeof(request) - 1);
	ev.events = EPOLLIN | EPOLLET;
	epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
	for (;;) {
		if (epoll_wait(ep, &out, 1, 10000) != 1) {
			printf("epoll: timeout\n");
			return 1;
		}
		/* edge-triggered: read until EAGAIN; a wake-up with nothing to
		 * read at all would be a spurious one */
		n = read(fd, buf + got, sizeof(buf) - got);
		if (n < 0 && errno == EAGAIN) {
			spins++;
			continue;
		}
		while (n > 0) {
			got += (size_t)n;
			n = read(fd, buf + got, sizeof(buf) - got);
		}
		if (n == 0) {
			break;
		}
		if (errno != EAGAIN) {
			printf("read: %s\n", ename(errno));
			return 1;
		}
	}
	print_response(buf, got);
	printf("spurious=%d\n", spins);
	return 0;
}

static int mode_poll(const char *port)
{
	static char buf[1 << 20];
	int fd = connect_nonblocking(port);
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	size_t got = 0;
	ssize_t n;

	if (poll(&p, 1, 10000) != 1 || so_error(fd) != 0) {
		printf("connect: %s\n", ename(so_error(fd)));
		return 1;
	}
	write_all(fd, request, sizeof(request) - 1);
	p.events = POLLIN;
	for (;;) {
		if (poll(&p, 1, 10000) != 1) {
			printf("poll: timeout\n");
			return 1;
		}
		n = read(fd, buf + got, sizeof(buf) - got);
		if (n == 0) {
			break;
		}
		if (n < 0) {
			if (errno == EAGAIN) {
				continue;
			}
			printf("read: %s\n", ename(errno));
			return 1;
		}
		got += (size_t)n;
	}
	print_response(buf, got);
	return 0;
}

static int mode_sockopt(const char *port)
{
	int fd = connect_blocking(port), one = 1, v = 0, pending = -1;
	struct sockaddr_in peer, self;
	socklen_t len = sizeof(peer), vlen = sizeof(v);

	if (getpeername(fd, (struct sockaddr *)&peer, &len) < 0) {
		printf("getpeername: %s\n", ename(errno));
		return 1;
	}
	printf("peer=%s:%d family=%s\n", inet_ntoa(peer.sin_addr), ntohs(peer.sin_port),
	       peer.sin_family == AF_INET ? "inet" : "other");
	len = sizeof(self);
	if (getsockname(fd, (struct sockaddr *)&self, &len) < 0) {
		printf("getsockname: %s\n", ename(errno));
		return 1;
	}
	printf("self=%s family=%s\n", inet_ntoa(self.sin_addr),
	       self.sin_family == AF_INET ? "inet" : "other");
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
	    getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &vlen) < 0) {
		printf("TCP_NODELAY: %s\n", ename(errno));
		return 1;
	}
	printf("nodelay=%d\n", v != 0);
	vlen = sizeof(v);
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, &vlen) < 0) {
		printf("SO_KEEPALIVE: %s\n", ename(errno));
		return 1;
	}
	printf("keepalive=%d\n", v != 0);
	vlen = sizeof(v);
	getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &vlen);
	printf("domain=%s\n", v == AF_INET ? "inet" : "other");
	printf("so_error=%s\n", ename(so_error(fd)));
	write_all(fd, request, sizeof(request) - 1);
	{
		struct pollfd p = {.fd = fd, .events = POLLIN};
		poll(&p, 1, 10000);
	}
	ioctl(fd, FIONREAD, &pending);
	printf("fionread_positive=%d\n", pending > 0);
	return 0;
}

static int mode_shutdown(const char *port, const char *text)
{
	int fd = connect_blocking(port);

	write_all(fd, text, strlen(text));
	if (shutdown(fd, SHUT_WR) < 0) {
		printf("shutdown: %s\n", ename(errno));
		return 1;
	}
	return read_reply(fd);
}

static int mode_close(const char *port, const char *text)
{
	int fd = connect_blocking(port);

	write_all(fd, text, strlen(text));
	return close(fd) == 0 ? 0 : 1;
}

static int mode_sendfile(const char *port, const char *path)
{
	int fd = connect_blocking(port), in = open(path, O_RDONLY);
	struct stat st;
	off_t off = 0;
	ssize_t n;

	if (in < 0 || fstat(in, &st) < 0) {
		printf("open: %s\n", ename(errno));
		return 1;
	}
	while (off < st.st_size) {
		n = sendfile(fd, in, &off, (size_t)(st.st_size - off));
		if (n <= 0) {
			printf("sendfile: %s\n", ename(errno));
			return 1;
		}
	}
	shutdown(fd, SHUT_WR);
	return read_reply(fd);
}

static int mode_fork(const char *port)
{
	int fd = connect_blocking(port), status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		write_all(fd, "child\n", 6);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	write_all(fd, "parent\n", 7);
	shutdown(fd, SHUT_WR);
	return read_reply(fd) || status != 0;
}

static int mode_exec(const char *port, const char *self)
{
	int fd = connect_blocking(port), status = 0;
	pid_t pid;

	if (fd != 3 && (dup2(fd, 3) < 0 || close(fd) < 0)) {
		return 1;
	}
	pid = fork();
	if (pid == 0) {
		execl(self, self, "execd", port, (char *)NULL);
		_exit(127);
	}
	/* the parent lets go of its copy: the child owns the connection now */
	close(3);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static int mode_execself(const char *port, const char *self)
{
	int fd = connect_blocking(port);

	write_all(fd, "before\n", 7);
	if (fd != 3 && (dup2(fd, 3) < 0 || close(fd) < 0)) {
		return 1;
	}
	execl(self, self, "execd", port, (char *)NULL);
	printf("exec: %s\n", ename(errno));
	return 1;
}

static int mode_execd(void)
{
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);

	if (getpeername(3, (struct sockaddr *)&peer, &len) == 0 && peer.sin_family == AF_INET) {
		printf("execd peer=%s:%d\n", inet_ntoa(peer.sin_addr), ntohs(peer.sin_port));
	} else {
		printf("execd getpeername: %s\n", ename(errno));
	}
	write_all(3, "exec\n", 5);
	shutdown(3, SHUT_WR);
	return read_reply(3);
}

static int mode_many(const char *port, const char *count)
{
	int fd = connect_blocking(port), n = atoi(count), i;

	for (i = 0; i < n; i++) {
		write_all(fd, "x", 1);
	}
	shutdown(fd, SHUT_WR);
	return read_reply(fd);
}

static int mode_first(const char *port)
{
	int fd = connect_blocking(port);
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);

	if (n <= 0) {
		printf("greeting: %s\n", n == 0 ? "EOF" : ename(errno));
		return 1;
	}
	buf[n] = '\0';
	printf("greeting=%s", buf);
	write_all(fd, "hi\n", 3);
	shutdown(fd, SHUT_WR);
	return read_reply(fd);
}

static int mode_refused(const char *port)
{
	struct sockaddr_in sa = target(port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char buf[16];

	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		printf("connect: %s\n", ename(errno));
	} else {
		printf("connected\n");
	}
	printf("write: %s\n", write(fd, request, sizeof(request) - 1) < 0 ? ename(errno) : "ok");
	printf("read: %s\n", read(fd, buf, sizeof(buf)) < 0 ? ename(errno) : "ok");
	return 0;
}

static int mode_nbrefused(const char *port)
{
	int fd = connect_nonblocking(port);
	struct pollfd p = {.fd = fd, .events = POLLOUT};

	poll(&p, 1, 10000);
	printf("so_error=%s\n", ename(so_error(fd)));
	printf("write: %s\n", write(fd, request, sizeof(request) - 1) < 0 ? ename(errno) : "ok");
	return 0;
}

static int mode_hello(const char *port)
{
	/* a TLS 1.2 record header and the start of a ClientHello */
	static const char hello[] = "\x16\x03\x01\x00\x40\x01\x00\x00\x3c\x03\x03";
	int fd = connect_blocking(port);
	char buf[16];
	ssize_t n;

	write_all(fd, hello, sizeof(hello) - 1);
	n = read(fd, buf, sizeof(buf));
	printf("read: %s\n", n < 0 ? ename(errno) : n == 0 ? "EOF" : "data");
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "", *port = argc > 2 ? argv[2] : "0";
	const char *arg = argc > 3 ? argv[3] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (strcmp(mode, "epoll") == 0)
		return mode_epoll(port);
	if (strcmp(mode, "poll") == 0)
		return mode_poll(port);
	if (strcmp(mode, "sockopt") == 0)
		return mode_sockopt(port);
	if (strcmp(mode, "shutdown") == 0)
		return mode_shutdown(port, arg);
	if (strcmp(mode, "close") == 0)
		return mode_close(port, arg);
	if (strcmp(mode, "sendfile") == 0)
		return mode_sendfile(port, arg);
	if (strcmp(mode, "fork") == 0)
		return mode_fork(port);
	if (strcmp(mode, "exec") == 0)
		return mode_exec(port, argv[0]);
	if (strcmp(mode, "execself") == 0)
		return mode_execself(port, argv[0]);
	if (strcmp(mode, "execd") == 0)
		return mode_execd();
	if (strcmp(mode, "many") == 0)
		return mode_many(port, arg);
	if (strcmp(mode, "first") == 0)
		return mode_first(port);
	if (strcmp(mode, "refused") == 0)
		return mode_refused(port);
	if (strcmp(mode, "nbrefused") == 0)
		return mode_nbrefused(port);
	if (strcmp(mode, "hello") == 0)
		return mode_hello(port);
	fprintf(stderr, "usage: tunnel_client MODE PORT [ARG]\n");
	return 2;
}
