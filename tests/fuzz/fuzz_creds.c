/*
 * Goal: the public endpoints POST /register and POST /login read their
 * body (auth_creds_read) and judge its two fields (username_is_valid,
 * password_is_valid) exactly as API.md says: username 3 to 32 characters
 * of A-Z a-z 0-9 _ . -, password 8 to 128 bytes of UTF-8.
 * Byte 0 picks the mode.
 *  odd: the rest, raw bytes, as a username and as a password: both
 *     predicates agree with models of the rules (RFC 3629 for UTF-8: no
 *     overlong form, no surrogate, nothing above U+10FFFF, no NUL), and
 *     so do the limit pairs built from the input's first byte.
 *  even: the rest is a body. auth_creds_read() succeeds exactly when it
 *     is a JSON object with string fields username and password (no NUL
 *     inside), handing out those strings whole; otherwise it answers 400
 *     invalid_request in the contract's shape and keeps no object (ASan's
 *     leak check); auth_creds_free() leaves nothing behind.
 */
#include <stdbool.h>
#include <string.h>

#include <json-c/json.h>

#include "auth.h"
#include "bounds.h"
#include "fuzz.h"
#include "handler.h"
#include "http.h"
#include "jsonio.h"
#include "password.h"
#include "username.h"

static bool fuzz_username_model(const uint8_t *p, size_t n);
static bool fuzz_password_model(const uint8_t *p, size_t n);
static void fuzz_raw(const uint8_t *data, size_t size);
static void fuzz_body(const uint8_t *data, size_t size);

static bool
fuzz_username_model(const uint8_t *p, size_t n)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                         "abcdefghijklmnopqrstuvwxyz0123456789_.-";

	if (n < 3 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == 0 || strchr(ok, p[i]) == NULL)
			return false;
	}
	return true;
}

/* 8 to 128 bytes, no NUL, UTF-8 as RFC 3629 §4 writes it. */
static bool
fuzz_password_model(const uint8_t *p, size_t n)
{
	return n >= 8 && n <= 128 && memchr(p, 0, n) == NULL &&
	       fuzz_utf8_is_valid(p, n);
}

static void
fuzz_raw(const uint8_t *data, size_t size)
{
	char edge[PASSWORD_LEN_MAX + 2];
	uint8_t c = size > 0 ? data[0] : 'a';

	FUZZ_CHECK(username_is_valid((const char *)data, size) ==
	               fuzz_username_model(data, size),
	    "username of %zu bytes", size);
	FUZZ_CHECK(password_is_valid((const char *)data, size) ==
	               fuzz_password_model(data, size),
	    "password of %zu bytes", size);

	/* The limit pairs, made of the input's first byte. */
	memset(edge, (char)c, sizeof(edge));
	for (size_t n = 0; n <= PASSWORD_LEN_MAX + 1; n++) {
		FUZZ_CHECK(password_is_valid(edge, n) ==
		               fuzz_password_model((const uint8_t *)edge, n),
		    "password: %zu bytes of 0x%02x", n, c);
		if (n <= USERNAME_LEN_MAX + 1)
			FUZZ_CHECK(
			    username_is_valid(edge, n) ==
			        fuzz_username_model((const uint8_t *)edge, n),
			    "username: %zu bytes of 0x%02x", n, c);
	}
}

static void
fuzz_body(const uint8_t *data, size_t size)
{
	static char store[HTTP_RESPONSE_SIZE_MAX];
	static char body[HTTP_BODY_SIZE_MAX + 1];
	struct http_req req;
	struct http_resp resp;
	struct ctx ctx;
	struct auth_creds creds;
	struct json_object *model, *u = NULL, *p = NULL, *e, *code;
	bool want;
	size_t n = size < HTTP_BODY_SIZE_MAX ? size : HTTP_BODY_SIZE_MAX;

	memcpy(body, data, n);
	body[n] = '\0';
	memset(&req, 0, sizeof(req));
	memset(&ctx, 0, sizeof(ctx));
	req.method = HTTP_POST;
	req.body = body;
	req.body_len = n;
	req.has_body = n > 0;
	http_resp_init(&resp, store, sizeof(store));
	ctx.req = &req;
	ctx.resp = &resp;

	model = jsonio_parse_object(body, n);
	want = model != NULL &&
	       json_object_object_get_ex(model, "username", &u) &&
	       json_object_object_get_ex(model, "password", &p) &&
	       json_object_is_type(u, json_type_string) &&
	       json_object_is_type(p, json_type_string) &&
	       strlen(json_object_get_string(u)) ==
	           (size_t)json_object_get_string_len(u) &&
	       strlen(json_object_get_string(p)) ==
	           (size_t)json_object_get_string_len(p);

	if (auth_creds_read(&ctx, &creds) == 0) {
		FUZZ_CHECK(want, "accepted: %s", body);
		FUZZ_CHECK(creds.obj != NULL && creds.username != NULL &&
		               creds.password != NULL,
		    "half-filled creds");
		FUZZ_CHECK(
		    creds.username_len == strlen(json_object_get_string(u)) &&
		        memcmp(creds.username, json_object_get_string(u),
		            creds.username_len) == 0,
		    "username changed");
		FUZZ_CHECK(
		    creds.password_len == strlen(json_object_get_string(p)) &&
		        memcmp(creds.password, json_object_get_string(p),
		            creds.password_len) == 0,
		    "password changed");
		auth_creds_free(&creds);
		FUZZ_CHECK(creds.obj == NULL && creds.password == NULL,
		    "creds kept after free");
	} else {
		FUZZ_CHECK(!want, "refused: %s", body);
		FUZZ_CHECK(creds.obj == NULL, "object kept on refusal");
		FUZZ_CHECK(resp.status == 400, "status %d", resp.status);
		json_object_put(model);
		model = json_tokener_parse(resp.body.data);
		FUZZ_CHECK(model != NULL &&
		               json_object_object_get_ex(model, "error", &e) &&
		               json_object_object_get_ex(e, "code", &code) &&
		               strcmp(json_object_get_string(code),
		                   "invalid_request") == 0,
		    "error: %s", resp.body.data);
	}
	json_object_put(model);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_raw(data + 1, size - 1);
	else
		fuzz_body(data + 1, size - 1);
	return 0;
}
