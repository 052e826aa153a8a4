/*
 * Goal: what a client may send at the edges of HTTP gets an answer in the
 * contract's shape and harms nothing (issue 16):
 *  - values that the app logs cut short right after an escape (a long
 *    non-ASCII username at POST /login, a long escaped path) are answered
 *    and the worker that logged them lives on;
 *  - the errors nginx answers itself (a request it cannot parse, a URI or
 *    a header too long, a method it refuses, a bad chunked body, /metrics
 *    from another address) are JSON with the contract's content type,
 *    error shape and X-Request-Id, with the right status; these go over a
 *    raw socket, since a client library would refuse to send most of them;
 *  - every response says X-Content-Type-Options: nosniff.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "client.h"

Suite *edges_suite(void);

/* A guard against a hung server, not a timing assertion. */
#define RAW_TIMEOUT_S 30
/* Requests of each kind: more than the stack's 4 workers. */
#define EDGE_REPEAT 12
/* The longest request target recorded whole (a longer one: ""). */
#define RAW_TARGET_MAX 16384

static int
stack_port(void)
{
	const char *url = getenv("STACK_URL");
	const char *colon = url != NULL ? strrchr(url, ':') : NULL;

	ck_assert_ptr_nonnull(colon);
	return atoi(colon + 1);
}

static void
raw_parse(struct resp *r, size_t got)
{
	char *end = strstr(r->body, "\r\n\r\n");
	size_t hlen;

	ck_assert_msg(end != NULL, "no end of headers: %s", r->body);
	ck_assert_msg(sscanf(r->body, "HTTP/1.1 %ld", &r->status) == 1,
	    "no status line: %s", r->body);
	hlen = (size_t)(end - r->body) + 2;
	ck_assert_uint_lt(hlen, sizeof(r->headers));
	memcpy(r->headers, r->body, hlen);
	r->headers[hlen] = '\0';
	r->hlen = hlen;
	r->len = got - hlen - 2;
	memmove(r->body, end + 4, r->len);
	r->body[r->len] = '\0';
	if (r->len > 0)
		r->json = json_tokener_parse(r->body);
}

/*
 * Records the answer for the document's check (client_record) under the
 * request line's method and target as sent; a line without them is
 * recorded with an empty target.
 */
static void
raw_record(const char *data, size_t len, const struct resp *r)
{
	char method[16] = "", target[RAW_TARGET_MAX] = "";
	size_t n = strcspn(data, " \r\n");

	if (n < sizeof(method) && n < len) {
		memcpy(method, data, n);
		method[n] = '\0';
		if (data[n] == ' ') {
			size_t t = strcspn(data + n + 1, " \r\n");

			if (t < sizeof(target) && data[n + 1] == '/') {
				memcpy(target, data + n + 1, t);
				target[t] = '\0';
			}
		}
	}
	client_record(method, target, r);
}

/*
 * Sends len bytes of data to nginx over a fresh TCP connection, from the
 * address src (NULL: the kernel's choice), reads until nginx closes it and
 * fills r as api() does.
 */
static void
raw(const char *src, const char *data, size_t len, struct resp *r)
{
	struct sockaddr_in to = {.sin_family = AF_INET}, from = to;
	struct timeval tv = {.tv_sec = RAW_TIMEOUT_S};
	size_t got = 0;
	ssize_t n;
	int fd;

	resp_free(r);
	memset(r, 0, sizeof(*r));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	if (src != NULL) {
		ck_assert_int_eq(inet_pton(AF_INET, src, &from.sin_addr), 1);
		ck_assert_int_eq(
		    bind(fd, (struct sockaddr *)&from, sizeof(from)), 0);
	}
	to.sin_port = htons((uint16_t)stack_port());
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
	ck_assert_int_eq(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
	while ((n = recv(fd, r->body + got, sizeof(r->body) - 1 - got, 0)) > 0)
		got += (size_t)n;
	ck_assert_msg(n == 0, "no close from nginx (timeout or error)");
	(void)close(fd);
	r->body[got] = '\0';
	raw_parse(r, got);
	raw_record(data, len, r);
}

static void
raw_str(const char *data, struct resp *r)
{
	raw(NULL, data, strlen(data), r);
}

/* The contract's conventions: content type, request id, nosniff. */
static void
assert_conventions(const struct resp *r)
{
	char v[128];

	ck_assert_msg(resp_header(r, "Content-Type", v, sizeof(v)) != NULL,
	    "no Content-Type: %s", r->headers);
	ck_assert_str_eq(v, "application/json; charset=utf-8");
	ck_assert_ptr_nonnull(resp_header(r, "X-Request-Id", v, sizeof(v)));
	ck_assert_uint_eq(strlen(v), 32);
	ck_assert_uint_eq(strspn(v, "0123456789abcdef"), 32);
	ck_assert_ptr_nonnull(
	    resp_header(r, "X-Content-Type-Options", v, sizeof(v)));
	ck_assert_str_eq(v, "nosniff");
}

/* The contract's error: status, and exactly {"error":{code, message}}. */
static void
assert_error(const struct resp *r, long status, const char *code)
{
	struct json_object *e, *m;

	ck_assert_msg(r->status == status, "status %ld, want %ld: %s%s",
	    r->status, status, r->headers, r->body);
	assert_conventions(r);
	ck_assert_msg(
	    r->json != NULL && json_object_is_type(r->json, json_type_object),
	    "body is no JSON object: %s", r->body);
	ck_assert_int_eq(json_object_object_length(r->json), 1);
	ck_assert(json_object_object_get_ex(r->json, "error", &e));
	ck_assert_int_eq(json_object_object_length(e), 2);
	ck_assert_str_eq(resp_err(r), code);
	ck_assert(json_object_object_get_ex(e, "message", &m));
	ck_assert(json_object_is_type(m, json_type_string));
	ck_assert_uint_gt(strlen(json_object_get_string(m)), 0);
}

/* The pids of every app worker (children of both masters), sorted. */
static void
worker_pids(char *out, size_t size)
{
	ck_assert_int_eq(stack_output(out, size,
	                     "for m in $(cat \"$STACK_DIR\"/payd*.pid); do "
	                     "pgrep -P \"$m\"; done | sort -n | tr '\\n' ' '"),
	    0);
	ck_assert_msg(out[0] != '\0', "no workers found");
}

/* The stack still answers: a request after the edge ones is right. */
static void
assert_alive(const char *pids_before)
{
	char pids[256];

	ck_assert_int_eq(api("GET", "/healthz", NULL, NULL, NULL, R), 0);
	ck_assert_int_eq(R->status, 200);
	ck_assert_str_eq(resp_str(R, "status"), "ok");
	worker_pids(pids, sizeof(pids));
	ck_assert_msg(strcmp(pids, pids_before) == 0,
	    "a worker died: pids %s, before %s", pids, pids_before);
}

/*
 * text into out: prefix, then bytes of U+00E9 (é) up to about len bytes,
 * then suffix. Each of those bytes is logged as a 4-byte escape.
 */
static void
non_ascii(char *out, size_t len, const char *prefix, const char *pad,
    const char *suffix)
{
	size_t o = (size_t)snprintf(out, len, "%s", prefix);
	size_t plen = strlen(pad);

	while (o + plen + strlen(suffix) < len - 1) {
		memcpy(out + o, pad, plen);
		o += plen;
	}
	(void)snprintf(out + o, len - o, "%s", suffix);
}

/*
 * A long username of non-ASCII bytes, cut in login_reject's buffer right
 * after an escape: after one ASCII byte, and quoted (a space at its end),
 * the two shapes whose cut fell past that buffer.
 */
START_TEST(test_login_long_non_ascii_username__401_worker_lives)
{
	static const char *const shapes[][2] = {{"x", ""}, {"", " "}};
	char pids[256], body[512], name[200];

	worker_pids(pids, sizeof(pids));
	for (size_t k = 0; k < 2; k++) {
		non_ascii(
		    name, sizeof(name), shapes[k][0], "\xc3\xa9", shapes[k][1]);
		(void)snprintf(body, sizeof(body),
		    "{\"username\":\"%s\",\"password\":\"password123\"}", name);
		for (int i = 0; i < EDGE_REPEAT; i++) {
			ck_assert_int_eq(
			    api("POST", "/login", NULL, body, NULL, R), 0);
			assert_error(R, 401, "invalid_credentials");
		}
	}
	assert_alive(pids);
}
END_TEST

/*
 * A path of escaped non-ASCII bytes (nginx decodes them), cut likewise in
 * worker.c's request line: after "/", and quoted after "/a b".
 */
START_TEST(test_long_escaped_path__404_worker_lives)
{
	static const char *const prefixes[] = {"/", "/a%20b"};
	char pids[256], path[400];

	worker_pids(pids, sizeof(pids));
	for (size_t k = 0; k < 2; k++) {
		non_ascii(path, sizeof(path), prefixes[k], "%C3", "");
		for (int i = 0; i < EDGE_REPEAT; i++) {
			ck_assert_int_eq(
			    api("GET", path, NULL, NULL, NULL, R), 0);
			assert_error(R, 404, "not_found");
		}
	}
	assert_alive(pids);
}
END_TEST

START_TEST(test_malformed_request_line__400_json)
{
	raw_str("GARBAGE\r\n\r\n", R);
	assert_error(R, 400, "invalid_request");
	raw_str("GET\r\n\r\n", R);
	assert_error(R, 400, "invalid_request");
}
END_TEST

START_TEST(test_http2_preface_on_http1__400_json)
{
	raw_str("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", R);
	assert_error(R, 400, "invalid_request");
}
END_TEST

START_TEST(test_lowercase_method__400_json)
{
	raw_str(
	    "get /balance HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", R);
	assert_error(R, 400, "invalid_request");
}
END_TEST

START_TEST(test_nul_and_bad_escape_in_uri__400_json)
{
	raw_str("GET /balance%00 HTTP/1.1\r\nHost: x\r\n"
	        "Connection: close\r\n\r\n",
	    R);
	assert_error(R, 400, "invalid_request");
	raw_str("POST /%ZZ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	        "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
	    R);
	assert_error(R, 400, "invalid_request");
}
END_TEST

START_TEST(test_metrics_from_denied_address__403_json)
{
	static const char req[] =
	    "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

	/* 127.0.0.2 reaches the loopback too, but is not allowed. */
	raw("127.0.0.2", req, sizeof(req) - 1, R);
	assert_error(R, 403, "forbidden");
	raw("127.0.0.1", req, sizeof(req) - 1, R);
	ck_assert_int_eq(R->status, 200);
}
END_TEST

START_TEST(test_uri_too_long__414_json)
{
	/* nginx's request line buffer is 8 KiB. */
	static char req[16 * 1024];
	size_t o = (size_t)snprintf(req, sizeof(req), "GET /");

	memset(req + o, 'a', 9000);
	o += 9000;
	o += (size_t)snprintf(req + o, sizeof(req) - o,
	    " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	raw(NULL, req, o, R);
	assert_error(R, 414, "uri_too_long");
}
END_TEST

START_TEST(test_header_too_large__431_json)
{
	static char req[16 * 1024];
	size_t o = (size_t)snprintf(req, sizeof(req),
	    "GET /balance HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	    "X-Big: ");

	memset(req + o, 'a', 9000);
	o += 9000;
	o += (size_t)snprintf(req + o, sizeof(req) - o, "\r\n\r\n");
	raw(NULL, req, o, R);
	assert_error(R, 431, "header_too_large");
}
END_TEST

START_TEST(test_trace_and_connect__501_json)
{
	raw_str("TRACE /balance HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	        "\r\n",
	    R);
	assert_error(R, 501, "not_implemented");
	raw_str("TRACE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", R);
	assert_error(R, 501, "not_implemented");
}
END_TEST

START_TEST(test_unknown_method__405_with_allow_json)
{
	char allow[64];

	/* The app knows the path: its methods. */
	raw_str("PROPFIND /balance HTTP/1.1\r\nHost: x\r\n"
	        "Connection: close\r\n\r\n",
	    R);
	assert_error(R, 405, "method_not_allowed");
	ck_assert_ptr_nonnull(resp_header(R, "Allow", allow, sizeof(allow)));
	ck_assert_ptr_nonnull(strstr(allow, "GET"));
	/* nginx's static page: GET and HEAD. */
	raw_str(
	    "PROPFIND / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", R);
	assert_error(R, 405, "method_not_allowed");
	ck_assert_ptr_nonnull(resp_header(R, "Allow", allow, sizeof(allow)));
	ck_assert_str_eq(allow, "GET, HEAD");
}
END_TEST

START_TEST(test_invalid_chunked_body__400_json)
{
	raw_str("POST /transfer HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	        "Content-Type: application/json\r\n"
	        "Transfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n",
	    R);
	assert_error(R, 400, "invalid_request");
}
END_TEST

START_TEST(test_unsupported_transfer_coding__501_json)
{
	raw_str("POST /transfer HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	        "Content-Type: application/json\r\n"
	        "Transfer-Encoding: gzip\r\n\r\n",
	    R);
	assert_error(R, 501, "not_implemented");
}
END_TEST

START_TEST(test_api_responses__nosniff)
{
	ck_assert_int_eq(api("GET", "/healthz", NULL, NULL, NULL, R), 0);
	ck_assert_int_eq(R->status, 200);
	assert_conventions(R);
	ck_assert_int_eq(api("GET", "/balance", NULL, NULL, NULL, R), 0);
	assert_error(R, 401, "unauthorized");
	ck_assert_int_eq(api("GET", "/no/such/path", NULL, NULL, NULL, R), 0);
	assert_error(R, 404, "not_found");
	/* nginx's own locations are internal: 404 from outside. */
	ck_assert_int_eq(
	    api("GET", "/_payd_error/400", NULL, NULL, NULL, R), 0);
	assert_error(R, 404, "not_found");
}
END_TEST

Suite *
edges_suite(void)
{
	Suite *s = suite_create("edges");
	TCase *log = tcase_create("logged_values");
	TCase *nginx = tcase_create("nginx_errors");

	tcase_add_checked_fixture(log, resp_setup, resp_teardown);
	tcase_add_test(
	    log, test_login_long_non_ascii_username__401_worker_lives);
	tcase_add_test(log, test_long_escaped_path__404_worker_lives);
	suite_add_tcase(s, log);

	tcase_add_checked_fixture(nginx, resp_setup, resp_teardown);
	tcase_add_test(nginx, test_malformed_request_line__400_json);
	tcase_add_test(nginx, test_http2_preface_on_http1__400_json);
	tcase_add_test(nginx, test_lowercase_method__400_json);
	tcase_add_test(nginx, test_nul_and_bad_escape_in_uri__400_json);
	tcase_add_test(nginx, test_metrics_from_denied_address__403_json);
	tcase_add_test(nginx, test_uri_too_long__414_json);
	tcase_add_test(nginx, test_header_too_large__431_json);
	tcase_add_test(nginx, test_trace_and_connect__501_json);
	tcase_add_test(nginx, test_unknown_method__405_with_allow_json);
	tcase_add_test(nginx, test_invalid_chunked_body__400_json);
	tcase_add_test(nginx, test_unsupported_transfer_coding__501_json);
	tcase_add_test(nginx, test_api_responses__nosniff);
	suite_add_tcase(s, nginx);
	return s;
}
