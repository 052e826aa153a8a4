/*
 * Goal: GET and POST /balance: the caller's balance, top-ups read back in their
 * own transaction, every refused amount, the cap.
 */
#include <ctype.h>
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "money_util.h"

Suite *balance_suite(void);

START_TEST(test_balance_get__new_user__zero_usd)
{
	struct user a;

	make_user(&a, "mb");
	ck_assert_int_eq(api("GET", "/balance", a.token, NULL, NULL, R), 0);
	ck_assert_int_eq(R->status, 200);
	ck_assert_str_eq(resp_str(R, "username"), a.name);
	ck_assert_str_eq(resp_str(R, "balance"), "0.00");
	ck_assert_str_eq(resp_str(R, "currency"), "USD");
}
END_TEST

START_TEST(test_balance__no_token__401)
{
	ck_assert_int_eq(api("GET", "/balance", NULL, NULL, NULL, R), 0);
	ck_assert_int_eq(R->status, 401);
	resp_free(R);
	ck_assert_int_eq(api("POST", "/transfer", NULL, "{}", NULL, R), 0);
	ck_assert_int_eq(R->status, 401);
	resp_free(R);
	ck_assert_int_eq(api("GET", "/transactions", NULL, NULL, NULL, R), 0);
	ck_assert_int_eq(R->status, 401);
}
END_TEST

START_TEST(test_balance_post__string_and_number__balance_after)
{
	struct user a;

	make_user(&a, "mp");
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":\"10.00\"}", NULL, R), 200);
	ck_assert_str_eq(resp_str(R, "username"), a.name);
	ck_assert_str_eq(resp_str(R, "balance"), "10.00");
	ck_assert_str_eq(resp_str(R, "currency"), "USD");
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":12.5}", NULL, R), 200);
	ck_assert_str_eq(resp_str(R, "balance"), "22.50");
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":\"7\"}", NULL, R), 200);
	ck_assert_str_eq(resp_str(R, "balance"), "29.50");
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":3,\"x\":[1]}", NULL, R), 200);
	ck_assert_str_eq(resp_str(R, "balance"), "32.50");
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":\"0.01\"}", NULL, R), 200);
	ck_assert_str_eq(resp_str(R, "balance"), "32.51");
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":\"1000000000.00\"}", NULL, R),
	    200);
	ck_assert_str_eq(resp_str(R, "balance"), "1000000032.51");
	ck_assert_int_eq(balance_minor(&a), 100000003251LL);
}
END_TEST

START_TEST(test_balance_post__bad_amounts__400_unchanged)
{
	static const char *const bad_amount[] = {
	    "\"0\"",
	    "\"0.00\"",
	    "0",
	    "\"-1\"",
	    "-1",
	    "\"1.005\"",
	    "1.005",
	    "\"1e3\"",
	    "1e3",
	    "1E3",
	    "\"+1\"",
	    "\" 1\"",
	    "\"1 \"",
	    "\"1 0\"",
	    "\"\"",
	    "\"NaN\"",
	    "\"Infinity\"",
	    "null",
	    "true",
	    "false",
	    "\"1000000000.01\"",
	    "1000000000.01",
	    "\".5\"",
	    "\"5.\"",
	    "\"abc\"",
	    "\"007.5\"",
	    "-0.5",
	    "99999999999999999999999999",
	};
	static const char *const bad_request[] = {
	    "{}",
	    "{\"amount\":{}}",
	    "{\"amount\":[1]}",
	    "{\"amount\":",
	    "[1]",
	    "\"10.00\"",
	    "{\"Amount\":\"1.00\"}",
	};
	struct user a;
	char body[128];

	make_user(&a, "mx");
	fund(&a, "5.00");
	for (size_t i = 0; i < sizeof(bad_amount) / sizeof(*bad_amount); i++) {
		(void)snprintf(
		    body, sizeof(body), "{\"amount\":%s}", bad_amount[i]);
		ck_assert_int_eq(post("/balance", &a, body, NULL, R), 400);
		ck_assert_msg(strcmp(resp_err(R), "invalid_amount") == 0,
		    "%s: %s", body, R->body);
	}
	for (size_t i = 0; i < sizeof(bad_request) / sizeof(*bad_request);
	     i++) {
		ck_assert_int_eq(
		    post("/balance", &a, bad_request[i], NULL, R), 400);
		ck_assert_msg(strcmp(resp_err(R), "invalid_request") == 0,
		    "%s: %s", bad_request[i], R->body);
	}
	/* The message names the missing field. */
	ck_assert_int_eq(post("/balance", &a, "{}", NULL, R), 400);
	ck_assert_ptr_nonnull(strstr(R->body, "amount"));
	ck_assert_int_eq(balance_minor(&a), 500);
}
END_TEST

START_TEST(test_balance_post__cap__exact_ok_over_422_unchanged)
{
	/* 10^13 units is the cap; start 5.00 below it. */
	const long long cap = 1000000000000000LL;
	struct user a, b;

	make_user(&a, "mc");
	make_user(&b, "mc");
	seed_balance(&a, cap - 500);
	fund(&b, "20.00");
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":\"5.01\"}", NULL, R), 422);
	ck_assert_str_eq(resp_err(R), "limit_exceeded");
	ck_assert_int_eq(balance_minor(&a), cap - 500);
	/* A transfer that would lift the recipient over the cap: 422. */
	ck_assert_int_eq(transfer(&b, a.name, "5.01", NULL, R), 422);
	ck_assert_str_eq(resp_err(R), "limit_exceeded");
	ck_assert_int_eq(balance_minor(&b), 2000);
	ck_assert_int_eq(balance_minor(&a), cap - 500);
	/* Exactly up to the cap is allowed; one cent more is not. */
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":\"5.00\"}", NULL, R), 200);
	ck_assert_str_eq(resp_str(R, "balance"), "10000000000000.00");
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":\"0.01\"}", NULL, R), 422);
	ck_assert_str_eq(resp_err(R), "limit_exceeded");
	ck_assert_int_eq(balance_minor(&a), cap);
	/* The capped user can still pay out. */
	ck_assert_int_eq(transfer(&a, b.name, "1.00", NULL, R), 201);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

Suite *
balance_suite(void)
{
	Suite *s = suite_create("balance");
	TCase *tc = tcase_create("balance");

	tcase_add_checked_fixture(tc, resp_setup, resp_teardown);
	tcase_add_test(tc, test_balance_get__new_user__zero_usd);
	tcase_add_test(tc, test_balance__no_token__401);
	tcase_add_test(tc, test_balance_post__string_and_number__balance_after);
	tcase_add_test(tc, test_balance_post__bad_amounts__400_unchanged);
	tcase_add_test(tc, test_balance_post__cap__exact_ok_over_422_unchanged);
	suite_add_tcase(s, tc);
	return s;
}
