/* tlsguard inspect PROGRAM: whether the shim can enforce PROGRAM, and why not. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "elf_inspect.h"

static int run_inspect(int argc, char **argv);

const struct cli_command cli_cmd_inspect = {
    .name = "inspect",
    .synopsis = "PROGRAM",
    .summary = "tell whether the shim can enforce PROGRAM (static, setuid, TLS libraries)",
    .run = run_inspect,
};

static int run_inspect(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static struct inspect_report rep; /* large: not on the stack */
	char path[PATH_MAX];
	size_t i;
	int c;

	cli_options_begin();
	while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		switch (c) {
		default:
			return cli_option_other(&cli_cmd_inspect, c, argv);
		}
	}
	if (argc - optind != 1) {
		return cli_usage_error(&cli_cmd_inspect, "one PROGRAM, please");
	}
	switch (inspect_resolve_command(argv[optind], path, sizeof(path))) {
	case 0:
		break;
	case 126:
		/* A file named by path is inspected even without execute permission. */
		if (strchr(argv[optind], '/') != NULL) {
			break;
		}
		fprintf(stderr, "%s inspect: %s: not an executable file\n", CLI_NAME, argv[optind]);
		return 1;
	case 127:
	default:
		fprintf(stderr, "%s inspect: %s: %s\n", CLI_NAME, argv[optind],
		        strchr(argv[optind], '/') != NULL ? "No such file or directory"
		                                          : "command not found");
		return 1;
	}
	if (inspect_program(path, &rep) != 0) {
		fprintf(stderr, "%s inspect: %s\n", CLI_NAME, rep.error);
		return 1;
	}
	for (i = 0; i < rep.nfindings; i++) {
		printf("%s\n", rep.findings[i].text);
	}
	if (rep.verdict < INSPECT_PARTLY) {
		printf("verdict: %s\n", inspect_verdict_name(rep.verdict));
		return CLI_EXIT_OK;
	}
	printf("verdict: %s: %s%s\n", inspect_verdict_name(rep.verdict), rep.reason,
	       rep.verdict == INSPECT_PARTLY ? "; tls.unmanaged decides" : "");
	return 1;
}
