/*
 * Attempt: drop the shim by unsetting LD_PRELOAD (and every TLSGUARD_*
 * variable) and re-executing itself, then write plaintext from the
 * "clean" process.
 *
 *   unset_preload_reexec HOST PORT
 *
 * The re-executed process prints "PRELOAD <set|unset>" (what its environment
 * holds), then the result line.
 */
#include "bypass.h"

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT");
	char *again[] = {argv[0], argv[1], argv[2], "again", NULL};
	int fd;

	if (argc < 4) {
		unsetenv("LD_PRELOAD");
		unsetenv("TLSGUARD_POLICY");
		unsetenv("TLSGUARD_MODE");
		fflush(stdout);
		execv("/proc/self/exe", again);
		printf("SETUP_FAILED execv %s\n", strerrorname_np(errno));
		return 2;
	}
	printf("PRELOAD %s\n", getenv("LD_PRELOAD") != NULL ? "set" : "unset");
	fd = bp_connect(argv[1], port);
	return bp_report(write(fd, BP_PLAINTEXT, BP_PLAINTEXT_LEN));
}
