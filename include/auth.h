/*
 * Token checking for every protected route, in one place (API.md
 * Authentication).
 */
#ifndef AUTH_H
#define AUTH_H

#include "handler.h"

/*
 * Checks the Authorization header of ctx->req: the Bearer or JWT scheme,
 * an HS256 token signed with the configured secret, not expired (30 s
 * skew), for a user that still exists. On success fills ctx->user_id and
 * ctx->username and returns API__MAX; otherwise returns API_UNAUTHORIZED,
 * or API_UNAVAILABLE when the database cannot say.
 */
enum api_err auth_check(struct ctx *ctx);

#endif /* AUTH_H */
