/*
 * Count-bounded load clients for the fault and operations tests (load.h).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "load.h"

/* How often a waiting test looks at the counts. */
#define LOAD_POLL_US (10 * 1000)

/* One client's counts, written by it alone; in shared memory. */
struct load_client {
	int requests;
	int ok;
	int unavailable;
	int other;
	long last_bad;
	double max_s;
	int done; /* it has stopped */
};

struct load {
	int stop; /* set by the test */
	int clients;
	pid_t pids[LOAD_CLIENTS_MAX];
	struct load_client c[LOAD_CLIENTS_MAX];
};

double
load_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
load_client_run(struct load *l, const struct load_spec *spec, int i)
{
	struct load_client *me = &l->c[i];
	struct resp *r = malloc(sizeof(*r));

	while (r != NULL && !__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE) &&
	       me->requests < spec->max_requests) {
		double t0 = load_now_s(), dt;
		int rc = api(spec->method, spec->path, spec->token[i],
		    spec->body[i], NULL, r);

		dt = load_now_s() - t0;
		if (dt > me->max_s)
			me->max_s = dt;
		if (rc == 0 && r->status == spec->ok_status) {
			__atomic_add_fetch(&me->ok, 1, __ATOMIC_RELEASE);
		} else if (rc == 0 && r->status == 503) {
			__atomic_add_fetch(
			    &me->unavailable, 1, __ATOMIC_RELEASE);
		} else {
			me->last_bad = rc == 0 ? r->status : -1;
			__atomic_add_fetch(&me->other, 1, __ATOMIC_RELEASE);
		}
		__atomic_add_fetch(&me->requests, 1, __ATOMIC_RELEASE);
		resp_free(r);
	}
	__atomic_store_n(&me->done, 1, __ATOMIC_RELEASE);
	_exit(0);
}

struct load *
load_start(const struct load_spec *spec)
{
	struct load *l = mmap(NULL, sizeof(*l), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(l, MAP_FAILED);
	ck_assert_int_le(spec->clients, LOAD_CLIENTS_MAX);
	memset(l, 0, sizeof(*l));
	l->clients = spec->clients;
	for (int i = 0; i < spec->clients; i++) {
		l->pids[i] = fork();
		ck_assert_int_ge(l->pids[i], 0);
		if (l->pids[i] == 0)
			load_client_run(l, spec, i);
	}
	return l;
}

void
load_count(const struct load *l, struct load_count *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (int i = 0; i < l->clients; i++) {
		const struct load_client *c = &l->c[i];

		sum->requests +=
		    __atomic_load_n(&c->requests, __ATOMIC_ACQUIRE);
		sum->ok += __atomic_load_n(&c->ok, __ATOMIC_ACQUIRE);
		sum->unavailable +=
		    __atomic_load_n(&c->unavailable, __ATOMIC_ACQUIRE);
		sum->other += __atomic_load_n(&c->other, __ATOMIC_ACQUIRE);
		if (c->last_bad != 0)
			sum->last_bad = c->last_bad;
		if (c->max_s > sum->max_s)
			sum->max_s = c->max_s;
	}
}

static bool
load_all_done(const struct load *l)
{
	for (int i = 0; i < l->clients; i++)
		if (!__atomic_load_n(&l->c[i].done, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

/*
 * Waits until the field at offset off of the summed counts reaches n;
 * fails the test when the clients all stopped first (they reached
 * max_requests) or when nothing moved for LOAD_WAIT_GUARD_S.
 */
static void
load_wait_field(const struct load *l, size_t off, int n, const char *what)
{
	struct load_count sum;
	int last = -1;
	double moved = load_now_s();

	for (;;) {
		int v;

		load_count(l, &sum);
		memcpy(&v, (const char *)&sum + off, sizeof(v));
		if (v >= n)
			return;
		if (sum.requests != last) {
			last = sum.requests;
			moved = load_now_s();
		}
		ck_assert_msg(!load_all_done(l),
		    "the clients reached their bound before %d %s (%d)", n,
		    what, v);
		ck_assert_msg(load_now_s() - moved < LOAD_WAIT_GUARD_S,
		    "no request answered for %d s, waiting for %d %s (%d)",
		    LOAD_WAIT_GUARD_S, n, what, v);
		(void)usleep(LOAD_POLL_US);
	}
}

void
load_wait_requests(const struct load *l, int n)
{
	load_wait_field(
	    l, offsetof(struct load_count, requests), n, "requests");
}

void
load_wait_ok(const struct load *l, int n)
{
	load_wait_field(l, offsetof(struct load_count, ok), n, "successes");
}

void
load_wait_unavailable(const struct load *l, int n)
{
	load_wait_field(l, offsetof(struct load_count, unavailable), n, "503s");
}

void
load_stop(struct load *l, struct load_count *sum)
{
	__atomic_store_n(&l->stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < l->clients; i++)
		(void)waitpid(l->pids[i], NULL, 0);
	load_count(l, sum);
	munmap(l, sizeof(*l));
}

void
load_ring_users(struct load_ring *ring, const char *prefix)
{
	for (int i = 0; i < LOAD_RING_USERS; i++) {
		unique_name(prefix, ring->names[i], sizeof(ring->names[i]));
		ck_assert_int_gt(
		    register_login(ring->names[i], ring->tokens[i]), 0);
		ck_assert_int_eq(
		    top_up(ring->tokens[i], LOAD_RING_FUNDING), 200);
	}
}

struct load *
load_ring_start(struct load_ring *ring)
{
	struct load_spec spec = {
	    .clients = LOAD_RING_USERS,
	    .method = "POST",
	    .path = "/transfer",
	    .ok_status = 201,
	    .max_requests = LOAD_RING_TRANSFERS_MAX,
	};

	for (int c = 0; c < LOAD_RING_USERS; c++) {
		char to[sizeof(ring->names[0])];

		/* A copy: the name and the body are parts of one object, which
		 * -Werror=restrict (the sanitizer build's -O1) refuses. */
		memcpy(to, ring->names[(c + 1) % LOAD_RING_USERS], sizeof(to));
		(void)snprintf(ring->bodies[c], sizeof(ring->bodies[c]),
		    "{\"to\":\"%s\",\"amount\":\"1.00\"}", to);
		spec.token[c] = ring->tokens[c];
		spec.body[c] = ring->bodies[c];
	}
	return load_start(&spec);
}
