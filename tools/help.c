/*
 * tlsguard help [COMMAND], tlsguard COMMAND --help: the full help of each
 * command, kept here in one table so that every command's options and exit
 * statuses are described in one voice (tlsguard(1) says the same at length).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int run_help(int argc, char **argv);

const struct cli_command cli_cmd_help = {
    .name = "help",
    .synopsis = "[COMMAND]",
    .summary = "the commands, or every option and exit status of COMMAND",
    .run = run_help,
};

struct help_text {
	const char *name;
	const char *text; /* after the usage line */
};

/* Where a command takes a policy and none is given: the shim's choice. */
#define HELP_POLICY_DEFAULT                                                                        \
	"Without -p, the policy the shim would use: $TLSGUARD_POLICY, else\n"                      \
	"/etc/tlsguard/policy.conf if it exists, else the built-in default.\n"

static const struct help_text help_texts[] = {
    {"run", "Checks the policy, then runs CMD with the shim first in LD_PRELOAD and the\n"
            "policy's absolute path in TLSGUARD_POLICY. Warns (and runs CMD all the same)\n"
            "when CMD cannot be enforced: a static binary, setuid/setgid, a TLS library\n"
            "other than libssl.\n" HELP_POLICY_DEFAULT "\n"
            "options:\n"
            "  -p, --policy POLICY  the policy file\n"
            "  --audit              TLSGUARD_MODE=audit: record would-be blocks, block nothing\n"
            "  -h, --help           this help\n"
            "\nexit status: CMD's own; 78 for an invalid policy or no shim found; 127 when\n"
            "CMD is not found; 126 when it is not executable; 2 for a usage error.\n"},
    {"check", "Validates a policy: prints \"policy OK: PATH\", or FILE:LINE: message as the\n"
              "shim would. Also refuses a client_key that does not belong to its\n"
              "client_cert, or a terminate_tls key_file to its cert_file, and warns\n"
              "(FILE:LINE: warning: ...) about a rule an earlier rule shadows, an audit\n"
              "socket that does not exist and a policy in a directory others can write\n"
              "to.\n" HELP_POLICY_DEFAULT "\n"
              "options:\n"
              "  -v, --verbose  print the effective policy, every default filled in, on\n"
              "                 standard output (the verdict goes to standard error)\n"
              "  -h, --help     this help\n"
              "\nexit status: 0 valid; 1 invalid; 2 usage error.\n"},
    {"explain", "Shows which rule applies to a connection, its action and every TLS\n"
                "requirement. HOST is an IPv4 address, [IPv6] or a host name; PORT defaults to\n"
                "443. Names are never resolved.\n" HELP_POLICY_DEFAULT "\n"
                "options:\n"
                "  -p, --policy POLICY  the policy file\n"
                "  --in                 an inbound connection: PORT, or PEER:PORT\n"
                "  --udp                a UDP datagram rather than a TCP connection\n"
                "  -h, --help           this help\n"
                "\nexit status: 0 rule shown; 1 invalid policy; 2 usage error (also a HOST\n"
                "that is neither an address nor a host name).\n"},
    {"inspect", "Tells whether the shim can enforce PROGRAM (a path, or a name looked up in\n"
                "PATH), and why not, without running it: one line per finding, then a\n"
                "verdict (enforceable, partly enforceable, not enforceable). Programs that\n"
                "run helpers for their network work (git, apt, Debian's psql) are judged by\n"
                "those helpers too.\n\n"
                "options:\n"
                "  -h, --help  this help\n"
                "\nexit status: 0 enforceable; 1 partly or not enforceable, not found or\n"
                "unreadable; 2 usage error.\n"},
    {"report", "Summarises tlsguard audit events from each FILE (rotated .gz files too), or\n"
               "standard input when FILE is - or absent: counts by verdict (suppressed events\n"
               "added up), the events grouped by host, program and destination, and suggested\n"
               "rules that tlsguard check accepts as printed. Reads syslog files, journalctl\n"
               "-o json, -o short and -o cat, an rsyslog collector's per-host files, and the\n"
               "shim's standard error lines.\n\n"
               "options:\n"
               "  --json      the summary as one JSON object\n"
               "  --top N     at most N groups per host, and how many more there are\n"
               "  --wide      never cut a program name or destination to 80 columns\n"
               "  -h, --help  this help\n"
               "\nexit status: 0 (also when there is no event); 1 an input cannot be read (a\n"
               "missing file, a corrupt .gz); 2 usage error.\n"},
    {"enable", "Switches the shim on for a systemd service: writes the drop-in\n"
               "/etc/systemd/system/SERVICE.service.d/tlsguard.conf that sets LD_PRELOAD to\n"
               "the installed shim and TLSGUARD_POLICY to the policy, prints it and the\n"
               "systemctl commands that apply it. The policy is checked first. Without -p:\n"
               "/etc/tlsguard/policy.conf if it exists, else the built-in default (then no\n"
               "TLSGUARD_POLICY is set). Start with --audit (tlsguard(8)).\n\n"
               "options:\n"
               "  -p, --policy POLICY  the policy file the service is to use\n"
               "  --audit              TLSGUARD_MODE=audit: record would-be blocks, block nothing\n"
               "  --root DIR           write below DIR instead of / (a staging tree, tests)\n"
               "  -h, --help           this help\n"
               "\nexit status: 0 written; 1 invalid policy, no shim found or the drop-in cannot\n"
               "be written; 2 usage error (also an invalid SERVICE name).\n"},
    {"disable", "Switches the shim off for a systemd service: removes the drop-in tlsguard\n"
                "enable wrote (and its directory when nothing else is in it), and prints the\n"
                "systemctl commands that apply the change. A service without the drop-in is\n"
                "left alone, with a note.\n\n"
                "options:\n"
                "  --root DIR  remove below DIR instead of /\n"
                "  -h, --help  this help\n"
                "\nexit status: 0 removed or nothing to remove; 1 the drop-in cannot be\n"
                "removed; 2 usage error (also an invalid SERVICE name).\n"},
    {"status", "Lists the running processes that have the shim loaded (from /proc/PID/maps):\n"
               "PID, mode, policy and program, then a count. Mode and policy come from the\n"
               "process's environment and the policy file; ? where they cannot be read (run\n"
               "as root to see every process).\n\n"
               "options:\n"
               "  -h, --help  this help\n"
               "\nexit status: 0; 2 usage error.\n"},
    {"help", "Without COMMAND, lists the commands; with it, prints that command's help.\n\n"
             "exit status: 0; 2 for an unknown COMMAND.\n"},
};

void cli_help(const struct cli_command *cmd, FILE *out)
{
	size_t i;

	cli_usage_line(cmd, out);
	fprintf(out, "\n");
	for (i = 0; i < sizeof(help_texts) / sizeof(help_texts[0]); i++) {
		if (strcmp(help_texts[i].name, cmd->name) == 0) {
			fputs(help_texts[i].text, out);
			return;
		}
	}
	fprintf(out, "%s.\n", cmd->summary);
}

static void help_list(FILE *out)
{
	size_t i;

	fprintf(out, "usage: %s COMMAND [ARG...]\n\ncommands:\n", CLI_NAME);
	for (i = 0; i < cli_ncommands; i++) {
		fprintf(out, "  %-8s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
	}
	fprintf(out,
	        "\n`%s help COMMAND` or `%s COMMAND --help`: every option and exit status.\n"
	        "See tlsguard(1), tlsguard.conf(5) and tlsguard(8).\n",
	        CLI_NAME, CLI_NAME);
}

static int run_help(int argc, char **argv)
{
	const struct cli_command *cmd;

	if (argc == 1) {
		help_list(stdout);
		return CLI_EXIT_OK;
	}
	if (argc > 2) {
		return cli_usage_error(&cli_cmd_help, "one command at most");
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		cli_help(&cli_cmd_help, stdout);
		return CLI_EXIT_OK;
	}
	cmd = cli_command_find(argv[1]);
	if (cmd == NULL) {
		return cli_usage_error(&cli_cmd_help, "unknown command '%s'", argv[1]);
	}
	cli_help(cmd, stdout);
	return CLI_EXIT_OK;
}
