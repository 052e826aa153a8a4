/*
 * GET /fees (docs/api.md): the transfer fee this app charges, from its
 * configuration (fee_fixed_minor, fee_bps), so that a client can show
 * what a transfer will cost before it sends one. Public; no database.
 * The fee itself is computed by money_fee() alone; this only says its
 * two parameters.
 */
#include <assert.h>

#include "handler.h"
#include "money.h"

void
h_fees(struct ctx *ctx)
{
	char fixed[MONEY_TEXT_SIZE_MAX];

	/* config.c keeps both in range: a fixed part an amount can be. */
	assert(ctx->cfg->fee_fixed_minor >= 0 &&
	       ctx->cfg->fee_fixed_minor <= MONEY_AMOUNT_MAX_MINOR);
	assert(ctx->cfg->fee_bps >= 0 && ctx->cfg->fee_bps <= MONEY_BPS_MAX);
	money_format(ctx->cfg->fee_fixed_minor, fixed);
	buf_reset(&ctx->resp->body);
	(void)buf_printf(&ctx->resp->body,
	    "{\"fixed\":\"%s\",\"bps\":%d,\"currency\":\"USD\"}", fixed,
	    ctx->cfg->fee_bps);
	ctx->resp->status = 200;
}
