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

/* Seconds on the monotonic clock. */
double load_now_s(void);

#endif /* LOAD_H */
