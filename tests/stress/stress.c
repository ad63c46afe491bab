/*
 * stress: many threads hammering the shim at once, to find races (run under
 * ThreadSanitizer by tests/stress/run.sh), deadlocks (fork while other threads
 * are inside the shim) and descriptor confusion (a number reused right after a
 * governed socket closed).
 *
 * usage: stress SECONDS CA_FILE CERT_FILE KEY_FILE ALLOW DENY PLAIN TLS [THREADS]
 *
 * The four ports are on 127.0.0.1 and the policy (written by run.sh) says:
 *   ALLOW  outbound allow, inbound allow: an in-process echo server
 *   DENY   outbound deny: nothing listens
 *   PLAIN  outbound require_tls, inbound allow: an in-process server that
 *          counts every byte it receives (must stay 0)
 *   TLS    outbound and inbound require_tls: an in-process TLS 1.3 server with
 *          CERT_FILE/KEY_FILE; the client verifies against CA_FILE
 *
 * Each client thread loops over the four destinations plus a descriptor-reuse
 * check until SECONDS have passed; one more thread forks a few times meanwhile.
 * Prints one summary line; exits 0 only when every result was the expected one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS    256
#define SERVER_THREADS 8
#define FORKS          5
#define IO_TIMEOUT_SEC 20
/* A child that has not finished its two connections by then is deadlocked. */
#define CHILD_LIMIT_SEC 30
/* The whole run fails when it has not finished this long after SECONDS. */
#define WATCHDOG_SEC 60
#define MAX_REPORTS  20

static const char request[] = "PLAINTEXT REQUEST\n";
static const char reply[] = "REPLY\n";

enum op { OP_ALLOW, OP_DENY, OP_PLAIN, OP_TLS, OP_REUSE, OP_FORK, OP_COUNT };
static const char *const op_names[OP_COUNT] = {"allow", "deny",  "plaintext",
                                               "tls",   "reuse", "fork"};

static struct {
	int seconds;
	int threads;
	uint16_t port[OP_TLS + 1]; /* indexed by OP_ALLOW..OP_TLS; port[OP_REUSE] unused */
	SSL_CTX *client_ctx;
	SSL_CTX *server_ctx;
} cfg;

static atomic_bool stop;
static atomic_bool finished;
static atomic_long passed[OP_COUNT];
static atomic_long failed[OP_COUNT];
static atomic_long same_number; /* reuse checks where the pipe got the socket's number */
static atomic_long plain_bytes; /* bytes the require_tls plaintext server received */
static atomic_long plain_open;  /* its connections accepted and not yet closed */
static atomic_int reports;

/* One line per wrong result (the first MAX_REPORTS), and the failure counted. */
static void fail(enum op op, const char *what, int err)
{
	atomic_fetch_add(&failed[op], 1);
	if (atomic_fetch_add(&reports, 1) < MAX_REPORTS) {
		fprintf(stderr, "stress: %s: %s (errno %d: %s)\n", op_names[op], what, err,
		        strerror(err));
	}
}

static void pass(enum op op)
{
	atomic_fetch_add(&passed[op], 1);
}

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

/* A socket with I/O timeouts, so a lost reply shows up as a failure, not a hang. */
static int tcp_socket(void)
{
	struct timeval tv = {.tv_sec = IO_TIMEOUT_SEC};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* connect() to 127.0.0.1:port; returns its result with errno. */
static int connect_to(int fd, uint16_t port)
{
	struct sockaddr_in sin = loopback(port);

	return connect(fd, (struct sockaddr *)&sin, sizeof(sin));
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the in-process servers ---- */

struct server {
	enum op op;
	int fd;
};

static int listen_on(uint16_t port)
{
	struct sockaddr_in sin = loopback(port);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 512) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ALLOW: reads the request line, answers with the reply. */
static void serve_echo(int fd)
{
	char buf[sizeof(request)];
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(request) - 1) {
		n = read(fd, buf + got, sizeof(request) - 1 - got);
		if (n <= 0) {
			return;
		}
		got += (size_t)n;
	}
	(void)!write(fd, reply, sizeof(reply) - 1);
}

/* PLAIN: counts everything that arrives until the client goes away. */
static void serve_count(int fd)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		atomic_fetch_add(&plain_bytes, n);
	}
}

/* TLS: handshake, request line, reply. */
static void serve_tls(int fd)
{
	char buf[sizeof(request)];
	SSL *ssl = SSL_new(cfg.server_ctx);
	int got = 0, n;

	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1) {
		goto out;
	}
	while (got < (int)sizeof(request) - 1) {
		n = SSL_read(ssl, buf + got, (int)sizeof(request) - 1 - got);
		if (n <= 0) {
			goto out;
		}
		got += n;
	}
	if (SSL_write(ssl, reply, sizeof(reply) - 1) > 0) {
		SSL_shutdown(ssl);
	}
out:
	SSL_free(ssl);
	ERR_clear_error();
}

static void *server_main(void *arg)
{
	const struct server *srv = arg;
	struct timeval tv = {.tv_sec = IO_TIMEOUT_SEC};
	int fd;

	for (;;) {
		fd = accept4(srv->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED) {
				continue;
			}
			return NULL; /* the listener was shut down: the run is over */
		}
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		switch (srv->op) {
		case OP_ALLOW:
			serve_echo(fd);
			break;
		case OP_PLAIN:
			atomic_fetch_add(&plain_open, 1);
			serve_count(fd);
			atomic_fetch_sub(&plain_open, 1);
			break;
		case OP_TLS:
			serve_tls(fd);
			break;
		default:
			break;
		}
		close(fd);
	}
}

/* ---- what each client thread checks ---- */

/* ALLOW: plaintext both ways works. */
static void check_allow(void)
{
	char buf[sizeof(reply)] = {0};
	size_t got = 0;
	ssize_t n;
	int fd = tcp_socket();

	if (fd < 0 || connect_to(fd, cfg.port[OP_ALLOW]) < 0) {
		fail(OP_ALLOW, "connect to an allowed destination failed", errno);
		goto out;
	}
	if (write(fd, request, sizeof(request) - 1) != (ssize_t)sizeof(request) - 1) {
		fail(OP_ALLOW, "plaintext write to an allowed destination failed", errno);
		goto out;
	}
	while (got < sizeof(reply) - 1) {
		n = read(fd, buf + got, sizeof(reply) - 1 - got);
		if (n <= 0) {
			fail(OP_ALLOW, "no reply from the allowed server", n == 0 ? EPIPE : errno);
			goto out;
		}
		got += (size_t)n;
	}
	if (memcmp(buf, reply, sizeof(reply) - 1) != 0) {
		fail(OP_ALLOW, "wrong reply from the allowed server", 0);
		goto out;
	}
	pass(OP_ALLOW);
out:
	if (fd >= 0) {
		close(fd);
	}
}

/* DENY: connect fails with EACCES. */
static void check_deny(void)
{
	int fd = tcp_socket();

	if (fd < 0) {
		fail(OP_DENY, "socket", errno);
		return;
	}
	if (connect_to(fd, cfg.port[OP_DENY]) == 0) {
		fail(OP_DENY, "connect to a denied destination succeeded", 0);
	} else if (errno != EACCES) {
		fail(OP_DENY, "connect to a denied destination: wrong errno", errno);
	} else {
		pass(OP_DENY);
	}
	close(fd);
}

/* PLAIN: connect works, the plaintext write fails with EACCES. */
static void check_plain(void)
{
	int fd = tcp_socket();

	if (fd < 0 || connect_to(fd, cfg.port[OP_PLAIN]) < 0) {
		fail(OP_PLAIN, "connect to the require_tls server failed", errno);
		goto out;
	}
	if (write(fd, request, sizeof(request) - 1) >= 0) {
		fail(OP_PLAIN, "plaintext write to a require_tls destination succeeded", 0);
	} else if (errno != EACCES) {
		fail(OP_PLAIN, "plaintext write: wrong errno", errno);
	} else {
		pass(OP_PLAIN);
	}
out:
	if (fd >= 0) {
		close(fd);
	}
}

/* TLS: a verified TLS 1.3 handshake, then a request and its reply. */
static void check_tls(void)
{
	char buf[sizeof(reply)] = {0};
	SSL *ssl = NULL;
	int got = 0, n, fd = tcp_socket();

	if (fd < 0 || connect_to(fd, cfg.port[OP_TLS]) < 0) {
		fail(OP_TLS, "connect to the TLS server failed", errno);
		goto out;
	}
	ssl = SSL_new(cfg.client_ctx);
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_set1_host(ssl, "localhost") != 1 ||
	    SSL_set_tlsext_host_name(ssl, "localhost") != 1) {
		fail(OP_TLS, "SSL setup", 0);
		goto out;
	}
	if (SSL_connect(ssl) != 1) {
		fail(OP_TLS, "handshake with the trusted TLS server failed", errno);
		goto out;
	}
	if (SSL_version(ssl) != TLS1_3_VERSION) {
		fail(OP_TLS, "not TLS 1.3", 0);
		goto out;
	}
	if (SSL_write(ssl, request, sizeof(request) - 1) != (int)sizeof(request) - 1) {
		fail(OP_TLS, "SSL_write failed", errno);
		goto out;
	}
	while (got < (int)sizeof(reply) - 1) {
		n = SSL_read(ssl, buf + got, (int)sizeof(reply) - 1 - got);
		if (n <= 0) {
			fail(OP_TLS, "no reply from the TLS server", errno);
			goto out;
		}
		got += n;
	}
	if (memcmp(buf, reply, sizeof(reply) - 1) != 0) {
		fail(OP_TLS, "wrong reply from the TLS server", 0);
		goto out;
	}
	pass(OP_TLS);
out:
	SSL_free(ssl);
	ERR_clear_error();
	if (fd >= 0) {
		close(fd);
	}
}

/* Writes to a fresh pipe (which likely got the number just closed) must work,
 * and the byte must come out the other end. */
static void write_pipe(int closed_fd)
{
	int p[2];
	char c = 0;

	if (pipe2(p, O_CLOEXEC) < 0) {
		fail(OP_REUSE, "pipe", errno);
		return;
	}
	if (p[0] == closed_fd || p[1] == closed_fd) {
		atomic_fetch_add(&same_number, 1);
	}
	if (write(p[1], "x", 1) != 1) {
		fail(OP_REUSE, "write to a pipe on a reused number failed", errno);
	} else if (read(p[0], &c, 1) != 1 || c != 'x') {
		fail(OP_REUSE, "pipe lost the byte", errno);
	} else {
		pass(OP_REUSE);
	}
	close(p[0]);
	close(p[1]);
}

/* REUSE: a number that belonged to a require_tls socket never inherits its
 * state: once for a socket that was refused, once for one never written. */
static void check_reuse(bool refuse_first)
{
	int fd = tcp_socket();

	if (fd < 0 || connect_to(fd, cfg.port[OP_PLAIN]) < 0) {
		fail(OP_REUSE, "connect to the require_tls server failed", errno);
		if (fd >= 0) {
			close(fd);
		}
		return;
	}
	if (refuse_first && write(fd, request, sizeof(request) - 1) >= 0) {
		fail(OP_REUSE, "plaintext write to a require_tls destination succeeded", 0);
	}
	close(fd);
	write_pipe(fd);
}

static void *client_main(void *arg)
{
	unsigned round = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		check_allow();
		check_deny();
		check_plain();
		check_tls();
		check_reuse(round++ % 2 == 0);
	}
	return NULL;
}

/* ---- fork while the other threads are inside the shim ---- */

/* In the child: the inherited require_tls connection still refuses plaintext,
 * and a new allowed connection works. Exit status: which check went wrong. */
static void child_main(int inherited)
{
	char buf[sizeof(reply)] = {0};
	int fd;

	/* The default action of SIGALRM kills the child: a deadlocked child (a
	 * lock held by a thread that does not exist here) shows as a signal. */
	alarm(CHILD_LIMIT_SEC);
	if (write(inherited, request, sizeof(request) - 1) >= 0 || errno != EACCES) {
		_exit(10);
	}
	fd = tcp_socket();
	if (fd < 0 || connect_to(fd, cfg.port[OP_ALLOW]) < 0) {
		_exit(11);
	}
	if (write(fd, request, sizeof(request) - 1) != (ssize_t)sizeof(request) - 1) {
		_exit(12);
	}
	if (read(fd, buf, sizeof(reply) - 1) <= 0 || memcmp(buf, reply, 2) != 0) {
		_exit(13);
	}
	_exit(0);
}

static void fork_once(void)
{
	int status = 0, fd = tcp_socket();
	pid_t pid;

	if (fd < 0 || connect_to(fd, cfg.port[OP_PLAIN]) < 0) {
		fail(OP_FORK, "connect to the require_tls server failed", errno);
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		fail(OP_FORK, "fork", errno);
		goto out;
	}
	if (pid == 0) {
		child_main(fd);
	}
	if (waitpid(pid, &status, 0) != pid) {
		fail(OP_FORK, "waitpid", errno);
	} else if (WIFSIGNALED(status)) {
		fail(OP_FORK, WTERMSIG(status) == SIGALRM ? "child deadlocked" : "child killed",
		     WTERMSIG(status));
	} else if (WEXITSTATUS(status) != 0) {
		/* 10: plaintext not refused, 11-13: the allowed connection failed */
		fail(OP_FORK, "child found a wrong result (status is the errno field)",
		     WEXITSTATUS(status));
	} else {
		pass(OP_FORK);
	}
out:
	if (fd >= 0) {
		close(fd);
	}
}

static void sleep_sec(double sec)
{
	struct timespec ts = {.tv_sec = (time_t)sec};

	ts.tv_nsec = (long)((sec - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
	}
}

static void *forker_main(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < FORKS && !atomic_load(&stop); i++) {
		sleep_sec((double)cfg.seconds / (FORKS + 1));
		fork_once();
	}
	return NULL;
}

/* Fails the run when it is not over long after it should be: a deadlock. A
 * thread rather than alarm(), whose handler may never run in a stuck process. */
static void *watchdog_main(void *arg)
{
	static const char msg[] = "stress: watchdog: the run did not finish (deadlock?)\n";
	double deadline = now_sec() + cfg.seconds + WATCHDOG_SEC;

	(void)arg;
	while (!atomic_load(&finished)) {
		if (now_sec() > deadline) {
			(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
			_exit(3);
		}
		sleep_sec(0.2);
	}
	return NULL;
}

/* ---- set-up and the run ---- */

static SSL_CTX *tls_context(bool server, const char *ca, const char *cert, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1) {
		goto err;
	}
	if (server && (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	               SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)) {
		goto err;
	}
	if (!server) {
		if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
			goto err;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	return ctx;
err:
	ERR_print_errors_fp(stderr);
	SSL_CTX_free(ctx);
	return NULL;
}

static uint16_t port_arg(const char *s)
{
	long v = strtol(s, NULL, 10);

	if (v <= 0 || v > 65535) {
		fprintf(stderr, "stress: bad port %s\n", s);
		exit(2);
	}
	return (uint16_t)v;
}

static void parse_args(int argc, char **argv)
{
	if (argc != 9 && argc != 10) {
		fprintf(stderr, "usage: stress SECONDS CA_FILE CERT_FILE KEY_FILE "
		                "ALLOW DENY PLAIN TLS [THREADS]\n");
		exit(2);
	}
	cfg.seconds = atoi(argv[1]);
	cfg.threads = argc == 10 ? atoi(argv[9]) : 64;
	if (cfg.seconds <= 0 || cfg.threads <= 0 || cfg.threads > MAX_THREADS) {
		fprintf(stderr, "stress: bad duration or thread count\n");
		exit(2);
	}
	cfg.port[OP_ALLOW] = port_arg(argv[5]);
	cfg.port[OP_DENY] = port_arg(argv[6]);
	cfg.port[OP_PLAIN] = port_arg(argv[7]);
	cfg.port[OP_TLS] = port_arg(argv[8]);
	cfg.client_ctx = tls_context(false, argv[2], NULL, NULL);
	cfg.server_ctx = tls_context(true, NULL, argv[3], argv[4]);
	if (cfg.client_ctx == NULL || cfg.server_ctx == NULL) {
		fprintf(stderr, "stress: cannot set up TLS\n");
		exit(2);
	}
}

/* The servers: SERVER_THREADS threads accepting on each listener. */
static void start_servers(struct server srv[3])
{
	static const enum op ops[3] = {OP_ALLOW, OP_PLAIN, OP_TLS};
	pthread_t t;
	int i, j;

	for (i = 0; i < 3; i++) {
		srv[i].op = ops[i];
		srv[i].fd = listen_on(cfg.port[ops[i]]);
		if (srv[i].fd < 0) {
			fprintf(stderr, "stress: listen on %u: %s\n", cfg.port[ops[i]],
			        strerror(errno));
			exit(2);
		}
		for (j = 0; j < SERVER_THREADS; j++) {
			if (pthread_create(&t, NULL, server_main, &srv[i]) != 0) {
				exit(2);
			}
			pthread_detach(t);
		}
	}
}

/* Waits (bounded) for the counting server to see every client go away, so the
 * byte count is final. */
static void drain_plain_server(void)
{
	double until = now_sec() + IO_TIMEOUT_SEC;

	while (atomic_load(&plain_open) > 0 && now_sec() < until) {
		sleep_sec(0.01);
	}
}

static int summary(void)
{
	long bad = 0;
	int i;

	printf("stress: %d s, %d threads:", cfg.seconds, cfg.threads);
	for (i = 0; i < OP_COUNT; i++) {
		printf(" %s %ld/%ld", op_names[i], atomic_load(&passed[i]),
		       atomic_load(&passed[i]) + atomic_load(&failed[i]));
		bad += atomic_load(&failed[i]);
	}
	printf(" (reused number %ld times); require_tls server got %ld bytes; failures %ld\n",
	       atomic_load(&same_number), atomic_load(&plain_bytes), bad);
	/* Every kind of check must have run, or the run proved nothing. */
	for (i = 0; i < OP_COUNT; i++) {
		if (atomic_load(&passed[i]) == 0) {
			fprintf(stderr, "stress: no %s check passed\n", op_names[i]);
			bad++;
		}
	}
	return bad == 0 && atomic_load(&plain_bytes) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	static struct server srv[3];
	pthread_t clients[MAX_THREADS], forker, watchdog;
	int i;

	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	pthread_create(&watchdog, NULL, watchdog_main, NULL);
	start_servers(srv);
	for (i = 0; i < cfg.threads; i++) {
		if (pthread_create(&clients[i], NULL, client_main, NULL) != 0) {
			fprintf(stderr, "stress: pthread_create failed\n");
			return 2;
		}
	}
	pthread_create(&forker, NULL, forker_main, NULL);
	sleep_sec(cfg.seconds);
	atomic_store(&stop, true);
	for (i = 0; i < cfg.threads; i++) {
		pthread_join(clients[i], NULL);
	}
	pthread_join(forker, NULL);
	drain_plain_server();
	atomic_store(&finished, true);
	pthread_join(watchdog, NULL);
	return summary();
}
