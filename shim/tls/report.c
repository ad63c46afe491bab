/*
 * The audit event and the socket shutdown of a TLS verdict (report.h).
 */
#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "bind/real.h"
#include "core/conn.h"
#include "report.h"

void tls_report_handshake(const struct tls_report *r, enum audit_verdict verdict)
{
	struct audit_event ev = {
	    .kind = AUDIT_HANDSHAKE,
	    .verdict = verdict,
	    .inbound = r->inbound,
	    .peer = r->peer,
	    .port = r->port,
	    .host = r->host,
	    .rule = r->rule != NULL ? r->rule->index : POLICY_RULE_DEFAULT,
	    .reason = r->reason,
	    .detail = r->detail != NULL && r->detail[0] != '\0' ? r->detail : NULL,
	};
	int saved = errno;

	audit_emit(&ev);
	errno = saved;
}

void tls_shut_socket(int fd)
{
	struct conn *c;
	struct stat sb;

	if (fd < 0) {
		return;
	}
	c = conn_acquire(fd);
	if (c != NULL) {
		conn_refuse(c, fd);
		conn_release(c);
	} else if (fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode)) {
		(void)real()->shutdown(fd, SHUT_RDWR);
	}
}
