/*
 * The route table: method + path -> handler, with an auth flag.
 */
#ifndef ROUTER_H
#define ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "handler.h"

/* The kinds of request that a worker takes, and loads, together. */
enum router_batch {
	ROUTER_ALONE,     /* runs on its own, and ends a batch */
	ROUTER_READS,     /* GET /balance, GET /transactions: auth_users_load */
	ROUTER_TRANSFERS, /* POST /transfer: h_transfer_batch */
	ROUTER_BATCH__MAX
};

/*
 * A request in two halves, so that a worker can serve several requests of
 * one kind with one statement between them (worker.c):
 *
 * router_route() finds the route of ctx->req and checks its token. It
 * answers what needs no handler: 404 for an unknown path, 405 with Allow
 * for a wrong method, 415 for a body that is not JSON, 401 for a missing
 * or bad token. Sets ctx->route. Returns the kind of batch the request
 * may join (ROUTER_ALONE once it is answered).
 *
 * router_load() is the batch step for the n requests of one kind: reads
 * their callers' rows in one statement (ROUTER_READS), or runs their
 * transfers in one transaction and answers them (ROUTER_TRANSFERS,
 * h_transfer_batch).
 *
 * router_run() runs the route found: it reads the caller's row unless
 * that is done (401 when the user is gone), then the handler, which
 * answers from what router_load() did, if anything.
 */
unsigned router_route(struct ctx *ctx);
void router_load(struct ctx *const *ctxs, size_t n);
void router_run(struct ctx *ctx);

/*
 * The name of every route (its logs' and metrics' route=), then the two
 * answers of no route ("not_found", "method_not_allowed"), into out (cap
 * entries at least). Returns how many.
 */
size_t router_names(const char **out, size_t cap);

/* Both halves, for one request. */
void router_dispatch(struct ctx *ctx);

#endif /* ROUTER_H */
