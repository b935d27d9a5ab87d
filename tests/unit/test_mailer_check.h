/*
 * test_mailer_check.h - checks shared by the mailer tests: a composed
 * message is read back with libetpan (the parser the inbox uses) and by a
 * strict scan of its header block.  Included by test_mailer_*.c only.
 */
#ifndef THINGS_TEST_MAILER_CHECK_H
#define THINGS_TEST_MAILER_CHECK_H

#include <libetpan/libetpan.h>
#include <stdlib.h>
#include <string.h>

#include "../../util/util.h"

#define CHECK_FIELDS_MAX 64

struct header_scan {
	char names[CHECK_FIELDS_MAX][64];
	size_t n;
	size_t header_len;   /* bytes up to and including the empty line */
};

/* Scans msg: every line ends in CRLF (no bare CR or LF anywhere), no NUL,
 * no line over 998 bytes, header lines within 78 columns; collects the
 * field names in order. */
static __attribute__((unused)) void
check_scan(const char *msg, size_t len, struct header_scan *hs)
{
	size_t line = 0, i;
	int in_header = 1;

	memset(hs, 0, sizeof(*hs));
	for (i = 0; i < len; i++) {
		assert_true(msg[i] != '\0');
		if (msg[i] == '\n')
			fail_msg("bare LF at offset %zu", i);
		if (msg[i] != '\r') {
			line++;
			continue;
		}
		assert_true(i + 1 < len && msg[i + 1] == '\n');
		assert_true(line <= 998);
		if (in_header) {
			const char *start = msg + i - line;

			if (line > 78)
				fail_msg("header line of %zu columns: %.*s", line, (int)line, start);
			if (line == 0) {
				in_header = 0;
				hs->header_len = i + 2;
			} else if (start[0] != ' ' && start[0] != '\t') {
				size_t nl = strcspn(start, ":");

				assert_true(nl < line && nl < 64);
				assert_true(hs->n < CHECK_FIELDS_MAX);
				memcpy(hs->names[hs->n], start, nl);
				hs->names[hs->n][nl] = '\0';
				hs->n++;
			}
		}
		line = 0;
		i++;
	}
	assert_int_equal(line, 0); /* ends with a line end */
	assert_false(in_header);
}

static __attribute__((unused)) size_t
check_count(const struct header_scan *hs, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < hs->n; i++)
		n += strcasecmp(hs->names[i], name) == 0;
	return n;
}

/* The unfolded value of the first field called name, or NULL (malloc'd). */
static __attribute__((unused)) char *
check_field(const char *msg, const char *name)
{
	size_t nl = strlen(name);
	const char *p = msg;
	struct buf v;

	while (*p && !(p[0] == '\r' && p[1] == '\n')) {
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			p += nl + 1;
			buf_init(&v, 0);
			while (*p) {
				if (p[0] == '\r' && p[1] == '\n' && p[2] != ' ' && p[2] != '\t')
					break;
				if (p[0] == '\r' && p[1] == '\n') {
					p += 2;
					continue;
				}
				assert_int_equal(buf_putc(&v, *p++), 0);
			}
			{
				char *s = buf_steal(&v), *t = s;

				while (*t == ' ')
					t++;
				memmove(s, t, strlen(t) + 1);
				return s;
			}
		}
		p = strstr(p, "\r\n");
		if (p == NULL)
			return NULL;
		p += 2;
	}
	return NULL;
}

/* Fails unless the unfolded value of field name is want (NULL: absent). */
static __attribute__((unused)) void
check_field_is(const char *msg, const char *name, const char *want)
{
	char *v = check_field(msg, name);

	if (want == NULL) {
		if (v != NULL)
			fail_msg("%s should be absent, is '%s'", name, v);
		return;
	}
	if (v == NULL)
		fail_msg("%s missing", name);
	if (strcmp(v, want) != 0)
		fail_msg("%s: '%s' != '%s'", name, v, want);
	free(v);
}

static __attribute__((unused)) char *
check_decode_part(struct mailmime *part, const char *subtype, int *encoding)
{
	struct mailmime_single_fields sf;
	struct mailmime_data *body = part->mm_data.mm_single;
	char *decoded = NULL, *out;
	size_t idx = 0, dlen = 0, w = 0;

	assert_int_equal(part->mm_type, MAILMIME_SINGLE);
	assert_string_equal(part->mm_content_type->ct_subtype, subtype);
	assert_int_equal(part->mm_content_type->ct_type->tp_data.tp_discrete_type->dt_type,
	    MAILMIME_DISCRETE_TYPE_TEXT);
	mailmime_single_fields_init(&sf, part->mm_mime_fields, part->mm_content_type);
	assert_non_null(sf.fld_content_charset);
	assert_string_equal(sf.fld_content_charset, "utf-8");
	assert_non_null(sf.fld_encoding);
	*encoding = sf.fld_encoding->enc_type;
	assert_true(*encoding == MAILMIME_MECHANISM_QUOTED_PRINTABLE ||
	    *encoding == MAILMIME_MECHANISM_BASE64);
	assert_int_equal(mailmime_part_parse(body->dt_data.dt_text.dt_data,
			     body->dt_data.dt_text.dt_length, &idx, *encoding, &decoded, &dlen),
	    MAILIMF_NO_ERROR);
	out = malloc(dlen + 1);
	assert_non_null(out);
	for (size_t i = 0; i < dlen; i++)
		if (decoded[i] != '\r')
			out[w++] = decoded[i];
	out[w] = '\0';
	mmap_string_unref(decoded);
	assert_true(str_valid_utf8(out, w));
	return out;
}

/* Parses msg with libetpan and checks its MIME structure: one
 * multipart/alternative, text/plain then text/html, both utf-8.  Returns
 * the decoded parts (CR removed, malloc'd) and their encodings. */
static __attribute__((unused)) void
check_alternative(const char *msg, size_t len, char **text, char **html, int *text_enc,
    int *html_enc)
{
	struct mailmime *mime = NULL, *root;
	clistiter *it;
	size_t idx = 0;

	assert_int_equal(mailmime_parse(msg, len, &idx, &mime), MAILIMF_NO_ERROR);
	assert_int_equal(mime->mm_type, MAILMIME_MESSAGE);
	root = mime->mm_data.mm_message.mm_msg_mime;
	assert_non_null(root);
	assert_int_equal(root->mm_type, MAILMIME_MULTIPLE);
	assert_string_equal(root->mm_content_type->ct_subtype, "alternative");
	assert_int_equal(clist_count(root->mm_data.mm_multipart.mm_mp_list), 2);
	it = clist_begin(root->mm_data.mm_multipart.mm_mp_list);
	*text = check_decode_part(clist_content(it), "plain", text_enc);
	*html = check_decode_part(clist_content(clist_next(it)), "html", html_enc);
	mailmime_free(mime);
}

/* Whether needle is in text, line wrapping aside (the text part is
 * wrapped at 72 columns wherever the words fall). */
static __attribute__((unused)) int
has(const char *text, const char *needle)
{
	char *t = strdup(text), *n = strdup(needle);
	int found;

	str_squash_space(t);
	str_squash_space(n);
	found = strstr(t, n) != NULL;
	free(t);
	free(n);
	return found;
}

#endif
