/*
 * GET /metrics: the Prometheus text format, aggregated over all workers.
 * nginx serves it to loopback only.
 */
#include "handler.h"
#include "metrics.h"

void
h_metrics(struct ctx *ctx)
{
	buf_reset(&ctx->resp->body);
	if (metrics_render(&ctx->resp->body) != 0) {
		http_error(ctx->resp, API_INTERNAL, "metrics unavailable");
		return;
	}
	ctx->resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
