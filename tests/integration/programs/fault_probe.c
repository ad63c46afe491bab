/*
 * fault_probe: ordinary system-call behaviour that the shim must leave as it
 * is, under pressure (t_faults.sh runs it with and without the shim). Prints
 * one result line per check; exit 0 when it could run, 2 when it could not
 * even be set up.
 *
 * usage: fault_probe MODE PORT [ARG]   (the destination is 127.0.0.1:PORT)
 *   refuse-many N  N connections, each writing plaintext: "REFUSED k of N"
 *   nonblock       non-blocking connect and read: "CONNECT e", "FLAGS f", "READ e"
 *   eintr          blocking read interrupted by SIGALRM: "READ e"
 *   fill           non-blocking writes until the socket is full: "FILLED total last"
 *   emfile         sockets until the limit: "SOCKET e", then one more connection
 *   emfile-cold N  the same, with the limit reached before the first socket
 *   highfd N       a connection dup2'ed to descriptor N writes plaintext
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static const char payload[] = "PLAINTEXT SECRET\n";
static struct sockaddr_in dest = {.sin_family = AF_INET};

/* "EACCES" rather than the locale's text: the tests compare errno names. */
static const char *errname(int err)
{
	switch (err) {
	case 0:
		return "0";
	case EACCES:
		return "EACCES";
	case EAGAIN:
		return "EAGAIN";
	case EINPROGRESS:
		return "EINPROGRESS";
	case EINTR:
		return "EINTR";
	case EMFILE:
		return "EMFILE";
	case ENFILE:
		return "ENFILE";
	case ECONNRESET:
		return "ECONNRESET";
	case EPIPE:
		return "EPIPE";
	case EBADF:
		return "EBADF";
	default:
		return strerror(err);
	}
}

static int connected(int flags)
{
	int fd = socket(AF_INET, SOCK_STREAM | flags, 0);

	if (fd < 0) {
		printf("SOCKET %s\n", errname(errno));
		exit(2);
	}
	if (connect(fd, (struct sockaddr *)&dest, sizeof(dest)) < 0 && errno != EINPROGRESS) {
		printf("CONNECT %s\n", errname(errno));
		exit(2);
	}
	return fd;
}

/* One refused write per connection, as fast as possible. */
static void refuse_many(int n)
{
	int i, fd, refused = 0;

	for (i = 0; i < n; i++) {
		fd = connected(0);
		if (write(fd, payload, sizeof(payload) - 1) < 0 && errno == EACCES) {
			refused++;
		}
		close(fd);
	}
	printf("REFUSED %d of %d\n", refused, n);
}

/* connect(2): a non-blocking socket gets EINPROGRESS and stays non-blocking;
 * read(2) with nothing to read gets EAGAIN. */
static void nonblock(void)
{
	struct pollfd pfd = {.events = POLLOUT};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int rc = connect(fd, (struct sockaddr *)&dest, sizeof(dest));
	char c;

	printf("CONNECT %s\n", errname(rc < 0 ? errno : 0));
	printf("FLAGS %s\n", fcntl(fd, F_GETFL) & O_NONBLOCK ? "O_NONBLOCK" : "blocking");
	pfd.fd = fd;
	poll(&pfd, 1, 5000);
	rc = (int)read(fd, &c, 1);
	printf("READ %s\n", errname(rc < 0 ? errno : 0));
	rc = (int)recv(fd, &c, 1, 0);
	printf("RECV %s\n", errname(rc < 0 ? errno : 0));
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* read(2) interrupted by a handler installed without SA_RESTART: EINTR. */
static void eintr(void)
{
	struct sigaction sa = {.sa_handler = on_alarm};
	struct itimerval it = {.it_value = {.tv_usec = 200000}};
	int fd = connected(0), rc;
	char c;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	rc = (int)read(fd, &c, 1);
	printf("READ %s\n", errname(rc < 0 ? errno : 0));
	setitimer(ITIMER_REAL, &it, NULL);
	rc = (int)recv(fd, &c, 1, 0);
	printf("RECV %s\n", errname(rc < 0 ? errno : 0));
}

/* Writes 64 KiB chunks to a peer that does not read, until the kernel says
 * EAGAIN; every count must be 0 < n <= 64 KiB. */
static void fill(void)
{
	static char chunk[65536];
	struct pollfd pfd = {.events = POLLOUT};
	int fd = connected(SOCK_NONBLOCK), bad = 0, shorts = 0, last = 0, i;
	long total = 0;
	ssize_t n;

	pfd.fd = fd;
	poll(&pfd, 1, 5000);
	memset(chunk, 'x', sizeof(chunk));
	for (i = 0; i < 100000; i++) {
		n = write(fd, chunk, sizeof(chunk));
		if (n < 0) {
			last = errno;
			break;
		}
		if (n == 0 || n > (ssize_t)sizeof(chunk)) {
			bad++;
		}
		shorts += n < (ssize_t)sizeof(chunk);
		total += n;
	}
	printf("FILLED %ld %s bad=%d\n", total, errname(last), bad);
	fprintf(stderr, "fault_probe: %d short writes\n", shorts);
	close(fd);
}

/* Sockets until the descriptor limit: the error is the kernel's; after one is
 * freed, a new require_tls connection works and still refuses plaintext. */
static void emfile(void)
{
	int first = connected(0), last = first, fd, n = 1;

	for (;;) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0) {
			printf("SOCKET %s after %d\n", errname(errno), n);
			break;
		}
		last = fd;
		n++;
	}
	close(last);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&dest, sizeof(dest)) < 0) {
		printf("AGAIN %s\n", errname(errno));
		return;
	}
	printf("AGAIN CONNECTED\n");
	printf("WRITE %s\n", errname(write(fd, payload, sizeof(payload) - 1) < 0 ? errno : 0));
}

/* A new connection to the destination, and a plaintext write on it. */
static void try_connect(void)
{
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&dest, sizeof(dest)) < 0) {
		printf("AGAIN %s\n", errname(errno));
		return;
	}
	printf("AGAIN CONNECTED\n");
	printf("WRITE %s\n", errname(write(fd, payload, sizeof(payload) - 1) < 0 ? errno : 0));
}

/* The limit reached with pipes before the program's first socket (so before
 * the shim has needed a descriptor of its own), then FREED descriptors closed;
 * then 16 more, and a second try. */
static void emfile_cold(int freed)
{
	int p[2], i;

	while (pipe(p) == 0) {
	}
	printf("PIPE %s\n", errname(errno));
	for (i = 1; i <= freed + 16; i++) {
		close(p[0] - i);
		if (i == freed) {
			try_connect();
		}
	}
	try_connect();
}

/* A governed connection moved to a high descriptor number stays governed. */
static void highfd(int target)
{
	int fd = connected(0);

	if (dup2(fd, target) != target) {
		printf("DUP2 %s\n", errname(errno));
		exit(2);
	}
	close(fd);
	printf("WRITE %d %s\n", target,
	       errname(write(target, payload, sizeof(payload) - 1) < 0 ? errno : 0));
}

int main(int argc, char **argv)
{
	const char *mode;
	int arg;

	if (argc < 3) {
		fprintf(stderr, "usage: fault_probe MODE PORT [ARG]\n");
		return 2;
	}
	mode = argv[1];
	arg = argc > 3 ? atoi(argv[3]) : 0;
	dest.sin_port = htons((uint16_t)atoi(argv[2]));
	dest.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(mode, "refuse-many") == 0) {
		refuse_many(arg);
	} else if (strcmp(mode, "nonblock") == 0) {
		nonblock();
	} else if (strcmp(mode, "eintr") == 0) {
		eintr();
	} else if (strcmp(mode, "fill") == 0) {
		fill();
	} else if (strcmp(mode, "emfile") == 0) {
		emfile();
	} else if (strcmp(mode, "emfile-cold") == 0) {
		emfile_cold(arg);
	} else if (strcmp(mode, "highfd") == 0) {
		highfd(arg);
	} else {
		fprintf(stderr, "fault_probe: unknown mode %s\n", mode);
		return 2;
	}
	return 0;
}
