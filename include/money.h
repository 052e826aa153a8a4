/*
 * Money: amounts are int64_t minor units (cents, MONEY_SCALE per unit),
 * parsed from their literal text and never through a binary float
 * (API.md Conventions). All arithmetic on money goes through the
 * overflow-checked helpers below.
 */
#ifndef MONEY_H
#define MONEY_H

#include <stdint.h>

#include "bounds.h"

/* Outcomes of the money functions. */
enum money_rc {
	MONEY_OK,       /* done */
	MONEY_SYNTAX,   /* not a decimal amount as API.md writes it */
	MONEY_RANGE,    /* well formed, but zero or above the maximum */
	MONEY_OVERFLOW, /* the result does not fit in int64_t */
	MONEY_RC__MAX
};

/*
 * Parses the literal text of an amount (a JSON string's content or a JSON
 * number's text) into minor units. Accepted: digits, optionally a point and
 * one or two fractional digits ("12", "12.5", "12.50"). The integer part
 * has no leading zero unless it is the single digit "0" ("0.50" yes,
 * "007.5" and "00.5" no), as in JSON's own number grammar, so that an
 * amount has one spelling whether sent as a string or a number.
 * Returns MONEY_OK and sets *out_minor; MONEY_SYNTAX for a sign, an
 * exponent, whitespace anywhere, an empty text, a leading or trailing
 * point, more than two fractional digits, "NaN", "Infinity" or any other
 * byte; MONEY_RANGE for zero and for anything above MONEY_AMOUNT_MAX_MINOR.
 * *out_minor is untouched on failure.
 */
enum money_rc money_parse(const char *text, int64_t *out_minor);

/*
 * Writes minor as a decimal with exactly two fractional digits ("12.50",
 * "0.05", "-3.00") into out. Never fails: every int64_t fits.
 */
void money_format(int64_t minor, char out[MONEY_TEXT_SIZE_MAX]);

/*
 * *out = a + b, a - b, a * b. Return MONEY_OK, or MONEY_OVERFLOW with *out
 * untouched when the exact result does not fit in int64_t.
 */
enum money_rc money_add(int64_t a, int64_t b, int64_t *out);
enum money_rc money_sub(int64_t a, int64_t b, int64_t *out);
enum money_rc money_mul(int64_t a, int64_t b, int64_t *out);

/*
 * The transfer fee of amount_minor (API.md POST /transfer): fixed_minor
 * plus bps basis points of the amount, the latter rounded half up to the
 * cent, in integers only. amount_minor and fixed_minor must be >= 0 and
 * bps in [0, MONEY_BPS_MAX] (asserted). Returns MONEY_OK, or
 * MONEY_OVERFLOW with *fee_minor untouched.
 */
enum money_rc money_fee(
    int64_t amount_minor, int64_t fixed_minor, int bps, int64_t *fee_minor);

#endif /* MONEY_H */
