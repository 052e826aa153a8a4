/*
 * POST /transfer (API.md): the caller pays a recipient named by "to"
 * (a username, matched without regard to case) or "to_id" (a user id).
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "jsonio.h"
#include "ledger.h"
#include "money.h"

static int transfer_read_to(struct ctx *ctx, struct json_object *obj,
    struct ledger_op *op, const char **to, size_t *to_len);

/*
 * Reads the recipient as sent and builds the canonical request from it:
 * a retry must say the same thing the same way to be the same request.
 * *to points into obj (NULL for "to_id"). Returns 0, or -1 after 400.
 */
static int
transfer_read_to(struct ctx *ctx, struct json_object *obj, struct ledger_op *op,
    const char **to, size_t *to_len)
{
	enum jsonio_rc name_rc, id_rc;
	int64_t id = 0;
	int n;

	*to = NULL;
	name_rc = jsonio_get_str(obj, "to", to, to_len);
	id_rc = jsonio_get_i64(obj, "to_id", 1, INT64_MAX, &id);
	if (name_rc == JSONIO_MISSING && id_rc == JSONIO_MISSING) {
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The field \"to\" (or \"to_id\") is required.");
		return -1;
	}
	if (name_rc != JSONIO_MISSING && id_rc != JSONIO_MISSING) {
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "Give the field \"to\" or the field \"to_id\", not both.");
		return -1;
	}
	if (name_rc != JSONIO_MISSING) {
		/* No username is longer than USERNAME_LEN_MAX (bounds.h). */
		if (name_rc != JSONIO_OK || *to_len == 0 ||
		    *to_len > USERNAME_LEN_MAX) {
			http_error(ctx->resp, API_INVALID_REQUEST,
			    "The field \"to\" must be a username.");
			return -1;
		}
		n = snprintf(op->canon, sizeof(op->canon),
		    "transfer|to=%s|%" PRId64, *to, op->amount_minor);
	} else {
		if (id_rc != JSONIO_OK) {
			http_error(ctx->resp, API_INVALID_REQUEST,
			    "The field \"to_id\" must be a positive integer.");
			return -1;
		}
		op->to_id = id;
		n = snprintf(op->canon, sizeof(op->canon),
		    "transfer|to_id=%" PRId64 "|%" PRId64, id,
		    op->amount_minor);
	}
	assert(n > 0 && (size_t)n < sizeof(op->canon));
	return 0;
}

void
h_transfer(struct ctx *ctx)
{
	struct ledger_op op;
	struct json_object *obj = NULL;

	assert(ctx->user_id > 0);
	memset(&op, 0, sizeof(op));
	op.kind = LEDGER_TRANSFER;
	if (ledger_read_request(ctx, &op, &obj) != 0 ||
	    transfer_read_to(ctx, obj, &op, &op.to_text, &op.to_len) != 0) {
		auth_user_first(ctx);
		goto out_put;
	}
	/* API.md: a fixed part plus basis points, rounded half up. */
	if (money_fee(op.amount_minor, ctx->cfg->fee_fixed_minor,
	        ctx->cfg->fee_bps, &op.fee_minor) != MONEY_OK) {
		http_error(ctx->resp, API_INTERNAL, NULL);
		goto out_put;
	}
	if (op.to_id == ctx->user_id) {
		http_error(ctx->resp, API_INVALID_REQUEST, LEDGER_SELF_MESSAGE);
		auth_user_first(ctx);
		goto out_put;
	}
	/*
	 * No lookup of the recipient here: the CALL finds it by id or by
	 * username (sql/R__payd_transfer.sql), and with it the caller's row, in
	 * one round trip. A name that no user can have (bytes that are not
	 * UTF-8 among them) is sent as "", which no user has either: its 404 is
	 * found and recorded under the Idempotency-Key like any other.
	 */
	if (op.to_text != NULL &&
	    !auth_username_is_valid(op.to_text, op.to_len))
		op.to_len = 0;
	ledger_run(ctx, &op);
out_put:
	if (obj != NULL)
		json_object_put(obj);
}
