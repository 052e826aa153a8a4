/*
 * Goal: a fixed buffer never overflows and never truncates silently.
 */
#include <check.h>
#include <string.h>

#include "buf.h"

Suite *buf_suite(void);

START_TEST(test_buf_append__exact_fit__accepted)
{
	char store[4];
	struct buf b;

	buf_init(&b, store, sizeof(store));
	ck_assert_int_eq(buf_puts(&b, "abc"), 0);
	ck_assert_str_eq(b.data, "abc");
	ck_assert(!b.overflow);
}
END_TEST

START_TEST(test_buf_append__one_over__rejected_and_sticky)
{
	char store[4];
	struct buf b;

	buf_init(&b, store, sizeof(store));
	ck_assert_int_eq(buf_puts(&b, "abcd"), -1);
	ck_assert(b.overflow);
	ck_assert_str_eq(b.data, "");
	ck_assert_int_eq(buf_puts(&b, "a"), -1);
}
END_TEST

START_TEST(test_buf_printf__too_long__rejected)
{
	char store[8];
	struct buf b;

	buf_init(&b, store, sizeof(store));
	ck_assert_int_eq(buf_printf(&b, "%d", 1234567), 0);
	ck_assert_int_eq(buf_printf(&b, "%d", 1), -1);
	ck_assert_str_eq(b.data, "1234567");
}
END_TEST

START_TEST(test_buf_json_str__controls_and_quotes__escaped)
{
	char store[64];
	struct buf b;

	buf_init(&b, store, sizeof(store));
	ck_assert_int_eq(buf_json_str(&b, "a\"b\\c\n<"), 0);
	ck_assert_str_eq(b.data, "\"a\\\"b\\\\c\\u000a<\"");
}
END_TEST

Suite *
buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("buf_append");

	tcase_add_test(tc, test_buf_append__exact_fit__accepted);
	tcase_add_test(tc, test_buf_append__one_over__rejected_and_sticky);
	suite_add_tcase(s, tc);
	tc = tcase_create("buf_printf");
	tcase_add_test(tc, test_buf_printf__too_long__rejected);
	suite_add_tcase(s, tc);
	tc = tcase_create("buf_json_str");
	tcase_add_test(tc, test_buf_json_str__controls_and_quotes__escaped);
	suite_add_tcase(s, tc);
	return s;
}
