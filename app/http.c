/*
 * HTTP over FastCGI: read the request, write the response, and the error
 * shape of API.md: {"error": {"code": "...", "message": "..."}}.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "util.h"

struct http_err_def {
	int status;
	const char *code;
	const char *message;
};

static const struct http_err_def http_errs[API__MAX] = {
    /* API_INVALID_REQUEST */
    {400, "invalid_request", "The request is not valid."},
    /* API_INVALID_AMOUNT */
    {400, "invalid_amount",
        "The amount must be a positive decimal with "
        "at most two fractional digits, up to 1000000000.00."},
    /* API_UNAUTHORIZED */
    {401, "unauthorized", "A valid bearer token is required."},
    /* API_INVALID_CREDENTIALS */
    {401, "invalid_credentials", "The username or password is wrong."},
    /* API_WRONG_PASSWORD: POST /password, the caller is known */
    {403, "invalid_credentials", "The current password is wrong."},
    /* API_ACCOUNT_FROZEN */
    {403, "account_frozen",
        "This account is frozen by an operator: it can "
        "receive money but not pay."},
    /* API_NOT_FOUND */
    {404, "not_found", "There is nothing at this path."},
    /* API_RECIPIENT_NOT_FOUND */
    {404, "recipient_not_found", "The recipient does not exist."},
    /* API_METHOD_NOT_ALLOWED */
    {405, "method_not_allowed",
        "This method is not allowed on this "
        "path."},
    /* API_USERNAME_TAKEN */
    {409, "username_taken", "This username is already taken."},
    /* API_REQUEST_IN_PROGRESS */
    {409, "request_in_progress",
        "A request with this Idempotency-Key is "
        "still in progress."},
    /* API_PAYLOAD_TOO_LARGE */
    {413, "payload_too_large",
        "The request body is larger than 16 KiB (128 KiB on "
        "/transfers/batch)."},
    /* API_UNSUPPORTED_MEDIA */
    {415, "unsupported_media_type",
        "The request body must be "
        "application/json."},
    /* API_INSUFFICIENT_FUNDS */
    {422, "insufficient_funds",
        "The balance does not cover the amount "
        "plus the fee."},
    /* API_LIMIT_EXCEEDED */
    {422, "limit_exceeded",
        "The resulting balance would exceed "
        "10000000000000.00."},
    /* API_IDEM_KEY_REUSED */
    {422, "idempotency_key_reused",
        "This Idempotency-Key was used with "
        "a different request."},
    /* API_BATCH_REJECTED */
    {422, "batch_rejected",
        "Some transfers of the batch were refused; nothing moved."},
    /* API_RANGE_TOO_LARGE */
    {422, "range_too_large",
        "The range has more than 10000 entries; ask for a shorter one."},
    /* API_RATE_LIMITED */
    {429, "rate_limited", "Too many requests; retry later."},
    /* API_INTERNAL */
    {500, "internal_error", "An internal error occurred."},
    /* API_UNAVAILABLE */
    {503, "unavailable",
        "The service is temporarily unavailable; retry "
        "later."},
    /* API_FORBIDDEN */
    {403, "forbidden", "The caller may not do this to this object."},
    /* API_HOLD_NOT_PENDING */
    {409, "hold_not_pending", "The hold was already captured or voided."},
    /* API_HOLD_EXPIRED */
    {409, "hold_expired", "The hold has expired."},
    /* API_OVER_HOLD */
    {422, "invalid_amount", "The amount is above the hold's amount."},
    /* API_REFUND_EXCEEDS */
    {422, "refund_exceeds_transfer",
        "The amount is more than is left to refund of the transfer."},
};

static const char *http_reason(int status);
static void http_read_path(FCGX_Request *r, struct http_req *req);
static void http_read_req_id(FCGX_Request *r, struct http_req *req);

int
http_err_status(enum api_err err)
{
	return err < API__MAX ? http_errs[err].status : 500;
}

const char *
http_err_code(enum api_err err)
{
	return err < API__MAX ? http_errs[err].code : "internal_error";
}

const char *
http_err_message(enum api_err err)
{
	return http_errs[err < API__MAX ? err : API_INTERNAL].message;
}

static const char *
http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Entity";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Unknown";
	}
}

/* nginx's DOCUMENT_URI is decoded and normalised; fall back to the URI. */
static void
http_read_path(FCGX_Request *r, struct http_req *req)
{
	const char *p = FCGX_GetParam("DOCUMENT_URI", r->envp);
	size_t n;

	if (p == NULL)
		p = FCGX_GetParam("REQUEST_URI", r->envp);
	if (p == NULL)
		p = "/";
	n = strcspn(p, "?");
	if (n >= sizeof(req->path))
		n = 0; /* too long to be one of ours: 404 */
	memcpy(req->path, p, n);
	req->path[n] = '\0';
	req->query = FCGX_GetParam("QUERY_STRING", r->envp);
	if (req->query == NULL)
		req->query = "";
}

/* Only the characters nginx's $request_id uses, so logs cannot be forged. */
static void
http_read_req_id(FCGX_Request *r, struct http_req *req)
{
	const char *p = FCGX_GetParam("REQUEST_ID", r->envp);
	size_t i = 0;

	if (p == NULL)
		p = FCGX_GetParam("HTTP_X_REQUEST_ID", r->envp);
	for (; p != NULL && p[i] != '\0' && i + 1 < sizeof(req->req_id); i++) {
		if (!isalnum((unsigned char)p[i]) && p[i] != '-')
			break;
		req->req_id[i] = p[i];
	}
	if (p == NULL || p[i] != '\0' || i == 0)
		i = 0;
	req->req_id[i] = '\0';
	if (i == 0)
		(void)util_copy(req->req_id, sizeof(req->req_id), "-");
}

int64_t
http_parse_msec(const char *text)
{
	int64_t ms = 0;
	size_t i = 0;

	if (text == NULL)
		return 0;
	/* Seconds since the epoch: at most 12 digits (year 33658). */
	for (; text[i] >= '0' && text[i] <= '9'; i++) {
		if (i >= 12)
			return 0;
		ms = ms * 10 + (text[i] - '0');
	}
	if (i == 0 || text[i] != '.')
		return 0;
	text += i + 1;
	for (i = 0; i < 3; i++) {
		if (text[i] < '0' || text[i] > '9')
			return 0;
		ms = ms * 10 + (text[i] - '0');
	}
	return text[3] == '\0' ? ms : 0;
}

size_t
http_body_size_max(const char *path)
{
	return strcmp(path, "/transfers/batch") == 0 ? HTTP_BATCH_BODY_SIZE_MAX
	                                             : HTTP_BODY_SIZE_MAX;
}

int
http_read(
    FCGX_Request *r, struct http_req *req, char *body_store, enum api_err *err)
{
	const char *m, *cl;
	long long len = 0;
	size_t max;
	int n;

	memset(req, 0, sizeof(*req));
	m = FCGX_GetParam("REQUEST_METHOD", r->envp);
	req->method_text = m != NULL ? m : "-";
	if (m != NULL && strcmp(m, "GET") == 0)
		req->method = HTTP_GET;
	else if (m != NULL && strcmp(m, "POST") == 0)
		req->method = HTTP_POST;
	else
		req->method = HTTP_OTHER;
	http_read_path(r, req);
	http_read_req_id(r, req);
	req->start_ms =
	    http_parse_msec(FCGX_GetParam("REQUEST_START", r->envp));
	req->content_type = FCGX_GetParam("CONTENT_TYPE", r->envp);
	req->authorization = FCGX_GetParam("HTTP_AUTHORIZATION", r->envp);
	req->idem_key = FCGX_GetParam("HTTP_IDEMPOTENCY_KEY", r->envp);
	req->body = body_store;
	body_store[0] = '\0';
	req->accept = FCGX_GetParam("HTTP_ACCEPT", r->envp);
	cl = FCGX_GetParam("CONTENT_LENGTH", r->envp);
	if (cl != NULL && cl[0] != '\0' &&
	    util_parse_ll(cl, 0, 1LL << 40, &len) != 0) {
		*err = API_INVALID_REQUEST;
		return -1;
	}
	max = http_body_size_max(req->path);
	if ((size_t)len > max) {
		*err = API_PAYLOAD_TOO_LARGE;
		return -1;
	}
	/* Read one byte past the limit to catch a lying Content-Length. */
	n = FCGX_GetStr(body_store, (int)max + 1, r->in);
	if (n < 0 || (size_t)n > max) {
		*err = API_PAYLOAD_TOO_LARGE;
		return -1;
	}
	req->body_len = n > 0 ? (size_t)n : 0;
	body_store[req->body_len] = '\0';
	req->has_body = req->body_len > 0 || len > 0;
	return 0;
}

void
http_resp_init(struct http_resp *resp, char *body_store, size_t cap)
{
	resp->status = 200;
	resp->header_count = 0;
	resp->err_code = NULL;
	resp->content_type = NULL;
	buf_init(&resp->body, body_store, cap);
}

int
http_header(struct http_resp *resp, const char *name, const char *value)
{
	int n;

	if (resp->header_count >= HTTP_HEADER_COUNT_MAX)
		return -1;
	n = snprintf(resp->headers[resp->header_count], HTTP_HEADER_SIZE_MAX,
	    "%s: %s\r\n", name, value);
	if (n < 0 || n >= HTTP_HEADER_SIZE_MAX)
		return -1;
	resp->header_count++;
	return 0;
}

void
http_error(struct http_resp *resp, enum api_err err, const char *msg)
{
	const struct http_err_def *def =
	    &http_errs[err < API__MAX ? err : API_INTERNAL];

	resp->status = def->status;
	resp->err_code = def->code;
	resp->content_type = NULL;
	buf_reset(&resp->body);
	(void)buf_printf(&resp->body,
	    "{\"error\":{\"code\":\"%s\","
	    "\"message\":",
	    def->code);
	(void)buf_json_str(&resp->body, msg != NULL ? msg : def->message);
	(void)buf_puts(&resp->body, "}}");
	if (def->status == 401)
		(void)http_header(resp, "WWW-Authenticate", "Bearer");
	if (def->status == 429)
		(void)http_header(resp, "Retry-After", "1");
}

void
http_write(FCGX_Request *r, const struct http_req *req, struct http_resp *resp)
{
	char head[HTTP_HEADER_SIZE_MAX * (HTTP_HEADER_COUNT_MAX + 2)];
	struct buf h;

	if (resp->body.overflow) {
		/* A handler bug; the error body is short and always fits. */
		resp->header_count = 0;
		http_error(resp, API_INTERNAL, NULL);
	}
	buf_init(&h, head, sizeof(head));
	/* libfcgi's own printf lacks %zu; format here, then write. */
	(void)buf_printf(&h,
	    "Status: %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Request-Id: %s\r\n"
	    "Content-Length: %zu\r\n",
	    resp->status, http_reason(resp->status),
	    resp->content_type != NULL ? resp->content_type
	                               : "application/json; charset=utf-8",
	    req->req_id, resp->body.len);
	for (int i = 0; i < resp->header_count; i++)
		(void)buf_puts(&h, resp->headers[i]);
	(void)buf_append(&h, "\r\n", 2);
	(void)FCGX_PutStr(h.data, (int)h.len, r->out);
	(void)FCGX_PutStr(resp->body.data, (int)resp->body.len, r->out);
}

bool
http_accepts_csv(const char *accept)
{
	static const char want[] = "text/csv";

	for (const char *p = accept; p != NULL && *p != '\0';) {
		const char *end;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		end = p + strcspn(p, ",");
		if (strncasecmp(p, want, sizeof(want) - 1) == 0) {
			const char *rest = p + sizeof(want) - 1;

			while (*rest == ' ' || *rest == '\t')
				rest++;
			if (rest == end || *rest == ';')
				return true;
		}
		p = end;
	}
	return false;
}

bool
http_is_json(const char *content_type)
{
	static const char want[] = "application/json";
	const char *rest;

	if (content_type == NULL)
		return false;
	while (*content_type == ' ' || *content_type == '\t')
		content_type++;
	if (strncasecmp(content_type, want, sizeof(want) - 1) != 0)
		return false;
	rest = content_type + sizeof(want) - 1;
	while (*rest == ' ' || *rest == '\t')
		rest++;
	return *rest == '\0' || *rest == ';';
}

int
http_query_get(const char *query, const char *name, char *out, size_t out_size)
{
	size_t name_len = strlen(name);
	int found = 0;

	for (const char *p = query; p != NULL && *p != '\0';) {
		const char *end = strchr(p, '&');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if (len > name_len && strncmp(p, name, name_len) == 0 &&
		    p[name_len] == '=') {
			size_t vlen = len - name_len - 1;

			if (found || vlen >= out_size)
				return -1;
			memcpy(out, p + name_len + 1, vlen);
			out[vlen] = '\0';
			found = 1;
		} else if (len == name_len && strncmp(p, name, len) == 0) {
			if (found)
				return -1;
			out[0] = '\0';
			found = 1;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return found;
}
