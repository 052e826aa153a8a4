/*
 * Goal: the service survives its faults (API.md Faults): a dead worker is
 * replaced while the others serve; a stopped database gives 503 within a
 * few seconds and the service recovers by itself when it is back; under a
 * load of real transfers, neither loses or creates a cent.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "load.h"

Suite *faults_suite(void);

#define MONEY_CLIENTS LOAD_RING_USERS
/* Answers each phase of a load test waits for, before it moves on. */
#define MONEY_PHASE_ANSWERS 40

static struct load_ring ring;

/*
 * The pids of the master's workers (its children but the hold sweeper,
 * app/sweeper.c), space-separated, into out.
 */
static void
worker_pids(char *out, size_t size)
{
	(void)stack_output(
	    out, size, STACK_PAYD_WORKERS " | sort | tr '\\n' ' '");
}

/*
 * SIGKILLs the first of the listed workers that is still there when the
 * signal is sent (one may have ended in between: a fresh machine showed
 * it); its pid into victim.
 */
static void
kill_a_worker(const char *pids, char *victim, size_t size)
{
	char pid[32];
	int n = 0;

	while (sscanf(pids, "%31s%n", pid, &n) == 1) {
		if (stack_cmd("kill -9 %s 2>/dev/null", pid) == 0) {
			(void)snprintf(victim, size, "%s", pid);
			return;
		}
		pids += n;
	}
	ck_abort_msg("no worker of \"%s\" could be killed", pids);
}

START_TEST(test_worker_sigkill_under_money_load__one_request_at_most)
{
	struct load *l;
	struct load_count at_kill, sum;
	char before[512], victim[32];

	load_ring_users(&ring, "flt");
	l = load_ring_start(&ring);
	load_wait_ok(l, MONEY_PHASE_ANSWERS);
	worker_pids(before, sizeof(before));
	kill_a_worker(before, victim, sizeof(victim));
	load_count(l, &at_kill);
	/* As many answers again after the kill. */
	load_wait_ok(l, at_kill.ok + MONEY_PHASE_ANSWERS);
	load_stop(l, &sum);
	/*
	 * Only the requests the killed worker held may fail: since a worker
	 * takes waiting transfers in batches (app/worker.c), up to one per
	 * client here. Failures after the kill (a replacement that does not
	 * serve, nginx giving up on the socket) would be more.
	 */
	ck_assert_msg(sum.other + sum.unavailable <= MONEY_CLIENTS,
	    "%d failed, %d 503 (last %ld)", sum.other, sum.unavailable,
	    sum.last_bad);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_db_stopped_under_money_load__503s_then_recovery)
{
	struct load *l;
	struct load_count at_start, sum;

	load_ring_users(&ring, "flt");
	l = load_ring_start(&ring);
	load_wait_ok(l, MONEY_PHASE_ANSWERS);
	ck_assert_int_eq(stack_cmd("stack_db_stop \"$STACK_DIR\""), 0);
	/* Every client sees the database gone before it comes back. */
	load_wait_unavailable(l, MONEY_CLIENTS);
	ck_assert_int_eq(stack_cmd("setsid -w sh -c '. tests/lib/stack.sh && "
	                           "stack_db_start \"$STACK_DIR\"' >/dev/null"),
	    0);
	load_count(l, &at_start);
	load_wait_ok(l, at_start.ok + MONEY_PHASE_ANSWERS);
	load_stop(l, &sum);
	/* 201 or 503, nothing else. */
	ck_assert_msg(sum.other == 0,
	    "%d answers neither 201 nor 503 (last %ld)", sum.other,
	    sum.last_bad);
	/*
	 * No request hung until nginx's own timeout (15 s): a stopped
	 * database is a 503 at once, so this bound is far from any machine's
	 * speed.
	 */
	ck_assert_msg(sum.max_s < 10.0, "a request took %.1f s", sum.max_s);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_worker_sigkill__replaced_and_serving)
{
	struct resp *r = malloc(sizeof(*r));
	char before[512], after[512], victim[32];
	int ok = 0;

	ck_assert_ptr_nonnull(r);
	worker_pids(before, sizeof(before));
	ck_assert_int_gt(strlen(before), 0);
	kill_a_worker(before, victim, sizeof(victim));
	for (int i = 0; i < 50; i++) {
		ck_assert_int_eq(
		    api("GET", "/healthz", NULL, NULL, NULL, r), 0);
		ok += r->status == 200;
		resp_free(r);
		usleep(100000);
	}
	/* Every request after the kill was served by a live worker. */
	ck_assert_int_ge(ok, 49);
	worker_pids(after, sizeof(after));
	ck_assert_msg(strstr(after, victim) == NULL, "%s still there", victim);
	ck_assert_int_eq(strlen(after) > 0, 1);
	/* As many workers as before. */
	{
		int nb = 0, na = 0;

		for (char *p = before; *p; p++)
			nb += *p == ' ';
		for (char *p = after; *p; p++)
			na += *p == ' ';
		ck_assert_int_eq(na, nb);
	}
	free(r);
}
END_TEST

START_TEST(test_db_stopped__503_fast_then_recovers)
{
	struct resp *r = malloc(sizeof(*r));
	double t0, dt;
	int ok = 0;

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(stack_cmd("stack_db_stop \"$STACK_DIR\""), 0);
	for (int i = 0; i < 4; i++) {
		t0 = load_now_s();
		ck_assert_int_eq(
		    api("GET", "/healthz", NULL, NULL, NULL, r), 0);
		dt = load_now_s() - t0;
		ck_assert_int_eq(r->status, 503);
		ck_assert_str_eq(resp_str(r, "status"), "unavailable");
		ck_assert_msg(dt < 5.0, "took %.1f s", dt);
		resp_free(r);
	}
	/*
	 * In its own session: Check kills the test's process group when the
	 * test ends, and the database must outlive it.
	 */
	ck_assert_int_eq(stack_cmd("setsid -w sh -c '. tests/lib/stack.sh && "
	                           "stack_db_start \"$STACK_DIR\"' >/dev/null"),
	    0);
	for (int i = 0; i < 50 && !ok; i++) {
		ck_assert_int_eq(
		    api("GET", "/healthz", NULL, NULL, NULL, r), 0);
		ok = r->status == 200;
		resp_free(r);
		if (!ok)
			usleep(100000);
	}
	ck_assert_msg(ok, "no recovery without a restart");
	/* Every worker reconnects: several requests in a row all succeed. */
	for (int i = 0; i < 20; i++) {
		ck_assert_int_eq(
		    api("GET", "/healthz", NULL, NULL, NULL, r), 0);
		ck_assert_int_eq(r->status, 200);
		resp_free(r);
	}
	free(r);
}
END_TEST

/*
 * The server closes every app connection while they sit idle (a KILL, as
 * wait_timeout or a failover would): the next requests reconnect before
 * they use the dead connection, so none of them fails. POST /transfer
 * makes one database call (sql/R__payd_transfer.sql) and cannot retry it
 * blindly, since a CALL that ran may have moved money: the dead connection must
 * be seen before it is used.
 */
START_TEST(test_db_connections_killed_while_idle__next_requests_succeed)
{
	struct resp *r = malloc(sizeof(*r));
	char body[128], bal[32];

	ck_assert_ptr_nonnull(r);
	load_ring_users(&ring, "flt");
	(void)snprintf(body, sizeof(body),
	    "{\"to\":\"%s\",\"amount\":\"1.00\"}", ring.names[1]);
	/* Every worker of both instances has a connection to kill. */
	for (int i = 0; i < 40; i++) {
		ck_assert_int_eq(
		    api("POST", "/transfer", ring.tokens[0], body, NULL, r), 0);
		ck_assert_int_eq(r->status, 201);
		resp_free(r);
	}
	/*
	 * Kills the app's connections and waits until those (not any new
	 * one: the hold sweeper reconnects on its own) are gone.
	 */
	ck_assert_int_eq(
	    stack_cmd(
	        "ids=$(stack_sql \"$STACK_DIR\" \"SELECT "
	        "GROUP_CONCAT(id) FROM information_schema.PROCESSLIST "
	        "WHERE USER = 'payd'\"); "
	        "[ -n \"$ids\" ] && [ \"$ids\" != NULL ] || exit 1; "
	        "for i in $(echo \"$ids\" | tr , ' '); do "
	        "stack_sql \"$STACK_DIR\" \"KILL $i\" 2>/dev/null; done; "
	        "n=0; while [ \"$(stack_sql \"$STACK_DIR\" \"SELECT "
	        "COUNT(*) FROM information_schema.PROCESSLIST WHERE id IN "
	        "($ids)\")\" != 0 ] && [ $n -lt 50 ]; do "
	        "sleep 0.1; n=$((n + 1)); done; [ $n -lt 50 ]"),
	    0);
	for (int i = 0; i < 40; i++) {
		ck_assert_int_eq(
		    api("POST", "/transfer", ring.tokens[0], body, NULL, r), 0);
		ck_assert_msg(r->status == 201,
		    "transfer %d after the kill: %ld %s", i, r->status,
		    r->body);
		resp_free(r);
	}
	/* 80 transfers of 1.00 + 0.75, each applied once. */
	ck_assert_str_eq(
	    balance_of(ring.tokens[0], bal, sizeof(bal)), "6860.00");
	ck_assert_str_eq(
	    balance_of(ring.tokens[1], bal, sizeof(bal)), "7080.00");
	ck_assert_int_eq(run_audit(), 0);
	free(r);
}
END_TEST

Suite *
faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *tc = tcase_create("faults");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_worker_sigkill__replaced_and_serving);
	tcase_add_test(
	    tc, test_worker_sigkill_under_money_load__one_request_at_most);
	tcase_add_test(
	    tc, test_db_stopped_under_money_load__503s_then_recovery);
	tcase_add_test(tc, test_db_stopped__503_fast_then_recovers);
	tcase_add_test(
	    tc, test_db_connections_killed_while_idle__next_requests_succeed);
	suite_add_tcase(s, tc);
	return s;
}
