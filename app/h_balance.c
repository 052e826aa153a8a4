/*
 * GET /balance and POST /balance (API.md): the caller's balance, and a
 * top-up of it as one atomic transaction.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ledger.h"
#include "money.h"

/*
 * The caller's name and balance come from the row auth_check() has just
 * read (one statement, outside any transaction, as a separate read would
 * be): GET /balance costs one database round trip, not two.
 */
void
h_balance_get(struct ctx *ctx)
{
	char balance[MONEY_TEXT_SIZE_MAX];
	struct buf *b = &ctx->resp->body;

	assert(ctx->user_id > 0 && ctx->username[0] != '\0');
	/* The schema's CHECK keeps every balance in [0, cap]. */
	assert(ctx->balance_minor >= 0 &&
	       ctx->balance_minor <= MONEY_BALANCE_MAX_MINOR);
	money_format(ctx->balance_minor, balance);
	buf_reset(b);
	(void)buf_puts(b, "{\"username\":");
	(void)buf_json_str(b, ctx->username);
	(void)buf_printf(
	    b, ",\"balance\":\"%s\",\"currency\":\"USD\"}", balance);
	ctx->resp->status = 200;
}

void
h_balance_post(struct ctx *ctx)
{
	struct ledger_op op;
	struct json_object *obj;
	int n;

	assert(ctx->user_id > 0);
	memset(&op, 0, sizeof(op));
	op.kind = LEDGER_DEPOSIT;
	if (ledger_read_request(ctx, &op, &obj) != 0)
		return;
	json_object_put(obj); /* only the amount was needed */
	/* The same top-up is the same amount in cents, however spelt. */
	n = snprintf(
	    op.canon, sizeof(op.canon), "deposit|%" PRId64, op.amount_minor);
	assert(n > 0 && (size_t)n < sizeof(op.canon));
	ledger_run(ctx, &op);
}
