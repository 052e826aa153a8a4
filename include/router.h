/*
 * The route table: method + path -> handler, with an auth flag.
 */
#ifndef ROUTER_H
#define ROUTER_H

#include <stdbool.h>

#include "handler.h"

/*
 * A request in two halves, so that a worker can read the callers of
 * several requests in one statement between them (worker.c):
 *
 * router_route() finds the route of ctx->req and checks its token. It
 * answers what needs no handler: 404 for an unknown path, 405 with Allow
 * for a wrong method, 415 for a body that is not JSON, 401 for a missing
 * or bad token. Sets ctx->route. Returns true when the route needs the
 * caller's row (auth_user()), which auth_users_load() may then read.
 *
 * router_run() runs the route found: it reads the caller's row unless
 * that is done (401 when the user is gone), then the handler.
 */
bool router_route(struct ctx *ctx);
void router_run(struct ctx *ctx);

/* Both halves, for one request. */
void router_dispatch(struct ctx *ctx);

#endif /* ROUTER_H */
