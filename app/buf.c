/*
 * Fixed-capacity byte buffers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"

void
buf_init(struct buf *b, char *storage, size_t cap)
{
	b->data = storage;
	b->cap = cap;
	buf_reset(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->overflow = false;
	if (b->cap > 0)
		b->data[0] = '\0';
}

int
buf_append(struct buf *b, const char *data, size_t len)
{
	if (b->overflow || len >= b->cap - b->len) {
		b->overflow = true;
		return -1;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	if (b->overflow)
		return -1;
	room = b->cap - b->len;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		b->data[b->len] = '\0';
		b->overflow = true;
		return -1;
	}
	b->len += (size_t)n;
	return 0;
}

int
buf_json_str(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = {'\\', 'u', '0', '0', 0, 0};

	if (buf_append(b, "\"", 1) != 0)
		return -1;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0';
	     p++) {
		int rc;

		if (*p == '"' || *p == '\\') {
			char two[2] = {'\\', (char)*p};

			rc = buf_append(b, two, 2);
		} else if (*p < 0x20) {
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 0xf];
			rc = buf_append(b, esc, 6);
		} else {
			rc = buf_append(b, (const char *)p, 1);
		}
		if (rc != 0)
			return -1;
	}
	return buf_append(b, "\"", 1);
}
