/*
 * What a handler receives: the request, the response to fill, the worker's
 * database and configuration, and the caller when the route needs a token.
 */
#ifndef HANDLER_H
#define HANDLER_H

#include <stdbool.h>
#include <stdint.h>

#include "bounds.h"
#include "config.h"
#include "db.h"
#include "http.h"

struct route; /* router.c */

struct ctx {
	const struct config *cfg;
	struct db *db;
	struct http_req *req;
	struct http_resp *resp;
	const char *route;       /* route name, for logs */
	const struct route *hit; /* NULL once answered without a handler */
	int64_t user_id;         /* 0 on public routes */
	char username[USERNAME_LEN_MAX + 1]; /* "" on public routes */
	/*
	 * True once the caller's row has confirmed the token's user (always
	 * before a handler runs, but for POST /balance and POST /transfer,
	 * whose CALL checks the user itself: auth.h).
	 */
	bool user_checked;
	/*
	 * The caller's balance as auth_user() or auth_users_load() read it
	 * with the user's row,
	 * outside any transaction: GET /balance answers it without reading
	 * the same row again. Never used inside a money movement.
	 */
	int64_t balance_minor;
};

/* One file each: app/h_<name>.c. Each fills ctx->resp. */
void h_healthz(struct ctx *ctx);
void h_register(struct ctx *ctx);
void h_login(struct ctx *ctx);
void h_balance_get(struct ctx *ctx);
void h_balance_post(struct ctx *ctx);
void h_transfer(struct ctx *ctx);
void h_transactions(struct ctx *ctx);
void h_metrics(struct ctx *ctx);

/*
 * Maps a database outcome that a handler cannot handle itself to the API:
 * DB_CONN and DB_RETRY are 503 unavailable, anything else 500.
 */
void handler_db_error(struct ctx *ctx, enum db_rc rc);

/*
 * Writes the body of GET and POST /balance (API.md) for the caller with
 * this balance: {"username","balance","currency"}. Leaves the status.
 */
void handler_balance_body(struct ctx *ctx, int64_t balance_minor);

#endif /* HANDLER_H */
