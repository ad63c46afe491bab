/*
 * Audit events: the body format (quoting, escaping, truncation), then the
 * sender end to end in this process: a Unix datagram sink in a temporary
 * directory, stderr captured in a file, the rate limit driven by a given clock.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "core/audit_internal.h"
#include "check_run.h"
#include "core/conn_internal.h"

static const struct policy_addr v4 = {.family = AF_INET, .bytes = {192, 0, 2, 7}};
static const struct policy_addr v6 = {.family = AF_INET6, .bytes = {[15] = 1}};
static const struct policy_addr v6_doc = {
    .family = AF_INET6, .bytes = {0x20, 0x01, 0x0d, 0xb8, [14] = 0x01, [15] = 0xbb}};

struct format_case {
	const char *name;
	struct audit_event ev;
	const char *exe;
	const char *want;
};

static const struct format_case format_cases[] = {
    /* a denied connect to an IPv4 peer, matched by rule 3 */
    {"connect block v4",
     {AUDIT_CONNECT, AUDIT_VERDICT_BLOCK, false, &v4, 23, "telnet.example", 3, "denied", NULL, 0,
      POLICY_PROTO_TCP},
     "/usr/bin/telnet",
     "event=connect verdict=block dir=out proto=tcp peer=192.0.2.7:23 host=telnet.example rule=3 "
     "reason=denied exe=/usr/bin/telnet pid=42"},
    /* plaintext on an inbound IPv6 connection, audit mode */
    {"plaintext audit v6 in",
     {AUDIT_PLAINTEXT, AUDIT_VERDICT_AUDIT, true, &v6, 443, NULL, POLICY_RULE_DEFAULT, "plaintext",
      NULL, 0, POLICY_PROTO_TCP},
     "/usr/sbin/nginx",
     "event=plaintext verdict=audit dir=in proto=tcp peer=[::1]:443 host=- rule=default "
     "reason=plaintext exe=/usr/sbin/nginx pid=42"},
    /* an allowed handshake with a detail */
    {"handshake allow detail",
     {AUDIT_HANDSHAKE, AUDIT_VERDICT_ALLOW, false, &v6_doc, 8443, "api.example", 1, "ok", "TLSv1.3",
      0, POLICY_PROTO_TCP},
     "/bin/curl",
     "event=handshake verdict=allow dir=out proto=tcp peer=[2001:db8::1bb]:8443 host=api.example "
     "rule=1 reason=ok detail=\"TLSv1.3\" exe=/bin/curl pid=42"},
    /* a certificate failure: OpenSSL's error string has spaces */
    {"handshake cert_verify",
     {AUDIT_HANDSHAKE, AUDIT_VERDICT_BLOCK, false, &v4, 443, "a.example", 2, "cert_verify",
      "certificate has expired", 0, POLICY_PROTO_TCP},
     "/bin/curl",
     "event=handshake verdict=block dir=out proto=tcp peer=192.0.2.7:443 host=a.example rule=2 "
     "reason=cert_verify detail=\"certificate has expired\" exe=/bin/curl pid=42"},
    /* TLS from a library other than libssl */
    {"unmanaged_tls",
     {AUDIT_UNMANAGED_TLS, AUDIT_VERDICT_BLOCK, false, &v4, 443, "", 0, "unmanaged_tls", NULL, 0,
      POLICY_PROTO_TCP},
     "/usr/bin/gnutls-cli",
     "event=unmanaged_tls verdict=block dir=out proto=tcp peer=192.0.2.7:443 host=- rule=default "
     "reason=unmanaged_tls exe=/usr/bin/gnutls-cli pid=42"},
    /* a policy error: no peer, quotes and backslashes in the detail */
    {"policy error",
     {AUDIT_POLICY, AUDIT_VERDICT_BLOCK, false, NULL, 0, NULL, 0, "policy_error",
      "/etc/p.conf:3: unknown key \"x\" near C:\\dir", 0, POLICY_PROTO_TCP},
     "/bin/true",
     "event=policy verdict=block dir=out proto=tcp peer=- host=- rule=default reason=policy_error "
     "detail=\"/etc/p.conf:3: unknown key \\\"x\\\" near C:\\\\dir\" exe=/bin/true pid=42"},
    /* a host name with spaces is quoted */
    {"host with spaces",
     {AUDIT_CONNECT, AUDIT_VERDICT_BLOCK, false, &v4, 80, "a b", 1, "denied", NULL, 0,
      POLICY_PROTO_TCP},
     "/bin/x",
     "event=connect verdict=block dir=out proto=tcp peer=192.0.2.7:80 host=\"a b\" rule=1 "
     "reason=denied exe=/bin/x pid=42"},
    /* a quote in a host name forces quoting and is escaped */
    {"host with quote",
     {AUDIT_CONNECT, AUDIT_VERDICT_BLOCK, false, &v4, 80, "a\"b", 1, "denied", NULL, 0,
      POLICY_PROTO_TCP},
     "/bin/x",
     "event=connect verdict=block dir=out proto=tcp peer=192.0.2.7:80 host=\"a\\\"b\" rule=1 "
     "reason=denied exe=/bin/x pid=42"},
    /* a backslash forces quoting and is escaped */
    {"host with backslash",
     {AUDIT_CONNECT, AUDIT_VERDICT_BLOCK, false, &v4, 80, "a\\b", 1, "denied", NULL, 0,
      POLICY_PROTO_TCP},
     "/bin/x",
     "event=connect verdict=block dir=out proto=tcp peer=192.0.2.7:80 host=\"a\\\\b\" rule=1 "
     "reason=denied exe=/bin/x pid=42"},
    /* a newline cannot start a forged second line or field */
    {"host forging a line",
     {AUDIT_CONNECT, AUDIT_VERDICT_BLOCK, false, &v4, 80, "x\nevent=connect verdict=allow", 1,
      "denied", NULL, 0, POLICY_PROTO_TCP},
     "/bin/x",
     "event=connect verdict=block dir=out proto=tcp peer=192.0.2.7:80 "
     "host=\"x\\x0aevent=connect verdict=allow\" rule=1 reason=denied exe=/bin/x pid=42"},
    /* CR, tab, ESC and DEL are escaped even unquoted */
    {"host control bytes",
     {AUDIT_CONNECT, AUDIT_VERDICT_BLOCK, false, &v4, 80, "a\rb\tc\x1b[31md\x7f", 1, "denied", NULL,
      0, POLICY_PROTO_TCP},
     "/bin/x",
     "event=connect verdict=block dir=out proto=tcp peer=192.0.2.7:80 "
     "host=a\\x0db\\x09c\\x1b[31md\\x7f rule=1 reason=denied exe=/bin/x pid=42"},
    /* an exe path with spaces is quoted */
    {"exe with spaces",
     {AUDIT_PLAINTEXT, AUDIT_VERDICT_BLOCK, false, &v4, 80, "h", 4, "plaintext", NULL, 0,
      POLICY_PROTO_TCP},
     "/opt/My App/bin/app",
     "event=plaintext verdict=block dir=out proto=tcp peer=192.0.2.7:80 host=h rule=4 "
     "reason=plaintext exe=\"/opt/My App/bin/app\" pid=42"},
    /* an unknown exe */
    {"exe unknown",
     {AUDIT_PLAINTEXT, AUDIT_VERDICT_BLOCK, false, &v4, 80, "h", 4, "plaintext", NULL, 0,
      POLICY_PROTO_TCP},
     NULL,
     "event=plaintext verdict=block dir=out proto=tcp peer=192.0.2.7:80 host=h rule=4 "
     "reason=plaintext exe=- pid=42"},
    /* an empty detail is still written, quoted */
    {"empty detail",
     {AUDIT_HANDSHAKE, AUDIT_VERDICT_BLOCK, false, &v4, 443, "h", 12, "pin", "", 0,
      POLICY_PROTO_TCP},
     "/bin/x",
     "event=handshake verdict=block dir=out proto=tcp peer=192.0.2.7:443 host=h rule=12 reason=pin "
     "detail=\"\" exe=/bin/x pid=42"},
    /* a denied UDP datagram says proto=udp */
    {"udp denied",
     {AUDIT_CONNECT, AUDIT_VERDICT_BLOCK, false, &v4, 53, NULL, 1, "denied", NULL, 0,
      POLICY_PROTO_UDP},
     "/usr/bin/dig",
     "event=connect verdict=block dir=out proto=udp peer=192.0.2.7:53 host=- rule=1 "
     "reason=denied exe=/usr/bin/dig pid=42"},
    /* the rate limit's count: event=suppressed with count= after the detail */
    {"suppressed count",
     {AUDIT_SUPPRESSED, AUDIT_VERDICT_BLOCK, false, NULL, 0, NULL, POLICY_RULE_DEFAULT,
      "rate_limit", "events held back by the rate limit", 900, POLICY_PROTO_TCP},
     "/bin/x",
     "event=suppressed verdict=block dir=out proto=tcp peer=- host=- rule=default "
     "reason=rate_limit detail=\"events held back by the rate limit\" count=900 exe=/bin/x "
     "pid=42"},
    /* a downgrade refused by a STARTTLS peer */
    {"downgrade",
     {AUDIT_PLAINTEXT, AUDIT_VERDICT_BLOCK, false, &v4, 5432, "db.internal", 2, "downgrade", NULL,
      0, POLICY_PROTO_TCP},
     "/usr/bin/psql",
     "event=plaintext verdict=block dir=out proto=tcp peer=192.0.2.7:5432 host=db.internal rule=2 "
     "reason=downgrade exe=/usr/bin/psql pid=42"},
};

START_TEST(test_format)
{
	const struct format_case *c = &format_cases[_i];
	char buf[1024];
	size_t n;

	n = audit_format_body(&c->ev, c->exe, 42, buf, sizeof(buf));
	ck_assert_str_eq(buf, c->want);
	ck_assert_uint_eq(n, strlen(c->want));
}
END_TEST

/* Every buffer size: never a byte past len, always NUL-terminated, a prefix of
 * the whole body, and never half an escape sequence. */
START_TEST(test_truncate)
{
	const struct format_case *c = &format_cases[_i];
	char full[1024], buf[1024 + 16];
	bool inside_escape[1024] = {false};
	size_t whole, len, n, i;

	whole = audit_format_body(&c->ev, c->exe, 42, full, sizeof(full));
	for (i = 0; i < whole; i++) {
		if (full[i] == '\\') {
			size_t unit = full[i + 1] == 'x' ? 4 : 2, j;

			for (j = 1; j < unit; j++) {
				inside_escape[i + j] = true;
			}
			i += unit - 1;
		}
	}
	for (len = 0; len <= whole + 1; len++) {
		memset(buf, 0xaa, sizeof(buf));
		n = audit_format_body(&c->ev, c->exe, 42, buf, len);
		for (i = len; i < sizeof(buf); i++) {
			ck_assert_msg((unsigned char)buf[i] == 0xaa, "len %zu: byte %zu written",
			              len, i);
		}
		if (len == 0) {
			ck_assert_uint_eq(n, 0);
			continue;
		}
		ck_assert_uint_lt(n, len);
		ck_assert_uint_eq(strlen(buf), n);
		ck_assert_msg(strncmp(buf, full, n) == 0, "len %zu: not a prefix", len);
		ck_assert_msg(!inside_escape[n], "len %zu: cut inside an escape", len);
	}
}
END_TEST

START_TEST(test_header)
{
	struct tm tm = {.tm_mon = 10, .tm_mday = 3, .tm_hour = 4, .tm_min = 5, .tm_sec = 6};
	char buf[96];

	/* RFC 3164: space-padded day, two-digit time. */
	audit_format_header(LOG_AUTHPRIV | LOG_WARNING, &tm, 4242, buf, sizeof(buf));
	ck_assert_str_eq(buf, "<84>Nov  3 04:05:06 tlsguard[4242]: ");
	tm.tm_mday = 23;
	tm.tm_mon = 0;
	audit_format_header(LOG_LOCAL0 | LOG_INFO, &tm, 1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "<134>Jan 23 04:05:06 tlsguard[1]: ");
	/* Truncated, still terminated. */
	audit_format_header(LOG_LOCAL0 | LOG_INFO, &tm, 1, buf, 6);
	ck_assert_str_eq(buf, "<134>");
}
END_TEST

/* ---- the sender, end to end ---- */

static char dir[64];
static char sink_path[128];
static int sink = -1;
static char err_path[128];

static const struct audit_event block_ev = {
    AUDIT_PLAINTEXT, AUDIT_VERDICT_BLOCK, false, &v4, 80, "plain.example", 2, "plaintext", NULL, 0,
    POLICY_PROTO_TCP};

static void set_sun_path(struct sockaddr_un *sa, const char *path)
{
	ck_assert_uint_lt(strlen(path), sizeof(sa->sun_path));
	memcpy(sa->sun_path, path, strlen(path) + 1);
}

/* Binds the sink and sends this process's stderr to a file. */
static void setup(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	audit_reset();
	snprintf(dir, sizeof(dir), "/tmp/tlsguard-audit-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sink_path, sizeof(sink_path), "%s/audit.sock", dir);
	set_sun_path(&sa, sink_path);
	sink = socket(AF_UNIX, SOCK_DGRAM, 0);
	ck_assert_int_ge(sink, 0);
	ck_assert_int_eq(bind(sink, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(err_path, sizeof(err_path), "%s/stderr", dir);
	fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
}

static void teardown(void)
{
	char path[128];

	close(sink);
	unlink(sink_path);
	unlink(err_path);
	snprintf(path, sizeof(path), "%s/stale.sock", dir);
	unlink(path);
	rmdir(dir);
}

static void configure(const char *path, int facility, bool to_stderr)
{
	struct policy_audit cfg = {.socket = path, .facility = facility, .to_stderr = to_stderr};

	audit_configure(&cfg);
}

/* The next datagram, or "" when none came within a second. */
static size_t receive(char *buf, size_t len)
{
	struct pollfd p = {.fd = sink, .events = POLLIN};
	ssize_t n;

	if (poll(&p, 1, 1000) != 1) {
		buf[0] = '\0';
		return 0;
	}
	n = recv(sink, buf, len - 1, 0);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	return (size_t)n;
}

/* A datagram already queued, without waiting ("" if none). */
static bool receive_now(char *buf, size_t len)
{
	ssize_t n = recv(sink, buf, len - 1, MSG_DONTWAIT);

	if (n < 0) {
		buf[0] = '\0';
		return false;
	}
	buf[n] = '\0';
	return true;
}

static const char *self_exe(void)
{
	static char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	exe[n > 0 ? n : 0] = '\0';
	return exe;
}

static void body_of(const struct audit_event *ev, long pid, char *buf, size_t len)
{
	audit_format_body(ev, self_exe(), pid, buf, len);
}

/* Checks "<PRI>Mmm dd hh:mm:ss tlsguard[PID]: BODY". */
static void assert_message(const char *msg, int pri, long pid, const char *body)
{
	char head[32];
	const char *p;
	int i;

	snprintf(head, sizeof(head), "<%d>", pri);
	ck_assert_msg(strncmp(msg, head, strlen(head)) == 0, "bad PRI in %s", msg);
	p = msg + strlen(head);
	/* "Mmm dd hh:mm:ss" */
	ck_assert_msg(strlen(p) > 16 && p[3] == ' ' && p[6] == ' ' && p[9] == ':' && p[12] == ':' &&
	                  p[15] == ' ',
	              "bad timestamp in %s", msg);
	for (i = 10; i < 15; i += 3) {
		ck_assert(p[i] >= '0' && p[i] <= '9');
	}
	p += 16;
	snprintf(head, sizeof(head), "tlsguard[%ld]: ", pid);
	ck_assert_msg(strncmp(p, head, strlen(head)) == 0, "bad tag in %s", msg);
	ck_assert_str_eq(p + strlen(head), body);
}

static void read_stderr(char *buf, size_t len)
{
	int fd = open(err_path, O_RDONLY);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

static const struct {
	enum audit_verdict verdict;
	int want_severity;
	const char *want_stderr_prefix; /* with audit.stderr = true; NULL: nothing */
} verdict_cases[] = {
    /* blocks are warnings and copied to stderr */
    {AUDIT_VERDICT_BLOCK, LOG_WARNING, "tlsguard: blocked: "},
    /* audit-mode verdicts are notices, copied as "audit:" */
    {AUDIT_VERDICT_AUDIT, LOG_NOTICE, "tlsguard: audit: "},
    /* allows are informational and never on stderr */
    {AUDIT_VERDICT_ALLOW, LOG_INFO, NULL},
};

START_TEST(test_send)
{
	struct audit_event ev = block_ev;
	char msg[8192], body[4096], err[8192], want[8192];

	ev.verdict = verdict_cases[_i].verdict;
	configure(sink_path, LOG_LOCAL3, true);
	errno = 1234;
	audit_emit(&ev);
	ck_assert_int_eq(errno, 1234);
	receive(msg, sizeof(msg));
	body_of(&ev, getpid(), body, sizeof(body));
	assert_message(msg, LOG_LOCAL3 | verdict_cases[_i].want_severity, getpid(), body);
	ck_assert(!receive_now(msg, sizeof(msg)));

	read_stderr(err, sizeof(err));
	if (verdict_cases[_i].want_stderr_prefix == NULL) {
		ck_assert_str_eq(err, "");
	} else {
		snprintf(want, sizeof(want), "%s%s\n", verdict_cases[_i].want_stderr_prefix, body);
		ck_assert_str_eq(err, want);
	}
}
END_TEST

/* audit.stderr = false: the socket only. */
START_TEST(test_send_quiet)
{
	char msg[8192], err[256];

	configure(sink_path, LOG_AUTHPRIV, false);
	audit_emit(&block_ev);
	ck_assert_uint_gt(receive(msg, sizeof(msg)), 0);
	read_stderr(err, sizeof(err));
	ck_assert_str_eq(err, "");
}
END_TEST

/* The pid is the emitting process's, also in a child after fork(). */
START_TEST(test_send_after_fork)
{
	char msg[8192], body[4096];
	pid_t child;
	int status;

	configure(sink_path, LOG_AUTHPRIV, false);
	audit_emit(&block_ev); /* the parent opens the socket first */
	receive(msg, sizeof(msg));
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		audit_emit(&block_ev);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	receive(msg, sizeof(msg));
	body_of(&block_ev, child, body, sizeof(body));
	assert_message(msg, LOG_AUTHPRIV | LOG_WARNING, child, body);
}
END_TEST

static const struct {
	const char *name; /* in the temporary directory */
	bool stale;       /* a socket file nobody listens on */
	const char *want_error;
} fallback_cases[] = {
    /* no socket at that path */
    {"missing.sock", false, "No such file or directory"},
    /* a socket file left by a dead syslog daemon */
    {"stale.sock", true, "Connection refused"},
};

/* The socket is unusable: events go to stderr, the notice comes once, and a
 * block is not printed a second time as "blocked:". */
START_TEST(test_fallback)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char path[128], body[4096], err[16384], want[16384];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, fallback_cases[_i].name);
	if (fallback_cases[_i].stale) {
		set_sun_path(&sa, path);
		fd = socket(AF_UNIX, SOCK_DGRAM, 0);
		ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(fd);
	}
	configure(path, LOG_AUTHPRIV, true);
	errno = 1234;
	audit_emit(&block_ev);
	audit_emit(&block_ev);
	ck_assert_int_eq(errno, 1234);
	body_of(&block_ev, getpid(), body, sizeof(body));
	snprintf(want, sizeof(want),
	         "tlsguard: audit socket %s unavailable (%s); events go to stderr\n"
	         "tlsguard: %s\ntlsguard: %s\n",
	         path, fallback_cases[_i].want_error, body, body);
	read_stderr(err, sizeof(err));
	ck_assert_str_eq(err, want);
}
END_TEST

/* Before audit_configure: /dev/log, and every block on stderr exactly once
 * (as the fallback line or as the "blocked:" copy). */
START_TEST(test_unconfigured)
{
	char body[4096], err[16384], line[8192];
	const char *first;

	audit_emit(&block_ev);
	body_of(&block_ev, getpid(), body, sizeof(body));
	read_stderr(err, sizeof(err));
	snprintf(line, sizeof(line), ": %s\n", body);
	first = strstr(err, line);
	ck_assert_msg(first != NULL, "no event on stderr: %s", err);
	ck_assert_ptr_null(strstr(first + 1, line));
}
END_TEST

#define FDS_SEEN 1024

/* Which of the first FDS_SEEN descriptors are open now. */
static void open_fds(bool open[FDS_SEEN])
{
	int i;

	for (i = 0; i < FDS_SEEN; i++) {
		open[i] = fcntl(i, F_GETFD) >= 0;
	}
}

/* The one descriptor open now that was not open in before (the sender's new
 * socket), or -1 when there is not exactly one. */
static int new_fd(const bool before[FDS_SEEN])
{
	bool now[FDS_SEEN];
	int i, fd = -1, found = 0;

	open_fds(now);
	for (i = 0; i < FDS_SEEN; i++) {
		if (now[i] && !before[i]) {
			fd = i;
			found++;
		}
	}
	return found == 1 ? fd : -1;
}

/* The program closes the sender's descriptor and reuses the number: the sender
 * notices, never writes into the program's descriptor, and still delivers. */
START_TEST(test_fd_closed_behind_back)
{
	char msg[8192], body[4096];
	bool before_emit[FDS_SEEN];
	int fd, pair[2];
	struct stat before, after;

	configure(sink_path, LOG_AUTHPRIV, false);
	open_fds(before_emit);
	audit_emit(&block_ev);
	receive(msg, sizeof(msg));
	fd = new_fd(before_emit);
	ck_assert_int_gt(fd, STDERR_FILENO);

	/* Closed: the next event opens a new socket. */
	close(fd);
	open_fds(before_emit);
	audit_emit(&block_ev);
	ck_assert_uint_gt(receive(msg, sizeof(msg)), 0);
	fd = new_fd(before_emit);
	ck_assert_int_gt(fd, STDERR_FILENO);

	/* Closed again and the number given to a socket of the program's. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, pair), 0);
	ck_assert_int_eq(dup2(pair[0], fd), fd);
	ck_assert_int_eq(fstat(fd, &before), 0);
	audit_emit(&block_ev);
	receive(msg, sizeof(msg));
	body_of(&block_ev, getpid(), body, sizeof(body));
	assert_message(msg, LOG_AUTHPRIV | LOG_WARNING, getpid(), body);
	/* The program's socket is untouched and still its own. */
	ck_assert_int_eq(recv(pair[1], msg, sizeof(msg), MSG_DONTWAIT), -1);
	ck_assert_int_eq(fstat(fd, &after), 0);
	ck_assert_uint_eq(after.st_ino, before.st_ino);
}
END_TEST

/* A program that closed stdin gets 0 back from its next open(), not the
 * sender's socket. */
START_TEST(test_keeps_std_fds)
{
	char msg[8192];
	int fd;

	configure(sink_path, LOG_AUTHPRIV, false);
	close(STDIN_FILENO);
	audit_emit(&block_ev);
	ck_assert_uint_gt(receive(msg, sizeof(msg)), 0);
	fd = open("/dev/null", O_RDONLY);
	ck_assert_int_eq(fd, STDIN_FILENO);
}
END_TEST

/* fd 2 closed and reused for a TCP connection: no log line goes into it. */
START_TEST(test_stderr_is_tcp)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int listener, client, server;
	char buf[64], path[128];

	listener = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(listener, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(listener, 1), 0);
	ck_assert_int_eq(getsockname(listener, (struct sockaddr *)&sa, &len), 0);
	client = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(client, (struct sockaddr *)&sa, sizeof(sa)), 0);
	server = accept(listener, NULL, NULL);
	ck_assert_int_ge(server, 0);
	ck_assert_int_eq(dup2(client, STDERR_FILENO), STDERR_FILENO);

	snprintf(path, sizeof(path), "%s/missing.sock", dir);
	configure(path, LOG_AUTHPRIV, true);
	audit_emit(&block_ev);
	ck_assert_int_eq(recv(server, buf, sizeof(buf), MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
}
END_TEST

/* The count= of a summary line, 0 for any other line. */
static unsigned long count_of(const char *msg)
{
	const char *p = strstr(msg, " count=");

	if (strstr(msg, "event=suppressed ") == NULL || p == NULL) {
		return 0;
	}
	return strtoul(p + strlen(" count="), NULL, 10);
}

/* Receives everything queued; counts events, summaries and what the
 * summaries account for. */
static void drain(int *events, int *summaries, unsigned long *held, char *last_summary, size_t len)
{
	char msg[8192];

	while (receive_now(msg, sizeof(msg))) {
		if (strstr(msg, "event=suppressed ") != NULL) {
			(*summaries)++;
			*held += count_of(msg);
			snprintf(last_summary, len, "%s", strstr(msg, ": ") + 2);
		} else {
			(*events)++;
		}
	}
}

static struct audit_event summary_of(unsigned long count, enum audit_verdict verdict)
{
	struct audit_event ev = {
	    .kind = AUDIT_SUPPRESSED,
	    .verdict = verdict,
	    .rule = POLICY_RULE_DEFAULT,
	    .reason = "rate_limit",
	    .detail = "events held back by the rate limit",
	    .count = count,
	};

	return ev;
}

/* 500 events at one instant: 100 pass and 400 are counted; half a second
 * later 50 more pass (the bucket refilled by half) and no count is due yet;
 * a second after the first held event the count goes out, block as the
 * events were, before the event that found it due. */
START_TEST(test_rate_limit)
{
	struct timespec now = {.tv_sec = 1000};
	struct audit_event summary = summary_of(410, AUDIT_VERDICT_BLOCK);
	char got[8192], want[4096], msg[8192];
	int i, events = 0, summaries = 0;
	unsigned long held = 0;

	configure(sink_path, LOG_AUTHPRIV, false);
	for (i = 0; i < 500; i++) {
		audit_emit_at(&block_ev, &now);
		/* The kernel queues only a few datagrams (max_dgram_qlen). */
		drain(&events, &summaries, &held, got, sizeof(got));
	}
	ck_assert_int_eq(events, AUDIT_RATE_PER_SEC);
	ck_assert_int_eq(summaries, 0);

	now.tv_nsec = 500000000;
	for (i = 0; i < 60; i++) {
		audit_emit_at(&block_ev, &now);
		drain(&events, &summaries, &held, got, sizeof(got));
	}
	ck_assert_int_eq(events, AUDIT_RATE_PER_SEC + 50);
	ck_assert_int_eq(summaries, 0);

	now.tv_sec = 1001;
	now.tv_nsec = 0;
	audit_emit_at(&block_ev, &now);
	receive(msg, sizeof(msg));
	body_of(&summary, getpid(), want, sizeof(want));
	assert_message(msg, LOG_AUTHPRIV | LOG_WARNING, getpid(), want);
	receive(msg, sizeof(msg));
	body_of(&block_ev, getpid(), want, sizeof(want));
	assert_message(msg, LOG_AUTHPRIV | LOG_WARNING, getpid(), want);
}
END_TEST

/* While suppression lasts, the count goes out at least once an interval. */
START_TEST(test_rate_limit_interval)
{
	struct timespec now = {.tv_sec = 2000};
	char got[8192];
	int i, events = 0, summaries = 0;
	unsigned long held = 0;

	configure(sink_path, LOG_AUTHPRIV, false);
	/* 5 seconds at 1000 events a second. */
	for (i = 0; i < 5000; i++) {
		now.tv_sec = 2000 + i / 1000;
		now.tv_nsec = (long)(i % 1000) * 1000000L;
		audit_emit_at(&block_ev, &now);
		drain(&events, &summaries, &held, got, sizeof(got));
	}
	ck_assert_int_ge(summaries, 4);
	ck_assert_int_le(summaries, 5);
	audit_flush_suppressed_at(&now);
	drain(&events, &summaries, &held, got, sizeof(got));
	ck_assert_uint_eq((unsigned long)events + held, 5000);
}
END_TEST

static const struct {
	enum audit_verdict verdict;
	const char *want_verdict;
} summary_verdict_cases[] = {
    /* enforce mode: what was held back were blocks */
    {AUDIT_VERDICT_BLOCK, "verdict=block "},
    /* audit mode: would-be blocks, let through */
    {AUDIT_VERDICT_AUDIT, "verdict=audit "},
};

/* 1,000 refused calls on the real clock, then exit's flush: every one is an
 * event or in a count, to the event, and the count has the events' verdict. */
START_TEST(test_accounting)
{
	struct audit_event ev = block_ev;
	char got[8192];
	int i, events = 0, summaries = 0;
	unsigned long held = 0;

	ev.verdict = summary_verdict_cases[_i].verdict;
	configure(sink_path, LOG_AUTHPRIV, false);
	for (i = 0; i < 1000; i++) {
		audit_emit(&ev);
		drain(&events, &summaries, &held, got, sizeof(got));
	}
	audit_flush_suppressed();
	drain(&events, &summaries, &held, got, sizeof(got));
	ck_assert_int_ge(summaries, 1);
	ck_assert_uint_eq((unsigned long)events + held, 1000);
	ck_assert_ptr_nonnull(strstr(got, summary_verdict_cases[_i].want_verdict));
	/* Nothing left to flush: a second flush sends nothing. */
	audit_flush_suppressed();
	ck_assert(!receive_now(got, sizeof(got)));
}
END_TEST

/* A child after fork does not report the parent's count a second time. */
START_TEST(test_accounting_fork)
{
	struct timespec now = {.tv_sec = 3000};
	char got[8192];
	int i, events = 0, summaries = 0, status;
	unsigned long held = 0;
	pid_t child;

	configure(sink_path, LOG_AUTHPRIV, false);
	for (i = 0; i < 150; i++) {
		audit_emit_at(&block_ev, &now);
		drain(&events, &summaries, &held, got, sizeof(got));
	}
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		audit_flush_suppressed();
		_exit(0);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	audit_flush_suppressed_at(&now);
	drain(&events, &summaries, &held, got, sizeof(got));
	ck_assert_int_eq(summaries, 1);
	ck_assert_uint_eq((unsigned long)events + held, 150);
}
END_TEST

/* Fills the sink's queue with datagrams of our own; returns how many. */
static int fill_sink(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, n = 0;

	set_sun_path(&sa, sink_path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	while (send(fd, "filler", 6, 0) == 6) {
		n++;
	}
	ck_assert_int_eq(errno, EAGAIN);
	close(fd);
	return n;
}

static void *drain_later(void *arg)
{
	char msg[8192];
	int *got_event = arg;

	usleep(100000);
	/* Drain until the event arrives (or a second passes without one). */
	while (receive(msg, sizeof(msg)) > 0) {
		if (strstr(msg, "tlsguard[") != NULL) {
			*got_event = 1;
			break;
		}
	}
	return NULL;
}

/* A full queue (a log daemon that falls behind): the event waits until the
 * daemon reads, as syslog(3) would, and nothing goes to stderr. */
START_TEST(test_full_socket_waits)
{
	char err[4096];
	pthread_t t;
	int got_event = 0;

	configure(sink_path, LOG_AUTHPRIV, false);
	ck_assert_int_gt(fill_sink(), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, drain_later, &got_event), 0);
	audit_emit(&block_ev);
	pthread_join(t, NULL);
	ck_assert_int_eq(got_event, 1);
	read_stderr(err, sizeof(err));
	ck_assert_str_eq(err, "");
}
END_TEST

static long long ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long long)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A queue that never drains: each event waits at most its allowance, the
 * process's budget caps the total, and the events go to stderr with one
 * notice: the program slows a little and never hangs. */
START_TEST(test_full_socket_bounded)
{
	struct timespec t0;
	char err[65536], path_note[256];
	long long ms;
	int i;

	configure(sink_path, LOG_AUTHPRIV, false);
	ck_assert_int_gt(fill_sink(), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	audit_emit(&block_ev);
	ms = ms_since(&t0);
	ck_assert_int_ge(ms, AUDIT_WAIT_EVENT_NS / 1000000 - 20);
	ck_assert_int_le(ms, AUDIT_WAIT_EVENT_NS / 1000000 + 500);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 20; i++) {
		audit_emit(&block_ev);
	}
	ms = ms_since(&t0);
	ck_assert_int_le(ms, AUDIT_WAIT_BUDGET_NS / 1000000 + 1000);
	read_stderr(err, sizeof(err));
	snprintf(path_note, sizeof(path_note), "tlsguard: audit socket %s is full", sink_path);
	ck_assert_ptr_nonnull(strstr(err, path_note));
	ck_assert_ptr_null(strstr(strstr(err, path_note) + 1, path_note));
	ck_assert_ptr_nonnull(strstr(err, "reason=plaintext"));
}
END_TEST

/* The sender's socket is marked as the shim's own in the descriptor table. */
START_TEST(test_fd_reserved)
{
	char msg[8192];
	int fd;

	configure(sink_path, LOG_AUTHPRIV, false);
	audit_emit(&block_ev);
	receive(msg, sizeof(msg));
	fd = audit_socket_fd();
	ck_assert_int_gt(fd, STDERR_FILENO);
	ck_assert(fdt_governed(fd));
	ck_assert_ptr_nonnull(fdt_peek(fd));
	audit_reset();
	ck_assert(!fdt_governed(fd));
}
END_TEST

static const struct {
	enum policy_mode policy_says, in_force;
	const char *want_detail; /* NULL: no event */
} mode_cases[] = {
    /* enforce switched off */
    {POLICY_MODE_ENFORCE, POLICY_MODE_OFF,
     "detail=\"mode set to off by TLSGUARD_MODE; the policy says enforce\""},
    /* enforce weakened to audit */
    {POLICY_MODE_ENFORCE, POLICY_MODE_AUDIT,
     "detail=\"mode set to audit by TLSGUARD_MODE; the policy says enforce\""},
    /* audit switched off */
    {POLICY_MODE_AUDIT, POLICY_MODE_OFF,
     "detail=\"mode set to off by TLSGUARD_MODE; the policy says audit\""},
    /* the policy's own mode: nothing to say */
    {POLICY_MODE_AUDIT, POLICY_MODE_AUDIT, NULL},
    /* stricter than the policy: no weakening, no event */
    {POLICY_MODE_AUDIT, POLICY_MODE_ENFORCE, NULL},
    {POLICY_MODE_OFF, POLICY_MODE_AUDIT, NULL},
};

/* TLSGUARD_MODE weakening the policy is one event per process. */
START_TEST(test_mode_note)
{
	char msg[8192];

	configure(sink_path, LOG_AUTHPRIV, false);
	audit_note_mode(mode_cases[_i].policy_says, mode_cases[_i].in_force);
	audit_note_mode(mode_cases[_i].policy_says, mode_cases[_i].in_force);
	if (mode_cases[_i].want_detail == NULL) {
		ck_assert(!receive_now(msg, sizeof(msg)));
		return;
	}
	receive(msg, sizeof(msg));
	ck_assert_ptr_nonnull(strstr(msg, "event=policy verdict=audit "));
	ck_assert_ptr_nonnull(strstr(msg, "reason=env_override "));
	ck_assert_ptr_nonnull(strstr(msg, mode_cases[_i].want_detail));
	ck_assert(!receive_now(msg, sizeof(msg)));
}
END_TEST

static Suite *audit_suite(void)
{
	Suite *s = suite_create("audit");
	TCase *format = tcase_create("format");
	TCase *send = tcase_create("send");
	int nformat = (int)(sizeof(format_cases) / sizeof(format_cases[0]));

	tcase_add_loop_test(format, test_format, 0, nformat);
	tcase_add_loop_test(format, test_truncate, 0, nformat);
	tcase_add_test(format, test_header);
	suite_add_tcase(s, format);

	tcase_add_checked_fixture(send, setup, teardown);
	tcase_add_loop_test(send, test_send, 0,
	                    (int)(sizeof(verdict_cases) / sizeof(verdict_cases[0])));
	tcase_add_test(send, test_send_quiet);
	tcase_add_test(send, test_send_after_fork);
	tcase_add_loop_test(send, test_fallback, 0,
	                    (int)(sizeof(fallback_cases) / sizeof(fallback_cases[0])));
	tcase_add_test(send, test_unconfigured);
	tcase_add_test(send, test_fd_closed_behind_back);
	tcase_add_test(send, test_keeps_std_fds);
	tcase_add_test(send, test_stderr_is_tcp);
	tcase_add_test(send, test_rate_limit);
	tcase_add_test(send, test_rate_limit_interval);
	tcase_add_loop_test(
	    send, test_accounting, 0,
	    (int)(sizeof(summary_verdict_cases) / sizeof(summary_verdict_cases[0])));
	tcase_add_test(send, test_accounting_fork);
	tcase_add_test(send, test_full_socket_waits);
	tcase_add_test(send, test_full_socket_bounded);
	tcase_add_test(send, test_fd_reserved);
	tcase_add_loop_test(send, test_mode_note, 0,
	                    (int)(sizeof(mode_cases) / sizeof(mode_cases[0])));
	tcase_set_timeout(send, 30);
	suite_add_tcase(s, send);
	return s;
}

int main(void)
{
	return check_run(audit_suite());
}
