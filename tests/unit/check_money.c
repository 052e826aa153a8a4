/*
 * Goal: an amount is read from its literal text exactly as API.md says,
 * every limit holds at its edge (maximum accepted, maximum plus one cent
 * rejected), and money arithmetic reports overflow instead of wrapping.
 */
#include <check.h>
#include <stdint.h>

#include "money.h"

Suite *money_suite(void);

/* money_parse's result for text, for short assertions. */
static enum money_rc
parse_rc(const char *text)
{
	int64_t v = -1;
	enum money_rc rc = money_parse(text, &v);

	/* A failed parse never writes its output. */
	if (rc != MONEY_OK)
		ck_assert_int_eq(v, -1);
	return rc;
}

static int64_t
parse_ok(const char *text)
{
	int64_t v = -1;

	ck_assert_msg(
	    money_parse(text, &v) == MONEY_OK, "\"%s\" refused", text);
	return v;
}

START_TEST(test_money_parse__valid_forms__minor_units)
{
	ck_assert_int_eq(parse_ok("12"), 1200);
	ck_assert_int_eq(parse_ok("12.5"), 1250);
	ck_assert_int_eq(parse_ok("12.50"), 1250);
	ck_assert_int_eq(parse_ok("12.05"), 1205);
	ck_assert_int_eq(parse_ok("0.5"), 50);
	ck_assert_int_eq(parse_ok("0.05"), 5);
	ck_assert_int_eq(parse_ok("10"), 1000);
	ck_assert_int_eq(parse_ok("1.0"), 100);
	ck_assert_int_eq(parse_ok("100.00"), 10000);
}
END_TEST

START_TEST(test_money_parse__minimum__accepted_and_zero_rejected)
{
	ck_assert_int_eq(parse_ok("0.01"), 1);
	ck_assert_int_eq(parse_rc("0"), MONEY_RANGE);
	ck_assert_int_eq(parse_rc("0.0"), MONEY_RANGE);
	ck_assert_int_eq(parse_rc("0.00"), MONEY_RANGE);
}
END_TEST

START_TEST(test_money_parse__maximum__accepted_plus_one_rejected)
{
	ck_assert_int_eq(parse_ok("1000000000.00"), MONEY_AMOUNT_MAX_MINOR);
	ck_assert_int_eq(parse_ok("1000000000"), MONEY_AMOUNT_MAX_MINOR);
	ck_assert_int_eq(parse_ok("999999999.99"), MONEY_AMOUNT_MAX_MINOR - 1);
	ck_assert_int_eq(parse_rc("1000000000.01"), MONEY_RANGE);
	ck_assert_int_eq(parse_rc("1000000001"), MONEY_RANGE);
	ck_assert_int_eq(parse_rc("99999999999999999999"), MONEY_RANGE);
	/* Digits enough to overflow int64_t: a range error, not a wrap. */
	ck_assert_int_eq(parse_rc("999999999999999999999999"), MONEY_RANGE);
}
END_TEST

START_TEST(test_money_parse__fraction_digits__at_most_two)
{
	ck_assert_int_eq(parse_rc("1.005"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("1.000"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("0.001"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc(".5"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("5."), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("."), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("1.2.3"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("1,50"), MONEY_SYNTAX);
}
END_TEST

START_TEST(test_money_parse__signs_and_exponents__rejected)
{
	ck_assert_int_eq(parse_rc("-1"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("-0.01"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("+1"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("1e3"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("1E3"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("1.5e2"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("0x10"), MONEY_SYNTAX);
}
END_TEST

START_TEST(test_money_parse__whitespace_anywhere__rejected)
{
	ck_assert_int_eq(parse_rc(" 1"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("1 "), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("1 0"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("1. 5"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("\t1"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("1\n"), MONEY_SYNTAX);
}
END_TEST

START_TEST(test_money_parse__non_numbers__rejected)
{
	ck_assert_int_eq(parse_rc(""), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("NaN"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("nan"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("Infinity"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("-Infinity"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("abc"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("12abc"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("\xc2\xa0"
	                          "1"),
	    MONEY_SYNTAX);
}
END_TEST

START_TEST(test_money_parse__leading_zeros__rejected)
{
	/* Documented choice: one spelling per amount, like a JSON number. */
	ck_assert_int_eq(parse_rc("007.5"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("00.5"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_rc("01"), MONEY_SYNTAX);
	ck_assert_int_eq(parse_ok("0.75"), 75);
}
END_TEST

START_TEST(test_money_parse__literal_length__bounded)
{
	/* 24 bytes is the longest literal read; 25 is refused unread. */
	ck_assert_int_eq(parse_rc("100000000000000000000.00"), MONEY_RANGE);
	ck_assert_int_eq(parse_rc("1000000000000000000000.00"), MONEY_SYNTAX);
}
END_TEST

START_TEST(test_money_format__values__two_decimals)
{
	char t[MONEY_TEXT_SIZE_MAX];

	money_format(1250, t);
	ck_assert_str_eq(t, "12.50");
	money_format(0, t);
	ck_assert_str_eq(t, "0.00");
	money_format(5, t);
	ck_assert_str_eq(t, "0.05");
	money_format(100, t);
	ck_assert_str_eq(t, "1.00");
	money_format(-75, t);
	ck_assert_str_eq(t, "-0.75");
	money_format(MONEY_AMOUNT_MAX_MINOR, t);
	ck_assert_str_eq(t, "1000000000.00");
	money_format(MONEY_BALANCE_MAX_MINOR, t);
	ck_assert_str_eq(t, "10000000000000.00");
}
END_TEST

START_TEST(test_money_format__int64_extremes__exact)
{
	char t[MONEY_TEXT_SIZE_MAX];

	money_format(INT64_MAX, t);
	ck_assert_str_eq(t, "92233720368547758.07");
	money_format(INT64_MIN, t);
	ck_assert_str_eq(t, "-92233720368547758.08");
}
END_TEST

START_TEST(test_money_format__parse__round_trip)
{
	static const int64_t v[] = {
	    1, 9, 10, 99, 100, 12345, 100000, MONEY_AMOUNT_MAX_MINOR};
	char t[MONEY_TEXT_SIZE_MAX];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		money_format(v[i], t);
		ck_assert_int_eq(parse_ok(t), v[i]);
	}
}
END_TEST

START_TEST(test_money_add__overflow__reported)
{
	int64_t r = 7;

	ck_assert_int_eq(money_add(2, 3, &r), MONEY_OK);
	ck_assert_int_eq(r, 5);
	ck_assert_int_eq(money_add(INT64_MAX - 1, 1, &r), MONEY_OK);
	ck_assert_int_eq(r, INT64_MAX);
	ck_assert_int_eq(money_add(INT64_MAX, 1, &r), MONEY_OVERFLOW);
	ck_assert_int_eq(r, INT64_MAX);
	ck_assert_int_eq(money_add(INT64_MIN, -1, &r), MONEY_OVERFLOW);
}
END_TEST

START_TEST(test_money_sub__overflow__reported)
{
	int64_t r = 7;

	ck_assert_int_eq(money_sub(2, 3, &r), MONEY_OK);
	ck_assert_int_eq(r, -1);
	ck_assert_int_eq(money_sub(INT64_MIN + 1, 1, &r), MONEY_OK);
	ck_assert_int_eq(r, INT64_MIN);
	ck_assert_int_eq(money_sub(INT64_MIN, 1, &r), MONEY_OVERFLOW);
	ck_assert_int_eq(r, INT64_MIN);
	ck_assert_int_eq(money_sub(0, INT64_MIN, &r), MONEY_OVERFLOW);
}
END_TEST

START_TEST(test_money_mul__overflow__reported)
{
	int64_t r = 7;

	ck_assert_int_eq(money_mul(6, 7, &r), MONEY_OK);
	ck_assert_int_eq(r, 42);
	ck_assert_int_eq(money_mul(INT64_MAX / 2, 2, &r), MONEY_OK);
	ck_assert_int_eq(r, INT64_MAX - 1);
	ck_assert_int_eq(money_mul(INT64_MAX / 2 + 1, 2, &r), MONEY_OVERFLOW);
	ck_assert_int_eq(r, INT64_MAX - 1);
	ck_assert_int_eq(money_mul(INT64_MIN, -1, &r), MONEY_OVERFLOW);
}
END_TEST

START_TEST(test_money_fee__default_flat__75)
{
	int64_t fee = -1;

	ck_assert_int_eq(money_fee(1000, 75, 0, &fee), MONEY_OK);
	ck_assert_int_eq(fee, 75);
	ck_assert_int_eq(money_fee(1, 75, 0, &fee), MONEY_OK);
	ck_assert_int_eq(fee, 75);
	ck_assert_int_eq(
	    money_fee(MONEY_AMOUNT_MAX_MINOR, 75, 0, &fee), MONEY_OK);
	ck_assert_int_eq(fee, 75);
	ck_assert_int_eq(money_fee(1000, 0, 0, &fee), MONEY_OK);
	ck_assert_int_eq(fee, 0);
}
END_TEST

START_TEST(test_money_fee__bps__rounded_half_up)
{
	int64_t fee = -1;

	/* 1.5 % of 10.00 is exactly 0.15. */
	ck_assert_int_eq(money_fee(1000, 0, 150, &fee), MONEY_OK);
	ck_assert_int_eq(fee, 15);
	/* 1 % of 0.50 is 0.005: half a cent rounds up to 0.01. */
	ck_assert_int_eq(money_fee(50, 0, 100, &fee), MONEY_OK);
	ck_assert_int_eq(fee, 1);
	/* 1 % of 0.49 is 0.0049: below half a cent rounds down to 0. */
	ck_assert_int_eq(money_fee(49, 0, 100, &fee), MONEY_OK);
	ck_assert_int_eq(fee, 0);
	/* 0.01 % of 49.99 is 0.004999: down; of 50.00 is 0.005: up. */
	ck_assert_int_eq(money_fee(4999, 0, 1, &fee), MONEY_OK);
	ck_assert_int_eq(fee, 0);
	ck_assert_int_eq(money_fee(5000, 0, 1, &fee), MONEY_OK);
	ck_assert_int_eq(fee, 1);
	/* Fixed plus rate: 0.75 + 2.5 % of 12.34 (0.3085 -> 0.31). */
	ck_assert_int_eq(money_fee(1234, 75, 250, &fee), MONEY_OK);
	ck_assert_int_eq(fee, 106);
}
END_TEST

START_TEST(test_money_fee__bps_maximum__whole_amount)
{
	int64_t fee = -1;

	ck_assert_int_eq(
	    money_fee(MONEY_AMOUNT_MAX_MINOR, 0, MONEY_BPS_MAX, &fee),
	    MONEY_OK);
	ck_assert_int_eq(fee, MONEY_AMOUNT_MAX_MINOR);
	ck_assert_int_eq(money_fee(0, 75, MONEY_BPS_MAX, &fee), MONEY_OK);
	ck_assert_int_eq(fee, 75);
}
END_TEST

START_TEST(test_money_fee__overflow__reported)
{
	int64_t fee = -1;

	/* The rate product overflows. */
	ck_assert_int_eq(money_fee(INT64_MAX, 0, 2, &fee), MONEY_OVERFLOW);
	ck_assert_int_eq(fee, -1);
	/* The fixed part plus the rate part overflows. */
	ck_assert_int_eq(money_fee(10000, INT64_MAX, 1, &fee), MONEY_OVERFLOW);
	ck_assert_int_eq(fee, -1);
	/* The fixed part alone at the very top still fits. */
	ck_assert_int_eq(money_fee(1, INT64_MAX, 1, &fee), MONEY_OK);
	ck_assert_int_eq(fee, INT64_MAX);
}
END_TEST

Suite *
money_suite(void)
{
	Suite *s = suite_create("money");
	TCase *tc = tcase_create("money_parse");

	tcase_add_test(tc, test_money_parse__valid_forms__minor_units);
	tcase_add_test(
	    tc, test_money_parse__minimum__accepted_and_zero_rejected);
	tcase_add_test(
	    tc, test_money_parse__maximum__accepted_plus_one_rejected);
	tcase_add_test(tc, test_money_parse__fraction_digits__at_most_two);
	tcase_add_test(tc, test_money_parse__signs_and_exponents__rejected);
	tcase_add_test(tc, test_money_parse__whitespace_anywhere__rejected);
	tcase_add_test(tc, test_money_parse__non_numbers__rejected);
	tcase_add_test(tc, test_money_parse__leading_zeros__rejected);
	tcase_add_test(tc, test_money_parse__literal_length__bounded);
	suite_add_tcase(s, tc);
	tc = tcase_create("money_format");
	tcase_add_test(tc, test_money_format__values__two_decimals);
	tcase_add_test(tc, test_money_format__int64_extremes__exact);
	tcase_add_test(tc, test_money_format__parse__round_trip);
	suite_add_tcase(s, tc);
	tc = tcase_create("money_add");
	tcase_add_test(tc, test_money_add__overflow__reported);
	suite_add_tcase(s, tc);
	tc = tcase_create("money_sub");
	tcase_add_test(tc, test_money_sub__overflow__reported);
	suite_add_tcase(s, tc);
	tc = tcase_create("money_mul");
	tcase_add_test(tc, test_money_mul__overflow__reported);
	suite_add_tcase(s, tc);
	tc = tcase_create("money_fee");
	tcase_add_test(tc, test_money_fee__default_flat__75);
	tcase_add_test(tc, test_money_fee__bps__rounded_half_up);
	tcase_add_test(tc, test_money_fee__bps_maximum__whole_amount);
	tcase_add_test(tc, test_money_fee__overflow__reported);
	suite_add_tcase(s, tc);
	return s;
}
