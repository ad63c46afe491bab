/*
 * Programs that hand their network work to other programs they run: git's
 * https goes through git-remote-https (libcurl-gnutls), apt's through its https
 * method, and Debian's psql is pg_wrapper, a perl script that runs the client of
 * the cluster's version. The shim follows them (LD_PRELOAD is inherited), so
 * what can be enforced is what those helpers link, not the command itself.
 */
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_inspect_internal.h"

#define HELPERS_MAX 16

/* The command (by its base name, or its real file's), and the helpers it runs:
 * the files matching dir + name, where a NULL name stands for the command's
 * own base name. */
static const struct helper_rule {
	const char *program;
	const char *dir;
	const char *name;
	const char *what;
	const char *intro; /* said once, after the command's path, or NULL */
} helper_rules[] = {
    {"git", "/usr/lib/git-core/", "git-remote-{http,ftp}*", "git's http(s) and ftp(s) transport",
     NULL},
    {"apt", "/usr/lib/apt/methods/", "http*", "apt's http and https method", NULL},
    {"apt-get", "/usr/lib/apt/methods/", "http*", "apt's http and https method", NULL},
    {"aptitude", "/usr/lib/apt/methods/", "http*", "apt's http and https method", NULL},
    {"pg_wrapper", "/usr/lib/postgresql/*/bin/", NULL, "the PostgreSQL client pg_wrapper runs",
     "is Debian's pg_wrapper, a perl script that runs the PostgreSQL client of the "
     "cluster's version: inspecting those clients too"},
};

static bool rule_applies(const struct helper_rule *rule, const char *path, const char *real)
{
	return strcmp(inspect_base_name(path), rule->program) == 0 ||
	       strcmp(inspect_base_name(real), rule->program) == 0;
}

/* One helper's verdict becomes one finding of the command's, at its level. */
static void add_helper(struct inspect_report *rep, const char *helper, const char *what,
                       struct inspect_report *h)
{
	char reason[INSPECT_TEXT_MAX];

	if (inspect_one(helper, h) != 0) {
		inspect_add(rep, INSPECT_NOTE, NULL, "helper: %s (%s): cannot inspect: %s", helper,
		            what, h->error);
		return;
	}
	if (h->verdict < INSPECT_PARTLY) {
		inspect_add(rep, INSPECT_INFO, NULL, "helper: %s (%s): enforceable%s%s", helper,
		            what, h->governed[0] ? ": TLS through " : "", h->governed);
		return;
	}
	snprintf(reason, sizeof(reason), "helper %s: %.400s", inspect_base_name(helper), h->reason);
	inspect_add(rep, h->verdict, reason, "helper: %s (%s): %s: %s", helper, what,
	            inspect_verdict_name(h->verdict), h->reason);
}

/* Adds the distinct real files rule's glob names for path to seen. */
static void collect(const struct helper_rule *rule, const char *path, char seen[][PATH_MAX],
                    size_t *nseen)
{
	char pattern[PATH_MAX], real[PATH_MAX];
	glob_t g;
	size_t i, j;

	snprintf(pattern, sizeof(pattern), "%s%s", rule->dir,
	         rule->name != NULL ? rule->name : inspect_base_name(path));
	if (glob(pattern, GLOB_BRACE, NULL, &g) != 0) {
		return;
	}
	for (i = 0; i < g.gl_pathc && *nseen < HELPERS_MAX; i++) {
		if (realpath(g.gl_pathv[i], real) == NULL) {
			continue;
		}
		for (j = 0; j < *nseen && strcmp(seen[j], real) != 0; j++) {
		}
		if (j == *nseen) {
			snprintf(seen[(*nseen)++], PATH_MAX, "%s", real);
		}
	}
	globfree(&g);
}

void inspect_helpers(const char *path, struct inspect_report *rep)
{
	static char seen[HELPERS_MAX][PATH_MAX];
	struct inspect_report *h = malloc(sizeof(*h)); /* large: not on the stack */
	char real[PATH_MAX];
	size_t r, i, nseen;

	if (h == NULL || realpath(path, real) == NULL) {
		free(h);
		return;
	}
	for (r = 0; r < sizeof(helper_rules) / sizeof(helper_rules[0]); r++) {
		if (!rule_applies(&helper_rules[r], path, real)) {
			continue;
		}
		nseen = 0;
		collect(&helper_rules[r], path, seen, &nseen);
		if (helper_rules[r].intro != NULL) {
			inspect_add(rep, INSPECT_INFO, NULL, "wrapper: %s %s", path,
			            helper_rules[r].intro);
		}
		for (i = 0; i < nseen; i++) {
			add_helper(rep, seen[i], helper_rules[r].what, h);
		}
	}
	free(h);
}
