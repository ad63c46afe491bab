/* tlsguard: dispatches to one subcommand per tools/cmd_NAME.c. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Add a subcommand: write tools/cmd_NAME.c, declare it in cli.h, list it here. */
static const struct cli_command *const commands[] = {
    &cli_cmd_check, &cli_cmd_explain, &cli_cmd_inspect, &cli_cmd_run, &cli_cmd_report,
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: %s COMMAND [ARG...]\n", CLI_NAME);
	fprintf(out, "       %s --help | --version\n\ncommands:\n", CLI_NAME);
	for (i = 0; i < NCOMMANDS; i++) {
		fprintf(out, "  %s %s\n      %s\n", commands[i]->name, commands[i]->synopsis,
		        commands[i]->summary);
	}
	fprintf(out, "\nSee tlsguard(1) and tlsguard.conf(5).\n");
}

int main(int argc, char **argv)
{
	size_t i;

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
	for (i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[1], commands[i]->name) == 0) {
			return commands[i]->run(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "%s: unknown command '%s'\n", CLI_NAME, argv[1]);
	usage(stderr);
	return CLI_EXIT_USAGE;
}
