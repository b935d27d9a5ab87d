/*
 * parse.c - inbox_parse: untrusted bytes to a struct inbox_message.
 *
 * libetpan parses (mailmime_parse for the tree, its header parser for the
 * fields); the other files of this group read the tree.  Before libetpan
 * sees a message, two things are checked here, because libetpan 1.9.4
 * cannot be trusted with arbitrary input:
 *
 *  - Its MIME parser recurses once per nested multipart or message/rfc822
 *    with no limit: 50,000 nested "Content-Type: message/rfc822" headers
 *    (1.5 MB) overflow the stack.  Nesting needs a "multipart" or "rfc822"
 *    token per level, so counting those tokens bounds the depth.
 *  - It allocates 40-50 bytes of tree per byte of input made of tiny
 *    parts or header fields (700 KB of "--b" parts: 35 MB).  Every part
 *    needs a line starting with "--" (about 350 bytes of tree each), every
 *    other element a separator (",", ";", "<", ":", "@": at most about 160
 *    bytes each), so counting them bounds the tree (to about 40 MB).
 * A message over either budget is "degraded": only its first 64 KiB of
 * header fields are read, and its text is "".
 *
 *  - mailmime_extract_boundary() does strncpy(len - 2) on a boundary whose
 *    unquoted value starts with a double quote, which for boundary="\""
 *    is a copy of SIZE_MAX bytes (a crash).  Such a value can only come
 *    from a quoted string starting with \", so in our copy of the input
 *    every `"\"` becomes `"\'`.
 *  - It parses a comment inside a comment by recursion, with no limit:
 *    200,000 nested "(" in one header field (200 KB) overflow the stack.
 *    A comment goes on only over folded lines, so its depth is counted per
 *    unfolded line, and in our copy a "(" deeper than
 *    GUARD_MAX_COMMENT_DEPTH becomes "[".
 * Those two are the only changes made to the bytes.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse_internal.h"

#define GUARD_MAX_COMPOSITE 64
#define GUARD_MAX_DASH_LINES 4096                 /* ~350 bytes of tree each */
#define GUARD_MAX_SEPARATORS ((size_t)256 << 10)  /* ~160 bytes each at most */
#define DEGRADED_HEADER_MAX ((size_t)64 << 10)
#define GUARD_MAX_COMMENT_DEPTH 64

/* The string fields of struct inbox_message, "" when absent. */
static const size_t string_fields[] = {
	offsetof(struct inbox_message, message_id),
	offsetof(struct inbox_message, from_addr),
	offsetof(struct inbox_message, from_name),
	offsetof(struct inbox_message, reply_to),
	offsetof(struct inbox_message, to_addrs),
	offsetof(struct inbox_message, subject),
	offsetof(struct inbox_message, in_reply_to),
	offsetof(struct inbox_message, text),
	offsetof(struct inbox_message, fresh_text),
	offsetof(struct inbox_message, attachments),
	offsetof(struct inbox_message, dsn_recipient),
	offsetof(struct inbox_message, dsn_original_recipient),
	offsetof(struct inbox_message, dsn_action),
	offsetof(struct inbox_message, dsn_status),
	offsetof(struct inbox_message, report_addrs),
};
#define NSTRINGS (sizeof(string_fields) / sizeof(string_fields[0]))

static char **
string_field(struct inbox_message *m, size_t i)
{
	return (char **)(void *)((char *)m + string_fields[i]);
}

void
inbox_message_free(struct inbox_message *m)
{
	for (size_t i = 0; i < NSTRINGS; i++)
		free(*string_field(m, i));
	for (size_t i = 0; i < m->nreferences && i < INBOX_MAX_REFS; i++)
		free(m->references[i]);
	for (size_t i = 0; i < m->nlinks && i < INBOX_MAX_LINKS; i++)
		free(m->links[i]);
	memset(m, 0, sizeof(*m));
}

static int
init_strings(struct inbox_message *m)
{
	for (size_t i = 0; i < NSTRINGS; i++)
		if ((*string_field(m, i) = strdup("")) == NULL)
			return -1;
	return 0;
}

static int
blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)s[i]))
			return 0;
	return 1;
}

/* 1 if libetpan can parse s without deep recursion or a huge tree. */
static int
tame(const char *s, size_t n)
{
	size_t composite = 0, separators = 0, dashes = 0;

	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case ',': case ';': case '<': case ':': case '@':
			separators++;
			break;
		case '-':
			dashes += i + 1 < n && s[i + 1] == '-' && (i == 0 || s[i - 1] == '\n');
			break;
		case 'm': case 'M':
			composite += n - i >= 9 && strncasecmp(s + i, "multipart", 9) == 0;
			break;
		case 'r': case 'R':
			composite += n - i >= 6 && strncasecmp(s + i, "rfc822", 6) == 0;
			break;
		default:
			break;
		}
	}
	return composite <= GUARD_MAX_COMPOSITE && dashes <= GUARD_MAX_DASH_LINES &&
	    separators <= GUARD_MAX_SEPARATORS;
}

static void
defuse_quotes(char *s, size_t n)
{
	for (size_t i = 0; i + 2 < n; i++)
		if (s[i] == '"' && s[i + 1] == '\\' && s[i + 2] == '"')
			s[i + 2] = '\'';
}

/* Quoted pairs and quoted strings are not told apart: they only make the
 * count higher, and the limit is far above any real comment. */
static void
defuse_comments(char *s, size_t n)
{
	size_t depth = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '(') {
			if (depth == GUARD_MAX_COMMENT_DEPTH)
				s[i] = '[';
			else
				depth++;
		} else if (s[i] == ')') {
			depth -= depth > 0;
		} else if (s[i] == '\n' && !(i + 1 < n && (s[i + 1] == ' ' || s[i + 1] == '\t'))) {
			depth = 0;
		}
	}
}

/* Length of the header block, at most max bytes, ending on a line. */
static size_t
header_length(const char *s, size_t n, size_t max)
{
	const char *p;

	if (n > max)
		n = max;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\n' && (i + 1 == n || s[i + 1] == '\n' ||
		    (s[i + 1] == '\r' && i + 2 < n && s[i + 2] == '\n')))
			return i + 1;
	p = memrchr(s, '\n', n);
	return p != NULL ? (size_t)(p - s) + 1 : n;
}

static int
parse_degraded(const char *s, size_t n, struct inbox_message *m)
{
	struct mailimf_fields *fields = NULL;
	size_t idx = 0;
	int r;

	m->mime_degraded = 1;
	r = mailimf_envelope_and_optional_fields_parse(s, header_length(s, n, DEGRADED_HEADER_MAX),
	    &idx, &fields);
	if (r == MAILIMF_ERROR_MEMORY)
		return -1;
	r = parse_headers(r == MAILIMF_NO_ERROR ? fields : NULL, m);
	if (fields != NULL)
		mailimf_fields_free(fields);
	return r;
}

static int
parse_mime(const char *s, size_t n, struct inbox_message *m)
{
	struct mailmime *mime = NULL;
	size_t idx = 0;
	int r;

	r = mailmime_parse(s, n, &idx, &mime);
	if (r == MAILIMF_ERROR_MEMORY)
		return -1;
	if (r != MAILIMF_NO_ERROR || mime == NULL)
		return parse_degraded(s, n, m);
	r = parse_headers(mime->mm_type == MAILMIME_MESSAGE ? mime->mm_data.mm_message.mm_fields
							    : NULL, m);
	if (r == 0)
		r = mime_walk_body(mime, m);
	mailmime_free(mime);
	return r;
}

int
inbox_parse(const char *raw, size_t len, struct inbox_message *out, struct err *e)
{
	enum fresh_cut cut;
	char *copy = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (len > INBOX_MAX_RAW)
		return err_set(e, "message of %zu bytes is over the %zu-byte limit", len,
		    INBOX_MAX_RAW);
	if (raw == NULL || blank(raw, len))
		return err_set(e, "empty message");
	if (init_strings(out) == -1)
		goto oom;
	out->size = len;
	/* Our own copy: libetpan's tree points into it, the defusing below
	 * changes it, and a NUL after it guards any read one byte too far. */
	copy = malloc(len + 1);
	if (copy == NULL)
		goto oom;
	memcpy(copy, raw, len);
	copy[len] = '\0';
	defuse_quotes(copy, len);
	defuse_comments(copy, len);
	r = tame(copy, len) ? parse_mime(copy, len, out) : parse_degraded(copy, len, out);
	free(copy);
	if (r == -1)
		goto oom;
	free(out->fresh_text);
	out->fresh_text = text_fresh(out->text, &cut);
	if (out->fresh_text == NULL || links_extract(out->fresh_text, out) == -1)
		goto oom;
	/* Outlook forwards like it replies, under a "Fwd:"/"WG:" subject */
	out->forwarded = cut == FRESH_CUT_FORWARD ||
	    (cut == FRESH_CUT_ORIGINAL && inbox_subject_forwarded(out->subject));
	return 0;
oom:
	inbox_message_free(out);
	return err_set(e, "out of memory parsing a message");
}
