/*
 * tlsguard run [-p POLICY] [--audit] -- CMD [ARG...]: checks the policy, then
 * replaces itself with CMD, the shim preloaded and the policy named, after
 * warning about whatever would keep the shim from enforcing CMD. A broken
 * policy never starts CMD (exit 78, EX_CONFIG in sysexits(3)).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <link.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "elf_inspect.h"
#include "preload_list.h"

#define RUN_SHIM_NAME CLI_SHIM_NAME

static int run_run(int argc, char **argv);

const struct cli_command cli_cmd_run = {
    .name = "run",
    .synopsis = "[-p POLICY] [--audit] -- CMD [ARG...]",
    .summary = "check the policy, then run CMD with the shim preloaded and the policy set",
    .run = run_run,
};

static void run_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void run_warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s run: warning: ", CLI_NAME);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* An LD_PRELOAD entry that is this shim already, or another copy of it (two
 * shims would both interpose every call). */
static bool run_is_shim(const char *entry, const char *shim)
{
	char real[PATH_MAX];
	const char *slash;

	if (strcmp(entry, shim) == 0 ||
	    (realpath(entry, real) != NULL && strcmp(real, shim) == 0)) {
		return true;
	}
	slash = strrchr(entry, '/');
	if (strcmp(slash != NULL ? slash + 1 : entry, RUN_SHIM_NAME) == 0) {
		run_warn("LD_PRELOAD: replacing %s with %s", entry, shim);
		return true;
	}
	return false;
}

/* LD_PRELOAD = the shim, then every existing entry but the shim itself
 * (preload_list.h: the loader's separators). */
static int run_set_preload(const char *shim)
{
	const char *old = getenv("LD_PRELOAD"), *cursor = old, *entry;
	char *val, *item;
	size_t len;
	int rc;

	if (old == NULL || *old == '\0') {
		return setenv("LD_PRELOAD", shim, 1);
	}
	val = malloc(strlen(shim) + strlen(old) + 2);
	if (val == NULL) {
		return -1;
	}
	strcpy(val, shim);
	while (preload_list_next(&cursor, &entry, &len)) {
		item = strndup(entry, len);
		if (item == NULL) {
			free(val);
			return -1;
		}
		if (!run_is_shim(item, shim)) {
			strcat(val, ":");
			strcat(val, item);
		}
		free(item);
	}
	rc = setenv("LD_PRELOAD", val, 1);
	free(val);
	return rc;
}

static int run_shim_loaded(struct dl_phdr_info *info, size_t size, void *data)
{
	const char *slash = strrchr(info->dlpi_name, '/');

	(void)size;
	(void)data;
	return slash != NULL && strcmp(slash + 1, RUN_SHIM_NAME) == 0;
}

static bool run_env_equal(const char *a, const char *b)
{
	return (a == NULL || *a == '\0') ? (b == NULL || *b == '\0')
	                                 : b != NULL && strcmp(a, b) == 0;
}

/* A tlsguard that itself runs under the shim cannot hand CMD another policy or
 * mode: the shim gives every child the TLSGUARD_* values its process started
 * with (inherit, tlsguard.conf(5)), so a program cannot escape its policy by
 * editing its environment. Refuse rather than run CMD under a policy the user
 * did not ask for. */
static int run_check_nested(const char *start_policy, const char *start_mode)
{
	const char *policy = getenv("TLSGUARD_POLICY"), *mode = getenv("TLSGUARD_MODE");

	if (!dl_iterate_phdr(run_shim_loaded, NULL) ||
	    (run_env_equal(start_policy, policy) && run_env_equal(start_mode, mode))) {
		return 0;
	}
	fprintf(stderr,
	        "%s run: %s already runs under the shim, which keeps TLSGUARD_POLICY=%s and "
	        "TLSGUARD_MODE=%s for every child: run it without LD_PRELOAD\n",
	        CLI_NAME, CLI_NAME, start_policy != NULL ? start_policy : "(unset)",
	        start_mode != NULL ? start_mode : "(unset)");
	return -1;
}

/* Loads the policy as the shim will and names it for the shim. */
static int run_set_policy(const char *arg, bool audit)
{
	struct policy_error err;
	struct policy *policy;
	const char *env_mode;

	memset(&err, 0, sizeof(err));
	policy = cli_policy_load(arg, &err);
	if (policy == NULL) {
		fprintf(stderr, "%s run: %s\n", CLI_NAME, err.msg);
		return -1;
	}
	/* The absolute path the policy was read from: the command may chdir. */
	if (!cli_policy_is_builtin(policy) &&
	    setenv("TLSGUARD_POLICY", policy_source(policy), 1) != 0) {
		fprintf(stderr, "%s run: cannot set TLSGUARD_POLICY: %s\n", CLI_NAME,
		        strerror(errno));
		policy_free(policy);
		return -1;
	}
	if (audit) {
		setenv("TLSGUARD_MODE", "audit", 1);
	}
	env_mode = getenv("TLSGUARD_MODE");
	if (audit && !policy_env_override(policy)) {
		run_warn(
		    "%s says env_override = false: the shim ignores --audit and enforces its mode "
		    "\"%s\"",
		    policy_source(policy), policy_mode_name(policy_mode(policy)));
	} else if (!audit && env_mode != NULL && policy_env_override(policy)) {
		run_warn("TLSGUARD_MODE=%s from the environment overrides the policy's mode",
		         env_mode);
	}
	if (policy_mode(policy) == POLICY_MODE_OFF && env_mode == NULL) {
		run_warn("%s: mode is \"off\": nothing is enforced", policy_source(policy));
	}
	policy_free(policy);
	return 0;
}

/* Warnings only: the operator decided to run CMD; tell them what the shim
 * cannot do there, never refuse. */
static void run_inspect_warnings(const char *cmd, const char *path)
{
	static struct inspect_report rep; /* large: not on the stack */
	size_t i;

	if (inspect_program(path, &rep) != 0) {
		run_warn("cannot inspect %s: %s", cmd, rep.error);
		return;
	}
	for (i = 0; i < rep.nfindings; i++) {
		if (rep.findings[i].level >= INSPECT_PARTLY) {
			run_warn("%s: %s", cmd, rep.findings[i].text);
		}
	}
	if (rep.verdict >= INSPECT_PARTLY) {
		run_warn("%s is %s: %s", cmd, inspect_verdict_name(rep.verdict), rep.reason);
	}
}

/* execv, and like execvp(3) a file the kernel cannot execute (ENOEXEC) is run
 * by /bin/sh. Returns only on failure, with the shell's status for it. */
static int run_exec(const char *cmd, const char *path, int argc, char **argv)
{
	char **sh_argv;
	int i;

	execv(path, argv);
	if (errno == ENOEXEC && (sh_argv = calloc(argc + 2, sizeof(*sh_argv))) != NULL) {
		sh_argv[0] = "/bin/sh";
		sh_argv[1] = (char *)path;
		for (i = 1; i < argc; i++) {
			sh_argv[i + 1] = argv[i];
		}
		execv("/bin/sh", sh_argv);
		free(sh_argv);
	}
	fprintf(stderr, "%s: %s: %s\n", CLI_NAME, cmd, strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

static int run_run(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"policy", required_argument, NULL, 'p'},
	    {"audit", no_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char shim[PATH_MAX], path[PATH_MAX];
	const char *policy_arg = NULL, *start_policy, *start_mode;
	bool audit = false;
	int c;

	cli_options_begin();
	/* '+': options end at CMD, so CMD's own options are left alone. */
	while ((c = getopt_long(argc, argv, "+:p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			policy_arg = optarg;
			break;
		case 'a':
			audit = true;
			break;
		default:
			return cli_option_other(&cli_cmd_run, c, argv);
		}
	}
	if (optind >= argc) {
		return cli_usage_error(&cli_cmd_run, "no command to run");
	}
	start_policy = getenv("TLSGUARD_POLICY");
	start_mode = getenv("TLSGUARD_MODE");
	start_policy = start_policy != NULL ? strdup(start_policy) : NULL;
	start_mode = start_mode != NULL ? strdup(start_mode) : NULL;
	if (run_set_policy(policy_arg, audit) != 0 ||
	    run_check_nested(start_policy, start_mode) != 0) {
		return EX_CONFIG;
	}
	if (cli_find_shim(shim, sizeof(shim)) != 0) {
		fprintf(stderr, "%s run: cannot find %s next to %s or at %s\n", CLI_NAME,
		        RUN_SHIM_NAME, CLI_NAME, &CLI_SHIM_INSTALLED[1]);
		return EX_CONFIG;
	}
	switch (inspect_resolve_command(argv[optind], path, sizeof(path))) {
	case 0:
		break;
	case 126:
		fprintf(stderr, "%s: %s: %s\n", CLI_NAME, argv[optind], strerror(EACCES));
		return 126;
	case 127:
	default:
		fprintf(stderr, "%s: %s: command not found\n", CLI_NAME, argv[optind]);
		return 127;
	}
	run_inspect_warnings(argv[optind], path);
	if (run_set_preload(shim) != 0) {
		fprintf(stderr, "%s run: cannot set LD_PRELOAD: %s\n", CLI_NAME, strerror(errno));
		return EX_CONFIG;
	}
	fflush(stderr);
	return run_exec(argv[optind], path, argc - optind, argv + optind);
}
