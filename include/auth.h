/*
 * Token checking for every protected route, in one place (API.md
 * Authentication).
 */
#ifndef AUTH_H
#define AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "handler.h"

/*
 * The token, then the user (docs/api.md Authentication). auth_token()
 * checks the Authorization header of ctx->req (no database): the Bearer
 * or JWT scheme, an HS256 token signed with the configured secret, not
 * expired (30 s skew). It fills ctx->user_id, ctx->username and
 * ctx->token_gen from the claims, with ctx->user_checked false, and
 * returns 0; or -1 after answering 401. auth_user() then reads the user's
 * row (nothing when user_checked): the user must still exist under the
 * token's name, with the token's generation (a token from before the
 * user's last POST /logout or POST /password is refused); the read asks
 * payd_is_token_user (sql/R__payd_is_token_user.sql), the rule's one
 * place. It sets
 * user_checked and balance_minor and returns 0; or -1 after answering
 * 401, or 503 when the database cannot say (500 when it fails
 * otherwise). The money routes (ROUTE_TOKEN in app/router.c: POST
 * /balance, /transfer, /transfers/batch, /holds, /holds/{id}/capture and
 * /void, /transfers/{id}/refund) call only auth_token(): their one
 * database call checks the user itself (docs/money.md, caller check).
 */
int auth_token(struct ctx *ctx);
int auth_user(struct ctx *ctx);

/*
 * auth_user() for up to WORKER_BATCH_MAX requests at once, in one
 * statement: the requests that a worker took together (worker.c), each
 * with a good token. A request whose user payd_is_token_user finds under
 * its token's name and generation is checked, with its balance; any other is
 * left as it was, and its own
 * auth_user() then answers (401, 503, 500), as it would alone. Reads
 * nothing for fewer than two requests.
 */
void auth_users_load(struct ctx *const *ctxs, size_t n);

/*
 * For a route whose database call checks the user (the money routes,
 * above) when it answers 400 before that call: reads the user's row
 * and, when the user is gone or the database cannot say, answers that
 * instead (401, 503 or 500), so that a token whose user is gone learns
 * nothing more than on any other route.
 */
void auth_user_before_400(struct ctx *ctx);

/* The body of POST /register and POST /login. */
struct auth_creds {
	struct json_object *obj; /* owns the two strings below */
	const char *username;
	size_t username_len;
	const char *password;
	size_t password_len;
};

/*
 * Parses ctx->req's body into creds: a JSON object with the string fields
 * username and password (other fields are ignored). Only the types are
 * checked here; each handler applies its own rules to the values. Returns
 * 0, or -1 after answering 400 with a message that names the field. On
 * success the caller must auth_creds_free().
 */
int auth_creds_read(struct ctx *ctx, struct auth_creds *creds);

/*
 * Reads the string field of obj into *out and *len (owned by obj).
 * Returns 0, or -1 after answering 400 with a message that names the
 * field (absent, not a string, or with a NUL).
 */
int auth_field_read(struct ctx *ctx, struct json_object *obj, const char *field,
    const char **out, size_t *len);

/* Wipes the password in creds and releases the parsed body. */
void auth_creds_free(struct auth_creds *creds);

#endif /* AUTH_H */
