/* Helpers shared by the subcommands: loading the policy that applies, usage
 * errors, finding the shim. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* A relative POLICY argument names a file in the working directory, where the
 * user is; the policy engine wants absolute paths. No symlink resolution: the
 * engine checks the ownership of the file the user named. */
static struct policy *cli_policy_load_arg(const char *path, struct policy_error *err)
{
	char cwd[PATH_MAX], abspath[PATH_MAX + 1];
	int n;

	if (path[0] == '/' || path[0] == '\0') {
		return policy_load_file(path, err);
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		policy_set_error(err, "%s: cannot find the working directory: %s", path,
		                 strerror(errno));
		return NULL;
	}
	n = snprintf(abspath, sizeof(abspath), "%s/%s", cwd, path);
	if (n < 0 || (size_t)n >= sizeof(abspath)) {
		policy_set_error(err, "%s: path too long", path);
		return NULL;
	}
	return policy_load_file(abspath, err);
}

struct policy *cli_policy_load(const char *path, struct policy_error *err)
{
	struct policy_selection sel;
	struct policy *policy;

	if (path != NULL) {
		return cli_policy_load_arg(path, err);
	}
	/* secure_getenv: the shim ignores TLSGUARD_* in secure execution. The
	 * rule is the shim's (policy_select), so check reports what it would. */
	if (policy_select(secure_getenv("TLSGUARD_POLICY"), &sel, err) != 0) {
		return NULL;
	}
	policy = policy_load_file(sel.path, err);
	if (policy != NULL || !policy_select_builtin(&sel, err->sys_errno)) {
		return policy;
	}
	policy = policy_new_default();
	if (policy == NULL) {
		policy_set_error(err, "built-in default policy: out of memory");
	}
	return policy;
}

int cli_policy_is_builtin(const struct policy *policy)
{
	return strcmp(policy_source(policy), "(built-in)") == 0;
}

void cli_usage_line(const struct cli_command *cmd, FILE *out)
{
	fprintf(out, "usage: %s %s%s%s\n", CLI_NAME, cmd->name, *cmd->synopsis != '\0' ? " " : "",
	        cmd->synopsis);
}

void cli_options_begin(void)
{
	opterr = 0; /* cli_option_other says what was wrong, with the usage line */
	optind = 1; /* argv[0] is the subcommand's name */
}

int cli_option_other(const struct cli_command *cmd, int c, char **argv)
{
	if (c == 'h') {
		cli_help(cmd, stdout);
		return CLI_EXIT_OK;
	}
	return cli_option_error(cmd, c, argv);
}

int cli_option_error(const struct cli_command *cmd, int c, char **argv)
{
	/* getopt with a leading ':' in optstring: ':' is a missing argument. */
	if (c == ':') {
		return cli_usage_error(cmd, "option '%s' needs an argument", argv[optind - 1]);
	}
	if (optopt != 0) {
		return cli_usage_error(cmd, "unknown option '-%c'", optopt);
	}
	return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
}

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", CLI_NAME, cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cli_usage_line(cmd, stderr);
	return CLI_EXIT_USAGE;
}

int cli_find_shim(char *out, size_t len)
{
	static const char *const candidates[] = {CLI_SHIM_INSTALLED, "/" CLI_SHIM_NAME};
	char exe[PATH_MAX], cand[PATH_MAX + sizeof(CLI_SHIM_INSTALLED)], real[PATH_MAX];
	struct stat st;
	ssize_t n;
	size_t i;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		return -1;
	}
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		snprintf(cand, sizeof(cand), "%s%s", exe, candidates[i]);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && realpath(cand, real) != NULL &&
		    strlen(real) < len) {
			strcpy(out, real);
			return 0;
		}
	}
	return -1;
}
