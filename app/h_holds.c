/*
 * POST /holds, GET /holds, GET /holds/{id}, POST /holds/{id}/capture and
 * POST /holds/{id}/void (API.md): parse, run through the ledger
 * (app/ledger_hold.c), render.
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
#include "ledger_hold.h"
#include "money.h"
#include "username.h"
#include "util.h"

_Static_assert(
    TXN_PAGE_LIMIT_MAX *HOLDS_ROW_JSON_SIZE_MAX + 64 <= HTTP_RESPONSE_SIZE_MAX,
    "a full page of holds fits the response buffer");

static void holds_write(
    struct buf *b, const struct ledger_hold_row *h, bool with_available);
static void holds_each(const struct ledger_hold_row *h, void *arg);
static int holds_read_create(struct ctx *ctx, struct json_object *obj,
    struct ledger_hold_req *req, char *canon, size_t size);
static void holds_end(struct ctx *ctx, bool capture);
static int holds_read_capture(struct ctx *ctx, struct ledger_hold_end_req *req);

/* The hold object of API.md; "available" only for its creation. */
static void
holds_write(struct buf *b, const struct ledger_hold_row *h, bool with_available)
{
	char amount[MONEY_TEXT_SIZE_MAX], fee[MONEY_TEXT_SIZE_MAX];
	char captured[MONEY_TEXT_SIZE_MAX];

	money_format(h->amount_minor, amount);
	money_format(h->fee_minor, fee);
	money_format(h->captured_minor, captured);
	(void)buf_printf(b, "{\"id\":%" PRId64 ",\"status\":", h->id);
	(void)buf_json_str(b, h->status);
	(void)buf_puts(b, ",\"from\":");
	(void)buf_json_str(b, h->from);
	(void)buf_puts(b, ",\"to\":");
	(void)buf_json_str(b, h->to);
	(void)buf_printf(b,
	    ",\"amount\":\"%s\",\"fee\":\"%s\",\"captured\":\"%s\","
	    "\"transfer_id\":",
	    amount, fee, captured);
	if (h->transfer_id > 0)
		(void)buf_printf(b, "%" PRId64, h->transfer_id);
	else
		(void)buf_puts(b, "null");
	if (with_available) {
		char available[MONEY_TEXT_SIZE_MAX];

		money_format(h->available_minor, available);
		(void)buf_printf(b, ",\"available\":\"%s\"", available);
	}
	(void)buf_puts(b, ",\"created_at\":");
	(void)buf_json_str(b, h->created_at);
	(void)buf_puts(b, ",\"expires_at\":");
	(void)buf_json_str(b, h->expires_at);
	(void)buf_puts(b, "}");
}

/*
 * Reads the body of POST /holds into req and its canonical text (what
 * the Idempotency-Key's hash covers). Returns 0, or -1 after 400.
 */
static int
holds_read_create(struct ctx *ctx, struct json_object *obj,
    struct ledger_hold_req *req, char *canon, size_t size)
{
	enum jsonio_rc rc;
	int n;

	if (handler_read_amount(ctx, obj, &req->amount_minor) != 0 ||
	    handler_read_recipient(
	        ctx, obj, &req->to_id, &req->to_name, &req->to_len) != 0)
		return -1;
	req->expires_in_s = HOLD_EXPIRES_IN_S_DEFAULT;
	rc = jsonio_get_i64(obj, "expires_in", HOLD_EXPIRES_IN_S_MIN,
	    HOLD_EXPIRES_IN_S_MAX, &req->expires_in_s);
	if (rc != JSONIO_OK && rc != JSONIO_MISSING) {
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The field \"expires_in\" must be an integer from 60 to "
		    "604800 (seconds).");
		return -1;
	}
	if (req->to_id == ctx->user_id) {
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The recipient must not be the caller.");
		return -1;
	}
	if (req->to_name != NULL)
		n = snprintf(canon, size, "hold|to=%s|%" PRId64 "|%" PRId64,
		    req->to_name, req->amount_minor, req->expires_in_s);
	else
		n = snprintf(canon, size,
		    "hold|to_id=%" PRId64 "|%" PRId64 "|%" PRId64, req->to_id,
		    req->amount_minor, req->expires_in_s);
	assert(n > 0 && (size_t)n < size);
	/* A name no user can have is sent as "", which no user has. */
	if (req->to_name != NULL &&
	    !username_is_valid(req->to_name, req->to_len))
		req->to_len = 0;
	return 0;
}

void
h_holds_create(struct ctx *ctx)
{
	char canon[LEDGER_CANON_SIZE_MAX] = "";
	struct ledger_hold_req req;
	struct ledger_hold_row row;
	struct ledger_caller who;
	struct json_object *obj = NULL;
	enum ledger_state state = LEDGER_STATE__MAX;
	unsigned attempt = 1;

	assert(ctx->user_id > 0);
	memset(&req, 0, sizeof(req));
	if (h_money_caller(ctx, canon, &who) != 0 ||
	    (obj = handler_body_object(ctx)) == NULL ||
	    holds_read_create(ctx, obj, &req, canon, sizeof(canon)) != 0) {
		auth_user_before_400(ctx);
		json_object_put(obj); /* NULL: nothing */
		return;
	}
	if (money_fee(req.amount_minor, ctx->cfg->fee_fixed_minor,
	        ctx->cfg->fee_bps, &req.fee_minor) != MONEY_OK) {
		http_error(ctx->resp, API_INTERNAL, NULL);
		json_object_put(obj);
		return;
	}
	do {
		enum db_rc rc =
		    ledger_hold_create(ctx->db, &who, &req, &row, &state);
		if (rc != DB_OK || state != LEDGER_STATE_DONE) {
			h_money_refused(ctx, state, rc, &who);
			break;
		}
		buf_reset(&ctx->resp->body);
		holds_write(&ctx->resp->body, &row, true);
	} while (h_money_done(ctx, STMT_HOLD_CREATE, &who, 201, &attempt));
	json_object_put(obj); /* req.to_name pointed into it */
}

/*
 * The body of a capture, if any: {"amount": ...} (absent: the whole
 * hold). Returns 0, or -1 after 400.
 */
static int
holds_read_capture(struct ctx *ctx, struct ledger_hold_end_req *req)
{
	if (handler_read_optional_amount(ctx, &req->amount_minor) != 0)
		return -1;
	if (req->amount_minor == 0)
		return 0; /* the whole hold, for the hold's own fee */
	if (money_fee(req->amount_minor, ctx->cfg->fee_fixed_minor,
	        ctx->cfg->fee_bps, &req->fee_minor) != MONEY_OK) {
		http_error(ctx->resp, API_INTERNAL, NULL);
		return -1;
	}
	return 0;
}

/* POST /holds/{id}/capture (capture) or /void. */
static void
holds_end(struct ctx *ctx, bool capture)
{
	char canon[LEDGER_CANON_SIZE_MAX] = "";
	struct ledger_hold_end_req req;
	struct ledger_hold_row row;
	struct ledger_caller who;
	enum ledger_state state = LEDGER_STATE__MAX;
	unsigned attempt = 1;
	int n;

	assert(ctx->user_id > 0 && ctx->path_id > 0);
	memset(&req, 0, sizeof(req));
	req.hold_id = ctx->path_id;
	req.capture = capture;
	if (h_money_caller(ctx, canon, &who) != 0 ||
	    (capture && holds_read_capture(ctx, &req) != 0)) {
		auth_user_before_400(ctx);
		return;
	}
	n = snprintf(canon, sizeof(canon), "%s|%" PRId64 "|%" PRId64,
	    capture ? "capture" : "void", req.hold_id, req.amount_minor);
	assert(n > 0 && (size_t)n < sizeof(canon));
	req.fee_account = ledger_fee_account();
	do {
		enum db_rc rc =
		    ledger_hold_end(ctx->db, &who, &req, &row, &state);
		if (rc != DB_OK || state != LEDGER_STATE_DONE) {
			h_money_refused(ctx, state, rc, &who);
			return;
		}
		buf_reset(&ctx->resp->body);
		holds_write(&ctx->resp->body, &row, false);
	} while (h_money_done(ctx, STMT_HOLD_END, &who, 200, &attempt));
}

void
h_holds_capture(struct ctx *ctx)
{
	holds_end(ctx, true);
}

void
h_holds_void(struct ctx *ctx)
{
	holds_end(ctx, false);
}

void
h_holds_get(struct ctx *ctx)
{
	struct ledger_hold_row row;
	enum db_rc rc;

	assert(ctx->user_id > 0 && ctx->path_id > 0);
	rc = ledger_hold_get(
	    ctx->db, ctx->user_id, ctx->path_id, (int64_t)time(NULL), &row);
	if (rc == DB_NOT_FOUND) {
		http_error(ctx->resp, API_NOT_FOUND, NULL);
		return;
	}
	if (rc != DB_OK) {
		handler_db_error(ctx, rc);
		return;
	}
	buf_reset(&ctx->resp->body);
	holds_write(&ctx->resp->body, &row, false);
	ctx->resp->status = 200;
}

/* One hold of a page, after a comma unless it is the first. */
static void
holds_each(const struct ledger_hold_row *h, void *arg)
{
	struct ctx *ctx = arg;
	struct buf *b = &ctx->resp->body;

	if (b->len > 0 && b->data[b->len - 1] != '[')
		(void)buf_puts(b, ",");
	holds_write(b, h, false);
}

void
h_holds_list(struct ctx *ctx)
{
	static const char *const statuses[] = {
	    "pending", "captured", "voided", "expired"};
	char status[HOLDS_PARAM_SIZE_MAX] = "", text[HOLDS_PARAM_SIZE_MAX];
	long long limit = TXN_PAGE_LIMIT_DEFAULT, before = INT64_MAX;
	struct ledger_hold_page page = {.user_id = ctx->user_id,
	    .status = status,
	    .at_s = (int64_t)time(NULL),
	    .each = holds_each,
	    .arg = ctx};
	const char *q = ctx->req->query;
	int found = http_query_get(q, "status", status, sizeof(status));
	bool ok = found == 0;
	enum db_rc rc;

	for (size_t i = 0; found == 1 && i < 4; i++)
		ok = ok || strcmp(status, statuses[i]) == 0;
	found = http_query_get(q, "limit", text, sizeof(text));
	ok = ok && found >= 0 &&
	     (found == 0 || util_parse_ll(text, TXN_PAGE_LIMIT_MIN,
	                        TXN_PAGE_LIMIT_MAX, &limit) == 0);
	found = http_query_get(q, "before", text, sizeof(text));
	ok = ok && found >= 0 &&
	     (found == 0 || util_parse_ll(text, 1, INT64_MAX, &before) == 0);
	if (!ok) {
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The parameters are \"status\" (pending, captured, voided "
		    "or expired), \"limit\" (1 to 100) and \"before\" (a "
		    "positive integer).");
		return;
	}
	page.limit = limit;
	page.before = before;
	buf_reset(&ctx->resp->body);
	(void)buf_puts(&ctx->resp->body, "{\"holds\":[");
	rc = ledger_hold_list(ctx->db, &page);
	if (rc != DB_OK) {
		handler_db_error(ctx, rc);
		return;
	}
	if (page.more)
		(void)buf_printf(&ctx->resp->body,
		    "],\"next_before\":%" PRId64 "}", page.last_id);
	else
		(void)buf_puts(&ctx->resp->body, "],\"next_before\":null}");
	ctx->resp->status = 200;
}
