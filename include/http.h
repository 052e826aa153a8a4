/*
 * HTTP over FastCGI: the request as the app sees it, the response it
 * builds, and the contract's error shape (API.md Conventions).
 */
#ifndef HTTP_H
#define HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <fcgiapp.h>

#include "bounds.h"
#include "buf.h"

/* The API's errors; http_error() maps them to status, code and message. */
enum api_err {
	API_INVALID_REQUEST,     /* 400 invalid_request */
	API_INVALID_AMOUNT,      /* 400 invalid_amount */
	API_UNAUTHORIZED,        /* 401 unauthorized */
	API_INVALID_CREDENTIALS, /* 401 invalid_credentials */
	API_WRONG_PASSWORD,      /* 403 invalid_credentials */
	API_ACCOUNT_FROZEN,      /* 403 account_frozen */
	API_NOT_FOUND,           /* 404 not_found */
	API_RECIPIENT_NOT_FOUND, /* 404 recipient_not_found */
	API_METHOD_NOT_ALLOWED,  /* 405 method_not_allowed */
	API_USERNAME_TAKEN,      /* 409 username_taken */
	API_REQUEST_IN_PROGRESS, /* 409 request_in_progress */
	API_PAYLOAD_TOO_LARGE,   /* 413 payload_too_large */
	API_UNSUPPORTED_MEDIA,   /* 415 unsupported_media_type */
	API_INSUFFICIENT_FUNDS,  /* 422 insufficient_funds */
	API_LIMIT_EXCEEDED,      /* 422 limit_exceeded */
	API_IDEM_KEY_REUSED,     /* 422 idempotency_key_reused */
	API_BATCH_REJECTED,      /* 422 batch_rejected */
	API_RANGE_TOO_LARGE,     /* 422 range_too_large */
	API_RATE_LIMITED,        /* 429 rate_limited */
	API_INTERNAL,            /* 500 internal_error */
	API_UNAVAILABLE,         /* 503 unavailable */
	API_FORBIDDEN,           /* 403 forbidden */
	API_HOLD_NOT_PENDING,    /* 409 hold_not_pending */
	API_HOLD_EXPIRED,        /* 409 hold_expired */
	API_OVER_HOLD,           /* 422 invalid_amount: above the hold */
	API_REFUND_EXCEEDS,      /* 422 refund_exceeds_transfer */
	API__MAX
};

enum http_method {
	HTTP_GET,   /* "GET" */
	HTTP_POST,  /* "POST" */
	HTTP_OTHER, /* anything else */
	HTTP_METHOD__MAX
};

struct http_req {
	enum http_method method;
	const char *method_text; /* FCGX_GetParam: valid for this request */
	char path[HTTP_PATH_SIZE_MAX];
	const char *query;        /* "" when absent */
	const char *content_type; /* NULL when absent */
	const char *authorization;
	const char *idem_key; /* Idempotency-Key, NULL when absent */
	const char *accept;   /* Accept, NULL when absent */
	char req_id[HTTP_REQUEST_ID_SIZE_MAX];
	char *body; /* NUL-terminated, body_len bytes */
	size_t body_len;
	bool has_body;
	/* When nginx accepted it (REQUEST_START), ms since the epoch; 0. */
	int64_t start_ms;
};

struct http_resp {
	int status;
	char headers[HTTP_HEADER_COUNT_MAX][HTTP_HEADER_SIZE_MAX];
	int header_count;
	struct buf body;
	const char *err_code;     /* set by http_error, for the log line */
	const char *content_type; /* NULL: application/json; charset=utf-8 */
};

/* The status, code and default message of an API error. */
int http_err_status(enum api_err err);
const char *http_err_code(enum api_err err);
const char *http_err_message(enum api_err err);

/*
 * The largest body accepted on path: HTTP_BATCH_BODY_SIZE_MAX on
 * /transfers/batch, HTTP_BODY_SIZE_MAX everywhere else (API.md).
 */
size_t http_body_size_max(const char *path);

/*
 * Reads the parameters and the body of r into req. body_store must hold
 * HTTP_BATCH_BODY_SIZE_MAX + 1 bytes. Returns 0 when the request is
 * readable; or -1 with *err the error to answer (400 for a bad
 * Content-Length, 413 for a body over the path's limit,
 * http_body_size_max).
 */
int http_read(
    FCGX_Request *r, struct http_req *req, char *body_store, enum api_err *err);

/*
 * nginx's $msec, "1733300000.123" (seconds since the epoch, a point and
 * exactly three digits), in milliseconds; 0 for NULL or anything else.
 */
int64_t http_parse_msec(const char *text);

/* Empties resp and sets status 200, using body_store (cap bytes). */
void http_resp_init(struct http_resp *resp, char *body_store, size_t cap);
/* Adds "Name: value". Returns 0, or -1 when there is no room. */
int http_header(struct http_resp *resp, const char *name, const char *value);
/*
 * Replaces the response with the contract's error body for err, with a
 * message (NULL: the default one) and the headers 401/405 require.
 */
void http_error(struct http_resp *resp, enum api_err err, const char *msg);
/* Writes status line, headers and body to r's output stream. */
void http_write(
    FCGX_Request *r, const struct http_req *req, struct http_resp *resp);

/*
 * True when the Accept header asks for text/csv (a media range of that
 * type, any parameters, anywhere in the list).
 */
bool http_accepts_csv(const char *accept);

/* True when content_type is application/json, parameters allowed. */
bool http_is_json(const char *content_type);

/*
 * Finds name in a query string "a=1&b=2" and copies its raw value into out.
 * Returns 1 when found, 0 when absent, -1 when too long or duplicated.
 */
int http_query_get(
    const char *query, const char *name, char *out, size_t out_size);

#endif /* HTTP_H */
