/*
 * libFuzzer target: the report's line parser (tools/report_parse.c,
 * tools/report_journal.c and the body parser common/audit_line_parse.c, linked
 * from the build's libtools.a and libcommon.a) with hostile lines: syslog, RFC 3339, datagram,
 * stderr and journal JSON forms, NUL bytes, broken escapes, deep JSON.
 *
 * Properties (a violation aborts):
 * - the parser never reads outside the line nor writes outside its scratch
 *   (ASan), for the line as given and for every prefix of it;
 * - an event has every field the contract requires, proto is tcp or udp,
 *   a count only on event=suppressed, and no value holds a control byte;
 * - the host name and time stamp are NUL-terminated within their arrays.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static const char *rep_fail(const char *why)
{
	return why;
}

static bool rep_clean(const char *v)
{
	for (; *v != '\0'; v++) {
		if ((unsigned char)*v < 0x20 || *v == 0x7f) {
			return false;
		}
	}
	return true;
}

static const char *rep_check_one(const uint8_t *data, size_t size)
{
	struct report_event ev;
	char *line = malloc(size + 1), *scratch = malloc(2 * (size + 1));
	const char *why = NULL;
	const char *const *f;
	enum report_line_kind kind;

	if (line == NULL || scratch == NULL) {
		free(line);
		free(scratch);
		return NULL;
	}
	memcpy(line, data, size); /* exactly size bytes: ASan sees any overread */
	kind = report_parse_line(line, size, scratch, &ev);
	if (kind == REPORT_LINE_EVENT) {
		const char *const *v = ev.f.value;
		const char *const fields[] = {v[AUDIT_FIELD_EVENT], v[AUDIT_FIELD_VERDICT],
		                              v[AUDIT_FIELD_DIR],   v[AUDIT_FIELD_PROTO],
		                              v[AUDIT_FIELD_PEER],  v[AUDIT_FIELD_HOST],
		                              v[AUDIT_FIELD_RULE],  v[AUDIT_FIELD_REASON],
		                              v[AUDIT_FIELD_EXE],   v[AUDIT_FIELD_PID]};
		for (f = fields; f < fields + sizeof(fields) / sizeof(fields[0]); f++) {
			if (*f == NULL) {
				why = rep_fail("an event without a required field");
			} else if (!rep_clean(*f)) {
				why = rep_fail("a control byte in a value");
			}
		}
		if (why == NULL && strcmp(v[AUDIT_FIELD_PROTO], "tcp") != 0 &&
		    strcmp(v[AUDIT_FIELD_PROTO], "udp") != 0) {
			why = rep_fail("proto neither tcp nor udp");
		}
		if (why == NULL && (v[AUDIT_FIELD_COUNT] != NULL) !=
		                       (strcmp(v[AUDIT_FIELD_EVENT], "suppressed") == 0)) {
			why =
			    rep_fail("count on an event that is not event=suppressed, or missing");
		}
		if (why == NULL && (memchr(ev.loghost, '\0', sizeof(ev.loghost)) == NULL ||
		                    memchr(ev.ts, '\0', sizeof(ev.ts)) == NULL)) {
			why = rep_fail("host or time stamp not terminated");
		}
	}
	free(line);
	free(scratch);
	return why;
}

const char *fuzz_report_check(const uint8_t *data, size_t size)
{
	const char *why = rep_check_one(data, size);
	size_t cut;

	/* A few prefixes too: lines cut by a rotation or a full disk. */
	for (cut = 1; why == NULL && cut < size && cut < 64; cut *= 2) {
		why = rep_check_one(data, size - cut);
	}
	return why;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = fuzz_report_check(data, size);

	if (why != NULL) {
		fprintf(stderr, "fuzz_report: %s\n", why);
		abort();
	}
	return 0;
}
#endif
