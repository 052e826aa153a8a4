/*
 * Money: parsing from literal text, formatting, and integer arithmetic that
 * reports overflow instead of wrapping [SQLite sqlite3AddInt64].
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "money.h"

_Static_assert(MONEY_SCALE == 100, "two fractional digits are cents");
_Static_assert(MONEY_BPS_MAX == MONEY_BPS_DENOMINATOR,
    "the largest fee rate is 100 % of the amount");

static const char money_digits[] = "0123456789";

static enum money_rc money_div_round_half_up(
    int64_t num, int64_t den, int64_t *out);
static enum money_rc money_accumulate(int64_t *v, const char *digits, size_t n);

enum money_rc
money_add(int64_t a, int64_t b, int64_t *out)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return MONEY_OVERFLOW;
	*out = r;
	return MONEY_OK;
}

enum money_rc
money_sub(int64_t a, int64_t b, int64_t *out)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return MONEY_OVERFLOW;
	*out = r;
	return MONEY_OK;
}

enum money_rc
money_mul(int64_t a, int64_t b, int64_t *out)
{
	int64_t r;

	if (__builtin_mul_overflow(a, b, &r))
		return MONEY_OVERFLOW;
	*out = r;
	return MONEY_OK;
}

/*
 * num / den for num >= 0 and den > 0, a remainder of half den or more
 * rounding up. Comparing the remainder, rather than adding den / 2 to num
 * first, cannot overflow.
 */
static enum money_rc
money_div_round_half_up(int64_t num, int64_t den, int64_t *out)
{
	int64_t q, r;

	assert(num >= 0);
	assert(den > 0);
	q = num / den;
	r = num % den;
	if (r >= den - r && money_add(q, 1, &q) != MONEY_OK)
		return MONEY_OVERFLOW;
	*out = q;
	return MONEY_OK;
}

/* *v = *v * 10^n + the value of the n decimal digits at digits. */
static enum money_rc
money_accumulate(int64_t *v, const char *digits, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert(digits[i] >= '0' && digits[i] <= '9');
		if (money_mul(*v, 10, v) != MONEY_OK ||
		    money_add(*v, digits[i] - '0', v) != MONEY_OK)
			return MONEY_OVERFLOW;
	}
	return MONEY_OK;
}

enum money_rc
money_parse(const char *text, int64_t *out_minor)
{
	const char *frac = "";
	size_t n_int, n_frac = 0;
	int64_t v = 0;

	assert(text != NULL);
	/* Longer than any valid amount: do not even scan it. */
	if (strnlen(text, MONEY_LITERAL_LEN_MAX + 1) > MONEY_LITERAL_LEN_MAX)
		return MONEY_SYNTAX;
	/* Empty, a sign, a space, a leading point, "NaN", "Infinity". */
	n_int = strspn(text, money_digits);
	if (n_int == 0)
		return MONEY_SYNTAX;
	/* One spelling per amount, as in JSON numbers: "0.5", not "00.5". */
	if (n_int > 1 && text[0] == '0')
		return MONEY_SYNTAX;
	if (text[n_int] == '.') {
		frac = text + n_int + 1;
		n_frac = strspn(frac, money_digits);
		/* "5." and "1.005" are not amounts. */
		if (n_frac == 0 || n_frac > MONEY_FRAC_DIGITS_MAX)
			return MONEY_SYNTAX;
		if (frac[n_frac] != '\0')
			return MONEY_SYNTAX;
	} else if (text[n_int] != '\0') {
		return MONEY_SYNTAX; /* an exponent, a space, anything else */
	}
	if (money_accumulate(&v, text, n_int) != MONEY_OK ||
	    money_accumulate(&v, frac, n_frac) != MONEY_OK)
		return MONEY_RANGE;
	/* Scale what was read to cents: "12.5" is 125 so far, want 1250. */
	for (size_t i = n_frac; i < MONEY_FRAC_DIGITS_MAX; i++) {
		if (money_mul(v, 10, &v) != MONEY_OK)
			return MONEY_RANGE;
	}
	if (v <= 0 || v > MONEY_AMOUNT_MAX_MINOR)
		return MONEY_RANGE;
	assert(v > 0 && v <= MONEY_AMOUNT_MAX_MINOR);
	*out_minor = v;
	return MONEY_OK;
}

void
money_format(int64_t minor, char out[MONEY_TEXT_SIZE_MAX])
{
	/* The magnitude in unsigned arithmetic, so INT64_MIN works too. */
	uint64_t mag =
	    minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
	int n;

	n = snprintf(out, MONEY_TEXT_SIZE_MAX, "%s%" PRIu64 ".%02" PRIu64,
	    minor < 0 ? "-" : "", mag / MONEY_SCALE, mag % MONEY_SCALE);
	/* At most "-92233720368547758.08": 21 bytes, always fits. */
	assert(n > 0 && n < MONEY_TEXT_SIZE_MAX);
}

enum money_rc
money_fee(
    int64_t amount_minor, int64_t fixed_minor, int bps, int64_t *fee_minor)
{
	int64_t part, fee;

	assert(amount_minor >= 0 && fixed_minor >= 0);
	assert(bps >= 0 && bps <= MONEY_BPS_MAX);
	if (money_mul(amount_minor, bps, &part) != MONEY_OK)
		return MONEY_OVERFLOW;
	if (money_div_round_half_up(part, MONEY_BPS_DENOMINATOR, &part) !=
	    MONEY_OK)
		return MONEY_OVERFLOW;
	if (money_add(fixed_minor, part, &fee) != MONEY_OK)
		return MONEY_OVERFLOW;
	/* The rate part never exceeds the amount; the fee never shrinks. */
	assert(part <= amount_minor);
	assert(fee >= fixed_minor);
	*fee_minor = fee;
	return MONEY_OK;
}
