/*
 * Goal: GET /transactions: every field, newest first, exact cursors that never
 * show another user's entries, bad parameters refused.
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

Suite *history_suite(void);

START_TEST(test_transactions__entries__every_field_newest_first)
{
	struct user a, b;
	struct json_object *list, *e;
	long long out_id, dep_id;

	make_user(&a, "ha");
	make_user(&b, "hb");
	fund(&a, "20.00");
	ck_assert_int_eq(transfer(&a, b.name, "5.00", NULL, R), 201);
	out_id = resp_int(R, "id");
	list = history(&a, "", R);
	ck_assert_int_eq(json_object_array_length(list), 2);
	e = json_object_array_get_idx(list, 0);
	ck_assert_int_eq(field_int(e, "id"), out_id);
	ck_assert_str_eq(field(e, "type"), "transfer_out");
	ck_assert_str_eq(field(e, "amount"), "5.00");
	ck_assert_str_eq(field(e, "fee"), "0.75");
	ck_assert_str_eq(field(e, "counterparty"), b.name);
	ck_assert_str_eq(field(e, "balance_after"), "14.25");
	assert_rfc3339(field(e, "created_at"));
	e = json_object_array_get_idx(list, 1);
	dep_id = field_int(e, "id");
	ck_assert_int_lt(dep_id, out_id);
	ck_assert_str_eq(field(e, "type"), "deposit");
	ck_assert_str_eq(field(e, "amount"), "20.00");
	ck_assert_str_eq(field(e, "fee"), "0.00");
	ck_assert_ptr_null(field(e, "counterparty"));
	ck_assert_str_eq(field(e, "balance_after"), "20.00");
	ck_assert_ptr_null(field(R->json, "next_before"));
	/* The recipient's side: the same movement, no fee, no deposit. */
	list = history(&b, "", R);
	ck_assert_int_eq(json_object_array_length(list), 1);
	e = json_object_array_get_idx(list, 0);
	ck_assert_int_eq(field_int(e, "id"), out_id);
	ck_assert_str_eq(field(e, "type"), "transfer_in");
	ck_assert_str_eq(field(e, "amount"), "5.00");
	ck_assert_str_eq(field(e, "fee"), "0.00");
	ck_assert_str_eq(field(e, "counterparty"), a.name);
	ck_assert_str_eq(field(e, "balance_after"), "5.00");
}
END_TEST

START_TEST(test_transactions__pages__cursor_exact_and_private)
{
	struct user a, b;
	struct json_object *list;
	long long ids[5], next;
	char q[64];

	make_user(&a, "pa");
	make_user(&b, "pb");
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(
		    post("/balance", &a, "{\"amount\":\"1.00\"}", NULL, R),
		    200);
		fund(&b, "2.00"); /* interleaved: b's ids sit between a's */
	}
	list = history(&a, "?limit=100", R);
	ck_assert_int_eq(json_object_array_length(list), 5);
	for (int i = 0; i < 5; i++)
		ids[i] = field_int(json_object_array_get_idx(list, i), "id");
	ck_assert_ptr_null(field(R->json, "next_before"));
	/* Pages of 2: 2, 2, 1; the cursor is the last id shown. */
	list = history(&a, "?limit=2", R);
	ck_assert_int_eq(json_object_array_length(list), 2);
	next = field_int(R->json, "next_before");
	ck_assert_int_eq(next, ids[1]);
	(void)snprintf(q, sizeof(q), "?limit=2&before=%lld", next);
	list = history(&a, q, R);
	ck_assert_int_eq(json_object_array_length(list), 2);
	ck_assert_int_eq(
	    field_int(json_object_array_get_idx(list, 0), "id"), ids[2]);
	next = field_int(R->json, "next_before");
	ck_assert_int_eq(next, ids[3]);
	(void)snprintf(q, sizeof(q), "?before=%lld&limit=2", next);
	list = history(&a, q, R);
	ck_assert_int_eq(json_object_array_length(list), 1);
	ck_assert_int_eq(
	    field_int(json_object_array_get_idx(list, 0), "id"), ids[4]);
	ck_assert_ptr_null(field(R->json, "next_before"));
	/* A page that ends exactly at the last entry has no next page. */
	(void)snprintf(q, sizeof(q), "?limit=4&before=%lld", ids[0]);
	list = history(&a, q, R);
	ck_assert_int_eq(json_object_array_length(list), 4);
	ck_assert_ptr_null(field(R->json, "next_before"));
	list = history(&a, "?limit=1", R);
	ck_assert_int_eq(json_object_array_length(list), 1);
	/* b sees only its own five deposits of 2.00, never a's. */
	list = history(&b, "?limit=100", R);
	ck_assert_int_eq(json_object_array_length(list), 5);
	for (int i = 0; i < 5; i++)
		ck_assert_str_eq(
		    field(json_object_array_get_idx(list, i), "amount"),
		    "2.00");
}
END_TEST

START_TEST(test_transactions__bad_params__400)
{
	static const char *const bad[] = {
	    "?limit=0",
	    "?limit=101",
	    "?limit=-1",
	    "?limit=abc",
	    "?limit=",
	    "?limit=1.5",
	    "?limit=+5",
	    "?limit=%201",
	    "?limit=5&limit=6",
	    "?before=0",
	    "?before=-3",
	    "?before=x",
	    "?before=",
	    "?before=99999999999999999999",
	};
	struct user a;

	make_user(&a, "qa");
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char path[96];

		(void)snprintf(path, sizeof(path), "/transactions%s", bad[i]);
		resp_free(R);
		ck_assert_int_eq(api("GET", path, a.token, NULL, NULL, R), 0);
		ck_assert_msg(R->status == 400, "%s: %ld", path, R->status);
		ck_assert_str_eq(resp_err(R), "invalid_request");
	}
	(void)history(&a, "?limit=100&before=1", R);
	(void)history(&a, "?limit=1&other=x", R);
}
END_TEST

Suite *
history_suite(void)
{
	Suite *s = suite_create("history");
	TCase *tc = tcase_create("history");

	tcase_add_checked_fixture(tc, resp_setup, resp_teardown);
	tcase_add_test(
	    tc, test_transactions__entries__every_field_newest_first);
	tcase_add_test(tc, test_transactions__pages__cursor_exact_and_private);
	tcase_add_test(tc, test_transactions__bad_params__400);
	suite_add_tcase(s, tc);
	return s;
}
