/*
 * POST /transfer (API.md): the caller pays a recipient named by "to"
 * (a username, matched without regard to case) or "to_id" (a user id).
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "jsonio.h"
#include "ledger.h"
#include "money.h"

static int transfer_read_to(struct ctx *ctx, struct json_object *obj,
    struct ledger_op *op, const char **to, size_t *to_len);
static enum db_rc transfer_find(
    struct ctx *ctx, struct ledger_op *op, const char *to, size_t to_len);

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

/*
 * Fills op->to_id and op->to_name (as stored) from the recipient's
 * username. Outside the transaction: users are never deleted by the API,
 * and the credit inside the transaction checks again. DB_NOT_FOUND when
 * there is none.
 */
static enum db_rc
transfer_find(
    struct ctx *ctx, struct ledger_op *op, const char *to, size_t to_len)
{
	struct db_val by_name[] = {LEDGER_STR_IN(to, to_len)};
	struct db_val name_out[] = {DB_I64_OUT(), DB_STR_OUT(op->to_name)};
	enum db_rc rc = DB_CONN;

	assert(to != NULL && to_len > 0);
	for (int attempt = 0; attempt < 2 && rc == DB_CONN; attempt++) {
		/* A connection that died while idle: one fresh try. */
		rc = db_ensure(ctx->db);
		if (rc == DB_OK)
			rc = db_row(
			    ctx->db, STMT_USER_FIND, by_name, 1, name_out, 2);
	}
	if (rc == DB_OK) {
		op->to_id = name_out[0].i64;
		assert(op->to_id > 0 && op->to_name[0] != '\0');
	}
	return rc;
}

void
h_transfer(struct ctx *ctx)
{
	struct ledger_op op;
	struct json_object *obj;
	const char *to = NULL;
	size_t to_len = 0;
	enum db_rc rc;

	assert(ctx->user_id > 0);
	memset(&op, 0, sizeof(op));
	op.kind = LEDGER_TRANSFER;
	if (ledger_read_request(ctx, &op, &obj) != 0)
		return;
	if (transfer_read_to(ctx, obj, &op, &to, &to_len) != 0)
		goto out_put;
	/* API.md: a fixed part plus basis points, rounded half up. */
	if (money_fee(op.amount_minor, ctx->cfg->fee_fixed_minor,
	        ctx->cfg->fee_bps, &op.fee_minor) != MONEY_OK) {
		http_error(ctx->resp, API_INTERNAL, NULL);
		goto out_put;
	}
	/*
	 * A "to_id" needs no lookup: the transaction's credit finds out
	 * whether it exists (404 recipient_not_found) and its read-back
	 * brings the name for the answer, a round trip saved per transfer.
	 */
	rc = to != NULL ? transfer_find(ctx, &op, to, to_len) : DB_OK;
	if (rc == DB_NOT_FOUND)
		ledger_refuse(ctx, &op, API_RECIPIENT_NOT_FOUND);
	else if (rc != DB_OK)
		handler_db_error(ctx, rc);
	else if (op.to_id == ctx->user_id)
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "A transfer to oneself is not allowed.");
	else
		ledger_run(ctx, &op);
out_put:
	json_object_put(obj);
}
