/*
 * tlsguard check [-v] [POLICY]: validates a policy with the code the shim loads
 * it with, then what only cryptography can tell (does each client key match its
 * certificate?), then warnings about a policy that loads but is probably not
 * meant (a shadowed rule, a missing audit socket, a directory others can write
 * to); -v prints the effective policy.
 */
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cli.h"

static int run_check(int argc, char **argv);

const struct cli_command cli_cmd_check = {
    .name = "check",
    .synopsis = "[-v] [POLICY]",
    .summary = "validate a policy; -v prints the effective policy, defaults filled in",
    .run = run_check,
};

static void check_print_ok(const struct policy *policy, FILE *out)
{
	if (cli_policy_is_builtin(policy)) {
		fprintf(out, "built-in default policy OK\n");
	} else {
		fprintf(out, "policy OK: %s\n", policy_source(policy));
	}
}

/* Never a passphrase prompt: the shim has none to give either. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

static void *pem_read_cert(FILE *f)
{
	return PEM_read_X509(f, NULL, NULL, NULL);
}

static void *pem_read_key(FILE *f)
{
	return PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
}

/* The first object read_one finds in the PEM file at path, or NULL. */
static void *read_pem(const char *path, void *(*read_one)(FILE *))
{
	FILE *f = fopen(path, "r");
	void *obj = f != NULL ? read_one(f) : NULL;

	if (f != NULL)
		fclose(f);
	return obj;
}

/* Why cert_path and key_path cannot be a certificate and its key (a client's,
 * or with server set the one terminate_tls serves), or NULL when they can. */
static const char *pair_problem(const char *cert_path, const char *key_path, bool server)
{
	X509 *cert = read_pem(cert_path, pem_read_cert);
	EVP_PKEY *key = read_pem(key_path, pem_read_key);
	const char *why = NULL;

	if (cert == NULL)
		why = server ? "cert_file cannot be read as a PEM certificate"
		             : "the client certificate cannot be read as a PEM certificate";
	else if (key == NULL)
		why = server ? "key_file cannot be read as a PEM private key"
		             : "the client key cannot be read as a PEM private key";
	else if (X509_check_private_key(cert, key) != 1)
		why = server ? "the key does not belong to cert_file"
		             : "the client key does not belong to the client certificate";
	ERR_clear_error();
	EVP_PKEY_free(key);
	X509_free(cert);
	return why;
}

struct pair_check {
	const char *source;
	int failures;
	const char *last_cert, *last_key; /* rules inherit the top-level pair: check it once */
};

/* terminate_tls: the certificate the shim serves must go with its key, or every
 * handshake on that port would fail at run time. */
static void check_server_pair(struct pair_check *pc, const struct policy_tls *tls)
{
	const char *why;

	if (tls->cert_file == NULL || tls->key_file == NULL)
		return;
	why = pair_problem(tls->cert_file, tls->key_file, true);
	if (why == NULL)
		return;
	fprintf(stderr, "%s: key_file '%s': %s '%s'\n", pc->source, tls->key_file, why,
	        tls->cert_file);
	pc->failures++;
}

static void check_pair(void *arg, const struct policy_tls *tls)
{
	struct pair_check *pc = arg;
	const char *why;

	check_server_pair(pc, tls);
	if (tls->client_cert == NULL ||
	    (tls->client_cert == pc->last_cert && tls->client_key == pc->last_key))
		return;
	pc->last_cert = tls->client_cert;
	pc->last_key = tls->client_key;
	why = pair_problem(tls->client_cert, tls->client_key, false);
	if (why == NULL)
		return;
	fprintf(stderr, "%s:%d: client_key '%s': %s '%s'\n", pc->source, tls->client_key_line,
	        tls->client_key, why, tls->client_cert);
	pc->failures++;
}

static void print_warning(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "%s\n", msg);
}

/* Whoever can write to the policy's directory can replace the policy. */
static void warn_directory(const struct policy *policy)
{
	char copy[PATH_MAX];
	const char *dir;
	struct stat st;

	snprintf(copy, sizeof(copy), "%s", policy_source(policy));
	dir = dirname(copy);
	if (stat(dir, &st) != 0 || !(st.st_mode & (S_IWGRP | S_IWOTH)))
		return;
	fprintf(stderr,
	        "%s: warning: directory '%s' is writable by %s%s: keep policies where only "
	        "root can write\n",
	        policy_source(policy), dir, (st.st_mode & S_IWOTH) ? "others" : "its group",
	        (st.st_mode & S_ISVTX) ? " (sticky: they cannot replace this file, but can "
	                                 "plant others beside it)"
	                               : ": they can replace the policy file");
}

/* 0 when the policy's key pairs are sound; warnings never fail it. */
static int check_beyond_parsing(const struct policy *policy)
{
	struct pair_check pc = {.source = policy_source(policy)};

	policy_each_tls(policy, check_pair, &pc);
	if (pc.failures > 0)
		return -1;
	if (!cli_policy_is_builtin(policy))
		warn_directory(policy);
	(void)policy_lint(policy, print_warning, NULL);
	return 0;
}

static int run_check(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct policy_error err = {0};
	struct policy *policy;
	bool verbose = false;
	int c;

	cli_options_begin();
	while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose = true;
			break;
		default:
			return cli_option_other(&cli_cmd_check, c, argv);
		}
	}
	if (argc - optind > 1) {
		return cli_usage_error(&cli_cmd_check, "one policy file at most");
	}

	policy = cli_policy_load(argc > optind ? argv[optind] : NULL, &err);
	if (policy == NULL) {
		fprintf(stderr, "%s\n", err.msg);
		return CLI_EXIT_INVALID;
	}
	if (check_beyond_parsing(policy) != 0) {
		policy_free(policy);
		return CLI_EXIT_INVALID;
	}
	if (!verbose) {
		check_print_ok(policy, stdout);
		policy_free(policy);
		return CLI_EXIT_OK;
	}
	/* With -v stdout holds only the policy, so `check -v > x.conf` is loadable. */
	if (policy_print(policy, stdout) != 0 || fflush(stdout) != 0) {
		fprintf(stderr, "%s check: cannot write the policy to stdout\n", CLI_NAME);
		policy_free(policy);
		return CLI_EXIT_INVALID;
	}
	check_print_ok(policy, stderr);
	policy_free(policy);
	return CLI_EXIT_OK;
}
