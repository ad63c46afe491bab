/*
 * `tls` groups: the top-level defaults and each rule's overrides. A rule's
 * group is parsed over a copy of the top-level values, so the result is the
 * effective setting the shim applies.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy_internal.h"

static const char *const tls_top_keys[] = {
    "min_version", "ca_file",    "ca_path",     "trust",      "verify_hostname",
    "unmanaged",   "pin_sha256", "client_cert", "client_key", NULL,
};

static const char *const tls_out_keys[] = {
    "min_version", "ca_file",     "ca_path",    "trust",       "verify_hostname",      "unmanaged",
    "pin_sha256",  "client_cert", "client_key", "server_name", "insecure_cn_fallback", NULL,
};

static const char *const tls_in_keys[] = {
    "min_version",    "ca_file",    "ca_path",     "trust",      "verify_hostname",
    "unmanaged",      "pin_sha256", "client_cert", "client_key", "require_client_cert",
    "client_ca_file", NULL,
};

static const char *const tls_terminate_keys[] = {
    "min_version",    "ca_file",    "ca_path",     "trust",      "verify_hostname",
    "unmanaged",      "pin_sha256", "client_cert", "client_key", "require_client_cert",
    "client_ca_file", "cert_file",  "key_file",    NULL,
};

static const struct key_reason tls_top_reasons[] = {
    {"cert_file", "cert_file is only allowed in an inbound terminate_tls rule's tls group"},
    {"key_file", "key_file is only allowed in an inbound terminate_tls rule's tls group"},
    {"server_name", "server_name is only allowed in an outbound rule's tls group"},
    {"require_client_cert", "require_client_cert is only allowed in an inbound rule's tls "
                            "group"},
    {"client_ca_file", "client_ca_file is only allowed in an inbound rule's tls group"},
    {"external", "external is a key of inbound rules, not of tls"},
    {"insecure_cn_fallback", "insecure_cn_fallback is only allowed in an outbound rule's tls "
                             "group"},
    {NULL, NULL},
};

static const struct key_reason tls_out_reasons[] = {
    {"cert_file", "cert_file is only allowed in an inbound terminate_tls rule's tls group "
                  "(outbound mutual TLS: client_cert and client_key)"},
    {"key_file", "key_file is only allowed in an inbound terminate_tls rule's tls group "
                 "(outbound mutual TLS: client_cert and client_key)"},
    {"require_client_cert", "require_client_cert is only allowed in an inbound rule's tls "
                            "group"},
    {"client_ca_file", "client_ca_file is only allowed in an inbound rule's tls group"},
    {NULL, NULL},
};

static const struct key_reason tls_in_reasons[] = {
    {"cert_file", "cert_file only applies to action \"terminate_tls\" (under require_tls the "
                  "program serves its own certificate)"},
    {"key_file", "key_file only applies to action \"terminate_tls\" (under require_tls the "
                 "program serves its own certificate)"},
    {"server_name", "server_name is only allowed in an outbound rule's tls group"},
    {"external", "external is a key of the inbound rule, not of its tls group"},
    {"insecure_cn_fallback", "insecure_cn_fallback is only allowed in an outbound rule's tls "
                             "group"},
    {NULL, NULL},
};

enum path_kind {
	PATH_DIR,
	PATH_CERTS, /* a PEM file of certificates */
	PATH_KEY,   /* a PEM file holding a private key */
};

/* The file must be there, readable and of the right kind now: a missing CA
 * file, or a key given where certificates belong, would otherwise surface as a
 * handshake failure far from the typo. */
static int tls_path(struct parse *ps, const config_setting_t *s, enum path_kind kind,
                    const char **out)
{
	const char *path = NULL;
	char why[128];
	struct stat st;
	int fd;

	if (parse_string(ps, s, &path) != 0)
		return -1;
	if (path[0] != '/')
		return parse_error(ps, s, "%s must be an absolute path: '%.200s'",
		                   config_setting_name(s), path);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
	                    (kind == PATH_DIR ? O_DIRECTORY : 0));
	if (fd < 0)
		return parse_error(ps, s, "%s '%.200s': %s", config_setting_name(s), path,
		                   strerror(errno));
	if (fstat(fd, &st) != 0 || (kind != PATH_DIR && !S_ISREG(st.st_mode))) {
		policy_io_calls.close(fd);
		return parse_error(ps, s, "%s '%.200s': not a regular file", config_setting_name(s),
		                   path);
	}
	if (kind != PATH_DIR &&
	    policy_pem_check(fd, kind == PATH_KEY ? POLICY_PEM_PRIVATE_KEY : POLICY_PEM_CERTIFICATE,
	                     why, sizeof(why)) != 0) {
		policy_io_calls.close(fd);
		return parse_error(ps, s, "%s '%.200s': %s", config_setting_name(s), path, why);
	}
	policy_io_calls.close(fd);
	*out = arena_strdup(&ps->policy->arena, path);
	if (*out == NULL)
		return parse_error(ps, s, "out of memory");
	return 0;
}

static int tls_pins(struct parse *ps, const config_setting_t *s, struct policy_tls *tls)
{
	uint8_t(*pins)[POLICY_PIN_LEN];
	const config_setting_t *elem;
	const char *text = NULL;
	int i, n;

	if (config_setting_type(s) != CONFIG_TYPE_LIST &&
	    config_setting_type(s) != CONFIG_TYPE_ARRAY)
		return parse_error(ps, s, "pin_sha256 must be a list of base64 strings");
	n = config_setting_length(s);
	if (n == 0)
		return parse_error(ps, s,
		                   "pin_sha256 is empty (remove it, or list at least one pin)");
	pins = arena_calloc(&ps->policy->arena, (size_t)n, sizeof(*pins));
	if (pins == NULL)
		return parse_error(ps, s, "out of memory");
	for (i = 0; i < n; i++) {
		elem = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(elem) != CONFIG_TYPE_STRING)
			return parse_error(ps, elem, "pin_sha256 entries must be strings");
		text = config_setting_get_string(elem);
		if (policy_pin_decode(text, pins[i]) != 0)
			return parse_error(
			    ps, elem,
			    "pin_sha256 entry '%.60s' is not the base64 of a 32-byte "
			    "SHA-256 digest",
			    text);
	}
	tls->pins = (const uint8_t(*)[POLICY_PIN_LEN])pins;
	tls->npins = (size_t)n;
	return 0;
}

static int tls_server_name(struct parse *ps, const config_setting_t *s, struct policy_tls *tls)
{
	char host[POLICY_HOST_MAX + 1];
	char why[128];
	const char *text = NULL;

	if (parse_string(ps, s, &text) != 0)
		return -1;
	if (policy_host_normalise(text, host, why, sizeof(why)) != 0)
		return parse_error(ps, s, "server_name '%.80s': %s", text, why);
	tls->server_name = arena_strdup(&ps->policy->arena, host);
	if (tls->server_name == NULL)
		return parse_error(ps, s, "out of memory");
	return 0;
}

static int tls_enums(struct parse *ps, const config_setting_t *group, struct policy_tls *tls)
{
	const config_setting_t *s;
	int value = 0;

	if ((s = config_setting_get_member(group, "min_version")) != NULL) {
		if (parse_enum(ps, s, policy_tls_version_names, &value) != 0)
			return -1;
		tls->min_version = (enum policy_tls_version)value;
	}
	if ((s = config_setting_get_member(group, "trust")) != NULL) {
		if (parse_enum(ps, s, policy_trust_names, &value) != 0)
			return -1;
		tls->trust = (enum policy_trust)value;
	}
	if ((s = config_setting_get_member(group, "unmanaged")) != NULL) {
		if (parse_enum(ps, s, policy_unmanaged_names, &value) != 0)
			return -1;
		tls->unmanaged = (enum policy_unmanaged)value;
	}
	if ((s = config_setting_get_member(group, "verify_hostname")) != NULL &&
	    parse_bool(ps, s, &tls->verify_hostname) != 0)
		return -1;
	return 0;
}

/* A certificate without its key (or the reverse) in one group is a mistake even
 * when the other half is inherited: it would pair unrelated files. */
static int tls_client_pair(struct parse *ps, const config_setting_t *group, struct policy_tls *tls)
{
	const config_setting_t *cert = config_setting_get_member(group, "client_cert");
	const config_setting_t *key = config_setting_get_member(group, "client_key");

	if (cert != NULL && key == NULL)
		return parse_error(ps, cert, "client_cert is set without client_key");
	if (key != NULL && cert == NULL)
		return parse_error(ps, key, "client_key is set without client_cert");
	if (cert == NULL)
		return 0;
	if (tls_path(ps, cert, PATH_CERTS, &tls->client_cert) != 0 ||
	    tls_path(ps, key, PATH_KEY, &tls->client_key) != 0)
		return -1;
	tls->client_key_line = config_setting_source_line(key);
	return 0;
}

/* terminate_tls: the certificate and key the shim serves, both in the rule's
 * own group (nothing to inherit: the top-level group has neither). */
static int tls_server_pair(struct parse *ps, const config_setting_t *group, struct policy_tls *tls)
{
	const config_setting_t *cert = config_setting_get_member(group, "cert_file");
	const config_setting_t *key = config_setting_get_member(group, "key_file");

	if (cert == NULL)
		return parse_error(ps, group,
		                   "action \"terminate_tls\" needs tls.cert_file (the certificate "
		                   "the shim serves)%s",
		                   key == NULL ? " and tls.key_file" : "");
	if (key == NULL)
		return parse_error(ps, cert, "cert_file is set without key_file");
	if (tls_path(ps, cert, PATH_CERTS, &tls->cert_file) != 0 ||
	    tls_path(ps, key, PATH_KEY, &tls->key_file) != 0)
		return -1;
	return 0;
}

static int tls_client_auth(struct parse *ps, const config_setting_t *group, struct policy_tls *tls)
{
	const config_setting_t *req = config_setting_get_member(group, "require_client_cert");
	const config_setting_t *ca = config_setting_get_member(group, "client_ca_file");

	if (req != NULL && parse_bool(ps, req, &tls->require_client_cert) != 0)
		return -1;
	if (tls->require_client_cert && ca == NULL)
		return parse_error(ps, req, "require_client_cert = true needs client_ca_file");
	if (ca != NULL && !tls->require_client_cert)
		return parse_error(ps, ca,
		                   "client_ca_file is only used with "
		                   "require_client_cert = true");
	if (ca != NULL && tls_path(ps, ca, PATH_CERTS, &tls->client_ca_file) != 0)
		return -1;
	return 0;
}

int parse_tls(struct parse *ps, const config_setting_t *group, enum tls_where where,
              struct policy_tls *tls)
{
	const config_setting_t *s;

	if (parse_group(ps, group) != 0)
		return -1;
	switch (where) {
	case TLS_TOP:
		if (parse_check_keys(ps, group, "tls", tls_top_keys, tls_top_reasons) != 0)
			return -1;
		break;
	case TLS_OUT_RULE:
		if (parse_check_keys(ps, group, "an outbound rule's tls", tls_out_keys,
		                     tls_out_reasons) != 0)
			return -1;
		break;
	case TLS_TERMINATE_RULE:
		if (parse_check_keys(ps, group, "an inbound rule's tls", tls_terminate_keys,
		                     tls_in_reasons) != 0)
			return -1;
		break;
	case TLS_IN_RULE:
	default:
		if (parse_check_keys(ps, group, "an inbound rule's tls", tls_in_keys,
		                     tls_in_reasons) != 0)
			return -1;
		break;
	}
	if (tls_enums(ps, group, tls) != 0)
		return -1;
	if ((s = config_setting_get_member(group, "ca_file")) != NULL &&
	    tls_path(ps, s, PATH_CERTS, &tls->ca_file) != 0)
		return -1;
	if ((s = config_setting_get_member(group, "ca_path")) != NULL &&
	    tls_path(ps, s, PATH_DIR, &tls->ca_path) != 0)
		return -1;
	if ((s = config_setting_get_member(group, "pin_sha256")) != NULL &&
	    tls_pins(ps, s, tls) != 0)
		return -1;
	if ((s = config_setting_get_member(group, "server_name")) != NULL &&
	    tls_server_name(ps, s, tls) != 0)
		return -1;
	if ((s = config_setting_get_member(group, "insecure_cn_fallback")) != NULL &&
	    parse_bool(ps, s, &tls->insecure_cn_fallback) != 0)
		return -1;
	if (tls_client_pair(ps, group, tls) != 0 || tls_client_auth(ps, group, tls) != 0)
		return -1;
	if (where == TLS_TERMINATE_RULE && tls_server_pair(ps, group, tls) != 0)
		return -1;
	return 0;
}
