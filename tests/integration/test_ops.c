/*
 * Goal: operations under load lose no request (issue 5): /metrics counts
 * what happens, SIGHUP replaces workers with zero failed requests, a bad
 * configuration is refused while the old workers serve, one of two app
 * instances stopped under a load of transfers costs nothing, and nginx
 * rate-limits the password endpoints with the contract's error shape.
 */
#include <check.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "load.h"

Suite *ops_suite(void);

#define LOAD_CLIENTS 4
/* Answers each phase of a load test waits for, before it moves on. */
#define OPS_PHASE_ANSWERS 50
/* A bound on each load client, far above what the phases need. */
#define OPS_REQUESTS_MAX 20000
/* Login requests a flood client sends at most while it waits for a 429. */
#define OPS_FLOOD_MAX 5000

/* Starts LOAD_CLIENTS clients that GET path until stopped. */
static struct load *
get_load_start(const char *path)
{
	struct load_spec spec = {
	    .clients = LOAD_CLIENTS,
	    .method = "GET",
	    .path = path,
	    .ok_status = 200,
	    .max_requests = OPS_REQUESTS_MAX,
	};

	return load_start(&spec);
}

/* The load goes on for OPS_PHASE_ANSWERS more requests. */
static void
load_more(const struct load *l)
{
	struct load_count now;

	load_count(l, &now);
	load_wait_requests(l, now.requests + OPS_PHASE_ANSWERS);
}

/*
 * The highest value of one series ("name value" line) that /metrics shows
 * over a few reads: each app instance has its own counters, and nginx
 * spreads the reads over both.
 */
static long long
metric_max(const char *series)
{
	long long best = -1;
	char line[256];
	size_t len;

	/* The sample line, not the # HELP or # TYPE line of the series. */
	(void)snprintf(line, sizeof(line), "\n%s ", series);
	len = strlen(line);

	for (int i = 0; i < 8; i++) {
		const char *p;
		long long n;

		ck_assert_int_eq(
		    api("GET", "/metrics", NULL, NULL, NULL, R), 0);
		ck_assert_int_eq(R->status, 200);
		p = strstr(R->body, line);
		if (p != NULL && sscanf(p + len, "%lld", &n) == 1 && n > best)
			best = n;
		resp_free(R);
	}
	return best;
}

static long long
healthz_count(void)
{
	return metric_max(
	    "payd_requests_total{route=\"healthz\",status=\"200\"}");
}

/*
 * Requests are counted under their route's own name, taken from the route
 * table, for every route: POST /password and POST /logout too (once "-"
 * when metrics kept a list of its own).
 */
START_TEST(test_metrics__every_route_by_its_name)
{
	static const char *const paths[] = {"/password", "/logout"};
	static const char *const names[] = {"route=\"password\",status=\"401\"",
	    "route=\"logout\",status=\"401\""};

	for (size_t p = 0; p < 2; p++) {
		bool seen = false;

		/* Two instances behind nginx, each with its own counters. */
		for (int i = 0; i < 20 && !seen; i++) {
			ck_assert_int_eq(
			    api("POST", paths[p], NULL, "{}", NULL, R), 0);
			ck_assert_int_eq(R->status, 401);
			resp_free(R);
			ck_assert_int_eq(
			    api("GET", "/metrics", NULL, NULL, NULL, R), 0);
			seen = strstr(R->body, names[p]) != NULL;
			resp_free(R);
		}
		ck_assert_msg(seen, "no %s in /metrics", names[p]);
	}
}
END_TEST

START_TEST(test_metrics__prometheus_text__counters_move)
{
	char ct[128];
	long long before, after;

	ck_assert_int_eq(api("GET", "/metrics", NULL, NULL, NULL, R), 0);
	ck_assert_int_eq(R->status, 200);
	ck_assert_ptr_nonnull(resp_header(R, "Content-Type", ct, sizeof(ct)));
	ck_assert_ptr_nonnull(strstr(ct, "text/plain"));
	ck_assert_ptr_nonnull(
	    strstr(R->body, "# TYPE payd_request_duration_seconds histogram"));
	ck_assert_ptr_nonnull(strstr(R->body, "payd_workers_alive 2\n"));
	ck_assert_ptr_nonnull(strstr(R->body, "payd_transfers_total "));
	ck_assert_ptr_nonnull(strstr(R->body, "payd_db_retries_total "));
	resp_free(R);
	before = healthz_count();
	for (int i = 0; i < 40; i++) {
		ck_assert_int_eq(
		    api("GET", "/healthz", NULL, NULL, NULL, R), 0);
		resp_free(R);
	}
	after = healthz_count();
	ck_assert_msg(
	    after >= before + 10, "healthz count %lld -> %lld", before, after);
}
END_TEST

START_TEST(test_metrics__transfers_and_refusals__counted)
{
	char a[40], b[40], ta[1024], tb[1024], pay[128], overdraw[128];
	long long moved0, moved1, poor0, poor1;

	unique_name("mtr", a, sizeof(a));
	unique_name("mtr", b, sizeof(b));
	ck_assert_int_gt(register_login(a, ta), 0);
	ck_assert_int_gt(register_login(b, tb), 0);
	ck_assert_int_eq(top_up(ta, "100.00"), 200);
	moved0 = metric_max("payd_transfer_amount_minor_total");
	poor0 = metric_max("payd_insufficient_funds_total");
	(void)snprintf(
	    pay, sizeof(pay), "{\"to\":\"%s\",\"amount\":\"1.00\"}", b);
	(void)snprintf(overdraw, sizeof(overdraw),
	    "{\"to\":\"%s\",\"amount\":\"50.00\"}", a);
	for (int i = 0; i < 10; i++) {
		ck_assert_int_eq(api("POST", "/transfer", ta, pay, NULL, R), 0);
		ck_assert_int_eq(R->status, 201);
		resp_free(R);
		/* b has nothing: refused. */
		ck_assert_int_eq(
		    api("POST", "/transfer", tb, overdraw, NULL, R), 0);
		ck_assert_int_eq(R->status, 422);
		resp_free(R);
	}
	moved1 = metric_max("payd_transfer_amount_minor_total");
	poor1 = metric_max("payd_insufficient_funds_total");
	/* Ten transfers of 100 cents over two instances: at least a third. */
	ck_assert_msg(moved1 >= moved0 + 300, "%lld -> %lld", moved0, moved1);
	ck_assert_msg(poor1 >= poor0 + 3, "%lld -> %lld", poor0, poor1);
}
END_TEST

/* One more phase of the load, then its end: not one request failed. */
static void
ops_load_end(struct load *l)
{
	struct load_count sum;

	load_more(l);
	load_stop(l, &sum);
	ck_assert_msg(sum.other + sum.unavailable == 0,
	    "%d of %d failed (last %ld)", sum.other + sum.unavailable,
	    sum.requests, sum.last_bad);
}

START_TEST(test_sighup_under_load__zero_failures)
{
	struct load *l = get_load_start("/healthz");
	int r1 = stack_retired_count("payd"), r2 = stack_retired_count("payd2");

	load_wait_requests(l, OPS_PHASE_ANSWERS);
	ck_assert_int_eq(stack_cmd("kill -HUP \"$(cat \"$STACK_DIR/"
	                           "payd.pid\")\""),
	    0);
	load_more(l);
	ck_assert_int_eq(stack_cmd("kill -HUP \"$(cat \"$STACK_DIR/"
	                           "payd2.pid\")\""),
	    0);
	/* Both instances replaced their two workers under the load. */
	ck_assert_int_eq(
	    stack_wait("[ " STACK_RETIRED_COUNT " -ge %d ]", "payd", r1 + 2),
	    0);
	ck_assert_int_eq(
	    stack_wait("[ " STACK_RETIRED_COUNT " -ge %d ]", "payd2", r2 + 2),
	    0);
	ops_load_end(l);
	ck_assert_int_eq(stack_cmd("grep -q 'event=reload ' "
	                           "\"$STACK_DIR/payd.log\""),
	    0);
}
END_TEST

START_TEST(test_sighup_bad_config__refused_old_workers_serve)
{
	ck_assert_int_eq(
	    stack_cmd(
	        "cp \"$STACK_DIR/payd.conf\" "
	        "\"$STACK_DIR/payd.conf.good\" && echo 'workers = lots' >> "
	        "\"$STACK_DIR/payd.conf\" && kill -HUP \"$(cat "
	        "\"$STACK_DIR/payd.pid\")\""),
	    0);
	ck_assert_int_eq(stack_wait("grep -q 'event=reload_refused' "
	                            "\"$STACK_DIR/payd.log\""),
	    0);
	for (int i = 0; i < 20; i++) {
		ck_assert_int_eq(
		    api("GET", "/healthz", NULL, NULL, NULL, R), 0);
		ck_assert_int_eq(R->status, 200);
		resp_free(R);
	}
	ck_assert_int_eq(stack_cmd("mv \"$STACK_DIR/payd.conf.good\" "
	                           "\"$STACK_DIR/payd.conf\""),
	    0);
}
END_TEST

/*
 * One of the two instances stopped under a load of transfers: nginx
 * never sends a POST twice, so a request queued on the stopped instance's
 * socket that is reset, or a connection made to it after its workers left,
 * would fail. The master unlinks its socket first (nginx then connects to
 * the other instance) and the workers serve what is queued before they
 * exit: not one request fails.
 */
START_TEST(test_instance_stopped_under_transfer_load__zero_failures)
{
	static struct load_ring ring;
	struct load *l;

	load_ring_users(&ring, "stp");
	l = load_ring_start(&ring);
	load_wait_requests(l, OPS_PHASE_ANSWERS);
	/* SIGTERM: the path goes first, then the queue is served. */
	ck_assert_int_eq(stack_cmd("STACK_NAME=payd2 stack_app_stop "
	                           "\"$STACK_DIR\""),
	    0);
	ops_load_end(l);
	ck_assert_int_eq(stack_cmd("grep -q 'event=stop msg=drained' "
	                           "\"$STACK_DIR/payd2.log\""),
	    0);
	ck_assert_int_eq(stack_cmd("STACK_NAME=payd2 stack_app_start "
	                           "\"$STACK_DIR\" \"$PAYD_BIN\""),
	    0);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

START_TEST(test_login_flood__429_rate_limited_with_retry_after)
{
	/* Answered 400 by the app at once: only nginx's limit is measured. */
	static const char body[] = "{}";
	int *seen = mmap(NULL, sizeof(int) * 2, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pids[LOAD_CLIENTS];

	ck_assert_ptr_ne(seen, MAP_FAILED);
	seen[0] = seen[1] = 0;
	/*
	 * Past the burst, from parallel clients, until each has seen a 429
	 * (bounded by a count: a slow machine sends more before its first).
	 */
	for (int c = 0; c < LOAD_CLIENTS; c++) {
		pids[c] = fork();
		ck_assert_int_ge(pids[c], 0);
		if (pids[c] == 0) {
			struct resp *r = malloc(sizeof(*r));
			char v[64];

			bool limited = false;

			for (int i = 0;
			     r != NULL && !limited && i < OPS_FLOOD_MAX; i++) {
				if (api("POST", "/login", NULL, body, NULL,
				        r) == 0 &&
				    r->status == 429) {
					limited = true;
					__atomic_fetch_add(
					    &seen[0], 1, __ATOMIC_RELAXED);
					if (strcmp(resp_err(r),
					        "rate_limited") == 0 &&
					    resp_header(r, "Retry-After", v,
					        sizeof(v)) != NULL &&
					    resp_header(r, "Content-Type", v,
					        sizeof(v)) != NULL &&
					    strcmp(v, "application/json; "
					              "charset=utf-8") == 0)
						__atomic_fetch_add(&seen[1], 1,
						    __ATOMIC_RELAXED);
				}
				resp_free(r);
			}
			_exit(0);
		}
	}
	for (int c = 0; c < LOAD_CLIENTS; c++)
		(void)waitpid(pids[c], NULL, 0);
	ck_assert_int_gt(seen[0], 0);
	/* Every 429 has the contract's shape and Retry-After. */
	ck_assert_int_eq(seen[1], seen[0]);
	munmap(seen, sizeof(int) * 2);
	/*
	 * The bucket drains at nginx's rate (AUTH_RATE a second, on the
	 * clock, not on this machine's speed): later tests are not limited.
	 */
	sleep(5);
}
END_TEST

Suite *
ops_suite(void)
{
	Suite *s = suite_create("ops");
	TCase *tc = tcase_create("ops");

	tcase_add_checked_fixture(tc, resp_setup, resp_teardown);
	/* A guard against a hang: ASan on a loaded machine is slow. */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_metrics__prometheus_text__counters_move);
	tcase_add_test(tc, test_metrics__every_route_by_its_name);
	tcase_add_test(tc, test_metrics__transfers_and_refusals__counted);
	tcase_add_test(tc, test_sighup_under_load__zero_failures);
	tcase_add_test(tc, test_sighup_bad_config__refused_old_workers_serve);
	tcase_add_test(
	    tc, test_instance_stopped_under_transfer_load__zero_failures);
	tcase_add_test(tc, test_login_flood__429_rate_limited_with_retry_after);
	suite_add_tcase(s, tc);
	return s;
}
