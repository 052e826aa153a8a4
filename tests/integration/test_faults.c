/*
 * Goal: the service survives its faults (API.md Faults): a dead worker is
 * replaced while the others serve; a stopped database gives 503 within a
 * few seconds and the service recovers by itself when it is back.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

Suite *faults_suite(void);

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The pids of the master's children, space-separated, into out. */
static void
worker_pids(char *out, size_t size)
{
	char path[1024];
	FILE *fp;

	(void)snprintf(path, sizeof(path), "pgrep -P \"$(cat %s/payd.pid)\" "
	    "| sort | tr '\\n' ' '", getenv("STACK_DIR"));
	fp = popen(path, "r");
	ck_assert_ptr_nonnull(fp);
	if (fgets(out, (int)size, fp) == NULL)
		out[0] = '\0';
	pclose(fp);
}

START_TEST(test_worker_sigkill__replaced_and_serving)
{
	struct resp *r = malloc(sizeof(*r));
	char before[512], after[512], victim[32];
	int ok = 0;

	ck_assert_ptr_nonnull(r);
	worker_pids(before, sizeof(before));
	ck_assert_int_gt(strlen(before), 0);
	ck_assert_int_eq(sscanf(before, "%31s", victim), 1);
	ck_assert_int_eq(stack_cmd("kill -9 %s", victim), 0);
	for (int i = 0; i < 50; i++) {
		ck_assert_int_eq(api("GET", "/healthz", NULL, NULL, NULL, r),
		    0);
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
		t0 = now_s();
		ck_assert_int_eq(api("GET", "/healthz", NULL, NULL, NULL, r),
		    0);
		dt = now_s() - t0;
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
	    "stack_db_start \"$STACK_DIR\"' >/dev/null"), 0);
	for (int i = 0; i < 50 && !ok; i++) {
		ck_assert_int_eq(api("GET", "/healthz", NULL, NULL, NULL, r),
		    0);
		ok = r->status == 200;
		resp_free(r);
		if (!ok)
			usleep(100000);
	}
	ck_assert_msg(ok, "no recovery without a restart");
	/* Every worker reconnects: several requests in a row all succeed. */
	for (int i = 0; i < 20; i++) {
		ck_assert_int_eq(api("GET", "/healthz", NULL, NULL, NULL, r),
		    0);
		ck_assert_int_eq(r->status, 200);
		resp_free(r);
	}
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
	tcase_add_test(tc, test_db_stopped__503_fast_then_recovers);
	suite_add_tcase(s, tc);
	return s;
}
