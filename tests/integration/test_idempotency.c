/*
 * Goal: Idempotency-Key on POST /transfer and POST /balance: a replay moves no
 * money, a refusal is replayed rather than rerun, and 20 concurrent
 * requests with one key make one movement.
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

Suite *idempotency_suite(void);

START_TEST(test_idem_transfer__same_body__replayed_once)
{
	struct user a, b;
	char first[1024];

	make_user(&a, "ia");
	make_user(&b, "ib");
	fund(&a, "50.00");
	ck_assert_int_eq(transfer(&a, b.name, "10.00", "key-1", R), 201);
	ck_assert(!is_replayed(R));
	ck_assert_uint_lt(R->len, sizeof(first));
	copy_text(first, sizeof(first), R->body);
	/* The same request spelt differently ("10" for "10.00") is the same. */
	ck_assert_int_eq(transfer(&a, b.name, "10", "key-1", R), 201);
	ck_assert(is_replayed(R));
	ck_assert_str_eq(R->body, first);
	ck_assert_int_eq(balance_minor(&a), 5000 - 1075);
	ck_assert_int_eq(balance_minor(&b), 1000);
	/* A different body under the same key: 422, nothing moves. */
	ck_assert_int_eq(transfer(&a, b.name, "11.00", "key-1", R), 422);
	ck_assert_str_eq(resp_err(R), "idempotency_key_reused");
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":\"10.00\"}", "key-1", R), 422);
	ck_assert_str_eq(resp_err(R), "idempotency_key_reused");
	ck_assert_int_eq(balance_minor(&a), 5000 - 1075);
	/* Keys belong to their user: b may use "key-1" for itself. */
	ck_assert_int_eq(transfer(&b, a.name, "1.00", "key-1", R), 201);
	ck_assert(!is_replayed(R));
	ck_assert_int_eq(balance_minor(&b), 1000 - 175);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_idem_transfer__refusal__replayed_not_rerun)
{
	struct user a, b;
	char first[1024];

	make_user(&a, "ir");
	make_user(&b, "ir");
	fund(&a, "1.00");
	ck_assert_int_eq(transfer(&a, b.name, "5.00", "k-fail", R), 422);
	ck_assert_str_eq(resp_err(R), "insufficient_funds");
	ck_assert_uint_lt(R->len, sizeof(first));
	copy_text(first, sizeof(first), R->body);
	fund(&a, "100.00");
	/* The retry gets the first answer, even though it would pass now. */
	ck_assert_int_eq(transfer(&a, b.name, "5.00", "k-fail", R), 422);
	ck_assert(is_replayed(R));
	ck_assert_str_eq(R->body, first);
	ck_assert_int_eq(balance_minor(&a), 10100);
	/* An unknown recipient is stored too. */
	ck_assert_int_eq(transfer(&a, "ghost_zz9_x", "5.00", "k-404", R), 404);
	ck_assert(!is_replayed(R));
	ck_assert_int_eq(transfer(&a, "ghost_zz9_x", "5.00", "k-404", R), 404);
	ck_assert(is_replayed(R));
	ck_assert_str_eq(resp_err(R), "recipient_not_found");
	/* A 400 is not stored: the key is still free for a good request. */
	ck_assert_int_eq(transfer(&a, b.name, "-5", "k-400", R), 400);
	ck_assert_int_eq(transfer(&a, b.name, "5", "k-400", R), 201);
	ck_assert(!is_replayed(R));
}
END_TEST

START_TEST(test_idem_deposit__same_body__replayed_once)
{
	struct user a;
	char first[1024];

	make_user(&a, "id");
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":\"3.00\"}", "dep-1", R), 200);
	ck_assert(!is_replayed(R));
	ck_assert_uint_lt(R->len, sizeof(first));
	copy_text(first, sizeof(first), R->body);
	fund(&a, "1.00");
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":3}", "dep-1", R), 200);
	ck_assert(is_replayed(R));
	/* The replay is the first answer: the balance of that moment. */
	ck_assert_str_eq(R->body, first);
	ck_assert_str_eq(resp_str(R, "balance"), "3.00");
	ck_assert_int_eq(balance_minor(&a), 400);
}
END_TEST

START_TEST(test_idem_transfer__20_concurrent_same_key__one_movement)
{
	struct shot *shots = shared(20 * sizeof(*shots));
	struct user a, b;
	struct json_object *list;
	const char *body = NULL;
	int originals = 0, outs = 0;

	make_user(&a, "ic");
	make_user(&b, "ic");
	fund(&a, "100.00");
	race.from = &a;
	copy_text(race.to, sizeof(race.to), b.name);
	race.amount = "7.00";
	race.key = "same-key-race";
	run_clients(20, race_client, shots);
	for (int i = 0; i < 20; i++) {
		/* Waiting for the first is allowed, and so is 409. */
		ck_assert_msg(shots[i].status == 201 || shots[i].status == 409,
		    "client %d: %ld %s", i, shots[i].status, shots[i].body);
		if (shots[i].status != 201)
			continue;
		originals += !shots[i].replayed;
		if (body == NULL)
			body = shots[i].body;
		ck_assert_str_eq(shots[i].body, body);
	}
	ck_assert_int_eq(originals, 1);
	ck_assert_int_eq(balance_minor(&a), 10000 - 775);
	ck_assert_int_eq(balance_minor(&b), 700);
	list = history(&a, "", R);
	for (size_t i = 0; i < json_object_array_length(list); i++)
		outs +=
		    strcmp(field(json_object_array_get_idx(list, i), "type"),
		        "transfer_out") == 0;
	ck_assert_int_eq(outs, 1);
	ck_assert_int_eq(run_audit(), 0);
	munmap(shots, 20 * sizeof(*shots));
}
END_TEST

Suite *
idempotency_suite(void)
{
	Suite *s = suite_create("idempotency");
	TCase *tc = tcase_create("idempotency");

	tcase_add_checked_fixture(tc, resp_setup, resp_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_idem_transfer__same_body__replayed_once);
	tcase_add_test(tc, test_idem_transfer__refusal__replayed_not_rerun);
	tcase_add_test(tc, test_idem_deposit__same_body__replayed_once);
	tcase_add_test(
	    tc, test_idem_transfer__20_concurrent_same_key__one_movement);
	suite_add_tcase(s, tc);
	return s;
}
