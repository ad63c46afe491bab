/*
 * The policy code's file calls inside the shim (policy.h, struct policy_io):
 * the real read and close, so loading the policy, CA and key files never
 * passes through the shim's own wrappers. The CLI keeps libc's.
 */
#include "policy.h"
#include "real.h"

static ssize_t policy_read_real(int fd, void *buf, size_t len)
{
	return real()->read(fd, buf, len);
}

static int policy_close_real(int fd)
{
	return real()->close(fd);
}

const struct policy_io policy_io_calls = {.read = policy_read_real, .close = policy_close_real};
