/*
 * Helpers of the batch and statement suites (ledger_client.h).
 */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ledger_client.h"

long
lcall(const char *method, const char *path, const struct user *u,
    const char *body, const char *key, const char *const *extra, struct resp *r)
{
	char hdr[400];
	const char *h[16];
	size_t n = 0;

	if (key != NULL) {
		(void)snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key);
		h[n++] = hdr;
	}
	for (; extra != NULL && *extra != NULL && n < 15; extra++)
		h[n++] = *extra;
	h[n] = NULL;
	resp_free(r);
	ck_assert_int_eq(
	    api(method, path, u != NULL ? u->token : NULL, body, h, r), 0);
	return r->status;
}

const char *
lfield(struct json_object *o, const char *name)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

time_t
ltime(const char *text)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	ck_assert_msg(strlen(text) == 20 &&
	                  strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm) != NULL,
	    "not RFC 3339 UTC: \"%s\"", text);
	return timegm(&tm);
}

void
ltime_text(time_t t, char out[21])
{
	struct tm tm;

	ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
	ck_assert_uint_eq(strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm), 20);
}

void
lwait_past(time_t t)
{
	/* At most about a second: the clock moves on by itself. */
	while (time(NULL) <= t)
		(void)usleep(50 * 1000);
}
