/*
 * json-c helpers for request decoding.
 */
#include <string.h>

#include "jsonio.h"
#include "util.h"

struct json_object *
jsonio_parse_object(const char *body, size_t len)
{
	struct json_tokener *tok;
	struct json_object *obj;

	if (len == 0 || len > (size_t)INT32_MAX)
		return NULL;
	tok = json_tokener_new_ex(JSONIO_DEPTH_MAX);
	if (tok == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, body, (int)len);
	/* All of the body must be the one value: no trailing bytes. */
	if (obj != NULL && (json_tokener_get_error(tok) != json_tokener_success
	    || json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(obj, json_type_object))) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

enum jsonio_rc
jsonio_get_str(struct json_object *obj, const char *field, const char **out,
    size_t *len)
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
	/* Re-read the text so that a clamped out-of-range value is caught. */
	if (util_parse_ll(json_object_to_json_string_ext(v,
	    JSON_C_TO_STRING_PLAIN), min, max, &n) != 0)
		return JSONIO_RANGE;
	*out = (int64_t)n;
	return JSONIO_OK;
}

enum jsonio_rc
jsonio_get_amount_text(struct json_object *obj, const char *field, char *out,
    size_t size)
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
		text = json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN);
		break;
	default:
		return JSONIO_TYPE;
	}
	if (util_copy(out, size, text) != 0)
		return JSONIO_RANGE;
	return JSONIO_OK;
}
