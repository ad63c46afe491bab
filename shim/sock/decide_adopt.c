/*
 * Sockets that arrive already connected (SCM_RIGHTS, a descriptor an exec'ed
 * parent left open, pidfd_getfd): their connect or accept was never seen, so
 * they are decided from their addresses when they arrive.
 */
#include <errno.h>

#include "bind/real.h"
#include "decide_internal.h"

/* The default Linux ephemeral port range (ip_local_port_range): a socket whose
 * local port lies in it most likely made an outbound connection. */
#define EPHEMERAL_LOW  32768
#define EPHEMERAL_HIGH 60999

/* The rule of an adopted socket the policy refused: no byte moves on it, and
 * the SSL layer leaves it alone. */
static const struct policy_rule refused_rule = {
    .index = POLICY_RULE_DEFAULT,
    .action = POLICY_ACTION_DENY,
};

/* A socket that arrived already connected to a destination the policy
 * refuses: its connect was never seen, so the refusal holds its I/O instead.
 * The decision recorded the event. */
static void refuse_adopted(int fd, bool inbound)
{
	struct conn *c = conn_new(inbound, &refused_rule);

	if (c != NULL) {
		conn_identify(c, fd);
		if (fdt_set(fd, c) == 0) {
			conn_refuse(c, fd);
			conn_release(c);
			return;
		}
		conn_release(c);
	}
	(void)real()->shutdown(fd, SHUT_RDWR); /* cannot follow it: nothing moves at all */
}

void decide_adopt_as(int fd, bool inbound)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int saved = errno, rc = 0;

	fdt_clear(fd);
	if (inbound) {
		rc = decide_inbound(fd);
	} else if (real()->getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
		rc = decide_outbound(fd, (struct sockaddr *)&ss, len);
	}
	if (rc < 0) {
		refuse_adopted(fd, inbound);
	}
	errno = saved;
}

void decide_adopt(int fd)
{
	struct endpoint local = {0}, peer = {0};
	int listening = 0;
	socklen_t optlen = sizeof(listening);

	if (real()->getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) < 0 ||
	    listening || decide_endpoint_of(fd, true, &peer) < 0 ||
	    decide_endpoint_of(fd, false, &local) < 0) {
		fdt_clear(fd);
		return; /* not a connected IP socket: accept()/connect() will decide */
	}
	decide_adopt_as(fd, local.port < EPHEMERAL_LOW || local.port > EPHEMERAL_HIGH);
}
