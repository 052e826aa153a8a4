/*
 * POST /logout (API.md): logs the caller out everywhere. One UPDATE raises
 * the user's token generation, so every token issued up to now, on any
 * device, is refused from then on by the read that checks the caller on
 * every request (auth.c), on every app instance at once; a login
 * afterwards gets a token of the new generation.
 */
#include <assert.h>
#include <stdint.h>

#include "handler.h"
#include "log.h"

void
h_logout(struct ctx *ctx)
{
	struct db_val in[] = {
	    DB_I64_IN(ctx->user_id), DB_I64_IN(ctx->token_gen)};
	uint64_t changed = 0;
	enum db_rc rc;

	assert(ctx->user_id > 0 && ctx->user_checked);
	rc = handler_exec_retry(ctx, STMT_USER_LOGOUT, in, 2, &changed);
	if (rc != DB_OK) {
		handler_db_error(ctx, rc);
		return;
	}
	/* Only while the token's generation is the user's: else revoked. */
	if (changed != 1) {
		http_error(ctx->resp, API_UNAUTHORIZED, NULL);
		return;
	}
	log_event(LOG_INFO, "logout", "uid=%lld", (long long)ctx->user_id);
	buf_reset(&ctx->resp->body);
	(void)buf_puts(&ctx->resp->body, "{\"status\":\"logged_out\"}");
	ctx->resp->status = 200;
}
