/*
 * Goal: money under faults: a lock-wait timeout is retried and applied once, a
 * stopped database answers 503 after which the key's retry is applied
 * once, and `payd audit` reports a tampered balance.
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

Suite *money_faults_suite(void);

START_TEST(test_retry__lock_wait_timeout__applied_once)
{
	struct user a, b;

	make_user(&a, "rw");
	make_user(&b, "rw");
	fund(&a, "10.00");
	hold_user_row_until_log(b.id, "event=db_retry ");
	/* The first attempt times out waiting; a retry applies it once. */
	ck_assert_int_eq(transfer(&a, b.name, "1.00", "retry-key", R), 201);
	ck_assert(!is_replayed(R));
	ck_assert_int_eq(balance_minor(&a), 825);
	ck_assert_int_eq(balance_minor(&b), 100);
	ck_assert_int_eq(stack_cmd("grep -q 'event=db_retry ' "
	                           "\"$STACK_DIR\"/payd*.log"),
	    0);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

/*
 * A top-up is one CALL too (sql/R__payd_deposit.sql): a lock wait inside
 * it rolls the whole of it back and the app runs it again, once.
 */
START_TEST(test_retry__top_up_lock_wait__applied_once)
{
	struct user a;

	make_user(&a, "rt");
	fund(&a, "10.00");
	hold_user_row_until_log(a.id, "event=db_retry route=balance_post");
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":\"1.00\"}", "top-key", R), 200);
	ck_assert(!is_replayed(R));
	ck_assert_ptr_nonnull(strstr(R->body, "\"balance\":\"11.00\""));
	ck_assert_int_eq(
	    post("/balance", &a, "{\"amount\":\"1.00\"}", "top-key", R), 200);
	ck_assert(is_replayed(R));
	ck_assert_int_eq(balance_minor(&a), 1100);
	ck_assert_int_eq(
	    stack_cmd("grep -q 'event=db_retry route=balance_post' "
	              "\"$STACK_DIR\"/payd*.log"),
	    0);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_faults__db_stopped__503_then_key_retry_once)
{
	struct user a, b;
	int up = 0;

	make_user(&a, "fd");
	make_user(&b, "fd");
	fund(&a, "10.00");
	ck_assert_int_eq(stack_cmd("stack_db_stop \"$STACK_DIR\""), 0);
	/* The database is gone: 503 at once, nothing half done. */
	ck_assert_int_eq(transfer(&a, b.name, "1.00", "down-1", R), 503);
	ck_assert_str_eq(resp_err(R), "unavailable");
	/* The audit cannot connect: its own exit status says so. */
	ck_assert_int_eq(run_audit(), 2);
	/*
	 * In a session of its own: Check kills the test's process group
	 * when the test ends, and the suites after this one need MariaDB.
	 */
	ck_assert_int_eq(
	    stack_cmd("setsid -w sh -c '. tests/lib/stack.sh && "
	              "STACK_BIN=\"$PAYD_BIN\" stack_db_start \"$STACK_DIR\"' "
	              ">/dev/null"),
	    0);
	for (int i = 0; i < 100 && !up; i++) {
		resp_free(R);
		ck_assert_int_eq(
		    api("GET", "/healthz", NULL, NULL, NULL, R), 0);
		up = R->status == 200;
		if (!up)
			usleep(100000);
	}
	ck_assert(up);
	/* The client's retry with its key is applied, and only once. */
	ck_assert_int_eq(transfer(&a, b.name, "1.00", "down-1", R), 201);
	ck_assert(!is_replayed(R));
	ck_assert_int_eq(transfer(&a, b.name, "1.00", "down-1", R), 201);
	ck_assert(is_replayed(R));
	ck_assert_int_eq(balance_minor(&a), 825);
	ck_assert_int_eq(balance_minor(&b), 100);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_audit__tampered_balance__reported_exit_1)
{
	struct user a;

	make_user(&a, "au");
	fund(&a, "5.00");
	ck_assert_int_eq(run_audit(), 0);
	/* A balance changed without its entries: the audit must see it. */
	ck_assert_int_eq(
	    stack_cmd("stack_sql \"$STACK_DIR\" \"UPDATE "
	              "payd.users SET balance = balance + 1 WHERE id = %lld\"",
	        a.id),
	    0);
	ck_assert_int_eq(run_audit(), 1);
	ck_assert_int_eq(
	    stack_cmd("grep -q 'MISMATCH user %lld: balance "
	              "5.01, sum of its entries 5.00' \"$STACK_DIR/audit.log\"",
	        a.id),
	    0);
	ck_assert_int_eq(stack_cmd("grep -q 'MISMATCH conservation' "
	                           "\"$STACK_DIR/audit.log\""),
	    0);
	ck_assert_int_eq(
	    stack_cmd("stack_sql \"$STACK_DIR\" \"UPDATE "
	              "payd.users SET balance = balance - 1 WHERE id = %lld\"",
	        a.id),
	    0);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

Suite *
money_faults_suite(void)
{
	Suite *s = suite_create("money_faults");
	TCase *tc = tcase_create("money_faults");

	tcase_add_checked_fixture(tc, resp_setup, resp_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_retry__lock_wait_timeout__applied_once);
	tcase_add_test(tc, test_retry__top_up_lock_wait__applied_once);
	tcase_add_test(tc, test_faults__db_stopped__503_then_key_retry_once);
	tcase_add_test(tc, test_audit__tampered_balance__reported_exit_1);
	suite_add_tcase(s, tc);
	return s;
}
