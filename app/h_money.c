/*
 * The HTTP side of the money routes: include/h_money.h.
 */
#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "auth.h"
#include "h_money.h"
#include "handler.h"
#include "idem.h"
#include "jsonio.h"
#include "log.h"
#include "metrics.h"
#include "money.h"
#include "util.h"

static void h_money_body(struct ctx *ctx, const struct ledger_req *req,
    const struct ledger_res *res);
static void h_money_moved(struct ctx *ctx, const struct ledger_req *req,
    const struct ledger_res *res);
static void h_money_refuse(
    struct ctx *ctx, const struct ledger_req *req, enum api_err err);
static enum idem_rc h_money_replay(
    struct ctx *ctx, const struct ledger_req *req);
static struct idem_key h_money_key(const struct ledger_req *req);

int
h_money_read(struct ctx *ctx, struct ledger_req *req, struct json_object **obj)
{
	const char *key = ctx->req->idem_key;

	*obj = NULL;
	req->user_id = ctx->user_id;
	req->username = ctx->username;
	req->token_gen = ctx->token_gen;
	req->deadline_ms = ctx->deadline_ms;
	req->log_name = ctx->route;
	if (key != NULL && !idem_key_is_valid(key)) {
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The Idempotency-Key header must be 1 to 255 printable "
		    "ASCII characters.");
		return -1;
	}
	req->idem_key = key;
	*obj = jsonio_parse_object(ctx->req->body, ctx->req->body_len);
	if (*obj == NULL) {
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The body must be a JSON object.");
		return -1;
	}
	if (handler_read_amount(ctx, *obj, &req->amount_minor) != 0) {
		json_object_put(*obj);
		*obj = NULL;
		return -1;
	}
	assert(req->amount_minor > 0);
	assert(req->amount_minor <= MONEY_AMOUNT_MAX_MINOR);
	return 0;
}

/* The key of req, as the Idempotency-Key protocol names it. */
static struct idem_key
h_money_key(const struct ledger_req *req)
{
	return (struct idem_key){
	    .user_id = req->user_id, .key = req->idem_key, .canon = req->canon};
}

/*
 * The body of a movement: docs/api.md POST /balance {"username",
 * "balance","currency"}, POST /transfer {"id","from","to","amount","fee",
 * "balance","created_at"}.
 */
static void
h_money_body(
    struct ctx *ctx, const struct ledger_req *req, const struct ledger_res *res)
{
	struct buf *b = &ctx->resp->body;
	char amount[MONEY_TEXT_SIZE_MAX], fee[MONEY_TEXT_SIZE_MAX];
	char balance[MONEY_TEXT_SIZE_MAX], at[UTIL_TIME_SIZE];

	if (req->kind == LEDGER_DEPOSIT) {
		handler_balance_body(ctx, res->balance_minor);
		return;
	}
	money_format(req->amount_minor, amount);
	money_format(req->fee_minor, fee);
	money_format(res->balance_minor, balance);
	util_format_time(at, res->at_s);
	buf_reset(b);
	(void)buf_printf(b, "{\"id\":%" PRId64 ",\"from\":", res->movement_id);
	(void)buf_json_str(b, ctx->username);
	(void)buf_puts(b, ",\"to\":");
	(void)buf_json_str(b, res->to_name);
	(void)buf_printf(b,
	    ",\"amount\":\"%s\",\"fee\":\"%s\","
	    "\"balance\":\"%s\",\"created_at\":\"%s\"}",
	    amount, fee, balance, at);
}

/*
 * A movement done: its answer, stored under the key and committed with
 * it when the CALL left it open (idem_finish). The status is set only
 * once it is committed; only then does it count.
 */
static void
h_money_moved(
    struct ctx *ctx, const struct ledger_req *req, const struct ledger_res *res)
{
	int status = req->kind == LEDGER_DEPOSIT ? 200 : 201;

	h_money_body(ctx, req, res);
	if (res->open) {
		struct idem_key k = h_money_key(req);
		struct idem_answer a = {.code = status};
		const struct buf *b = &ctx->resp->body;
		enum db_rc rc;

		assert(!b->overflow && b->len <= IDEM_RESPONSE_SIZE_MAX);
		memcpy(a.body, b->data, b->len);
		a.len = b->len;
		rc = idem_finish(ctx->db, &k, &a);
		if (rc != DB_OK) {
			handler_db_error(ctx, rc);
			return;
		}
	}
	ctx->resp->status = status;
	if (req->kind == LEDGER_DEPOSIT)
		metrics_deposit(req->amount_minor);
	else
		metrics_transfer(req->amount_minor, req->fee_minor);
}

/*
 * Answers what the key already holds. Returns IDEM_GONE, answering
 * nothing, when the key is gone (purged meanwhile): run again.
 */
static enum idem_rc
h_money_replay(struct ctx *ctx, const struct ledger_req *req)
{
	struct idem_key k = h_money_key(req);
	struct idem_answer a;
	enum db_rc rc = DB_OK;
	enum idem_rc irc = idem_replay(ctx->db, &k, &a, &rc);

	switch (irc) {
	case IDEM_FOUND:
		ctx->resp->status = a.code;
		buf_reset(&ctx->resp->body);
		(void)buf_append(&ctx->resp->body, a.body, a.len);
		(void)http_header(ctx->resp, "Idempotent-Replayed", "true");
		break;
	case IDEM_REUSED:
		http_error(ctx->resp, API_IDEM_KEY_REUSED, NULL);
		break;
	case IDEM_PENDING:
		http_error(ctx->resp, API_REQUEST_IN_PROGRESS, NULL);
		break;
	case IDEM_GONE:
		break;
	default:
		handler_db_error(ctx, rc);
		break;
	}
	return irc;
}

/*
 * A business refusal (403, 404, 422), recorded under the key, if any, so that
 * a retry gets the same answer; or what the key already holds.
 */
static void
h_money_refuse(struct ctx *ctx, const struct ledger_req *req, enum api_err err)
{
	struct idem_key k = h_money_key(req);
	struct idem_answer a;
	const struct buf *b = &ctx->resp->body;
	enum db_rc rc;

	http_error(ctx->resp, err, NULL);
	if (req->idem_key == NULL)
		return;
	a.code = ctx->resp->status;
	assert(!b->overflow && b->len <= IDEM_RESPONSE_SIZE_MAX);
	memcpy(a.body, b->data, b->len);
	a.len = b->len;
	rc = idem_record(ctx->db, &k, &a);
	if (rc == DB_DUPLICATE) {
		if (h_money_replay(ctx, req) == IDEM_GONE)
			http_error(ctx->resp, API_UNAVAILABLE, NULL);
	} else if (rc == DB_RETRY) {
		http_error(ctx->resp, API_REQUEST_IN_PROGRESS, NULL);
	} else if (rc != DB_OK) {
		/* Unrecorded, this answer could differ on a retry: 503. */
		handler_db_error(ctx, rc);
	}
}

void
h_money_answer(
    struct ctx *ctx, const struct ledger_req *req, const struct ledger_res *res)
{
	switch (res->outcome) {
	case LEDGER_MOVED:
		h_money_moved(ctx, req, res);
		break;
	case LEDGER_CALLER_GONE:
		http_error(ctx->resp, API_UNAUTHORIZED, NULL);
		break;
	case LEDGER_SELF:
		http_error(
		    ctx->resp, API_INVALID_REQUEST, H_MONEY_SELF_MESSAGE);
		break;
	case LEDGER_NO_RECIPIENT:
		h_money_refuse(ctx, req, API_RECIPIENT_NOT_FOUND);
		break;
	case LEDGER_NO_FUNDS:
		metrics_insufficient_funds();
		h_money_refuse(ctx, req, API_INSUFFICIENT_FUNDS);
		break;
	case LEDGER_OVER_CAP:
		h_money_refuse(ctx, req, API_LIMIT_EXCEEDED);
		break;
	case LEDGER_FROZEN:
		h_money_refuse(ctx, req, API_ACCOUNT_FROZEN);
		break;
	case LEDGER_KEY_TAKEN:
		if (h_money_replay(ctx, req) == IDEM_GONE)
			http_error(ctx->resp, API_UNAVAILABLE, NULL);
		break;
	case LEDGER_KEY_BUSY:
		http_error(ctx->resp, API_REQUEST_IN_PROGRESS, NULL);
		break;
	case LEDGER_UNAVAILABLE:
		http_error(ctx->resp, API_UNAVAILABLE, NULL);
		break;
	default:
		http_error(ctx->resp, API_INTERNAL, NULL);
		break;
	}
}

void
h_money_run(struct ctx *ctx, const struct ledger_req *req)
{
	struct ledger_res res;

	/* A key purged between its claim and its replay: run again, once. */
	for (int run = 0; run < 2; run++) {
		ledger_move(ctx->db, req, &res);
		if (res.outcome != LEDGER_KEY_TAKEN) {
			h_money_answer(ctx, req, &res);
			return;
		}
		if (h_money_replay(ctx, req) != IDEM_GONE)
			return;
	}
	http_error(ctx->resp, API_UNAVAILABLE, NULL);
}
