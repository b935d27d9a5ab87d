/*
 * mime_walk.c - from a parsed MIME tree to the text a person wrote.
 *
 * Which parts are read:
 *   multipart/alternative  the first alternative with text/plain that has
 *                          words in it, else the first with text/html
 *   multipart/related      its root (first) part only
 *   other multiparts       every part in order (mixed, report, signed, ...)
 *   text/plain, text/html  unless an attachment (disposition "attachment"
 *                          or a file name): then only the name is kept
 *   message/rfc822         not descended: a forwarded message says nothing
 *                          about what its forwarder wants
 *   message/delivery-status  parsed for the DSN fields
 *   in an abuse report (multipart/report; report-type=feedback-report):
 *   message/feedback-report, and the header of the original message
 *   (message/rfc822, text/rfc822-headers), for addresses with our token
 *   a multipart whose boundary is only in RFC 2231 form (boundary*0=...),
 *                          which libetpan does not split: its body is
 *                          parsed again under a plain boundary parameter
 * Depth and the number of parts looked at are capped (MIME_MAX_*).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse_internal.h"

#define DSN_MAX_BODY ((size_t)64 << 10)
/* Multiparts re-parsed for an RFC 2231 boundary: rare in real mail, so a
 * message gets two, on bodies of at most 8 MiB (each is a copy). */
#define REPARSE_MAX 2
#define REPARSE_MAX_BODY ((size_t)8 << 20)

struct walk {
	struct inbox_message *m;
	struct buf text;
	struct buf attach;
	size_t nattach;
	size_t parts;
	int truncated;
	int html;
	int dsn_done;
	int reparsed;
};

enum text_kind { TK_NONE, TK_PLAIN, TK_HTML };

/* "type/subtype" in lowercase; text/plain when the part has no type. */
static void
type_of(const struct mailmime *mm, char *out, size_t n)
{
	const struct mailmime_content *ct = mm->mm_content_type;
	const char *type = "text", *sub = "plain";

	if (ct != NULL && ct->ct_type != NULL) {
		sub = ct->ct_subtype != NULL ? ct->ct_subtype : "";
		if (ct->ct_type->tp_type == MAILMIME_TYPE_DISCRETE_TYPE &&
		    ct->ct_type->tp_data.tp_discrete_type != NULL) {
			static const char *const names[] = {
				"", "text", "image", "audio", "video", "application", "",
			};
			const struct mailmime_discrete_type *d = ct->ct_type->tp_data.tp_discrete_type;

			type = d->dt_type == MAILMIME_DISCRETE_TYPE_EXTENSION && d->dt_extension
			    ? d->dt_extension
			    : (d->dt_type >= 0 && d->dt_type <= 6 ? names[d->dt_type] : "");
		} else if (ct->ct_type->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE &&
		    ct->ct_type->tp_data.tp_composite_type != NULL) {
			const struct mailmime_composite_type *c = ct->ct_type->tp_data.tp_composite_type;

			type = c->ct_type == MAILMIME_COMPOSITE_TYPE_MESSAGE ? "message"
			    : c->ct_type == MAILMIME_COMPOSITE_TYPE_MULTIPART ? "multipart"
			    : c->ct_token != NULL ? c->ct_token : "";
		}
	}
	snprintf(out, n, "%s/%s", type, sub);
	str_lower(out);
}

static const struct mailmime_disposition *
disposition_of(const struct mailmime *mm)
{
	if (mm->mm_mime_fields == NULL || mm->mm_mime_fields->fld_list == NULL)
		return NULL;
	for (clistiter *it = clist_begin(mm->mm_mime_fields->fld_list); it; it = clist_next(it)) {
		const struct mailmime_field *f = clist_content(it);

		if (f != NULL && f->fld_type == MAILMIME_FIELD_DISPOSITION)
			return f->fld_data.fld_disposition;
	}
	return NULL;
}

/* The decoded file name of a part, NULL if it has none; -1 out of memory. */
static int
file_name(const struct mailmime *mm, char **out)
{
	struct mime_params p;
	char *raw = NULL;
	int r;

	*out = NULL;
	mime_params_of_disposition(disposition_of(mm), &p);
	r = mime_param_get(&p, "filename", &raw);
	if (r == 0) {
		mime_params_of_content(mm->mm_content_type, &p);
		r = mime_param_get(&p, "name", &raw);
	}
	if (r <= 0)
		return r;
	/* Outlook and Gmail put RFC 2047 words inside quoted file names. */
	*out = mime_header_decode(raw, strlen(raw), 255);
	free(raw);
	return *out == NULL ? -1 : 0;
}

static int
is_attachment(const struct mailmime *mm, const char *name)
{
	const struct mailmime_disposition *d = disposition_of(mm);

	return (name != NULL && name[0] != '\0') ||
	    (d != NULL && d->dsp_type != NULL &&
		d->dsp_type->dsp_type == MAILMIME_DISPOSITION_TYPE_ATTACHMENT);
}

static int
add_attachment(struct walk *w, const char *name)
{
	const char *p = buf_str(&w->attach);
	size_t nl = strlen(name);

	if (nl == 0 || w->nattach >= ATTACH_MAX_NAMES || w->attach.len + nl + 1 > ATTACH_MAX_BYTES)
		return 0;
	for (const char *q = p; (q = strstr(q, name)) != NULL; q++)
		if ((q == p || q[-1] == '\n') && (q[nl] == '\n' || q[nl] == '\0'))
			return 0;
	w->nattach++;
	if ((w->attach.len > 0 && buf_putc(&w->attach, '\n') == -1) ||
	    buf_append(&w->attach, name, nl) == -1)
		return -1;
	return 0;
}

int
mime_part_decode(const struct mailmime *part, size_t max, char **out, size_t *outlen)
{
	const struct mailmime_data *d = part->mm_type == MAILMIME_SINGLE ? part->mm_data.mm_single
									   : NULL;
	const char *src = "";
	size_t len = 0, idx = 0, rlen = 0;
	char *res = NULL;
	int r;

	if (d != NULL && d->dt_type == MAILMIME_DATA_TEXT && d->dt_data.dt_text.dt_data != NULL) {
		src = d->dt_data.dt_text.dt_data;
		len = d->dt_data.dt_text.dt_length < max ? d->dt_data.dt_text.dt_length : max;
	}
	r = mailmime_part_parse(src, len, &idx, d != NULL ? d->dt_encoding : MAILMIME_MECHANISM_8BIT,
	    &res, &rlen);
	if (r == MAILIMF_ERROR_MEMORY)
		return -1;
	if (r != MAILIMF_NO_ERROR || res == NULL) {
		res = NULL;
		rlen = 0;
	}
	*out = malloc(rlen + 1);
	if (*out != NULL) {
		if (rlen > 0)
			memcpy(*out, res, rlen);
		(*out)[rlen] = '\0';
		*outlen = rlen;
	}
	if (res != NULL)
		mmap_string_unref(res);
	return *out == NULL ? -1 : 0;
}

/* A parameter of the part's Content-Type, lowercase, trimmed; "" if none. */
static int
content_param(const struct mailmime *mm, const char *name, char *out, size_t n)
{
	struct mime_params p;
	char *v = NULL;
	int r;

	out[0] = '\0';
	mime_params_of_content(mm->mm_content_type, &p);
	r = mime_param_get(&p, name, &v);
	if (r <= 0)
		return r;
	str_squash_space(v);
	snprintf(out, n, "%s", v);
	str_lower(out);
	free(v);
	return 0;
}

/* Appends the text of one part: parts are a blank line apart, whatever
 * blank lines they start or end with. */
static int
append_part(struct walk *w, const char *s, size_t n)
{
	const char *nl;

	/* Leading blank lines go; leading spaces of a text line stay. */
	while ((nl = memchr(s, '\n', n)) != NULL && (size_t)(nl - s) <= strspn(s, " \t")) {
		n -= (size_t)(nl - s) + 1;
		s = nl + 1;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0)
		return 0;
	while (w->text.len > 0 && isspace((unsigned char)w->text.data[w->text.len - 1]))
		w->text.data[--w->text.len] = '\0';
	if (w->text.len > 0 && buf_append_clipped(&w->text, "\n\n", 2, &w->truncated) == -1)
		return -1;
	return buf_append_clipped(&w->text, s, n, &w->truncated);
}

static int
add_text(struct walk *w, const struct mailmime *mm, enum text_kind kind)
{
	char charset[64], format[16], delsp[8];
	char *raw = NULL, *utf8 = NULL, *flowed = NULL;
	size_t rawlen, ulen;
	struct buf clean;
	int rc = -1;

	buf_init(&clean, 1);
	if (content_param(mm, "charset", charset, sizeof(charset)) == -1 ||
	    content_param(mm, "format", format, sizeof(format)) == -1 ||
	    content_param(mm, "delsp", delsp, sizeof(delsp)) == -1 ||
	    mime_part_decode(mm, MIME_MAX_ENCODED_PART, &raw, &rawlen) == -1)
		goto out;
	utf8 = charset_to_utf8(charset, raw, rawlen, &ulen);
	if (utf8 == NULL)
		goto out;
	/* Line ends must be LF before format=flowed can see trailing spaces. */
	buf_init(&clean, MIME_MAX_ENCODED_PART * 3);
	if (kind == TK_HTML) {
		struct buf h;

		buf_init(&h, INBOX_MAX_TEXT);
		rc = html_to_text(utf8, ulen, &h);
		if (h.len + 4 >= h.max)
			w->truncated = 1; /* the converter stops when full */
		if (rc == 0)
			rc = text_clean_append(&clean, buf_str(&h), h.len, NULL);
		buf_free(&h);
		w->html = 1;
		if (rc == 0)
			rc = append_part(w, buf_str(&clean), clean.len);
		goto out;
	}
	if (text_clean_append(&clean, utf8, ulen, NULL) == -1)
		goto out;
	if (strcmp(format, "flowed") == 0) {
		flowed = text_unflow(buf_str(&clean), strcmp(delsp, "yes") == 0);
		if (flowed == NULL)
			goto out;
	}
	rc = append_part(w, flowed ? flowed : buf_str(&clean), flowed ? strlen(flowed) : clean.len);
out:
	buf_free(&clean);
	free(raw);
	free(utf8);
	free(flowed);
	return rc;
}

static int walk_node(struct walk *w, struct mailmime *mm, int depth);

/* RFC 2046 bchars, 1 to 70 of them, not ending in a space. */
static int
boundary_ok(const char *b)
{
	size_t n = strlen(b);

	if (n == 0 || n > 70 || b[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)b[i]) && strchr("'()+_,-./:=? ", b[i]) == NULL)
			return 0;
	return 1;
}

static int
walk_reparsed(struct walk *w, struct mailmime *mm, const char *type, int depth)
{
	const struct mailmime_data *d = mm->mm_data.mm_single;
	struct mailmime *tree = NULL;
	struct mime_params p;
	char *b = NULL, *raw = NULL;
	size_t hl, len, idx = 0;
	int r, rc = 0;

	if (w->reparsed >= REPARSE_MAX || d == NULL || d->dt_type != MAILMIME_DATA_TEXT ||
	    d->dt_data.dt_text.dt_length > REPARSE_MAX_BODY)
		return 0;
	mime_params_of_content(mm->mm_content_type, &p);
	if ((r = mime_param_get(&p, "boundary", &b)) <= 0)
		return r;
	if (!boundary_ok(b))
		goto out;
	w->reparsed++;
	len = d->dt_data.dt_text.dt_length;
	hl = strlen("Content-Type: ; boundary=\"\"\r\n\r\n") + strlen(type) + strlen(b);
	raw = malloc(hl + len + 1);
	if (raw == NULL) {
		rc = -1;
		goto out;
	}
	snprintf(raw, hl + 1, "Content-Type: %s; boundary=\"%s\"\r\n\r\n", type, b);
	memcpy(raw + hl, d->dt_data.dt_text.dt_data, len);
	raw[hl + len] = '\0';
	r = mailmime_parse(raw, hl + len, &idx, &tree);
	if (r == MAILIMF_ERROR_MEMORY)
		rc = -1;
	else if (r == MAILIMF_NO_ERROR && tree != NULL && tree->mm_type == MAILMIME_MESSAGE &&
	    tree->mm_data.mm_message.mm_msg_mime != NULL &&
	    tree->mm_data.mm_message.mm_msg_mime->mm_type == MAILMIME_MULTIPLE)
		rc = walk_node(w, tree->mm_data.mm_message.mm_msg_mime, depth + 1);
	if (tree != NULL)
		mailmime_free(tree);
out:
	free(raw);
	free(b);
	return rc;
}

static enum text_kind
text_kind_of(const struct mailmime *mm, const char *type)
{
	const struct mailmime_disposition *d = disposition_of(mm);

	if (d != NULL && d->dsp_type != NULL &&
	    d->dsp_type->dsp_type == MAILMIME_DISPOSITION_TYPE_ATTACHMENT)
		return TK_NONE;
	if (strcmp(type, "text/plain") == 0)
		return TK_PLAIN;
	if (strcmp(type, "text/html") == 0)
		return TK_HTML;
	return TK_NONE;
}

static int
walk_single(struct walk *w, struct mailmime *mm, int depth)
{
	char type[128], *name = NULL;
	enum text_kind kind;
	int rc = 0;

	type_of(mm, type, sizeof(type));
	if (strcmp(type, "message/delivery-status") == 0 ||
	    strcmp(type, "message/global-delivery-status") == 0) {
		char *body;
		size_t len;

		if (w->dsn_done)
			return 0; /* the first report counts */
		w->dsn_done = 1;
		if (mime_part_decode(mm, DSN_MAX_BODY, &body, &len) == -1)
			return -1;
		rc = mime_dsn_parse(body, len, w->m);
		free(body);
		return rc;
	}
	if (w->m->is_feedback_report && (strcmp(type, "message/feedback-report") == 0 ||
	    strcmp(type, "text/rfc822-headers") == 0)) {
		char *body;
		size_t len;

		if (mime_part_decode(mm, DSN_MAX_BODY, &body, &len) == -1)
			return -1;
		rc = mime_report_fields(body, len, type[0] == 'm', w->m);
		free(body);
		return rc;
	}
	if (strncmp(type, "multipart/", 10) == 0)
		return walk_reparsed(w, mm, type, depth);
	if (file_name(mm, &name) == -1)
		return -1;
	kind = text_kind_of(mm, type);
	if (is_attachment(mm, name))
		rc = name != NULL ? add_attachment(w, name) : 0;
	else if (kind != TK_NONE)
		rc = add_text(w, mm, kind);
	free(name);
	return rc;
}

/* Whether a subtree holds readable text of this kind. */
static int
holds(const struct mailmime *mm, enum text_kind kind, int depth)
{
	char type[128];

	if (depth > MIME_MAX_DEPTH)
		return 0;
	if (mm->mm_type == MAILMIME_SINGLE) {
		type_of(mm, type, sizeof(type));
		return text_kind_of(mm, type) == kind;
	}
	if (mm->mm_type != MAILMIME_MULTIPLE)
		return 0;
	for (clistiter *it = clist_begin(mm->mm_data.mm_multipart.mm_mp_list); it; it = clist_next(it))
		if (holds(clist_content(it), kind, depth + 1))
			return 1;
	return 0;
}

static int
has_words(const struct buf *b, size_t from)
{
	for (size_t i = from; i < b->len; i++)
		if (!isspace((unsigned char)b->data[i]))
			return 1;
	return 0;
}

static int
walk_alternative(struct walk *w, struct mailmime *mm, int depth)
{
	static const enum text_kind order[] = { TK_PLAIN, TK_HTML };

	for (size_t k = 0; k < 2; k++) {
		for (clistiter *it = clist_begin(mm->mm_data.mm_multipart.mm_mp_list); it;
		     it = clist_next(it)) {
			struct mailmime *c = clist_content(it);
			size_t before = w->text.len;

			if (!holds(c, order[k], depth + 1))
				continue;
			if (walk_node(w, c, depth + 1) == -1)
				return -1;
			if (has_words(&w->text, before))
				return 0;
			w->text.len = before; /* an empty alternative: try the next */
			if (w->text.data != NULL)
				w->text.data[before] = '\0';
		}
	}
	return 0;
}

static int
walk_multiple(struct walk *w, struct mailmime *mm, int depth)
{
	char type[128], report[64];

	type_of(mm, type, sizeof(type));
	if (strcmp(type, "multipart/alternative") == 0)
		return walk_alternative(w, mm, depth);
	if (strcmp(type, "multipart/report") == 0) {
		if (content_param(mm, "report-type", report, sizeof(report)) == -1)
			return -1;
		if (strcmp(report, "delivery-status") == 0)
			w->m->is_dsn = 1;
		else if (strcmp(report, "feedback-report") == 0)
			w->m->is_feedback_report = 1;
	}
	for (clistiter *it = clist_begin(mm->mm_data.mm_multipart.mm_mp_list); it; it = clist_next(it)) {
		if (walk_node(w, clist_content(it), depth + 1) == -1)
			return -1;
		if (strcmp(type, "multipart/related") == 0)
			break;
	}
	return 0;
}

static int
walk_node(struct walk *w, struct mailmime *mm, int depth)
{
	if (mm == NULL || depth > MIME_MAX_DEPTH || w->parts >= MIME_MAX_PARTS)
		return 0;
	w->parts++;
	switch (mm->mm_type) {
	case MAILMIME_SINGLE:
		return walk_single(w, mm, depth);
	case MAILMIME_MULTIPLE:
		return walk_multiple(w, mm, depth);
	default:
		/* message/rfc822: forwarded, not descended; in an abuse report,
		 * the original message, whose header names its recipient */
		return w->m->is_feedback_report ? mime_report_original(mm, w->m) : 0;
	}
}

static char *
trimmed(struct buf *b)
{
	size_t start = 0;
	char *s;

	while (b->len > 0 && isspace((unsigned char)b->data[b->len - 1]))
		b->data[--b->len] = '\0';
	while (start < b->len && (b->data[start] == '\n' || b->data[start] == ' '))
		start++;
	s = strdup(buf_str(b) + start);
	buf_free(b);
	return s;
}

int
mime_walk_body(struct mailmime *root, struct inbox_message *m)
{
	struct walk w = { .m = m };
	struct mailmime *body = root;
	char *text, *attach;
	int rc;

	buf_init(&w.text, INBOX_MAX_TEXT);
	buf_init(&w.attach, ATTACH_MAX_BYTES + 1);
	if (root != NULL && root->mm_type == MAILMIME_MESSAGE)
		body = root->mm_data.mm_message.mm_msg_mime;
	rc = walk_node(&w, body, 0);
	text = trimmed(&w.text);
	attach = buf_steal(&w.attach);
	buf_free(&w.attach);
	if (rc == -1 || text == NULL || attach == NULL) {
		free(text);
		free(attach);
		return -1;
	}
	free(m->text);
	m->text = text;
	free(m->attachments);
	m->attachments = attach;
	m->text_from_html = w.html;
	m->text_truncated = w.truncated;
	return 0;
}
