/*
 * A plaintext HTTP server that forks a child per connection, the shape of the
 * old inetd-style daemons terminate_tls is for. It knows nothing of TLS: under
 * tlsguard with an inbound terminate_tls rule for its port, its clients speak
 * https and it still reads and writes plaintext.
 *
 *   tunnel_fork_server PORT PORTFILE
 *
 * Listens on 127.0.0.1:PORT, writes PORT to PORTFILE once listening, then for
 * each connection forks: the child reads the request head (up to the empty
 * line), asks getpeername(2) who the client is and answers
 * "HTTP/1.0 200 OK" with the body "forked pid=N peer=ADDR\n", then exits; the
 * parent closes its copy and accepts the next one. Runs until killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The request head, up to "\r\n\r\n" or a full buffer; 0, or -1 when the
 * connection ended (or failed) before it. */
static int read_head(int fd)
{
	char buf[4096];
	size_t len = 0;

	while (len < sizeof(buf) - 1) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return -1;
		}
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL) {
			return 0;
		}
	}
	return 0;
}

static int serve(int fd)
{
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	char addr[INET_ADDRSTRLEN] = "?", body[128], reply[256];
	int n;

	if (read_head(fd) < 0) {
		return 1;
	}
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0 && peer.sin_family == AF_INET) {
		inet_ntop(AF_INET, &peer.sin_addr, addr, sizeof(addr));
	}
	snprintf(body, sizeof(body), "forked pid=%ld peer=%s\n", (long)getpid(), addr);
	n = snprintf(reply, sizeof(reply),
	             "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s",
	             strlen(body), body);
	if (write(fd, reply, (size_t)n) != n) {
		return 1;
	}
	return close(fd) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int one = 1, lfd;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: tunnel_fork_server PORT PORTFILE\n");
		return 2;
	}
	signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
	sin.sin_port = htons((uint16_t)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lfd, 64) < 0) {
		perror("tunnel_fork_server: listen");
		return 1;
	}
	f = fopen(argv[2], "w");
	if (f == NULL || fprintf(f, "%s\n", argv[1]) < 0 || fclose(f) != 0) {
		perror("tunnel_fork_server: port file");
		return 1;
	}
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		pid_t pid;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED) {
				continue;
			}
			perror("tunnel_fork_server: accept");
			return 1;
		}
		pid = fork();
		if (pid == 0) {
			close(lfd);
			_exit(serve(fd));
		}
		if (pid < 0) {
			perror("tunnel_fork_server: fork");
		}
		close(fd);
	}
}
