/*
 * tunnel_stress: THREADS threads, each with its own upgraded connection, to
 * find races in the tunnels (shim/tunnel/) under ThreadSanitizer.
 *
 * usage: tunnel_stress SECONDS PORT [THREADS]
 *
 * The program speaks only plaintext. The policy (tests/stress/run.sh) makes
 * outbound connections to 127.0.0.1:PORT upgrade_tls and the inbound listener
 * on PORT terminate_tls, so both ends of every connection are tunnels in this
 * one process: THREADS client pumps and THREADS server pumps run at once.
 * Each client thread loops until SECONDS have passed: connect (blocking),
 * 20 request/reply round trips of varying size (every reply checked byte for
 * byte), shutdown(SHUT_WR), the server's EOF, close. Meanwhile the threads
 * also read getpeername and set TCP_NODELAY on their connections, and one
 * more thread forks FORKS times while the parent's pumps run on: each child
 * makes one exchange on a connection it inherited (served by the parent's
 * pump) and, except under ThreadSanitizer (which refuses threads after a
 * multi-threaded fork), one on an upgraded connection of its own.
 * Prints one summary line; exits 0 only when every exchange was right.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 256
#define ROUNDS      20
#define MSG_MAX     4096
#define FORKS       5

#if defined(__SANITIZE_THREAD__)
#define CHILD_OWN_TUNNEL 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CHILD_OWN_TUNNEL 0
#endif
#endif
#ifndef CHILD_OWN_TUNNEL
#define CHILD_OWN_TUNNEL 1
#endif

static int seconds, threads;
static uint16_t port;
static atomic_long exchanges, failures, connections;
static atomic_int reports;

static void fail(const char *what)
{
	atomic_fetch_add(&failures, 1);
	if (atomic_fetch_add(&reports, 1) < 20) {
		fprintf(stderr, "tunnel_stress: %s: %s\n", what, strerror(errno));
	}
}

static int read_full(int fd, char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = read(fd, buf, len);
		if (n <= 0) {
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n <= 0) {
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The server side of one connection: echoes what it reads until EOF. */
static void *serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[MSG_MAX];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (write_full(fd, buf, (size_t)n) < 0) {
			break;
		}
	}
	close(fd);
	return NULL;
}

static void *accept_loop(void *arg)
{
	int lfd = (int)(intptr_t)arg, fd;
	pthread_t th;

	for (;;) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED) {
				continue;
			}
			return NULL;
		}
		if (pthread_create(&th, NULL, serve, (void *)(intptr_t)fd) != 0) {
			close(fd);
			continue;
		}
		pthread_detach(th);
	}
}

static void one_connection(unsigned *seed)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)}, peer;
	socklen_t plen = sizeof(peer);
	char out[MSG_MAX], in[MSG_MAX];
	int fd, one = 1, r;
	size_t len, i;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fail("connect");
		if (fd >= 0) {
			close(fd);
		}
		return;
	}
	atomic_fetch_add(&connections, 1);
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) < 0 || peer.sin_port != sa.sin_port ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
		fail("getpeername/TCP_NODELAY");
	}
	for (r = 0; r < ROUNDS; r++) {
		len = 1 + (size_t)(rand_r(seed) % (MSG_MAX - 1));
		for (i = 0; i < len; i++) {
			out[i] = (char)rand_r(seed);
		}
		if (write_full(fd, out, len) < 0 || read_full(fd, in, len) < 0) {
			fail("exchange");
			break;
		}
		if (memcmp(in, out, len) != 0) {
			errno = 0;
			fail("reply differs");
			break;
		}
		atomic_fetch_add(&exchanges, 1);
	}
	shutdown(fd, SHUT_WR);
	if (read(fd, in, 1) != 0) {
		fail("EOF after SHUT_WR");
	}
	close(fd);
}

/* Children made while the pumps of this process run: each has a tunnel of
 * its own; a child that does not finish within 30 s is a deadlock. */
static int connect_to(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void *forker(void *arg)
{
	unsigned seed = 7;
	char in[6];
	int i, status, fd;
	pid_t pid;

	(void)arg;
	for (i = 0; i < FORKS; i++) {
		usleep(200 * 1000);
		fd = connect_to();
		if (fd < 0) {
			fail("forker connect");
			continue;
		}
		pid = fork();
		if (pid == 0) {
			long before = atomic_load(&failures);

			alarm(30);
			if (write_full(fd, "child", 5) < 0 || read_full(fd, in, 5) < 0 ||
			    memcmp(in, "child", 5) != 0) {
				_exit(2);
			}
			if (CHILD_OWN_TUNNEL) {
				one_connection(&seed);
			}
			_exit(atomic_load(&failures) == before ? 0 : 1);
		}
		close(fd);
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			errno = 0;
			fprintf(stderr, "tunnel_stress: child status %#x\n", status);
			fail("forked child");
		}
	}
	return NULL;
}

static void *client(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u;
	time_t end = time(NULL) + seconds;

	while (time(NULL) < end) {
		one_connection(&seed);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	pthread_t th[MAX_THREADS + 1], acc;
	int lfd, i, one = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: tunnel_stress SECONDS PORT [THREADS]\n");
		return 2;
	}
	seconds = atoi(argv[1]);
	port = (uint16_t)atoi(argv[2]);
	threads = argc > 3 ? atoi(argv[3]) : 64;
	if (threads < 1 || threads > MAX_THREADS) {
		threads = 64;
	}
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 256) < 0) {
		perror("tunnel_stress: listen");
		return 1;
	}
	pthread_create(&acc, NULL, accept_loop, (void *)(intptr_t)lfd);
	pthread_detach(acc);
	for (i = 0; i < threads; i++) {
		pthread_create(&th[i], NULL, client, (void *)(uintptr_t)(i + 1));
	}
	pthread_create(&th[threads], NULL, forker, NULL);
	for (i = 0; i <= threads; i++) {
		pthread_join(th[i], NULL);
	}
	printf("tunnel_stress: %d threads, %ld connections, %ld exchanges, %ld failures\n", threads,
	       atomic_load(&connections), atomic_load(&exchanges), atomic_load(&failures));
	return atomic_load(&failures) == 0 && atomic_load(&exchanges) > 0 ? 0 : 1;
}
