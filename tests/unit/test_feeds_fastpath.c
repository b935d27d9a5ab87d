/* Unit tests for the shortcuts feeds_parse takes for speed: each must give
 * what the long way gives.  Plain text (no markup, no reference) skips the
 * HTML parser; the base URL is the document's own without xmlNodeGetBase
 * when no xml:base can apply; the usual RFC 822 pubDate is read without
 * curl_getdate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../feeds/internal.h"
#include "test_feeds_common.h"

/* Text without '<' or '&' as the HTML parser reads it: the same text after
 * an empty element, which makes sure the parser reads it. */
static void
test_plain_text_as_html(void **state)
{
	static const char *const texts[] = {
		"plain words", "  lead and trail  ", "tab\tnew\nline\rcr", "a\xc2\xa0" "b nbsp",
		"\xc2\xa0\xc2\xa0lead nbsp", "caf\xc3\xa9 cr\xc3\xa8me", "c1 \xc2\x85 \xc2\x9f",
		"del\x7f" "char", "mid\xef\xbb\xbf" "bom", "emoji \xf0\x9f\x98\x80 x",
		"\xe3\x80\x80ideographic space", "x", " ", "\xc3\xa9\xc3\xa9\xc3\xa9",
		"trailing,;: ", "one-very-long-word-without-any-space-at-all-to-cut-at",
		"stray \x92 byte", "ctl \x01 byte", "\xed\xa0\x80 surrogate", "\xef\xbf\xbe nonchar",
	};
	static const size_t sizes[][2] = { { 300, 1281 }, { 10, 64 }, { 3, 64 }, { 1, 16 },
		{ 100, 8 } };
	char text[1200], marked[1300], a[1281], b[1281];

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]) + 3; i++) {
		/* and three long ones: ASCII words, two-byte letters, both */
		if (i < sizeof(texts) / sizeof(texts[0])) {
			snprintf(text, sizeof(text), "%s", texts[i]);
		} else {
			size_t n = 0;

			while (n + 8 < sizeof(text) - 1) {
				const char *w = i % 3 == 0 ? "word " : i % 3 == 1 ? "\xc3\xa9t\xc3\xa9 " :
				    "ab\xc3\xa9  ";

				n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", w);
			}
		}
		snprintf(marked, sizeof(marked), "<b></b>%s", text);
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			assert_int_equal(feeds_html_text(text, strlen(text), NULL, sizes[k][0], a,
			    sizes[k][1], NULL, 0, NULL), 0);
			assert_int_equal(feeds_html_text(marked, strlen(marked), NULL, sizes[k][0], b,
			    sizes[k][1], NULL, 0, NULL), 0);
			if (strcmp(a, b) != 0)
				fail_msg("text %zu size %zu: plain '%s', as HTML '%s'", i, k, a, b);
		}
	}
	assert_int_equal(feeds_html_text("  a \t b\xc2\xa0" "c  ", 12, NULL, 300, a, sizeof(a), NULL,
	    0, NULL), 0);
	assert_string_equal(a, "a b c");
	/* a byte order mark at the start is not text: the parser skips it */
	assert_int_equal(feeds_html_text("\xef\xbb\xbfhi", 5, NULL, 300, a, sizeof(a), NULL, 0,
	    NULL), 0);
	assert_string_equal(a, "hi");
}

struct one {
	char title[FEEDS_TITLE_MAX + 1], excerpt[FEEDS_EXCERPT_MAX + 1], link[FEEDS_URL_MAX + 1];
	char links[2][FEEDS_URL_MAX + 1];
	size_t n, nlinks;
};

static int
keep_first(void *arg, const struct feeds_entry *en)
{
	struct one *o = arg;

	if (o->n++ > 0)
		return 0;
	snprintf(o->title, sizeof(o->title), "%s", en->title);
	snprintf(o->excerpt, sizeof(o->excerpt), "%s", en->excerpt);
	snprintf(o->link, sizeof(o->link), "%s", en->link);
	o->nlinks = en->nlinks;
	for (size_t i = 0; i < en->nlinks && i < 2; i++)
		snprintf(o->links[i], sizeof(o->links[i]), "%s", en->links[i]);
	return 0;
}

static void
parse_one(const char *doc, struct one *o)
{
	struct err e;

	memset(o, 0, sizeof(*o));
	if (feeds_parse(doc, strlen(doc), "https://feed.example/f/rss.xml", keep_first, o, NULL,
	    &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(o->n, 1);
}

/* XML's references are decoded first; what they give is then HTML's text
 * (a title is HTML in RSS): "&amp;amp;" is "&" in the end, a character
 * reference alone is plain text. */
static void
test_entities_without_markup(void **state)
{
	struct one o;

	(void)state;
	parse_one("<rss version=\"2.0\"><channel><item><guid>1</guid>"
	    "<title>Caf&#233; &amp;amp; cr&#xe8;me &amp;lt;3</title>"
	    "<description>Tom &amp; Jerry &amp;c, 5 &gt; 3</description>"
	    "</item></channel></rss>", &o);
	assert_string_equal(o.title, "Caf\xc3\xa9 & cr\xc3\xa8me <3");
	assert_string_equal(o.excerpt, "Tom & Jerry &c, 5 > 3");
	parse_one("<rss version=\"2.0\"><channel><item><guid>1</guid>"
	    "<title>Caf&#233;&#160;cr&#xe8;me</title></item></channel></rss>", &o);
	assert_string_equal(o.title, "Caf\xc3\xa9 cr\xc3\xa8me");
}

/* xml:base anywhere on the way up, or given by a DTD's default, is still
 * read; without one the document's URL is the base. */
static void
test_xml_base_still_resolves(void **state)
{
	struct one o;

	(void)state;
	parse_one("<rss version=\"2.0\"><channel><item><guid>1</guid><link>p/1</link>"
	    "<description>&lt;a href=\"q\"&gt;q&lt;/a&gt;</description></item></channel></rss>",
	    &o);
	assert_string_equal(o.link, "https://feed.example/f/p/1");
	assert_string_equal(o.links[0], "https://feed.example/f/q");
	parse_one("<rss version=\"2.0\"><channel xml:base=\"https://c.example/x/\"><item "
	    "xml:base=\"sub/\"><guid>1</guid><link>p/1</link><description>&lt;a href=\"q\"&gt;q"
	    "&lt;/a&gt;</description></item></channel></rss>", &o);
	assert_string_equal(o.link, "https://c.example/x/sub/p/1");
	assert_string_equal(o.links[0], "https://c.example/x/sub/q");
	parse_one("<?xml version=\"1.0\"?><!DOCTYPE rss [<!ATTLIST item xml:base CDATA "
	    "\"https://dtd.example/d/\">]><rss version=\"2.0\"><channel><item><guid>1</guid>"
	    "<link>p/1</link><description>&lt;a href=\"q\"&gt;q&lt;/a&gt;</description></item>"
	    "</channel></rss>", &o);
	assert_string_equal(o.link, "https://dtd.example/d/p/1");
	assert_string_equal(o.links[0], "https://dtd.example/d/q");
	parse_one("<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry xml:base=\"/e/\"><id>1</id>"
	    "<link href=\"x\"/></entry></feed>", &o);
	assert_string_equal(o.link, "https://feed.example/e/x");
}

/* The fast path's dates are curl's: every day of a few years (leap ones,
 * 1971 and 2038 included), at assorted times and zones, and the near
 * misses it leaves to curl. */
static void
test_dates_fast_path(void **state)
{
	static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
		"Aug", "Sep", "Oct", "Nov", "Dec" };
	static const char *const zones[] = { "GMT", "+0000", "-0000", "+0100", "-0930", "+1400",
		"-1200", "+0545", "+0099", "+1401", "UT", "EST", "Z", "+00000", "+000" };
	static const int years[] = { 1971, 1999, 2000, 2024, 2026, 2038, 2100, 2400, 9999 };
	static const char *const misses[] = { "Fri, 27 Nov 2026 24:00:00 +0000",
		"Fri, 27 Nov 2026 09:16:60 +0000", "fri, 27 nov 2026 09:16:28 gmt",
		"Fri, 27 Nov 26 09:16:28 GMT", "Fri,27 Nov 2026 09:16:28 GMT",
		"Fri, 27 Nov 2026 09:16 GMT", "Fri, 32 Nov 2026 09:16:28 +0000",
		"Fri, 0 Nov 2026 09:16:28 +0000", "Fri, 01 Jan 1970 00:00:00 +0100",
		"Fri, 27 Nov 1969 09:16:28 GMT", "Xyz, 27 Nov 2026 09:16:28 +0000",
		"Fri, 27 Nov 2026 09:16:28 +0000 extra", "Fri, 27 Nov 2026 9:16:28 +0000", "Fri, " };
	unsigned seed = 12345;
	char s[64];
	size_t checked = 0;

	(void)state;
	for (size_t y = 0; y < sizeof(years) / sizeof(years[0]); y++) {
		for (int m = 0; m < 12; m++) {
			for (int d = 1; d <= 31; d++) {
				time_t want;

				seed = seed * 1103515245u + 12345u;
				snprintf(s, sizeof(s), d % 2 ? "%s, %02d %s %04d %02u:%02u:%02u %s" :
				    "%s, %d %s %04d %02u:%02u:%02u %s", days[(seed >> 8) % 7], d, months[m],
				    years[y], (seed >> 4) % 24, (seed >> 12) % 60, (seed >> 20) % 60,
				    zones[(seed >> 16) % (sizeof(zones) / sizeof(zones[0]))]);
				want = curl_getdate(s, NULL);
				if (feeds_parse_date(s) != (want > 0 ? (int64_t)want : 0))
					fail_msg("'%s': %lld, curl %lld", s, (long long)feeds_parse_date(s),
					    (long long)want);
				checked++;
			}
		}
	}
	for (size_t i = 0; i < sizeof(misses) / sizeof(misses[0]); i++) {
		time_t want = curl_getdate(misses[i], NULL);

		assert_int_equal(feeds_parse_date(misses[i]), want > 0 ? (int64_t)want : 0);
	}
	assert_int_equal(checked, sizeof(years) / sizeof(years[0]) * 12 * 31);
	assert_int_equal(feeds_parse_date("Fri, 20 Nov 2026 10:30:00 +0100"), 1795167000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_as_html),
		cmocka_unit_test(test_entities_without_markup),
		cmocka_unit_test(test_xml_base_still_resolves),
		cmocka_unit_test(test_dates_fast_path),
	};

	feeds_test_init();
	return feeds_test_done(cmocka_run_group_tests(tests, NULL, feeds_test_cleanup));
}
