/*
 * template.c - messages from templates: content_prepare renders a template
 * once (cmark), content_personalise fills in what differs per recipient.
 *
 * A placeholder left for content_personalise does not stay "{{name}}" in
 * the prepared message: it becomes U+E000 name U+E001 (private-use code
 * points, which no value can bring in: they are replaced in every input).
 * So text that merely looks like "{{x}}" in a value, say a feed title in a
 * digest, can never be taken for a placeholder.  cmark percent-encodes the
 * marker inside a link destination ("%EE%80%80name%EE%80%81", as it would
 * "{{name}}" as "%7B%7Bname%7D%7D"); render.c turns that back into the
 * marker, and content_personalise sees from the surrounding href="..."
 * that the value goes into a URL and encodes it as one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "content_int.h"

#define SUBJECT_MAX 4096
#define TEXT_MAX ((size_t)4 << 20)
#define HTML_MAX ((size_t)8 << 20)

/* --- placeholders -------------------------------------------------------- */

static size_t
name_at(const char *s, size_t avail)
{
	size_t n = 0;

	if (avail == 0 || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	while (n < avail && ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') ||
	    s[n] == '_'))
		n++;
	return s[n - 1] == '_' ? 0 : n;
}

size_t
placeholder_at(const char *s, size_t avail, const char **name, size_t *namelen)
{
	size_t n;

	if (avail < 5 || s[0] != '{' || s[1] != '{')
		return 0;
	n = name_at(s + 2, avail - 2);
	if (n == 0 || n + 4 > avail || s[n + 2] != '}' || s[n + 3] != '}')
		return 0;
	*name = s + 2;
	*namelen = n;
	return n + 4;
}

int
backslashed(const char *s, size_t i)
{
	size_t n = 0;

	while (n < i && s[i - n - 1] == '\\')
		n++;
	return n % 2;
}

size_t
marker_at(const char *s, size_t avail, const char **name, size_t *namelen)
{
	const char *end;

	if (avail < 3 || memcmp(s, PH_OPEN, 3) != 0)
		return 0;
	end = memmem(s + 3, avail - 3, PH_CLOSE, 3);
	if (end == NULL || end == s + 3 || (size_t)(end - s - 3) != name_at(s + 3, avail - 3))
		return 0;
	*name = s + 3;
	*namelen = (size_t)(end - s - 3);
	return (size_t)(end - s) + 3;
}

static int
put_marker(struct buf *out, const char *name, size_t n)
{
	return buf_puts(out, PH_OPEN) | buf_append(out, name, n) | buf_puts(out, PH_CLOSE);
}

const struct tvar *
tvar_find(const struct tvar *vars, size_t nvars, const char *name, size_t n)
{
	for (size_t i = 0; i < nvars; i++)
		if (vars[i].value && strlen(vars[i].name) == n && memcmp(vars[i].name, name, n) == 0)
			return &vars[i];
	return NULL;
}

int
append_clean(struct buf *out, const char *s, size_t n, enum clean ctl)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int rc;

		if (c == 0xee && n - i >= 3 && (memcmp(s + i, PH_OPEN, 3) == 0 ||
		    memcmp(s + i, PH_CLOSE, 3) == 0)) {
			rc = buf_puts(out, REPLACEMENT);
			i += 2;
		} else if (c >= 0x20 && c != 0x7f) {
			rc = buf_putc(out, (char)c);
		} else if (ctl == CLEAN_CTL_KEEP || (c == '\n' && ctl != CLEAN_CTL_TO_SPACE) ||
		    (c == '\t' && ctl == CLEAN_CTL_DROP)) {
			rc = buf_putc(out, (char)c);
		} else if (ctl == CLEAN_CTL_DROP) {
			rc = 0;
		} else {
			rc = buf_putc(out, ' ');
		}
		if (rc == -1)
			return -1;
	}
	return 0;
}

/* --- sections: {{#x}}...{{/x}} and {{^x}}...{{/x}} ------------------------ */

/* A section marker "{{#name}}", "{{^name}}" or "{{/name}}" at s: its length,
 * kind ('#', '^', '/') and name. */
size_t
section_marker_at(const char *s, size_t avail, char *kind, const char **name, size_t *namelen)
{
	size_t n;

	if (avail < 6 || s[0] != '{' || s[1] != '{' || !strchr("#^/", s[2]) || s[2] == '\0')
		return 0;
	n = name_at(s + 3, avail - 3);
	if (n == 0 || n + 5 > avail || s[n + 3] != '}' || s[n + 4] != '}')
		return 0;
	*kind = s[2];
	*name = s + 3;
	*namelen = n;
	return n + 5;
}

/* Widens [*from, *to) to whole lines when the marker is alone on its line. */
static void
standalone(const char *text, size_t len, size_t *from, size_t *to)
{
	size_t a = *from, b = *to;

	while (a > 0 && (text[a - 1] == ' ' || text[a - 1] == '\t'))
		a--;
	if (a > 0 && text[a - 1] != '\n')
		return;
	while (b < len && (text[b] == ' ' || text[b] == '\t' || text[b] == '\r'))
		b++;
	if (b < len && text[b] != '\n')
		return;
	*from = a;
	*to = b < len ? b + 1 : b;
}

int
sections_resolve(const char *text, size_t len, const struct tvar *vars, size_t nvars,
    struct buf *out, int *line, struct err *e)
{
	size_t i = 0, copied = 0;

	while (i < len) {
		const char *name, *cname;
		size_t n, cn, m, open_from, open_to, close_from = 0, close_to = 0;
		char kind, ckind;
		const struct tvar *v;
		int keep;

		m = section_marker_at(text + i, len - i, &kind, &name, &n);
		if (m == 0) {
			i++;
			continue;
		}
		*line = 1;
		for (size_t k = 0; k < i; k++)
			*line += text[k] == '\n';
		if (kind == '/')
			return err_set(e, "{{/%.*s}} closes no section", (int)n, name);
		open_from = i;
		open_to = i + m;
		for (size_t j = open_to; j < len; j++) {
			size_t cm = section_marker_at(text + j, len - j, &ckind, &cname, &cn);

			if (cm == 0)
				continue;
			if (ckind != '/')
				return err_set(e, "sections cannot be nested");
			if (cn != n || memcmp(cname, name, n) != 0)
				return err_set(e, "{{%c%.*s}} is closed by {{/%.*s}}", kind, (int)n,
				    name, (int)cn, cname);
			close_from = j;
			close_to = j + cm;
			break;
		}
		if (close_to == 0)
			return err_set(e, "{{%c%.*s}} is never closed", kind, (int)n, name);
		v = tvar_find(vars, nvars, name, n);
		if (v == NULL)
			return err_set(e, "the section {{%c%.*s}} needs '%.*s' at content_prepare",
			    kind, (int)n, name, (int)n, name);
		keep = (v->value[0] != '\0') == (kind == '#');
		standalone(text, len, &open_from, &open_to);
		standalone(text, len, &close_from, &close_to);
		if (out && (buf_append(out, text + copied, open_from - copied) == -1 ||
		    (keep && buf_append(out, text + open_to, close_from - open_to) == -1)))
			return err_set(e, "template too large");
		i = copied = close_to;
	}
	*line = 0;
	if (out && buf_append(out, text + copied, len - copied) == -1)
		return err_set(e, "template too large");
	return 0;
}

/* --- the template's shape ------------------------------------------------ */

int
template_split(const char *text, const char **subject, size_t *subject_len,
    const char **body, int *line, struct err *e)
{
	const char *nl = strchr(text, '\n'), *s = text + 8;
	size_t n;

	*line = 1;
	if (strncasecmp(text, "Subject:", 8) != 0 || nl == NULL)
		return err_set(e, "the first line must be 'Subject: ...'");
	n = (size_t)(nl - s);
	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	if (n == 0)
		return err_set(e, "the subject is empty");
	*line = 2;
	if (nl[1] != '\n' && !(nl[1] == '\r' && nl[2] == '\n'))
		return err_set(e, "the subject must be followed by a blank line");
	*subject = s;
	*subject_len = n;
	*body = nl + (nl[1] == '\r' ? 3 : 2);
	*line = 0;
	return 0;
}

/* --- content_prepare ----------------------------------------------------- */

/* Substitutes the variables given now into Markdown src; the others
 * become markers.  A markdown=1 value is itself scanned once (a Thing's
 * body may use {{name}}), without going deeper. */
static int
substitute_markdown(struct buf *out, const char *src, size_t len, const struct tvar *vars,
    size_t nvars, int depth)
{
	size_t i = 0, copied = 0;

	while (i < len) {
		const char *name;
		size_t n, m = placeholder_at(src + i, len - i, &name, &n);
		const struct tvar *v;
		int rc;

		if (m == 0 || backslashed(src, i)) {
			i++;
			continue;
		}
		if (append_clean(out, src + copied, i - copied, CLEAN_CTL_KEEP) == -1)
			return -1;
		v = tvar_find(vars, nvars, name, n);
		if (v == NULL || (v->markdown && depth > 0))
			rc = put_marker(out, name, n);
		else if (v->markdown)
			rc = substitute_markdown(out, v->value, strlen(v->value), vars, nvars, 1);
		else
			rc = content_markdown_escape(out, v->value);
		if (rc == -1)
			return -1;
		i = copied = i + m;
	}
	return append_clean(out, src + copied, len - copied, CLEAN_CTL_KEEP);
}

static int
substitute_subject(struct buf *out, const char *src, size_t len, const struct tvar *vars,
    size_t nvars)
{
	size_t i = 0, copied = 0;

	while (i < len) {
		const char *name;
		size_t n, m = placeholder_at(src + i, len - i, &name, &n);
		const struct tvar *v;

		if (m == 0) {
			i++;
			continue;
		}
		v = tvar_find(vars, nvars, name, n);
		if (append_clean(out, src + copied, i - copied, CLEAN_CTL_TO_SPACE) == -1 ||
		    (v ? append_clean(out, v->value, strlen(v->value), CLEAN_CTL_TO_SPACE)
		       : put_marker(out, name, n)) == -1)
			return -1;
		i = copied = i + m;
	}
	return append_clean(out, src + copied, len - copied, CLEAN_CTL_TO_SPACE);
}

static const char *
template_text(const struct programme *p, const struct template_kind *k)
{
	for (size_t i = 0; p && i < p->ntemplates; i++)
		if (p->templates[i].kind == k)
			return p->templates[i].text;
	return k->text;
}

void
content_message_init(struct content_message *m)
{
	buf_init(&m->subject, SUBJECT_MAX);
	buf_init(&m->text, TEXT_MAX);
	buf_init(&m->html, HTML_MAX);
}

void
content_message_free(struct content_message *m)
{
	buf_free(&m->subject);
	buf_free(&m->text);
	buf_free(&m->html);
}

static void
message_reset(struct content_message *m)
{
	buf_reset(&m->subject);
	buf_reset(&m->text);
	buf_reset(&m->html);
}

int
content_prepare(const struct programme *p, const char *name, const struct tvar *vars,
    size_t nvars, struct content_message *out, struct err *e)
{
	const struct template_kind *k = template_kind_find(name);
	const char *subject, *body;
	size_t subject_len;
	struct buf text, md;
	int line, raw = p ? p->cfg.allow_raw_html : 0, rc = -1;
	char *subj;

	message_reset(out);
	if (k == NULL)
		return err_set(e, "no template '%s'", name);
	buf_init(&text, TEXT_MAX);
	buf_init(&md, TEXT_MAX);
	if (sections_resolve(template_text(p, k), strlen(template_text(p, k)), vars, nvars,
	    &text, &line, e) == -1 ||
	    template_split(buf_str(&text), &subject, &subject_len, &body, &line, e) == -1) {
		err_prefix(e, "template %s", name);
		goto out;
	}
	if (substitute_subject(&out->subject, subject, subject_len, vars, nvars) == -1 ||
	    substitute_markdown(&md, body, strlen(body), vars, nvars, 0) == -1) {
		err_set(e, "template %s: the message is too large", name);
		goto out;
	}
	subj = out->subject.data;
	if (subj) {
		str_squash_space(subj);
		out->subject.len = strlen(subj);
	}
	if (render_html_document(buf_str(&md), md.len, buf_str(&out->subject), raw, &out->html,
	    e) == -1 ||
	    render_text(buf_str(&md), md.len, &out->text, e) == -1) {
		err_prefix(e, "template %s", name);
		goto out;
	}
	rc = 0;
out:
	buf_free(&text);
	buf_free(&md);
	if (rc == -1)
		message_reset(out);
	return rc;
}

/* --- content_personalise ------------------------------------------------- */

enum html_place { IN_TEXT, IN_ATTRIBUTE, IN_URL, AT_URL_START };

/* Where in the HTML (made by cmark and us, so attributes are always
 * double-quoted and a quote inside one is &quot;) the marker at pos is. */
static enum html_place
html_place(const char *html, size_t pos)
{
	size_t lt = pos, gt = pos, quotes = 0, q = pos;

	while (lt > 0 && html[lt - 1] != '<')
		lt--;
	while (gt > 0 && html[gt - 1] != '>')
		gt--;
	if (lt == 0 || gt > lt)
		return strncmp(html + (lt ? lt - 1 : 0), "<title>", 7) == 0 ? IN_ATTRIBUTE : IN_TEXT;
	for (size_t i = lt; i < pos; i++)
		if (html[i] == '"')
			quotes++, q = i;
	if (quotes % 2 == 0 || q < 5)
		return IN_ATTRIBUTE;
	if (strncmp(html + q - 5, "href=", 5) == 0 || strncmp(html + q - 4, "src=", 4) == 0)
		return q + 1 == pos ? AT_URL_START : IN_URL;
	return IN_ATTRIBUTE;
}

/* Percent-encodes what may not stand in a URL, as cmark does for link
 * destinations, then escapes it for the attribute. */
static int
append_url(struct buf *out, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		int rc;

		if (*p == '&')
			rc = buf_puts(out, "&amp;");
		else if (*p == '\'')
			rc = buf_puts(out, "&#39;");
		else if (*p < 0x80 && (((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-_.~!*();:@=+$,/?#%[]", *p)))
			rc = buf_putc(out, (char)*p);
		else
			rc = buf_printf(out, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
		if (rc == -1)
			return -1;
	}
	return 0;
}

static int
append_html_value(struct buf *out, const char *v, enum html_place place)
{
	const char *p = v;

	if (place == AT_URL_START && url_is_dangerous(v, strlen(v)))
		return 0; /* what cmark does with a javascript: link */
	if (place == IN_URL || place == AT_URL_START)
		return append_url(out, v);
	for (;;) {
		size_t n = strcspn(p, "\r\n");

		if (html_escape(out, p, n) == -1)
			return -1;
		p += n;
		if (*p == '\0')
			return 0;
		if (buf_puts(out, place == IN_TEXT ? "<br />\n" : " ") == -1)
			return -1;
		p += (p[0] == '\r' && p[1] == '\n') ? 2 : 1;
	}
}

enum part { PART_SUBJECT, PART_TEXT, PART_FLOW, PART_HTML };

/* Replaces the markers of src[0..len) with the values of vars.  html is
 * the whole HTML part when part is PART_HTML (to see where a marker is). */
static int
fill_markers(struct buf *out, const char *src, size_t len, const struct tvar *vars,
    size_t nvars, enum part part, struct err *e)
{
	size_t i = 0, copied = 0;

	while (i < len) {
		const char *name;
		size_t n, m = marker_at(src + i, len - i, &name, &n);
		const struct tvar *v;
		int rc;

		if (m == 0) {
			i++;
			continue;
		}
		v = tvar_find(vars, nvars, name, n);
		if (v == NULL)
			return err_set(e, "placeholder {{%.*s}} has no value", (int)n, name);
		if (buf_append(out, src + copied, i - copied) == -1)
			goto toolarge;
		if (part == PART_SUBJECT)
			rc = append_clean(out, v->value, strlen(v->value), CLEAN_CTL_TO_SPACE);
		else if (part == PART_TEXT)
			rc = append_clean(out, v->value, strlen(v->value), CLEAN_CTL_DROP);
		else if (part == PART_FLOW)
			rc = append_clean(out, v->value, strlen(v->value), CLEAN_CTL_FLOW);
		else
			rc = append_html_value(out, v->value, html_place(src, i));
		if (rc == -1)
			goto toolarge;
		i = copied = i + m;
	}
	if (buf_append(out, src + copied, len - copied) == 0)
		return 0;
toolarge:
	return err_set(e, "the personalised message is larger than %zu bytes", out->max);
}

/* The text part: markers are filled in, and the paragraphs that held
 * them wrapped now that their length is known. */
static int
fill_text(struct buf *out, const struct buf *src, const struct tvar *vars, size_t nvars,
    struct err *e)
{
	const char *s = buf_str(src), *end = s + src->len;
	struct buf flow;
	int rc = 0;

	buf_init(&flow, out->max);
	while (s < end && rc == 0) {
		const char *open = memchr(s, TEXT_DEFER_OPEN, (size_t)(end - s));
		const char *sep1, *sep2, *close;
		char first[600], rest[600];

		if (open == NULL)
			open = end;
		rc = fill_markers(out, s, (size_t)(open - s), vars, nvars, PART_TEXT, e);
		if (open == end || rc == -1)
			break;
		sep1 = memchr(open, TEXT_DEFER_SEP, (size_t)(end - open));
		sep2 = sep1 ? memchr(sep1 + 1, TEXT_DEFER_SEP, (size_t)(end - sep1 - 1)) : NULL;
		close = sep2 ? memchr(sep2, TEXT_DEFER_CLOSE, (size_t)(end - sep2)) : NULL;
		if (close == NULL || sep1 - open - 1 >= (long)sizeof(first) ||
		    sep2 - sep1 - 1 >= (long)sizeof(rest) || close < sep2 + 2) {
			rc = err_set(e, "the prepared text is damaged");
			break;
		}
		snprintf(first, sizeof(first), "%.*s", (int)(sep1 - open - 1), open + 1);
		snprintf(rest, sizeof(rest), "%.*s", (int)(sep2 - sep1 - 1), sep1 + 1);
		buf_reset(&flow);
		rc = fill_markers(&flow, sep2 + 2, (size_t)(close - sep2 - 2), vars, nvars,
		    PART_FLOW, e);
		if (rc == 0 && text_wrap(out, buf_str(&flow), flow.len, first, rest,
		    sep2[1] == '0' ? 0 : sep2[1]) == -1)
			rc = err_set(e, "the personalised text is larger than %zu bytes", out->max);
		s = close + 1;
	}
	buf_free(&flow);
	return rc;
}

int
content_personalise(const struct content_message *prepared, const struct tvar *vars,
    size_t nvars, struct content_message *out, struct err *e)
{
	message_reset(out);
	if (fill_markers(&out->subject, buf_str(&prepared->subject), prepared->subject.len, vars,
		nvars, PART_SUBJECT, e) == -1 ||
	    fill_text(&out->text, &prepared->text, vars, nvars, e) == -1 ||
	    fill_markers(&out->html, buf_str(&prepared->html), prepared->html.len, vars, nvars,
		PART_HTML, e) == -1) {
		message_reset(out);
		return -1;
	}
	if (out->subject.data) {
		str_squash_space(out->subject.data);
		out->subject.len = strlen(out->subject.data);
	}
	return 0;
}
