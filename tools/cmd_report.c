/*
 * tlsguard report [--json] [--top N] [--wide] [FILE...|-]: a summary of the
 * audit events in syslog files (rotated .gz ones too), journal exports
 * (`journalctl -o short`, `-o cat`, `-o json`), a collector's files or the
 * shim's stderr (forms: report_parse.c), grouped by the host that logged them.
 * Lines that are not tlsguard events are skipped and counted; so are event
 * lines that do not parse, separately; event=suppressed counts are added up.
 * Exit 0, 1 when an input cannot be read, 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "report.h"

#define REPORT_EXIT_READ 1
#define READ_CHUNK       (REPORT_LINE_MAX + 1)

/* Table columns; the destination takes what is left of 80. */
#define COL_COUNT   7
#define COL_VERDICT 7
#define COL_REASON  16
#define COL_PROGRAM 18
#define COL_DIR     3
#define COL_DEST    (80 - (COL_COUNT + COL_VERDICT + COL_REASON + COL_PROGRAM + COL_DIR + 5))

static int run_report(int argc, char **argv);

const struct cli_command cli_cmd_report = {
    .name = "report",
    .synopsis = "[--json] [--top N] [--wide] [FILE...|-]",
    .summary = "summarise audit events from syslog files, journal exports or stderr",
    .run = run_report,
};

const char *report_ascii(const char *s, char *buf, size_t width)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < width; i++) {
		unsigned char ch = (unsigned char)s[i];
		buf[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	if (s[i] != '\0' && i > 0) {
		buf[i - 1] = '~';
	}
	buf[i] = '\0';
	return buf;
}

static int report_line(struct report *r, const char *line, size_t len)
{
	struct report_event ev;

	switch (report_parse_line(line, len, r->scratch, &ev)) {
	case REPORT_LINE_EVENT:
		break;
	case REPORT_LINE_MALFORMED:
		r->malformed++;
		return 0;
	case REPORT_LINE_OTHER:
	default:
		r->skipped++;
		return 0;
	}
	if (strcmp(ev.f.value[AUDIT_FIELD_EVENT], audit_kind_names[AUDIT_SUPPRESSED]) == 0) {
		r->suppressed += ev.count_value;
		return 0;
	}
	r->events++;
	r->guessed = r->guessed || ev.when_guessed;
	if (strcmp(ev.f.value[AUDIT_FIELD_VERDICT], audit_verdict_names[AUDIT_VERDICT_BLOCK]) ==
	    0) {
		r->blocked++;
	} else if (strcmp(ev.f.value[AUDIT_FIELD_VERDICT],
	                  audit_verdict_names[AUDIT_VERDICT_AUDIT]) == 0) {
		r->audited++;
	} else {
		r->allowed++;
	}
	if (ev.ts[0] != '\0') {
		if (r->first_ts[0] == '\0') {
			memcpy(r->first_ts, ev.ts, sizeof(r->first_ts));
			memcpy(r->first_when, ev.when, sizeof(r->first_when));
		}
		memcpy(r->last_ts, ev.ts, sizeof(r->last_ts));
		memcpy(r->last_when, ev.when, sizeof(r->last_when));
	}
	return report_table_add(&r->table, &ev);
}

/* Splits fd into lines of at most REPORT_LINE_MAX bytes; a longer line is
 * dropped up to its newline and counted, never buffered whole. */
static int report_read(struct report *r, int fd)
{
	char *buf = malloc(READ_CHUNK);
	size_t have = 0, start, i;
	bool discarding = false, eof = false;
	ssize_t got;

	if (buf == NULL) {
		return -1;
	}
	while (!eof) {
		got = read(fd, buf + have, READ_CHUNK - have);
		if (got < 0 && errno == EINTR) {
			continue;
		}
		if (got < 0) {
			free(buf);
			return -1;
		}
		eof = got == 0;
		have += (size_t)got;
		for (start = 0, i = 0; i < have; i++) {
			if (buf[i] != '\n') {
				continue;
			}
			if (!discarding && report_line(r, buf + start, i - start) != 0) {
				goto nomem;
			}
			discarding = false;
			start = i + 1;
		}
		if (eof && start < have && !discarding &&
		    report_line(r, buf + start, have - start) != 0) {
			goto nomem;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
		if (have > REPORT_LINE_MAX) {
			/* too long: count once, drop until the newline */
			if (!discarding) {
				r->skipped++;
				r->too_long++;
			}
			discarding = true;
			have = 0;
		}
	}
	free(buf);
	return 0;
nomem:
	free(buf);
	errno = ENOMEM;
	return -1;
}

static void print_header(const struct report *r)
{
	printf("tlsguard report: %lu events: %lu blocked, %lu audit-only, %lu allowed\n", r->events,
	       r->blocked, r->audited, r->allowed);
	if (r->suppressed > 0) {
		printf(
		    "and %llu more held back by the rate limit (event=suppressed), not itemised\n",
		    r->suppressed);
	}
	if (r->first_when[0] != '\0') {
		printf("seen from %s to %s\n", r->first_when, r->last_when);
	}
	if (r->guessed) {
		printf(
		    "(syslog stamps without a year or zone: read as this machine's local time)\n");
	}
	if (r->skipped > 0) {
		printf("skipped %lu lines that are not tlsguard events", r->skipped);
		if (r->too_long > 0) {
			printf(" (%lu longer than %d bytes)", r->too_long, REPORT_LINE_MAX);
		}
		putchar('\n');
	}
	if (r->malformed > 0) {
		printf("skipped %lu malformed tlsguard event lines\n", r->malformed);
	}
}

/* "127.0.0.1:443 example.org", or the one of them that is known. */
static const char *group_dest(const struct report_group *g, char *buf, size_t len)
{
	const char *peer = g->key[REPORT_KEY_PEER], *host = g->key[REPORT_KEY_HOST];

	if (strcmp(host, "-") == 0) {
		snprintf(buf, len, "%s", peer);
	} else if (strcmp(peer, "-") == 0) {
		snprintf(buf, len, "%s", host);
	} else {
		snprintf(buf, len, "%s %s", peer, host);
	}
	return buf;
}

/* The program column: 18 wide, or with --wide as wide as the longest name. */
static size_t program_width(const struct report *r, struct report_group **groups)
{
	size_t i, w = COL_PROGRAM;

	for (i = 0; r->wide && i < r->table.ngroups; i++) {
		if (strlen(groups[i]->key[REPORT_KEY_EXE]) > w) {
			w = strlen(groups[i]->key[REPORT_KEY_EXE]);
		}
	}
	return w;
}

static void print_group(const struct report *r, const struct report_group *g, size_t pw)
{
	char verdict[COL_VERDICT + 1], reason[COL_REASON + 1], dir[COL_DIR + 1], full[1024];
	char *program = malloc(pw + 1), *dest = malloc(sizeof(full));
	size_t dw = r->wide ? sizeof(full) - 1 : COL_DEST;

	if (program == NULL || dest == NULL) {
		free(program);
		free(dest);
		return;
	}
	printf("%*lu %-*s %-*s %-*s %-*s %s%s\n", COL_COUNT, g->count, COL_VERDICT,
	       report_ascii(g->key[REPORT_KEY_VERDICT], verdict, COL_VERDICT), COL_REASON,
	       report_ascii(g->key[REPORT_KEY_REASON], reason, COL_REASON), (int)pw,
	       report_ascii(g->key[REPORT_KEY_EXE], program, pw), COL_DIR,
	       report_ascii(g->key[REPORT_KEY_DIR], dir, COL_DIR),
	       report_ascii(group_dest(g, full, sizeof(full)), dest, dw),
	       strcmp(g->key[REPORT_KEY_PROTO], "udp") == 0 ? " udp" : "");
	free(program);
	free(dest);
	if (g->first_when[0] != '\0') {
		printf("%*s first %s  last %s\n", COL_COUNT, "", g->first_when, g->last_when);
	}
}

/* The groups of one host (they are sorted by host): its heading when the
 * log names hosts, then at most --top of them. Returns the next host's
 * first group. */
static size_t print_host(const struct report *r, struct report_group **groups, size_t i, size_t pw)
{
	const char *host = groups[i]->key[REPORT_KEY_LOGHOST];
	unsigned long events = 0;
	size_t j, shown = 0, n;
	char name[72];

	for (n = i; n < r->table.ngroups && strcmp(groups[n]->key[REPORT_KEY_LOGHOST], host) == 0;
	     n++) {
		events += groups[n]->count;
	}
	if (strcmp(host, "-") != 0 || i > 0 || n < r->table.ngroups) {
		printf("\nhost %s: %lu events\n",
		       strcmp(host, "-") == 0 ? "(not named in the log)"
		                              : report_ascii(host, name, 64),
		       events);
	} else {
		putchar('\n');
	}
	printf("%*s %-*s %-*s %-*s %-*s %s\n", COL_COUNT, "COUNT", COL_VERDICT, "VERDICT",
	       COL_REASON, "REASON", (int)pw, "PROGRAM", COL_DIR, "DIR", "DESTINATION");
	for (j = i; j < n; j++) {
		if (r->top > 0 && shown == r->top) {
			printf("%*s (%zu more groups; --top %zu shows the largest)\n", COL_COUNT,
			       "", n - j, r->top);
			break;
		}
		print_group(r, groups[j], pw);
		shown++;
	}
	return n;
}

static int print_text(const struct report *r, struct report_group **groups)
{
	size_t i, pw;

	print_header(r);
	if (r->events == 0) {
		return 0;
	}
	pw = program_width(r, groups);
	for (i = 0; i < r->table.ngroups;) {
		i = print_host(r, groups, i, pw);
	}
	putchar('\n');
	return report_rules_print(stdout, groups, r->table.ngroups);
}

/* gzip's magic (RFC 1952 2.3.1). */
static bool is_gzip(int fd)
{
	unsigned char magic[2];
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    pread(fd, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic)) {
		return false;
	}
	return magic[0] == 0x1f && magic[1] == 0x8b;
}

/* Reads a rotated .gz log through `gzip -dc` (no zlib in the CLI): the
 * child's stdin is the open file, its stdout a pipe. */
static int report_read_gzip(struct report *r, int fd)
{
	int pipefd[2], status, rc;
	pid_t child;

	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		return -1;
	}
	child = fork();
	if (child < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (child == 0) {
		if (dup2(fd, STDIN_FILENO) < 0 || dup2(pipefd[1], STDOUT_FILENO) < 0) {
			_exit(127);
		}
		execlp("gzip", "gzip", "-dc", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	rc = report_read(r, pipefd[0]);
	close(pipefd[0]);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
	}
	if (rc == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
		errno = EIO; /* a corrupt or truncated archive, or no gzip */
		return -1;
	}
	return rc;
}

/* One input: a path, or "-" for standard input. */
static int report_input(struct report *r, const char *path)
{
	struct stat st;
	int fd, rc;

	if (strcmp(path, "-") == 0) {
		/* Say so: a user who forgot the file name sees why nothing happens. */
		if (fstat(STDIN_FILENO, &st) < 0 || !S_ISREG(st.st_mode)) {
			fprintf(stderr, "%s report: reading standard input\n", CLI_NAME);
		}
		return report_read(r, STDIN_FILENO);
	}
	do {
		fd = open(path, O_RDONLY | O_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		return -1;
	}
	rc = is_gzip(fd) ? report_read_gzip(r, fd) : report_read(r, fd);
	close(fd);
	return rc;
}

static int report_run(char **paths, size_t npaths, struct report *r, bool json)
{
	static char *const stdin_only[] = {"-"};
	struct report_group **groups = NULL;
	int rc = REPORT_EXIT_READ;
	size_t i;

	r->scratch = malloc(2 * (REPORT_LINE_MAX + 1));
	if (npaths == 0) {
		paths = (char **)stdin_only;
		npaths = 1;
	}
	for (i = 0; i < npaths; i++) {
		if (r->scratch == NULL || report_input(r, paths[i]) != 0) {
			fprintf(stderr, "%s report: %s: %s\n", CLI_NAME,
			        strcmp(paths[i], "-") == 0 ? "stdin" : paths[i], strerror(errno));
			goto out;
		}
	}
	if (r->table.ngroups > 0 && (groups = report_table_sorted(&r->table)) == NULL) {
		fprintf(stderr, "%s report: out of memory\n", CLI_NAME);
		goto out;
	}
	if ((json ? report_print_json(r, groups) : print_text(r, groups)) != 0 ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "%s report: cannot write the report: %s\n", CLI_NAME,
		        strerror(errno));
		goto out;
	}
	rc = CLI_EXIT_OK;
out:
	free(groups);
	report_table_free(&r->table);
	free(r->scratch);
	return rc;
}

static int run_report(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"top", required_argument, NULL, 't'},
	    {"wide", no_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct report r = {0};
	bool json = false;
	char *end;
	long top;
	int c;

	cli_options_begin();
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 't':
			errno = 0;
			top = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || top < 1 ||
			    top > 1000000) {
				return cli_usage_error(&cli_cmd_report,
				                       "--top wants a number from 1 to 1000000");
			}
			r.top = (size_t)top;
			break;
		case 'w':
			r.wide = true;
			break;
		default:
			return cli_option_other(&cli_cmd_report, c, argv);
		}
	}
	return report_run(argv + optind, (size_t)(argc - optind), &r, json);
}
