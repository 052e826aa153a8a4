/*
 * A byte buffer of fixed capacity. An append that does not fit fails and
 * marks the buffer as overflowed; it never truncates silently.
 */
#ifndef BUF_H
#define BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data; /* caller's storage, always NUL-terminated */
	size_t len;
	size_t cap; /* bytes of data, the NUL included */
	bool overflow;
};

/* Uses storage (cap bytes, cap >= 1) as an empty buffer. */
void buf_init(struct buf *b, char *storage, size_t cap);
void buf_reset(struct buf *b);
/* Append; return 0, or -1 and set overflow when it would not fit. */
int buf_append(struct buf *b, const char *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string, quotes included, escaping as RFC 8259 says. */
int buf_json_str(struct buf *b, const char *s);

#endif /* BUF_H */
