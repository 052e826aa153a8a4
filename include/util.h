/*
 * Small helpers: bounded copies and strtonum-style integer parsing.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bounds.h"

/*
 * Copies src into dst (size bytes with the NUL). Returns 0, or -1 without
 * truncating (dst is then "") when src does not fit.
 */
int util_copy(char *dst, size_t size, const char *src);

/*
 * Parses all of text as a decimal integer in [min, max]: no sign other than
 * a leading '-', no spaces, no trailing bytes. Returns 0 or -1.
 */
int util_parse_ll(
    const char *text, long long min, long long max, long long *out);

/* Milliseconds and microseconds of CLOCK_MONOTONIC. */
int64_t util_now_ms(void);
int64_t util_now_us(void);

/* Formats a UNIX time as RFC 3339 UTC "2026-11-26T03:15:49Z" into out[21]. */
void util_format_time(char out[UTIL_TIME_SIZE], int64_t unix_s);

/*
 * Parses all of text as an RFC 3339 date-time (section 5.6), e.g.
 * "2026-11-26T03:15:49Z", "2026-11-26t04:15:49.25+01:00", into the UNIX
 * time of its second, *out (the instant rounded down), and *frac, true
 * when a fraction (up to 9 digits) is not zero. The offset may be Z or
 * +-HH:MM; the date must exist (no February 30). Returns 0 or -1.
 */
int util_parse_time(const char *text, int64_t *out, bool *frac);

/*
 * Formats a UNIX time as a MariaDB DATETIME in UTC, "2026-11-26
 * 03:15:49", into out[20], clamped to the type's range (the years 1000
 * to 9999).
 */
void util_format_sql_time(char out[UTIL_SQL_TIME_SIZE], int64_t unix_s);

/*
 * Gives the whole pages of buf[keep, size) back to the system
 * (madvise(2) MADV_DONTNEED): they read as zeros afterwards, so only for
 * scratch memory whose content past keep no longer matters. buf is any
 * malloc'ed block of size bytes.
 */
void util_release_tail(void *buf, size_t size, size_t keep);

/* Fills buf with len bytes from getrandom(2). Returns 0 or -1. */
int util_random(void *buf, size_t len);

#endif /* UTIL_H */
