/*
 * json-c helpers for request decoding.
 */
#include <stdbool.h>
#include <string.h>

#include "jsonio.h"
#include "util.h"

static size_t jsonio_utf8_len(const unsigned char *p, size_t n);
static bool jsonio_text_is_clean(const char *body, size_t len);

/*
 * The length of the UTF-8 sequence at p (n bytes left), or 0 when it is
 * not one RFC 3629 allows: no overlong form, no surrogate, nothing above
 * U+10FFFF (Table 3-7 of the Unicode standard, byte by byte).
 */
static size_t
jsonio_utf8_len(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0; /* overlong */
	else if (p[0] == 0xed)
		hi = 0x9f; /* surrogates */
	else if (p[0] == 0xf0)
		lo = 0x90; /* overlong */
	else if (p[0] == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	}
	return len;
}

/*
 * RFC 8259 §8.1 and §7: the body is UTF-8, and a string holds no raw
 * control character. json-c 0.16, even strict and validating UTF-8, lets
 * through both raw controls and overlong or surrogate sequences (found by
 * tests/fuzz/fuzz_json.c), so the body is checked here first.
 */
static bool
jsonio_text_is_clean(const char *body, size_t len)
{
	const unsigned char *p = (const unsigned char *)body;
	bool in_str = false, esc = false;

	for (size_t i = 0; i < len;) {
		size_t n = jsonio_utf8_len(p + i, len - i);

		if (n == 0 || (in_str && p[i] < 0x20))
			return false;
		if (esc)
			esc = false;
		else if (p[i] == '\\')
			esc = in_str;
		else if (p[i] == '"')
			in_str = !in_str;
		i += n;
	}
	return true;
}

struct json_object *
jsonio_parse_object(const char *body, size_t len)
{
	struct json_tokener *tok;
	struct json_object *obj;

	if (len == 0 || len > (size_t)INT32_MAX ||
	    !jsonio_text_is_clean(body, len))
		return NULL;
	tok = json_tokener_new_ex(JSONIO_DEPTH_MAX);
	if (tok == NULL)
		return NULL;
	json_tokener_set_flags(
	    tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, body, (int)len);
	/* All of the body must be the one value: no trailing bytes. */
	if (obj != NULL &&
	    (json_tokener_get_error(tok) != json_tokener_success ||
	        json_tokener_get_parse_end(tok) != len ||
	        !json_object_is_type(obj, json_type_object))) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

enum jsonio_rc
jsonio_get_str(
    struct json_object *obj, const char *field, const char **out, size_t *len)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, field, &v))
		return JSONIO_MISSING;
	if (v == NULL)
		return JSONIO_NULL;
	if (!json_object_is_type(v, json_type_string))
		return JSONIO_TYPE;
	*out = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	if (strlen(*out) != *len)
		return JSONIO_TYPE;
	return JSONIO_OK;
}

enum jsonio_rc
jsonio_get_i64(struct json_object *obj, const char *field, int64_t min,
    int64_t max, int64_t *out)
{
	struct json_object *v;
	long long n;

	if (!json_object_object_get_ex(obj, field, &v))
		return JSONIO_MISSING;
	if (v == NULL)
		return JSONIO_NULL;
	if (!json_object_is_type(v, json_type_int))
		return JSONIO_TYPE;
	/*
	 * Re-read the text so that a clamped out-of-range value is caught.
	 * json-c 0.16 clamps a literal below INT64_MIN to INT64_MIN itself,
	 * which reads back fine, so that value is never taken (found by
	 * tests/fuzz/fuzz_json.c).
	 */
	if (util_parse_ll(
	        json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), min,
	        max, &n) != 0 ||
	    n == INT64_MIN)
		return JSONIO_RANGE;
	*out = (int64_t)n;
	return JSONIO_OK;
}

enum jsonio_rc
jsonio_get_amount_text(
    struct json_object *obj, const char *field, char *out, size_t size)
{
	struct json_object *v;
	const char *text;

	if (!json_object_object_get_ex(obj, field, &v))
		return JSONIO_MISSING;
	if (v == NULL)
		return JSONIO_NULL;
	switch (json_object_get_type(v)) {
	case json_type_string:
		text = json_object_get_string(v);
		if (strlen(text) != (size_t)json_object_get_string_len(v))
			return JSONIO_RANGE;
		break;
	case json_type_int:
	case json_type_double:
		/*
		 * The tokener keeps a number's source text for doubles and
		 * prints integers exactly, so this is the literal as sent.
		 */
		text =
		    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		break;
	default:
		return JSONIO_TYPE;
	}
	if (util_copy(out, size, text) != 0)
		return JSONIO_RANGE;
	return JSONIO_OK;
}
