/*
 * Load for the fault and operations tests, bounded by counts and not by
 * time (a test must pass on a machine ten times faster or three times
 * slower): forked clients send one request again and again until the test
 * says stop, or until each has sent max_requests (the bound a test funds
 * its payers for). The test moves from one phase to the next when the
 * clients have seen enough answers (load_wait_*), never after a sleep.
 */
#ifndef LOAD_H
#define LOAD_H

#include <sys/types.h>

#include "client.h"

#define LOAD_CLIENTS_MAX 8
/*
 * A guard against a hang, not a speed assumption: a phase that sees no
 * progress for this long fails the test.
 */
#define LOAD_WAIT_GUARD_S 60

struct load_spec {
	int clients;
	const char *method;
	const char *path;
	const char *token[LOAD_CLIENTS_MAX]; /* NULL: no token */
	const char *body[LOAD_CLIENTS_MAX];  /* NULL: no body */
	long ok_status;                      /* the answer that is a success */
	int max_requests;                    /* per client */
};

/* What the clients saw, summed over them. */
struct load_count {
	int requests;
	int ok;          /* ok_status */
	int unavailable; /* 503 */
	int other;       /* anything else, transport failures included */
	long last_bad;   /* the last status that was neither ok nor 503 */
	double max_s;    /* the slowest answer */
};

struct load;

struct load *load_start(const struct load_spec *spec);
/* The counts so far. */
void load_count(const struct load *l, struct load_count *sum);
/* Waits until the clients have sent at least n requests in all. */
void load_wait_requests(const struct load *l, int n);
/* Waits until at least n answers were ok_status. */
void load_wait_ok(const struct load *l, int n);
/* Waits until at least n answers were 503. */
void load_wait_unavailable(const struct load *l, int n);
/* Tells the clients to stop, waits for them, and frees l. */
void load_stop(struct load *l, struct load_count *sum);

/*
 * A ring of users paying each other: client i pays user i + 1 1.00 (+0.75
 * fee) a request. Each is funded for LOAD_RING_TRANSFERS_MAX transfers as
 * if it received nothing, and sends no more: on any machine, no answer can
 * be 422 insufficient_funds.
 */
#define LOAD_RING_USERS 4
#define LOAD_RING_TRANSFERS_MAX 4000
#define LOAD_RING_FUNDING "7000.00" /* LOAD_RING_TRANSFERS_MAX x 1.75 */

struct load_ring {
	char names[LOAD_RING_USERS][40];
	char tokens[LOAD_RING_USERS][1024];
	char bodies[LOAD_RING_USERS][128];
};

/* Registers and funds the ring's users (names start with prefix). */
void load_ring_users(struct load_ring *ring, const char *prefix);
/* Starts one client per user: transfers round the ring until stopped. */
struct load *load_ring_start(struct load_ring *ring);

/* Seconds on the monotonic clock. */
double load_now_s(void);

#endif /* LOAD_H */
