/* Unit tests for rendering: the HTML document and its safety, and the
 * plain-text renderer (table-driven: Markdown in, exact text out). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_content_helpers.h"
#include "../../content/content_int.h"

static char *
text_of(const char *md)
{
	struct buf b;
	struct err e;

	buf_init(&b, 1 << 20);
	if (render_text(md, strlen(md), &b, &e) == -1)
		fail_msg("render_text: %s", e.msg);
	return buf_steal(&b);
}

static void
test_plain_text_table(void **state)
{
	static const struct {
		const char *md, *text;
	} cases[] = {
		/* wrapping at 72 columns */
		{ "A paragraph that is long enough to need wrapping, because it goes on and on "
		  "well past the seventy-two column limit of plain text mail.\n",
		  "A paragraph that is long enough to need wrapping, because it goes on and\n"
		  "on well past the seventy-two column limit of plain text mail.\n" },
		/* columns are code points, not bytes: the first line is 71 code
		 * points and 84 bytes */
		{ "Ça coûte très élevé à Zürich, même pour les bibliothécaires européens: "
		  "éèêëàâäôöûüç ÉÈÊËÀÂÄÔÖÛÜÇ ñ.\n",
		  "Ça coûte très élevé à Zürich, même pour les bibliothécaires européens:\n"
		  "éèêëàâäôöûüç ÉÈÊËÀÂÄÔÖÛÜÇ ñ.\n" },
		/* a word longer than the line stays whole, on a line of its own */
		{ "Go to https://example.org/a/very/long/path/that/goes/on/and/on/and/on/beyond/"
		  "seventy-two/columns now.\n",
		  "Go to\n"
		  "https://example.org/a/very/long/path/that/goes/on/and/on/and/on/beyond/seventy-two/columns\n"
		  "now.\n" },
		{ "# Heading one\n\n## Heading *two*\n\n### Three\n\nText.\n",
		  "Heading one\n===========\n\nHeading two\n-----------\n\nThree\n\nText.\n" },
		{ "- one\n- two is a longer item that will need to wrap onto a second line because "
		  "it is long\n  - nested item\n- three\n",
		  "- one\n"
		  "- two is a longer item that will need to wrap onto a second line because\n"
		  "  it is long\n"
		  "  - nested item\n"
		  "- three\n" },
		{ "9. nine\n10. ten\n11. eleven\n", " 9. nine\n10. ten\n11. eleven\n" },
		{ "1. loose\n\n2. list\n", "1. loose\n\n2. list\n" },
		{ "3) paren\n", "3) paren\n" },
		{ "> A quote that is long enough to wrap: it goes on and on and on past the width "
		  "of the line.\n>\n> Second paragraph.\n",
		  "> A quote that is long enough to wrap: it goes on and on and on past the\n"
		  "> width of the line.\n"
		  ">\n"
		  "> Second paragraph.\n" },
		{ "Before:\n\n    code line one that is very long and must not be wrapped even though "
		  "it is longer than seventy-two\n    second\n\nAfter.\n",
		  "Before:\n\n"
		  "    code line one that is very long and must not be wrapped even though it is "
		  "longer than seventy-two\n"
		  "    second\n\nAfter.\n" },
		{ "```\nfenced\n\n  indented\n```\n", "    fenced\n\n      indented\n" },
		{ "Some *emphasis*, **strong** and `code` text.\n\n---\n\nAfter the rule.\n",
		  "Some emphasis, strong and code text.\n\n"
		  "------------------------------------------------------------------------\n\n"
		  "After the rule.\n" },
		/* links: numbered once per URL; bare links inline, once */
		{ "See [the guide](https://example.org/guide) and [again](https://example.org/guide), "
		  "[other](https://other.example/) and <https://bare.example/x> or "
		  "<me@example.org>.\n",
		  "See the guide [1] and again [1], other [2] and https://bare.example/x or\n"
		  "me@example.org.\n\n"
		  "Links:\n"
		  "[1] https://example.org/guide\n"
		  "[2] https://other.example/\n" },
		{ "An image: ![a chart of uptake](https://img.example/c.png) and ![](x.png).\n",
		  "An image: [image: a chart of uptake] and [image].\n" },
		{ "Line one\\\nline two  \nline three\n", "Line one\nline two\nline three\n" },
		/* unsafe links keep their text only; raw HTML has no text form */
		{ "Click [here](javascript:alert(1)) now. <b>bold</b> raw.\n\n<div>\nblock html\n"
		  "</div>\n\nEnd.\n",
		  "Click here now. bold raw.\n\nEnd.\n" },
		{ "> - quoted item\n>   that wraps\n>\n>   > deeper\n",
		  "> - quoted item that wraps\n>\n>   > deeper\n" },
		{ "\"Smart\" quotes -- and dashes...\n", "“Smart” quotes – and dashes…\n" },
		{ "", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = text_of(cases[i].md);

		if (strcmp(got, cases[i].text) != 0)
			fail_msg("case %zu:\n--- want\n%s--- got\n%s---", i, cases[i].text, got);
		free(got);
	}
}

/* No line of the text part is longer than 72 code points unless it is one
 * word. */
static void
test_lines_fit(void **state)
{
	char md[4096] = "";
	char *got;

	(void)state;
	for (int i = 0; i < 60; i++)
		strcat(md, i % 3 ? "word " : "longerword, ");
	strcat(md, "\n\n- ");
	for (int i = 0; i < 40; i++)
		strcat(md, "médecine ");
	got = text_of(md);
	for (const char *line = got; *line; line += strcspn(line, "\n") + 1)
		assert_true(utf8_width(line, strcspn(line, "\n")) <= CONTENT_TEXT_WIDTH);
	assert_non_null(strstr(got, "\n\n- médecine"));
	free(got);
}

static void
test_nesting_is_bounded(void **state)
{
	char md[200] = "";
	struct buf b;
	struct err e;

	(void)state;
	for (int i = 0; i < 40; i++)
		strcat(md, "> ");
	strcat(md, "deep\n");
	buf_init(&b, 1 << 20);
	assert_int_equal(render_text(md, strlen(md), &b, &e), -1);
	assert_string_equal(e.msg, "the Markdown is nested more than 32 levels deep");
	buf_free(&b);
	/* deep emphasis goes through the iterator, not the stack */
	memset(md, 0, sizeof(md));
	for (int i = 0; i < 60; i++)
		strcat(md, "*");
	strcat(md, "x");
	for (int i = 0; i < 60; i++)
		strcat(md, "*");
	buf_init(&b, 1 << 20);
	assert_int_equal(render_text(md, strlen(md), &b, &e), 0);
	assert_string_equal(buf_str(&b), "x\n");
	buf_free(&b);
}

static char *
html_of(const char *md, const char *subject, int raw)
{
	struct buf b;
	struct err e;

	buf_init(&b, 1 << 20);
	if (render_html_document(md, strlen(md), subject, raw, &b, &e) == -1)
		fail_msg("render_html_document: %s", e.msg);
	return buf_steal(&b);
}

static void
test_html_document(void **state)
{
	char *h;

	(void)state;
	h = html_of("Hello *you*.\n", "Tom & Jerry <say> \"hi\"", 0);
	assert_true(strncmp(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">",
	    60) == 0);
	assert_non_null(strstr(h, "<title>Tom &amp; Jerry &lt;say&gt; &quot;hi&quot;</title>"));
	assert_non_null(strstr(h, "<p>Hello <em>you</em>.</p>\n</div>\n</body>\n</html>\n"));
	free(h);
}

static void
test_html_is_safe_by_default(void **state)
{
	static const char md[] =
	    "<script>alert(1)</script>\n\n"
	    "Text with <img src=x onerror=alert(2)> inline.\n\n"
	    "[js](javascript:alert(3)) [vb](VBScript:x) [file](file:///etc/passwd) "
	    "[data](data:text/html;base64,PHNjcmlwdD4=) ![ok](data:image/png;base64,AAAA) "
	    "[web](https://example.org/)\n";
	char *h;

	(void)state;
	h = html_of(md, "s", 0);
	assert_null(strstr(h, "<script>"));
	assert_null(strstr(h, "onerror"));
	assert_non_null(strstr(h, "<!-- raw HTML omitted -->"));
	assert_non_null(strstr(h, "<a href=\"\">js</a>"));
	assert_non_null(strstr(h, "<a href=\"\">vb</a>"));
	assert_non_null(strstr(h, "<a href=\"\">file</a>"));
	assert_non_null(strstr(h, "<a href=\"\">data</a>"));
	assert_non_null(strstr(h, "<img src=\"data:image/png;base64,AAAA\" alt=\"ok\" />"));
	assert_non_null(strstr(h, "<a href=\"https://example.org/\">web</a>"));
	free(h);

	/* allow_raw_html lets raw HTML through, as the organiser asked */
	h = html_of(md, "s", 1);
	assert_non_null(strstr(h, "<script>alert(1)</script>"));
	assert_non_null(strstr(h, "<img src=x onerror=alert(2)>"));
	free(h);
}

static void
test_url_is_dangerous(void **state)
{
	static const struct {
		const char *url;
		int bad;
	} cases[] = {
		{ "javascript:x", 1 }, { "JaVaScRiPt:x", 1 }, { "vbscript:x", 1 },
		{ "file:///etc", 1 }, { "data:text/html,x", 1 }, { "data:image/png;x", 0 },
		{ "data:image/svg+xml,x", 1 }, { "https://x", 0 }, { "mailto:a@b", 0 },
		{ "", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(url_is_dangerous(cases[i].url, strlen(cases[i].url)), cases[i].bad);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_table),
		cmocka_unit_test(test_lines_fit),
		cmocka_unit_test(test_nesting_is_bounded),
		cmocka_unit_test(test_html_document),
		cmocka_unit_test(test_html_is_safe_by_default),
		cmocka_unit_test(test_url_is_dangerous),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
