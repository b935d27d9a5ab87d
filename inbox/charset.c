/*
 * charset.c - whatever a message says its charset is, UTF-8 out.
 *
 * charconv (libetpan, over iconv) does the conversions.  What it does not
 * do is tell us when the label was wrong: invalid bytes silently become
 * "?", and 8-bit bytes labelled us-ascii are mangled.  Mail in the wild is
 * often mislabelled (UTF-8 sent as us-ascii, Outlook's windows-1252 sent
 * as iso-8859-1), so the rule here is the one browsers and mail clients
 * follow: trust a label iconv knows when the bytes fit it; otherwise keep
 * what is valid UTF-8 and read every other byte as windows-1252 (util's
 * utf8_repair_append, which feeds use too).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/charconv.h>

#include "parse_internal.h"

size_t
utf8_clip(const char *s, size_t n)
{
	size_t j = n, len;
	unsigned c;

	while (j > 0 && n - j < 4 && ((unsigned char)s[j - 1] & 0xc0) == 0x80)
		j--;
	if (j == 0)
		return 0;
	c = (unsigned char)s[--j];
	len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	return j + len <= n ? n : j;
}

int
buf_append_clipped(struct buf *b, const char *s, size_t n, int *cut)
{
	size_t room = b->max > b->len ? b->max - b->len : 0;

	if (n > room) {
		n = utf8_clip(s, room);
		if (cut != NULL)
			*cut = 1;
	}
	return n == 0 ? 0 : buf_append(b, s, n);
}

/* Labels that say nothing reliable about 8-bit bytes. */
static int
label_is_vague(const char *cs)
{
	static const char *const vague[] = {
		"us-ascii", "ascii", "us_ascii", "ansi_x3.4-1968", "iso646-us", "utf-8", "utf8",
		"unknown-8bit", "x-unknown", "unknown", "default", "x-user-defined", "7bit", "8bit",
	};

	if (cs == NULL || *cs == '\0')
		return 1;
	for (size_t i = 0; i < sizeof(vague) / sizeof(vague[0]); i++)
		if (strcasecmp(cs, vague[i]) == 0)
			return 1;
	return 0;
}

/* Labels the WHATWG Encoding Standard maps to windows-1252. */
static int
label_is_latin1(const char *cs)
{
	static const char *const latin1[] = {
		"iso-8859-1", "iso8859-1", "iso_8859-1", "iso-ir-100", "latin1", "l1", "cp819",
		"ibm819", "csisolatin1", "windows-1252", "cp1252", "x-cp1252",
	};

	for (size_t i = 0; i < sizeof(latin1) / sizeof(latin1[0]); i++)
		if (strcasecmp(cs, latin1[i]) == 0)
			return 1;
	return 0;
}

size_t
count_byte(const char *s, size_t n, char c)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += s[i] == c;
	return k;
}

static char *
repaired(const char *in, size_t len, size_t *outlen)
{
	struct buf b;

	/* Each byte becomes at most three: the maximum cannot be reached. */
	buf_init(&b, len * 3 + 1);
	if (utf8_repair_append(&b, in, len) == -1) {
		buf_free(&b);
		return NULL;
	}
	if (outlen != NULL)
		*outlen = b.len;
	return buf_steal(&b);
}

/* What may reach iconv_open: a plain name, no "//IGNORE"-style suffix,
 * no path. */
static int
label_is_sane(const char *cs)
{
	size_t n = strlen(cs);

	if (n == 0 || n > 40)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((cs[i] >= '0' && cs[i] <= '9') || ((cs[i] | 0x20) >= 'a' && (cs[i] | 0x20) <= 'z') ||
		    strchr("-_.:+()", cs[i]) != NULL))
			return 0;
	return 1;
}

char *
charset_to_utf8(const char *charset, const char *in, size_t len, size_t *outlen)
{
	char *conv = NULL, *res;
	size_t convlen = 0;
	int r;

	if (label_is_vague(charset) || label_is_latin1(charset) || !label_is_sane(charset) ||
	    len == 0) {
		/* Latin-1 labels: every byte is invalid UTF-8 or ASCII in real
		 * Latin-1 text, so the repair path reads it as windows-1252. */
		return repaired(in, len, outlen);
	}
	r = charconv_buffer("utf-8", charset, in, len, &conv, &convlen);
	if (r == MAIL_CHARCONV_ERROR_MEMORY)
		return NULL;
	if (r != MAIL_CHARCONV_NO_ERROR)
		return repaired(in, len, outlen);
	/* charconv replaced bytes the charset does not define with "?". */
	if (count_byte(conv, convlen, '?') > count_byte(in, len, '?') ||
	    !str_valid_utf8(conv, convlen)) {
		charconv_buffer_free(conv);
		return repaired(in, len, outlen);
	}
	res = malloc(convlen + 1);
	if (res != NULL) {
		memcpy(res, conv, convlen);
		res[convlen] = '\0';
		if (outlen != NULL)
			*outlen = convlen;
	}
	charconv_buffer_free(conv);
	return res;
}
