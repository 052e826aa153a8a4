/*
 * What the batch and statement suites add to money_util.h (test_batch.c,
 * test_statement.c): requests with any headers, string fields, times.
 */
#ifndef LEDGER_CLIENT_H
#define LEDGER_CLIENT_H

#include <stdbool.h>
#include <time.h>

#include "money_util.h"

/*
 * A request as u (NULL: no token) with an optional Idempotency-Key and
 * other headers (NULL-ended, may be NULL); returns the status.
 */
long lcall(const char *method, const char *path, const struct user *u,
    const char *body, const char *key, const char *const *extra,
    struct resp *r);
/* A string field of a JSON object ("" when absent or not a string). */
const char *lfield(struct json_object *o, const char *name);
/* An RFC 3339 "2026-11-26T03:15:49Z" -> UNIX time, asserting its shape. */
time_t ltime(const char *text);
/* UNIX time -> "2026-11-26T03:15:49Z" into out[21]. */
void ltime_text(time_t t, char out[21]);
/* Waits until the clock has passed second t. */
void lwait_past(time_t t);

#endif /* LEDGER_CLIENT_H */
