/*
 * Goal: the request decoder (app/jsonio.c) accepts exactly the bodies
 * API.md allows and its typed getters never hand a handler anything but
 * what was sent. The input is a request body. Properties:
 *  - jsonio_parse_object() returns NULL or a JSON object, never another
 *    type, and it does not leak (ASan's leak check);
 *  - an accepted body is valid UTF-8 (RFC 3629), has no raw control byte
 *    inside a string (RFC 8259 §7), its first and last non-blank bytes
 *    are '{' and '}', and its nesting is within JSONIO_DEPTH_MAX. (json-c
 *    also takes NaN, Infinity, "-007", "00.5" and "1."; the getters'
 *    properties below show that none of them reaches a handler as a
 *    valid amount or id.)
 *  - serialising the object and parsing that again gives an equal object;
 *  - for every field of the object and for the fields the handlers read:
 *    the getters' outcome agrees with the field's JSON type, a string is
 *    returned whole (NUL inside: refused) and is valid UTF-8, an integer
 *    is in [min, max] and is the value of an integer of the body, and a
 *    JSON number that money_parse() accepts as an amount is a number
 *    token of the body as written, never a re-printed number.
 */
#include <stdbool.h>
#include <string.h>

#include <json-c/json.h>

#include "bounds.h"
#include "fuzz.h"
#include "jsonio.h"
#include "money.h"

/* The fields the handlers read (API.md Endpoints). */
static const char *const fuzz_fields[] = {
    "username",
    "password",
    "to",
    "to_id",
    "amount",
    "limit",
    "before",
};

/* The ranges the handlers ask of jsonio_get_i64, and the widest ones. */
static const int64_t fuzz_ranges[][2] = {
    {1, INT64_MAX},
    {TXN_PAGE_LIMIT_MIN, TXN_PAGE_LIMIT_MAX},
    {0, 0},
    {INT64_MIN, INT64_MAX},
    {INT64_MIN, -1},
};

static bool fuzz_strings_are_clean(const uint8_t *p, size_t n);
static int fuzz_depth(struct json_object *v);
static bool fuzz_num_char(uint8_t c);
static bool fuzz_has_token(const uint8_t *body, size_t n, const char *tok);
static bool fuzz_has_int(const uint8_t *body, size_t n, int64_t v);
static void fuzz_field(const uint8_t *body, size_t size,
    struct json_object *obj, const char *field);
static void fuzz_check_shape(
    const uint8_t *data, size_t size, struct json_object *obj);

/* RFC 8259 §7: control characters inside a string must be escaped. */
static bool
fuzz_strings_are_clean(const uint8_t *p, size_t n)
{
	bool in_str = false;

	for (size_t i = 0; i < n; i++) {
		if (!in_str) {
			in_str = p[i] == '"';
			continue;
		}
		if (p[i] < 0x20)
			return false;
		if (p[i] == '\\' && i + 1 < n && p[i + 1] < 0x20)
			return false;
		if (p[i] == '\\')
			i++;
		else if (p[i] == '"')
			in_str = false;
	}
	return true;
}

/* Nesting depth: 1 for an object of scalars. Bounded by the parser. */
static int
fuzz_depth(struct json_object *v)
{
	int max = 0;

	if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, key, child)
		{
			int d = fuzz_depth(child);

			(void)key;
			if (d > max)
				max = d;
		}
		return max + 1;
	}
	if (json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);

		for (size_t i = 0; i < n; i++) {
			int d = fuzz_depth(json_object_array_get_idx(v, i));

			if (d > max)
				max = d;
		}
		return max + 1;
	}
	return 0;
}

static bool
fuzz_num_char(uint8_t c)
{
	return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' ||
	       c == '+' || c == '-';
}

/* tok occurs in the body as a whole number token, nothing glued to it. */
static bool
fuzz_has_token(const uint8_t *body, size_t n, const char *tok)
{
	size_t m = strlen(tok);

	for (size_t i = 0; m > 0 && i + m <= n; i++) {
		if (memcmp(body + i, tok, m) == 0 &&
		    (i == 0 || !fuzz_num_char(body[i - 1])) &&
		    (i + m == n || !fuzz_num_char(body[i + m])))
			return true;
	}
	return false;
}

/*
 * Some integer token of the body has the value v. json-c takes "-007"
 * for -7 (RFC 8259 has no leading zeros), so tokens are compared by value.
 */
static bool
fuzz_has_int(const uint8_t *body, size_t n, int64_t v)
{
	for (size_t i = 0; i < n; i++) {
		size_t j = i + (body[i] == '-');
		__int128 x = 0;

		if ((i > 0 && fuzz_num_char(body[i - 1])) || j >= n ||
		    body[j] < '0' || body[j] > '9')
			continue;
		for (; j < n && body[j] >= '0' && body[j] <= '9'; j++) {
			if (x < ((__int128)1 << 80))
				x = x * 10 + (body[j] - '0');
		}
		if (j < n && fuzz_num_char(body[j]))
			continue;
		if ((body[i] == '-' ? -x : x) == v)
			return true;
	}
	return false;
}

static void
fuzz_field(const uint8_t *body, size_t size, struct json_object *obj,
    const char *field)
{
	struct json_object *v = NULL;
	bool present = json_object_object_get_ex(obj, field, &v);
	enum json_type type = json_object_get_type(v);
	const char *s = NULL;
	size_t len = 0;
	char amount[MONEY_LITERAL_LEN_MAX + 1];
	enum jsonio_rc rc;

	/* A string field. */
	rc = jsonio_get_str(obj, field, &s, &len);
	FUZZ_CHECK(
	    present || rc == JSONIO_MISSING, "get_str %s: %d", field, rc);
	FUZZ_CHECK(!present || type != json_type_null || rc == JSONIO_NULL,
	    "get_str %s: %d for null", field, rc);
	if (rc == JSONIO_OK) {
		FUZZ_CHECK(type == json_type_string, "get_str %s: type %d",
		    field, type);
		FUZZ_CHECK(
		    s != NULL && strlen(s) == len, "get_str %s: len", field);
		FUZZ_CHECK(fuzz_utf8_is_valid((const uint8_t *)s, len),
		    "get_str %s: invalid UTF-8 handed out", field);
		FUZZ_CHECK(len == (size_t)json_object_get_string_len(v) &&
		               memcmp(s, json_object_get_string(v), len) == 0,
		    "get_str %s: not the value", field);
	} else if (present && type == json_type_string) {
		FUZZ_CHECK(rc == JSONIO_TYPE &&
		               strlen(json_object_get_string(v)) !=
		                   (size_t)json_object_get_string_len(v),
		    "get_str %s: refused a plain string (%d)", field, rc);
	}

	/* An integer field, in every range a handler asks for. */
	for (size_t r = 0; r < sizeof(fuzz_ranges) / sizeof(fuzz_ranges[0]);
	     r++) {
		int64_t n = 0;

		rc = jsonio_get_i64(
		    obj, field, fuzz_ranges[r][0], fuzz_ranges[r][1], &n);
		FUZZ_CHECK(present || rc == JSONIO_MISSING, "get_i64 %s: %d",
		    field, rc);
		if (rc != JSONIO_OK)
			continue;
		FUZZ_CHECK(
		    type == json_type_int, "get_i64 %s: type %d", field, type);
		FUZZ_CHECK(n >= fuzz_ranges[r][0] && n <= fuzz_ranges[r][1],
		    "get_i64 %s: %lld out of range", field, (long long)n);
		FUZZ_CHECK(fuzz_has_int(body, size, n),
		    "get_i64 %s: %lld is not in the body", field, (long long)n);
	}

	/* An amount: its literal text, as money_parse() will read it. */
	rc = jsonio_get_amount_text(obj, field, amount, sizeof(amount));
	FUZZ_CHECK(present || rc == JSONIO_MISSING, "amount %s: %d", field, rc);
	if (rc == JSONIO_OK) {
		int64_t minor;

		FUZZ_CHECK(type == json_type_string || type == json_type_int ||
		               type == json_type_double,
		    "amount %s: type %d", field, type);
		FUZZ_CHECK(
		    strlen(amount) < sizeof(amount), "amount %s: size", field);
		if (type == json_type_string)
			FUZZ_CHECK(
			    strcmp(amount, json_object_get_string(v)) == 0,
			    "amount %s: not the string", field);
		if (type != json_type_string &&
		    money_parse(amount, &minor) == MONEY_OK)
			FUZZ_CHECK(fuzz_has_token(body, size, amount),
			    "amount %s: accepted \"%s\" is not in the body",
			    field, amount);
	} else if (present &&
	           (type == json_type_boolean || type == json_type_object ||
	               type == json_type_array)) {
		FUZZ_CHECK(rc == JSONIO_TYPE, "amount %s: %d for type %d",
		    field, rc, type);
	}
}

static void
fuzz_check_shape(const uint8_t *data, size_t size, struct json_object *obj)
{
	size_t a = 0, b = size;
	const char *text;
	struct json_object *again;

	FUZZ_CHECK(json_object_is_type(obj, json_type_object), "type %d",
	    json_object_get_type(obj));
	FUZZ_CHECK(fuzz_utf8_is_valid(data, size), "accepted invalid UTF-8");
	FUZZ_CHECK(memchr(data, 0, size) == NULL, "accepted a NUL byte");
	FUZZ_CHECK(fuzz_strings_are_clean(data, size),
	    "accepted a raw control byte inside a string");
	while (a < size && strchr(" \t\r\n", data[a]) != NULL)
		a++;
	while (b > a && strchr(" \t\r\n", data[b - 1]) != NULL)
		b--;
	FUZZ_CHECK(b - a >= 2 && data[a] == '{' && data[b - 1] == '}',
	    "accepted a body that is not one object");
	FUZZ_CHECK(
	    fuzz_depth(obj) <= JSONIO_DEPTH_MAX, "depth %d", fuzz_depth(obj));

	/*
	 * What we would write back parses to the same thing. Compared as
	 * text, since json-c takes NaN (API.md: invalid_amount), and NaN is
	 * equal to nothing.
	 */
	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	FUZZ_CHECK(text != NULL, "no serialisation");
	again = jsonio_parse_object(text, strlen(text));
	FUZZ_CHECK(again != NULL, "own output refused: %s", text);
	FUZZ_CHECK(strcmp(text, json_object_to_json_string_ext(
	                            again, JSON_C_TO_STRING_PLAIN)) == 0,
	    "round trip differs: %s", text);
	json_object_put(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *obj;

	obj = jsonio_parse_object((const char *)data, size);
	if (obj == NULL)
		return 0;
	fuzz_check_shape(data, size, obj);
	for (size_t i = 0; i < sizeof(fuzz_fields) / sizeof(fuzz_fields[0]);
	     i++)
		fuzz_field(data, size, obj, fuzz_fields[i]);
	/* Every field the body has, under its own name. */
	json_object_object_foreach(obj, key, val)
	{
		(void)val;
		fuzz_field(data, size, obj, key);
	}
	json_object_put(obj);
	return 0;
}
