/*
 * Getting policy text in: the file checks (type, owner, mode, size), a scan of
 * the raw text for what libconfig 1.5 would get silently wrong, then parsing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy_internal.h"

#define SCAN_MAX_DEPTH 16 /* the deepest valid policy nests 5 levels */

struct scan {
	char *text;
	size_t len;
	size_t pos;
	int line;
	int depth;
	const char *name;
	struct policy_error *err;
};

static int scan_fail(struct scan *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int scan_fail(struct scan *sc, const char *fmt, ...)
{
	char msg[POLICY_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	policy_set_error(sc->err, "%s:%d: %s", sc->name, sc->line, msg);
	return -1;
}

static bool scan_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '*';
}

static bool scan_hex_digit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* libconfig(3) has no @include-free mode, and an included file would escape the
 * ownership check: refuse a line whose first non-blank text is @include. */
static int scan_line_start(struct scan *sc)
{
	size_t i = sc->pos;

	while (i < sc->len && (sc->text[i] == ' ' || sc->text[i] == '\t'))
		i++;
	if (sc->len - i >= 8 && memcmp(sc->text + i, "@include", 8) == 0)
		return scan_fail(sc, "@include is not allowed in a policy (an included file "
		                     "would not get the ownership check)");
	return 0;
}

static void scan_newline(struct scan *sc)
{
	sc->line++;
}

static int scan_string(struct scan *sc)
{
	char c;

	for (sc->pos++; sc->pos < sc->len; sc->pos++) {
		c = sc->text[sc->pos];
		if (c == '"')
			return 0;
		if (c == '\n')
			scan_newline(sc);
		if (c != '\\' || sc->pos + 1 >= sc->len)
			continue;
		/* libconfig drops "\x00" without a word: a path or name would be cut. */
		if (sc->text[sc->pos + 1] == 'x' && sc->pos + 3 < sc->len &&
		    sc->text[sc->pos + 2] == '0' && sc->text[sc->pos + 3] == '0')
			return scan_fail(sc, "NUL byte (\\x00) in a string");
		sc->pos++;
		if (sc->text[sc->pos] == '\n')
			scan_newline(sc);
	}
	return 0; /* unterminated: libconfig reports it */
}

static void scan_comment(struct scan *sc)
{
	if (sc->text[sc->pos] == '#' || sc->text[sc->pos + 1] == '/') {
		while (sc->pos < sc->len && sc->text[sc->pos] != '\n')
			sc->pos++;
		sc->pos--;
		return;
	}
	for (sc->pos += 2; sc->pos + 1 < sc->len; sc->pos++) {
		if (sc->text[sc->pos] == '*' && sc->text[sc->pos + 1] == '/') {
			sc->pos++;
			return;
		}
		if (sc->text[sc->pos] == '\n')
			scan_newline(sc);
	}
	sc->pos = sc->len - 1;
}

/* libconfig 1.5 stores an integer without an L suffix in an int and silently
 * truncates a larger one (port = 4294967376 would become port 80). */
static int scan_number(struct scan *sc)
{
	size_t start = sc->pos, i = sc->pos;
	unsigned long long value = 0;
	bool hex = false, big = false;
	char c;

	if (sc->text[i] == '0' && i + 1 < sc->len && (sc->text[i + 1] | 0x20) == 'x') {
		hex = true;
		i += 2;
	}
	for (; i < sc->len; i++) {
		c = sc->text[i];
		if (hex ? !scan_hex_digit(c) : !(c >= '0' && c <= '9'))
			break;
		if (value > 0xffffffffULL)
			big = true;
		else
			value = value * (hex ? 16 : 10) +
			        (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	sc->pos = i - 1;
	if (i < sc->len &&
	    (sc->text[i] == '.' || (!hex && (sc->text[i] | 0x20) == 'e') || sc->text[i] == 'L')) {
		while (i < sc->len &&
		       (scan_name_char(sc->text[i]) || sc->text[i] == '.' || sc->text[i] == '+'))
			i++;
		sc->pos = i - 1; /* a float or a 64-bit integer: libconfig keeps it whole */
		return 0;
	}
	if (big || value > 0x7fffffffULL)
		return scan_fail(sc, "integer %.*s is out of range",
		                 (int)(i - start > 40 ? 40 : i - start), sc->text + start);
	return 0;
}

static int scan_nesting(struct scan *sc, char c)
{
	if (c == '{' || c == '(' || c == '[') {
		if (++sc->depth > SCAN_MAX_DEPTH)
			return scan_fail(sc, "groups and lists nested deeper than %d levels",
			                 SCAN_MAX_DEPTH);
	} else if (sc->depth > 0) {
		sc->depth--;
	}
	/* libconfig 1.5 arrays must hold one type; the contract writes port lists as
	 * [ 443, "8443-8444" ], so arrays are read as lists, which may mix types. */
	if (c == '[')
		sc->text[sc->pos] = '(';
	else if (c == ']')
		sc->text[sc->pos] = ')';
	return 0;
}

static int scan_text(struct scan *sc)
{
	char c;

	sc->line = 1;
	if (memchr(sc->text, '\0', sc->len) != NULL) {
		for (sc->pos = 0; sc->text[sc->pos] != '\0'; sc->pos++)
			if (sc->text[sc->pos] == '\n')
				scan_newline(sc);
		return scan_fail(sc, "NUL byte in the policy text");
	}
	if (scan_line_start(sc) != 0)
		return -1;
	for (sc->pos = 0; sc->pos < sc->len; sc->pos++) {
		c = sc->text[sc->pos];
		if (c == '\n') {
			scan_newline(sc);
			sc->pos++;
			if (scan_line_start(sc) != 0)
				return -1;
			sc->pos--;
		} else if (c == '"') {
			if (scan_string(sc) != 0)
				return -1;
		} else if (c == '#' ||
		           (c == '/' && sc->pos + 1 < sc->len &&
		            (sc->text[sc->pos + 1] == '/' || sc->text[sc->pos + 1] == '*'))) {
			scan_comment(sc);
		} else if (scan_name_char(c) && !(c >= '0' && c <= '9') && c != '-') {
			while (sc->pos + 1 < sc->len && scan_name_char(sc->text[sc->pos + 1]))
				sc->pos++;
		} else if (c >= '0' && c <= '9') {
			if (scan_number(sc) != 0)
				return -1;
		} else if (strchr("{}()[]", c) != NULL) {
			if (scan_nesting(sc, c) != 0)
				return -1;
		}
	}
	return 0;
}

static int compile_config(struct parse *ps, const char *text)
{
	config_t cfg;
	int rc = -1;

	config_init(&cfg);
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		if (ps->err != NULL && config_error_line(&cfg) == 0)
			ps->err->sys_errno = errno; /* libconfig could not be loaded */
		policy_set_error(ps->err, "%s:%d: %s", ps->name, config_error_line(&cfg),
		                 config_error_text(&cfg));
		goto out;
	}
	rc = parse_policy(ps, &cfg);
out:
	config_destroy(&cfg);
	return rc;
}

struct policy *policy_compile(const char *text, size_t len, const char *name,
                              struct policy_error *err)
{
	struct policy *policy = NULL;
	struct parse ps;
	struct scan sc;
	char *copy = NULL;

	if (len > POLICY_MAX_FILE) {
		policy_set_error(err, "%s: policy is larger than %d bytes", name, POLICY_MAX_FILE);
		return NULL;
	}
	copy = malloc(len + 1);
	policy = calloc(1, sizeof(*policy));
	if (copy == NULL || policy == NULL) {
		policy_set_error(err, "%s: out of memory", name);
		goto err;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	memset(&sc, 0, sizeof(sc));
	sc.text = copy;
	sc.len = len;
	sc.name = name;
	sc.err = err;
	if (scan_text(&sc) != 0)
		goto err;
	policy->source = arena_strdup(&policy->arena, name);
	if (policy->source == NULL) {
		policy_set_error(err, "%s: out of memory", name);
		goto err;
	}
	ps.policy = policy;
	ps.name = name;
	ps.err = err;
	if (compile_config(&ps, copy) != 0)
		goto err;
	if (policy_index_build(policy) != 0) {
		policy_set_error(err, "%s: out of memory", name);
		goto err;
	}
	free(copy);
	return policy;
err:
	free(copy);
	policy_free(policy);
	return NULL;
}

struct policy *policy_load_string(const char *text, size_t len, const char *name,
                                  struct policy_error *err)
{
	if (err != NULL)
		err->sys_errno = 0;
	if (name == NULL)
		name = "(string)";
	if (text == NULL) {
		policy_set_error(err, "%s: no policy text", name);
		return NULL;
	}
	return policy_compile(text, len, name, err);
}

/* This and policy_open_file run in every process the shim is preloaded into,
 * at start-up (the shim reads its policy then): in .text.startup, beside the
 * shim's constructor, whose page is already faulted in, they cost no page
 * fault of their own. Harmless in the CLI. */
#define POLICY_STARTUP_TEXT __attribute__((section(".text.startup")))

POLICY_STARTUP_TEXT static int load_check_file(int fd, const char *path, struct stat *stp,
                                               struct policy_error *err)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		if (err != NULL)
			err->sys_errno = errno;
		policy_set_error(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		policy_set_error(err, "%s: not a regular file", path);
		return -1;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		policy_set_error(err,
		                 "%s: refusing policy writable by group/others (mode %04o); "
		                 "fix with: chmod go-w %s",
		                 path, (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		policy_set_error(err,
		                 "%s: refusing policy owned by uid %u (not root or the current "
		                 "user %u); fix with: chown root %s",
		                 path, (unsigned)st.st_uid, (unsigned)geteuid(), path);
		return -1;
	}
	if (st.st_size > POLICY_MAX_FILE) {
		policy_set_error(err, "%s: policy is larger than %d bytes", path, POLICY_MAX_FILE);
		return -1;
	}
	*stp = st;
	return 0;
}

/* read(2) in a loop up to one byte past the limit, so a file that grew after
 * fstat() is still caught. */
static char *load_read(int fd, const char *path, size_t *len, struct policy_error *err)
{
	size_t cap = 4096, used = 0;
	char *buf = NULL, *bigger;
	ssize_t n;

	for (;;) {
		if (used == cap || buf == NULL) {
			cap = buf == NULL ? cap : cap * 2;
			if (cap > POLICY_MAX_FILE + 1)
				cap = POLICY_MAX_FILE + 1;
			bigger = realloc(buf, cap);
			if (bigger == NULL) {
				policy_set_error(err, "%s: out of memory", path);
				goto err;
			}
			buf = bigger;
		}
		n = policy_io_calls.read(fd, buf + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (err != NULL)
				err->sys_errno = errno;
			policy_set_error(err, "%s: %s", path, strerror(errno));
			goto err;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > POLICY_MAX_FILE) {
			policy_set_error(err, "%s: policy is larger than %d bytes", path,
			                 POLICY_MAX_FILE);
			goto err;
		}
	}
	*len = used;
	return buf;
err:
	free(buf);
	return NULL;
}

POLICY_STARTUP_TEXT int policy_open_file(const char *path, size_t *size, struct policy_error *err)
{
	struct stat st;
	int fd;

	if (err != NULL)
		err->sys_errno = 0;
	if (path == NULL || path[0] == '\0') {
		policy_set_error(err, "(policy): no policy path given (TLSGUARD_POLICY is empty?)");
		return -1;
	}
	/* Never a path relative to whatever directory the program runs in. */
	if (path[0] != '/') {
		policy_set_error(err, "%s: policy path must be absolute", path);
		return -1;
	}
	/* O_NONBLOCK: a FIFO planted at the path must not hang the program. The
	 * checks run on the opened descriptor, so there is no race with a rename. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (err != NULL)
			err->sys_errno = errno;
		policy_set_error(err, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (load_check_file(fd, path, &st, err) != 0) {
		policy_io_calls.close(fd);
		return -1;
	}
	*size = (size_t)st.st_size;
	return fd;
}

struct policy *policy_load_file(const char *path, struct policy_error *err)
{
	struct policy *policy = NULL;
	char *text = NULL;
	size_t len = 0, size;
	int fd = policy_open_file(path, &size, err);

	if (fd < 0)
		return NULL;
	text = load_read(fd, path, &len, err);
	if (text != NULL)
		policy = policy_compile(text, len, path, err);
	free(text);
	policy_io_calls.close(fd);
	return policy;
}
