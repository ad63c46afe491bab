/*
 * syslog(3) with LOG_PERROR copies every message to descriptor 2 through
 * libc's internal dprintf. With a require_tls connection as descriptor 2 the
 * copy is plaintext on it. syslog returns nothing: the result line reports
 * errno after the call. Usage: syslog_perror_socket HOST PORT [syslog|vsyslog|syslog_chk]
 */
#include <stdarg.h>
#include <syslog.h>

#include "bypass.h"

extern void __syslog_chk(int pri, int flag, const char *fmt, ...);

static __attribute__((format(printf, 1, 2))) void log_v(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog(LOG_USER | LOG_NOTICE, fmt, ap);
	va_end(ap);
}

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT [syslog|vsyslog|syslog_chk]");
	const char *how = argc > 3 ? argv[3] : "syslog";
	int fd = bp_connect(argv[1], port);

	if (dup2(fd, 2) < 0) {
		printf("SETUP_FAILED dup2\n");
		return 2;
	}
	openlog("bypass", LOG_PERROR, LOG_USER);
	errno = 0;
	if (strcmp(how, "vsyslog") == 0) {
		log_v("%s", BP_PLAINTEXT);
	} else if (strcmp(how, "syslog_chk") == 0) {
		__syslog_chk(LOG_USER | LOG_NOTICE, 1, "%s", BP_PLAINTEXT);
	} else {
		syslog(LOG_USER | LOG_NOTICE, "%s", BP_PLAINTEXT);
	}
	if (errno == EACCES) {
		return bp_report(-1);
	}
	printf("LOGGED errno=%s\n", errno != 0 ? strerrorname_np(errno) : "0");
	return 0;
}
