/*
 * compose.c - RFC 5322 header written by hand (rfc2047.c), MIME body
 * written by libetpan.
 *
 * Division of labour: libetpan builds and writes the multipart/alternative
 * body (part headers, boundary lines, quoted-printable and base64), which
 * it does correctly once its input is normalised (see body_normalise).  It
 * does not RFC 2047-encode header fields and folds them its own way, so
 * the top-level header, whose values come partly from participants, is
 * ours.  libetpan writes a multipart without a parent as bare parts, so the
 * top-level Content-Type with our boundary is ours too.
 */
#include <libetpan/libetpan.h>
#include <string.h>

#include "compose.h"
#include "rfc2047.h"

#define BOUNDARY_PREFIX "=_things_"  /* "=_" cannot occur in QP or base64 */
#define MSGID_MAX 250
#define URL_MAX 2048

/* --- bodies ------------------------------------------------------------ */

/* Makes text safe to hand to libetpan's encoders: LF line ends, no space
 * or tab before a line end, no NUL, valid UTF-8, a final line end.
 * libetpan's quoted-printable writer emits a space before a line end both
 * raw and as "=20" (libetpan 1.9.4, mailmime_write_generic.c), doubling
 * it; trailing white space means nothing in text/plain or HTML, so it goes. */
static int
body_normalise(struct buf *out, const char *text, size_t n)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t i = 0, keep = 0; /* keep: out length without trailing blanks */

	buf_reset(out);
	while (i < n) {
		size_t len = rfc2047_utf8_len(p + i, n - i);

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

/* libetpan's QP writer encodes these besides non-printables; used only to
 * predict sizes. */
static int
qp_escaped(unsigned char c)
{
	return c >= 0x7f || (c < 0x20 && c != '\n') || strchr("!\"#$@[\\]^`{|}~=?_F", c) != NULL;
}

/* Quoted-printable or base64, whichever comes out shorter: QP keeps mostly
 * ASCII text readable, base64 is a third of the size of QP for scripts
 * that are all multi-byte. */
static int
body_encoding(const char *text, size_t n)
{
	size_t qp = 0, b64 = (n + 2) / 3 * 4;

	for (size_t i = 0; i < n; i++)
		qp += qp_escaped((unsigned char)text[i]) ? 3 : 1;
	qp += qp / 72 * 3;   /* soft breaks "=\r\n" */
	b64 += b64 / 76 * 2; /* line ends */
	return b64 < qp ? MAILMIME_MECHANISM_BASE64 : MAILMIME_MECHANISM_QUOTED_PRINTABLE;
}

/* A text part; borrows text until the tree is freed. */
static struct mailmime *
body_part(const char *type, const struct buf *text)
{
	struct mailmime_content *ct;
	struct mailmime_parameter *charset;
	struct mailmime_fields *fields;
	struct mailmime *part;

	ct = mailmime_content_new_with_str(type);
	if (ct == NULL)
		return NULL;
	charset = mailmime_param_new_with_data("charset", "utf-8");
	if (charset == NULL || clist_append(ct->ct_parameters, charset) < 0) {
		if (charset)
			mailmime_parameter_free(charset);
		mailmime_content_free(ct);
		return NULL;
	}
	fields = mailmime_fields_new_encoding(body_encoding(text->data, text->len));
	if (fields == NULL) {
		mailmime_content_free(ct);
		return NULL;
	}
	part = mailmime_new_empty(ct, fields);
	if (part == NULL) {
		mailmime_fields_free(fields);
		mailmime_content_free(ct);
		return NULL;
	}
	if (mailmime_set_body_text(part, text->data, text->len) != MAILIMF_NO_ERROR) {
		mailmime_free(part);
		return NULL;
	}
	return part;
}

static int
body_add(struct mailmime *root, const char *type, const struct buf *text)
{
	struct mailmime *part = body_part(type, text);

	if (part == NULL)
		return -1;
	if (mailmime_smart_add_part(root, part) != MAILIMF_NO_ERROR) {
		mailmime_free(part);
		return -1;
	}
	return 0;
}

/* Writes the multipart/alternative body (without its Content-Type, which
 * the caller writes) into out. */
static int
body_write(struct buf *out, const char *boundary, const struct buf *text,
    const struct buf *html, struct err *e)
{
	struct mailmime_content *ct;
	struct mailmime_parameter *bparam;
	struct mailmime_fields *fields = NULL;
	struct mailmime *root = NULL;
	MMAPString *mem = NULL;
	int col = 0, rc = -1;

	ct = mailmime_content_new_with_str("multipart/alternative");
	if (ct == NULL)
		return err_set(e, "out of memory");
	bparam = mailmime_param_new_with_data("boundary", (char *)boundary);
	if (bparam == NULL || clist_append(ct->ct_parameters, bparam) < 0) {
		if (bparam)
			mailmime_parameter_free(bparam);
		mailmime_content_free(ct);
		return err_set(e, "out of memory");
	}
	fields = mailmime_fields_new_empty();
	if (fields == NULL || (root = mailmime_new_empty(ct, fields)) == NULL) {
		if (fields)
			mailmime_fields_free(fields);
		mailmime_content_free(ct);
		return err_set(e, "out of memory");
	}
	if (body_add(root, "text/plain", text) == -1 || body_add(root, "text/html", html) == -1) {
		err_set(e, "out of memory building the MIME body");
		goto out;
	}
	mem = mmap_string_new("");
	if (mem == NULL || mailmime_write_mem(mem, &col, root) != MAILIMF_NO_ERROR) {
		err_set(e, "libetpan could not write the MIME body");
		goto out;
	}
	if (buf_append(out, mem->str, mem->len) == -1) {
		err_set(e, "message larger than %zu bytes", out->max);
		goto out;
	}
	rc = 0;
out:
	if (mem)
		mmap_string_free(mem);
	mailmime_free(root);
	return rc;
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
	if (!rfc2047_angle_ok(s->in_reply_to, MSGID_MAX)) {
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
	struct buf text, html;
	int rc = -1;

	buf_reset(out);
	if (!nonempty(s->from_addr) || !nonempty(s->to_addr) || !nonempty(s->message_id))
		return err_set(e, "compose: From, To and Message-ID are required");
	if (token_new(token, e) == -1)
		return -1;
	snprintf(boundary, sizeof(boundary), "%s%s", BOUNDARY_PREFIX, token);
	buf_init(&text, COMPOSE_MESSAGE_MAX);
	buf_init(&html, COMPOSE_MESSAGE_MAX);
	if (body_normalise(&text, s->text ? s->text : "", s->text ? s->text_len : 0) == -1 ||
	    body_normalise(&html, s->html ? s->html : "", s->html ? s->html_len : 0) == -1) {
		err_set(e, "message body larger than %zu bytes", (size_t)COMPOSE_MESSAGE_MAX);
		goto out;
	}
	if (header_write(out, s, boundary, e) == -1 || body_write(out, boundary, &text, &html, e) == -1)
		goto out;
	rc = 0;
out:
	buf_free(&text);
	buf_free(&html);
	if (rc == -1)
		buf_reset(out);
	return rc;
}
