/*
 * What every libFuzzer target shares: the entry point's prototype and a
 * check that reports a broken property and aborts, so that libFuzzer keeps
 * the input as a crash (tests/fuzz/run.sh then files it under
 * tests/fuzz/regressions/<name>/).
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                  \
	do {                                                                   \
		if (!(cond)) {                                                 \
			(void)fprintf(stderr,                                  \
			    "%s:%d: property broken: %s: ", __FILE__,          \
			    __LINE__, #cond);                                  \
			(void)fprintf(stderr, __VA_ARGS__);                    \
			(void)fputc('\n', stderr);                             \
			abort();                                               \
		}                                                              \
	} while (0)

/*
 * Copies size bytes of data into out (cap bytes) as a C string, stopping at
 * the first NUL as every C-string API of the app would, and returns the
 * length. A FastCGI parameter is such a string.
 */
static inline size_t
fuzz_cstr(char *out, size_t cap, const uint8_t *data, size_t size)
{
	size_t n = 0;

	while (n < size && n + 1 < cap && data[n] != 0) {
		out[n] = (char)data[n];
		n++;
	}
	out[n] = '\0';
	return n;
}

/*
 * The fuzz targets' own UTF-8 oracle, independent of the app's checks:
 * RFC 3629, no overlong forms, no surrogates, nothing above U+10FFFF.
 */
static inline bool
fuzz_utf8_is_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = p[i];
		size_t len;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

#endif /* FUZZ_H */
