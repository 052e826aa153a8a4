/*
 * Goal: router_dispatch() sends each request where API.md says, whatever
 * the method, path, body and Content-Type: the right handler exactly once,
 * the token check before every protected handler, and otherwise the
 * contract's error (404, 405 with Allow, 415, 401 with WWW-Authenticate).
 *
 * The handlers, auth_token() and auth_user() are replaced here by
 * recorders, so the target links only router.c, http.c, buf.c and util.c
 * of the app and needs no database. Input: byte 0 the method, byte 1 flags (a
 * body, a Content-Type, what the token check answers), then the path up to
 * '\n',
 * then the Content-Type.
 * Properties, against the endpoint table of API.md:
 *  - a known method + path runs its handler once and nothing else, unless
 *    a body that is not JSON (415) or a refused token (the token check's
 *    error) stops it first; public routes never ask for a token;
 *  - a known path with another method is 405 with an Allow header that
 *    lists exactly that path's methods; an unknown path is 404;
 *  - every error is the contract's shape: a JSON object {"error":
 *    {"code": <the error's code>, "message": <a string>}}, with the JSON
 *    content type, and 401 carries WWW-Authenticate: Bearer.
 */
#include <stdbool.h>
#include <string.h>

#include <json-c/json.h>

#include "auth.h"
#include "bounds.h"
#include "fuzz.h"
#include "handler.h"
#include "http.h"
#include "router.h"

enum fuzz_h {
	FUZZ_H_HEALTHZ,          /* h_healthz */
	FUZZ_H_REGISTER,         /* h_register */
	FUZZ_H_LOGIN,            /* h_login */
	FUZZ_H_BALANCE_GET,      /* h_balance_get */
	FUZZ_H_BALANCE_POST,     /* h_balance_post */
	FUZZ_H_TRANSFER,         /* h_transfer */
	FUZZ_H_TRANSACTIONS,     /* h_transactions */
	FUZZ_H_METRICS,          /* h_metrics */
	FUZZ_H_PASSWORD,         /* h_password */
	FUZZ_H_LOGOUT,           /* h_logout */
	FUZZ_H_STATEMENT,        /* h_statement */
	FUZZ_H_BATCH,            /* h_batch */
	FUZZ_H_HOLDS_CREATE,     /* h_holds_create */
	FUZZ_H_HOLDS_LIST,       /* h_holds_list */
	FUZZ_H_HOLDS_GET,        /* h_holds_get */
	FUZZ_H_HOLDS_CAPTURE,    /* h_holds_capture */
	FUZZ_H_HOLDS_VOID,       /* h_holds_void */
	FUZZ_H_TRANSFERS_GET,    /* h_transfers_get */
	FUZZ_H_TRANSFERS_REFUND, /* h_transfers_refund */
	FUZZ_H__MAX
};

/*
 * API.md Endpoints, plus the operators' GET /metrics. "{id}" stands for a
 * path segment that is a positive integer (fuzz_path_is).
 */
static const struct {
	const char *path;
	enum http_method method;
	bool auth;
} fuzz_routes[FUZZ_H__MAX] = {
    {"/healthz", HTTP_GET, false},               /* FUZZ_H_HEALTHZ */
    {"/register", HTTP_POST, false},             /* FUZZ_H_REGISTER */
    {"/login", HTTP_POST, false},                /* FUZZ_H_LOGIN */
    {"/balance", HTTP_GET, true},                /* FUZZ_H_BALANCE_GET */
    {"/balance", HTTP_POST, true},               /* FUZZ_H_BALANCE_POST */
    {"/transfer", HTTP_POST, true},              /* FUZZ_H_TRANSFER */
    {"/transactions", HTTP_GET, true},           /* FUZZ_H_TRANSACTIONS */
    {"/metrics", HTTP_GET, false},               /* FUZZ_H_METRICS */
    {"/password", HTTP_POST, true},              /* FUZZ_H_PASSWORD */
    {"/logout", HTTP_POST, true},                /* FUZZ_H_LOGOUT */
    {"/statement", HTTP_GET, true},              /* FUZZ_H_STATEMENT */
    {"/transfers/batch", HTTP_POST, true},       /* FUZZ_H_BATCH */
    {"/holds", HTTP_POST, true},                 /* FUZZ_H_HOLDS_CREATE */
    {"/holds", HTTP_GET, true},                  /* FUZZ_H_HOLDS_LIST */
    {"/holds/{id}", HTTP_GET, true},             /* FUZZ_H_HOLDS_GET */
    {"/holds/{id}/capture", HTTP_POST, true},    /* FUZZ_H_HOLDS_CAPTURE */
    {"/holds/{id}/void", HTTP_POST, true},       /* FUZZ_H_HOLDS_VOID */
    {"/transfers/{id}", HTTP_GET, true},         /* FUZZ_H_TRANSFERS_GET */
    {"/transfers/{id}/refund", HTTP_POST, true}, /* FUZZ_H_TRANSFERS_REFUND */
};

static const char *const fuzz_paths[] = {
    "/healthz",
    "/register",
    "/login",
    "/balance",
    "/transfer",
    "/transactions",
    "/metrics",
    "/",
    "/balance/",
    "/BALANCE",
    "/password",
    "/logout",
    "/statement",
    "/transfers/batch",
    "/transfers",
    "/holds",
    "/holds/7",
    "/holds/7/capture",
    "/holds/007/void",
    "/transfers/9223372036854775807",
    "/transfers/9223372036854775808/refund",
};

static int fuzz_calls[FUZZ_H__MAX];
static int fuzz_auth_calls;
static enum api_err fuzz_auth_answer;

#define FUZZ_HANDLER(fn, id)                                                   \
	void fn(struct ctx *ctx)                                               \
	{                                                                      \
		fuzz_calls[id]++;                                              \
		ctx->resp->status = 299;                                       \
	}
FUZZ_HANDLER(h_healthz, FUZZ_H_HEALTHZ)
FUZZ_HANDLER(h_register, FUZZ_H_REGISTER)
FUZZ_HANDLER(h_login, FUZZ_H_LOGIN)
FUZZ_HANDLER(h_balance_get, FUZZ_H_BALANCE_GET)
FUZZ_HANDLER(h_balance_post, FUZZ_H_BALANCE_POST)
FUZZ_HANDLER(h_transfer, FUZZ_H_TRANSFER)
FUZZ_HANDLER(h_transactions, FUZZ_H_TRANSACTIONS)
FUZZ_HANDLER(h_metrics, FUZZ_H_METRICS)
FUZZ_HANDLER(h_password, FUZZ_H_PASSWORD)
FUZZ_HANDLER(h_logout, FUZZ_H_LOGOUT)
FUZZ_HANDLER(h_statement, FUZZ_H_STATEMENT)
FUZZ_HANDLER(h_batch, FUZZ_H_BATCH)
FUZZ_HANDLER(h_holds_create, FUZZ_H_HOLDS_CREATE)
FUZZ_HANDLER(h_holds_list, FUZZ_H_HOLDS_LIST)
FUZZ_HANDLER(h_holds_get, FUZZ_H_HOLDS_GET)
FUZZ_HANDLER(h_holds_capture, FUZZ_H_HOLDS_CAPTURE)
FUZZ_HANDLER(h_holds_void, FUZZ_H_HOLDS_VOID)
FUZZ_HANDLER(h_transfers_get, FUZZ_H_TRANSFERS_GET)
FUZZ_HANDLER(h_transfers_refund, FUZZ_H_TRANSFERS_REFUND)

/*
 * The test's own reading of API.md's path ids: a segment of 1 to 19
 * digits, not starting with 0, at most INT64_MAX, where the pattern says
 * "{id}"; every other segment as it is.
 */
static bool
fuzz_path_is(const char *pattern, const char *path)
{
	static const char max[] = "9223372036854775807";

	while (*pattern != '\0' || *path != '\0') {
		size_t p = strcspn(pattern, "/"), q = strcspn(path, "/");

		if (p == 4 && strncmp(pattern, "{id}", 4) == 0) {
			if (q == 0 || q > 19 || path[0] == '0' ||
			    strspn(path, "0123456789") != q ||
			    (q == 19 && strncmp(path, max, 19) > 0))
				return false;
		} else if (p != q || strncmp(pattern, path, p) != 0) {
			return false;
		}
		if ((pattern[p] == '/') != (path[q] == '/'))
			return false;
		pattern += p + (pattern[p] == '/');
		path += q + (path[q] == '/');
	}
	return true;
}

/* The token check of every protected route; its answer is the input's. */
int
auth_token(struct ctx *ctx)
{
	fuzz_auth_calls++;
	if (fuzz_auth_answer == API__MAX)
		return 0;
	http_error(ctx->resp, fuzz_auth_answer, NULL);
	return -1;
}

/* The caller's row, read after a good token (GET routes): found. */
int
auth_user(struct ctx *ctx)
{
	ctx->user_checked = true;
	return 0;
}

/* The batch loaders: router_dispatch() serves one request, never a batch. */
void
auth_users_load(struct ctx *const *ctxs, size_t n)
{
	(void)ctxs;
	FUZZ_CHECK(n == 0, "auth_users_load called from router_dispatch");
}

void
h_transfer_batch(struct ctx *const *ctxs, size_t n)
{
	(void)ctxs;
	FUZZ_CHECK(n == 0, "h_transfer_batch called from router_dispatch");
}

static void fuzz_check_error(const struct http_resp *resp, enum api_err err);
static bool fuzz_has_header(const struct http_resp *resp, const char *line);
static void fuzz_check_allow(const struct http_resp *resp, const char *path);

static bool
fuzz_has_header(const struct http_resp *resp, const char *line)
{
	for (int i = 0; i < resp->header_count; i++) {
		if (strcmp(resp->headers[i], line) == 0)
			return true;
	}
	return false;
}

static void
fuzz_check_error(const struct http_resp *resp, enum api_err err)
{
	struct json_object *body, *e, *code, *msg;

	FUZZ_CHECK(resp->status == http_err_status(err), "status %d, want %d",
	    resp->status, http_err_status(err));
	FUZZ_CHECK(
	    resp->content_type == NULL, "content type %s", resp->content_type);
	FUZZ_CHECK(!resp->body.overflow, "body overflow");
	body = json_tokener_parse(resp->body.data);
	FUZZ_CHECK(body != NULL && json_object_is_type(body, json_type_object),
	    "body is not an object: %s", resp->body.data);
	FUZZ_CHECK(
	    json_object_object_length(body) == 1 &&
	        json_object_object_get_ex(body, "error", &e) &&
	        json_object_object_length(e) == 2 &&
	        json_object_object_get_ex(e, "code", &code) &&
	        json_object_object_get_ex(e, "message", &msg) &&
	        json_object_is_type(msg, json_type_string) &&
	        json_object_is_type(code, json_type_string) &&
	        strcmp(json_object_get_string(code), http_err_code(err)) == 0,
	    "error shape: %s", resp->body.data);
	json_object_put(body);
	if (resp->status == 401)
		FUZZ_CHECK(
		    fuzz_has_header(resp, "WWW-Authenticate: Bearer\r\n"),
		    "401 without challenge");
}

static void
fuzz_check_allow(const struct http_resp *resp, const char *path)
{
	bool want[HTTP_METHOD__MAX] = {false};
	const char *allow = NULL;
	char list[HTTP_HEADER_SIZE_MAX];

	for (int i = 0; i < resp->header_count; i++) {
		if (strncmp(resp->headers[i], "Allow: ", 7) == 0) {
			FUZZ_CHECK(allow == NULL, "two Allow headers");
			allow = resp->headers[i] + 7;
		}
	}
	FUZZ_CHECK(allow != NULL, "405 without Allow");
	for (int h = 0; h < FUZZ_H__MAX; h++) {
		if (fuzz_path_is(fuzz_routes[h].path, path))
			want[fuzz_routes[h].method] = true;
	}
	(void)snprintf(list, sizeof(list), "%s%s%s\r\n",
	    want[HTTP_GET] ? "GET" : "",
	    want[HTTP_GET] && want[HTTP_POST] ? ", " : "",
	    want[HTTP_POST] ? "POST" : "");
	FUZZ_CHECK(strcmp(allow, list) == 0, "Allow: %s for %s", allow, path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char store[HTTP_RESPONSE_SIZE_MAX];
	static const enum api_err answers[] = {
	    API__MAX, API_UNAUTHORIZED, API_UNAVAILABLE, API_INTERNAL};
	char ctype[256], body[4] = "{}";
	struct http_req req;
	struct http_resp resp;
	struct ctx ctx;
	size_t used = 2, n = 0;
	int hit = -1, calls = 0;
	bool path_known = false, stopped;

	if (size < 2)
		return 0;
	memset(&req, 0, sizeof(req));
	memset(&ctx, 0, sizeof(ctx));
	memset(fuzz_calls, 0, sizeof(fuzz_calls));
	fuzz_auth_calls = 0;
	fuzz_auth_answer = answers[(data[1] >> 2) & 3];
	req.method = (enum http_method)(data[0] % HTTP_METHOD__MAX);
	req.method_text = "X";
	req.query = "";
	req.body = body;
	req.has_body = (data[1] & 1) != 0;
	req.body_len = req.has_body ? 2 : 0;
	(void)snprintf(req.req_id, sizeof(req.req_id), "fuzz");
	/* The path: a known one half of the time, else from the input. */
	if (data[1] & 0x10) {
		(void)snprintf(req.path, sizeof(req.path), "%s",
		    fuzz_paths[(data[1] >> 5) %
		               (sizeof(fuzz_paths) / sizeof(fuzz_paths[0]))]);
	} else {
		while (used < size && data[used] != '\n' && data[used] != 0 &&
		       n + 1 < sizeof(req.path))
			req.path[n++] = (char)data[used++];
		req.path[n] = '\0';
	}
	while (used < size && data[used] != '\n')
		used++;
	used += used < size;
	(void)fuzz_cstr(ctype, sizeof(ctype), data + used, size - used);
	req.content_type = (data[1] & 2) != 0 ? ctype : NULL;

	http_resp_init(&resp, store, sizeof(store));
	ctx.req = &req;
	ctx.resp = &resp;
	router_dispatch(&ctx);

	for (int h = 0; h < FUZZ_H__MAX; h++) {
		calls += fuzz_calls[h];
		if (!fuzz_path_is(fuzz_routes[h].path, req.path))
			continue;
		path_known = true;
		if (fuzz_routes[h].method == req.method)
			hit = h;
	}
	FUZZ_CHECK(calls <= 1, "%d handlers ran", calls);
	FUZZ_CHECK(ctx.route != NULL, "no route name");
	if (hit < 0) {
		FUZZ_CHECK(calls == 0 && fuzz_auth_calls == 0,
		    "ran something for %s", req.path);
		fuzz_check_error(
		    &resp, path_known ? API_METHOD_NOT_ALLOWED : API_NOT_FOUND);
		if (path_known)
			fuzz_check_allow(&resp, req.path);
		return 0;
	}
	if (req.has_body && !http_is_json(req.content_type)) {
		FUZZ_CHECK(calls == 0 && fuzz_auth_calls == 0,
		    "ran with a non-JSON body");
		fuzz_check_error(&resp, API_UNSUPPORTED_MEDIA);
		return 0;
	}
	FUZZ_CHECK(fuzz_auth_calls == (fuzz_routes[hit].auth ? 1 : 0),
	    "%s: %d token checks", req.path, fuzz_auth_calls);
	stopped = fuzz_routes[hit].auth && fuzz_auth_answer != API__MAX;
	if (stopped) {
		FUZZ_CHECK(calls == 0, "ran without a token");
		fuzz_check_error(&resp, fuzz_auth_answer);
		return 0;
	}
	FUZZ_CHECK(fuzz_calls[hit] == 1 && resp.status == 299,
	    "handler %d not run for %s", hit, req.path);
	return 0;
}
