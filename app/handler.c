/*
 * What every handler shares.
 */
#include <assert.h>

#include "handler.h"
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

void
handler_balance_body(struct ctx *ctx, int64_t balance_minor)
{
	char balance[MONEY_TEXT_SIZE_MAX];
	struct buf *b = &ctx->resp->body;

	assert(ctx->username[0] != '\0');
	/* The schema's CHECK keeps every balance in [0, cap]. */
	assert(balance_minor >= 0 && balance_minor <= MONEY_BALANCE_MAX_MINOR);
	money_format(balance_minor, balance);
	buf_reset(b);
	(void)buf_puts(b, "{\"username\":");
	(void)buf_json_str(b, ctx->username);
	(void)buf_printf(
	    b, ",\"balance\":\"%s\",\"currency\":\"USD\"}", balance);
}

bool
handler_in_time(const struct ctx *ctx, int64_t need_ms)
{
	return ctx->deadline_ms == 0 ||
	       util_now_ms() + need_ms <= ctx->deadline_ms;
}
