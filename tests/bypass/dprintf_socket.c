/*
 * dprintf(3) and its relatives write through libc's own internal write, with
 * no stdio buffer to fence: plaintext on a require_tls connection, whatever
 * its size. Usage: dprintf_socket HOST PORT dprintf|vdprintf|dprintf_chk|vdprintf_chk
 */
#include <stdarg.h>

#include "bypass.h"

extern int __dprintf_chk(int fd, int flag, const char *fmt, ...);
extern int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap);

static __attribute__((format(printf, 3, 4))) int via(const char *how, int fd, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (strcmp(how, "vdprintf") == 0) {
		n = vdprintf(fd, fmt, ap);
	} else if (strcmp(how, "vdprintf_chk") == 0) {
		n = __vdprintf_chk(fd, 1, fmt, ap);
	} else if (strcmp(how, "dprintf_chk") == 0) {
		n = __dprintf_chk(fd, 1, "%s", va_arg(ap, const char *)); /* fmt is "%s" */
	} else {
		n = dprintf(fd, "%s", va_arg(ap, const char *));
	}
	va_end(ap);
	return n;
}

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT dprintf|vdprintf|dprintf_chk|vdprintf_chk");
	int fd = bp_connect(argv[1], port);

	return bp_report(via(argc > 3 ? argv[3] : "dprintf", fd, "%s", BP_PLAINTEXT));
}
