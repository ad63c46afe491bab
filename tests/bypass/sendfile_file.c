/*
 * Attempt: plaintext from a file into a require_tls socket with sendfile(2):
 * the kernel copies the bytes, the program never holds them in a buffer.
 *
 *   sendfile_file HOST PORT
 */
#include <sys/sendfile.h>

#include "bypass.h"

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT");
	int fd = bp_connect(argv[1], port);
	FILE *f = tmpfile();

	if (f == NULL || fputs(BP_PLAINTEXT, f) == EOF || fflush(f) != 0) {
		return 2;
	}
	return bp_report(sendfile(fd, fileno(f), &(off_t){0}, BP_PLAINTEXT_LEN));
}
