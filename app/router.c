/*
 * The route table and its dispatch.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "auth.h"
#include "buf.h"
#include "router.h"

/* What a route asks of the caller before its handler runs. */
enum route_auth {
	ROUTE_PUBLIC, /* nothing */
	ROUTE_USER,   /* a valid token for a user that exists: auth_user() */
	ROUTE_TOKEN,  /* a valid token; the handler checks the user: auth.h */
};

struct route {
	const char *path; /* "{id}" stands for a positive integer segment */
	enum http_method method;
	void (*fn)(struct ctx *ctx);
	enum route_auth auth;
	enum router_batch batch; /* what it may be taken with (worker.c) */
	const char *name;        /* for logs and metrics */
};

static const struct route routes[] = {
    {"/healthz", HTTP_GET, h_healthz, ROUTE_PUBLIC, ROUTER_ALONE, "healthz"},
    {"/fees", HTTP_GET, h_fees, ROUTE_PUBLIC, ROUTER_ALONE, "fees"},
    {"/register", HTTP_POST, h_register, ROUTE_PUBLIC, ROUTER_ALONE,
        "register"},
    {"/login", HTTP_POST, h_login, ROUTE_PUBLIC, ROUTER_ALONE, "login"},
    {"/balance", HTTP_GET, h_balance_get, ROUTE_USER, ROUTER_READS,
        "balance_get"},
    {"/balance", HTTP_POST, h_balance_post, ROUTE_TOKEN, ROUTER_ALONE,
        "balance_post"},
    {"/transfer", HTTP_POST, h_transfer, ROUTE_TOKEN, ROUTER_TRANSFERS,
        "transfer"},
    {"/transactions", HTTP_GET, h_transactions, ROUTE_USER, ROUTER_READS,
        "transactions"},
    {"/statement", HTTP_GET, h_statement, ROUTE_USER, ROUTER_ALONE,
        "statement"},
    {"/transfers/batch", HTTP_POST, h_batch, ROUTE_TOKEN, ROUTER_ALONE,
        "transfers_batch"},
    {"/metrics", HTTP_GET, h_metrics, ROUTE_PUBLIC, ROUTER_ALONE, "metrics"},
    {"/password", HTTP_POST, h_password, ROUTE_USER, ROUTER_ALONE, "password"},
    {"/logout", HTTP_POST, h_logout, ROUTE_USER, ROUTER_ALONE, "logout"},
    {"/holds", HTTP_GET, h_holds_list, ROUTE_USER, ROUTER_ALONE, "holds_list"},
    {"/holds", HTTP_POST, h_holds_create, ROUTE_TOKEN, ROUTER_ALONE,
        "holds_create"},
    {"/holds/{id}", HTTP_GET, h_holds_get, ROUTE_USER, ROUTER_ALONE,
        "holds_get"},
    {"/holds/{id}/capture", HTTP_POST, h_holds_capture, ROUTE_TOKEN,
        ROUTER_ALONE, "holds_capture"},
    {"/holds/{id}/void", HTTP_POST, h_holds_void, ROUTE_TOKEN, ROUTER_ALONE,
        "holds_void"},
    {"/transfers/{id}", HTTP_GET, h_transfers_get, ROUTE_USER, ROUTER_ALONE,
        "transfers_get"},
    {"/transfers/{id}/refund", HTTP_POST, h_transfers_refund, ROUTE_TOKEN,
        ROUTER_ALONE, "transfers_refund"},
};

#define ROUTE_COUNT (sizeof(routes) / sizeof(routes[0]))
_Static_assert(ROUTE_COUNT + 2 < METRICS_ROUTE_COUNT_MAX,
    "metrics counts every route, the answers of no route and \"-\"");

static const char *const router_method_names[HTTP_METHOD__MAX] = {
    "GET",  /* HTTP_GET */
    "POST", /* HTTP_POST */
    "",     /* HTTP_OTHER */
};

/*
 * Whether path is pattern, where a "{id}" segment of the pattern matches a
 * positive integer without leading zeros that fits int64_t, kept in *id.
 * Any other path id (API.md: not a positive integer) matches no route:
 * 404 not_found.
 */
static bool
router_path_is(const char *pattern, const char *path, int64_t *id)
{
	static const char hole[] = "{id}";

	while (*pattern != '\0') {
		if (strncmp(pattern, hole, sizeof(hole) - 1) == 0) {
			int64_t v = 0;

			if (*path < '1' || *path > '9')
				return false;
			for (; *path >= '0' && *path <= '9'; path++) {
				if (v > (INT64_MAX - (*path - '0')) / 10)
					return false;
				v = v * 10 + (*path - '0');
			}
			*id = v;
			pattern += sizeof(hole) - 1;
			continue;
		}
		if (*pattern++ != *path++)
			return false;
	}
	return *path == '\0';
}

unsigned
router_route(struct ctx *ctx)
{
	const struct http_req *req = ctx->req;
	const struct route *hit = NULL;
	char allow_store[64];
	struct buf allow;
	bool path_known = false;

	ctx->hit = NULL;
	buf_init(&allow, allow_store, sizeof(allow_store));
	ctx->path_id = 0;
	for (size_t i = 0; i < ROUTE_COUNT; i++) {
		if (!router_path_is(routes[i].path, req->path, &ctx->path_id))
			continue;
		path_known = true;
		if (routes[i].method == req->method)
			hit = &routes[i];
		if (allow.len > 0)
			(void)buf_puts(&allow, ", ");
		(void)buf_puts(&allow, router_method_names[routes[i].method]);
	}
	/* The longest list is every method name: "GET, POST". */
	assert(!allow.overflow);
	if (hit == NULL) {
		ctx->route = path_known ? "method_not_allowed" : "not_found";
		http_error(ctx->resp,
		    path_known ? API_METHOD_NOT_ALLOWED : API_NOT_FOUND, NULL);
		if (path_known)
			(void)http_header(ctx->resp, "Allow", allow.data);
		return ROUTER_ALONE;
	}
	ctx->route = hit->name;
	if (req->has_body && !http_is_json(req->content_type)) {
		http_error(ctx->resp, API_UNSUPPORTED_MEDIA, NULL);
		return ROUTER_ALONE;
	}
	if (hit->auth != ROUTE_PUBLIC && auth_token(ctx) != 0)
		return ROUTER_ALONE;
	ctx->hit = hit;
	return hit->batch;
}

void
router_load(struct ctx *const *ctxs, size_t n)
{
	if (n == 0)
		return;
	/* worker.c takes only requests of one kind together. */
	switch (ctxs[0]->hit->batch) {
	case ROUTER_READS:
		auth_users_load(ctxs, n);
		break;
	case ROUTER_TRANSFERS:
		h_transfer_batch(ctxs, n);
		break;
	default:
		break;
	}
}

void
router_run(struct ctx *ctx)
{
	const struct route *hit = ctx->hit;

	if (hit == NULL)
		return; /* answered by router_route() */
	/* A no-op when auth_users_load() has read the row already. */
	if (hit->auth == ROUTE_USER && auth_user(ctx) != 0)
		return;
	hit->fn(ctx);
}

void
router_dispatch(struct ctx *ctx)
{
	(void)router_route(ctx);
	router_run(ctx);
}

size_t
router_names(const char **out, size_t cap)
{
	size_t n = 0;

	assert(cap >= ROUTE_COUNT + 2);
	for (size_t i = 0; i < ROUTE_COUNT; i++)
		out[n++] = routes[i].name;
	/* What router_route() names a request without a route. */
	out[n++] = "not_found";
	out[n++] = "method_not_allowed";
	return n;
}
