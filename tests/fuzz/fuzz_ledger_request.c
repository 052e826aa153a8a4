/*
 * Goal: what POST /balance and POST /transfer take from the client before
 * any money moves (app/h_money.c) is exactly what API.md allows: the
 * Idempotency-Key header (1 to 255 printable ASCII characters, else 400
 * invalid_request) and the body's amount (400 invalid_request when it is
 * missing or an object or array, 400 invalid_amount for null, a boolean
 * or text that is no amount).
 *
 * Input: byte 0 says whether there is a key; the key runs to the first
 * '\n' (a C string, as FastCGI's HTTP_IDEMPOTENCY_KEY is); the rest is
 * the body. Properties:
 *  - idem_key_is_valid() agrees with a model of the rule, on the
 *    input's key and on the limit pair (255 characters yes, 256 no);
 *  - h_money_read() answers as a model written from API.md says:
 *    0 with the key kept, the body's object and the amount that
 *    money_parse() reads from the literal text; or -1 with a 400 in the
 *    contract's error shape and the right code, and no object to free
 *    (ASan's leak check would see one);
 *  - an accepted amount is in (0, 1000000000.00] and writes back, with
 *    money_format(), to the literal's value.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "bounds.h"
#include "fuzz.h"
#include "handler.h"
#include "http.h"
#include "jsonio.h"
#include "h_money.h"
#include "idem.h"
#include "money.h"

static bool fuzz_key_model(const char *key);
static enum api_err fuzz_amount_model(struct json_object *obj, int64_t *minor);
static void fuzz_check_error(const struct http_resp *resp, enum api_err e);

static bool
fuzz_key_model(const char *key)
{
	size_t n = strlen(key);

	if (n < 1 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)key[i] < 0x20 ||
		    (unsigned char)key[i] > 0x7e)
			return false;
	}
	return true;
}

/* API__MAX: an amount, in *minor; else the error API.md gives. */
static enum api_err
fuzz_amount_model(struct json_object *obj, int64_t *minor)
{
	struct json_object *v;
	const char *text;

	if (!json_object_object_get_ex(obj, "amount", &v))
		return API_INVALID_REQUEST;
	switch (json_object_get_type(v)) {
	case json_type_object:
	case json_type_array:
		return API_INVALID_REQUEST;
	case json_type_null:
	case json_type_boolean:
		return API_INVALID_AMOUNT;
	case json_type_string:
		text = json_object_get_string(v);
		if (strlen(text) != (size_t)json_object_get_string_len(v))
			return API_INVALID_AMOUNT;
		break;
	default:
		text =
		    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		break;
	}
	return money_parse(text, minor) == MONEY_OK ? API__MAX
	                                            : API_INVALID_AMOUNT;
}

static void
fuzz_check_error(const struct http_resp *resp, enum api_err e)
{
	struct json_object *body, *err, *code;

	FUZZ_CHECK(resp->status == 400, "status %d", resp->status);
	body = json_tokener_parse(resp->body.data);
	FUZZ_CHECK(
	    body != NULL && json_object_object_get_ex(body, "error", &err) &&
	        json_object_object_get_ex(err, "code", &code) &&
	        strcmp(json_object_get_string(code), http_err_code(e)) == 0,
	    "want %s: %s", http_err_code(e), resp->body.data);
	json_object_put(body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char store[HTTP_RESPONSE_SIZE_MAX];
	static char body[HTTP_BODY_SIZE_MAX + 1];
	char key[512], text[MONEY_TEXT_SIZE_MAX];
	struct http_req req;
	struct http_resp resp;
	struct ctx ctx;
	struct ledger_req op;
	struct json_object *obj = NULL, *model_obj;
	size_t used = 1, n = 0;
	enum api_err want;
	int64_t want_minor = 0;
	int rc;

	if (size < 1)
		return 0;
	while (used < size && data[used] != '\n' && n + 1 < sizeof(key)) {
		if (data[used] == 0)
			break;
		key[n++] = (char)data[used++];
	}
	key[n] = '\0';
	while (used < size && data[used] != '\n')
		used++;
	used += used < size;
	FUZZ_CHECK(idem_key_is_valid(key) == fuzz_key_model(key),
	    "key \"%s\": %d", key, idem_key_is_valid(key));
	if (data[0] & 2) {
		/* The limit pair, in the input's character. */
		char edge[257];

		memset(edge, n > 0 ? key[0] : 'k', sizeof(edge) - 1);
		edge[256] = '\0';
		FUZZ_CHECK(!idem_key_is_valid(edge), "256 accepted");
		edge[255] = '\0';
		FUZZ_CHECK(idem_key_is_valid(edge) == fuzz_key_model(edge),
		    "255 of 0x%02x", (uint8_t)edge[0]);
	}

	n = size - used < HTTP_BODY_SIZE_MAX ? size - used : HTTP_BODY_SIZE_MAX;
	memcpy(body, data + used, n);
	body[n] = '\0';
	memset(&req, 0, sizeof(req));
	memset(&ctx, 0, sizeof(ctx));
	memset(&op, 0, sizeof(op));
	req.method = HTTP_POST;
	req.body = body;
	req.body_len = n;
	req.has_body = n > 0;
	req.idem_key = (data[0] & 1) != 0 ? key : NULL;
	http_resp_init(&resp, store, sizeof(store));
	ctx.req = &req;
	ctx.resp = &resp;
	ctx.user_id = 1;
	(void)snprintf(ctx.username, sizeof(ctx.username), "fuzzer");
	ctx.route = "fuzz";

	/* The model: key, then body, then amount, as API.md orders them. */
	model_obj = jsonio_parse_object(body, n);
	if (req.idem_key != NULL && !fuzz_key_model(key))
		want = API_INVALID_REQUEST;
	else if (model_obj == NULL)
		want = API_INVALID_REQUEST;
	else
		want = fuzz_amount_model(model_obj, &want_minor);
	json_object_put(model_obj);

	rc = h_money_read(&ctx, &op, &obj);
	if (want != API__MAX) {
		FUZZ_CHECK(rc == -1 && obj == NULL, "accepted; want %s",
		    http_err_code(want));
		fuzz_check_error(&resp, want);
		return 0;
	}
	FUZZ_CHECK(rc == 0 && obj != NULL, "refused (%s): %s",
	    resp.err_code != NULL ? resp.err_code : "-", body);
	FUZZ_CHECK(op.idem_key == req.idem_key, "key not kept");
	FUZZ_CHECK(op.amount_minor == want_minor && op.amount_minor > 0 &&
	               op.amount_minor <= MONEY_AMOUNT_MAX_MINOR,
	    "amount %lld, want "
	    "%lld",
	    (long long)op.amount_minor, (long long)want_minor);
	money_format(op.amount_minor, text);
	FUZZ_CHECK(money_parse(text, &want_minor) == MONEY_OK &&
	               want_minor == op.amount_minor,
	    "\"%s\" does not read back", text);
	json_object_put(obj);
	return 0;
}
