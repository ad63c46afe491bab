/*
 * What a PEM file holds, judged from its armour lines (RFC 7468 2): enough to
 * refuse a private key given as a CA file, or a certificate given as a key,
 * when the policy is loaded. No cryptography: the shim reads policies in
 * processes that never load libcrypto, and the CLI must say what the shim says.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "policy_internal.h"

#define PEM_LINE_MAX 80 /* RFC 7468 2: labels are short; longer lines are base64 */
#define PEM_BEGIN    "-----BEGIN "
#define PEM_DASHES   "-----"

/* Labels OpenSSL's PEM readers accept for each role (pem(3ssl)). */
static const char *const cert_labels[] = {"CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE",
                                          NULL};
static const char *const key_labels[] = {"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY",
                                         "DSA PRIVATE KEY", NULL};

struct pem_scan {
	char line[PEM_LINE_MAX + 1];
	size_t len;
	bool overlong;
	bool in_key;    /* after a key's BEGIN line, before its first base64 line */
	char first[32]; /* the first label seen, for the message */
	bool found;
	bool encrypted;
};

static bool label_in(const char *label, const char *const *labels)
{
	size_t i;

	for (i = 0; labels[i] != NULL; i++) {
		if (strcmp(label, labels[i]) == 0)
			return true;
	}
	return false;
}

/* One complete line: a BEGIN line names a label; a traditional encrypted key
 * says so in a header right after it (RFC 1421 4.6.1.1: Proc-Type: 4,ENCRYPTED). */
static void scan_line(struct pem_scan *sc, enum policy_pem_need need)
{
	size_t begin = sizeof(PEM_BEGIN) - 1, dashes = sizeof(PEM_DASHES) - 1;
	char *line = sc->line;
	size_t len = sc->len;

	while (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (sc->in_key) {
		sc->in_key = false;
		if (strncmp(line, "Proc-Type:", 10) == 0 && strstr(line, "ENCRYPTED") != NULL)
			sc->encrypted = true;
		else
			sc->found = true;
		return;
	}
	if (len <= begin + dashes || strncmp(line, PEM_BEGIN, begin) != 0 ||
	    strcmp(line + len - dashes, PEM_DASHES) != 0)
		return;
	line[len - dashes] = '\0';
	line += begin;
	if (sc->first[0] == '\0')
		snprintf(sc->first, sizeof(sc->first), "%s", line);
	if (need == POLICY_PEM_CERTIFICATE) {
		sc->found = label_in(line, cert_labels);
	} else if (strcmp(line, "ENCRYPTED PRIVATE KEY") == 0) {
		sc->encrypted = true;
	} else if (label_in(line, key_labels)) {
		sc->in_key = true;
	}
}

static void scan_bytes(struct pem_scan *sc, const char *buf, size_t n, enum policy_pem_need need)
{
	size_t i;

	for (i = 0; i < n && !sc->found && !sc->encrypted; i++) {
		if (buf[i] != '\n') {
			if (sc->len < PEM_LINE_MAX)
				sc->line[sc->len++] = buf[i];
			else
				sc->overlong = true;
			continue;
		}
		sc->line[sc->len] = '\0';
		if (!sc->overlong)
			scan_line(sc, need);
		else if (sc->in_key)
			sc->found = true; /* base64 right after BEGIN: not encrypted */
		sc->len = 0;
		sc->overlong = false;
	}
}

int policy_pem_check(int fd, enum policy_pem_need need, char *why, size_t whylen)
{
	struct pem_scan sc = {.len = 0};
	const char *what = need == POLICY_PEM_CERTIFICATE ? "certificate" : "private key";
	char buf[4096];
	ssize_t n;

	while (!sc.found && !sc.encrypted) {
		n = policy_io_calls.read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whylen, "%s", strerror(errno));
			return -1;
		}
		if (n == 0) {
			scan_bytes(&sc, "\n", 1, need); /* a last line without a newline */
			break;
		}
		scan_bytes(&sc, buf, (size_t)n, need);
	}
	if (sc.encrypted) {
		snprintf(why, whylen,
		         "holds an encrypted private key: tlsguard has no passphrase to open it");
		return -1;
	}
	if (sc.found)
		return 0;
	if (sc.first[0] != '\0')
		snprintf(why, whylen, "holds no PEM %s (it holds a %s)", what, sc.first);
	else
		snprintf(why, whylen, "holds no PEM %s", what);
	return -1;
}
