/*
 * libFuzzer target: the TLS stream classifier (common/stream.c), with and without
 * the PostgreSQL STARTTLS preamble, as client and as server.
 *
 * Input: one mode byte (bit 0: inbound; bit 1: starttls = "postgres"), then
 * chunks: 1 byte direction (bit 0: 0 = written, 1 = read), 2 bytes length (big
 * endian), then that many bytes of data (fewer if the input ends). A chunk is
 * what one write() or read() moves.
 *
 * Properties (stream.h: "Bytes may arrive in any split, down to one byte per
 * call; the verdict is the same as for the whole stream at once"):
 * - feeding each chunk in one call, byte by byte, and in two halves gives, after
 *   every chunk, the same verdict and (while the verdict is STREAM_OK) the same
 *   "client random completed during this chunk" flag, and at the end the same
 *   client random;
 * - likewise the "bytes written end inside the ClientHello" state
 *   (stream_hello_pending), which decides whether the socket layer releases a
 *   write: it must not depend on the split either;
 * - a verdict other than STREAM_OK is sticky: every later call returns it;
 * - the client random completes at most once per connection.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"
#include "stream.h"

#define STR_MAX_CHUNKS 4096

/* How a run feeds each chunk to the classifier. */
enum str_split {
	STR_WHOLE,   /* one call per chunk */
	STR_BYTES,   /* one call per byte */
	STR_HALVES,  /* two calls: the first half, then the rest */
	STR_NSPLITS, /* not a split: the count */
};

struct str_chunk {
	enum stream_dir dir;
	const uint8_t *data;
	size_t len;
};

/* What one run saw after each chunk. */
struct str_run {
	enum stream_verdict verdict[STR_MAX_CHUNKS];
	bool completed[STR_MAX_CHUNKS];
	bool pending[STR_MAX_CHUNKS];
	bool random_ready;
	uint8_t random[STREAM_RANDOM_LEN];
};

static char str_why[256];

static size_t str_parse(const uint8_t *data, size_t size, struct str_chunk *chunks)
{
	size_t pos = 1, n = 0, len;

	while (pos + 3 <= size && n < STR_MAX_CHUNKS) {
		len = (size_t)data[pos + 1] << 8 | data[pos + 2];
		chunks[n].dir = data[pos] & 1 ? STREAM_IN : STREAM_OUT;
		pos += 3;
		chunks[n].len = len < size - pos ? len : size - pos;
		chunks[n].data = data + pos;
		pos += chunks[n].len;
		n++;
	}
	return n;
}

/* Feeds [p, p + len) in calls of at most step bytes (len 0: one empty call).
 * Returns the last verdict; *completed collects random_completed. */
static const char *str_feed(struct stream *s, const struct str_chunk *c, size_t from, size_t to,
                            size_t step, enum stream_verdict *last, int *completions)
{
	enum stream_verdict v;
	bool done;
	size_t take;

	do {
		take = to - from < step ? to - from : step;
		v = stream_feed(s, c->dir, c->data + from, take, &done);
		if (*last != STREAM_OK && v != *last) {
			snprintf(str_why, sizeof(str_why),
			         "verdict %d after verdict %d: not sticky", (int)v, (int)*last);
			return str_why;
		}
		if (done && v != STREAM_OK) {
			return "random_completed set with a verdict other than STREAM_OK";
		}
		*last = v;
		*completions += done;
		from += take;
	} while (from < to);
	return NULL;
}

static const char *str_run(struct str_run *run, enum str_split split, uint8_t mode,
                           const struct str_chunk *chunks, size_t n)
{
	struct stream s;
	enum stream_verdict last = STREAM_OK;
	int completions = 0, before;
	const char *why = NULL;
	size_t i, half;

	stream_init(&s, mode & 2 ? POLICY_STARTTLS_POSTGRES : POLICY_STARTTLS_NONE, mode & 1);
	for (i = 0; i < n && why == NULL; i++) {
		before = completions;
		switch (split) {
		case STR_BYTES:
			why = str_feed(&s, &chunks[i], 0, chunks[i].len, 1, &last, &completions);
			break;
		case STR_HALVES:
			half = chunks[i].len / 2;
			why = str_feed(&s, &chunks[i], 0, half, SIZE_MAX, &last, &completions);
			if (why == NULL && half < chunks[i].len) {
				why = str_feed(&s, &chunks[i], half, chunks[i].len, SIZE_MAX, &last,
				               &completions);
			}
			break;
		case STR_WHOLE:
		default:
			why = str_feed(&s, &chunks[i], 0, chunks[i].len, SIZE_MAX, &last,
			               &completions);
			break;
		}
		run->verdict[i] = last;
		run->completed[i] = completions > before;
		run->pending[i] = stream_hello_pending(&s, STREAM_OUT);
	}
	if (why == NULL && completions > 1) {
		why = "the client random completed more than once";
	}
	run->random_ready = s.random_ready;
	memcpy(run->random, s.random, sizeof(run->random));
	return why;
}

static const char *str_compare(const struct str_run *a, const struct str_run *b, size_t n,
                               enum str_split split)
{
	static const char *const names[STR_NSPLITS] = {"whole", "byte by byte", "in halves"};
	size_t i;

	for (i = 0; i < n; i++) {
		/* random_completed is reported on STREAM_OK only (stream.h): a chunk
		 * that completes the random and then fails reports it byte by byte,
		 * not whole. */
		if (a->verdict[i] != b->verdict[i] ||
		    (a->verdict[i] == STREAM_OK && a->completed[i] != b->completed[i])) {
			snprintf(str_why, sizeof(str_why),
			         "chunk %zu: whole: verdict %d random_completed %d; %s: verdict %d "
			         "random_completed %d",
			         i, (int)a->verdict[i], a->completed[i], names[split],
			         (int)b->verdict[i], b->completed[i]);
			return str_why;
		}
		if (a->pending[i] != b->pending[i]) {
			snprintf(str_why, sizeof(str_why),
			         "chunk %zu: whole: hello pending %d; %s: hello pending %d", i,
			         a->pending[i], names[split], b->pending[i]);
			return str_why;
		}
	}
	if (a->random_ready != b->random_ready ||
	    (a->random_ready && memcmp(a->random, b->random, sizeof(a->random)) != 0)) {
		snprintf(str_why, sizeof(str_why), "client random differs (whole vs %s)",
		         names[split]);
		return str_why;
	}
	return NULL;
}

static const char *fuzz_stream_check(const uint8_t *data, size_t size)
{
	struct str_chunk *chunks = calloc(STR_MAX_CHUNKS, sizeof(*chunks));
	struct str_run *runs = calloc(STR_NSPLITS, sizeof(*runs));
	const char *why = "out of memory";
	size_t n;
	int split;

	if (chunks == NULL || runs == NULL) {
		goto out;
	}
	why = NULL;
	if (size == 0) {
		goto out;
	}
	n = str_parse(data, size, chunks);
	for (split = 0; split < STR_NSPLITS && why == NULL; split++) {
		why = str_run(&runs[split], (enum str_split)split, data[0], chunks, n);
		if (why == NULL && split != STR_WHOLE) {
			why = str_compare(&runs[STR_WHOLE], &runs[split], n, (enum str_split)split);
		}
	}
out:
	free(chunks);
	free(runs);
	return why;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = fuzz_stream_check(data, size);

	if (why != NULL) {
		fprintf(stderr, "fuzz_stream: property violated: %s\n", why);
		abort();
	}
	return 0;
}

/* ---- the comparison catches what it exists to catch (replay --self-test) ---- */

static const struct {
	int chunk;            /* the chunk whose outcome differs, -1: none */
	bool verdict_differs; /* else random_completed differs */
	bool random_differs;  /* the final client random */
	bool want_ok;
} str_forged[] = {
    /* identical runs */
    {-1, false, false, true},
    /* a split that changes a verdict */
    {1, true, false, false},
    /* a split that moves the completion of the client random */
    {0, false, false, false},
    /* a split that changes the client random */
    {-1, false, true, false},
};

int fuzz_self_test(void)
{
	static struct str_run a, b;
	const char *why;
	size_t i;
	int misses = 0;

	for (i = 0; i < sizeof(str_forged) / sizeof(str_forged[0]); i++) {
		memset(&a, 0, sizeof(a));
		a.random_ready = true;
		a.completed[0] = true;
		b = a;
		if (str_forged[i].chunk >= 0 && str_forged[i].verdict_differs) {
			b.verdict[str_forged[i].chunk] = STREAM_PLAINTEXT;
		} else if (str_forged[i].chunk >= 0) {
			b.completed[str_forged[i].chunk] = false;
		}
		if (str_forged[i].random_differs) {
			b.random[5] ^= 1;
		}
		why = str_compare(&a, &b, 3, STR_BYTES);
		if ((why == NULL) != str_forged[i].want_ok) {
			fprintf(stderr, "fuzz_stream self-test, row %zu: %s\n", i,
			        why != NULL ? why : "accepted");
			misses++;
		}
	}
	return misses;
}
