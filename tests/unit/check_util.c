/*
 * Goal: util_parse_time() reads exactly RFC 3339 date-times (section
 * 5.6) into the right second, refusing anything else, and
 * util_format_sql_time() writes what MariaDB reads, within DATETIME's range.
 */
#include <check.h>
#include <stdint.h>

#include "suites.h"
#include "util.h"

Suite *util_suite(void);

START_TEST(test_util_parse_time__valid__unix_second)
{
	int64_t t = 0;
	bool frac = true;

	ck_assert_int_eq(util_parse_time("2026-11-26T03:15:49Z", &t, &frac), 0);
	ck_assert_int_eq(t, 1795662949);
	ck_assert(!frac);
	ck_assert_int_eq(util_parse_time("1970-01-01T00:00:00Z", &t, &frac), 0);
	ck_assert_int_eq(t, 0);
	/* An offset, a fraction, lower-case letters: the same instant. */
	ck_assert_int_eq(
	    util_parse_time("2026-11-26t04:15:49.5+01:00", &t, &frac), 0);
	ck_assert_int_eq(t, 1795662949);
	ck_assert(frac);
	ck_assert_int_eq(
	    util_parse_time("2026-11-25T23:45:49.000-03:30z", &t, &frac), -1);
	ck_assert_int_eq(
	    util_parse_time("2026-11-25T23:45:49.000-03:30", &t, &frac), 0);
	ck_assert_int_eq(t, 1795662949);
	ck_assert(!frac);
	/* Leap days exist in leap years only; a leap second is allowed. */
	ck_assert_int_eq(util_parse_time("2024-02-29T00:00:00Z", &t, &frac), 0);
	ck_assert_int_eq(t, 1709164800);
	ck_assert_int_eq(util_parse_time("2016-12-31T23:59:60Z", &t, &frac), 0);
	ck_assert_int_eq(t, 1483228800);
	/* Nine fractional digits is the most. */
	ck_assert_int_eq(
	    util_parse_time("2026-01-01T00:00:00.123456789Z", &t, &frac), 0);
	ck_assert_int_eq(
	    util_parse_time("2026-01-01T00:00:00.1234567890Z", &t, &frac), -1);
}
END_TEST

START_TEST(test_util_parse_time__malformed__refused)
{
	static const char *const bad[] = {"", "2026", "2026-11-26",
	    "2026-11-26T03:15:49", "2026-11-26 03:15:49Z", "2026-11-26T03:15Z",
	    "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
	    "2026-04-31T00:00:00Z", "2025-02-29T00:00:00Z",
	    "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z",
	    "2026-01-01T00:00:61Z", "2026-01-01T00:00:00.Z",
	    "2026-01-01T00:00:00+01", "2026-01-01T00:00:00+0100",
	    "2026-01-01T00:00:00+24:00", "+2026-01-01T00:00:00Z",
	    "2026-01-01T00:00:00Z ", "2026-1-01T00:00:00Z",
	    "２026-01-01T00:00:00Z"};
	int64_t t;
	bool frac;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(util_parse_time(bad[i], &t, &frac) == -1,
		    "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(test_util_format_sql_time__range__clamped)
{
	char out[UTIL_SQL_TIME_SIZE];

	util_format_sql_time(out, 1795662949);
	ck_assert_str_eq(out, "2026-11-26 03:15:49");
	util_format_sql_time(out, -40000000000LL);
	ck_assert_str_eq(out, "1000-01-01 00:00:00");
	util_format_sql_time(out, 300000000000LL);
	ck_assert_str_eq(out, "9999-12-31 23:59:59");
}
END_TEST

Suite *
util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("util_parse_time");

	tcase_add_test(tc, test_util_parse_time__valid__unix_second);
	tcase_add_test(tc, test_util_parse_time__malformed__refused);
	tcase_add_test(tc, test_util_format_sql_time__range__clamped);
	suite_add_tcase(s, tc);
	return s;
}
