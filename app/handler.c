/*
 * What every handler shares.
 */
#include <assert.h>
#include <string.h>

#include "handler.h"
#include "idem.h"
#include "jsonio.h"
#include "log.h"
#include "money.h"
#include "util.h"

void
handler_db_error(struct ctx *ctx, enum db_rc rc)
{
	/* A lost connection or exhausted retries: the client may retry. */
	if (rc == DB_CONN || rc == DB_RETRY)
		http_error(ctx->resp, API_UNAVAILABLE, NULL);
	else
		http_error(ctx->resp, API_INTERNAL, NULL);
}

enum db_rc
handler_exec_retry(struct ctx *ctx, enum stmt id, struct db_val *in,
    unsigned nin, uint64_t *affected)
{
	/* One attempt waits at most one lock wait, then a back-off. */
	int64_t attempt_ms = (int64_t)ctx->cfg->db_lock_wait_timeout_s * 1000 +
	                     DB_RETRY_SLEEP_MS_MAX;
	enum db_rc rc = DB_RETRY;

	for (unsigned attempt = 1;
	     rc == DB_RETRY && attempt <= DB_RETRY_COUNT_MAX; attempt++) {
		/* Nothing starts that could end after the answer is due. */
		if (!handler_in_time(ctx, attempt_ms))
			break;
		if (attempt > 1)
			db_retry_sleep(attempt - 1);
		rc = db_exec(ctx->db, id, in, nin, affected);
	}
	return rc;
}

/* The body of /balance; available_minor < 0: without "available". */
static void
handler_balance_write(
    struct ctx *ctx, int64_t balance_minor, int64_t available_minor)
{
	char balance[MONEY_TEXT_SIZE_MAX];
	struct buf *b = &ctx->resp->body;

	assert(ctx->username[0] != '\0');
	/* The schema's CHECK keeps every balance in [0, cap]. */
	assert(balance_minor >= 0 && balance_minor <= MONEY_BALANCE_MAX_MINOR);
	assert(available_minor <= balance_minor);
	money_format(balance_minor, balance);
	buf_reset(b);
	(void)buf_puts(b, "{\"username\":");
	(void)buf_json_str(b, ctx->username);
	(void)buf_printf(b, ",\"balance\":\"%s\"", balance);
	if (available_minor >= 0) {
		char available[MONEY_TEXT_SIZE_MAX];

		money_format(available_minor, available);
		(void)buf_printf(b, ",\"available\":\"%s\"", available);
	}
	(void)buf_puts(b, ",\"currency\":\"USD\"}");
}

void
handler_balance_body(struct ctx *ctx, int64_t balance_minor)
{
	handler_balance_write(ctx, balance_minor, -1);
}

void
handler_balance_available_body(
    struct ctx *ctx, int64_t balance_minor, int64_t available_minor)
{
	assert(available_minor >= 0);
	handler_balance_write(ctx, balance_minor, available_minor);
}

int
handler_idem_key(struct ctx *ctx, const char **key)
{
	*key = ctx->req->idem_key;
	if (*key == NULL || idem_key_is_valid(*key))
		return 0;
	http_error(ctx->resp, API_INVALID_REQUEST,
	    "The Idempotency-Key header must be 1 to 255 printable ASCII "
	    "characters.");
	return -1;
}

/* The answer written in ctx->resp, as idem.h stores it, with status. */
static void
handler_answer_of(const struct ctx *ctx, int status, struct idem_answer *a)
{
	const struct buf *b = &ctx->resp->body;

	assert(!b->overflow && b->len > 0 && b->len <= IDEM_RESPONSE_SIZE_MAX);
	a->code = status;
	memcpy(a->body, b->data, b->len);
	a->len = b->len;
}

void
handler_money_done(struct ctx *ctx, enum stmt call, const char *key,
    const char *canon, int status)
{
	struct idem_key k = {ctx->user_id, key, canon};
	struct idem_answer a;
	enum db_rc rc;

	if (key == NULL) {
		ctx->resp->status = status;
		return;
	}
	handler_answer_of(ctx, status, &a);
	/* The CALL left its transaction open for the answer (idem.h). */
	db_txn_adopt(ctx->db, call);
	rc = idem_finish(ctx->db, &k, &a);
	if (rc != DB_OK) {
		handler_db_error(ctx, rc);
		return;
	}
	ctx->resp->status = status;
}

/* Answers from what the key holds: the stored answer, or why not. */
static void
handler_idem_replay(struct ctx *ctx, const char *key, const char *canon)
{
	struct idem_key k = {ctx->user_id, key, canon};
	struct idem_answer a;
	enum db_rc rc = DB_OK;

	switch (idem_replay(ctx->db, &k, &a, &rc)) {
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
		/* Purged between the claim and now: the client retries. */
		http_error(ctx->resp, API_UNAVAILABLE, NULL);
		break;
	default:
		handler_db_error(ctx, rc);
		break;
	}
}

void
handler_money_refused(struct ctx *ctx, enum ledger_state state, enum db_rc rc,
    const char *key, const char *canon)
{
	static const enum api_err errs[LEDGER_STATE__MAX] = {
	    [LEDGER_STATE_NO_TO] = API_RECIPIENT_NOT_FOUND,
	    [LEDGER_STATE_FUNDS] = API_INSUFFICIENT_FUNDS,
	    [LEDGER_STATE_CAP] = API_LIMIT_EXCEEDED,
	    [LEDGER_STATE_FROZEN] = API_ACCOUNT_FROZEN,
	    [LEDGER_STATE_NOT_FOUND] = API_NOT_FOUND,
	    [LEDGER_STATE_FORBIDDEN] = API_FORBIDDEN,
	    [LEDGER_STATE_NOT_PENDING] = API_HOLD_NOT_PENDING,
	    [LEDGER_STATE_EXPIRED] = API_HOLD_EXPIRED,
	    [LEDGER_STATE_OVER_HOLD] = API_OVER_HOLD,
	    [LEDGER_STATE_OVER_REFUND] = API_REFUND_EXCEEDS,
	};

	assert(!ctx->db->in_txn);
	if (rc != DB_OK) {
		handler_db_error(ctx, rc);
		return;
	}
	assert(state != LEDGER_STATE_DONE && state < LEDGER_STATE__MAX);
	assert((int)state != LEDGER_STATE_RETIRED); /* the callers refuse it */
	switch (state) {
	case LEDGER_STATE_NO_USER:
		http_error(ctx->resp, API_UNAUTHORIZED, NULL);
		return;
	case LEDGER_STATE_SELF:
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The recipient must not be the caller.");
		return;
	case LEDGER_STATE_KEY_TAKEN:
		handler_idem_replay(ctx, key, canon);
		return;
	case LEDGER_STATE_KEY_BUSY:
		http_error(ctx->resp, API_REQUEST_IN_PROGRESS, NULL);
		return;
	default:
		break;
	}
	assert(errs[state] != API_INVALID_REQUEST);
	http_error(ctx->resp, errs[state], NULL);
	if (key == NULL)
		return;
	{
		struct idem_key k = {ctx->user_id, key, canon};
		struct idem_answer a;

		handler_answer_of(ctx, ctx->resp->status, &a);
		rc = idem_record(ctx->db, &k, &a);
	}
	if (rc == DB_DUPLICATE)
		handler_idem_replay(ctx, key, canon);
	else if (rc == DB_RETRY)
		http_error(ctx->resp, API_REQUEST_IN_PROGRESS, NULL);
	else if (rc != DB_OK)
		handler_db_error(ctx, rc); /* unrecorded: could differ later */
}

int
handler_read_amount(struct ctx *ctx, struct json_object *obj, int64_t *minor)
{
	char text[MONEY_LITERAL_LEN_MAX + 1];
	struct json_object *v;

	switch (jsonio_get_amount_text(obj, "amount", text, sizeof(text))) {
	case JSONIO_OK:
		if (money_parse(text, minor) == MONEY_OK)
			return 0;
		break;
	case JSONIO_MISSING:
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The field \"amount\" is required.");
		return -1;
	case JSONIO_TYPE:
		if (json_object_object_get_ex(obj, "amount", &v) &&
		    json_object_is_type(v, json_type_boolean))
			break;
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The field \"amount\" must be a string or a number.");
		return -1;
	default:
		break; /* null, or a literal too long to be an amount */
	}
	http_error(ctx->resp, API_INVALID_AMOUNT, NULL);
	return -1;
}

int
handler_read_recipient(struct ctx *ctx, struct json_object *obj, int64_t *to_id,
    const char **to, size_t *to_len)
{
	enum jsonio_rc name_rc, id_rc;

	*to = NULL;
	*to_id = 0;
	name_rc = jsonio_get_str(obj, "to", to, to_len);
	id_rc = jsonio_get_i64(obj, "to_id", 1, INT64_MAX, to_id);
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
	/* No username is longer than USERNAME_LEN_MAX (bounds.h). */
	if (name_rc != JSONIO_MISSING &&
	    (name_rc != JSONIO_OK || *to_len == 0 ||
	        *to_len > USERNAME_LEN_MAX)) {
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The field \"to\" must be a username.");
		return -1;
	}
	if (name_rc == JSONIO_MISSING && id_rc != JSONIO_OK) {
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The field \"to_id\" must be a positive integer.");
		return -1;
	}
	assert((*to != NULL) != (*to_id > 0));
	return 0;
}

bool
handler_in_time(const struct ctx *ctx, int64_t need_ms)
{
	return ctx->deadline_ms == 0 ||
	       util_now_ms() + need_ms <= ctx->deadline_ms;
}

int
handler_read_optional_amount(struct ctx *ctx, int64_t *minor)
{
	struct json_object *obj, *v;
	int rc = 0;

	*minor = 0;
	if (ctx->req->body_len == 0)
		return 0;
	obj = jsonio_parse_object(ctx->req->body, ctx->req->body_len);
	if (obj == NULL) {
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The body must be a JSON object.");
		return -1;
	}
	if (json_object_object_get_ex(obj, "amount", &v))
		rc = handler_read_amount(ctx, obj, minor);
	json_object_put(obj);
	return rc;
}
