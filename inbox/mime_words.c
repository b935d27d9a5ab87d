/*
 * mime_words.c - header values to one line of UTF-8 (RFC 2047).
 *
 * libetpan finds and decodes each encoded word (mailmime_encoded_word_parse,
 * the tokenizer inside mailmime_encoded_phrase_parse).  The loop around it
 * is ours instead of mailmime_encoded_phrase_parse because, on this
 * platform, that function (1) converts each word on its own once a base64
 * word ends in padding, so a character split between two words becomes
 * "?"; (2) drops bytes a word's charset does not define, and reads unknown
 * charsets as ISO-8859-1; (3) converts unencoded 8-bit text from one fixed
 * charset.  Here words of one charset are joined before conversion, and
 * conversion goes through charset_to_utf8 with its fallbacks.
 *
 * libetpan also takes "=?utf-8?b?not base64 at all?=" for an encoded word
 * (white space inside one, which RFC 2047 forbids) and decodes it to
 * garbage.  A B-encoded word whose text is not base64 is shown as it was
 * written instead, as other mail readers do; a Q-encoded word with a space
 * in it is still decoded (broken mailers write those, and the decoding
 * cannot go far wrong).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/mailmime_decode.h>

#include "parse_internal.h"

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Converts the bytes of a run of encoded words and appends them. */
static int
flush_words(struct buf *out, const char *charset, struct buf *pending)
{
	char *u;
	size_t ulen;
	int r;

	if (pending->len == 0)
		return 0;
	u = charset_to_utf8(charset, pending->data, pending->len, &ulen);
	if (u == NULL)
		return -1;
	r = buf_append_clipped(out, u, ulen, NULL);
	free(u);
	buf_reset(pending);
	return r;
}

/* Removes control characters, C1 controls and invisible formatting
 * characters (zero-width, bidi embeddings and overrides, BOM) in place:
 * they have no business in a name or a subject and can disguise one. */
static void
strip_invisible(char *s)
{
	unsigned char *r = (unsigned char *)s, *w = (unsigned char *)s;

	while (*r) {
		unsigned cp = 0;
		size_t len = 1;

		if (r[0] == 0xc2 && r[1] >= 0x80 && r[1] <= 0x9f) {
			r += 2; /* U+0080..U+009F */
			continue;
		}
		if (r[0] == 0xe2 && r[1] != 0 && r[2] != 0) {
			cp = ((r[0] & 0x0fu) << 12) | ((r[1] & 0x3fu) << 6) | (r[2] & 0x3fu);
			len = 3;
		} else if (r[0] == 0xef && r[1] == 0xbb && r[2] == 0xbf) {
			r += 3; /* U+FEFF */
			continue;
		}
		if (len == 3 && ((cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029)) {
			r += 3;
			continue;
		}
		for (size_t i = 0; i < len; i++)
			*w++ = *r++;
	}
	*w = '\0';
}

/* 1 if the encoded word raw[0..n) (after any leading white space) is
 * B-encoded with anything but base64 in its text. */
static int
bad_base64_word(const char *raw, size_t n)
{
	const char *end = raw + n, *q = raw, *text;

	for (int marks = 0; q < end && marks < 3; q++)
		marks += *q == '?';
	/* q is past "=?charset?E?": E is q[-2] */
	if (q - raw < 4 || (q[-2] != 'b' && q[-2] != 'B'))
		return 0;
	for (text = q; text < end && !(text[0] == '?' && text + 1 < end && text[1] == '='); text++)
		if (!isalnum((unsigned char)*text) && *text != '+' && *text != '/' && *text != '=')
			return 1;
	return 0;
}

static int
decode_into(struct buf *out, const char *raw, size_t len)
{
	struct buf pending, word;
	char charset[64] = "";
	size_t i = 0;
	int last_was_word = 0, rc = -1;

	buf_init(&pending, HEADER_MAX_RAW);
	buf_init(&word, HEADER_MAX_RAW);
	while (i < len) {
		struct mailmime_encoded_word *w = NULL;
		size_t j = i, start;
		int has_fwd = 0, missing_quote = 0, r;

		r = mailmime_encoded_word_parse(raw, len, &j, &w, &has_fwd, &missing_quote);
		if (r == MAILIMF_ERROR_MEMORY)
			goto out;
		if (r == MAILIMF_NO_ERROR && j > i && bad_base64_word(raw + i, j - i)) {
			mailmime_encoded_word_free(w);
			w = NULL;
			r = MAILIMF_ERROR_PARSE;
		}
		if (r == MAILIMF_NO_ERROR && j > i) {
			const char *cs = w->wd_charset != NULL ? w->wd_charset : "";
			const char *text = w->wd_text != NULL ? w->wd_text : "";

			/* Only the white space between two encoded words goes. */
			if (!last_was_word || strcasecmp(cs, charset) != 0) {
				if (flush_words(out, charset, &pending) == -1 ||
				    (has_fwd && out->len > 0 && !last_was_word &&
					buf_append_clipped(out, " ", 1, NULL) == -1)) {
					mailmime_encoded_word_free(w);
					goto out;
				}
				snprintf(charset, sizeof(charset), "%s", cs);
			}
			r = buf_append_clipped(&pending, text, strlen(text), NULL);
			mailmime_encoded_word_free(w);
			if (r == -1)
				goto out;
			last_was_word = 1;
			i = j;
			continue;
		}
		if (w != NULL)
			mailmime_encoded_word_free(w);
		if (flush_words(out, charset, &pending) == -1)
			goto out;
		if (is_wsp(raw[i])) {
			while (i < len && is_wsp(raw[i]))
				i++;
			if (buf_append_clipped(out, " ", 1, NULL) == -1)
				goto out;
			continue;
		}
		/* Unencoded text up to the next space or possible encoded word. */
		start = i++;
		while (i < len && !is_wsp(raw[i]) && !(raw[i] == '=' && i + 1 < len && raw[i + 1] == '?'))
			i++;
		buf_reset(&word);
		if (utf8_repair_append(&word, raw + start, i - start) == -1 ||
		    buf_append_clipped(out, word.data, word.len, NULL) == -1)
			goto out;
		last_was_word = 0;
	}
	rc = flush_words(out, charset, &pending);
out:
	buf_free(&pending);
	buf_free(&word);
	return rc;
}

char *
mime_header_decode(const char *raw, size_t len, size_t max)
{
	struct buf out;
	char *s;

	if (len > HEADER_MAX_RAW)
		len = HEADER_MAX_RAW;
	/* Room for the squashing below to work on the whole decoded value. */
	buf_init(&out, HEADER_MAX_RAW * 3);
	if (decode_into(&out, raw, len) == -1) {
		buf_free(&out);
		return NULL;
	}
	s = buf_steal(&out);
	if (s == NULL)
		return NULL;
	str_squash_space(s);
	strip_invisible(s);
	str_squash_space(s);
	s[utf8_clip(s, strlen(s) < max ? strlen(s) : max)] = '\0';
	return s;
}

void
mime_unquote(char *s)
{
	size_t n = strlen(s), w = 0;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return;
	for (size_t r = 1; r < n - 1; r++) {
		if (s[r] == '\\' && r + 1 < n - 1)
			r++;
		s[w++] = s[r];
	}
	s[w] = '\0';
}
