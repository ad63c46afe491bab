/*
 * Attempt: GnuTLS loaded late. The program does not link libgnutls; after
 * start-up it dlopen()s libgnutls.so.30 and runs a careless session (no
 * verification, an accept-all verify function) to 127.0.0.1:PORT with SNI
 * localhost. "local": RTLD_LOCAL, each function found with dlsym() on that
 * handle; "global": RTLD_GLOBAL, dlsym(RTLD_DEFAULT).
 *
 *   dlopen_gnutls_client PORT [local|global]
 *
 * Result lines as bypass_gnutls.h (HANDSHAKE_OK / HANDSHAKE_FAILED,
 * RESPONSE / NO_RESPONSE); exits 0 only when a response came back.
 */
#include <dlfcn.h>
#include <gnutls/gnutls.h>

#include "bypass.h"

static void *lib;

static int by_default;

static void *fn(const char *name)
{
	void *f = dlsym(by_default ? RTLD_DEFAULT : lib, name);

	if (f == NULL) {
		printf("SETUP_FAILED dlsym %s\n", name);
		exit(2);
	}
	return f;
}

static int accept_all(gnutls_session_t s)
{
	(void)s;
	return 0;
}

int main(int argc, char **argv)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	int port;
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s;
	char buf[256];
	ssize_t n;
	int fd, ret;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}
	port = atoi(argv[1]);
	by_default = argc > 2 && strcmp(argv[2], "global") == 0;
	lib = dlopen("libgnutls.so.30", RTLD_NOW | (by_default ? RTLD_GLOBAL : RTLD_LOCAL));
	if (lib == NULL) {
		printf("SETUP_FAILED dlopen %s\n", dlerror());
		return 2;
	}
	int (*global_init)(void) = fn("gnutls_global_init");
	int (*alloc_cred)(gnutls_certificate_credentials_t *) =
	    fn("gnutls_certificate_allocate_credentials");
	void (*cred_verify_fn)(gnutls_certificate_credentials_t,
	                       gnutls_certificate_verify_function *) =
	    fn("gnutls_certificate_set_verify_function");
	int (*init)(gnutls_session_t *, unsigned) = fn("gnutls_init");
	int (*default_prio)(gnutls_session_t) = fn("gnutls_set_default_priority");
	int (*cred_set)(gnutls_session_t, gnutls_credentials_type_t, void *) =
	    fn("gnutls_credentials_set");
	int (*sni)(gnutls_session_t, gnutls_server_name_type_t, const void *, size_t) =
	    fn("gnutls_server_name_set");
	void (*set_int2)(gnutls_session_t, int, int) = fn("gnutls_transport_set_int2");
	int (*handshake)(gnutls_session_t) = fn("gnutls_handshake");
	int (*is_fatal)(int) = fn("gnutls_error_is_fatal");
	const char *(*err_name)(int) = fn("gnutls_strerror_name");
	ssize_t (*rec_send)(gnutls_session_t, const void *, size_t) = fn("gnutls_record_send");
	ssize_t (*rec_recv)(gnutls_session_t, void *, size_t) = fn("gnutls_record_recv");

	if (global_init() < 0 || alloc_cred(&cred) < 0 || init(&s, GNUTLS_CLIENT) < 0) {
		printf("SETUP_FAILED gnutls\n");
		return 2;
	}
	cred_verify_fn(cred, accept_all);
	default_prio(s);
	cred_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	sni(s, GNUTLS_NAME_DNS, "localhost", strlen("localhost"));
	fd = bp_connect("127.0.0.1", port);
	set_int2(s, fd, fd);
	do {
		ret = handshake(s);
	} while (ret < 0 && is_fatal(ret) == 0);
	if (ret < 0) {
		printf("HANDSHAKE_FAILED %d %s\n", ret, err_name(ret));
		return 1;
	}
	printf("HANDSHAKE_OK\n");
	n = rec_send(s, req, strlen(req));
	if (n >= 0) {
		do {
			n = rec_recv(s, buf, sizeof(buf) - 1);
		} while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
	}
	if (n <= 0) {
		printf("NO_RESPONSE %zd\n", n);
		return 1;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	printf("RESPONSE %s\n", buf);
	return 0;
}
