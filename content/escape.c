/* escape.c - text and links from untrusted sources, made into Markdown
 * that cmark renders literally. */
#include <stdio.h>
#include <string.h>

#include "content_int.h"


int
content_markdown_escape(struct buf *out, const char *text)
{
	size_t n = strlen(text), newlines = 0;
	int line_start = 1, seen_text = 0;

	while (n > 0 && strchr("\n\r \t", text[n - 1]))
		n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		int rc = 0;

		if (c == '\n') {
			newlines++;
			line_start = 1;
			continue;
		}
		/* leading blanks would make an indented code block; control
		 * characters have no literal rendering */
		if ((line_start && (c == ' ' || c == '\t')) || (c < 0x20 && c != '\t') || c == 0x7f)
			continue;
		for (; seen_text && newlines > 0 && rc == 0; newlines--)
			rc = buf_puts(out, "\\\n"); /* a hard line break */
		newlines = 0;
		line_start = 0;
		seen_text = 1;
		if (c == 0xee && n - i >= 3 && (memcmp(text + i, PH_OPEN, 3) == 0 ||
		    memcmp(text + i, PH_CLOSE, 3) == 0)) {
			rc |= buf_puts(out, REPLACEMENT);
			i += 2;
		} else {
			if (c < 0x80 && strchr("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", c))
				rc |= buf_putc(out, '\\');
			rc |= buf_putc(out, c == '\t' ? ' ' : (char)c);
		}
		if (rc == -1)
			return -1;
	}
	return 0;
}

int
content_markdown_link(struct buf *out, const char *text, const char *url)
{
	int rc;

	rc = buf_putc(out, '[');
	rc |= content_markdown_escape(out, *text ? text : url);
	rc |= buf_puts(out, "](<");
	for (const unsigned char *p = (const unsigned char *)url; *p && rc == 0; p++) {
		if (strncmp((const char *)p, PH_OPEN, 3) == 0 || strncmp((const char *)p, PH_CLOSE, 3) == 0)
			p += 2; /* no placeholder marker in a URL */
		else if (*p <= 0x20 || *p == 0x7f || *p == '<' || *p == '>')
			rc = buf_printf(out, "%%%02X", *p);
		else if (*p < 0x80 && strchr("!\"#$%&'()*+,-./:;=?@[\\]^_`{|}~", *p))
			rc = buf_putc(out, '\\') | buf_putc(out, (char)*p);
		else
			rc = buf_putc(out, (char)*p);
	}
	rc |= buf_puts(out, ">)");
	return rc ? -1 : 0;
}
