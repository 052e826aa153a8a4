/*
 * Goal: the query string of GET /transactions (API.md: ?limit= 1 to 100,
 * ?before=<id>) is read exactly: http_query_get() finds a parameter only
 * under its own name, refuses duplicates and values that do not fit, and
 * util_parse_ll() takes a decimal integer in range and nothing else.
 *
 * Input: byte 0 picks the parameter name, byte 1 the output size, the rest
 * is the query string (a C string, as FastCGI's QUERY_STRING is).
 * Properties, against a model written from the contract:
 *  - the result is 1, 0 or -1 as the model of '&'-separated "name=value"
 *    segments says (found once, absent, duplicated or too long), and a
 *    found value is the segment's value, NUL-terminated within out_size;
 *  - util_parse_ll(value, min, max) succeeds exactly when the value is an
 *    optional '-' and decimal digits whose value lies in [min, max], and
 *    then returns that value (checked in the ranges of limit, of before,
 *    and in the full range of long long).
 */
#include <stdbool.h>
#include <string.h>

#include "bounds.h"
#include "fuzz.h"
#include "http.h"
#include "util.h"

static const char *const fuzz_names[] = {
    "limit", "before", "a", "limitx", "", /* "" is replaced by input */
};

struct fuzz_model {
	int found;   /* segments whose name matches */
	size_t vlen; /* the value length of the first of them */
	const char *value;
};

static struct fuzz_model fuzz_query_model(const char *q, const char *name);
static bool fuzz_ll_model(
    const char *text, long long min, long long max, long long *out);
static void fuzz_param(const char *query, const char *name, size_t out_size);

/* Segments are split on '&'; a segment's name ends at its first '='. */
static struct fuzz_model
fuzz_query_model(const char *q, const char *name)
{
	struct fuzz_model m = {0, 0, NULL};
	size_t nlen = strlen(name);
	const char *p = q;

	while (*p != '\0') {
		size_t seg = strcspn(p, "&");
		size_t key = strcspn(p, "=&");

		if (key == nlen && memcmp(p, name, nlen) == 0) {
			if (m.found++ == 0) {
				m.value = key < seg ? p + key + 1 : p + key;
				m.vlen = key < seg ? seg - key - 1 : 0;
			}
		}
		p += seg;
		if (*p == '&')
			p++;
	}
	return m;
}

/* Decimal digits after an optional '-', evaluated without overflow. */
static bool
fuzz_ll_model(const char *text, long long min, long long max, long long *out)
{
	const char *p = text;
	bool neg = *p == '-';
	__int128 v = 0;

	if (neg)
		p++;
	if (*p == '\0')
		return false;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return false;
		if (v < ((__int128)1 << 80))
			v = v * 10 + (*p - '0');
	}
	if (neg)
		v = -v;
	if (v < min || v > max)
		return false;
	*out = (long long)v;
	return true;
}

static void
fuzz_param(const char *query, const char *name, size_t out_size)
{
	char out[HTTP_QUERY_SIZE_MAX + 2];
	struct fuzz_model m = fuzz_query_model(query, name);
	long long got = 0, want = 0;
	bool ok_got, ok_want;
	int rc;

	FUZZ_CHECK(out_size >= 1 && out_size <= sizeof(out) - 1, "size");
	/* A canary right after the room we give. */
	out[out_size] = 0x5a;
	rc = http_query_get(query, name, out, out_size);
	FUZZ_CHECK(out[out_size] == 0x5a, "wrote past out_size %zu", out_size);
	if (m.found == 0) {
		FUZZ_CHECK(rc == 0, "\"%s\" absent from \"%s\", rc %d", name,
		    query, rc);
		return;
	}
	if (m.found > 1 || m.vlen >= out_size) {
		FUZZ_CHECK(rc == -1,
		    "\"%s\" in \"%s\": %d times, value %zu "
		    "bytes, out %zu: rc %d",
		    name, query, m.found, m.vlen, out_size, rc);
		return;
	}
	FUZZ_CHECK(rc == 1, "\"%s\" in \"%s\": rc %d", name, query, rc);
	FUZZ_CHECK(strlen(out) == m.vlen && memcmp(out, m.value, m.vlen) == 0,
	    "\"%s\" in \"%s\": got \"%s\"", name, query, out);

	/* The value as a number, in the ranges GET /transactions uses. */
	ok_got = util_parse_ll(
	             out, TXN_PAGE_LIMIT_MIN, TXN_PAGE_LIMIT_MAX, &got) == 0;
	ok_want =
	    fuzz_ll_model(out, TXN_PAGE_LIMIT_MIN, TXN_PAGE_LIMIT_MAX, &want);
	FUZZ_CHECK(ok_got == ok_want && (!ok_got || got == want),
	    "limit \"%s\": parse %d %lld, model %d %lld", out, ok_got, got,
	    ok_want, want);
	ok_got = util_parse_ll(out, 1, INT64_MAX, &got) == 0;
	ok_want = fuzz_ll_model(out, 1, INT64_MAX, &want);
	FUZZ_CHECK(ok_got == ok_want && (!ok_got || got == want),
	    "before \"%s\": parse %d %lld, model %d %lld", out, ok_got, got,
	    ok_want, want);
	ok_got = util_parse_ll(out, INT64_MIN, INT64_MAX, &got) == 0;
	ok_want = fuzz_ll_model(out, INT64_MIN, INT64_MAX, &want);
	FUZZ_CHECK(ok_got == ok_want && (!ok_got || got == want),
	    "full range \"%s\": parse %d %lld, model %d %lld", out, ok_got, got,
	    ok_want, want);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char query[HTTP_QUERY_SIZE_MAX * 2];
	char name[16];
	size_t pick, out_size, used = 2;

	if (size < 2)
		return 0;
	pick = data[0] % (sizeof(fuzz_names) / sizeof(fuzz_names[0]));
	out_size = (size_t)data[1] % 40 + 1;
	if (data[1] >= 0xf0)
		out_size = HTTP_QUERY_SIZE_MAX + 1;
	if (fuzz_names[pick][0] != '\0') {
		(void)snprintf(name, sizeof(name), "%s", fuzz_names[pick]);
	} else {
		/* A name from the input: up to its first '=', '&' or NUL. */
		size_t n = 0;

		while (used < size && n + 1 < sizeof(name) &&
		       data[used] != '=' && data[used] != '&' &&
		       data[used] != 0)
			name[n++] = (char)data[used++];
		name[n] = '\0';
		if (n == 0)
			return 0;
	}
	(void)fuzz_cstr(query, sizeof(query), data + used, size - used);
	fuzz_param(query, name, out_size);
	/* What h_transactions reads, in its TXN_PARAM_SIZE_MAX (24). */
	fuzz_param(query, "limit", 24);
	fuzz_param(query, "before", 24);
	return 0;
}
