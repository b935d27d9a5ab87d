/* render.c - Markdown to a complete HTML document with cmark. */
#include <cmark.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "content_int.h"

int
html_escape(struct buf *out, const char *s, size_t n)
{
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		const char *rep = NULL;

		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		if (buf_append(out, s + run, i - run) == -1 || buf_puts(out, rep) == -1)
			return -1;
		run = i + 1;
	}
	return buf_append(out, s + run, n - run);
}

int
url_is_dangerous(const char *url, size_t n)
{
	static const char *const bad[] = { "javascript:", "vbscript:", "file:", "data:" };
	static const char *const images[] = { "image/png", "image/gif", "image/jpeg",
		"image/webp" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t k = strlen(bad[i]);

		if (n < k || strncasecmp(url, bad[i], k) != 0)
			continue;
		if (i < 3)
			return 1;
		/* cmark lets a few data: image types through */
		for (size_t j = 0; j < sizeof(images) / sizeof(images[0]); j++)
			if (n - k >= strlen(images[j]) &&
			    strncasecmp(url + k, images[j], strlen(images[j])) == 0)
				return 0;
		return 1;
	}
	return 0;
}

size_t
utf8_width(const char *s, size_t n)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

/* cmark percent-encodes link destinations, so a placeholder marker (see
 * template.c) in "[x](mailto:{{a}})" comes out as
 * "mailto:%EE%80%80a%EE%80%81".  Turn exactly that shape back into the
 * marker; content_personalise knows from the surrounding href="..." that
 * the value goes into a URL. */
static int
append_unescaping_markers(struct buf *out, const char *s)
{
	static const char open[] = "%EE%80%80", close[] = "%EE%80%81";
	const char *p = s, *hit;

	while ((hit = strstr(p, open)) != NULL) {
		const char *name = hit + 9, *end = name;

		while ((*end >= 'a' && *end <= 'z') || (*end >= '0' && *end <= '9') || *end == '_')
			end++;
		if (buf_append(out, p, (size_t)(hit - p)) == -1)
			return -1;
		if (end > name && strncmp(end, close, 9) == 0) {
			if (buf_puts(out, PH_OPEN) == -1 ||
			    buf_append(out, name, (size_t)(end - name)) == -1 ||
			    buf_puts(out, PH_CLOSE) == -1)
				return -1;
			p = end + 9;
		} else {
			if (buf_append(out, hit, 9) == -1)
				return -1;
			p = hit + 9;
		}
	}
	return buf_puts(out, p);
}

/* Mail clients drop <style> now and then, so the wrapper repeats the
 * essentials inline. */
static const char html_head[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>";
static const char html_style[] =
    "</title>\n"
    "<style>\n"
    "body { margin: 0; padding: 0; background: #ffffff; }\n"
    ".things h1, .things h2, .things h3 { line-height: 1.25; color: #1a1a1a; }\n"
    ".things a { color: #0b5cad; }\n"
    ".things blockquote { margin: 1em 0; padding: 0 1em; border-left: 4px solid #d0d7de;"
    " color: #444444; }\n"
    ".things pre { padding: 12px; background: #f6f8fa; overflow-x: auto; font-size: 14px; }\n"
    ".things code { font-family: Menlo, Consolas, monospace; font-size: 0.9em; }\n"
    ".things img { max-width: 100%; height: auto; }\n"
    ".things hr { border: 0; border-top: 1px solid #d0d7de; }\n"
    "</style>\n"
    "</head>\n"
    "<body>\n"
    "<div class=\"things\" style=\"max-width: 38em; margin: 0 auto; padding: 16px;"
    " font-family: Helvetica, Arial, sans-serif; font-size: 16px; line-height: 1.5;"
    " color: #222222;\">\n";
static const char html_tail[] =
    "</div>\n"
    "</body>\n"
    "</html>\n";

int
render_html_document(const char *markdown, size_t len, const char *subject,
    int allow_raw_html, struct buf *out, struct err *e)
{
	int opts = CMARK_OPT_SMART | CMARK_OPT_VALIDATE_UTF8;
	char *body;
	int rc;

	if (allow_raw_html)
		opts |= CMARK_OPT_UNSAFE;
	body = cmark_markdown_to_html(markdown, len, opts);
	if (body == NULL)
		return err_set(e, "cmark: out of memory");
	rc = buf_puts(out, html_head) == -1 || html_escape(out, subject, strlen(subject)) == -1 ||
	    buf_puts(out, html_style) == -1 || append_unescaping_markers(out, body) == -1 ||
	    buf_puts(out, html_tail) == -1;
	free(body);
	return rc ? err_set(e, "the HTML part is larger than %zu bytes", out->max) : 0;
}
