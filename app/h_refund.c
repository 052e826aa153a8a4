/*
 * GET /transfers/{id} and POST /transfers/{id}/refund (API.md): parse,
 * run through the ledger (app/ledger_refund.c), render.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "h_money.h"
#include "jsonio.h"
#include "ledger.h"
#include "ledger_refund.h"
#include "money.h"

_Static_assert(
    REFUND_LIST_MAX *REFUND_ROW_JSON_SIZE_MAX + 1024 <= HTTP_RESPONSE_SIZE_MAX,
    "a transfer with all its listed refunds fits the response buffer");

static void refund_head(const struct ledger_transfer_row *t, void *arg);
static void refund_each(const struct ledger_transfer_refund *r, void *arg);
static void refund_write(struct ctx *ctx, const struct ledger_refund_row *row,
    int64_t transfer_id, const char *created_at);

/* The transfer object of GET /transfers/{id}, up to its "refunds". */
static void
refund_head(const struct ledger_transfer_row *t, void *arg)
{
	struct buf *b = arg;
	char amount[MONEY_TEXT_SIZE_MAX], fee[MONEY_TEXT_SIZE_MAX];
	char refunded[MONEY_TEXT_SIZE_MAX];

	money_format(t->amount_minor, amount);
	money_format(t->fee_minor, fee);
	money_format(t->refunded_minor, refunded);
	buf_reset(b);
	(void)buf_printf(b, "{\"id\":%" PRId64 ",\"from\":", t->id);
	(void)buf_json_str(b, t->from);
	(void)buf_puts(b, ",\"to\":");
	(void)buf_json_str(b, t->to);
	(void)buf_printf(b,
	    ",\"amount\":\"%s\",\"fee\":\"%s\",\"refunded\":\"%s\","
	    "\"reversed\":%s,\"hold_id\":",
	    amount, fee, refunded, t->reversed ? "true" : "false");
	if (t->hold_id > 0)
		(void)buf_printf(b, "%" PRId64, t->hold_id);
	else
		(void)buf_puts(b, "null");
	(void)buf_puts(b, ",\"created_at\":");
	(void)buf_json_str(b, t->created_at);
	(void)buf_puts(b, ",\"refunds\":[");
}

static void
refund_each(const struct ledger_transfer_refund *r, void *arg)
{
	struct buf *b = arg;
	char amount[MONEY_TEXT_SIZE_MAX];

	money_format(r->amount_minor, amount);
	if (b->data[b->len - 1] != '[')
		(void)buf_puts(b, ",");
	(void)buf_printf(b,
	    "{\"id\":%" PRId64 ",\"amount\":\"%s\","
	    "\"created_at\":",
	    r->id, amount);
	(void)buf_json_str(b, r->created_at);
	(void)buf_puts(b, "}");
}

void
h_transfers_get(struct ctx *ctx)
{
	struct buf *b = &ctx->resp->body;
	enum db_rc rc;

	assert(ctx->user_id > 0 && ctx->path_id > 0);
	rc = ledger_transfer_get(
	    ctx->db, ctx->user_id, ctx->path_id, refund_head, refund_each, b);
	if (rc == DB_NOT_FOUND) {
		http_error(ctx->resp, API_NOT_FOUND, NULL);
		return;
	}
	if (rc != DB_OK) {
		handler_db_error(ctx, rc);
		return;
	}
	(void)buf_puts(b, "]}");
	ctx->resp->status = 200;
}

/* The 201 body of a refund. */
static void
refund_write(struct ctx *ctx, const struct ledger_refund_row *row,
    int64_t transfer_id, const char *created_at)
{
	struct buf *b = &ctx->resp->body;
	char amount[MONEY_TEXT_SIZE_MAX], refunded[MONEY_TEXT_SIZE_MAX];
	char balance[MONEY_TEXT_SIZE_MAX];

	money_format(row->amount_minor, amount);
	money_format(row->refunded_minor, refunded);
	money_format(row->balance_minor, balance);
	buf_reset(b);
	(void)buf_printf(b,
	    "{\"id\":%" PRId64 ",\"transfer_id\":%" PRId64 ",\"from\":",
	    row->id, transfer_id);
	(void)buf_json_str(b, ctx->username);
	(void)buf_puts(b, ",\"to\":");
	(void)buf_json_str(b, row->to);
	(void)buf_printf(b,
	    ",\"amount\":\"%s\",\"refunded\":\"%s\",\"balance\":\"%s\","
	    "\"created_at\":\"%s\"}",
	    amount, refunded, balance, created_at);
}

void
h_transfers_refund(struct ctx *ctx)
{
	char canon[LEDGER_CANON_SIZE_MAX] = "", created_at[UTIL_TIME_SIZE];
	struct ledger_refund_req req = {.transfer_id = ctx->path_id};
	struct ledger_refund_row row;
	struct ledger_caller who;
	enum ledger_state state = LEDGER_STATE__MAX;
	unsigned attempt = 1;
	int n;

	assert(ctx->user_id > 0 && ctx->path_id > 0);
	if (h_money_caller(ctx, canon, &who) != 0 ||
	    handler_read_optional_amount(ctx, &req.amount_minor) != 0) {
		auth_user_before_400(ctx);
		return;
	}
	n = snprintf(canon, sizeof(canon), "refund|%" PRId64 "|%" PRId64,
	    req.transfer_id, req.amount_minor);
	assert(n > 0 && (size_t)n < sizeof(canon));
	do {
		enum db_rc rc =
		    ledger_refund(ctx->db, &who, &req, &row, &state);
		if (rc != DB_OK || state != LEDGER_STATE_DONE) {
			h_money_refused(ctx, state, rc, &who);
			return;
		}
		util_format_time(created_at, who.at_s);
		refund_write(ctx, &row, req.transfer_id, created_at);
	} while (h_money_done(ctx, STMT_REFUND, &who, 201, &attempt));
}
