/*
 * libFuzzer target: the report's line parser (tools/report_parse.c and
 * tools/report_journal.c) with hostile lines: syslog, RFC 3339, datagram,
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

#include "../../tools/report_journal.c"
#include "../../tools/report_parse.c"

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
		const char *const fields[] = {ev.event, ev.verdict, ev.dir,    ev.proto, ev.peer,
		                              ev.host,  ev.rule,    ev.reason, ev.exe,   ev.pid};
		for (f = fields; f < fields + sizeof(fields) / sizeof(fields[0]); f++) {
			if (*f == NULL) {
				why = rep_fail("an event without a required field");
			} else if (!rep_clean(*f)) {
				why = rep_fail("a control byte in a value");
			}
		}
		if (why == NULL && strcmp(ev.proto, "tcp") != 0 && strcmp(ev.proto, "udp") != 0) {
			why = rep_fail("proto neither tcp nor udp");
		}
		if (why == NULL && (ev.count != NULL) != (strcmp(ev.event, "suppressed") == 0)) {
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
