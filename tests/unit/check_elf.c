/*
 * The ELF reader of `tlsguard inspect` and `run` (tools/elf_read.c) on real
 * files: /bin/true as the loader sees it, a truncated copy, a file that is not
 * ELF, and 32-bit and foreign-architecture objects (tests/fixtures/elf, built
 * with clang --target=i386-linux-gnu and aarch64-linux-gnu -c).
 */
#include <check.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_run.h"
#include "elf_read.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures"
#endif

/* A copy of the first n bytes of src in a temporary file; its path in out. */
static void copy_head(const char *src, size_t n, char *out, size_t len)
{
	char buf[4096];
	size_t got, left = n;
	FILE *in = fopen(src, "rb"), *dst;
	int fd;

	snprintf(out, len, "/tmp/check_elf_XXXXXX");
	fd = mkstemp(out);
	ck_assert_int_ge(fd, 0);
	dst = fdopen(fd, "wb");
	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(dst);
	while (left > 0 && (got = fread(buf, 1, left < sizeof(buf) ? left : sizeof(buf), in)) > 0) {
		ck_assert_uint_eq(fwrite(buf, 1, got, dst), got);
		left -= got;
	}
	fclose(in);
	fclose(dst);
}

START_TEST(test_bin_true)
{
	struct policy_error err = {0};
	struct elf_file elf;
	size_t i;
	bool libc = false;

	ck_assert_msg(elf_open(&elf, "/bin/true", &err) == 0, "%s", err.msg);
	ck_assert(elf.dynamic);
	ck_assert(elf.is64 == (sizeof(void *) == 8));
	ck_assert_ptr_nonnull(elf.interp);
	ck_assert_ptr_nonnull(strstr(elf.interp, "ld-linux"));
	for (i = 0; i < elf.nneeded; i++) {
		libc = libc || strcmp(elf.needed[i], "libc.so.6") == 0;
	}
	ck_assert_msg(libc, "libc.so.6 not among the %zu needed libraries", elf.nneeded);
	ck_assert(!elf.go_runtime);
	ck_assert(!elf_defines(&elf, "SSL_CTX_new")); /* /bin/true has no TLS */
	elf_close(&elf);
	ck_assert_ptr_null(elf.map);
	elf_close(&elf); /* twice: harmless */
}
END_TEST

struct refuse_case {
	size_t keep; /* bytes of /bin/true kept */
	const char *want_error;
};

static const struct refuse_case truncated_cases[] = {
    /* nothing at all */
    {0, "not an ELF file"},
    /* the magic only */
    {4, "truncated ELF file: no identification"},
    /* the identification, no header */
    {16, "truncated"},
    /* the header, program headers cut */
    {100, "truncated"},
};

START_TEST(test_truncated)
{
	const struct refuse_case *c = &truncated_cases[_i];
	struct policy_error err = {0};
	struct elf_file elf;
	char path[64];

	copy_head("/bin/true", c->keep, path, sizeof(path));
	ck_assert_int_eq(elf_open(&elf, path, &err), -1);
	ck_assert_msg(strstr(err.msg, c->want_error) != NULL, "keep %zu: [%s]", c->keep, err.msg);
	unlink(path);
}
END_TEST

START_TEST(test_not_elf)
{
	struct policy_error err = {0};
	static const unsigned char script[] = "#!/bin/sh\nexit 0\n";
	struct elf_file elf;

	char path[64];
	FILE *f;
	int fd;

	/* a shell script on disk */
	snprintf(path, sizeof(path), "/tmp/check_elf_XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "wb");
	ck_assert_ptr_nonnull(f);
	fputs((const char *)script, f);
	fclose(f);
	ck_assert_int_eq(elf_open(&elf, path, &err), -1);
	ck_assert_str_eq(err.msg, "not an ELF file");
	unlink(path);
	ck_assert_int_eq(elf_parse_memory(&elf, script, sizeof(script) - 1, &err), -1);
	ck_assert_str_eq(err.msg, "not an ELF file");
	ck_assert_int_eq(elf_open(&elf, "/", &err), -1);
	ck_assert_str_eq(err.msg, "not a regular file");
	ck_assert_int_eq(elf_open(&elf, "/nonexistent/x", &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "No such file"));
}
END_TEST

struct object_case {
	const char *path;
	bool want_is64;
	unsigned want_machine;
};

static const struct object_case object_cases[] = {
    /* 32-bit x86: the loader of a 64-bit system will not preload into it */
    {FIXTURES "/elf/i386_rel.o", false, EM_386},
    /* another architecture */
    {FIXTURES "/elf/aarch64_rel.o", true, EM_AARCH64},
};

START_TEST(test_objects)
{
	const struct object_case *c = &object_cases[_i];
	struct policy_error err = {0};
	struct elf_file elf;

	ck_assert_msg(elf_open(&elf, c->path, &err) == 0, "%s: %s", c->path, err.msg);
	ck_assert(elf.is64 == c->want_is64);
	ck_assert_uint_eq(elf.machine, c->want_machine);
	ck_assert_uint_eq(elf.type, ET_REL);
	ck_assert(!elf.dynamic);
	ck_assert_ptr_null(elf.interp);
	ck_assert_uint_eq(elf.nneeded, 0);
	elf_close(&elf);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("elf");
	TCase *tc = tcase_create("elf");

	tcase_add_test(tc, test_bin_true);
	tcase_add_loop_test(tc, test_truncated, 0,
	                    (int)(sizeof(truncated_cases) / sizeof(truncated_cases[0])));
	tcase_add_test(tc, test_not_elf);
	tcase_add_loop_test(tc, test_objects, 0,
	                    (int)(sizeof(object_cases) / sizeof(object_cases[0])));
	suite_add_tcase(s, tc);
	return check_run(s);
}
