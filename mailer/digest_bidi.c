/*
 * digest_bidi.c - right-to-left feed text among the digest's English.
 *
 * A Hebrew or Arabic title next to "by", "," and "on" takes the neutral
 * punctuation and the neighbouring strings into its own run under the
 * Unicode bidirectional algorithm (UAX #9), and the line comes out
 * scrambled.  Each feed string that holds a right-to-left character is
 * therefore isolated: FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE in
 * the digest's Markdown, which the text part keeps as they are, and which
 * the HTML part turns into <bdi> (mail clients honour the element more
 * widely than the characters).  Left-to-right strings are left as they are.
 */
#include <string.h>

#include "internal.h"

#define FSI "\xe2\x81\xa8"   /* U+2068 FIRST STRONG ISOLATE */
#define PDI "\xe2\x81\xa9"   /* U+2069 POP DIRECTIONAL ISOLATE */

/* The code point at s (UTF-8, *len bytes of it), leniently: a byte that
 * starts no sequence is itself. */
static unsigned
code_point(const unsigned char *s, size_t *len)
{
	unsigned c = s[0];
	size_t k = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;

	for (size_t i = 1; i <= k; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*len = 1;
			return c;
		}
	}
	*len = k + 1;
	if (k == 0)
		return c;
	c &= 0x3fu >> k;
	for (size_t i = 1; i <= k; i++)
		c = c << 6 | (s[i] & 0x3fu);
	return c;
}

/* Right-to-left: the letters of Hebrew, Arabic and the other scripts of
 * U+0590..08FF (Syriac, Thaana, N'Ko...), their presentation forms, the
 * historic and Adlam blocks of the supplementary planes, and the marks
 * and embeddings that make text right-to-left (RLM, RLE, RLO). */
static int
is_rtl(unsigned c)
{
	return (c >= 0x0590 && c <= 0x08ff) || (c >= 0xfb1d && c <= 0xfdff) ||
	    (c >= 0xfe70 && c <= 0xfefc) || (c >= 0x10800 && c <= 0x10fff) ||
	    (c >= 0x1e800 && c <= 0x1efff) || c == 0x200f || c == 0x202b || c == 0x202e;
}

/* The isolates a feed string might carry itself (LRI, RLI, FSI, PDI):
 * one of its PDIs would end our isolate early. */
static int
is_isolate_control(unsigned c)
{
	return c >= 0x2066 && c <= 0x2069;
}

const char *
digest_isolated(const char *s, char *out, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = 0, k, start, end;
	int rtl = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	start = sizeof(FSI) - 1;
	end = start;
	/* room for FSI before, PDI and the NUL after */
	for (; *p != '\0' && end + 4 + sizeof(PDI) <= n; p += k) {
		unsigned c = code_point(p, &k);

		if (is_isolate_control(c))
			continue;
		rtl |= is_rtl(c);
		memcpy(out + end, p, k);
		end += k;
	}
	while (end > start && (out[end - 1] == ' ' || out[end - 1] == '\t'))
		end--;
	len = end - start;
	if (!rtl) {
		memmove(out, out + start, len);
		out[len] = '\0';
		return out;
	}
	memcpy(out, FSI, start);
	memcpy(out + end, PDI, sizeof(PDI));
	return out;
}

int
digest_html_isolates(struct buf *html)
{
	const char *s = buf_str(html), *p, *done = s, *pdi;
	struct buf out;
	int in_tag = 0, rc = 0;

	if (strstr(s, FSI) == NULL)
		return 0;
	buf_init(&out, html->max);
	for (p = s; *p != '\0' && rc == 0; p++) {
		if (*p == '<' || *p == '>') {
			in_tag = *p == '<';
			continue;
		}
		/* only a pair in one run of text: never inside a tag, never
		 * across elements (each string isolated is one line of text) */
		if (in_tag || strncmp(p, FSI, sizeof(FSI) - 1) != 0 ||
		    (pdi = memmem(p, strcspn(p, "<>"), PDI, sizeof(PDI) - 1)) == NULL)
			continue;
		rc = buf_append(&out, done, (size_t)(p - done)) | buf_puts(&out, "<bdi>") |
		    buf_append(&out, p + sizeof(FSI) - 1, (size_t)(pdi - p) - (sizeof(FSI) - 1)) |
		    buf_puts(&out, "</bdi>");
		done = pdi + sizeof(PDI) - 1;
		p = done - 1;
	}
	if (rc == 0)
		rc = buf_puts(&out, done);
	if (rc == 0) {
		buf_reset(html);
		rc = buf_append(html, buf_str(&out), out.len);
	}
	buf_free(&out);
	return rc ? -1 : 0;
}
