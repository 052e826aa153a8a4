/*
 * What every libFuzzer target shares: the entry point's prototype and a
 * check that reports a broken property and aborts, so that libFuzzer keeps
 * the input as a crash (tests/fuzz/run.sh then files it under
 * tests/fuzz/regressions/<name>/).
 */
#ifndef FUZZ_H
#define FUZZ_H

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

#endif /* FUZZ_H */
