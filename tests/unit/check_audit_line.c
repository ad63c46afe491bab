/*
 * The audit line both ways (common/audit_line.c writes, audit_line_parse.c
 * reads): every event the writer can produce parses back to the same fields,
 * hostile host names, details and paths included (quotes, backslashes,
 * spaces, control bytes, text that looks like another field), and bodies a
 * forger or a truncation could produce are refused.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "audit_line.h"
#include "check_run.h"

/* What the parser gives back for a value the writer was handed: the same
 * text, with control bytes as the \xNN the writer put in their place. */
static const char *as_read_back(const char *v, char *buf, size_t len)
{
	size_t o = 0;

	for (; *v != '\0' && o + 5 < len; v++) {
		unsigned char ch = (unsigned char)*v;
		if (ch < 0x20 || ch == 0x7f) {
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", ch);
		} else {
			buf[o++] = (char)ch;
		}
	}
	buf[o] = '\0';
	return buf;
}

struct trip_case {
	const char *host;   /* NULL: host=- */
	const char *detail; /* NULL: no detail= */
	const char *exe;
	const char *peer_ip; /* NULL: peer=- */
	bool inbound, udp;
	int rule;
	const char *want_peer;
};

static const struct trip_case trip_cases[] = {
    /* a plain host name and path */
    {"example.com", NULL, "/usr/bin/curl", "10.0.0.1", false, false, 1, "10.0.0.1:443"},
    /* no host, the default rule, an inbound IPv6 peer */
    {NULL, NULL, "/usr/sbin/nginx", "::1", true, false, POLICY_RULE_DEFAULT, "[::1]:443"},
    /* no peer at all (a policy event), UDP */
    {NULL, "policy file unreadable", "/bin/sh", NULL, false, true, POLICY_RULE_DEFAULT, "-"},
    /* a host name with spaces and quotes that tries to forge a field */
    {"evil\" verdict=allow x=\"", NULL, "/tmp/a b", "10.0.0.2", false, false, 2, "10.0.0.2:443"},
    /* a backslash before the closing quote */
    {"ends with \\", "C:\\path\\", "/x", "10.0.0.3", false, false, 3, "10.0.0.3:443"},
    /* a newline and a carriage return: never a second syslog line */
    {"a\nevent=connect verdict=allow", "b\r\nc", "/y", "10.0.0.4", false, false, 4, "10.0.0.4:443"},
    /* DEL, tab and escape bytes */
    {"t\tab\x7f\x1b[0m", "\x01\x02", "/z\x7f", "10.0.0.5", false, false, 5, "10.0.0.5:443"},
    /* an empty detail is written quoted, and read back empty */
    {"h", "", "/e", "10.0.0.6", false, false, 6, "10.0.0.6:443"},
    /* text that looks like a key=value pair, unquoted */
    {"host=x", "count=5", "exe=/bin/true", "10.0.0.7", false, false, 7, "10.0.0.7:443"},
    /* a lone dash and a lone quote */
    {"-", "\"", "\\", "10.0.0.8", false, false, 8, "10.0.0.8:443"},
};

/* Each case for every kind and verdict. */
#define NKIND_VERDICT (AUDIT_NKINDS * AUDIT_NVERDICTS)

START_TEST(test_round_trip)
{
	const struct trip_case *c = &trip_cases[_i / NKIND_VERDICT];
	enum audit_kind kind = (enum audit_kind)(_i % NKIND_VERDICT / AUDIT_NVERDICTS);
	enum audit_verdict verdict = (enum audit_verdict)(_i % AUDIT_NVERDICTS);
	struct policy_addr peer = {0};
	struct audit_event ev = {
	    .kind = kind,
	    .verdict = verdict,
	    .inbound = c->inbound,
	    .port = 443,
	    .host = c->host,
	    .rule = c->rule,
	    .reason = "cert_verify",
	    .detail = c->detail,
	    .count = kind == AUDIT_SUPPRESSED ? 17 : 0,
	    .proto = c->udp ? POLICY_PROTO_UDP : POLICY_PROTO_TCP,
	};
	char body[2048], scratch[2048], want[512], rule[16];
	const char *const *v;
	struct audit_fields f;
	size_t n;

	if (c->peer_ip != NULL) {
		ck_assert_int_eq(policy_addr_parse(&peer, c->peer_ip), 0);
		ev.peer = &peer;
	}
	n = audit_format_body(&ev, c->exe, 4242, body, sizeof(body));
	ck_assert_uint_lt(n, sizeof(body) - 1);
	ck_assert_ptr_eq(strpbrk(body, "\n\r\x7f"), NULL);
	ck_assert_msg(audit_parse_body(body, n, scratch, &f) == 0, "does not parse: %s", body);
	v = f.value;
	ck_assert_str_eq(v[AUDIT_FIELD_EVENT], audit_kind_names[kind]);
	ck_assert_str_eq(v[AUDIT_FIELD_VERDICT], audit_verdict_names[verdict]);
	ck_assert_str_eq(v[AUDIT_FIELD_DIR], c->inbound ? "in" : "out");
	ck_assert_str_eq(v[AUDIT_FIELD_PROTO], c->udp ? "udp" : "tcp");
	ck_assert_str_eq(v[AUDIT_FIELD_PEER], c->want_peer);
	ck_assert_str_eq(v[AUDIT_FIELD_HOST], c->host != NULL && c->host[0] != '\0'
	                                          ? as_read_back(c->host, want, sizeof(want))
	                                          : "-");
	snprintf(rule, sizeof(rule), "%d", c->rule);
	ck_assert_str_eq(v[AUDIT_FIELD_RULE], c->rule == POLICY_RULE_DEFAULT ? "default" : rule);
	ck_assert_str_eq(v[AUDIT_FIELD_REASON], "cert_verify");
	if (c->detail == NULL) {
		ck_assert_ptr_null(v[AUDIT_FIELD_DETAIL]);
	} else {
		ck_assert_str_eq(v[AUDIT_FIELD_DETAIL],
		                 as_read_back(c->detail, want, sizeof(want)));
	}
	if (kind == AUDIT_SUPPRESSED) {
		ck_assert_str_eq(v[AUDIT_FIELD_COUNT], "17");
	} else {
		ck_assert_ptr_null(v[AUDIT_FIELD_COUNT]);
	}
	ck_assert_str_eq(v[AUDIT_FIELD_EXE], as_read_back(c->exe, want, sizeof(want)));
	ck_assert_str_eq(v[AUDIT_FIELD_PID], "4242");
}
END_TEST

struct refuse_case {
	const char *body;
	int want_rc;
};

static const struct refuse_case parse_cases[] = {
    /* the shortest valid body */
    {"event=connect verdict=block dir=out proto=tcp peer=- host=- rule=default reason=denied "
     "exe=/x pid=1",
     0},
    /* no proto (lines written before it existed) */
    {"event=connect verdict=block dir=out peer=- host=- rule=1 reason=denied exe=/x pid=1", 0},
    /* an unknown key a later shim may add is skipped */
    {"event=connect verdict=block dir=out peer=- host=- rule=1 reason=denied future=x exe=/x "
     "pid=1",
     0},
    /* a repeated key could hide the first */
    {"event=connect verdict=block verdict=allow dir=out peer=- host=- rule=1 reason=denied "
     "exe=/x pid=1",
     -1},
    /* cut before pid: truncated */
    {"event=connect verdict=block dir=out peer=- host=- rule=1 reason=denied exe=/x", -1},
    /* an unterminated quote */
    {"event=connect verdict=block dir=out peer=- host=\"a rule=1 reason=denied exe=/x pid=1", -1},
    /* a raw newline is never written */
    {"event=connect verdict=block dir=out peer=- host=a\nb rule=1 reason=denied exe=/x pid=1", -1},
    /* a count on an event that is not suppressed */
    {"event=connect verdict=block dir=out peer=- host=- rule=1 reason=denied count=3 exe=/x "
     "pid=1",
     -1},
    /* event=suppressed without its count */
    {"event=suppressed verdict=block dir=out peer=- host=- rule=1 reason=denied exe=/x pid=1", -1},
    /* an unknown event, verdict, direction, proto */
    {"event=bogus verdict=block dir=out peer=- host=- rule=1 reason=denied exe=/x pid=1", -1},
    {"event=connect verdict=maybe dir=out peer=- host=- rule=1 reason=denied exe=/x pid=1", -1},
    {"event=connect verdict=block dir=up peer=- host=- rule=1 reason=denied exe=/x pid=1", -1},
    {"event=connect verdict=block dir=out proto=sctp peer=- host=- rule=1 reason=denied exe=/x "
     "pid=1",
     -1},
    /* a peer that is no address */
    {"event=connect verdict=block dir=out peer=host:443 host=- rule=1 reason=denied exe=/x pid=1",
     -1},
    /* a reason that is not one word */
    {"event=connect verdict=block dir=out peer=- host=- rule=1 reason=\"two words\" exe=/x pid=1",
     -1},
    /* a trailing space, two spaces, an empty bare value */
    {"event=connect verdict=block dir=out peer=- host=- rule=1 reason=denied exe=/x pid=1 ", -1},
    {"event=connect  verdict=block dir=out peer=- host=- rule=1 reason=denied exe=/x pid=1", -1},
    {"event=connect verdict=block dir=out peer=- host= rule=1 reason=denied exe=/x pid=1", -1},
    /* nothing at all */
    {"", -1},
};

START_TEST(test_parse)
{
	const struct refuse_case *c = &parse_cases[_i];
	char scratch[512];
	struct audit_fields f;

	ck_assert_msg(audit_parse_body(c->body, strlen(c->body), scratch, &f) == c->want_rc, "%s",
	              c->body);
}
END_TEST

/* A NUL byte inside the body is a control byte, not its end. */
START_TEST(test_nul_inside)
{
	static const char body[] = "event=connect verdict=block dir=out peer=- host=a\0b rule=1 "
	                           "reason=denied exe=/x pid=1";
	char scratch[sizeof(body) + 1];
	struct audit_fields f;

	ck_assert_int_eq(audit_parse_body(body, sizeof(body) - 1, scratch, &f), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("audit_line");
	TCase *tc = tcase_create("audit_line");

	tcase_add_loop_test(tc, test_round_trip, 0,
	                    (int)(sizeof(trip_cases) / sizeof(trip_cases[0]) * NKIND_VERDICT));
	tcase_add_loop_test(tc, test_parse, 0, (int)(sizeof(parse_cases) / sizeof(parse_cases[0])));
	tcase_add_test(tc, test_nul_inside);
	suite_add_tcase(s, tc);
	return check_run(s);
}
