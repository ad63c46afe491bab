/*
 * tlsguard enable SERVICE [-p POLICY] [--audit] [--root DIR] and
 * tlsguard disable SERVICE [--root DIR]: write and remove the systemd drop-in
 * (systemd.unit(5), "drop-in" directories) that preloads the shim into a
 * service. Nothing is restarted: the commands that apply the change are
 * printed, for the operator to run when it suits the service.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define ENABLE_EXIT_FAIL   1
#define ENABLE_UNIT_DIR    "/etc/systemd/system"
#define ENABLE_DROPIN      "tlsguard.conf"
#define ENABLE_SUFFIX      ".service"
#define ENABLE_UNIT_MAX    255 /* systemd's UNIT_NAME_MAX, suffix included */
#define ENABLE_CONTENT_MAX (3 * PATH_MAX + 512)

static int run_enable(int argc, char **argv);
static int run_disable(int argc, char **argv);

const struct cli_command cli_cmd_enable = {
    .name = "enable",
    .synopsis = "SERVICE [-p POLICY] [--audit] [--root DIR]",
    .summary = "write a systemd drop-in that runs SERVICE under the shim and the policy",
    .run = run_enable,
};

const struct cli_command cli_cmd_disable = {
    .name = "disable",
    .synopsis = "SERVICE [--root DIR]",
    .summary = "remove the drop-in tlsguard enable wrote for SERVICE",
    .run = run_disable,
};

struct enable_args {
	const char *service; /* as given */
	const char *policy;  /* -p, or NULL */
	const char *root;    /* --root, or NULL for / */
	bool audit;
	char unit[ENABLE_UNIT_MAX + 1]; /* NAME.service */
	char dir[PATH_MAX];             /* ROOT/etc/systemd/system/NAME.service.d */
	char file[PATH_MAX];            /* DIR/tlsguard.conf */
};

/* A service name the drop-in path can be built from: systemd's unit name
 * characters (systemd.unit(5): ASCII letters, digits, ":-_.\@"), no path
 * separator, no "..", not hidden, at most one ".service" suffix; another unit
 * type (.socket, .timer) is not a service. "NAME@" names a template, whose
 * drop-in applies to every instance. */
static int enable_unit_name(const char *service, char *unit, size_t len)
{
	static const char *const other_types[] = {".socket", ".timer",    ".target", ".mount",
	                                          ".path",   ".slice",    ".scope",  ".device",
	                                          ".swap",   ".automount"};
	size_t n = strlen(service), slen = strlen(ENABLE_SUFFIX), i;
	const char *p;

	if (n > slen && strcmp(service + n - slen, ENABLE_SUFFIX) == 0) {
		n -= slen;
	}
	if (n == 0 || service[0] == '.' || service[0] == '-' || strstr(service, "..") != NULL ||
	    n + slen > len - 1) {
		return -1;
	}
	for (p = service; p < service + n; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(":-_.\\@", *p) != NULL)) {
			return -1;
		}
	}
	for (i = 0; i < sizeof(other_types) / sizeof(other_types[0]); i++) {
		size_t tlen = strlen(other_types[i]);
		if (n >= tlen && strncmp(service + n - tlen, other_types[i], tlen) == 0) {
			return -1;
		}
	}
	snprintf(unit, len, "%.*s%s", (int)n, service, ENABLE_SUFFIX);
	return 0;
}

/* The drop-in's directory and file below root. */
static int enable_paths(struct enable_args *a)
{
	const char *root = a->root != NULL ? a->root : "";
	size_t rlen = strlen(root);
	int n;

	while (rlen > 0 && root[rlen - 1] == '/') { /* --root / is the real root */
		rlen--;
	}
	n = snprintf(a->dir, sizeof(a->dir), "%.*s%s/%s.d", (int)rlen, root, ENABLE_UNIT_DIR,
	             a->unit);
	if (n < 0 || (size_t)n >= sizeof(a->dir)) {
		return -1;
	}
	n = snprintf(a->file, sizeof(a->file), "%s/%s", a->dir, ENABLE_DROPIN);
	return n < 0 || (size_t)n >= sizeof(a->file) ? -1 : 0;
}

/* Parses SERVICE and the options both commands share; 0, or the usage
 * error's exit status. */
static int enable_parse(const struct cli_command *cmd, int argc, char **argv, struct enable_args *a)
{
	static const struct option longopts[] = {
	    {"policy", required_argument, NULL, 'p'},
	    {"audit", no_argument, NULL, 'a'},
	    {"root", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool is_enable = cmd == &cli_cmd_enable;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, is_enable ? ":p:h" : ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!is_enable) {
				return cli_usage_error(cmd, "unknown option '%s'",
				                       argv[optind - 1]);
			}
			a->policy = optarg;
			break;
		case 'a':
			if (!is_enable) {
				return cli_usage_error(cmd, "unknown option '--audit'");
			}
			a->audit = true;
			break;
		case 'r':
			a->root = optarg;
			break;
		case 'h':
			cli_help(cmd, stdout);
			return -1;
		default:
			return cli_option_error(cmd, c, argv);
		}
	}
	if (argc - optind != 1) {
		return cli_usage_error(cmd, "one SERVICE expected");
	}
	a->service = argv[optind];
	if (enable_unit_name(a->service, a->unit, sizeof(a->unit)) != 0) {
		return cli_usage_error(cmd, "'%s' is not a service name", a->service);
	}
	if (a->root != NULL && a->root[0] != '/') {
		return cli_usage_error(cmd, "--root needs an absolute path");
	}
	if (enable_paths(a) != 0) {
		return cli_usage_error(cmd, "--root path too long");
	}
	return 0;
}

/* A path for an Environment= line: systemd splits on white space and reads
 * quotes and backslashes, so a path with them would not arrive as written;
 * '%' starts a specifier (systemd.unit(5), "Specifiers") and is doubled. */
static int enable_env_path(const char *path, char *out, size_t len)
{
	size_t o = 0;
	const char *p;

	for (p = path; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f || strchr("\"'\\", *p) != NULL) {
			return -1;
		}
		if (o + 3 > len) {
			return -1;
		}
		if (*p == '%') {
			out[o++] = '%';
		}
		out[o++] = *p;
	}
	out[o] = '\0';
	return 0;
}

/* The policy the service will read, checked now as the shim will load it.
 * *path is "" for the built-in default. */
static struct policy *enable_policy(const struct enable_args *a, char *path, size_t len)
{
	struct policy_error err = {0};
	struct policy *policy;
	const char *arg = a->policy;
	struct stat st;

	if (arg == NULL && (stat(POLICY_DEFAULT_PATH, &st) == 0 || errno != ENOENT)) {
		arg = POLICY_DEFAULT_PATH;
	}
	if (arg == NULL) {
		path[0] = '\0';
		policy = policy_new_default();
		if (policy == NULL) {
			fprintf(stderr, "%s enable: built-in default policy: out of memory\n",
			        CLI_NAME);
		}
		return policy;
	}
	policy = cli_policy_load(arg, &err);
	if (policy == NULL) {
		fprintf(stderr, "%s\n", err.msg);
		return NULL;
	}
	if (enable_env_path(policy_source(policy), path, len) != 0) {
		fprintf(stderr,
		        "%s enable: %s: a path with white space, quotes or backslashes "
		        "cannot be given to systemd\n",
		        CLI_NAME, policy_source(policy));
		policy_free(policy);
		return NULL;
	}
	return policy;
}

static int enable_content(const struct enable_args *a, const struct policy *policy,
                          const char *policy_path, char *out, size_t len)
{
	char shim[PATH_MAX], shim_env[2 * PATH_MAX];
	int n;

	if (cli_find_shim(shim, sizeof(shim)) != 0) {
		fprintf(stderr, "%s enable: cannot find %s next to %s or at %s\n", CLI_NAME,
		        CLI_SHIM_NAME, CLI_NAME, &CLI_SHIM_INSTALLED[1]);
		return -1;
	}
	if (enable_env_path(shim, shim_env, sizeof(shim_env)) != 0) {
		fprintf(stderr,
		        "%s enable: %s: a path with white space, quotes or backslashes "
		        "cannot be given to systemd\n",
		        CLI_NAME, shim);
		return -1;
	}
	n = snprintf(out, len,
	             "# Written by `%s enable %s`; `%s disable %s` removes it.\n"
	             "# Policy: %s (mode \"%s\"%s).\n"
	             "[Service]\n"
	             "Environment=LD_PRELOAD=%s\n"
	             "%s%s%s"
	             "%s",
	             CLI_NAME, a->unit, CLI_NAME, a->unit,
	             policy_path[0] != '\0' ? policy_source(policy) : "the built-in default",
	             policy_mode_name(policy_mode(policy)),
	             a->audit ? ", audit mode from TLSGUARD_MODE" : "", shim_env,
	             policy_path[0] != '\0' ? "Environment=TLSGUARD_POLICY=" : "", policy_path,
	             policy_path[0] != '\0' ? "\n" : "",
	             a->audit ? "Environment=TLSGUARD_MODE=audit\n" : "");
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* mkdir -p for the part of dir below root (the root itself must exist). */
static int enable_mkdirs(const char *dir)
{
	char tmp[PATH_MAX];
	char *p;

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/') {
			continue;
		}
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
			return -1;
		}
		*p = '/';
	}
	return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* Written beside the file and renamed over it: systemd never reads half a
 * drop-in, and a failed write leaves the previous one. */
static int enable_write(const char *file, const char *content)
{
	char tmp[PATH_MAX + 16];
	size_t len = strlen(content);
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", file);
	fd = mkstemp(tmp);
	if (fd < 0) {
		return -1;
	}
	if (fchmod(fd, 0644) != 0 || write(fd, content, len) != (ssize_t)len || fsync(fd) != 0) {
		goto err;
	}
	if (close(fd) != 0) {
		fd = -1;
		goto err;
	}
	fd = -1;
	if (rename(tmp, file) != 0) {
		goto err;
	}
	return 0;
err:
	if (fd >= 0) {
		close(fd);
	}
	unlink(tmp);
	return -1;
}

static void enable_print_apply(const struct enable_args *a)
{
	if (a->root != NULL) {
		printf("(written below %s: on the host it applies to, run)\n", a->root);
	} else {
		printf("to apply it:\n");
	}
	printf("  systemctl daemon-reload\n  systemctl restart %s\n", a->unit);
}

static int run_enable(int argc, char **argv)
{
	static char content[ENABLE_CONTENT_MAX];
	struct enable_args a = {0};
	char policy_path[2 * PATH_MAX];
	struct policy *policy;
	int rc;

	rc = enable_parse(&cli_cmd_enable, argc, argv, &a);
	if (rc != 0) {
		return rc < 0 ? CLI_EXIT_OK : rc;
	}
	policy = enable_policy(&a, policy_path, sizeof(policy_path));
	if (policy == NULL) {
		return ENABLE_EXIT_FAIL;
	}
	rc = enable_content(&a, policy, policy_path, content, sizeof(content));
	if (rc == 0 && a.audit && !policy_env_override(policy)) {
		fprintf(stderr,
		        "%s enable: warning: %s says env_override = false: the shim ignores "
		        "--audit and enforces its mode \"%s\"\n",
		        CLI_NAME, policy_source(policy), policy_mode_name(policy_mode(policy)));
	} else if (rc == 0 && !a.audit && policy_mode(policy) == POLICY_MODE_ENFORCE) {
		fprintf(
		    stderr,
		    "%s enable: note: enforce mode: whatever %s sends or accepts that the policy "
		    "refuses stops working; --audit records it first (tlsguard(8))\n",
		    CLI_NAME, a.unit);
	}
	policy_free(policy);
	if (rc != 0) {
		return ENABLE_EXIT_FAIL;
	}
	if (enable_mkdirs(a.dir) != 0 || enable_write(a.file, content) != 0) {
		fprintf(stderr, "%s enable: cannot write %s: %s\n", CLI_NAME, a.file,
		        strerror(errno));
		return ENABLE_EXIT_FAIL;
	}
	printf("wrote %s:\n%s", a.file, content);
	enable_print_apply(&a);
	return CLI_EXIT_OK;
}

static int run_disable(int argc, char **argv)
{
	struct enable_args a = {0};
	int rc;

	rc = enable_parse(&cli_cmd_disable, argc, argv, &a);
	if (rc != 0) {
		return rc < 0 ? CLI_EXIT_OK : rc;
	}
	if (unlink(a.file) != 0) {
		if (errno == ENOENT) {
			printf("%s has no tlsguard drop-in (%s): nothing to do\n", a.unit, a.file);
			return CLI_EXIT_OK;
		}
		fprintf(stderr, "%s disable: cannot remove %s: %s\n", CLI_NAME, a.file,
		        strerror(errno));
		return ENABLE_EXIT_FAIL;
	}
	printf("removed %s\n", a.file);
	/* The directory goes only when the drop-in was all it held. */
	if (rmdir(a.dir) == 0) {
		printf("removed %s/\n", a.dir);
	}
	enable_print_apply(&a);
	return CLI_EXIT_OK;
}
