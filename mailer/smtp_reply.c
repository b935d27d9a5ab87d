/* smtp_reply.c - SMTP replies out of a byte stream (RFC 5321 4.2), and the
 * keywords of an EHLO reply.  Parsing only: what a reply means for a
 * message is smtp_dialogue.c's business. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "smtp_proto.h"

void
smtp_reader_reset(struct smtp_reader *r)
{
	r->len = 0;
	r->lines = 0;
	r->first_status[0] = '\0';
	r->cur.code = 0;
	r->cur.text[0] = '\0';
}

int
smtp_reader_idle(const struct smtp_reader *r)
{
	return r->len == 0 && r->lines == 0;
}

void
smtp_enhanced_status(const char *text, int code, char *out, size_t n)
{
	const char *p = text + 4;
	size_t len = 0;
	int dots = 0, digits = 0;

	out[0] = '\0';
	if (strlen(text) < 9 || (text[3] != ' ' && text[3] != '-') || p[0] - '0' != code / 100)
		return;
	for (; p[len] != '\0' && p[len] != ' '; len++) {
		if (p[len] == '.') {
			if (digits == 0)
				return;
			dots++;
			digits = 0;
		} else if (p[len] >= '0' && p[len] <= '9' && ++digits <= 3) {
			continue;
		} else {
			return;
		}
	}
	if (dots == 2 && digits > 0 && len < n)
		snprintf(out, n, "%.*s", (int)len, p);
}

/* Appends p[0..n) to the reply's text, control characters as spaces,
 * as much as fits. */
static void
text_append(struct smtp_reply *rep, const char *p, size_t n)
{
	size_t w = strlen(rep->text);

	for (size_t i = 0; i < n && w < STORE_REASON_MAX; i++)
		rep->text[w++] = ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) ? ' ' : p[i];
	rep->text[w] = '\0';
}

/* One complete line (without its line end) of the reply being read: 1 if
 * it was the last, 0 if more follow, -1 if it is not a reply line. */
static int
take_line(struct smtp_reader *r, struct err *e)
{
	const char *l = r->line;
	size_t n = r->len;
	int code, last;

	if (n < 3 || l[0] < '1' || l[0] > '5' || l[1] < '0' || l[1] > '9' || l[2] < '0' ||
	    l[2] > '9' || (n > 3 && l[3] != ' ' && l[3] != '-'))
		return err_set(e, "not an SMTP reply line: '%.40s'", l);
	code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	last = n == 3 || l[3] == ' ';
	if (r->lines >= SMTP_REPLY_LINES_MAX)
		return err_set(e, "SMTP reply of more than %d lines", SMTP_REPLY_LINES_MAX);
	if (r->lines == 0) {
		r->cur.code = code;
		r->cur.text[0] = '\0';
		text_append(&r->cur, l, 3);
		if (n > 4) {
			text_append(&r->cur, " ", 1);
			text_append(&r->cur, l + 4, n - 4);
		}
		smtp_enhanced_status(r->cur.text, code, r->first_status, sizeof(r->first_status));
	} else {
		size_t skip = 4, sl = strlen(r->first_status);

		if (code != r->cur.code)
			return err_set(e, "SMTP reply code changes within a reply (%d, then %d)",
			    r->cur.code, code);
		/* the later lines of "550-5.1.1 a\r\n550 5.1.1 b" repeat the status */
		if (sl > 0 && n >= skip + sl && memcmp(l + skip, r->first_status, sl) == 0 &&
		    (n == skip + sl || l[skip + sl] == ' '))
			skip += sl + 1;
		if (n > skip) {
			text_append(&r->cur, " ", 1);
			text_append(&r->cur, l + skip, n - skip);
		}
	}
	r->lines++;
	return last;
}

int
smtp_reader_feed(struct smtp_reader *r, const char *p, size_t n, size_t *used,
    struct smtp_reply *out, struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		int rc;

		if (p[i] != '\n') {
			if (r->len + 1 >= sizeof(r->line))
				return err_set(e, "SMTP reply line longer than %d bytes", SMTP_LINE_MAX);
			r->line[r->len++] = p[i];
			continue;
		}
		if (r->len > 0 && r->line[r->len - 1] == '\r')
			r->len--;
		r->line[r->len] = '\0';
		rc = take_line(r, e);
		r->len = 0;
		if (rc == -1)
			return -1;
		if (rc == 1) {
			*out = r->cur;
			r->lines = 0;
			r->first_status[0] = '\0';
			*used = i + 1;
			return 1;
		}
	}
	*used = n;
	return 0;
}

void
smtp_caps_line(struct smtp_caps *caps, const char *line, size_t len)
{
	static const struct {
		const char *word;
		unsigned flag;
	} known[] = {
		{ "PIPELINING", SMTP_CAP_PIPELINING },
		{ "SMTPUTF8", SMTP_CAP_SMTPUTF8 },
		{ "SIZE", SMTP_CAP_SIZE },
	};
	size_t w;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	if (len < 5 || line[0] != '2' || (line[3] != ' ' && line[3] != '-'))
		return;
	line += 4;
	len -= 4;
	for (w = 0; w < len && line[w] != ' '; w++)
		;
	for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
		if (strlen(known[k].word) != w || strncasecmp(line, known[k].word, w) != 0)
			continue;
		caps->flags |= known[k].flag;
		if (known[k].flag == SMTP_CAP_SIZE) {
			unsigned long long v = 0;

			/* "SIZE" alone or "SIZE 0": no limit announced */
			for (size_t i = w + 1; i < len && line[i] >= '0' && line[i] <= '9'; i++)
				v = v > 1000000000000ULL ? v : v * 10 + (unsigned)(line[i] - '0');
			caps->size_max = v;
		}
	}
}
