/*
 * Goal: a log value is written safely whatever a client sends (issue 16:
 * log_quote() wrote past its buffer). Bytes 0-1 pick the buffer size, the
 * rest is the value (a C string, as a FastCGI parameter is).
 *  - log_quote() into a heap buffer of exactly that size (ASan sees one
 *    byte past it): terminated inside it; the whole text of the target's
 *    own model when it fits, else its longest cut before a whole character
 *    ending in "..." (and the closing quote); quoted exactly when it must
 *    be, nothing but printable ASCII, no '"' inside, '\\' only as \xNN.
 *  - log_event() with that quoted value, in a line longer than a log line
 *    when the value is long: exactly one line, ending in a newline, at
 *    most LOG_LINE_SIZE_MAX bytes, with its prefix and the event.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "fuzz.h"
#include "log.h"

/* The largest buffer tried: a value of 16 KiB escaped, and some. */
#define FUZZ_QUOTE_SIZE_MAX (4 * HTTP_BODY_SIZE_MAX + 8)

static int fuzz_log_fd = -1;

/* The log goes to a scratch file that this target reads back. */
static void
fuzz_log_open(void)
{
	char path[] = "/tmp/payd-fuzz-log.XXXXXX";

	if (fuzz_log_fd >= 0)
		return;
	fuzz_log_fd = mkstemp(path);
	FUZZ_CHECK(fuzz_log_fd >= 0, "mkstemp");
	FUZZ_CHECK(log_open_file(path) == 0, "log_open_file");
	(void)unlink(path);
}

static void
fuzz_quote_shape(const char *out, size_t len, const char *value)
{
	bool quoted = len >= 2 && out[0] == '"' && out[len - 1] == '"';
	bool must = value[0] == '\0' || strpbrk(value, " \"=") != NULL;

	FUZZ_CHECK(quoted == must, "quoting of \"%s\"", out);
	for (size_t i = quoted; i < len - quoted; i++) {
		unsigned char c = (unsigned char)out[i];

		FUZZ_CHECK(c >= 0x20 && c < 0x7f && c != '"', "byte %zu of %s",
		    i, out);
		if (c == '\\')
			FUZZ_CHECK(
			    out[i + 1] == 'x', "bare backslash in %s", out);
	}
}

/*
 * The target's own model of a whole log value: a byte as itself, or \xNN
 * outside printable ASCII and for '"' and '\\'; in quotes when the value
 * is empty or has a space, '"' or '='.
 */
static void
fuzz_model(const char *value, char *whole, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	bool quote = value[0] == '\0' || strpbrk(value, " \"=") != NULL;
	size_t o = 0;

	if (quote)
		whole[o++] = '"';
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		FUZZ_CHECK(o + 6 < cap, "model buffer");
		if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\') {
			whole[o++] = (char)*p;
			continue;
		}
		whole[o++] = '\\';
		whole[o++] = 'x';
		whole[o++] = hex[*p >> 4];
		whole[o++] = hex[*p & 0xf];
	}
	if (quote)
		whole[o++] = '"';
	whole[o] = '\0';
}

/*
 * A cut: the start of the whole text at a character boundary, "...", the
 * closing quote; the longest that fits (one more character would not).
 */
static void
fuzz_quote_cut(const char *out, size_t len, const char *whole, size_t size)
{
	size_t q = whole[0] == '"' ? 1 : 0;
	size_t body, o = q, next;

	FUZZ_CHECK(len >= 3 + 2 * q, "cut too short: %s", out);
	body = len - 2 * q - 3;
	FUZZ_CHECK(memcmp(out, whole, q + body) == 0, "not a cut: %s", out);
	FUZZ_CHECK(memcmp(out + q + body, "...", 3) == 0, "mark: %s", out);
	FUZZ_CHECK(q == 0 || out[len - 1] == '"', "closing quote: %s", out);
	while (o < q + body)
		o += whole[o] == '\\' ? 4 : 1;
	FUZZ_CHECK(o == q + body, "escape cut in %s", out);
	next = whole[o] == '\\' ? 4 : 1;
	FUZZ_CHECK(len + next + 1 > size, "size %zu: %s is short", size, out);
}

static void
fuzz_quote(const char *value, size_t size, const char *whole)
{
	char *out = malloc(size > 0 ? size : 1);
	size_t len;

	FUZZ_CHECK(out != NULL, "malloc");
	FUZZ_CHECK(log_quote(out, (unsigned)size, value) == out, "return");
	if (size == 0) {
		free(out);
		return;
	}
	FUZZ_CHECK(memchr(out, '\0', size) != NULL, "not terminated");
	len = strlen(out);
	if (size < LOG_QUOTE_SIZE_MIN) {
		FUZZ_CHECK(len == 0, "size %zu: %s", size, out);
		free(out);
		return;
	}
	fuzz_quote_shape(out, len, value);
	if (strlen(whole) < size)
		FUZZ_CHECK(strcmp(out, whole) == 0, "%s, not %s", out, whole);
	else
		fuzz_quote_cut(out, len, whole, size);
	free(out);
}

static void
fuzz_event(const char *quoted)
{
	char line[LOG_LINE_SIZE_MAX + 2];
	ssize_t n;

	fuzz_log_open();
	FUZZ_CHECK(ftruncate(fuzz_log_fd, 0) == 0, "ftruncate");
	log_event(LOG_INFO, "fuzz_event", "a=1 value=%s b=2", quoted);
	n = pread(fuzz_log_fd, line, sizeof(line), 0);
	FUZZ_CHECK(n > 0 && n <= LOG_LINE_SIZE_MAX, "line of %zd bytes", n);
	FUZZ_CHECK(line[n - 1] == '\n', "no newline at the end");
	FUZZ_CHECK(memchr(line, '\n', (size_t)n - 1) == NULL, "two lines");
	FUZZ_CHECK(memchr(line, '\0', (size_t)n) == NULL, "a NUL in the line");
	FUZZ_CHECK(strncmp(line, "ts=", 3) == 0, "no prefix");
	line[n - 1] = '\0';
	FUZZ_CHECK(strstr(line, " event=fuzz_event a=1 value=") != NULL,
	    "no event: %s", line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char value[HTTP_BODY_SIZE_MAX + 1];
	static char whole[FUZZ_QUOTE_SIZE_MAX];
	static char quoted[FUZZ_QUOTE_SIZE_MAX];
	size_t out_size;

	if (size < 2)
		return 0;
	out_size = ((size_t)data[0] << 8 | data[1]) % FUZZ_QUOTE_SIZE_MAX;
	(void)fuzz_cstr(value, sizeof(value), data + 2, size - 2);
	fuzz_model(value, whole, sizeof(whole));
	fuzz_quote(value, out_size, whole);
	fuzz_event(log_quote(quoted, sizeof(quoted), value));
	return 0;
}
