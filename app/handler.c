/*
 * What every handler shares.
 */
#include "handler.h"
#include "log.h"

void
handler_db_error(struct ctx *ctx, enum db_rc rc)
{
	/* A lost connection or exhausted retries: the client may retry. */
	if (rc == DB_CONN || rc == DB_RETRY)
		http_error(ctx->resp, API_UNAVAILABLE, NULL);
	else
		http_error(ctx->resp, API_INTERNAL, NULL);
}
