/*
 * GET /healthz: 200 {"status":"ok"} when the database answers, else 503
 * {"status":"unavailable"} (API.md GET /healthz). Public.
 */
#include "handler.h"

void
h_healthz(struct ctx *ctx)
{
	struct db_val out[] = {DB_I64_OUT()};
	enum db_rc rc = db_row_read(ctx->db, STMT_PING, NULL, 0, out, 1);

	buf_reset(&ctx->resp->body);
	if (rc == DB_OK && out[0].i64 == 1) {
		ctx->resp->status = 200;
		(void)buf_puts(&ctx->resp->body, "{\"status\":\"ok\"}");
	} else {
		ctx->resp->status = 503;
		ctx->resp->err_code = "unavailable";
		(void)buf_puts(
		    &ctx->resp->body, "{\"status\":\"unavailable\"}");
	}
}
