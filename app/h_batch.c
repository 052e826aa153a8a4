/*
 * POST /transfers/batch (API.md): many transfers from the caller in one
 * request, all or nothing ("atomic": true, the default) or each on its
 * own. This file reads the body and writes the answers; the money moves
 * in ledger_batch.c.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "username.h"
#include "jsonio.h"
#include "ledger.h"
#include "h_money.h"
#include "idem.h"
#include "ledger_batch.h"
#include "money.h"
#include "util.h"

_Static_assert(
    BATCH_ITEMS_MAX *BATCH_ROW_SIZE_MAX + 256 <= IDEM_RESPONSE_SIZE_MAX,
    "the largest answer of a batch fits the key's column");

/* payd_payout's item states are payd_transfer's (include/ledger.h). */
_Static_assert(LEDGER_ITEM_DONE == (int)LEDGER_STATE_DONE &&
                   LEDGER_ITEM_SELF == (int)LEDGER_STATE_SELF &&
                   LEDGER_ITEM_NO_TO == (int)LEDGER_STATE_NO_TO &&
                   LEDGER_ITEM_FUNDS == (int)LEDGER_STATE_FUNDS &&
                   LEDGER_ITEM_CAP == (int)LEDGER_STATE_CAP,
    "an item's state has the value of payd_transfer's");

/* What is wrong with one item, for error.items. */
struct batch_bad {
	size_t index;
	enum api_err err;
	const char *message; /* NULL: the error's default message */
};

/* A batch's request, read once; one request at a time per worker. */
static struct ledger_batch_item batch_items[BATCH_ITEMS_MAX];
static struct batch_bad batch_bads[BATCH_ITEMS_MAX];
static char batch_canon[BATCH_CANON_SIZE_MAX];

static enum api_err batch_read_to(const struct ctx *ctx,
    struct json_object *item, struct ledger_batch_item *it,
    const char **message);
static enum api_err batch_read_item(const struct ctx *ctx,
    struct json_object *item, struct ledger_batch_item *it,
    const char **message);
static void batch_error(struct ctx *ctx, enum api_err err, const char *message);
static void batch_error_items(struct ctx *ctx, enum api_err err,
    const char *message, const struct batch_bad *bads, size_t n);
static int batch_read(
    struct ctx *ctx, struct json_object *obj, struct ledger_batch_req *req);
static void batch_canon_item(struct buf *b, const struct ledger_batch_item *it);
static void batch_transfer(struct buf *b, const struct ledger_batch_req *req,
    const struct ledger_batch_item *it, const char *at);
static int batch_render(void *arg, const struct ledger_batch_req *req,
    const struct ledger_batch_res *res, struct buf *body);
static void batch_rejected(struct ctx *ctx, const struct ledger_batch_req *req);
static void batch_answer(struct ctx *ctx, enum ledger_batch_rc rc,
    const struct ledger_batch_req *req, struct ledger_batch_res *res);

/* The error of an item's state, and its message (NULL: the default). */
static enum api_err
batch_state_err(enum ledger_item_state state, const char **message)
{
	static const enum api_err errs[LEDGER_ITEM_STATE__MAX] = {
	    [LEDGER_ITEM_DONE] = API__MAX,
	    [1] = API_INTERNAL, /* the payer's: never an item's */
	    [LEDGER_ITEM_SELF] = API_INVALID_REQUEST,
	    [LEDGER_ITEM_NO_TO] = API_RECIPIENT_NOT_FOUND,
	    [LEDGER_ITEM_FUNDS] = API_INSUFFICIENT_FUNDS,
	    [LEDGER_ITEM_CAP] = API_LIMIT_EXCEEDED,
	};

	assert(state < LEDGER_ITEM_STATE__MAX);
	*message = state == LEDGER_ITEM_SELF ? H_MONEY_SELF_MESSAGE : NULL;
	return errs[state];
}

/*
 * An item's recipient, "to" (a username) or "to_id", exactly one, not the
 * caller; as POST /transfer reads it (handler_parse_recipient).
 */
static enum api_err
batch_read_to(const struct ctx *ctx, struct json_object *item,
    struct ledger_batch_item *it, const char **message)
{
	const char *to;

	if (handler_parse_recipient(
	        item, &it->to_id, &to, &it->to_len, message) != 0)
		return API_INVALID_REQUEST;
	it->to_text = to != NULL ? to : "";
	/* Usernames are ASCII and unique without regard to case. */
	if (it->to_id == ctx->user_id ||
	    (it->to_len > 0 && strlen(it->to_text) == it->to_len &&
	        strcasecmp(it->to_text, ctx->username) == 0)) {
		*message = H_MONEY_SELF_MESSAGE;
		return API_INVALID_REQUEST;
	}
	return API__MAX;
}

/* One item, into it; API__MAX when it is good, else what is wrong. */
static enum api_err
batch_read_item(const struct ctx *ctx, struct json_object *item,
    struct ledger_batch_item *it, const char **message)
{
	enum api_err err;

	memset(it, 0, sizeof(*it));
	if (!json_object_is_type(item, json_type_object)) {
		*message = "Each transfer must be a JSON object.";
		return API_INVALID_REQUEST;
	}
	if (handler_parse_amount(item, &it->amount_minor, &err, message) != 0)
		return err;
	err = batch_read_to(ctx, item, it, message);
	if (err != API__MAX)
		return err;
	/* API.md: each item pays the fee of a /transfer. */
	if (money_fee(it->amount_minor, ctx->cfg->fee_fixed_minor,
	        ctx->cfg->fee_bps, &it->fee_minor) != MONEY_OK) {
		*message = NULL;
		return API_INTERNAL;
	}
	return API__MAX;
}

/* The contract's error shape, written here to carry "items". */
static void
batch_error(struct ctx *ctx, enum api_err err, const char *message)
{
	struct buf *b = &ctx->resp->body;

	http_error(ctx->resp, err, message);
	/* Reopen {"error":{...}} to add "items" before its end. */
	assert(b->len > 2);
	b->len -= 2;
	b->data[b->len] = '\0';
	(void)buf_puts(b, ",\"items\":[");
}

/* 400 or 422 with error.items: [{"index","code","message"}, ...]. */
static void
batch_error_items(struct ctx *ctx, enum api_err err, const char *message,
    const struct batch_bad *bads, size_t n)
{
	struct buf *b = &ctx->resp->body;

	batch_error(ctx, err, message);
	for (size_t i = 0; i < n; i++) {
		(void)buf_printf(b, "%s{\"index\":%zu,\"code\":\"%s\",",
		    i == 0 ? "" : ",", bads[i].index,
		    http_err_code(bads[i].err));
		(void)buf_puts(b, "\"message\":");
		(void)buf_json_str(b, bads[i].message != NULL
		                          ? bads[i].message
		                          : http_err_message(bads[i].err));
		(void)buf_puts(b, "}");
	}
	(void)buf_puts(b, "]}}");
}

/*
 * Reads "atomic" and every item of "transfers" into req, and builds its
 * canonical text. Returns 0, or -1 once answered 400 (every bad item
 * listed).
 */
static int
batch_read(
    struct ctx *ctx, struct json_object *obj, struct ledger_batch_req *req)
{
	char message[BATCH_MESSAGE_SIZE_MAX];
	struct json_object *v, *list = NULL;
	size_t n = 0, nbad = 0;
	struct buf canon;

	req->atomic = true;
	if (json_object_object_get_ex(obj, "atomic", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			http_error(ctx->resp, API_INVALID_REQUEST,
			    "The field \"atomic\" must be true or false.");
			return -1;
		}
		req->atomic = json_object_get_boolean(v) != 0;
	}
	if (json_object_object_get_ex(obj, "transfers", &list) &&
	    json_object_is_type(list, json_type_array))
		n = json_object_array_length(list);
	if (n < 1 || n > BATCH_ITEMS_MAX) {
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The field \"transfers\" must be an array of 1 to 1000 "
		    "transfers.");
		return -1;
	}
	buf_init(&canon, batch_canon, sizeof(batch_canon));
	(void)buf_printf(&canon, "batch|a=%d", req->atomic ? 1 : 0);
	for (size_t i = 0; i < n; i++) {
		struct ledger_batch_item *it = &batch_items[i];
		const char *msg = NULL;
		enum api_err err = batch_read_item(
		    ctx, json_object_array_get_idx(list, i), it, &msg);

		if (err != API__MAX) {
			batch_bads[nbad++] = (struct batch_bad){i, err, msg};
			continue;
		}
		batch_canon_item(&canon, it);
		/*
		 * A name that no user can have (bytes that are not UTF-8
		 * among them) is sent as "", which no user has either: a
		 * recipient_not_found like any other.
		 */
		if (it->to_len > 0 &&
		    !username_is_valid(it->to_text, it->to_len))
			it->to_len = 0;
	}
	if (nbad == 0) {
		/* BATCH_CANON_SIZE_MAX holds the longest (bounds.h). */
		assert(!canon.overflow);
		req->canon = canon.data;
		req->canon_len = canon.len;
		req->items = batch_items;
		req->n = n;
		return 0;
	}
	(void)snprintf(message, sizeof(message), "Transfer %zu: %s",
	    batch_bads[0].index,
	    batch_bads[0].message != NULL
	        ? batch_bads[0].message
	        : http_err_message(batch_bads[0].err));
	batch_error_items(ctx, API_INVALID_REQUEST, message, batch_bads, nbad);
	return -1;
}

/*
 * What the request hash covers, per item after "batch|a=<atomic>": its
 * recipient as sent (its bytes in hex) and its amount in cents. The same
 * batch, however spelt, is the same text; a different one never is.
 */
static void
batch_canon_item(struct buf *b, const struct ledger_batch_item *it)
{
	(void)buf_printf(b, "|%" PRId64 ":", it->to_id);
	for (size_t k = 0; k < it->to_len; k++)
		(void)buf_printf(b, "%02x", (unsigned char)it->to_text[k]);
	(void)buf_printf(b, ":%" PRId64, it->amount_minor);
}

/* A transfer object, as POST /transfer answers it. */
static void
batch_transfer(struct buf *b, const struct ledger_batch_req *req,
    const struct ledger_batch_item *it, const char *at)
{
	h_money_transfer_write(
	    b, &(struct h_money_transfer){it->movement_id, req->username,
	           it->to_name, it->amount_minor, it->fee_minor,
	           it->balance_minor, at});
}

/*
 * The 201 of a batch that moved (ledger_batch_render_fn): the transfers
 * (atomic), or each item's outcome in order, and the caller's balance.
 */
static int
batch_render(void *arg, const struct ledger_batch_req *req,
    const struct ledger_batch_res *res, struct buf *body)
{
	char at[UTIL_TIME_SIZE], balance[MONEY_TEXT_SIZE_MAX];

	(void)arg;
	util_format_time(at, res->at_s);
	buf_reset(body);
	(void)buf_puts(
	    body, req->atomic ? "{\"transfers\":[" : "{\"results\":[");
	for (size_t i = 0; i < req->n; i++) {
		const struct ledger_batch_item *it = &req->items[i];
		const char *msg;
		enum api_err err = batch_state_err(it->state, &msg);

		if (i > 0)
			(void)buf_puts(body, ",");
		if (req->atomic) {
			assert(err == API__MAX);
			batch_transfer(body, req, it, at);
			continue;
		}
		(void)buf_printf(body, "{\"index\":%zu,\"status\":%d,", i,
		    err == API__MAX ? 201 : http_err_status(err));
		if (err == API__MAX) {
			(void)buf_puts(body, "\"transfer\":");
			batch_transfer(body, req, it, at);
		} else {
			(void)buf_printf(body,
			    "\"error\":{\"code\":\"%s\",\"message\":",
			    http_err_code(err));
			(void)buf_json_str(
			    body, msg != NULL ? msg : http_err_message(err));
			(void)buf_puts(body, "}");
		}
		(void)buf_puts(body, "}");
	}
	money_format(res->balance_minor, balance);
	(void)buf_printf(body, "],\"balance\":\"%s\"}", balance);
	return 201;
}

/* 422 batch_rejected: every refused item, in order. */
static void
batch_rejected(struct ctx *ctx, const struct ledger_batch_req *req)
{
	char message[BATCH_MESSAGE_SIZE_MAX];
	size_t nbad = 0;

	for (size_t i = 0; i < req->n; i++) {
		const char *msg;
		enum api_err err = batch_state_err(req->items[i].state, &msg);

		if (err != API__MAX)
			batch_bads[nbad++] = (struct batch_bad){i, err, msg};
	}
	assert(nbad > 0);
	(void)snprintf(message, sizeof(message),
	    "%zu of the %zu transfers were refused; nothing moved.", nbad,
	    req->n);
	batch_error_items(ctx, API_BATCH_REJECTED, message, batch_bads, nbad);
}

/* The answer of every outcome but DONE, whose body render wrote. */
static void
batch_answer(struct ctx *ctx, enum ledger_batch_rc rc,
    const struct ledger_batch_req *req, struct ledger_batch_res *res)
{
	struct http_resp *resp = ctx->resp;

	if (rc == LEDGER_BATCH_REJECTED || rc == LEDGER_BATCH_FROZEN) {
		if (rc == LEDGER_BATCH_REJECTED)
			batch_rejected(ctx, req);
		else
			http_error(resp, API_ACCOUNT_FROZEN, NULL);
		rc = ledger_batch_refuse(
		    ctx->db, req, res, resp->status, &resp->body);
	}
	switch (rc) {
	case LEDGER_BATCH_DONE:
		break;
	case LEDGER_BATCH_REPLAY:
		resp->status = res->status;
		resp->err_code = NULL;
		(void)http_header(resp, "Idempotent-Replayed", "true");
		break;
	case LEDGER_BATCH_NO_USER:
		http_error(resp, API_UNAUTHORIZED, NULL);
		break;
	case LEDGER_BATCH_REUSED:
		http_error(resp, API_IDEM_KEY_REUSED, NULL);
		break;
	case LEDGER_BATCH_BUSY:
		http_error(resp, API_REQUEST_IN_PROGRESS, NULL);
		break;
	case LEDGER_BATCH_LATE:
		http_error(resp, API_UNAVAILABLE, NULL);
		break;
	default:
		handler_db_error(ctx, res->db_rc);
		break;
	}
}

void
h_batch(struct ctx *ctx)
{
	struct ledger_batch_req req;
	struct ledger_batch_res res;
	struct json_object *obj = NULL;
	enum ledger_batch_rc rc;
	const char *key;

	assert(ctx->user_id > 0 && ctx->username[0] != '\0');
	memset(&req, 0, sizeof(req));
	if (handler_idem_key(ctx, &key) != 0 ||
	    (obj = handler_body_object(ctx)) == NULL ||
	    batch_read(ctx, obj, &req) != 0) {
		json_object_put(obj); /* NULL: nothing */
		auth_user_before_400(ctx);
		return;
	}
	req.user_id = ctx->user_id;
	req.username = ctx->username;
	req.token_gen = ctx->token_gen;
	req.idem_key = key;
	req.deadline_ms = ctx->deadline_ms;
	rc = ledger_batch_run(ctx->db, ctx->cfg, &req, &res, batch_render, NULL,
	    &ctx->resp->body);
	if (rc == LEDGER_BATCH_DONE)
		ctx->resp->status = 201;
	else
		batch_answer(ctx, rc, &req, &res);
	/* The items' names point into the body's objects until here. */
	json_object_put(obj);
}
