/*
 * Goal: content types and query strings are read exactly as the contract
 * says, and error bodies have the contract's shape.
 */
#include <check.h>
#include <string.h>

#include "http.h"

Suite *http_suite(void);

START_TEST(test_http_is_json__with_charset__accepted)
{
	ck_assert(http_is_json("application/json"));
	ck_assert(http_is_json("application/json; charset=utf-8"));
	ck_assert(http_is_json("Application/JSON;charset=UTF-8"));
}
END_TEST

START_TEST(test_http_is_json__other_types__rejected)
{
	ck_assert(!http_is_json(NULL));
	ck_assert(!http_is_json("text/plain"));
	ck_assert(!http_is_json("application/jsonx"));
	ck_assert(!http_is_json("application/x-www-form-urlencoded"));
}
END_TEST

START_TEST(test_http_query_get__present_absent_duplicate)
{
	char v[8];

	ck_assert_int_eq(
	    http_query_get("limit=5&before=9", "before", v, sizeof(v)), 1);
	ck_assert_str_eq(v, "9");
	ck_assert_int_eq(http_query_get("limit=5", "before", v, sizeof(v)), 0);
	ck_assert_int_eq(
	    http_query_get("limit=5&limit=6", "limit", v, sizeof(v)), -1);
	ck_assert_int_eq(http_query_get("xlimit=5", "limit", v, sizeof(v)), 0);
}
END_TEST

START_TEST(test_http_query_get__value_too_long__rejected)
{
	char v[4];

	ck_assert_int_eq(http_query_get("limit=123", "limit", v, sizeof(v)), 1);
	ck_assert_int_eq(
	    http_query_get("limit=1234", "limit", v, sizeof(v)), -1);
}
END_TEST

/* nginx's $msec, as fastcgi.conf passes it in REQUEST_START. */
START_TEST(test_http_parse_msec__nginx_msec__ms_or_0)
{
	ck_assert_int_eq(http_parse_msec("1733300000.123"), 1733300000123LL);
	ck_assert_int_eq(http_parse_msec("0.001"), 1);
	ck_assert_int_eq(
	    http_parse_msec("999999999999.999"), 999999999999999LL);
	ck_assert_int_eq(http_parse_msec(NULL), 0);
	ck_assert_int_eq(http_parse_msec(""), 0);
	ck_assert_int_eq(http_parse_msec("1733300000"), 0);
	ck_assert_int_eq(http_parse_msec("1733300000.12"), 0);
	ck_assert_int_eq(http_parse_msec("1733300000.1234"), 0);
	ck_assert_int_eq(http_parse_msec(".123"), 0);
	ck_assert_int_eq(http_parse_msec("-1.000"), 0);
	ck_assert_int_eq(http_parse_msec("1e9.000"), 0);
	ck_assert_int_eq(http_parse_msec("1000000000000.000"), 0);
}
END_TEST

START_TEST(test_http_error__shape_and_headers)
{
	char store[512];
	struct http_resp r;

	http_resp_init(&r, store, sizeof(store));
	http_error(&r, API_UNAUTHORIZED, NULL);
	ck_assert_int_eq(r.status, 401);
	ck_assert_ptr_nonnull(strstr(r.body.data,
	    "{\"error\":{\"code\":\"unauthorized\",\"message\":\""));
	ck_assert_int_eq(r.header_count, 1);
	ck_assert_str_eq(r.headers[0], "WWW-Authenticate: Bearer\r\n");
}
END_TEST

START_TEST(test_http_accepts_csv__ranges__only_text_csv)
{
	ck_assert(http_accepts_csv("text/csv"));
	ck_assert(http_accepts_csv("TEXT/CSV; charset=utf-8"));
	ck_assert(http_accepts_csv("application/json, text/csv;q=0.9"));
	ck_assert(!http_accepts_csv(NULL));
	ck_assert(!http_accepts_csv(""));
	ck_assert(!http_accepts_csv("*/*"));
	ck_assert(!http_accepts_csv("application/json"));
	ck_assert(!http_accepts_csv("text/csvx"));
}
END_TEST

START_TEST(test_http_body_size_max__batch_path__128k_else_16k)
{
	ck_assert_uint_eq(
	    http_body_size_max("/transfers/batch"), HTTP_BATCH_BODY_SIZE_MAX);
	ck_assert_uint_eq(HTTP_BATCH_BODY_SIZE_MAX, 128 * 1024);
	ck_assert_uint_eq(http_body_size_max("/transfer"), HTTP_BODY_SIZE_MAX);
	ck_assert_uint_eq(
	    http_body_size_max("/transfers/batch/"), HTTP_BODY_SIZE_MAX);
}
END_TEST

Suite *
http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("http_is_json");

	tcase_add_test(tc, test_http_is_json__with_charset__accepted);
	tcase_add_test(tc, test_http_is_json__other_types__rejected);
	suite_add_tcase(s, tc);
	tc = tcase_create("http_query_get");
	tcase_add_test(tc, test_http_query_get__present_absent_duplicate);
	tcase_add_test(tc, test_http_query_get__value_too_long__rejected);
	suite_add_tcase(s, tc);
	tc = tcase_create("http_error");
	tcase_add_test(tc, test_http_error__shape_and_headers);
	tcase_add_test(tc, test_http_parse_msec__nginx_msec__ms_or_0);
	suite_add_tcase(s, tc);
	tc = tcase_create("http_accepts_csv");
	tcase_add_test(tc, test_http_accepts_csv__ranges__only_text_csv);
	tcase_add_test(tc, test_http_body_size_max__batch_path__128k_else_16k);
	suite_add_tcase(s, tc);
	return s;
}
