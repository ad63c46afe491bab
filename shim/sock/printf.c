/*
 * Formatted output that libc writes straight to a descriptor, through its own
 * internal write that no wrapper sees:
 *
 *  - dprintf(3) and its relatives format into a stream of their own and write
 *    it whatever its size; on a governed descriptor the shim formats the text
 *    itself and sends it through the write wrapper, so it is judged like any
 *    write (EACCES and an event for plaintext);
 *  - syslog(3) copies each message to descriptor 2 when openlog() was given
 *    LOG_PERROR. When descriptor 2 is a governed connection the copy is
 *    refused (an event, the connection shut down, errno EACCES) and the
 *    message still goes to the system log, without the copy.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <syslog.h>

#include "core/conn_internal.h"
#include "decide.h"
#include "io.h"
#include "bind/real.h"
#include "shim.h"

/* __vasprintf_chk's flag: 0 formats as vasprintf, > 0 as with _FORTIFY_SOURCE. */
#define PRINTF_PLAIN 0

static int dprintf_governed(int fd, int flag, const char *fmt, va_list ap)
{
	char *text = NULL;
	int len = real()->vasprintf_chk(&text, flag, fmt, ap);
	size_t done = 0;
	ssize_t n;

	if (len < 0) {
		return -1;
	}
	while (done < (size_t)len) {
		n = io_write_governed(fd, text + done, (size_t)len - done);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			free(text);
			return -1;
		}
		done += (size_t)n;
	}
	free(text);
	return len;
}

static int vdprintf_route(int fd, int flag, const char *fmt, va_list ap)
{
	if (__builtin_expect(fdt_governed(fd), 0)) {
		return dprintf_governed(fd, flag, fmt, ap);
	}
	if (flag > PRINTF_PLAIN) {
		return real()->vdprintf_chk(fd, flag, fmt, ap);
	}
	return real()->vdprintf(fd, fmt, ap);
}

SHIM_EXPORT int vdprintf(int fd, const char *fmt, va_list ap)
{
	return vdprintf_route(fd, PRINTF_PLAIN, fmt, ap);
}

SHIM_EXPORT int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
	return vdprintf_route(fd, flag, fmt, ap);
}

/* The variadic entry points start their va_list and hand it on. */
SHIM_EXPORT int dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	int rc = (va_start(ap, fmt), vdprintf_route(fd, PRINTF_PLAIN, fmt, ap));

	va_end(ap);
	return rc;
}

SHIM_EXPORT int __dprintf_chk(int fd, int flag, const char *fmt, ...)
{
	va_list ap;
	int rc = (va_start(ap, fmt), vdprintf_route(fd, flag, fmt, ap));

	va_end(ap);
	return rc;
}

/* openlog()'s option and facility as the program last set them: glibc keeps
 * them (closelog() leaves the option alone) and offers no way to read them. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_option;
static int log_facility = LOG_USER;

static void openlog_route(const char *ident, int option, int facility)
{
	pthread_mutex_lock(&log_lock);
	__atomic_store_n(&log_option, option, __ATOMIC_RELAXED);
	if (facility != 0 && (facility & ~LOG_FACMASK) == 0) {
		log_facility = facility;
	}
	real()->openlog(ident, option, facility);
	pthread_mutex_unlock(&log_lock);
}

SHIM_EXPORT void openlog(const char *ident, int option, int facility)
{
	openlog_route(ident, option, facility);
}

static void vsyslog_real(int pri, int flag, const char *fmt, va_list ap)
{
	if (flag > PRINTF_PLAIN) {
		real()->vsyslog_chk(pri, flag, fmt, ap);
	} else {
		real()->vsyslog(pri, fmt, ap);
	}
}

/* LOG_PERROR's copy would go to a governed descriptor 2: refused (the event
 * and the shut-down connection come from decide_opaque_io); the message is
 * logged without the copy, with the program's option put back afterwards. */
static __attribute__((noinline, cold)) void vsyslog_governed(int pri, int flag, const char *fmt,
                                                             va_list ap)
{
	struct conn *c = conn_acquire(2);
	int rc;

	if (c == NULL) {
		vsyslog_real(pri, flag, fmt, ap);
		return;
	}
	rc = decide_opaque_io(2, c, "syslog LOG_PERROR");
	conn_release(c);
	if (rc == 0) {
		vsyslog_real(pri, flag, fmt, ap); /* audit mode: recorded, let go */
		return;
	}
	pthread_mutex_lock(&log_lock);
	real()->openlog(NULL, log_option & ~LOG_PERROR, log_facility);
	vsyslog_real(pri, flag, fmt, ap);
	real()->openlog(NULL, log_option, log_facility);
	pthread_mutex_unlock(&log_lock);
	errno = EACCES;
}

static void vsyslog_route(int pri, int flag, const char *fmt, va_list ap)
{
	if (__builtin_expect(fdt_governed(2), 0) &&
	    (__atomic_load_n(&log_option, __ATOMIC_RELAXED) & LOG_PERROR) != 0) {
		vsyslog_governed(pri, flag, fmt, ap);
		return;
	}
	vsyslog_real(pri, flag, fmt, ap);
}

SHIM_EXPORT void vsyslog(int pri, const char *fmt, va_list ap)
{
	vsyslog_route(pri, PRINTF_PLAIN, fmt, ap);
}

SHIM_EXPORT void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
	vsyslog_route(pri, flag, fmt, ap);
}

SHIM_EXPORT void syslog(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog_route(pri, PRINTF_PLAIN, fmt, ap);
	va_end(ap);
}

SHIM_EXPORT void __syslog_chk(int pri, int flag, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog_route(pri, flag, fmt, ap);
	va_end(ap);
}
