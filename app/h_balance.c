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
#include "util.h"

static enum db_rc balance_read(
    struct ctx *ctx, char *name, size_t size, int64_t *balance_minor);

/* The caller's row, outside any transaction: a read is safe to repeat. */
static enum db_rc
balance_read(struct ctx *ctx, char *name, size_t size, int64_t *balance_minor)
{
	char created[UTIL_TIME_SIZE + 8];
	struct db_val in[] = {DB_I64_IN(ctx->user_id)};
	struct db_val out[] = {
	    {.type = DB_STR, .str = name, .cap = size},
	    DB_I64_OUT(),
	    DB_STR_OUT(created),
	};
	enum db_rc rc;

	for (int attempt = 0; attempt < 2; attempt++) {
		/* A connection that died while idle: one fresh try. */
		rc = db_ensure(ctx->db);
		if (rc == DB_OK)
			rc = db_row(ctx->db, STMT_USER_GET, in, 1, out, 3);
		if (rc != DB_CONN)
			break;
	}
	if (rc == DB_OK)
		*balance_minor = out[1].i64;
	return rc;
}

void
h_balance_get(struct ctx *ctx)
{
	char name[LEDGER_NAME_SIZE_MAX], balance[MONEY_TEXT_SIZE_MAX];
	struct buf *b = &ctx->resp->body;
	int64_t balance_minor = -1;
	enum db_rc rc;

	assert(ctx->user_id > 0);
	rc = balance_read(ctx, name, sizeof(name), &balance_minor);
	if (rc == DB_NOT_FOUND) {
		/* Deleted since auth_check() saw it: the token is no good. */
		http_error(ctx->resp, API_UNAUTHORIZED, NULL);
		return;
	}
	if (rc != DB_OK) {
		handler_db_error(ctx, rc);
		return;
	}
	/* The schema's CHECK keeps every balance in [0, cap]. */
	assert(balance_minor >= 0 && balance_minor <= MONEY_BALANCE_MAX_MINOR);
	money_format(balance_minor, balance);
	buf_reset(b);
	(void)buf_puts(b, "{\"username\":");
	(void)buf_json_str(b, name);
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
