/*
 * GET /balance and POST /balance (API.md): the caller's balance, and a
 * top-up of it as one atomic transaction.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "h_money.h"

/*
 * The caller's name, balance and available come from the row that
 * auth_user() (or auth_users_load(), for several requests at once) has
 * just read, in one
 * statement outside any transaction, as a separate read would be: GET
 * /balance costs one database round trip, not two.
 */
void
h_balance_get(struct ctx *ctx)
{
	assert(ctx->user_id > 0 && ctx->user_checked);
	if (h_balance_at(ctx))
		return; /* ?at=: the balance at that time (h_statement.c) */
	handler_balance_available_body(
	    ctx, ctx->balance_minor, ctx->available_minor);
	ctx->resp->status = 200;
}

void
h_balance_post(struct ctx *ctx)
{
	struct ledger_req req;
	struct json_object *obj;
	int n;

	assert(ctx->user_id > 0);
	memset(&req, 0, sizeof(req));
	req.kind = LEDGER_DEPOSIT;
	/* The token is checked, its user not yet: the CALL does that. */
	if (h_money_read(ctx, &req, &obj) != 0) {
		auth_user_before_400(ctx);
		return;
	}
	json_object_put(obj); /* only the amount was needed */
	/* The same top-up is the same amount in cents, however spelt. */
	n = snprintf(
	    req.canon, sizeof(req.canon), "deposit|%" PRId64, req.amount_minor);
	assert(n > 0 && (size_t)n < sizeof(req.canon));
	h_money_run(ctx, &req);
}
