/* wrap.c - filling paragraphs into lines of plain text. */
#include <string.h>

#include "content_int.h"

#define MIN_WIDTH 20

int
text_line(struct buf *out, const char *prefix, const char *text, size_t n)
{
	size_t plen = strlen(prefix);
	int rc = 0;

	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == TEXT_GLUE))
		n--;
	if (n == 0)
		while (plen > 0 && prefix[plen - 1] == ' ')
			plen--;
	rc |= buf_append(out, prefix, plen);
	for (size_t i = 0; i < n; i++)
		rc |= buf_putc(out, text[i] == TEXT_GLUE ? ' ' : text[i]);
	rc |= buf_putc(out, '\n');
	return rc;
}

static long
room(const char *prefix)
{
	long w = (long)CONTENT_TEXT_WIDTH - (long)utf8_width(prefix, strlen(prefix));

	return w < MIN_WIDTH ? MIN_WIDTH : w;
}

int
text_wrap(struct buf *out, const char *text, size_t len, const char *first, const char *rest,
    char underline)
{
	const char *prefix = first, *p = text, *end = text + len;
	size_t widest = 0;
	struct buf line;
	int rc = 0;

	buf_init(&line, len + 1);
	while (p <= end && rc == 0) {
		const char *stop = memchr(p, TEXT_HARD_BREAK, (size_t)(end - p));
		size_t col = 0;

		if (stop == NULL)
			stop = end;
		buf_reset(&line);
		while (p < stop && rc == 0) {
			size_t n, w;

			if (*p == ' ') {
				p++;
				continue;
			}
			n = strcspn(p, " \n");
			if (p + n > stop)
				n = (size_t)(stop - p);
			w = utf8_width(p, n);
			if (col > 0 && (long)(col + 1 + w) > room(prefix)) {
				rc |= text_line(out, prefix, buf_str(&line), line.len);
				widest = col > widest ? col : widest;
				prefix = rest;
				buf_reset(&line);
				col = 0;
			}
			if (col > 0) {
				rc |= buf_putc(&line, ' ');
				col++;
			}
			rc |= buf_append(&line, p, n);
			col += w;
			p += n;
		}
		rc |= text_line(out, prefix, buf_str(&line), line.len);
		widest = col > widest ? col : widest;
		prefix = rest;
		p = stop + 1;
	}
	buf_free(&line);
	if (underline && widest > 0 && rc == 0) {
		char rule[CONTENT_TEXT_WIDTH];

		if (widest > sizeof(rule))
			widest = sizeof(rule);
		memset(rule, underline, widest);
		rc |= text_line(out, rest, rule, widest);
	}
	return rc ? -1 : 0;
}
