/*
 * rfc2047.c - header fields that untrusted text cannot break.
 *
 * Hand-written because libetpan has no RFC 2047 encoder (it decodes only)
 * and its field writer folds by itself; see rfc2047.h.
 */
#include <string.h>

#include "rfc2047.h"

#define EW_OVERHEAD 12 /* "=?UTF-8?Q?" + "?=" */
#define FFFD "\xef\xbf\xbd"

/* --- cleaning ---------------------------------------------------------- */

size_t
rfc2047_utf8_len(const unsigned char *p, size_t n)
{
	size_t len;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	/* overlongs, surrogates, beyond U+10FFFF */
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
		return 0;
	return len;
}

/* 1 for what must not survive in a one-line header value: C0, DEL, C1
 * (NEL among them) and the Unicode line and paragraph separators. */
static int
is_line_breaker(const unsigned char *p, size_t len)
{
	if (len == 1)
		return p[0] < 0x20 || p[0] == 0x7f;
	if (len == 2)
		return p[0] == 0xc2 && p[1] < 0xa0;
	return len == 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9);
}

int
rfc2047_clean(struct buf *out, const char *text, size_t max)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t n = strlen(text), start = out->len, used = 0;
	int space = 0;

	while (n > 0) {
		size_t len = rfc2047_utf8_len(p, n);
		const char *put = (const char *)p;
		size_t putlen = len;

		if (len == 0) {
			put = FFFD, putlen = 3, len = 1;
		} else if (p[0] == ' ' || is_line_breaker(p, len)) {
			space = used > 0;
			p += len, n -= len;
			continue;
		}
		if (used + space + putlen > max)
			break;
		if ((space && buf_putc(out, ' ') == -1) || buf_append(out, put, putlen) == -1) {
			out->len = start;
			if (out->data)
				out->data[start] = '\0';
			return -1;
		}
		used += space + putlen;
		space = 0;
		p += len, n -= len;
	}
	return 0;
}

/* --- folding ----------------------------------------------------------- */

struct fold {
	struct buf *b;
	size_t col;      /* columns used on the current line */
	int has_token;   /* the current line holds a token after the name */
	int bad;         /* the buffer filled up */
};

static void
fold_begin(struct fold *f, struct buf *b, const char *name)
{
	f->b = b;
	f->bad = buf_puts(b, name) == -1 || buf_putc(b, ':') == -1;
	f->col = strlen(name) + 1;
	f->has_token = 0;
}

static void
fold_newline(struct fold *f)
{
	f->bad |= buf_puts(f->b, "\r\n") == -1;
	f->col = 0;
	f->has_token = 0;
}

/* Writes " tok", first starting a continuation line when tok would pass
 * the line limit and a fresh line gives it more room. */
static void
fold_token(struct fold *f, const char *tok, size_t len)
{
	if (f->col + 1 + len > RFC2047_LINE_MAX && (f->has_token || 1 + len <= RFC2047_LINE_MAX))
		fold_newline(f);
	f->bad |= buf_putc(f->b, ' ') == -1 || buf_append(f->b, tok, len) == -1;
	f->col += 1 + len;
	f->has_token = 1;
}

static int
fold_end(struct fold *f, struct err *e)
{
	f->bad |= buf_puts(f->b, "\r\n") == -1;
	return f->bad ? err_set(e, "message header too large") : 0;
}

/* --- encoded-words ----------------------------------------------------- */

/* Q encoding restricted to the characters RFC 2047 section 5(3) allows in
 * a phrase, so that the same words are valid in Subject and in From. */
static int
q_plain(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '!' || c == '*' || c == '+' || c == '-' || c == '/' || c == ' ';
}

static size_t
q_size(const unsigned char *p, size_t n)
{
	size_t size = 0;

	for (size_t i = 0; i < n; i++)
		size += q_plain(p[i]) ? 1 : 3;
	return size;
}

static size_t
b_size(size_t n)
{
	return (n + 2) / 3 * 4;
}

static void
q_write(struct buf *b, const unsigned char *p, size_t n, int *bad)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		char enc[3] = { '=', hex[p[i] >> 4], hex[p[i] & 15] };

		if (p[i] == ' ')
			*bad |= buf_putc(b, '_') == -1;
		else if (q_plain(p[i]))
			*bad |= buf_putc(b, (char)p[i]) == -1;
		else
			*bad |= buf_append(b, enc, 3) == -1;
	}
}

static void
b_write(struct buf *b, const unsigned char *p, size_t n, int *bad)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		char out[4];

		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[0] = b64[(v >> 18) & 63];
		out[1] = b64[(v >> 12) & 63];
		out[2] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[3] = i + 2 < n ? b64[v & 63] : '=';
		*bad |= buf_append(b, out, 4) == -1;
	}
}

/* Writes text (valid UTF-8, no controls: rfc2047_clean's output) as a run
 * of encoded-words.  Each word takes whole characters only and is sized to
 * the room left on its line, so no line passes 78 columns. */
static void
fold_encoded(struct fold *f, const char *text, size_t n)
{
	const unsigned char *p = (const unsigned char *)text;
	/* Q keeps mostly ASCII text readable: B only when clearly shorter */
	int use_b = b_size(n) * 5 < q_size(p, n) * 4;
	size_t pos = 0;

	while (pos < n) {
		size_t room, budget, take = 0, payload = 0;

		/* room for " =?UTF-8?X?...?=" on this line; a fresh line if it
		 * could not hold one 4-byte character in Q (12 columns) */
		room = f->col + 1 < RFC2047_LINE_MAX ? RFC2047_LINE_MAX - f->col - 1 : 0;
		if (room < EW_OVERHEAD + 12) {
			fold_newline(f);
			room = RFC2047_LINE_MAX - 1;
		}
		budget = (room < RFC2047_WORD_MAX ? room : RFC2047_WORD_MAX) - EW_OVERHEAD;
		while (pos + take < n) {
			size_t clen = rfc2047_utf8_len(p + pos + take, n - pos - take);
			size_t next;

			if (clen == 0)
				clen = 1; /* cannot happen after rfc2047_clean */
			next = use_b ? b_size(take + clen) : payload + q_size(p + pos + take, clen);
			if (next > budget)
				break;
			payload = next;
			take += clen;
		}
		f->bad |= buf_puts(f->b, use_b ? " =?UTF-8?B?" : " =?UTF-8?Q?") == -1;
		if (use_b)
			b_write(f->b, p + pos, take, &f->bad);
		else
			q_write(f->b, p + pos, take, &f->bad);
		f->bad |= buf_puts(f->b, "?=") == -1;
		f->col += 1 + EW_OVERHEAD + (use_b ? b_size(take) : payload);
		f->has_token = 1;
		pos += take;
	}
}

/* --- fields ------------------------------------------------------------ */

static int
is_ascii_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

int
rfc2047_unstructured(struct buf *out, const char *name, const char *value, struct err *e)
{
	struct buf clean;
	struct fold f;
	const char *s, *w;
	int plain;
	int rc;

	buf_init(&clean, RFC2047_TEXT_MAX + 1);
	if (rfc2047_clean(&clean, value ? value : "", RFC2047_TEXT_MAX) == -1) {
		buf_free(&clean);
		return err_set(e, "out of memory");
	}
	s = buf_str(&clean);
	plain = is_ascii_printable(s) && strstr(s, "=?") == NULL;
	/* plain words only if each one fits a line of its own */
	for (w = s; plain && *w; w += strcspn(w, " "), w += *w == ' ') {
		size_t len = strcspn(w, " ");

		if ((w == s ? strlen(name) + 2 : 1) + len > RFC2047_LINE_MAX)
			plain = 0;
	}
	fold_begin(&f, out, name);
	if (!plain) {
		fold_encoded(&f, s, clean.len);
	} else {
		for (w = s; *w; w += strcspn(w, " "), w += *w == ' ')
			fold_token(&f, w, strcspn(w, " "));
	}
	rc = fold_end(&f, e);
	buf_free(&clean);
	return rc;
}

int
rfc2047_angle_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p == 0x7f || strchr("<>()[],;:\\\"", *p) != NULL)
			return 0;
	return 1;
}

static int
is_atext(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static int
is_atom(const char *w, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_atext((unsigned char)w[i]))
			return 0;
	return 1;
}

static void
quoted_string(struct buf *q, const char *w, size_t len, int *bad)
{
	*bad |= buf_putc(q, '"') == -1;
	for (size_t i = 0; i < len; i++) {
		if (w[i] == '"' || w[i] == '\\')
			*bad |= buf_putc(q, '\\') == -1;
		*bad |= buf_putc(q, w[i]) == -1;
	}
	*bad |= buf_putc(q, '"') == -1;
}

/* Writes an ASCII phrase: atoms as they are; with specials, one
 * quoted-string when it fits the line, else word by word (a phrase is
 * words separated by white space, so "J. R." may go out as "J." "R." and
 * fold between them).  Returns 0, or 1 without writing anything when a
 * word cannot fit a line (the caller encodes instead). */
static int
fold_phrase_ascii(struct fold *f, const char *s, size_t n)
{
	struct buf words;
	size_t pos, nwords = 0;
	int bad = 0, rc = 0, atoms = 1;

	for (pos = 0; pos < n; pos += strcspn(s + pos, " "), pos += s[pos] == ' ')
		atoms &= is_atom(s + pos, strcspn(s + pos, " "));
	buf_init(&words, 4 * RFC2047_PHRASE_MAX + 64);
	if (!atoms) {
		quoted_string(&words, s, n, &bad);
		if (!bad && f->col + 1 + words.len <= RFC2047_LINE_MAX) {
			fold_token(f, words.data, words.len);
			goto out;
		}
		buf_reset(&words);
	}
	/* each word into one buffer, NUL-separated, checked before writing */
	for (pos = 0; pos < n;) {
		size_t len = strcspn(s + pos, " ");

		if (is_atom(s + pos, len))
			bad |= buf_append(&words, s + pos, len) == -1;
		else
			quoted_string(&words, s + pos, len, &bad);
		bad |= buf_putc(&words, '\0') == -1;
		nwords++;
		pos += len + (s[pos + len] == ' ');
	}
	if (bad) {
		f->bad = 1;
		goto out;
	}
	pos = 0;
	for (size_t i = 0; i < nwords; i++) {
		size_t len = strlen(words.data + pos);

		if ((i == 0 ? f->col + 1 : 1) + len > RFC2047_LINE_MAX) {
			rc = 1;
			goto out;
		}
		pos += len + 1;
	}
	for (pos = 0; nwords-- > 0;) {
		size_t len = strlen(words.data + pos);

		fold_token(f, words.data + pos, len);
		pos += len + 1;
	}
out:
	f->bad |= bad;
	buf_free(&words);
	return rc;
}

int
rfc2047_mailbox(struct buf *out, const char *name, const char *phrase, const char *angle,
    struct err *e)
{
	struct buf clean, tok;
	struct fold f;
	const char *s;
	int rc;

	if (!rfc2047_angle_ok(angle, ADDR_MAX + 64))
		return err_set(e, "%s: refusing to write '%.80s' as an address", name, angle);
	buf_init(&clean, RFC2047_PHRASE_MAX + 1);
	buf_init(&tok, ADDR_MAX + 64 + 3);
	if (rfc2047_clean(&clean, phrase ? phrase : "", RFC2047_PHRASE_MAX) == -1) {
		buf_free(&clean);
		return err_set(e, "out of memory");
	}
	s = buf_str(&clean);
	fold_begin(&f, out, name);
	if (clean.len > 0 && (!is_ascii_printable(s) || strstr(s, "=?") != NULL ||
	    fold_phrase_ascii(&f, s, clean.len) == 1))
		fold_encoded(&f, s, clean.len);
	f.bad |= buf_printf(&tok, "<%s>", angle) == -1;
	fold_token(&f, buf_str(&tok), tok.len);
	rc = fold_end(&f, e);
	buf_free(&clean);
	buf_free(&tok);
	return rc;
}

int
rfc2047_list(struct buf *out, const char *name, const char *const *items, size_t n,
    const char *sep, struct err *e)
{
	size_t seplen = strcspn(sep, " ");
	struct buf tok;
	struct fold f;
	int rc;

	buf_init(&tok, 4096);
	fold_begin(&f, out, name);
	for (size_t i = 0; i < n; i++) {
		if (str_has_ctl(items[i], 0)) {
			buf_free(&tok);
			return err_set(e, "%s: refusing a control character", name);
		}
		buf_reset(&tok);
		f.bad |= buf_puts(&tok, items[i]) == -1;
		/* the separator's visible part stays with its item; its space
		 * is where the line may fold */
		if (i + 1 < n)
			f.bad |= buf_append(&tok, sep, seplen) == -1;
		fold_token(&f, buf_str(&tok), tok.len);
	}
	rc = fold_end(&f, e);
	buf_free(&tok);
	return rc;
}
