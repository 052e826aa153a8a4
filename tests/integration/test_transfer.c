/*
 * Goal: POST /transfer: every field of a 201, and every refusal (422, 404, 400)
 * leaving both balances as they were.
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

Suite *transfer_suite(void);

START_TEST(test_transfer__ok__201_every_field)
{
	struct user a, b;
	char upper[40];

	make_user(&a, "ta");
	make_user(&b, "tb");
	fund(&a, "100.00");
	ck_assert_int_eq(transfer(&a, b.name, "10.00", NULL, R), 201);
	ck_assert_int_gt(resp_int(R, "id"), 0);
	ck_assert_str_eq(resp_str(R, "from"), a.name);
	ck_assert_str_eq(resp_str(R, "to"), b.name);
	ck_assert_str_eq(resp_str(R, "amount"), "10.00");
	ck_assert_str_eq(resp_str(R, "fee"), "0.75");
	ck_assert_str_eq(resp_str(R, "balance"), "89.25");
	assert_rfc3339(resp_str(R, "created_at"));
	ck_assert_int_eq(balance_minor(&b), 1000);
	/* By id, and by a name in another case: the same recipient. */
	(void)snprintf(upper, sizeof(upper),
	    "{\"to_id\":%lld,"
	    "\"amount\":2.5}",
	    b.id);
	ck_assert_int_eq(post("/transfer", &a, upper, NULL, R), 201);
	ck_assert_str_eq(resp_str(R, "to"), b.name);
	ck_assert_str_eq(resp_str(R, "amount"), "2.50");
	ck_assert_str_eq(resp_str(R, "balance"), "86.00");
	(void)snprintf(upper, sizeof(upper), "%s", b.name);
	for (char *p = upper; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	ck_assert_int_eq(transfer(&a, upper, "1", NULL, R), 201);
	ck_assert_str_eq(resp_str(R, "to"), b.name);
	ck_assert_str_eq(resp_str(R, "balance"), "84.25");
	ck_assert_int_eq(balance_minor(&b), 1350);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_transfer__insufficient__422_then_exact_ok)
{
	struct user a, b;

	make_user(&a, "ti");
	make_user(&b, "ti");
	fund(&a, "10.00");
	/* 9.26 + 0.75 is one cent more than the balance. */
	ck_assert_int_eq(transfer(&a, b.name, "9.26", NULL, R), 422);
	ck_assert_str_eq(resp_err(R), "insufficient_funds");
	ck_assert_int_eq(balance_minor(&a), 1000);
	ck_assert_int_eq(balance_minor(&b), 0);
	ck_assert_int_eq(transfer(&a, b.name, "9.25", NULL, R), 201);
	ck_assert_str_eq(resp_str(R, "balance"), "0.00");
	ck_assert_int_eq(transfer(&a, b.name, "0.01", NULL, R), 422);
	ck_assert_str_eq(resp_err(R), "insufficient_funds");
	ck_assert_int_eq(balance_minor(&b), 925);
}
END_TEST

START_TEST(test_transfer__unknown_recipient__404_unchanged)
{
	struct user a;
	char body[128];

	make_user(&a, "tn");
	fund(&a, "10.00");
	ck_assert_int_eq(transfer(&a, "nosuchuser_zz9", "1.00", NULL, R), 404);
	ck_assert_str_eq(resp_err(R), "recipient_not_found");
	/* Names no user can have: 404 as well, never a 500. */
	ck_assert_int_eq(transfer(&a, "no such user!", "1.00", NULL, R), 404);
	ck_assert_str_eq(resp_err(R), "recipient_not_found");
	ck_assert_int_eq(transfer(&a, "z\\u00e9\\u4e2d", "1.00", NULL, R), 404);
	ck_assert_str_eq(resp_err(R), "recipient_not_found");
	ck_assert_int_eq(transfer(&a, "ab", "1.00", NULL, R), 404);
	ck_assert_str_eq(resp_err(R), "recipient_not_found");
	(void)snprintf(body, sizeof(body), "{\"to_id\":%lld,\"amount\":1}",
	    (long long)1 << 60);
	ck_assert_int_eq(post("/transfer", &a, body, NULL, R), 404);
	ck_assert_str_eq(resp_err(R), "recipient_not_found");
	ck_assert_int_eq(balance_minor(&a), 1000);
}
END_TEST

START_TEST(test_transfer__bad_requests__400_unchanged)
{
	struct user a, b;
	char bodies[12][160], key[300];
	int n = 0;

	make_user(&a, "tr");
	make_user(&b, "tr");
	fund(&a, "10.00");
	(void)snprintf(
	    bodies[n++], 160, "{\"to\":\"%s\",\"amount\":\"1\"}", a.name);
	(void)snprintf(
	    bodies[n++], 160, "{\"to_id\":%lld,\"amount\":\"1\"}", a.id);
	(void)snprintf(bodies[n++], 160, "{\"amount\":\"1\"}");
	(void)snprintf(bodies[n++], 160,
	    "{\"to\":\"%s\",\"to_id\":%lld,"
	    "\"amount\":\"1\"}",
	    b.name, b.id);
	(void)snprintf(bodies[n++], 160, "{\"to\":5,\"amount\":\"1\"}");
	(void)snprintf(bodies[n++], 160, "{\"to\":null,\"amount\":\"1\"}");
	(void)snprintf(bodies[n++], 160,
	    "{\"to_id\":\"%lld\","
	    "\"amount\":\"1\"}",
	    b.id);
	(void)snprintf(bodies[n++], 160, "{\"to_id\":0,\"amount\":\"1\"}");
	(void)snprintf(bodies[n++], 160, "{\"to\":\"%s\"}", b.name);
	(void)snprintf(
	    bodies[n++], 160, "{\"to\":\"%s\",\"amount\":[]}", b.name);
	(void)snprintf(bodies[n++], 160, "[\"%s\"]", b.name);
	/* Oneself by name in another case: still oneself. */
	(void)snprintf(
	    bodies[n], 160, "{\"to\":\"%s\",\"amount\":\"1\"}", a.name);
	for (char *p = bodies[n++]; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	ck_assert_int_le(n, 12);
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(
		    post("/transfer", &a, bodies[i], NULL, R), 400);
		ck_assert_msg(strcmp(resp_err(R), "invalid_request") == 0,
		    "%s: %s", bodies[i], R->body);
	}
	ck_assert_int_eq(transfer(&a, b.name, "1.001", NULL, R), 400);
	ck_assert_str_eq(resp_err(R), "invalid_amount");
	/* Idempotency-Key: 255 characters pass, 256 do not. */
	memset(key, 'k', 256);
	key[256] = '\0';
	ck_assert_int_eq(transfer(&a, b.name, "1.00", key, R), 400);
	ck_assert_str_eq(resp_err(R), "invalid_request");
	ck_assert_int_eq(transfer(&a, b.name, "1.00", "bad\x01key", R), 400);
	ck_assert_str_eq(resp_err(R), "invalid_request");
	/* A 400 is never stored: the key stays free for a real request. */
	ck_assert_int_eq(
	    post("/transfer", &a, bodies[n - 1], "self-key", R), 400);
	ck_assert_int_eq(balance_minor(&a), 1000);
	ck_assert_int_eq(balance_minor(&b), 0);
	key[255] = '\0';
	ck_assert_int_eq(transfer(&a, b.name, "1.00", key, R), 201);
	ck_assert_int_eq(balance_minor(&a), 825);
	ck_assert_int_eq(transfer(&a, b.name, "1.00", "self-key", R), 201);
	ck_assert(!is_replayed(R));
	ck_assert_int_eq(balance_minor(&a), 650);
}
END_TEST

/*
 * The fee goes to a row of fee_accounts, and the table alone says how many
 * there are (payd_fee_account, sql/R__payd_fee_account.sql): every number
 * the app may pass lands on one of its rows, each row is reached, and a
 * row added (in a transaction rolled back, seen only by it) is reached
 * too.
 */
START_TEST(test_transfer__fee_sub_account__a_row_of_the_table)
{
	struct user a, b;
	long long id;

	make_user(&a, "tfa");
	make_user(&b, "tfb");
	fund(&a, "10.00");
	ck_assert_int_eq(transfer(&a, b.name, "1.00", NULL, R), 201);
	id = resp_int(R, "id");
	ck_assert_int_eq(
	    stack_cmd("test \"$(stack_sql \"$STACK_DIR\" \"SELECT COUNT(*) "
	              "FROM payd.entries e JOIN payd.fee_accounts f "
	              "ON f.id = e.account_id WHERE e.movement_id = %lld "
	              "AND e.account_kind = 'fee' AND e.delta = 75\")\" = 1",
	        id),
	    0);
	ck_assert_int_eq(
	    stack_cmd("test \"$(stack_sql \"$STACK_DIR\" \"SELECT "
	              "COUNT(DISTINCT payd.payd_fee_account(seq)) = "
	              "(SELECT COUNT(*) FROM payd.fee_accounts) AND "
	              "SUM(payd.payd_fee_account(seq) NOT IN "
	              "(SELECT id FROM payd.fee_accounts)) = 0 "
	              "FROM payd.seq_0_to_1023 UNION ALL SELECT "
	              "payd.payd_fee_account(2147483647) IN "
	              "(SELECT id FROM payd.fee_accounts)\")\" = "
	              "\"$(printf '1\\n1')\""),
	    0);
	ck_assert_int_eq(
	    stack_cmd("test \"$(stack_sql \"$STACK_DIR\" \"START TRANSACTION; "
	              "INSERT INTO payd.fee_accounts (id) SELECT MAX(id) + 1 "
	              "FROM payd.fee_accounts; SELECT "
	              "COUNT(DISTINCT payd.payd_fee_account(seq)) = "
	              "(SELECT COUNT(*) FROM payd.fee_accounts) "
	              "FROM payd.seq_0_to_1023; ROLLBACK\")\" = 1"),
	    0);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

/*
 * sql/007_fee_accounts_256.sql on a ledger of 16 sub-accounts that hold
 * fees (replayed as root in a transaction rolled back): 256 rows, ids 0 to
 * 255, the new ones at 0, each old row and the fee sum unchanged, so the
 * audit still balances. The stack's own migration made the 256 rows.
 */
START_TEST(test_fee_accounts__migration_007__256_rows_sum_kept)
{
	ck_assert_int_eq(
	    stack_cmd("test \"$(stack_sql \"$STACK_DIR\" \"SELECT COUNT(*), "
	              "MIN(id), MAX(id) FROM payd.fee_accounts\")\" = "
	              "\"$(printf '256\\t0\\t255')\""),
	    0);
	ck_assert_int_eq(
	    stack_cmd(
	        "test \"$({ echo 'START TRANSACTION; "
	        "DELETE FROM fee_accounts WHERE id >= 16; "
	        "UPDATE fee_accounts SET balance = balance + id + 1; "
	        "SET @sum = (SELECT SUM(balance) FROM fee_accounts); "
	        "SET @old = (SELECT GROUP_CONCAT(balance ORDER BY id) "
	        "FROM fee_accounts);'; "
	        "cat \"$STACK_ROOT/sql/007_fee_accounts_256.sql\"; "
	        "echo 'SELECT COUNT(*) = 256 AND MIN(id) = 0 AND "
	        "MAX(id) = 255 AND SUM(balance) = @sum AND "
	        "SUM(id >= 16 AND balance <> 0) = 0 FROM fee_accounts; "
	        "SELECT GROUP_CONCAT(balance ORDER BY id) = @old "
	        "FROM fee_accounts WHERE id < 16; ROLLBACK;'; } | "
	        "mariadb --no-defaults -S \"$STACK_DIR/mysql.sock\" -uroot "
	        "-N -B payd)\" = \"$(printf '1\\n1')\""),
	    0);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

/* GET /fees into fixed and bps; the status. */
static long
fees_get(char fixed[16], long long *bps)
{
	ck_assert_int_eq(api("GET", "/fees", NULL, NULL, NULL, R), 0);
	(void)snprintf(fixed, 16, "%s", resp_str(R, "fixed"));
	*bps = resp_int(R, "bps");
	ck_assert_str_eq(resp_str(R, "currency"), "USD");
	resp_free(R);
	return R->status;
}

START_TEST(test_fees__default__the_fee_a_transfer_pays)
{
	struct user a, b;
	char fixed[16], allow[32];
	long long bps;

	ck_assert_int_eq(fees_get(fixed, &bps), 200);
	ck_assert_str_eq(fixed, "0.75");
	ck_assert_int_eq(bps, 0);
	make_user(&a, "fa");
	make_user(&b, "fb");
	fund(&a, "20.00");
	ck_assert_int_eq(transfer(&a, b.name, "10.00", NULL, R), 201);
	ck_assert_str_eq(resp_str(R, "fee"), "0.75");
	resp_free(R);
	/* Read-only: any other method is 405 with Allow: GET. */
	ck_assert_int_eq(api("POST", "/fees", NULL, "{}", NULL, R), 0);
	ck_assert_int_eq(R->status, 405);
	ck_assert_str_eq(resp_err(R), "method_not_allowed");
	ck_assert_ptr_nonnull(resp_header(R, "Allow", allow, sizeof(allow)));
	ck_assert_str_eq(allow, "GET");
}
END_TEST

/*
 * Another fee configured (both instances reloaded): /fees says it, and
 * transfers pay exactly fixed + bps of the amount rounded half up.
 */
START_TEST(test_fees__configured__fees_and_transfers_agree)
{
	static const struct {
		const char *amount, *fee, *balance;
	} cases[] = {
	    {"10.00", "0.43", "89.57"}, /* 30 + 12.5 -> 13 cents */
	    {"0.40", "0.31", "88.86"},  /* 30 + 0.5 -> 1: half up */
	    {"1.00", "0.31", "87.55"},  /* 30 + 1.25 -> 1 */
	};
	struct user a, b;
	char fixed[16];
	long long bps;

	ck_assert_int_eq(stack_reconfigure("fee_fixed_minor = 30\n"
	                                   "fee_bps = 125"),
	    0);
	/* Every worker of both instances answers: a few reads reach each. */
	for (int i = 0; i < 8; i++) {
		ck_assert_int_eq(fees_get(fixed, &bps), 200);
		ck_assert_str_eq(fixed, "0.30");
		ck_assert_int_eq(bps, 125);
	}
	make_user(&a, "fc");
	make_user(&b, "fd");
	fund(&a, "100.00");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(
		    transfer(&a, b.name, cases[i].amount, NULL, R), 201);
		ck_assert_str_eq(resp_str(R, "fee"), cases[i].fee);
		ck_assert_str_eq(resp_str(R, "balance"), cases[i].balance);
		resp_free(R);
	}
	ck_assert_int_eq(stack_reconfigure(NULL), 0);
	ck_assert_int_eq(fees_get(fixed, &bps), 200);
	ck_assert_str_eq(fixed, "0.75");
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

/* Whatever the test did: the stack's own configuration again. */
static void
fees_restore(void)
{
	ck_assert_int_eq(stack_reconfigure(NULL), 0);
}

Suite *
transfer_suite(void)
{
	Suite *s = suite_create("transfer");
	TCase *tc = tcase_create("transfer");

	tcase_add_checked_fixture(tc, resp_setup, resp_teardown);
	tcase_add_test(tc, test_transfer__ok__201_every_field);
	tcase_add_test(tc, test_transfer__insufficient__422_then_exact_ok);
	tcase_add_test(tc, test_transfer__unknown_recipient__404_unchanged);
	tcase_add_test(tc, test_transfer__bad_requests__400_unchanged);
	tcase_add_test(tc, test_transfer__fee_sub_account__a_row_of_the_table);
	tcase_add_test(tc, test_fee_accounts__migration_007__256_rows_sum_kept);
	tcase_add_test(tc, test_fees__default__the_fee_a_transfer_pays);
	suite_add_tcase(s, tc);
	tc = tcase_create("fees_configured");
	tcase_add_checked_fixture(tc, resp_setup, resp_teardown);
	tcase_add_unchecked_fixture(tc, NULL, fees_restore);
	tcase_add_test(tc, test_fees__configured__fees_and_transfers_agree);
	suite_add_tcase(s, tc);
	return s;
}
