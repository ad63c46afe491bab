/* tlsguard: dispatches to one subcommand per tools/cmd_NAME.c. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Add a subcommand: write tools/cmd_NAME.c, declare it in cli.h, list it here
 * and give it a help text in tools/help.c. */
const struct cli_command *const cli_commands[] = {
    &cli_cmd_check,  &cli_cmd_explain, &cli_cmd_inspect, &cli_cmd_run,  &cli_cmd_report,
    &cli_cmd_enable, &cli_cmd_disable, &cli_cmd_status,  &cli_cmd_help,
};

const size_t cli_ncommands = sizeof(cli_commands) / sizeof(cli_commands[0]);

const struct cli_command *cli_command_find(const char *name)
{
	size_t i;

	for (i = 0; i < cli_ncommands; i++) {
		if (strcmp(name, cli_commands[i]->name) == 0) {
			return cli_commands[i];
		}
	}
	return NULL;
}

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: %s COMMAND [ARG...]\n", CLI_NAME);
	fprintf(out, "       %s --help | --version\n\ncommands:\n", CLI_NAME);
	for (i = 0; i < cli_ncommands; i++) {
		fprintf(out, "  %s%s%s\n      %s\n", cli_commands[i]->name,
		        *cli_commands[i]->synopsis != '\0' ? " " : "", cli_commands[i]->synopsis,
		        cli_commands[i]->summary);
	}
	fprintf(out, "\n`%s help COMMAND` or `%s COMMAND --help`: every option and exit status.\n",
	        CLI_NAME, CLI_NAME);
	fprintf(out, "See tlsguard(1), tlsguard.conf(5) and tlsguard(8).\n");
}

int main(int argc, char **argv)
{
	const struct cli_command *cmd;

	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("%s %s\n", CLI_NAME, CLI_VERSION);
		return CLI_EXIT_OK;
	}
	cmd = cli_command_find(argv[1]);
	if (cmd == NULL) {
		fprintf(stderr, "%s: unknown command '%s'\n", CLI_NAME, argv[1]);
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	/* COMMAND --help as its first argument is the full help whatever the
	 * command's own option parsing does with it. */
	if (argc == 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
		cli_help(cmd, stdout);
		return CLI_EXIT_OK;
	}
	return cmd->run(argc - 1, argv + 1);
}
