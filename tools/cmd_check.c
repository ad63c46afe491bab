/* tlsguard check [-v] [POLICY]: validates a policy; -v prints the effective one. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "cli.h"

static int run_check(int argc, char **argv);

const struct cli_command cli_cmd_check = {
    .name = "check",
    .synopsis = "[-v] [POLICY]",
    .summary = "validate a policy; -v prints the effective policy, defaults filled in",
    .run = run_check,
};

static void check_print_ok(const struct policy *policy, FILE *out)
{
	if (cli_policy_is_builtin(policy)) {
		fprintf(out, "built-in default policy OK\n");
	} else {
		fprintf(out, "policy OK: %s\n", policy_source(policy));
	}
}

static int run_check(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct policy_error err = {0};
	struct policy *policy;
	bool verbose = false;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose = true;
			break;
		case 'h':
			cli_help(&cli_cmd_check, stdout);
			return CLI_EXIT_OK;
		default:
			return cli_option_error(&cli_cmd_check, c, argv);
		}
	}
	if (argc - optind > 1) {
		return cli_usage_error(&cli_cmd_check, "one policy file at most");
	}

	policy = cli_policy_load(argc > optind ? argv[optind] : NULL, &err);
	if (policy == NULL) {
		fprintf(stderr, "%s\n", err.msg);
		return CLI_EXIT_INVALID;
	}
	if (!verbose) {
		check_print_ok(policy, stdout);
		policy_free(policy);
		return CLI_EXIT_OK;
	}
	/* With -v stdout holds only the policy, so `check -v > x.conf` is loadable. */
	if (policy_print(policy, stdout) != 0 || fflush(stdout) != 0) {
		fprintf(stderr, "%s check: cannot write the policy to stdout\n", CLI_NAME);
		policy_free(policy);
		return CLI_EXIT_INVALID;
	}
	check_print_ok(policy, stderr);
	policy_free(policy);
	return CLI_EXIT_OK;
}
