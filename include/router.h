/*
 * The route table: method + path -> handler, with an auth flag.
 */
#ifndef ROUTER_H
#define ROUTER_H

#include "handler.h"

/*
 * Finds the route of ctx->req and runs it: 404 for an unknown path, 405 with
 * Allow for a wrong method, 415 for a body that is not JSON, 401 when the
 * route needs a token and auth_check() refuses. Sets ctx->route.
 */
void router_dispatch(struct ctx *ctx);

#endif /* ROUTER_H */
