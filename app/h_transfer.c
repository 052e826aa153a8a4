/*
 * POST /transfer (API.md): the caller pays a recipient named by "to"
 * (a username, matched without regard to case) or "to_id" (a user id).
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "h_money.h"
#include "money.h"
#include "username.h"

/*
 * Reads the recipient as sent (handler_read_recipient) and builds the
 * canonical request from it: a retry must say the same thing the same way
 * to be the same request. Returns 0, or -1 after 400.
 */
static int
transfer_read_to(
    struct ctx *ctx, struct json_object *obj, struct ledger_req *op)
{
	int n;

	if (handler_read_recipient(
	        ctx, obj, &op->to_id, &op->to_text, &op->to_len) != 0)
		return -1;
	if (op->to_text != NULL)
		n = snprintf(op->canon, sizeof(op->canon),
		    "transfer|to=%s|%" PRId64, op->to_text, op->amount_minor);
	else
		n = snprintf(op->canon, sizeof(op->canon),
		    "transfer|to_id=%" PRId64 "|%" PRId64, op->to_id,
		    op->amount_minor);
	assert(n > 0 && (size_t)n < sizeof(op->canon));
	return 0;
}

/* A request of POST /transfer, read before it runs. */
struct h_transfer_slot {
	struct ledger_req req;
	struct json_object *obj; /* the body; req.to_text points into it */
	bool ready;              /* read and valid: it may run */
};

/* The requests of a batch (worker.c): allocated once, as the worker's. */
static struct h_transfer_slot h_transfer_slots[WORKER_BATCH_MAX];

/*
 * Reads the request into t: 0 when it is ready to run, or -1 once
 * answered (400, or 401 when the caller is gone too).
 */
static int
transfer_read(struct ctx *ctx, struct h_transfer_slot *t)
{
	struct ledger_req *req = &t->req;

	assert(ctx->user_id > 0);
	memset(t, 0, sizeof(*t));
	req->kind = LEDGER_TRANSFER;
	if (h_money_read(ctx, req, &t->obj) != 0 ||
	    transfer_read_to(ctx, t->obj, req) != 0) {
		auth_user_before_400(ctx);
		return -1;
	}
	/* docs/api.md: a fixed part plus basis points, rounded half up. */
	if (money_fee(req->amount_minor, ctx->cfg->fee_fixed_minor,
	        ctx->cfg->fee_bps, &req->fee_minor) != MONEY_OK) {
		http_error(ctx->resp, API_INTERNAL, NULL);
		return -1;
	}
	if (req->to_id == ctx->user_id) {
		http_error(
		    ctx->resp, API_INVALID_REQUEST, H_MONEY_SELF_MESSAGE);
		auth_user_before_400(ctx);
		return -1;
	}
	/*
	 * No lookup of the recipient here: the CALL finds it by id or by
	 * username (sql/R__payd_transfer_who.sql), and with it the caller's
	 * row, in one round trip. A name that no user can have (bytes that
	 * are not UTF-8 among them) is sent as "", which no user has either:
	 * its 404 is found and recorded under the Idempotency-Key like any
	 * other.
	 */
	if (req->to_text != NULL &&
	    !username_is_valid(req->to_text, req->to_len))
		req->to_len = 0;
	t->ready = true;
	return 0;
}

void
h_transfer_batch(struct ctx *const *ctxs, size_t n)
{
	struct ctx *run[WORKER_BATCH_MAX];
	const struct ledger_req *reqs[WORKER_BATCH_MAX];
	struct ledger_res res[WORKER_BATCH_MAX];
	size_t k = 0;

	assert(n <= WORKER_BATCH_MAX);
	if (n < 2)
		return; /* one: h_transfer() reads and runs it */
	for (size_t i = 0; i < n; i++) {
		struct h_transfer_slot *t = &h_transfer_slots[i];

		ctxs[i]->transfer = t;
		/*
		 * A key's claim runs in its own transaction (h_money_run),
		 * and so does one with too little time left for the batch's
		 * CALL (which answers it 503 without one).
		 */
		if (transfer_read(ctxs[i], t) != 0)
			ctxs[i]->settled = true; /* 400 or 401 */
		else if (t->req.idem_key == NULL &&
		         handler_in_time(
		             ctxs[i], ledger_attempt_ms(ctxs[i]->cfg))) {
			run[k] = ctxs[i];
			reqs[k++] = &t->req;
		}
	}
	/* Rolled back on a deadlock: each then runs on its own. */
	if (k < 2 || !ledger_transfer_batch(ctxs[0]->db, reqs, res, k))
		return;
	for (size_t i = 0; i < k; i++) {
		h_money_answer(run[i], reqs[i], &res[i]);
		run[i]->settled = true;
	}
}

void
h_transfer(struct ctx *ctx)
{
	struct h_transfer_slot one;
	struct h_transfer_slot *t = ctx->transfer;

	if (t == NULL) {
		t = &one;
		(void)transfer_read(ctx, t);
	}
	/* Unless h_transfer_batch() has answered it. */
	if (t->ready && !ctx->settled)
		h_money_run(ctx, &t->req);
	if (t->obj != NULL)
		json_object_put(t->obj);
	t->obj = NULL;
	ctx->transfer = NULL;
}
