/*
 * Goal: only a JSON object is a request body, fields are typed, and an
 * amount's literal text survives exactly as sent.
 */
#include <check.h>
#include <string.h>

#include "jsonio.h"

Suite *jsonio_suite(void);

static struct json_object *
parse(const char *s)
{
	return jsonio_parse_object(s, strlen(s));
}

START_TEST(test_jsonio_parse_object__non_objects__rejected)
{
	ck_assert_ptr_null(parse("[]"));
	ck_assert_ptr_null(parse("\"x\""));
	ck_assert_ptr_null(parse("{\"a\":1"));
	ck_assert_ptr_null(parse("{\"a\":1} x"));
	ck_assert_ptr_null(parse(""));
}
END_TEST

/* RFC 8259 §7; json-c's strict mode alone lets raw controls through. */
START_TEST(test_jsonio_parse_object__raw_control_in_string__rejected)
{
	struct json_object *o = parse("{\"a\":\"x\\u0001\\t\\\"y\"}\t");

	ck_assert_ptr_nonnull(o);
	json_object_put(o);
	ck_assert_ptr_null(parse("{\"a\":\"x\001y\"}"));
	ck_assert_ptr_null(parse("{\"a\":\"x\ty\"}"));
	ck_assert_ptr_null(parse("{\"a\":\"\\\"\n\"}"));
	ck_assert_ptr_null(parse("{\"a\x1f\":1}"));
}
END_TEST

/* RFC 3629; json-c's own check lets these through. */
START_TEST(test_jsonio_parse_object__bad_utf8__rejected)
{
	struct json_object *o =
	    parse("{\"a\":\"\xc3\xa9\xe2\x82\xac"
	          "\xed\x9f\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"}");

	ck_assert_ptr_nonnull(o);
	json_object_put(o);
	ck_assert_ptr_null(parse("{\"a\":\"\xc0\xaf\"}"));
	ck_assert_ptr_null(parse("{\"a\":\"\xe0\x80\xaf\"}"));
	ck_assert_ptr_null(parse("{\"a\":\"\xed\xa0\x80\"}"));
	ck_assert_ptr_null(parse("{\"a\":\"\xf4\x90\x80\x80\"}"));
	ck_assert_ptr_null(parse("{\"a\":\"\xf5\x80\x80\x80\"}"));
	ck_assert_ptr_null(parse("{\"a\":\"\xe2\x82\"}"));
}
END_TEST

START_TEST(test_jsonio_get_amount_text__literals__kept)
{
	struct json_object *o =
	    parse("{\"a\":12.50,\"b\":\"7.1\",\"c\":1e3,"
	          "\"d\":null,\"e\":true,\"f\":12,\"g\":[1]}");
	char t[32];

	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(
	    jsonio_get_amount_text(o, "a", t, sizeof(t)), JSONIO_OK);
	ck_assert_str_eq(t, "12.50");
	ck_assert_int_eq(
	    jsonio_get_amount_text(o, "b", t, sizeof(t)), JSONIO_OK);
	ck_assert_str_eq(t, "7.1");
	ck_assert_int_eq(
	    jsonio_get_amount_text(o, "c", t, sizeof(t)), JSONIO_OK);
	ck_assert_str_eq(t, "1e3");
	ck_assert_int_eq(
	    jsonio_get_amount_text(o, "f", t, sizeof(t)), JSONIO_OK);
	ck_assert_str_eq(t, "12");
	ck_assert_int_eq(
	    jsonio_get_amount_text(o, "d", t, sizeof(t)), JSONIO_NULL);
	ck_assert_int_eq(
	    jsonio_get_amount_text(o, "e", t, sizeof(t)), JSONIO_TYPE);
	ck_assert_int_eq(
	    jsonio_get_amount_text(o, "g", t, sizeof(t)), JSONIO_TYPE);
	ck_assert_int_eq(
	    jsonio_get_amount_text(o, "zz", t, sizeof(t)), JSONIO_MISSING);
	json_object_put(o);
}
END_TEST

START_TEST(test_jsonio_get_i64__range_and_type)
{
	struct json_object *o = parse("{\"a\":7,\"b\":\"7\",\"c\":7.0,"
	                              "\"d\":99999999999999999999}");
	int64_t v;

	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(jsonio_get_i64(o, "a", 1, 10, &v), JSONIO_OK);
	ck_assert_int_eq(v, 7);
	ck_assert_int_eq(jsonio_get_i64(o, "a", 8, 10, &v), JSONIO_RANGE);
	ck_assert_int_eq(jsonio_get_i64(o, "b", 1, 10, &v), JSONIO_TYPE);
	ck_assert_int_eq(jsonio_get_i64(o, "c", 1, 10, &v), JSONIO_TYPE);
	ck_assert_int_eq(
	    jsonio_get_i64(o, "d", 1, INT64_MAX - 1, &v), JSONIO_RANGE);
	json_object_put(o);
}
END_TEST

Suite *
jsonio_suite(void)
{
	Suite *s = suite_create("jsonio");
	TCase *tc = tcase_create("jsonio_parse_object");

	tcase_add_test(tc, test_jsonio_parse_object__non_objects__rejected);
	tcase_add_test(
	    tc, test_jsonio_parse_object__raw_control_in_string__rejected);
	tcase_add_test(tc, test_jsonio_parse_object__bad_utf8__rejected);
	suite_add_tcase(s, tc);
	tc = tcase_create("jsonio_get_amount_text");
	tcase_add_test(tc, test_jsonio_get_amount_text__literals__kept);
	suite_add_tcase(s, tc);
	tc = tcase_create("jsonio_get_i64");
	tcase_add_test(tc, test_jsonio_get_i64__range_and_type);
	suite_add_tcase(s, tc);
	return s;
}
