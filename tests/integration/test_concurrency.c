/*
 * Goal: concurrency from fork()ed clients: no balance below zero, no transfer
 * lost or applied twice, exact sums, and `payd audit` sound after each.
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

Suite *concurrency_suite(void);

START_TEST(test_concurrency__50_overdraws__exactly_one_succeeds)
{
	struct shot *shots = shared(50 * sizeof(*shots));
	struct user a, b;
	int ok = 0;

	make_user(&a, "ca");
	make_user(&b, "cb");
	fund(&a, "10.00");
	/* Every client tries 5.01 + 0.75 from 10.00. */
	race.from = &a;
	copy_text(race.to, sizeof(race.to), b.name);
	race.amount = "5.01";
	race.key = NULL;
	run_clients(50, race_client, shots);
	for (int i = 0; i < 50; i++) {
		if (shots[i].status == 201) {
			ok++;
			continue;
		}
		ck_assert_msg(
		    shots[i].status == 422 &&
		        strcmp(shots[i].err, "insufficient_funds") == 0,
		    "client %d: %ld %s", i, shots[i].status, shots[i].body);
	}
	ck_assert_int_eq(ok, 1);
	ck_assert_int_eq(balance_minor(&a), 1000 - 576);
	ck_assert_int_eq(balance_minor(&b), 501);
	ck_assert_int_eq(run_audit(), 0);
	munmap(shots, 50 * sizeof(*shots));
}
END_TEST

/* The random mesh: users and how many transfers each client makes. */
#define MESH_USERS 20
#define MESH_CLIENTS 10
#define MESH_PER_CLIENT 50

static struct user mesh[MESH_USERS];

struct mesh_count {
	int created;
	int refused;
	int other;
	char last_other[256];
};

static void
mesh_client(int i, void *arg)
{
	struct mesh_count *c = arg;
	struct resp *r = calloc(1, sizeof(*r));
	unsigned seed = (unsigned)(getpid() * 7919 + i);
	char amount[32];

	if (r == NULL)
		_exit(1);
	for (int n = 0; n < MESH_PER_CLIENT; n++) {
		int from = rand_r(&seed) % MESH_USERS;
		int to =
		    (from + 1 + rand_r(&seed) % (MESH_USERS - 1)) % MESH_USERS;
		int cents = 1 + rand_r(&seed) % 3000;

		(void)snprintf(amount, sizeof(amount), "%d.%02d", cents / 100,
		    cents % 100);
		(void)transfer(&mesh[from], mesh[to].name, amount, NULL, r);
		if (r->status == 201) {
			__atomic_fetch_add(&c->created, 1, __ATOMIC_SEQ_CST);
		} else if (r->status == 422 &&
		           strcmp(resp_err(r), "insufficient_funds") == 0) {
			__atomic_fetch_add(&c->refused, 1, __ATOMIC_SEQ_CST);
		} else {
			__atomic_fetch_add(&c->other, 1, __ATOMIC_SEQ_CST);
			(void)snprintf(c->last_other, sizeof(c->last_other),
			    "%ld %.200s", r->status, r->body);
		}
	}
	resp_free(r);
	free(r);
}

START_TEST(test_concurrency__500_random_transfers__conserved)
{
	struct mesh_count *c = shared(sizeof(*c));
	long long total = 0;

	for (int i = 0; i < MESH_USERS; i++) {
		make_user(&mesh[i], "m");
		fund(&mesh[i], "50.00");
	}
	run_clients(MESH_CLIENTS, mesh_client, c);
	ck_assert_msg(c->other == 0, "%d unexpected answers, last: %s",
	    c->other, c->last_other);
	ck_assert_int_eq(
	    c->created + c->refused, MESH_CLIENTS * MESH_PER_CLIENT);
	ck_assert_int_gt(c->created, 0);
	for (int i = 0; i < MESH_USERS; i++) {
		long long b = balance_minor(&mesh[i]);

		ck_assert_int_ge(b, 0);
		total += b;
	}
	/* Users plus the fee account (0.75 a transfer) hold every top-up. */
	ck_assert_int_eq(total + 75LL * c->created, MESH_USERS * 5000LL);
	ck_assert_int_eq(run_audit(), 0);
	munmap(c, sizeof(*c));
}
END_TEST

/* Crossing transfers: even clients pay A->B, odd ones B->A. */
static struct user cross[2];

static void
cross_client(int i, void *arg)
{
	int *failed = arg;
	struct resp *r = calloc(1, sizeof(*r));
	const struct user *from = &cross[i % 2], *to = &cross[1 - i % 2];

	if (r == NULL)
		_exit(1);
	for (int n = 0; n < 20; n++) {
		(void)transfer(from, to->name, "1.00", NULL, r);
		if (r->status != 201)
			__atomic_fetch_add(failed, 1, __ATOMIC_SEQ_CST);
	}
	resp_free(r);
	free(r);
}

START_TEST(test_concurrency__crossing_transfers__all_complete)
{
	int *failed = shared(sizeof(*failed));

	make_user(&cross[0], "xa");
	make_user(&cross[1], "xb");
	fund(&cross[0], "500.00");
	fund(&cross[1], "500.00");
	run_clients(10, cross_client, failed);
	ck_assert_int_eq(*failed, 0);
	/* Each side sent 100 x 1.75 and received 100 x 1.00. */
	ck_assert_int_eq(balance_minor(&cross[0]), 50000 - 17500 + 10000);
	ck_assert_int_eq(balance_minor(&cross[1]), 50000 - 17500 + 10000);
	ck_assert_int_eq(run_audit(), 0);
	munmap(failed, sizeof(*failed));
}
END_TEST

static const struct user *topup_user;

static void
topup_client(int i, void *arg)
{
	int *failed = arg;

	(void)i;
	if (top_up(topup_user->token, "1.00") != 200)
		__atomic_fetch_add(failed, 1, __ATOMIC_SEQ_CST);
}

START_TEST(test_concurrency__50_top_ups__exact_sum)
{
	int *failed = shared(sizeof(*failed));
	struct user a;

	make_user(&a, "cu");
	fund(&a, "0.50");
	topup_user = &a;
	run_clients(50, topup_client, failed);
	ck_assert_int_eq(*failed, 0);
	ck_assert_int_eq(balance_minor(&a), 5050);
	ck_assert_int_eq(run_audit(), 0);
	munmap(failed, sizeof(*failed));
}
END_TEST

Suite *
concurrency_suite(void)
{
	Suite *s = suite_create("concurrency");
	TCase *tc = tcase_create("concurrency");

	tcase_add_checked_fixture(tc, resp_setup, resp_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(
	    tc, test_concurrency__50_overdraws__exactly_one_succeeds);
	tcase_add_test(tc, test_concurrency__500_random_transfers__conserved);
	tcase_add_test(tc, test_concurrency__crossing_transfers__all_complete);
	tcase_add_test(tc, test_concurrency__50_top_ups__exact_sum);
	suite_add_tcase(s, tc);
	return s;
}
