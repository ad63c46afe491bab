/*
 * The fuzz targets' properties in the ordinary unit build: every file under
 * tests/fuzz/regressions/NAME/ (inputs that once broke a target) and
 * tests/fuzz/corpus/NAME/ (the seeds) is run through the same check function
 * the libFuzzer target fuzz_NAME calls, compiled in here from tests/fuzz/.
 * A crash found by `make fuzz` becomes a test of `make check` by saving its
 * input under regressions/ (tests/fuzz/README.md).
 *
 * Then the checkers themselves: forged audit bodies and stream runs that a
 * correct formatter or classifier would never produce must be caught, or the
 * fuzz targets could not fail.
 *
 * Run from the top of the tree (or set TLSGUARD_FUZZ_DIR to tests/fuzz).
 */
#define FUZZ_REPLAY 1

#include <check.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/fuzz_audit.c"
#include "../fuzz/fuzz_policy.c"
#include "../fuzz/fuzz_stream.c"
#include "check_run.h"

struct target {
	const char *name; /* fuzz_NAME, corpus/NAME, regressions/NAME */
	const char *(*check)(const uint8_t *data, size_t size);
};

static const struct target targets[] = {
    /* policy text: errors carry FILE:LINE; printed policies reload and match alike */
    {"policy", fuzz_policy_check},
    /* TLS streams: the same verdict however the bytes are split */
    {"stream", fuzz_stream_check},
    /* audit bodies: parse back to the fields given, truncate safely */
    {"audit", fuzz_audit_check},
};

#define NTARGETS ((int)(sizeof(targets) / sizeof(targets[0])))

/* One saved input, found when the suite starts. */
struct replay_case {
	const struct target *target;
	char path[PATH_MAX + NAME_MAX + 2];
};

static struct replay_case *replays;
static int nreplays;
static const char *fuzz_dir = "tests/fuzz";

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL, *bigger;
	size_t cap = 0, n;

	*len = 0;
	if (f == NULL) {
		return NULL;
	}
	do {
		if (*len == cap) {
			cap = cap ? cap * 2 : 4096;
			bigger = realloc(data, cap);
			if (bigger == NULL) {
				free(data);
				fclose(f);
				return NULL;
			}
			data = bigger;
		}
		n = fread(data + *len, 1, cap - *len, f);
		*len += n;
	} while (n > 0);
	fclose(f);
	return data;
}

START_TEST(test_replay)
{
	const struct replay_case *c = &replays[_i];
	const char *why;
	uint8_t *data;
	size_t len;

	data = read_all(c->path, &len);
	ck_assert_msg(data != NULL, "cannot read %s", c->path);
	why = c->target->check(data, len);
	ck_assert_msg(why == NULL, "fuzz_%s %s: %s", c->target->name, c->path, why);
	free(data);
}
END_TEST

static int skip_dots(const struct dirent *d)
{
	return d->d_name[0] != '.' && strcmp(d->d_name, "README") != 0;
}

/* Adds every file of fuzz_dir/kind/NAME (a missing directory holds none). */
static void collect(const struct target *t, const char *kind)
{
	struct dirent **names;
	char dir[PATH_MAX];
	int n, i;

	snprintf(dir, sizeof(dir), "%s/%s/%s", fuzz_dir, kind, t->name);
	n = scandir(dir, &names, skip_dots, alphasort);
	if (n < 0) {
		return;
	}
	replays = realloc(replays, (size_t)(nreplays + n) * sizeof(*replays));
	if (replays == NULL) {
		perror("realloc");
		exit(1);
	}
	for (i = 0; i < n; i++) {
		replays[nreplays].target = t;
		snprintf(replays[nreplays].path, sizeof(replays[nreplays].path), "%s/%s", dir,
		         names[i]->d_name);
		nreplays++;
		free(names[i]);
	}
	free(names);
}

/* ---- the checkers catch what they exist to catch ---- */

#define GOOD_BODY                                                                                  \
	"event=connect verdict=block dir=out peer=127.0.0.1:443 host=a.example rule=3 "            \
	"reason=denied detail=\"x y\" exe=/bin/curl pid=42"

struct body_case {
	const char *body;
	bool want_ok;
};

static const struct body_case body_cases[] = {
    /* the body the fields below describe */
    {GOOD_BODY, true},
    /* a raw newline: a second syslog line */
    {"event=connect verdict=block dir=out peer=127.0.0.1:443 host=a.example\n rule=3 "
     "reason=denied detail=\"x y\" exe=/bin/curl pid=42",
     false},
    /* a forged field inside the host name */
    {"event=connect verdict=block dir=out peer=127.0.0.1:443 host=a.example rule=1 rule=3 "
     "reason=denied detail=\"x y\" exe=/bin/curl pid=42",
     false},
    /* the detail field missing */
    {"event=connect verdict=block dir=out peer=127.0.0.1:443 host=a.example rule=3 "
     "reason=denied exe=/bin/curl pid=42",
     false},
    /* a quote in a bare value */
    {"event=connect verdict=block dir=out peer=127.0.0.1:443 host=a\"example rule=3 "
     "reason=denied detail=\"x y\" exe=/bin/curl pid=42",
     false},
    /* quotes where none are needed */
    {"event=connect verdict=block dir=out peer=127.0.0.1:443 host=\"a.example\" rule=3 "
     "reason=denied detail=\"x y\" exe=/bin/curl pid=42",
     false},
    /* an unterminated quoted detail */
    {"event=connect verdict=block dir=out peer=127.0.0.1:443 host=a.example rule=3 "
     "reason=denied detail=\"x y exe=/bin/curl pid=42",
     false},
    /* an escape that is not one of \" \\ \xNN */
    {"event=connect verdict=block dir=out peer=127.0.0.1:443 host=a.example rule=3 "
     "reason=denied detail=\"x\\ny\" exe=/bin/curl pid=42",
     false},
    /* a field after pid */
    {GOOD_BODY " exe=/bin/sh", false},
};

START_TEST(test_body_checker)
{
	const struct body_case *c = &body_cases[_i];
	struct aud_want want = {.n = 0};
	size_t len = strlen(c->body);
	uint8_t *mid = calloc(len + 1, 1);
	const char *why;

	ck_assert_ptr_nonnull(mid);
	aud_add(&want, "event", "connect", false);
	aud_add(&want, "verdict", "block", false);
	aud_add(&want, "dir", "out", false);
	aud_add(&want, "peer", "127.0.0.1:443", false);
	aud_add(&want, "host", "a.example", false);
	aud_add(&want, "rule", "3", false);
	aud_add(&want, "reason", "denied", false);
	aud_add(&want, "detail", "x y", true);
	aud_add(&want, "exe", "/bin/curl", false);
	aud_add(&want, "pid", "42", false);
	why = aud_check_bytes(c->body, len);
	if (why == NULL) {
		why = aud_check_fields(c->body, len, &want, mid);
	}
	ck_assert_msg((why == NULL) == c->want_ok, "row %d: %s", _i, why ? why : "accepted");
	free(mid);
}
END_TEST

struct compare_case {
	int chunk;            /* the chunk whose outcome differs, -1: none */
	bool verdict_differs; /* else random_completed differs */
	bool random_differs;  /* the final client random */
	bool want_ok;
};

static const struct compare_case compare_cases[] = {
    /* identical runs */
    {-1, false, false, true},
    /* a split that changes a verdict */
    {1, true, false, false},
    /* a split that moves the completion of the client random */
    {0, false, false, false},
    /* a split that changes the client random */
    {-1, false, true, false},
};

START_TEST(test_stream_compare)
{
	const struct compare_case *c = &compare_cases[_i];
	static struct str_run a, b;
	const char *why;

	memset(&a, 0, sizeof(a));
	a.random_ready = true;
	a.completed[0] = true;
	b = a;
	if (c->chunk >= 0 && c->verdict_differs) {
		b.verdict[c->chunk] = STREAM_PLAINTEXT;
	} else if (c->chunk >= 0) {
		b.completed[c->chunk] = false;
	}
	if (c->random_differs) {
		b.random[5] ^= 1;
	}
	why = str_compare(&a, &b, 3, STR_BYTES);
	ck_assert_msg((why == NULL) == c->want_ok, "row %d: %s", _i, why ? why : "accepted");
}
END_TEST

static Suite *fuzz_suite(void)
{
	Suite *s = suite_create("fuzz_regressions");
	TCase *tc;

	tc = tcase_create("replay");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_replay, 0, nreplays);
	suite_add_tcase(s, tc);

	tc = tcase_create("checkers");
	tcase_add_loop_test(tc, test_body_checker, 0,
	                    (int)(sizeof(body_cases) / sizeof(body_cases[0])));
	tcase_add_loop_test(tc, test_stream_compare, 0,
	                    (int)(sizeof(compare_cases) / sizeof(compare_cases[0])));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	const char *env = getenv("TLSGUARD_FUZZ_DIR");
	int status, t;

	if (env != NULL) {
		fuzz_dir = env;
	}
	fuzz_policy_init();
	for (t = 0; t < NTARGETS; t++) {
		collect(&targets[t], "regressions");
		collect(&targets[t], "corpus");
	}
	if (nreplays == 0) {
		fprintf(stderr,
		        "check_fuzz_regressions: no inputs under %s (run from the top of "
		        "the tree or set TLSGUARD_FUZZ_DIR)\n",
		        fuzz_dir);
		return 1;
	}
	status = check_run(fuzz_suite());
	free(replays);
	return status;
}
