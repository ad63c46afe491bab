/*
 * dlopen(plugin, RTLD_NOW | RTLD_DEEPBIND): the plugin's send() binds to libc
 * before the preloaded shim (dlopen(3)), then writes plaintext on a
 * require_tls connection. Usage: deepbind_plugin_send HOST PORT PLUGIN.so
 */
#include <dlfcn.h>

#include "bypass.h"

int main(int argc, char **argv)
{
	int port = bp_args(argc, argv, "HOST PORT PLUGIN.so");
	void *plugin = argc > 3 ? dlopen(argv[3], RTLD_NOW | RTLD_DEEPBIND) : NULL;
	ssize_t (*plugin_send)(int, const void *, size_t);
	int fd;

	if (plugin == NULL || (plugin_send = (ssize_t(*)(int, const void *, size_t))dlsym(
	                           plugin, "plugin_send")) == NULL) {
		printf("SETUP_FAILED dlopen %s\n", dlerror());
		return 2;
	}
	fd = bp_connect(argv[1], port);
	return bp_report(plugin_send(fd, BP_PLAINTEXT, BP_PLAINTEXT_LEN));
}
