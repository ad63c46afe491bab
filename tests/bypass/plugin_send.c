/*
 * A plugin (built as plugin_send.so by make) whose send() reference is
 * resolved when it is loaded: with RTLD_DEEPBIND, in its own dependencies
 * (libc) before the global scope where the shim is.
 */
#include <sys/socket.h>

__attribute__((visibility("default"))) ssize_t plugin_send(int fd, const void *buf, size_t len)
{
	return send(fd, buf, len, 0);
}
