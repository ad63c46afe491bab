/*
 * The tlsguard command: one file per subcommand (cmd_NAME.c), each exporting a
 * struct cli_command that tools/main.c lists in its dispatch table. The CLI links
 * policy/ only, never shim/.
 */
#ifndef TLSGUARD_CLI_H
#define TLSGUARD_CLI_H

#include <stdio.h>

#include "policy.h"

#define CLI_NAME    "tlsguard"
#define CLI_VERSION "0.1.0"

/* Exit statuses shared by check and explain (see tlsguard(1)). */
#define CLI_EXIT_OK      0
#define CLI_EXIT_INVALID 1 /* the policy cannot be loaded */
#define CLI_EXIT_USAGE   2

struct cli_command {
	const char *name;
	const char *synopsis; /* arguments after the name, for usage lines */
	const char *summary;  /* one line for `tlsguard --help` */
	/* argv[0] is the subcommand name; returns the exit status. */
	int (*run)(int argc, char **argv);
};

/* The subcommands; add one here and in the table in main.c. */
extern const struct cli_command cli_cmd_check;
extern const struct cli_command cli_cmd_explain;
extern const struct cli_command cli_cmd_inspect;
extern const struct cli_command cli_cmd_run;
extern const struct cli_command cli_cmd_report;
extern const struct cli_command cli_cmd_enable;
extern const struct cli_command cli_cmd_disable;
extern const struct cli_command cli_cmd_status;
extern const struct cli_command cli_cmd_help;

/* The dispatch table of main.c, for `tlsguard help`. */
extern const struct cli_command *const cli_commands[];
extern const size_t cli_ncommands;
/* The command called name, or NULL. */
const struct cli_command *cli_command_find(const char *name);
/* The full help of a command (tools/help.c): its usage line, what it does,
 * every option and every exit status. */
void cli_help(const struct cli_command *cmd, FILE *out);

/* The shim's file name, and where it is installed relative to the command:
 * PREFIX/bin/tlsguard and PREFIX/lib/MULTIARCH/tlsguard/libtlsguard.so (the
 * Makefile passes MULTIARCH); in the build tree it sits beside the command. */
#define CLI_SHIM_NAME "libtlsguard.so"
#ifndef TLSGUARD_MULTIARCH
#define TLSGUARD_MULTIARCH ""
#endif
#define CLI_SHIM_INSTALLED "/../lib/" TLSGUARD_MULTIARCH "/tlsguard/" CLI_SHIM_NAME
/* The shim that belongs to this tlsguard, found from the real path of the
 * running command (not $PATH, not the working directory), as an absolute path
 * without symbolic links. 0, or -1 when there is none. */
int cli_find_shim(char *out, size_t len);

/* Loads the policy the shim would use: path when not NULL (relative to the
 * working directory), else $TLSGUARD_POLICY
 * (ignored in a secure-execution process, as in the shim), else
 * POLICY_DEFAULT_PATH when it exists, else the built-in default. NULL on error,
 * with err filled in. */
struct policy *cli_policy_load(const char *path, struct policy_error *err);
/* True when the policy is the built-in default (no file was read). */
int cli_policy_is_builtin(const struct policy *policy);

/* Prints "tlsguard: MESSAGE" and the command's usage line on stderr; returns
 * CLI_EXIT_USAGE so callers can `return cli_usage_error(...)`. */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Before a subcommand's getopt_long loop over its argv (optstring starting
 * with ':'): getopt restarts at argv[1] and prints nothing itself. */
void cli_options_begin(void);
/* What every subcommand does with an option that is not its own: 'h' (--help)
 * prints its help and gives CLI_EXIT_OK; anything else is cli_option_error.
 * The status to return. */
int cli_option_other(const struct cli_command *cmd, int c, char **argv);
/* The usage error for what getopt_long (optstring starting with ':', opterr 0)
 * returned as c: '?' or ':'. */
int cli_option_error(const struct cli_command *cmd, int c, char **argv);
/* "usage: tlsguard NAME SYNOPSIS" on out. */
void cli_usage_line(const struct cli_command *cmd, FILE *out);

#endif
