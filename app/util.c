/*
 * Small helpers shared by every module.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int
util_copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (size == 0)
		return -1;
	if (n >= size) {
		dst[0] = '\0';
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

int
util_parse_ll(const char *text, long long min, long long max, long long *out)
{
	const char *p = text;
	long long v;
	char *end;

	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int64_t
util_now_us(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
util_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
util_format_time(char out[UTIL_TIME_SIZE], int64_t unix_s)
{
	time_t t = (time_t)unix_s;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, UTIL_TIME_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(out, UTIL_TIME_SIZE, "1970-01-01T00:00:00Z");
}

/* Reads exactly n digits at *p into *out, advancing *p. Returns 0 or -1. */
static int
util_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar. */
static int64_t
util_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The date part, "YYYY-MM-DD", into days since the epoch. */
static int
util_parse_date(const char **p, int64_t *days)
{
	static const int mdays[12] = {
	    31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, m, d;
	bool leap;

	if (util_digits(p, 4, &y) != 0 || *(*p)++ != '-' ||
	    util_digits(p, 2, &m) != 0 || *(*p)++ != '-' ||
	    util_digits(p, 2, &d) != 0)
		return -1;
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (m == 2 && d == 29 && !leap)
		return -1;
	*days = util_days_from_civil(y, m, d);
	return 0;
}

int
util_parse_time(const char *text, int64_t *out, bool *frac)
{
	const char *p = text;
	int64_t days;
	int hh, mi, ss, oh = 0, om = 0, sign = 0;

	if (util_parse_date(&p, &days) != 0 || (*p != 'T' && *p != 't'))
		return -1;
	p++;
	if (util_digits(&p, 2, &hh) != 0 || *p++ != ':' ||
	    util_digits(&p, 2, &mi) != 0 || *p++ != ':' ||
	    util_digits(&p, 2, &ss) != 0)
		return -1;
	/* RFC 3339 allows a leap second, 60: it counts as the next one. */
	if (hh > 23 || mi > 59 || ss > 60)
		return -1;
	*frac = false;
	if (*p == '.') {
		size_t n = strspn(++p, "0123456789");

		if (n == 0 || n > 9)
			return -1;
		*frac = strspn(p, "0") < n;
		p += n;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (util_digits(&p, 2, &oh) != 0 || *p++ != ':' ||
		    util_digits(&p, 2, &om) != 0 || oh > 23 || om > 59)
			return -1;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	*out = days * 86400 + hh * 3600 + mi * 60 + ss -
	       sign * (oh * 3600 + om * 60);
	return 0;
}

void
util_format_sql_time(char out[UTIL_SQL_TIME_SIZE], int64_t unix_s)
{
	/* 1000-01-01 00:00:00 and 9999-12-31 23:59:59 UTC. */
	static const int64_t lo = -30610224000LL, hi = 253402300799LL;
	time_t t = (time_t)(unix_s < lo ? lo : unix_s > hi ? hi : unix_s);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, UTIL_SQL_TIME_SIZE, "%Y-%m-%d %H:%M:%S", &tm) !=
	        UTIL_SQL_TIME_SIZE - 1)
		(void)snprintf(out, UTIL_SQL_TIME_SIZE, "1000-01-01 00:00:00");
}

void
util_release_tail(void *buf, size_t size, size_t keep)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = ((uintptr_t)buf + keep + page - 1) / page * page;
	uintptr_t hi = ((uintptr_t)buf + size) / page * page;

	/* Advice only: a failure leaves the pages resident, nothing else. */
	if (keep < size && lo < hi)
		(void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

int
util_random(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
