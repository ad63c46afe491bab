/*
 * tlsguard status: the running processes that have the shim loaded, found by
 * their memory maps (proc(5), /proc/PID/maps), with the mode and policy they
 * run under, read from their environment (/proc/PID/environ) and the policy
 * file as it is now. A field that cannot be read is "?": another user's
 * process, seen without root.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "mode_select.h"

#define STATUS_ENV_MAX (256 * 1024) /* ARG_MAX-sized environments are cut here */

static int run_status(int argc, char **argv);

const struct cli_command cli_cmd_status = {
    .name = "status",
    .synopsis = "",
    .summary = "list the running processes that have the shim loaded, their mode and policy",
    .run = run_status,
};

struct status_proc {
	char program[PATH_MAX];
	char policy[PATH_MAX];
	char mode[32];
};

/* 1 when PID maps the shim, 0 when not, -1 when its maps cannot be read. A
 * mapping's path is the last field of its line; the shim may have been
 * replaced on disk since ("... (deleted)"). */
static int status_has_shim(const char *pid)
{
	char path[sizeof("/proc//environ") + NAME_MAX], *line = NULL;
	size_t cap = 0;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/maps", pid);
	f = fopen(path, "re");
	if (f == NULL) {
		return -1;
	}
	while (!found && getline(&line, &cap, f) > 0) {
		const char *name = strstr(line, "/" CLI_SHIM_NAME);
		if (name != NULL) {
			name += strlen("/" CLI_SHIM_NAME);
			found =
			    *name == '\n' || *name == '\0' || strncmp(name, " (deleted)", 10) == 0;
		}
	}
	free(line);
	fclose(f);
	return found;
}

/* The process's initial environment: NUL-separated, as execve(2) gave it. */
static char *status_environ(const char *pid, size_t *len)
{
	char path[sizeof("/proc//environ") + NAME_MAX];
	char *buf;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/environ", pid);
	f = fopen(path, "re");
	if (f == NULL) {
		return NULL;
	}
	buf = malloc(STATUS_ENV_MAX + 1);
	if (buf != NULL) {
		*len = fread(buf, 1, STATUS_ENV_MAX, f);
		if (ferror(f)) {
			free(buf);
			buf = NULL;
		} else {
			buf[*len] = '\0';
		}
	}
	fclose(f);
	return buf;
}

static const char *status_getenv(const char *env, size_t len, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = env;

	while (p < env + len) {
		if (strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			return p + nlen + 1;
		}
		p += strlen(p) + 1;
	}
	return NULL;
}

/* Mode and policy as the shim chose them at start-up (policy_select): the
 * file TLSGUARD_POLICY names, else the default file if it exists, else the
 * built-in default; TLSGUARD_MODE when the policy lets the environment
 * override its mode. An empty TLSGUARD_POLICY is an error: the shim refuses
 * every connection, and the policy reads "(error)". */
static void status_mode_policy(const char *pid, struct status_proc *p)
{
	const char *env_policy, *env_mode;
	struct policy_selection sel;
	struct policy_error err = {0};
	struct policy *policy = NULL;
	struct stat st;
	char *env;
	size_t len = 0;

	env = status_environ(pid, &len);
	if (env == NULL) {
		return; /* both stay "?" */
	}
	env_policy = status_getenv(env, len, "TLSGUARD_POLICY");
	env_mode = status_getenv(env, len, "TLSGUARD_MODE");
	if (policy_select(env_policy, &sel, &err) != 0) {
		snprintf(p->policy, sizeof(p->policy), "(error)");
		free(env);
		return;
	}
	if (!sel.builtin_if_missing) {
		snprintf(p->policy, sizeof(p->policy), "%s", sel.path);
		if (sel.path[0] == '/') {
			policy = policy_load_file(sel.path, &err);
		}
	} else if (stat(sel.path, &st) == 0 || !policy_select_builtin(&sel, errno)) {
		snprintf(p->policy, sizeof(p->policy), "%s", sel.path);
		policy = policy_load_file(sel.path, &err);
	} else {
		snprintf(p->policy, sizeof(p->policy), "(built-in)");
		policy = policy_new_default();
	}
	if (policy != NULL) {
		snprintf(p->mode, sizeof(p->mode), "%s",
		         policy_mode_name(mode_in_force(policy, env_mode, NULL)));
	} else if (env_mode != NULL && *env_mode != '\0') {
		snprintf(p->mode, sizeof(p->mode), "%s", env_mode); /* no policy to ask */
	}
	policy_free(policy);
	free(env);
}

static void status_program(const char *pid, struct status_proc *p)
{
	char path[sizeof("/proc//environ") + NAME_MAX], comm[64];
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/exe", pid);
	n = readlink(path, p->program, sizeof(p->program) - 1);
	if (n > 0) {
		p->program[n] = '\0';
		return;
	}
	/* No executable path for another user's process: its name, as ps(1)
	 * shows it, in brackets. */
	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	f = fopen(path, "re");
	if (f != NULL && fgets(comm, sizeof(comm), f) != NULL) {
		comm[strcspn(comm, "\n")] = '\0';
		snprintf(p->program, sizeof(p->program), "[%s]", comm);
	}
	if (f != NULL) {
		fclose(f);
	}
}

static bool status_is_pid(const char *name)
{
	const char *c;

	for (c = name; *c != '\0'; c++) {
		if (!isdigit((unsigned char)*c)) {
			return false;
		}
	}
	return *name != '\0';
}

static int run_status(int argc, char **argv)
{
	unsigned long shown = 0, unreadable = 0;
	struct dirent *de;
	DIR *proc;

	if (argc > 1) {
		return cli_usage_error(&cli_cmd_status, "no argument expected, got '%s'", argv[1]);
	}
	proc = opendir("/proc");
	if (proc == NULL) {
		fprintf(stderr, "%s status: cannot read /proc: %s\n", CLI_NAME, strerror(errno));
		printf("0 processes have %s loaded\n", CLI_SHIM_NAME);
		return CLI_EXIT_OK;
	}
	printf("%7s %-8s %-40s %s\n", "PID", "MODE", "POLICY", "PROGRAM");
	while ((de = readdir(proc)) != NULL) {
		struct status_proc p = {.program = "?", .policy = "?", .mode = "?"};
		int has;

		if (!status_is_pid(de->d_name)) {
			continue;
		}
		has = status_has_shim(de->d_name);
		if (has < 0 && errno != ENOENT && errno != ESRCH) {
			unreadable++;
		}
		if (has <= 0) {
			continue;
		}
		status_program(de->d_name, &p);
		status_mode_policy(de->d_name, &p);
		printf("%7s %-8s %-40s %s\n", de->d_name, p.mode, p.policy, p.program);
		shown++;
	}
	closedir(proc);
	printf("%lu process%s ha%s %s loaded\n", shown, shown == 1 ? "" : "es",
	       shown == 1 ? "s" : "ve", CLI_SHIM_NAME);
	if (unreadable > 0) {
		printf("%lu process%s could not be read (permission denied)%s\n", unreadable,
		       unreadable == 1 ? "" : "es",
		       geteuid() != 0 ? ": run as root to see them" : "");
	}
	return CLI_EXIT_OK;
}
