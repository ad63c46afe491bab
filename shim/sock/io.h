/*
 * The data path's entry for other parts of the shim (printf.c).
 */
#ifndef TLSGUARD_IO_H
#define TLSGUARD_IO_H

#include <sys/types.h>

/* write() on a descriptor that fdt_governed() says is governed. */
ssize_t io_write_governed(int fd, const void *buf, size_t len);

#endif
