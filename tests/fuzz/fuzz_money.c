/*
 * Goal: amounts are read and computed exactly (API.md Conventions, STYLE.md
 * Money). Byte 0 picks what is tested; the rest is its input.
 *  0, 1: money_parse() of the rest as text. It accepts exactly the
 *     grammar (0|[1-9][0-9]*)(.[0-9]{1,2})? with a value in
 *     (0, 1000000000.00], by a model that compares digit strings and never
 *     computes; an accepted amount formats with money_format() back to the
 *     same decimal (the input with its fraction padded to two digits), and
 *     that text parses to the same amount again. A refusal leaves the
 *     output untouched and says MONEY_SYNTAX or MONEY_RANGE as the model
 *     does.
 *  2: money_add/sub/mul of two int64_t against 128-bit arithmetic: the
 *     exact result, or MONEY_OVERFLOW with the output untouched.
 *  3: money_fee() against 128-bit arithmetic: fixed + bps/10000 of the
 *     amount rounded half up, for amounts and rates in their ranges.
 *  4: money_format() of any int64_t reads back to the same value.
 */
#include <stdbool.h>
#include <string.h>

#include "bounds.h"
#include "fuzz.h"
#include "money.h"

#define FUZZ_UNTOUCHED ((int64_t)0x5a5a5a5a5a5a5a5a)

static int64_t fuzz_i64(const uint8_t *p);
static enum money_rc fuzz_parse_model(const char *t, char norm[64]);
static void fuzz_parse(const uint8_t *data, size_t size);
static void fuzz_arith(const uint8_t *data, size_t size);
static void fuzz_fee(const uint8_t *data, size_t size);
static void fuzz_format(const uint8_t *data, size_t size);

static int64_t
fuzz_i64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return (int64_t)v;
}

/*
 * The grammar of API.md, by hand. On MONEY_OK, norm is the amount as
 * money_format() must write it: the integer part, '.', two digits.
 */
static enum money_rc
fuzz_parse_model(const char *t, char norm[64])
{
	static const char max[] = "1000000000.00";
	size_t n_int = 0, n_frac = 0, len = strlen(t);
	const char *frac;
	bool zero = true;
	int w;

	if (len > MONEY_LITERAL_LEN_MAX)
		return MONEY_SYNTAX;
	while (t[n_int] >= '0' && t[n_int] <= '9')
		n_int++;
	if (n_int == 0 || (n_int > 1 && t[0] == '0'))
		return MONEY_SYNTAX;
	frac = t + n_int;
	if (*frac == '.') {
		frac++;
		while (frac[n_frac] >= '0' && frac[n_frac] <= '9')
			n_frac++;
		if (n_frac == 0 || n_frac > 2 || frac[n_frac] != '\0')
			return MONEY_SYNTAX;
	} else if (*frac != '\0') {
		return MONEY_SYNTAX;
	}
	for (size_t i = 0; i < len; i++)
		zero = zero && (t[i] == '0' || t[i] == '.');
	if (zero || n_int > 10)
		return MONEY_RANGE;
	w = snprintf(norm, 64, "%.*s.%c%c", (int)n_int, t,
	    n_frac > 0 ? frac[0] : '0', n_frac > 1 ? frac[1] : '0');
	FUZZ_CHECK(w > 0 && w < 64, "snprintf");
	/* Same number of integer digits: compare as strings. */
	if (n_int == 10 && strcmp(norm, max) > 0)
		return MONEY_RANGE;
	return MONEY_OK;
}

static void
fuzz_parse(const uint8_t *data, size_t size)
{
	char text[64], norm[64], out[MONEY_TEXT_SIZE_MAX];
	int64_t v = FUZZ_UNTOUCHED, again = FUZZ_UNTOUCHED;
	enum money_rc got, want;

	(void)fuzz_cstr(text, sizeof(text), data, size);
	got = money_parse(text, &v);
	want = fuzz_parse_model(text, norm);
	FUZZ_CHECK(
	    got == want, "\"%s\": money_parse %d, model %d", text, got, want);
	if (got != MONEY_OK) {
		FUZZ_CHECK(v == FUZZ_UNTOUCHED, "\"%s\": output written", text);
		return;
	}
	FUZZ_CHECK(v > 0 && v <= MONEY_AMOUNT_MAX_MINOR, "\"%s\": %lld", text,
	    (long long)v);
	money_format(v, out);
	FUZZ_CHECK(strcmp(out, norm) == 0,
	    "\"%s\" formats as \"%s\", want "
	    "\"%s\"",
	    text, out, norm);
	FUZZ_CHECK(money_parse(out, &again) == MONEY_OK && again == v,
	    "\"%s\" does not read back", out);
}

static void
fuzz_arith(const uint8_t *data, size_t size)
{
	int64_t a, b, r;
	__int128 x;

	if (size < 16)
		return;
	a = fuzz_i64(data);
	b = fuzz_i64(data + 8);

	r = FUZZ_UNTOUCHED;
	x = (__int128)a + b;
	if (x >= INT64_MIN && x <= INT64_MAX)
		FUZZ_CHECK(money_add(a, b, &r) == MONEY_OK && r == x,
		    "add %lld %lld", (long long)a, (long long)b);
	else
		FUZZ_CHECK(money_add(a, b, &r) == MONEY_OVERFLOW &&
		               r == FUZZ_UNTOUCHED,
		    "add %lld %lld", (long long)a, (long long)b);

	r = FUZZ_UNTOUCHED;
	x = (__int128)a - b;
	if (x >= INT64_MIN && x <= INT64_MAX)
		FUZZ_CHECK(money_sub(a, b, &r) == MONEY_OK && r == x,
		    "sub %lld %lld", (long long)a, (long long)b);
	else
		FUZZ_CHECK(money_sub(a, b, &r) == MONEY_OVERFLOW &&
		               r == FUZZ_UNTOUCHED,
		    "sub %lld %lld", (long long)a, (long long)b);

	r = FUZZ_UNTOUCHED;
	x = (__int128)a * b;
	if (x >= INT64_MIN && x <= INT64_MAX)
		FUZZ_CHECK(money_mul(a, b, &r) == MONEY_OK && r == x,
		    "mul %lld %lld", (long long)a, (long long)b);
	else
		FUZZ_CHECK(money_mul(a, b, &r) == MONEY_OVERFLOW &&
		               r == FUZZ_UNTOUCHED,
		    "mul %lld %lld", (long long)a, (long long)b);
}

static void
fuzz_fee(const uint8_t *data, size_t size)
{
	int64_t amount, fixed, fee = FUZZ_UNTOUCHED;
	__int128 part, want;
	int bps;
	enum money_rc rc;

	if (size < 18)
		return;
	/* Half of the time in the API's ranges, else anywhere >= 0. */
	amount = fuzz_i64(data) & INT64_MAX;
	fixed = fuzz_i64(data + 8) & INT64_MAX;
	if (data[16] & 1) {
		amount %= MONEY_AMOUNT_MAX_MINOR + 1;
		fixed %= MONEY_AMOUNT_MAX_MINOR + 1;
	}
	bps = (int)((unsigned)data[17] * 41 % (MONEY_BPS_MAX + 1));
	if (data[16] & 2)
		bps = data[16] & 4 ? MONEY_BPS_MAX : 0;
	part = ((__int128)amount * bps + MONEY_BPS_MAX / 2) / MONEY_BPS_MAX;
	want = fixed + part;
	rc = money_fee(amount, fixed, bps, &fee);
	if ((__int128)amount * bps > INT64_MAX || want > INT64_MAX) {
		FUZZ_CHECK(rc == MONEY_OVERFLOW && fee == FUZZ_UNTOUCHED,
		    "fee %lld %lld %d: rc %d", (long long)amount,
		    (long long)fixed, bps, rc);
		return;
	}
	FUZZ_CHECK(rc == MONEY_OK && fee == want,
	    "fee %lld + %d bps of %lld:"
	    " %lld, want %lld",
	    (long long)fixed, bps, (long long)amount, (long long)fee,
	    (long long)want);
}

static void
fuzz_format(const uint8_t *data, size_t size)
{
	char out[MONEY_TEXT_SIZE_MAX];
	const char *p = out;
	int64_t v;
	__int128 back = 0;
	bool neg;
	size_t digits = 0;

	if (size < 8)
		return;
	v = fuzz_i64(data);
	memset(out, 0x5a, sizeof(out));
	money_format(v, out);
	FUZZ_CHECK(memchr(out, '\0', sizeof(out)) != NULL, "not terminated");
	neg = *p == '-';
	p += neg;
	for (; *p >= '0' && *p <= '9'; p++, digits++)
		back = back * 10 + (*p - '0');
	FUZZ_CHECK(digits >= 1 && (digits == 1 || out[neg] != '0') &&
	               p[0] == '.' && p[1] >= '0' && p[1] <= '9' &&
	               p[2] >= '0' && p[2] <= '9' && p[3] == '\0',
	    "%lld formats as \"%s\"", (long long)v, out);
	back = back * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	if (neg)
		back = -back;
	FUZZ_CHECK(back == v && (neg == (v < 0)), "%lld formats as \"%s\"",
	    (long long)v, out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0:
	case 1:
		fuzz_parse(data + 1, size - 1);
		break;
	case 2:
		fuzz_arith(data + 1, size - 1);
		break;
	case 3:
		fuzz_fee(data + 1, size - 1);
		break;
	default:
		fuzz_format(data + 1, size - 1);
		break;
	}
	return 0;
}
