/* Unit tests for feeds/ without network or store: HTML to text, URLs,
 * HTML-or-feed sniffing, feed autodiscovery in pages, matching posts to
 * Things, and the address guard. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "../../feeds/feeds.h"
#include "test_feeds_common.h"

struct html_case {
	const char *html;
	size_t max_chars;
	size_t n;           /* output buffer bytes */
	const char *want;
};

static void
test_html_text(void **state)
{
	static const struct html_case cases[] = {
		{ "<p>Hello&nbsp;<b>world</b></p><p>again</p>", 300, 64, "Hello world again" },
		{ "a<br>b", 300, 64, "a b" },
		{ "x<script>var a='<p>no</p>';</script>y", 300, 64, "xy" },
		{ "<style>p{}</style>&lt;not a tag&gt; &amp; &#x263A;", 300, 64,
		  "<not a tag> & \xe2\x98\xba" },
		{ "  lots   of \n\t space  ", 300, 64, "lots of space" },
		{ "<p>unclosed <b>bold", 300, 64, "unclosed bold" },
		{ "<noscript>n</noscript><iframe>i</iframe><svg><text>s</text></svg>ok", 300, 64,
		  "ok" },
		{ "<ul><li>one</li><li>two</li></ul>", 300, 64, "one two" },
		/* a WordPress theme's excerpt: the "Continue reading" link and its
		 * screen-reader title are not the post's words */
		{ "<p>Feeds are neat. <a href=\"https://b.example/t2\" class=\"more-link\">"
		  "Continue reading<span class=\"screen-reader-text\"> \"Thing 2\"</span></a></p>",
		  300, 64, "Feeds are neat." },
		{ "<p>Short. <a class=\"btn  Read-More x\" href=\"/p\">Read more</a></p>", 300, 64,
		  "Short." },
		{ "<p>Kept: <a class=\"more-links-below\" href=\"/p\">a link</a></p>", 300, 64,
		  "Kept: a link" },
		{ "", 300, 64, "" },
		/* cut at a word boundary, ellipsis included in the count */
		{ "alpha beta gamma delta", 12, 64, "alpha beta\xe2\x80\xa6" },
		{ "alpha beta gamma delta", 22, 64, "alpha beta gamma delta" },
		{ "alpha beta gamma delta!", 22, 64, "alpha beta gamma\xe2\x80\xa6" },
		/* no space to cut at: a character boundary */
		{ "abcdefghijklmnopqrstuvwxyz", 10, 64, "abcdefghi\xe2\x80\xa6" },
		{ "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 3, 64, "\xc3\xa9\xc3\xa9\xe2\x80\xa6" },
		/* the byte limit binds before the character limit */
		{ "abcdef", 100, 6, "ab\xe2\x80\xa6" },
		{ "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 100, 8, "\xc3\xa9\xc3\xa9\xe2\x80\xa6" },
	};
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct html_case *c = &cases[i];

		assert_true(c->n <= sizeof(out));
		memset(out, 'X', sizeof(out));
		assert_int_equal(feeds_html_text(c->html, strlen(c->html), NULL, c->max_chars, out,
		    c->n, NULL, 0, NULL), 0);
		if (strcmp(out, c->want) != 0)
			fail_msg("case %zu '%s': got '%s', want '%s'", i, c->html, out, c->want);
		assert_true(str_valid_utf8(out, strlen(out)));
	}
}

#define TEN "abcdefghi "
#define HUNDRED TEN TEN TEN TEN TEN TEN TEN TEN TEN TEN
#define MEDIUM_TAIL " on Medium, where people are continuing the conversation by highlighting" \
	" and responding to this story."
#define MEDIUM(title, pub) "<p><a href=\"https://medium.com/p/1\">" title "</a> was originally" \
	" published in <a href=\"https://medium.com/pub\">" pub "</a>" MEDIUM_TAIL "</p>"
#define YOAST(title, blog) "<p>The post <a href=\"https://b.example/p\">" title "</a> appeared" \
	" first on <a href=\"https://b.example/\">" blog "</a>.</p>"

/* The footers blog platforms append to each post (Yoast/WordPress,
 * Medium) are cut from excerpts when they are the whole last sentence,
 * and only then. */
static void
test_excerpt_footers(void **state)
{
	static const struct { const char *html, *want; } cases[] = {
		{ "<p>My first week with feeds. [&#8230;]</p>\n" MEDIUM("Week one", "Ann Reads"),
		  "My first week with feeds. [\xe2\x80\xa6]" },
		{ "<p>Short thoughts.</p><hr>" MEDIUM("Short", "The Pub"), "Short thoughts." },
		/* its own paragraph: no sentence end needed before it */
		{ "<h2>Read more</h2>" MEDIUM("Week one", "Ann Reads"), "Read more" },
		/* in plain text, a sentence of its own */
		{ "Short note. Short note was originally published in Ann's pub" MEDIUM_TAIL,
		  "Short note." },
		{ MEDIUM("Only a footer", "B"), "" },
		/* Yoast's "The post X appeared first on Y." is left: without the
		 * entry's title to compare X with, it cannot be told from a post's
		 * own last sentence */
		{ "<p>Short.</p>" YOAST("Week one", "Ann Reads"),
		  "Short. The post Week one appeared first on Ann Reads." },
		{ "<p>The post I wrote yesterday appeared first on Mastodon.</p>",
		  "The post I wrote yesterday appeared first on Mastodon." },
		{ "<p>Intro.</p><p>The post office was closed when the strike appeared first on the "
		  "news.</p>", "Intro. The post office was closed when the strike appeared first on "
		  "the news." },
		/* a post that mentions Medium's words, not at its end */
		{ "<p>Mine was originally published in The Pub" MEDIUM_TAIL " Here it is.</p>",
		  "Mine was originally published in The Pub" MEDIUM_TAIL " Here it is." },
		{ "<p>A sentence. It was originally published in X. Then" MEDIUM_TAIL "</p>",
		  "A sentence. It was originally published in X. Then" MEDIUM_TAIL },
		/* 280 characters and a footer: the footer was past the clip, yet
		 * the post fits once it is cut */
		{ "<p>" HUNDRED HUNDRED TEN TEN TEN TEN TEN TEN TEN TEN "</p>"
		  MEDIUM("A title of some length, as titles go", "A blog with a long name too"),
		  HUNDRED HUNDRED TEN TEN TEN TEN TEN TEN TEN "abcdefghi" },
		/* a long post is clipped as ever, footer or not */
		{ "<p>" HUNDRED HUNDRED HUNDRED HUNDRED "</p>" MEDIUM("T", "B"),
		  HUNDRED HUNDRED TEN TEN TEN TEN TEN TEN TEN TEN "abcdefghi\xe2\x80\xa6" },
	};
	char out[1300], want[1300];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(feeds_html_text(cases[i].html, strlen(cases[i].html), NULL,
		    FEEDS_EXCERPT_CHARS, out, sizeof(out), NULL, 0, NULL), 0);
		snprintf(want, sizeof(want), "%s", cases[i].want);
		if (strcmp(out, want) != 0)
			fail_msg("case %zu '%s':\n got '%s'\nwant '%s'", i, cases[i].html, out, want);
	}
}

static int
excerpt_is(void *arg, const struct feeds_entry *en)
{
	assert_string_equal(en->excerpt, (const char *)arg);
	return 0;
}

/* A summary in plain text (no HTML reading) loses its footer too. */
static void
test_excerpt_footer_plain_summary(void **state)
{
	static const char feed[] = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><id>x</id>"
	    "<summary type=\"text\">Short note. Short note was originally published in Ann's "
	    "pub" MEDIUM_TAIL "</summary></entry></feed>";
	struct err e;

	(void)state;
	if (feeds_parse(feed, strlen(feed), "https://b.example/", excerpt_is, "Short note.", NULL,
	    &e) != 0)
		fail_msg("feeds_parse: %s", e.msg);
}

/* The ellipsis is written where the text was cut, in the buffer that held
 * the text: 301 characters of 511 bytes, in a 512-byte buffer, had it
 * written one byte past the end (ASan: heap-buffer-overflow).  Every
 * length around the buffer's sizes, through feeds_html_text and through a
 * feed's plain-text summary (feeds_parse). */
static int
count_entry(void *arg, const struct feeds_entry *en)
{
	const char *ell = "\xe2\x80\xa6";
	size_t len = strlen(en->excerpt);

	assert_true(len > 3 && strcmp(en->excerpt + len - 3, ell) == 0);
	assert_true(str_valid_utf8(en->excerpt, len));
	(*(int *)arg)++;
	return 0;
}

static void
test_clip_stays_in_buffer(void **state)
{
	char text[2048], feed[4096], out[FEEDS_EXCERPT_MAX + 1];

	(void)state;
	for (size_t wide = 0; wide <= FEEDS_EXCERPT_CHARS; wide++) {
		for (size_t extra = 1; extra <= 3; extra++) {
			size_t n = 0, len;
			struct err e;
			int entries = 0;

			/* wide two-byte characters, then ASCII, no space: one word */
			for (size_t i = 0; i < wide; i++)
				n += (size_t)snprintf(text + n, sizeof(text) - n, "\xc3\xa9");
			for (size_t i = wide; i < FEEDS_EXCERPT_CHARS + extra; i++)
				text[n++] = 'a';
			text[n] = '\0';
			assert_int_equal(feeds_html_text(text, n, NULL, FEEDS_EXCERPT_CHARS, out,
			    sizeof(out), NULL, 0, NULL), 0);
			len = strlen(out);
			assert_true(len > 3 && strcmp(out + len - 3, "\xe2\x80\xa6") == 0);
			assert_true(str_valid_utf8(out, len));
			n = (size_t)snprintf(feed, sizeof(feed), "<feed xmlns=\"http://www.w3.org/2005/"
			    "Atom\"><entry><id>x</id><summary type=\"text\">%s</summary></entry>"
			    "</feed>", text);
			if (feeds_parse(feed, n, "https://b.example/", count_entry, &entries, NULL,
			    &e) != 0)
				fail_msg("feeds_parse: %s", e.msg);
			assert_int_equal(entries, 1);
		}
	}
}

/* Bytes that count as no character (stray UTF-8 continuation bytes) used
 * to fill the text buffer: feeds_html_text then failed as if out of
 * memory and leaked the links it had collected. */
static void
test_html_text_full_buffer(void **state)
{
	char html[8192], out[64], *links[4];
	size_t n = 0, nlinks = 99;

	(void)state;
	n += (size_t)snprintf(html, sizeof(html), "<a href=\"https://b.example/x\">x</a> ");
	while (n < sizeof(html) - 1)
		html[n++] = (char)0x92;
	html[n] = '\0';
	assert_int_equal(feeds_html_text(html, n, NULL, 10, out, sizeof(out), links, 4, &nlinks), 0);
	assert_int_equal(nlinks, 1);
	assert_string_equal(links[0], "https://b.example/x");
	assert_true(strlen(out) < sizeof(out));
	free(links[0]);
}

static void
test_html_links(void **state)
{
	static const char html[] = "<a href=\"/x\">x</a><a href=\"javascript:alert(1)\">j</a>"
	    "<a href=\"https://o.example/y\">y</a><a href=\"/x\">dup</a><a name=\"n\">n</a>"
	    "<A HREF=\"z?q=1\">z</A>";
	char out[64], *links[4];
	size_t n = 99;

	(void)state;
	assert_int_equal(feeds_html_text(html, strlen(html), "https://b.example/dir/page", 300,
	    out, sizeof(out), links, 4, &n), 0);
	assert_string_equal(out, "xjydupnz");
	assert_int_equal(n, 3);
	assert_string_equal(links[0], "https://b.example/x");
	assert_string_equal(links[1], "https://o.example/y");
	assert_string_equal(links[2], "https://b.example/dir/z?q=1");
	for (size_t i = 0; i < n; i++)
		free(links[i]);
	/* at most what the caller has room for */
	assert_int_equal(feeds_html_text(html, strlen(html), "https://b.example/dir/page", 300,
	    out, sizeof(out), links, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(links[0], "https://b.example/x");
	free(links[0]);
}

struct url_case {
	const char *base, *ref, *want;
};

static void
test_resolve_url(void **state)
{
	static const struct url_case cases[] = {
		{ "https://a.example/b/c", "d", "https://a.example/b/d" },
		{ "https://a.example/b/c", "../x y", "https://a.example/x%20y" },
		{ "https://a.example/b/c", "//cdn.example/z", "https://cdn.example/z" },
		{ "https://a.example/b/c", "#frag", "https://a.example/b/c#frag" },
		{ "https://a.example/b/c", "  https://a.example/t  \n", "https://a.example/t" },
		{ "https://a.example/b/c", "https://a.example/caf\xc3\xa9",
		  "https://a.example/caf%C3%A9" },
		{ "https://a.example/b/c", "HTTP://A.example/", "HTTP://A.example/" },
		{ NULL, "http://a.example", "http://a.example" },
		{ NULL, "relative/path", NULL },
		{ "https://a.example/b/c", "javascript:alert(1)", NULL },
		{ "https://a.example/b/c", "data:text/html,hi", NULL },
		{ "https://a.example/b/c", "ftp://a.example/f", NULL },
		{ "https://a.example/b/c", "file:///etc/passwd", NULL },
		{ "https://a.example/b/c", "https://user:pw@a.example/", NULL },
		{ "https://a.example/b/c", "https://a.example/\x01", NULL },
		{ "https://a.example/b/c", "https://a.example/a\nb", NULL },
		{ "https://a.example/b/c", "", NULL },
		{ "https://a.example/b/c", "http://", NULL },
		/* a host in another script becomes ASCII (IDNA), not %-escapes */
		{ NULL, "https://j\xc3\xb6rg.example.de/p\xc3\xa4" "d x",
		  "https://xn--jrg-sna.example.de/p%C3%A4d%20x" },
		{ NULL, "http://B\xc3\xbc" "cher.example:8080/?q=\xc3\xa4#f",
		  "http://xn--bcher-kva.example:8080/?q=%C3%A4#f" },
		{ "https://a.example/b/c", "//\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.example/",
		  "https://xn--e1afmkfd.example/" },
		{ "https://xn--jrg-sna.example.de/a/", "b\xc3\xb6", "https://xn--jrg-sna.example.de/a/b%C3%B6" },
		{ NULL, "https://bad\xff\xfe.example/", NULL },          /* not UTF-8 */
		{ NULL, "https://\xcc\x81" "a.example/", NULL },   /* starts with a combining mark */
		/* mapping must not make URL punctuation and move the host's end */
		{ NULL, "https://foo\xe2\x84\x80" "x.com/feed", NULL },          /* U+2100 -> "a/c" */
		{ NULL, "https://blog.example\xef\xb9\x96.attacker.net/", NULL }, /* U+FE56 -> "?" */
		{ NULL, "https://q\xef\xb9\x9f.com/x", NULL },                    /* U+FE5F -> "#" */
		/* no transitional fallback: a joiner is not mapped away */
		{ NULL, "https://pay\xe2\x80\x8dpal.com/", NULL },
		/* tracking parameters go; the query's other parameters stay, in order */
		{ NULL, "https://a.example/p/?utm_source=rss&utm_medium=rss&utm_campaign=p",
		  "https://a.example/p/" },
		{ NULL, "https://medium.com/@jo/x-3f2a?source=rss-5d6a------2",
		  "https://medium.com/@jo/x-3f2a" },
		{ NULL, "https://a.example/?p=12&utm_source=feed&fbclid=Iw#c",
		  "https://a.example/?p=12#c" },
		{ NULL, "https://a.example/s?source=library&q=utm_x",
		  "https://a.example/s?source=library&q=utm_x" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = feeds_resolve_url(cases[i].base, cases[i].ref);

		if (cases[i].want == NULL && got != NULL)
			fail_msg("'%s': got '%s', want NULL", cases[i].ref, got);
		if (cases[i].want != NULL && (got == NULL || strcmp(got, cases[i].want) != 0))
			fail_msg("'%s': got '%s', want '%s'", cases[i].ref, got ? got : "NULL",
			    cases[i].want);
		free(got);
	}
}

static void
test_resolve_url_too_long(void **state)
{
	char ref[FEEDS_URL_MAX + 64];
	char *got;

	(void)state;
	memset(ref, 'a', sizeof(ref) - 1);
	memcpy(ref, "https://a.example/", 18);
	ref[sizeof(ref) - 1] = '\0';
	assert_null(feeds_resolve_url(NULL, ref));
	ref[FEEDS_URL_MAX] = '\0';
	got = feeds_resolve_url(NULL, ref);
	assert_non_null(got);
	assert_int_equal(strlen(got), FEEDS_URL_MAX);
	free(got);
}

static void
test_normalise_url(void **state)
{
	static const struct url_case cases[] = {
		{ NULL, "HTTPS://Example.COM:443/a/b?q=1#frag", "https://example.com/a/b?q=1" },
		{ NULL, "http://example.com", "http://example.com/" },
		{ NULL, "http://example.com:80/x", "http://example.com/x" },
		{ NULL, "http://example.com:8080/x", "http://example.com:8080/x" },
		{ NULL, "https://example.com:80/x", "https://example.com:80/x" },
		{ NULL, "ftp://example.com/", NULL },
		{ NULL, "not a url", NULL },
	};
	char out[FEEDS_URL_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = feeds_normalise_url(cases[i].ref, out, sizeof(out));

		if (cases[i].want == NULL) {
			assert_int_equal(rc, -1);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_string_equal(out, cases[i].want);
	}
	assert_int_equal(feeds_normalise_url("http://example.com/long", out, 12), -1);
}

struct sniff_case {
	const char *type, *body;
	int want;
};

static void
test_looks_like_html(void **state)
{
	static const struct sniff_case cases[] = {
		{ NULL, "<!DOCTYPE html><html>", 1 },
		{ NULL, "<!doctype HTML>", 1 },
		{ "application/rss+xml", "<?xml version='1.0'?><rss>", 0 },
		/* a feed served as text/html is still a feed */
		{ "text/html", "<?xml version='1.0'?>\n<!-- c --><rss version='2.0'>", 0 },
		{ "text/html; charset=utf-8", "", 1 },
		{ "TEXT/HTML", "no tags at all", 1 },
		{ "application/xml", "\xef\xbb\xbf  <HTML><head>", 1 },
		{ NULL, "<feed xmlns=\"http://www.w3.org/2005/Atom\">", 0 },
		{ NULL, "<!-- <html> in a comment --><rss>", 0 },
		{ NULL, "plain text", 0 },
		{ "application/octet-stream", "<rdf:RDF>", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (feeds_looks_like_html(cases[i].type, cases[i].body, strlen(cases[i].body)) !=
		    cases[i].want)
			fail_msg("case %zu ('%s') should be %d", i, cases[i].body, cases[i].want);
}

struct alt_case {
	const char *file;     /* a fixture, or NULL: html below */
	const char *html;
	const char *page_url;
	int rc;
	const char *want;
};

static void
test_find_alternate(void **state)
{
	static const struct alt_case cases[] = {
		{ "wordpress-page.html", NULL, "https://eve12things.wordpress.com/", 0,
		  "https://eve12things.wordpress.com/feed/" },
		{ "blogger-page.html", NULL, "https://dee-learns.blogspot.com/", 0,
		  "https://dee-learns.blogspot.com/feeds/posts/default" },
		/* a post page lists its comments feed first: skipped */
		{ "blogger-post-page.html", NULL, "https://dee-learns.blogspot.com/", 0,
		  "https://dee-learns.blogspot.com/feeds/posts/default" },
		{ "plain-page.html", NULL, "https://p.example/", 1, NULL },
		{ NULL, "<html><head><base href=\"/blog/\"><link rel=alternate "
		  "type=application/rss+xml href=feed.xml></head></html>",
		  "https://h.example/x/page", 0, "https://h.example/blog/feed.xml" },
		{ NULL, "<link rel=\"Alternate home\" type=\"application/atom+xml; charset=utf-8\" "
		  "href=\"atom.xml\">", "https://h.example/x/", 0, "https://h.example/x/atom.xml" },
		{ NULL, "<link rel=alternate type=application/rss+xml "
		  "title=\"Site &raquo; Comments Feed\" href=\"/c.xml\">",
		  "https://h.example/", 1, NULL },
		{ NULL, "<link rel=alternate type=application/rss+xml href=\"javascript:x()\">"
		  "<link rel=alternate type=application/rdf+xml href=\"/index.rdf\">",
		  "https://h.example/", 0, "https://h.example/index.rdf" },
		{ NULL, "<link rel=stylesheet type=application/rss+xml href=\"/s.xml\">",
		  "https://h.example/", 1, NULL },
	};
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct alt_case *c = &cases[i];
		char *html, *found = NULL, base[256];
		size_t len;
		int rc;

		if (c->file != NULL) {
			snprintf(base, sizeof(base), "%s", c->page_url);
			base[strlen(base) - 1] = '\0'; /* the fixtures write @BASE@/path */
			html = fixture_read(c->file, "@BASE@", base, &len);
		} else {
			html = strdup(c->html);
			len = strlen(html);
		}
		rc = feeds_find_alternate(html, len, c->page_url, &found, &e);
		free(html);
		if (rc != c->rc)
			fail_msg("case %zu: rc %d, want %d (%s)", i, rc, c->rc, e.msg);
		if (c->want != NULL)
			assert_string_equal(found, c->want);
		else
			assert_null(found);
		if (rc == 1)
			assert_non_null(strstr(e.msg, "does not announce a feed"));
		free(found);
	}
}

static const struct feeds_thing things[12] = {
	{ "Blogs", "https://things.example.org/things/1/" },
	{ "RSS feeds", "https://things.example.org/things/2/" },
	{ "Wikis", "https://things.example.org/things/3/" },
	{ "Podcasts", NULL },
	{ "Online photo sharing", NULL },
	{ "Social bookmarking", NULL },
	{ "Video", NULL },
	{ "Maps", NULL },
	{ "Cloud storage", NULL },
	{ "Feeds", NULL },
	{ "", NULL },
	{ "Reflection", NULL },
};

struct match_case {
	const char *title, *excerpt;
	const char *links[2];
	int want;
};

static void
test_match_thing(void **state)
{
	static const struct match_case cases[] = {
		{ "Thing 3 done", "", { NULL }, 3 },
		{ "thing #12: the end", "", { NULL }, 12 },
		{ "Thing no. 6", "", { NULL }, 6 },
		{ "Thing 13", "", { NULL }, 0 },
		{ "Thing 0", "", { NULL }, 0 },
		{ "Things 3 and more", "", { NULL }, 0 },
		{ "Something 5", "", { NULL }, 0 },
		{ "My #4 post in the Things programme", "", { NULL }, 4 },
		{ "Issue #4 of my newsletter", "", { NULL }, 0 },
		{ "Catching up", "This week was Thing 7, video.", { NULL }, 7 },
		{ "Trying podcasts at last", "", { NULL }, 4 },
		{ "I love RSS feeds", "", { NULL }, 2 },          /* longest title wins */
		{ "Feeds everywhere", "", { NULL }, 10 },
		{ "Wikiscape", "", { NULL }, 0 },                 /* whole words only */
		{ "Podcasts, not Thing 5", "", { NULL }, 5 },     /* a number beats a title */
		{ "Blogs", "Back to Thing 3", { NULL }, 3 },
		{ "Links", "", { "https://things.example.org/things/3/#intro" }, 3 },
		{ "Links", "", { "https://THINGS.example.org/things/3" }, 3 },
		{ "Links", "", { "https://things.example.org/things/30/" }, 0 },
		{ "Links", "", { "https://elsewhere.example/", "https://things.example.org/things/1/x" },
		  1 },
		{ "", "", { NULL }, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct match_case *c = &cases[i];
		struct feeds_entry entry = { .key = "k", .title = c->title, .link = "",
			.excerpt = c->excerpt, .links = c->links };
		int got;

		while (entry.nlinks < 2 && c->links[entry.nlinks] != NULL)
			entry.nlinks++;
		got = feeds_match_thing(&entry, things, 12);
		if (got != c->want)
			fail_msg("'%s' / '%s': Thing %d, want %d", c->title, c->excerpt, got, c->want);
	}
	{
		struct feeds_entry entry = { .key = "k", .title = "Thing 3", .link = "",
			.excerpt = "" };

		assert_int_equal(feeds_match_thing(&entry, NULL, 0), 0);
	}
}

struct addr_case {
	const char *addr;
	int ok;
	const char *why;   /* substring of the reason when refused */
};

static void
test_addr_public(void **state)
{
	static const struct addr_case cases[] = {
		{ "127.0.0.1", 0, "loopback" },
		{ "127.255.0.9", 0, "loopback" },
		{ "10.0.0.1", 0, "private" },
		{ "172.16.5.4", 0, "private" },
		{ "172.31.255.255", 0, "private" },
		{ "172.32.0.1", 1, NULL },
		{ "192.168.1.1", 0, "private" },
		{ "169.254.169.254", 0, "link-local" },
		{ "100.64.0.1", 0, "carrier-grade NAT" },
		{ "100.127.255.255", 0, "carrier-grade NAT" },
		{ "100.128.0.1", 1, NULL },
		{ "0.0.0.0", 0, "this network" },
		{ "224.0.0.1", 0, "multicast" },
		{ "239.255.255.250", 0, "multicast" },
		{ "255.255.255.255", 0, "reserved" },
		{ "240.0.0.1", 0, "reserved" },
		{ "198.18.0.1", 0, "benchmarking" },
		{ "192.0.2.1", 0, "documentation" },
		{ "192.0.0.8", 0, "IETF" },
		{ "8.8.8.8", 1, NULL },
		{ "93.184.216.34", 1, NULL },
		{ "::1", 0, "loopback" },
		{ "::", 0, "unspecified" },
		{ "::ffff:127.0.0.1", 0, "IPv4-mapped" },
		{ "::ffff:8.8.8.8", 0, "IPv4-mapped" },
		{ "::127.0.0.1", 0, "reserved" },
		{ "fe80::1", 0, "link-local" },
		{ "fc00::1", 0, "unique local" },
		{ "fd12:3456::1", 0, "unique local" },
		{ "fec0::1", 0, "site-local" },
		{ "ff02::1", 0, "multicast" },
		{ "2001:db8::1", 0, "documentation" },
		{ "2001::1", 0, "IETF" },
		{ "2002:c0a8:101::1", 0, "6to4" },
		{ "100::1", 0, "reserved" },
		{ "64:ff9b::10.0.0.1", 0, "private" },
		{ "64:ff9b::8.8.8.8", 1, NULL },
		{ "2606:4700::1111", 1, NULL },
		{ "2001:4860:4860::8888", 1, NULL },
	};
	char why[200];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct addr_case *c = &cases[i];
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
		const struct sockaddr *sa;
		int rc;

		memset(&sin, 0, sizeof(sin));
		memset(&sin6, 0, sizeof(sin6));
		if (inet_pton(AF_INET, c->addr, &sin.sin_addr) == 1) {
			sin.sin_family = AF_INET;
			sa = (const struct sockaddr *)&sin;
		} else {
			assert_int_equal(inet_pton(AF_INET6, c->addr, &sin6.sin6_addr), 1);
			sin6.sin6_family = AF_INET6;
			sa = (const struct sockaddr *)&sin6;
		}
		why[0] = '\0';
		rc = fetch_addr_public(sa, why, sizeof(why));
		if (c->ok && rc != 0)
			fail_msg("%s refused: %s", c->addr, why);
		if (!c->ok && (rc != -1 || strstr(why, c->why) == NULL))
			fail_msg("%s: rc %d, reason '%s', want '%s'", c->addr, rc, why, c->why);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html_text),
		cmocka_unit_test(test_excerpt_footers),
		cmocka_unit_test(test_excerpt_footer_plain_summary),
		cmocka_unit_test(test_clip_stays_in_buffer),
		cmocka_unit_test(test_html_text_full_buffer),
		cmocka_unit_test(test_html_links),
		cmocka_unit_test(test_resolve_url),
		cmocka_unit_test(test_resolve_url_too_long),
		cmocka_unit_test(test_normalise_url),
		cmocka_unit_test(test_looks_like_html),
		cmocka_unit_test(test_find_alternate),
		cmocka_unit_test(test_match_thing),
		cmocka_unit_test(test_addr_public),
	};
	feeds_test_init();
	return feeds_test_done(cmocka_run_group_tests(tests, NULL, feeds_test_cleanup));
}
