/*
 * A plaintext TCP client for the tunnel suites (t_tunnel_core.sh,
 * t_tunnel_direct.sh): it knows nothing of TLS; the shim upgrades its
 * connection (or, mode serve, serves it over TLS). Each mode exercises one
 * thing a program must not notice:
 *
 *   tunnel_client MODE PORT [ARG [ARG2]]
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
 * The direct path (t_tunnel_direct.sh); the order modes first send "first\n"
 * and wait for it to come back (tunnel_core_peer.py echo1), write every byte
 * they send, in the order sent, to the file ARG, then SHUT_WR and read the
 * reply:
 *   orderout  2000 numbered lines, each sent another way (writev of 2 and of
 *             1 iovec, write, send, send MSG_MORE, sendmsg, sendto), and
 *             every 100 lines a 150000-byte write()
 *   orderstdio fdopen(fd, "w"): fprintf + fflush, then write(), 500 times
 *   orderfork 50 times: a child writes a line and 30000 bytes with one write()
 *             and exits, then the parent writes a line
 *   smallreads reads ARG bytes (byte i is i % 251) with read() of 1..100
 *             bytes; after a read made when nothing was ready, poll(POLLIN,
 *             5 s) before the next, which must not time out: prints how many
 *             reads found nothing ready (empty=N)
 *   rcvtimeo  SO_RCVTIMEO 300 ms, one read: prints its result and duration
 *   eintr     SIGALRM handler without SA_RESTART, alarm in 300 ms, one read
 *   restart   the same with SA_RESTART: the read waits for the peer's line
 *   jumpout   the same, but the handler siglongjmps out of the blocking read;
 *             then poll (3 s) and read must still get the peer's later line
 *   etlate    non-blocking, edge-triggered epoll: reads to EAGAIN, then waits
 *             for the lines the peer sends later
 *   peek      read(2), recv(MSG_PEEK), read: prints the three
 *   sigpipe   SIGPIPE at its default: send(MSG_NOSIGNAL) until it fails (2 s)
 *   burst     after the first exchange, a blocking read(), then poll(POLLIN,
 *             3 s) and read() (of 8 bytes, one record, and of 64 KiB in
 *             turn) until 20 lines came: prints burst: lines=N timeouts=K
 *             (records libssl read ahead must make fd readable)
 *   pollburst after the first exchange, poll(POLLIN, 3 s) before every read()
 *             of 64 KiB until 520 lines came: prints pollburst: lines=N
 *             timeouts=K (the pump decrypts them all: none stays in libssl)
 *   aftershut writes "before\n", shutdown(SHUT_WR), then send(MSG_NOSIGNAL)
 *             of "after\n": prints its errno (after_shut=EPIPE), then the reply
 *   bigwrite  one blocking write() of ARG bytes (after the first line came
 *             back): prints what it returned
 *   serve     a plaintext server: listens on 127.0.0.1:PORT, writes PORT to
 *             the file ARG, answers one connection's first ARG2 lines with
 *             "echo LINE" (blocking read(), one write() each): prints served=N
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
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
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
	case EINTR:
		return "EINTR";
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

/* ---- the direct path (t_tunnel_direct.sh) ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The ways to send one buffer; some go straight to the tunnel's SSL, the
 * others through the pair (tunnel.h). */
enum send_way { WAY_WRITEV2, WAY_WRITE, WAY_SENDMSG, WAY_SEND, WAY_MORE, WAY_WRITEV1, WAY_SENDTO };
#define N_WAYS 7

static ssize_t send_once(int fd, enum send_way way, const char *buf, size_t len)
{
	struct iovec iov[2] = {{(void *)buf, len / 2}, {(void *)(buf + len / 2), len - len / 2}};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 1};

	switch (way) {
	case WAY_WRITEV2:
		return writev(fd, iov, len >= 2 ? 2 : 1);
	case WAY_WRITE:
		return write(fd, buf, len);
	case WAY_SENDMSG:
		iov[0].iov_len = len;
		return sendmsg(fd, &msg, 0);
	case WAY_SEND:
		return send(fd, buf, len, 0);
	case WAY_MORE:
		return send(fd, buf, len, MSG_MORE);
	case WAY_WRITEV1:
		iov[0].iov_len = len;
		return writev(fd, iov, 1);
	case WAY_SENDTO:
		return sendto(fd, buf, len, 0, NULL, 0);
	default:
		errno = EINVAL;
		return -1;
	}
}

/* Sends all of buf the given way (the rest of a short send the same way),
 * and appends it to the record of what the program sent. */
static void send_way_all(int fd, enum send_way way, const char *buf, size_t len, FILE *sent)
{
	size_t off = 0;
	ssize_t n;

	fwrite(buf, 1, len, sent);
	while (off < len) {
		n = send_once(fd, way, buf + off, len - off);
		if (n <= 0) {
			printf("send way %d: %s\n", (int)way, ename(errno));
			exit(1);
		}
		off += (size_t)n;
	}
}

static FILE *open_sent(const char *path)
{
	FILE *sent = fopen(path, "w");

	if (sent == NULL) {
		printf("open %s: %s\n", path, ename(errno));
		exit(1);
	}
	return sent;
}

/* The first line, echoed by the peer (echo1): once it is back, the pump has
 * passed the program's first bytes (which always go through it) and the
 * pair is empty: the direct path may take the next write. */
static void first_exchange(int fd, FILE *sent)
{
	char buf[16];
	ssize_t n;
	size_t got = 0;

	write_all(fd, "first\n", 6);
	if (sent != NULL) {
		fputs("first\n", sent);
	}
	while (got < 6) {
		n = read(fd, buf + got, sizeof(buf) - got);
		if (n <= 0) {
			printf("first: %s\n", n == 0 ? "EOF" : ename(errno));
			exit(1);
		}
		got += (size_t)n;
	}
}

/* The end of an ordering mode: SHUT_WR, the peer's reply. */
static int finish_order(int fd, FILE *sent)
{
	if (fclose(sent) != 0 || shutdown(fd, SHUT_WR) < 0) {
		printf("shutdown: %s\n", ename(errno));
		return 1;
	}
	return read_reply(fd);
}

static int mode_orderout(const char *port, const char *path)
{
	static char big[150000];
	int fd = connect_blocking(port), i;
	FILE *sent = open_sent(path);
	char line[64];
	size_t k;

	first_exchange(fd, sent);
	for (i = 0; i < 2000; i++) {
		snprintf(line, sizeof(line), "%05d way=%d\n", i, i % N_WAYS);
		send_way_all(fd, (enum send_way)(i % N_WAYS), line, strlen(line), sent);
		if (i % 100 == 50) {
			/* more than the direct path takes at once, and more than
			 * the socket holds: the pump takes some over */
			for (k = 0; k < sizeof(big); k++) {
				big[k] =
				    k % 50 == 49 ? '\n' : (char)('a' + (i / 100 + k / 50) % 26);
			}
			send_way_all(fd, WAY_WRITE, big, sizeof(big), sent);
		}
	}
	return finish_order(fd, sent);
}

static int mode_orderstdio(const char *port, const char *path)
{
	int fd = connect_blocking(port), i;
	FILE *sent = open_sent(path), *fp = fdopen(fd, "w");
	char line[64];

	first_exchange(fd, sent);
	if (fp == NULL) {
		printf("fdopen: %s\n", ename(errno));
		return 1;
	}
	for (i = 0; i < 500; i++) {
		snprintf(line, sizeof(line), "%04d stdio\n", i);
		fputs(line, sent);
		if (fprintf(fp, "%s", line) < 0 || fflush(fp) != 0) {
			printf("fprintf: %s\n", ename(errno));
			return 1;
		}
		snprintf(line, sizeof(line), "%04d write\n", i);
		send_way_all(fd, WAY_WRITE, line, strlen(line), sent);
	}
	return finish_order(fd, sent);
}

static int mode_orderfork(const char *port, const char *path)
{
	static char block[30000];
	int fd = connect_blocking(port), i, status;
	FILE *sent = open_sent(path);
	char line[64];
	size_t k, len;
	pid_t pid;

	first_exchange(fd, sent);
	for (i = 0; i < 50; i++) {
		/* the child's line, and a block the pump is still busy with
		 * when the parent writes */
		len = (size_t)snprintf(block, sizeof(block), "%02d child\n", i);
		for (k = len; k < sizeof(block); k++) {
			block[k] = k % 60 == 59 ? '\n' : (char)('A' + i % 26);
		}
		fwrite(block, 1, sizeof(block), sent);
		fflush(sent);
		pid = fork();
		if (pid == 0) {
			_exit(write(fd, block, sizeof(block)) == (ssize_t)sizeof(block) ? 0 : 1);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			printf("child %d failed\n", i);
			return 1;
		}
		snprintf(line, sizeof(line), "%02d parent\n", i);
		send_way_all(fd, WAY_WRITE, line, strlen(line), sent);
	}
	return finish_order(fd, sent);
}

/* read() of 1..100 bytes at a time. When nothing is ready (poll with no
 * timeout), the read is made at once: it waits on the tunnel's SSL itself
 * (the direct path), and what it leaves of a record must make the next
 * poll(POLLIN, 5 s) return at once, or at least before the peer's next bytes
 * (it never times out while bytes remain). */
static int mode_smallreads(const char *port, const char *size)
{
	size_t want = (size_t)atol(size), got = 0, bad = 0, reads = 0, empty = 0, k;
	int fd = connect_blocking(port), timeouts = 0;
	bool waited = false;
	unsigned seed = 12345;
	unsigned char buf[128];
	ssize_t n;

	while (got < want) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		if (waited) {
			if (poll(&p, 1, 5000) != 1) {
				timeouts++;
				printf("poll: timed out with %zu of %zu bytes read\n", got, want);
				break;
			}
			waited = false;
		} else if (poll(&p, 1, 0) == 0) {
			empty++;
			waited = true;
		}
		seed = seed * 1103515245 + 12345;
		n = read(fd, buf, 1 + (seed >> 16) % 100);
		if (n <= 0) {
			printf("read: %s at %zu\n", n == 0 ? "EOF" : ename(errno), got);
			break;
		}
		for (k = 0; k < (size_t)n; k++) {
			bad += buf[k] != (got + k) % 251;
		}
		got += (size_t)n;
		reads++;
	}
	printf("smallreads got=%zu bad=%zu timeouts=%d reads=%zu empty=%zu\n", got, bad, timeouts,
	       reads, empty);
	return got == want && bad == 0 ? 0 : 1;
}

static int mode_rcvtimeo(const char *port)
{
	int fd = connect_blocking(port);
	struct timeval tv = {0, 300000};
	char buf[64];
	int64_t t0;
	ssize_t n;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		printf("SO_RCVTIMEO: %s\n", ename(errno));
		return 1;
	}
	t0 = now_ms();
	n = read(fd, buf, sizeof(buf));
	printf("rcvtimeo: n=%zd errno=%s ms=%lld\n", n, n < 0 ? ename(errno) : "0",
	       (long long)(now_ms() - t0));
	return 0;
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* SIGALRM's handler with flags, and the alarm in 300 ms. */
static void alarm_in_300ms(int flags)
{
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = flags};
	struct itimerval it = {{0, 0}, {0, 300000}};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

static int mode_eintr(const char *port)
{
	int fd = connect_blocking(port);
	char buf[64];
	int64_t t0;
	ssize_t n;

	alarm_in_300ms(0);
	t0 = now_ms();
	n = read(fd, buf, sizeof(buf));
	printf("eintr: n=%zd errno=%s ms=%lld alarms=%d\n", n, n < 0 ? ename(errno) : "0",
	       (long long)(now_ms() - t0), (int)alarms);
	return 0;
}

static sigjmp_buf jump_back;

static void on_alarm_jump(int sig)
{
	(void)sig;
	alarms++;
	siglongjmp(jump_back, 1);
}

/* An old-style read timeout: the handler jumps out of the read, which never
 * returns. The connection must still work as a plain socket would. */
static int mode_jumpout(const char *port)
{
	int fd = connect_blocking(port);
	struct sigaction sa = {.sa_handler = on_alarm_jump, .sa_flags = SA_RESTART};
	struct itimerval it = {{0, 0}, {0, 300000}};
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char buf[64];
	ssize_t n;
	int rc;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	if (sigsetjmp(jump_back, 1) == 0) {
		setitimer(ITIMER_REAL, &it, NULL);
		n = read(fd, buf, sizeof(buf));
		printf("jumpout: the read returned %zd before the alarm\n", n);
		return 1;
	}
	rc = poll(&p, 1, 3000);
	if (rc != 1) {
		printf("jumpout: poll=%d alarms=%d\n", rc, (int)alarms);
		return 1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0) {
		printf("jumpout: read=%zd %s\n", n, n < 0 ? ename(errno) : "");
		return 1;
	}
	buf[n] = '\0';
	printf("jumpout: got=[%s] alarms=%d\n", strtok(buf, "\n") ? buf : "", (int)alarms);
	return 0;
}

static int mode_restart(const char *port)
{
	int fd = connect_blocking(port);
	char buf[64];
	int64_t t0;
	ssize_t n;

	alarm_in_300ms(SA_RESTART);
	t0 = now_ms();
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		printf("restart: read: %s alarms=%d\n", ename(errno), (int)alarms);
		return 1;
	}
	buf[n] = '\0';
	printf("restart: got=[%s] ms=%lld alarms=%d\n", strtok(buf, "\n") ? buf : "",
	       (long long)(now_ms() - t0), (int)alarms);
	return 0;
}

/* Non-blocking reads until EAGAIN; what they got appended to acc. */
static int drain(int fd, char *acc, size_t cap)
{
	size_t len = strlen(acc);
	ssize_t n;

	while ((n = read(fd, acc + len, cap - 1 - len)) > 0) {
		len += (size_t)n;
		acc[len] = '\0';
	}
	if (n == 0 || errno != EAGAIN) {
		printf("read: %s\n", n == 0 ? "EOF" : ename(errno));
		return -1;
	}
	return 0;
}

/* Edge-triggered epoll on a connection whose peer speaks later ("late"). */
static int mode_etlate(const char *port)
{
	int fd = connect_blocking(port), ep = epoll_create1(0), wakes = 0;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET}, out;
	char acc[256] = "", *eol;
	int64_t t0 = now_ms();

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	if (drain(fd, acc, sizeof(acc)) < 0) {
		return 1;
	}
	printf("etlate: before=[%s]\n", acc);
	while (strstr(acc, "later\n") == NULL) {
		if (epoll_wait(ep, &out, 1, 5000) != 1) {
			printf("etlate: epoll_wait timed out after %d wake-ups, got [%s]\n", wakes,
			       acc);
			return 1;
		}
		wakes++;
		if (drain(fd, acc, sizeof(acc)) < 0) {
			return 1;
		}
	}
	for (eol = acc; (eol = strchr(eol, '\n')) != NULL;) {
		*eol = ',';
	}
	printf("etlate: got=[%s] wakes=%d ms=%lld\n", acc, wakes, (long long)(now_ms() - t0));
	return 0;
}

static int mode_peek(const char *port)
{
	int fd = connect_blocking(port);
	char head[8] = "", peeked[64] = "", got[64] = "";
	ssize_t n;

	/* a read of less than the record first: the rest is left in libssl */
	n = read(fd, head, 2);
	if (n != 2) {
		printf("read: %zd %s\n", n, ename(errno));
		return 1;
	}
	n = recv(fd, peeked, sizeof(peeked) - 1, MSG_PEEK);
	if (n <= 0) {
		printf("peek: %s\n", n == 0 ? "EOF" : ename(errno));
		return 1;
	}
	n = read(fd, got, sizeof(got) - 1);
	if (n <= 0) {
		printf("read: %s\n", n == 0 ? "EOF" : ename(errno));
		return 1;
	}
	printf("peek: head=[%s] peeked=[%.*s] read=[%.*s]\n", head, (int)strcspn(peeked, "\n"),
	       peeked, (int)strcspn(got, "\n"), got);
	return 0;
}

/* SIGPIPE left at its default; sends with MSG_NOSIGNAL to a peer that reset
 * the connection must fail, and never kill the program. */
static int mode_sigpipe(const char *port)
{
	int fd = connect_blocking(port), i;
	static const char chunk[1024];
	int64_t t0;

	signal(SIGPIPE, SIG_DFL);
	if (send(fd, "bye\n", 4, MSG_NOSIGNAL) != 4) {
		printf("send: %s\n", ename(errno));
		return 1;
	}
	t0 = now_ms();
	for (i = 0; now_ms() - t0 < 2000; i++) {
		if (send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL) < 0) {
			printf("sigpipe: send failed errno=%s after=%d sends\n", ename(errno), i);
			return 0;
		}
		poll(NULL, 0, 10);
	}
	printf("sigpipe: %d sends in 2 s, none failed\n", i);
	return 1;
}

/* Reads the peer's burst of want one-line records, which arrive at once,
 * counting lines: poll(POLLIN, 3 s) before every read (poll_first) or every
 * read but the first (a blocking read waits for the burst, returns its
 * first record, and poll must see the rest); reads of small bytes and of 64
 * KiB in turn (small: a record's worth), or always of 64 KiB (small 0).
 * Whole records left in libssl must make fd readable. */
static int read_burst(const char *port, const char *name, int want, bool poll_first, size_t small)
{
	int fd = connect_blocking(port), lines = 0, timeouts = 0;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	static char buf[65536];
	ssize_t n, k;

	first_exchange(fd, NULL);
	while (lines < want && timeouts < 2) {
		if ((poll_first || lines > 0) && poll(&pfd, 1, 3000) == 0) {
			timeouts++;
			continue;
		}
		if ((n = read(fd, buf, small != 0 && lines % 2 == 0 ? small : sizeof(buf))) <= 0) {
			break;
		}
		for (k = 0; k < n; k++) {
			lines += buf[k] == '\n';
		}
	}
	printf("%s: lines=%d timeouts=%d\n", name, lines, timeouts);
	return lines == want && timeouts == 0 ? 0 : 1;
}

/* A write after shutdown(SHUT_WR) fails with EPIPE, as on the socket, and
 * its bytes never reach the peer. */
static int mode_aftershut(const char *port)
{
	int fd = connect_blocking(port);

	first_exchange(fd, NULL);
	write_all(fd, "before\n", 7);
	if (shutdown(fd, SHUT_WR) < 0) {
		printf("shutdown: %s\n", ename(errno));
		return 1;
	}
	if (send(fd, "after\n", 6, MSG_NOSIGNAL) < 0) {
		printf("after_shut=%s\n", ename(errno));
	} else {
		printf("after_shut=sent\n");
	}
	return read_reply(fd);
}

/* One write() of ARG bytes on a blocking descriptor: it writes them all,
 * as write(2) on a blocking stream socket does. */
static int mode_bigwrite(const char *port, const char *size)
{
	size_t len = (size_t)atol(size), k;
	int fd = connect_blocking(port);
	char *buf = malloc(len);
	ssize_t n;

	if (buf == NULL) {
		return 1;
	}
	for (k = 0; k < len; k++) {
		buf[k] = k % 64 == 63 ? '\n' : (char)('a' + k / 64 % 26);
	}
	first_exchange(fd, NULL);
	n = write(fd, buf, len);
	printf("bigwrite: n=%zd\n", n);
	if (n > 0 && (size_t)n < len) {
		write_all(fd, buf + n, len - (size_t)n);
	}
	shutdown(fd, SHUT_WR);
	return read_reply(fd);
}

/* A plaintext server (terminate_tls): one connection, COUNT requests of one
 * line each, read with blocking read(), answered with one write() each. */
static int mode_serve(const char *port, const char *portfile, const char *count)
{
	struct sockaddr_in sa = target(port);
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1, fd, want = atoi(count), served = 0;
	static char line[65536], answer[65536 + 8];
	size_t len = 0;
	char *eol, tmp[4096];
	ssize_t n;
	FILE *pf;

	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 4) < 0) {
		printf("serve: bind: %s\n", ename(errno));
		return 1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
	pf = fopen(tmp, "w");
	if (pf == NULL || fprintf(pf, "%s\n", port) < 0 || fclose(pf) != 0 ||
	    rename(tmp, portfile) < 0) {
		return 1;
	}
	fd = accept(ls, NULL, NULL);
	if (fd < 0) {
		printf("serve: accept: %s\n", ename(errno));
		return 1;
	}
	while (served < want) {
		eol = memchr(line, '\n', len);
		if (eol == NULL) {
			n = read(fd, line + len, sizeof(line) - len);
			if (n <= 0) {
				printf("serve: read: %s\n", n == 0 ? "EOF" : ename(errno));
				break;
			}
			len += (size_t)n;
			continue;
		}
		n = snprintf(answer, sizeof(answer), "echo %.*s", (int)(eol - line + 1), line);
		if (write(fd, answer, (size_t)n) != n) {
			printf("serve: write: %s\n", ename(errno));
			break;
		}
		len -= (size_t)(eol - line + 1);
		memmove(line, eol + 1, len);
		served++;
	}
	printf("served=%d\n", served);
	return served == want ? 0 : 1;
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
	if (strcmp(mode, "burst") == 0)
		return read_burst(port, "burst", 20, false, 8);
	if (strcmp(mode, "pollburst") == 0)
		return read_burst(port, "pollburst", 520, true, 0);
	if (strcmp(mode, "aftershut") == 0)
		return mode_aftershut(port);
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
	if (strcmp(mode, "orderout") == 0)
		return mode_orderout(port, arg);
	if (strcmp(mode, "orderstdio") == 0)
		return mode_orderstdio(port, arg);
	if (strcmp(mode, "orderfork") == 0)
		return mode_orderfork(port, arg);
	if (strcmp(mode, "smallreads") == 0)
		return mode_smallreads(port, arg);
	if (strcmp(mode, "rcvtimeo") == 0)
		return mode_rcvtimeo(port);
	if (strcmp(mode, "eintr") == 0)
		return mode_eintr(port);
	if (strcmp(mode, "restart") == 0)
		return mode_restart(port);
	if (strcmp(mode, "jumpout") == 0)
		return mode_jumpout(port);
	if (strcmp(mode, "etlate") == 0)
		return mode_etlate(port);
	if (strcmp(mode, "peek") == 0)
		return mode_peek(port);
	if (strcmp(mode, "sigpipe") == 0)
		return mode_sigpipe(port);
	if (strcmp(mode, "bigwrite") == 0)
		return mode_bigwrite(port, arg);
	if (strcmp(mode, "serve") == 0)
		return mode_serve(port, arg, argc > 4 ? argv[4] : "1");
	fprintf(stderr, "usage: tunnel_client MODE PORT [ARG]\n");
	return 2;
}
