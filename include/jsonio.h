/*
 * json-c helpers: parse a request body into an object, read declared
 * fields through typed getters, and keep the literal text of amounts.
 */
#ifndef JSONIO_H
#define JSONIO_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

enum jsonio_rc {
	JSONIO_OK,      /* the field is there with the right type */
	JSONIO_MISSING, /* absent */
	JSONIO_TYPE,    /* present with another type */
	JSONIO_NULL,    /* present and null */
	JSONIO_RANGE,   /* the right type, out of the allowed range */
	JSONIO_RC__MAX
};

/*
 * Parses len bytes of body as one JSON object (RFC 8259, strict). Returns
 * the object, owned by the caller (json_object_put), or NULL when the body
 * is not a JSON object.
 */
struct json_object *jsonio_parse_object(const char *body, size_t len);

/*
 * A string field. *out points into obj and lives as long as obj; *len is
 * its byte length (a string with a NUL inside is JSONIO_TYPE).
 */
enum jsonio_rc jsonio_get_str(
    struct json_object *obj, const char *field, const char **out, size_t *len);

/*
 * An integer field (a JSON number without fraction or exponent) in
 * [min, max]. INT64_MIN itself is always JSONIO_RANGE: json-c clamps
 * smaller literals to it.
 */
enum jsonio_rc jsonio_get_i64(struct json_object *obj, const char *field,
    int64_t min, int64_t max, int64_t *out);

/*
 * The literal text of an amount: a JSON string's content, or a JSON
 * number's text as it was written (never through a double). JSONIO_TYPE
 * for booleans, objects and arrays; JSONIO_RANGE when the text does not fit
 * in out (size bytes).
 */
enum jsonio_rc jsonio_get_amount_text(
    struct json_object *obj, const char *field, char *out, size_t size);

#endif /* JSONIO_H */
