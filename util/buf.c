/* buf.c - growable buffers with a hard maximum. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max ? max : BUF_MAX_DEFAULT;
}

static int
buf_reserve(struct buf *b, size_t extra)
{
	size_t want, cap;
	char *p;

	if (extra > b->max || b->len > b->max - extra)
		return -1;
	want = b->len + extra + 1;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < want)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_putc(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	size_t room = b->cap > b->len ? b->cap - b->len : 0; /* with the NUL's byte */
	va_list ap2;
	int n;

	/* Formats into the room there is first, and a second time only when
	 * that was too small: measuring every time formatted everything twice. */
	va_copy(ap2, ap);
	n = vsnprintf(room > 0 ? b->data + b->len : NULL, room, fmt, ap2);
	va_end(ap2);
	if (n >= 0 && (size_t)n < room && (size_t)n <= b->max - b->len) {
		b->len += (size_t)n;
		return 0;
	}
	if (room > 0)
		b->data[b->len] = '\0'; /* a failure leaves the buffer as it was */
	if (n < 0 || buf_reserve(b, (size_t)n) == -1)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *
buf_steal(struct buf *b)
{
	char *s = b->data;

	if (s == NULL)
		s = calloc(1, 1);
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

const char *
buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}
