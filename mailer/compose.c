/*
 * compose.c - RFC 5322 header written by hand (rfc2047.c), then a
 * multipart/alternative body: text/plain and text/html, each in
 * quoted-printable (written here) or base64 (written by libetpan).
 *
 * libetpan does not RFC 2047-encode header fields and folds them its own
 * way, so the header, whose values come partly from participants, is ours.
 * Quoted-printable is ours too: libetpan's writer formats every escape
 * with snprintf, escapes every "F" and a dozen punctuation characters,
 * writes a space before a line end both raw and as "=20", and breaks lines
 * early; composing a 5 KB Thing through it took 50 us, a third of the cost
 * of sending one.  The writer below is one pass over the text with a table,
 * and the tests decode what it writes with libetpan.  Base64 (only for
 * text in non-Latin scripts, where it is shorter) stays libetpan's.
 */
#include <libetpan/libetpan.h>
#include <stdint.h>
#include <string.h>

#include "compose.h"
#include "rfc2047.h"

#define BOUNDARY_PREFIX "=_things_"  /* "=_" cannot occur in QP or base64 */
#define MSGID_MAX 250
#define URL_MAX 2048
#define QP_LINE 75                   /* characters before a soft line break's "=" */

/* --- bodies ------------------------------------------------------------ */

/* Bytes quoted-printable may write as they are: 1 anywhere on a line
 * (printable ASCII but "="), 2 (space and tab) but before a line end.
 * One table for both, as the scan for a run of them goes a byte at a time. */
static const unsigned char qp_literal[256] = {
	[' '] = 2, ['\t'] = 2,
	['!'] = 1, ['"'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['('] = 1, [')'] = 1, ['*'] = 1, ['+'] = 1, [','] = 1, ['-'] = 1, ['.'] = 1,
	['/'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, [':'] = 1, [';'] = 1, ['<'] = 1,
	['>'] = 1, ['?'] = 1, ['@'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1,
	['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1,
	['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1,
	['Z'] = 1, ['['] = 1, ['\\'] = 1, [']'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1,
	['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
	['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
	['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1, ['{'] = 1, ['|'] = 1,
	['}'] = 1, ['~'] = 1,
};

/* The quoted-printable writer: output goes through a chunk on the stack,
 * appended to the message when full. */
struct qp {
	struct buf *out;
	size_t col;          /* characters on the current encoded line */
	size_t n;
	int failed;
	char chunk[4096];
};

static void
qp_flush(struct qp *q)
{
	if (q->n > 0 && buf_append(q->out, q->chunk, q->n) == -1)
		q->failed = 1;
	q->n = 0;
}

static inline void
qp_put(struct qp *q, const char *p, size_t len)
{
	if (q->n + len > sizeof(q->chunk))
		qp_flush(q);
	memcpy(q->chunk + q->n, p, len);
	q->n += len;
}

/* Room for len more characters on the line, or a soft line break. */
static void
qp_room(struct qp *q, size_t len)
{
	if (q->col + len > QP_LINE) {
		qp_put(q, "=\r\n", 3);
		q->col = 0;
	}
}

static void
qp_escape(struct qp *q, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[3] = { '=', hex[c >> 4], hex[c & 15] };

	qp_room(q, 3);
	qp_put(q, e, 3);
	q->col += 3;
}

/* A run of literal characters (printable ASCII but "=", space, tab); "."
 * and "F" opening a line are escaped so that no relay can take the line
 * for an end of data or a "From " line. */
static void
qp_run(struct qp *q, const char *s, size_t len)
{
	while (len > 0) {
		size_t fit;

		qp_room(q, 1);
		if (q->col == 0 && (s[0] == '.' || s[0] == 'F')) {
			qp_escape(q, (unsigned char)s[0]);
			s++;
			len--;
			continue;
		}
		fit = QP_LINE - q->col < len ? QP_LINE - q->col : len;
		qp_put(q, s, fit);
		q->col += fit;
		s += fit;
		len -= fit;
	}
}

static int
qp_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* 1 if only NULs stand between i and a line end or the end of the text. */
static int
at_line_end(const unsigned char *p, size_t i, size_t n)
{
	while (i < n && p[i] == '\0')
		i++;
	return i == n || p[i] == '\r' || p[i] == '\n';
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* A byte of w below 0x20, DEL or "=" (or a false alarm after one, or
 * a byte above 0x7f: the caller looks at such words a byte at a time). */
static inline uint64_t
word_has_escape(uint64_t w)
{
	uint64_t del = w ^ (0x7f * ONES), eq = w ^ ('=' * ONES);

	return (w | ((w - 0x20 * ONES) & ~w) | ((del - ONES) & ~del) | ((eq - ONES) & ~eq)) &
	    HIGHS;
}

/* The end of the run of literal bytes (qp_literal) from i: eight at a time
 * while they are printable ASCII, the text of most Things. */
static size_t
literal_end(const unsigned char *p, size_t i, size_t n)
{
	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		if (word_has_escape(w))
			break;
	}
	while (i < n && qp_literal[p[i]])
		i++;
	return i;
}

/* Writes text in quoted-printable with CRLF line ends, normalised as
 * body_normalise does: white space before a line end dropped, NUL
 * dropped, invalid UTF-8 replaced by U+FFFD, a final line end added. */
static int
qp_write(struct buf *out, const char *text, size_t n)
{
	const unsigned char *p = (const unsigned char *)text;
	struct qp q = { .out = out };
	size_t i = 0;
	int line_open = 0, lines = 0;

	while (i < n) {
		unsigned char c = p[i];
		size_t j, end, len;

		if (qp_literal[c]) {
			end = j = literal_end(p, i + 1, n);
			if (at_line_end(p, j, n))
				while (end > i && qp_blank(p[end - 1]))
					end--;
			qp_run(&q, text + i, end - i);
			line_open |= end > i;
			i = j;
			continue;
		}
		if (c == '\r' || c == '\n') {
			qp_put(&q, "\r\n", 2);
			q.col = 0;
			line_open = 0;
			lines++;
			i += (c == '\r' && i + 1 < n && p[i + 1] == '\n') ? 2 : 1;
			continue;
		}
		i++;
		if (c == '\0')
			continue;
		line_open = 1;
		if (c < 0x80) {
			qp_escape(&q, c); /* "=", control characters, DEL */
			continue;
		}
		len = rfc2047_utf8_len(p + i - 1, n - i + 1);
		if (len == 0) {
			qp_escape(&q, 0xef);
			qp_escape(&q, 0xbf);
			qp_escape(&q, 0xbd);
			continue;
		}
		qp_escape(&q, c);
		for (size_t k = 1; k < len; k++)
			qp_escape(&q, p[i++]);
	}
	if (line_open || lines == 0) /* text ends with a line end, even an empty one */
		qp_put(&q, "\r\n", 2);
	qp_flush(&q);
	return q.failed ? -1 : 0;
}

/* Makes text safe for the base64 writer: LF line ends, no space or tab
 * before a line end, no NUL, valid UTF-8, a final line end (what
 * qp_write does on its way). */
static int
body_normalise(struct buf *out, const char *text, size_t n)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t i = 0, keep = 0; /* keep: out length without trailing blanks */

	buf_reset(out);
	while (i < n) {
		size_t len = p[i] < 0x80 ? 1 : rfc2047_utf8_len(p + i, n - i);

		if (p[i] == '\r' || p[i] == '\n') {
			out->len = keep;
			if (buf_putc(out, '\n') == -1)
				return -1;
			keep = out->len;
			i += (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') ? 2 : 1;
			continue;
		}
		if (p[i] == '\0') {
			i++;
			continue;
		}
		if (len == 0) {
			if (buf_append(out, "\xef\xbf\xbd", 3) == -1)
				return -1;
			len = 1;
		} else if (buf_append(out, p + i, len) == -1) {
			return -1;
		}
		if (p[i] != ' ' && p[i] != '\t')
			keep = out->len;
		i += len;
	}
	out->len = keep;
	if (out->len == 0 || out->data[out->len - 1] != '\n')
		return buf_putc(out, '\n');
	if (out->data)
		out->data[out->len] = '\0';
	return 0;
}

/* Quoted-printable or base64, whichever comes out shorter: QP keeps mostly
 * ASCII text readable, base64 is a third of the size of QP for scripts
 * that are all multi-byte.  1 for base64.  An estimate (QP escapes every
 * byte above 127 and every "="; control characters are too rare to
 * matter), counted a word at a time: it runs for every part sent. */
static int
body_wants_base64(const char *text, size_t n)
{
	const char *end = text + n, *eq;
	size_t escaped = 0, i = 0, qp, b64 = (n + 2) / 3 * 4;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, text + i, 8);
		if ((w & 0x8080808080808080ULL) == 0)
			continue; /* the usual case: eight ASCII bytes */
		for (size_t k = 0; k < 8; k++)
			escaped += (unsigned char)text[i + k] >= 0x80;
	}
	for (; i < n; i++)
		escaped += (unsigned char)text[i] >= 0x80;
	for (eq = memchr(text, '=', n); eq != NULL; eq = memchr(eq + 1, '=', (size_t)(end - eq - 1)))
		escaped++;
	qp = n + 2 * escaped;
	qp += qp / 72 * 3;   /* soft breaks "=\r\n" */
	b64 += b64 / 76 * 2; /* line ends */
	return b64 < qp;
}

/* libetpan's writer callback: like fwrite, 0 for a failure. */
static int
append_to_buf(void *arg, const char *p, size_t n)
{
	return buf_append(arg, p, n) == -1 ? 0 : (int)(n > 0 ? n : 1);
}

/* One part: its boundary line (the CRLF before it belongs to the
 * boundary, RFC 2046), its header, its encoded text. */
static int
body_part(struct buf *out, const char *boundary, const char *type, const char *text,
    size_t n, struct err *e)
{
	int b64 = body_wants_base64(text, n), col = 0;

	if (buf_printf(out, "\r\n--%s\r\nContent-Type: %s; charset=\"utf-8\"\r\n"
	    "Content-Transfer-Encoding: %s\r\n\r\n", boundary, type,
	    b64 ? "base64" : "quoted-printable") == -1)
		goto full;
	if (!b64)
		return qp_write(out, text, n) == -1 ? -1 : 0;
	{
		struct buf norm;
		int rc;

		buf_init(&norm, COMPOSE_MESSAGE_MAX);
		rc = body_normalise(&norm, text, n) == -1 ||
		    mailmime_base64_write_driver(append_to_buf, out, &col, norm.data,
			norm.len) != MAILIMF_NO_ERROR ? -1 : 0;
		buf_free(&norm);
		if (rc == 0)
			return 0;
	}
full:
	return err_set(e, "message larger than %zu bytes", out->max);
}

/* Writes the multipart/alternative body (the caller writes its
 * Content-Type) into out. */
static int
body_write(struct buf *out, const char *boundary, const struct compose_spec *s,
    struct err *e)
{
	if (body_part(out, boundary, "text/plain", s->text ? s->text : "",
		s->text ? s->text_len : 0, e) == -1 ||
	    body_part(out, boundary, "text/html", s->html ? s->html : "",
		s->html ? s->html_len : 0, e) == -1)
		return -1;
	if (buf_printf(out, "\r\n--%s--\r\n", boundary) == -1)
		return err_set(e, "message larger than %zu bytes", out->max);
	return 0;
}

/* --- header ------------------------------------------------------------ */

static int
nonempty(const char *s)
{
	return s != NULL && *s != '\0';
}

/* A URL for List-Unsubscribe / List-Help: the scheme asked for, then
 * nothing that could end the <...> item or the field. */
static int
url_ok(const char *url, const char *scheme)
{
	size_t n = strlen(url);

	if (n <= strlen(scheme) || n > URL_MAX || strncmp(url, scheme, strlen(scheme)) != 0)
		return 0;
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("<>,\"", *p) != NULL)
			return 0;
	return 1;
}

static int
header_simple(struct buf *out, const char *name, const char *value)
{
	return buf_printf(out, "%s: %s\r\n", name, value);
}

/* RFC 5322 ids are ASCII: 8-bit bytes would need SMTPUTF8. */
static int
ascii_only(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* Message-ID, In-Reply-To, References. */
static int
header_ids(struct buf *out, const struct compose_spec *s, struct err *e)
{
	char item[MSGID_MAX + 3];
	const char *items[1] = { item };

	if (!rfc2047_angle_ok(s->message_id, MSGID_MAX) || strchr(s->message_id, '@') == NULL)
		return err_set(e, "Message-ID '%.80s' is malformed", s->message_id);
	snprintf(item, sizeof(item), "<%s>", s->message_id);
	if (rfc2047_list(out, "Message-ID", items, 1, " ", e) == -1)
		return -1;
	/* the id of a participant's mail is theirs: a malformed one only
	 * costs the threading */
	if (!nonempty(s->in_reply_to))
		return 0;
	if (!rfc2047_angle_ok(s->in_reply_to, MSGID_MAX) || !ascii_only(s->in_reply_to)) {
		log_debug("not threading on malformed Message-ID '%.80s'", s->in_reply_to);
		return 0;
	}
	snprintf(item, sizeof(item), "<%s>", s->in_reply_to);
	if (rfc2047_list(out, "In-Reply-To", items, 1, " ", e) == -1 ||
	    rfc2047_list(out, "References", items, 1, " ", e) == -1)
		return -1;
	return 0;
}

/* "<url>" into item, once url is checked for the scheme and for anything
 * that could end the item or the field. */
static int
url_item(struct buf *item, const char *field, const char *url, const char *scheme,
    struct err *e)
{
	buf_reset(item);
	if (!url_ok(url, scheme))
		return err_set(e, "%s: bad %s URL '%.80s'", field, scheme, url);
	if (buf_printf(item, "<%s>", url) == -1)
		return err_set(e, "out of memory");
	return 0;
}

/* List-Id, List-Unsubscribe (+ one-click), List-Help: RFC 2919, 2369, 8058. */
static int
header_list(struct buf *out, const struct compose_spec *s, struct err *e)
{
	struct buf item[2];
	const char *items[2];
	size_t n = 0;
	int rc = -1;

	if (nonempty(s->list_id) && rfc2047_mailbox(out, "List-Id", s->list_name, s->list_id, e) == -1)
		return -1;
	buf_init(&item[0], URL_MAX + 3);
	buf_init(&item[1], URL_MAX + 3);
	if (nonempty(s->unsubscribe_mailto)) {
		if (url_item(&item[n], "List-Unsubscribe", s->unsubscribe_mailto, "mailto:", e) == -1)
			goto out;
		items[n] = buf_str(&item[n]);
		n++;
	}
	if (nonempty(s->unsubscribe_https)) {
		if (url_item(&item[n], "List-Unsubscribe", s->unsubscribe_https, "https://", e) == -1)
			goto out;
		items[n] = buf_str(&item[n]);
		n++;
	}
	if (n > 0 && rfc2047_list(out, "List-Unsubscribe", items, n, ", ", e) == -1)
		goto out;
	if (nonempty(s->unsubscribe_https) &&
	    header_simple(out, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click") == -1) {
		err_set(e, "message header too large");
		goto out;
	}
	if (nonempty(s->help_mailto)) {
		if (url_item(&item[0], "List-Help", s->help_mailto, "mailto:", e) == -1)
			goto out;
		items[0] = buf_str(&item[0]);
		if (rfc2047_list(out, "List-Help", items, 1, " ", e) == -1)
			goto out;
	}
	rc = 0;
out:
	buf_free(&item[0]);
	buf_free(&item[1]);
	return rc;
}

static int
header_write(struct buf *out, const struct compose_spec *s, const char *boundary,
    struct err *e)
{
	char date[64];

	time_format_rfc5322(s->date, date, sizeof(date));
	if (header_simple(out, "Date", date) == -1)
		return err_set(e, "message header too large");
	if (rfc2047_mailbox(out, "From", s->from_name, s->from_addr, e) == -1 ||
	    rfc2047_mailbox(out, "To", s->to_name, s->to_addr, e) == -1)
		return -1;
	if (nonempty(s->reply_to_addr) &&
	    rfc2047_mailbox(out, "Reply-To", s->reply_to_name, s->reply_to_addr, e) == -1)
		return -1;
	if (rfc2047_unstructured(out, "Subject", s->subject, e) == -1 ||
	    header_ids(out, s, e) == -1 || header_list(out, s, e) == -1)
		return -1;
	if ((s->bulk && header_simple(out, "Precedence", "bulk") == -1) ||
	    (s->auto_submitted == COMPOSE_AUTO_GENERATED &&
		header_simple(out, "Auto-Submitted", "auto-generated") == -1) ||
	    (s->auto_submitted == COMPOSE_AUTO_REPLIED &&
		header_simple(out, "Auto-Submitted", "auto-replied") == -1) ||
	    header_simple(out, "MIME-Version", "1.0") == -1 ||
	    buf_printf(out, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n",
		boundary) == -1)
		return err_set(e, "message header too large");
	return 0;
}

int
compose_message(const struct compose_spec *s, struct buf *out, struct err *e)
{
	char token[TOKEN_HEX_LEN + 1], boundary[sizeof(BOUNDARY_PREFIX) + TOKEN_HEX_LEN];

	buf_reset(out);
	if (!nonempty(s->from_addr) || !nonempty(s->to_addr) || !nonempty(s->message_id))
		return err_set(e, "compose: From, To and Message-ID are required");
	if (token_new(token, e) == -1)
		return -1;
	snprintf(boundary, sizeof(boundary), "%s%s", BOUNDARY_PREFIX, token);
	if (header_write(out, s, boundary, e) == -1 || body_write(out, boundary, s, e) == -1) {
		buf_reset(out);
		return -1;
	}
	return 0;
}
