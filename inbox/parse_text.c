/*
 * parse_text.c - plain text as the rest of inbox/ wants it: UTF-8 lines
 * ending in LF, no control characters, format=flowed undone.
 */
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

int
text_clean_append(struct buf *b, const char *s, size_t n, int *cut)
{
	const unsigned char *p = (const unsigned char *)s;
	char *tmp;
	size_t w = 0;
	int r;

	tmp = malloc(n + 1);
	if (tmp == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (c == '\r') {
			tmp[w++] = '\n';
			if (i + 1 < n && p[i + 1] == '\n')
				i++;
		} else if (c == '\n' || c == '\t') {
			tmp[w++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			continue;
		} else if (c == 0xc2 && i + 1 < n && p[i + 1] == 0xa0) {
			tmp[w++] = ' '; /* no-break space */
			i++;
		} else if (c == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f) {
			i++; /* C1 control */
		} else if (c == 0xef && i + 2 < n && p[i + 1] == 0xbb && p[i + 2] == 0xbf) {
			i += 2; /* byte order mark */
		} else if (c == 0xe2 && i + 2 < n && p[i + 1] == 0x80 && p[i + 2] == 0x8b) {
			i += 2; /* zero-width space */
		} else if (c == 0xe2 && i + 2 < n && p[i + 1] == 0x80 &&
		    (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
			tmp[w++] = '\n'; /* line and paragraph separators */
			i += 2;
		} else {
			tmp[w++] = (char)c;
		}
	}
	r = buf_append_clipped(b, tmp, w, cut);
	free(tmp);
	return r;
}

char *
text_unflow(const char *s, int delsp)
{
	struct buf out;
	const char *p = s;
	size_t open_depth = 0;
	int open = 0, first = 1;

	/* Joining only removes bytes; "> " prefixes add at most one per line. */
	buf_init(&out, 2 * strlen(s) + 16);
	while (*p) {
		const char *eol = strchr(p, '\n'), *q = p;
		size_t depth = 0, clen;
		int flowed;

		if (eol == NULL)
			eol = p + strlen(p);
		while (q < eol && *q == '>')
			depth++, q++;
		if (q < eol && *q == ' ')
			q++; /* space-stuffing, or the space after the quote marks */
		clen = (size_t)(eol - q);
		flowed = clen > 0 && q[clen - 1] == ' ' && !(clen == 3 && memcmp(q, "-- ", 3) == 0);
		if (!(open && depth == open_depth)) {
			if (!first && buf_putc(&out, '\n') == -1)
				goto oom;
			for (size_t i = 0; i < depth; i++)
				if (buf_putc(&out, '>') == -1)
					goto oom;
			if (depth > 0 && buf_putc(&out, ' ') == -1)
				goto oom;
		}
		first = 0;
		if (flowed && delsp)
			clen--;
		if (buf_append(&out, q, clen) == -1)
			goto oom;
		open = flowed;
		open_depth = depth;
		p = *eol ? eol + 1 : eol;
		if (*eol && *p == '\0' && buf_putc(&out, '\n') == -1)
			goto oom;
	}
	return buf_steal(&out);
oom:
	buf_free(&out);
	return NULL;
}
