/* Temporary: replaced module by module as the issues land. */
#include <stdio.h>
#include "audit.h"
#include "auth.h"
#include "handler.h"

enum api_err
auth_check(struct ctx *ctx)
{
	(void)ctx;
	return API_UNAUTHORIZED;
}
void h_register(struct ctx *ctx) { http_error(ctx->resp, API_INTERNAL, "not yet"); }
void h_login(struct ctx *ctx) { http_error(ctx->resp, API_INTERNAL, "not yet"); }
void h_balance_get(struct ctx *ctx) { http_error(ctx->resp, API_INTERNAL, "not yet"); }
void h_balance_post(struct ctx *ctx) { http_error(ctx->resp, API_INTERNAL, "not yet"); }
void h_transfer(struct ctx *ctx) { http_error(ctx->resp, API_INTERNAL, "not yet"); }
void h_transactions(struct ctx *ctx) { http_error(ctx->resp, API_INTERNAL, "not yet"); }
int audit_run(const struct config *cfg) { (void)cfg; puts("audit: not yet"); return 1; }
