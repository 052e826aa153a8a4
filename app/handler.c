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

struct json_object *
handler_body_object(struct ctx *ctx)
{
	struct json_object *obj =
	    jsonio_parse_object(ctx->req->body, ctx->req->body_len);

	if (obj == NULL)
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The body must be a JSON object.");
	return obj;
}

int
handler_parse_amount(struct json_object *obj, int64_t *minor, enum api_err *err,
    const char **message)
{
	char text[MONEY_LITERAL_LEN_MAX + 1];
	struct json_object *v;

	*err = API_INVALID_REQUEST;
	switch (jsonio_get_amount_text(obj, "amount", text, sizeof(text))) {
	case JSONIO_OK:
		if (money_parse(text, minor) == MONEY_OK)
			return 0;
		break;
	case JSONIO_MISSING:
		*message = "The field \"amount\" is required.";
		return -1;
	case JSONIO_TYPE:
		if (json_object_object_get_ex(obj, "amount", &v) &&
		    json_object_is_type(v, json_type_boolean))
			break;
		*message = "The field \"amount\" must be a string or a number.";
		return -1;
	default:
		break; /* null, or a literal too long to be an amount */
	}
	*err = API_INVALID_AMOUNT;
	*message = NULL;
	return -1;
}

int
handler_read_amount(struct ctx *ctx, struct json_object *obj, int64_t *minor)
{
	enum api_err err;
	const char *message;

	if (handler_parse_amount(obj, minor, &err, &message) == 0)
		return 0;
	http_error(ctx->resp, err, message);
	return -1;
}

int
handler_parse_recipient(struct json_object *obj, int64_t *to_id,
    const char **to, size_t *to_len, const char **message)
{
	enum jsonio_rc name_rc, id_rc;

	*to = NULL;
	*to_id = 0;
	*message = NULL;
	name_rc = jsonio_get_str(obj, "to", to, to_len);
	id_rc = jsonio_get_i64(obj, "to_id", 1, INT64_MAX, to_id);
	if (name_rc == JSONIO_MISSING && id_rc == JSONIO_MISSING)
		*message = "The field \"to\" (or \"to_id\") is required.";
	else if (name_rc != JSONIO_MISSING && id_rc != JSONIO_MISSING)
		*message =
		    "Give the field \"to\" or the field \"to_id\", not both.";
	/* No username is longer than USERNAME_LEN_MAX (bounds.h). */
	else if (name_rc != JSONIO_MISSING &&
	         (name_rc != JSONIO_OK || *to_len == 0 ||
	             *to_len > USERNAME_LEN_MAX))
		*message = "The field \"to\" must be a username.";
	else if (name_rc == JSONIO_MISSING && id_rc != JSONIO_OK)
		*message = "The field \"to_id\" must be a positive integer.";
	if (*message != NULL) {
		*to = NULL;
		*to_id = 0;
		return -1;
	}
	if (name_rc == JSONIO_MISSING)
		*to_len = 0;
	assert((*to != NULL) != (*to_id > 0));
	return 0;
}

int
handler_read_recipient(struct ctx *ctx, struct json_object *obj, int64_t *to_id,
    const char **to, size_t *to_len)
{
	const char *message;

	if (handler_parse_recipient(obj, to_id, to, to_len, &message) == 0)
		return 0;
	http_error(ctx->resp, API_INVALID_REQUEST, message);
	return -1;
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
	obj = handler_body_object(ctx);
	if (obj == NULL)
		return -1;
	if (json_object_object_get_ex(obj, "amount", &v))
		rc = handler_read_amount(ctx, obj, minor);
	json_object_put(obj);
	return rc;
}
