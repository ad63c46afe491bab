/*
 * The socket layer's seam (tls.h), handed to each TLS library the shim
 * manages in turn. Each answers false at once in a process that never called
 * it.
 */
#include "gnutls/claim.h"
#include "openssl/claim.h"
#include "tls.h"

bool tls_claim_hello(struct conn *c, int fd, const uint8_t random[STREAM_RANDOM_LEN])
{
	return ossl_claim_hello(c, fd, random) || gtls_claim_hello(c, fd, random);
}
