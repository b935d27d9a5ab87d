/*
 * utf8.c - text that should be UTF-8 but is not quite, made UTF-8.
 *
 * Mail and blog feeds in the wild are often mislabelled or mixed: UTF-8
 * with a few windows-1252 bytes (a smart quote, an en dash pasted from a
 * word processor, text kept across a database migration).  The rule here is
 * the one browsers and mail clients follow: keep what is valid UTF-8 and
 * read every other byte as windows-1252.  iconv cannot do this: it works on
 * whole buffers in one encoding, and refuses the five bytes windows-1252
 * leaves undefined, so the table below is ours.
 */
#include "util.h"

/* Unicode code points of windows-1252 bytes 0x80..0x9f; 0 = undefined. */
static const unsigned short cp1252_high[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
};

/* UTF-8 of a code point below 0x10000 (all windows-1252 has). */
static size_t
utf8_encode(unsigned cp, char out[3])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	out[0] = (char)(0xe0 | (cp >> 12));
	out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[2] = (char)(0x80 | (cp & 0x3f));
	return 3;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if none. */
static size_t
utf8_seq_len(const unsigned char *p, size_t n)
{
	size_t len = p[0] < 0x80 ? 1 : p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;

	return len > 0 && len <= n && str_valid_utf8((const char *)p, len) ? len : 0;
}

int
utf8_repair_append(struct buf *b, const char *in, size_t len)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, run = 0;

	while (i < len) {
		size_t l = utf8_seq_len(p + i, len - i);
		char enc[3];
		unsigned cp;

		if (l > 0) {
			i += l;
			run += l;
			continue;
		}
		if (run > 0 && buf_append(b, p + i - run, run) == -1)
			return -1;
		run = 0;
		cp = p[i] >= 0xa0 ? p[i] : cp1252_high[p[i] - 0x80];
		if (cp == 0)
			cp = 0xfffd;
		if (buf_append(b, enc, utf8_encode(cp, enc)) == -1)
			return -1;
		i++;
	}
	if (run > 0 && buf_append(b, p + len - run, run) == -1)
		return -1;
	return 0;
}
