/*
 * GET /healthz: 200 {"status":"ok"} when the database answers and, on a
 * Galera cluster, its node is Primary and Synced (app/wsrep.c); else 503
 * {"status":"unavailable"} (API.md GET /healthz), so that a load balancer
 * stops sending this app host work. Public.
 */
#include "handler.h"
#include "wsrep.h"

void
h_healthz(struct ctx *ctx)
{
	struct wsrep_state st = {0};
	enum db_rc rc = wsrep_read(ctx->db, &st);

	buf_reset(&ctx->resp->body);
	if (rc == DB_OK && wsrep_serves(&st)) {
		ctx->resp->status = 200;
		(void)buf_puts(&ctx->resp->body, "{\"status\":\"ok\"}");
	} else {
		ctx->resp->status = 503;
		ctx->resp->err_code = "unavailable";
		(void)buf_puts(
		    &ctx->resp->body, "{\"status\":\"unavailable\"}");
	}
}
