/*
 * Goal: log_quote() never writes past its buffer, whatever the value and
 * the size (issue 16: it wrote up to 2 bytes past it when a value was cut
 * right after an escape), and what it writes is the value, whole or cut
 * before a whole character with "..." at the end, quoted when it must be.
 * Every buffer sits in a larger one filled with a canary byte, checked
 * after each call.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bounds.h"
#include "log.h"

Suite *log_suite(void);

#define CANARY ((char)0x5a)
/* Sizes the sweeps try: past the largest value below, escaped. */
#define SWEEP_SIZE_MAX 300

static char area[SWEEP_SIZE_MAX + 16];

/* log_quote() into the first size bytes of area; the rest is the canary. */
static const char *
quote_in(unsigned size, const char *value)
{
	memset(area, CANARY, sizeof(area));
	return log_quote(area, size, value);
}

/* One assertion per call: Check reports each one to its parent process. */
static void
assert_canary(unsigned size)
{
	size_t i = size;

	while (i < sizeof(area) && area[i] == CANARY)
		i++;
	ck_assert_msg(i == sizeof(area),
	    "size %u: byte %zu past the buffer was written", size, i - size);
}

/*
 * The test's own model of a whole quoted value: a byte as itself, or as
 * \xNN outside printable ASCII and for '"' and '\'; in quotes when the
 * value is empty or has a space, '"' or '='.
 */
static bool
model(const char *value, char *out, size_t cap)
{
	bool quote = value[0] == '\0' || strpbrk(value, " \"=") != NULL;
	size_t o = 0;

	if (quote)
		out[o++] = '"';
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		ck_assert(o + 5 < cap);
		if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", *p);
		else
			out[o++] = (char)*p;
	}
	if (quote)
		out[o++] = '"';
	out[o] = '\0';
	return quote;
}

/* The model's cut: a prefix of whole characters of the whole value. */
static bool
is_whole_char_prefix(const char *whole, size_t len)
{
	size_t o = 0;

	while (o < len) {
		if (whole[o] == '\\')
			o += 4;
		else
			o++;
	}
	return o == len;
}

/*
 * Fails the test when cond is false. Unlike ck_assert, a check that holds
 * costs nothing: the sweeps below make tens of thousands.
 */
#define SWEEP_CHECK(cond, ...)                                                 \
	do {                                                                   \
		if (!(cond))                                                   \
			ck_abort_msg(__VA_ARGS__);                             \
	} while (0)

/*
 * log_quote(value) in every size from 0 to SWEEP_SIZE_MAX: nothing past
 * the buffer, terminated inside it, and the whole value when it fits,
 * else the longest cut that leaves room for "...", quote and NUL.
 */
static void
sweep(const char *value)
{
	char whole[4 * SWEEP_SIZE_MAX + 8];
	bool quote = model(value, whole, sizeof(whole));
	size_t wlen = strlen(whole), q = quote ? 1 : 0;

	for (unsigned size = 0; size <= SWEEP_SIZE_MAX; size++) {
		const char *got = quote_in(size, value);
		size_t len, body, next, past = size;

		while (past < sizeof(area) && area[past] == CANARY)
			past++;
		SWEEP_CHECK(past == sizeof(area),
		    "size %u: byte %zu past the buffer was written", size,
		    past - size);
		if (size == 0)
			continue;
		SWEEP_CHECK(got == area && memchr(area, '\0', size) != NULL,
		    "size %u: not terminated", size);
		len = strlen(area);
		if (size < LOG_QUOTE_SIZE_MIN || wlen < size) {
			SWEEP_CHECK(
			    strcmp(area,
			        size < LOG_QUOTE_SIZE_MIN ? "" : whole) == 0,
			    "size %u: \"%s\", want \"%s\"", size, area, whole);
			continue;
		}
		/* Cut: quote, a prefix of whole characters, "...", quote. */
		SWEEP_CHECK(len >= q + 3 + q, "size %u: \"%s\"", size, area);
		body = len - q - 3 - q;
		SWEEP_CHECK(memcmp(area, whole, q + body) == 0 &&
		                memcmp(area + q + body, "...", 3) == 0 &&
		                (!quote || area[len - 1] == '"'),
		    "size %u: \"%s\" is no cut of \"%s\"", size, area, whole);
		SWEEP_CHECK(is_whole_char_prefix(whole + q, body),
		    "size %u: an escape was cut: \"%s\"", size, area);
		/* The longest such cut: one more character would not fit. */
		next = whole[q + body] == '\\' ? 4 : 1;
		SWEEP_CHECK(len + next + 1 > size,
		    "size %u: \"%s\" is shorter than it need be", size, area);
	}
}

START_TEST(test_log_quote__empty__quoted_pair)
{
	ck_assert_str_eq(quote_in(LOG_QUOTE_SIZE_MIN, ""), "\"\"");
	assert_canary(LOG_QUOTE_SIZE_MIN);
}
END_TEST

START_TEST(test_log_quote__exactly_fitting__whole_and_canary_intact)
{
	/* 7 characters and the NUL fill 8 bytes. */
	ck_assert_str_eq(quote_in(8, "abcdefg"), "abcdefg");
	assert_canary(8);
	/* Quoted: 2 quotes, 5 characters and the NUL. */
	ck_assert_str_eq(quote_in(8, "ab cd"), "\"ab cd\"");
	assert_canary(8);
	/* Two escapes and the NUL fill 9 bytes. */
	ck_assert_str_eq(quote_in(9, "\x01\xff"), "\\x01\\xff");
	assert_canary(9);
}
END_TEST

START_TEST(test_log_quote__one_over__cut_with_mark)
{
	ck_assert_str_eq(quote_in(8, "abcdefgh"), "abcd...");
	assert_canary(8);
	ck_assert_str_eq(quote_in(8, "ab cde"), "\"ab...\"");
	assert_canary(8);
	ck_assert_str_eq(quote_in(9, "\x01\xff\x02"), "\\x01...");
	assert_canary(9);
}
END_TEST

START_TEST(test_log_quote__cut_right_after_escape__no_byte_past_buffer)
{
	/* The shapes that overflowed, in the sizes of the buffers of
	 * h_login.c's login_reject (a quoted non-ASCII name) and of
	 * worker.c's request line (a path of "/" and non-ASCII bytes): each
	 * is cut right after a 4-byte escape. */
	const unsigned name_size = USERNAME_LEN_MAX * 4 + 16;
	const unsigned path_size = HTTP_PATH_SIZE_MAX + 16;
	char value[200];

	memset(value, 0xc3, sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	value[sizeof(value) - 2] = ' ';
	(void)quote_in(name_size, value);
	assert_canary(name_size);
	ck_assert_str_eq(area + strlen(area) - 4, "...\"");
	value[sizeof(value) - 2] = (char)0xc3;
	value[0] = '/';
	(void)quote_in(path_size, value);
	assert_canary(path_size);
	ck_assert_str_eq(area + strlen(area) - 3, "...");
}
END_TEST

START_TEST(test_log_quote__quoting_on_and_off)
{
	ck_assert_str_eq(quote_in(64, "alice"), "alice");
	ck_assert_str_eq(quote_in(64, "/balance"), "/balance");
	ck_assert_str_eq(quote_in(64, "a b"), "\"a b\"");
	ck_assert_str_eq(quote_in(64, "a=b"), "\"a=b\"");
	ck_assert_str_eq(quote_in(64, "a\"b"), "\"a\\x22b\"");
	/* Escaped but not quoted: a backslash, a newline, UTF-8. */
	ck_assert_str_eq(quote_in(64, "a\\b"), "a\\x5cb");
	ck_assert_str_eq(quote_in(64, "a\nb"), "a\\x0ab");
	ck_assert_str_eq(quote_in(64, "\xc3\xa9"), "\\xc3\\xa9");
	assert_canary(64);
}
END_TEST

START_TEST(test_log_quote__below_minimum_size__empty_string)
{
	for (unsigned size = 0; size < LOG_QUOTE_SIZE_MIN; size++) {
		(void)quote_in(size, "abcdefghij");
		assert_canary(size);
		if (size > 0)
			ck_assert_str_eq(area, "");
	}
}
END_TEST

START_TEST(test_log_quote__every_size__within_buffer_and_model)
{
	static const char *const values[] = {
	    "",
	    "a",
	    "abcdefghijklmnopqrstuvwxyz0123456789",
	    "a b c d e f g h i j k l m n o p",
	    "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4\xf3\xf2\xf1",
	    " \xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4\xf3\xf2\xf1",
	    "/\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3",
	    "ab\x01=\x02\x03 d\x7f\"\\x\x80y\x1bz\xe2\x82\xac end",
	};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		sweep(values[i]);
}
END_TEST

START_TEST(test_log_quote__long_values__every_alignment)
{
	/* k ASCII bytes, then escapes: the cut falls at every offset. */
	char value[128];

	for (size_t k = 0; k < 8; k++) {
		memset(value, 'a', k);
		memset(value + k, 0x80 + (int)k, sizeof(value) - 1 - k);
		value[sizeof(value) - 1] = '\0';
		sweep(value);
		value[0] = ' ';
		sweep(value);
	}
}
END_TEST

Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("quote");

	tcase_add_test(tc, test_log_quote__empty__quoted_pair);
	tcase_add_test(
	    tc, test_log_quote__exactly_fitting__whole_and_canary_intact);
	tcase_add_test(tc, test_log_quote__one_over__cut_with_mark);
	tcase_add_test(
	    tc, test_log_quote__cut_right_after_escape__no_byte_past_buffer);
	tcase_add_test(tc, test_log_quote__quoting_on_and_off);
	tcase_add_test(tc, test_log_quote__below_minimum_size__empty_string);
	tcase_add_test(tc, test_log_quote__every_size__within_buffer_and_model);
	tcase_add_test(tc, test_log_quote__long_values__every_alignment);
	suite_add_tcase(s, tc);
	return s;
}
