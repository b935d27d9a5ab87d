/* Unit tests for feeds_parse: every fixture in tests/fixtures/feeds with the
 * exact entries it must give, and the hostile documents it must refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../feeds/feeds.h"
#include "test_feeds_common.h"

#define MAX_GOT 8

struct got_entry {
	char key[FEEDS_KEY_MAX + 1];
	char title[FEEDS_TITLE_MAX + 1];
	char link[FEEDS_URL_MAX + 1];
	char excerpt[FEEDS_EXCERPT_MAX + 1];
	int64_t published;
	char links[4][FEEDS_URL_MAX + 1];
	size_t nlinks;
};

struct got {
	struct got_entry e[MAX_GOT];
	size_t n;      /* entries seen (all of them, even beyond MAX_GOT) */
	size_t stop_at; /* return 7 at this entry (1-based), 0: never */
};

static int
collect(void *arg, const struct feeds_entry *entry)
{
	struct got *g = arg;

	if (g->n < MAX_GOT) {
		struct got_entry *e = &g->e[g->n];

		snprintf(e->key, sizeof(e->key), "%s", entry->key);
		snprintf(e->title, sizeof(e->title), "%s", entry->title);
		snprintf(e->link, sizeof(e->link), "%s", entry->link);
		snprintf(e->excerpt, sizeof(e->excerpt), "%s", entry->excerpt);
		e->published = entry->published_at;
		for (size_t i = 0; i < entry->nlinks && i < 4; i++)
			snprintf(e->links[i], sizeof(e->links[i]), "%s", entry->links[i]);
		e->nlinks = entry->nlinks;
	}
	g->n++;
	return g->stop_at != 0 && g->n == g->stop_at ? 7 : 0;
}

struct want {
	const char *key, *title, *link, *excerpt;
	int64_t published;
	const char *links[3];
};

struct parse_case {
	const char *file;
	const char *base;
	int rc;
	enum feeds_format format;
	const char *error;     /* a substring of the reason when rc is -1 */
	size_t n;
	struct want e[6];
};

static const char wrap_up_excerpt[] =
    "word01 word02 word03 word04 word05 word06 word07 word08 word09 word10 word11 word12 "
    "word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23 word24 "
    "word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35 word36 "
    "word37 word38 word39 word40 word41 word42\xe2\x80\xa6";

static const struct parse_case cases[] = {
	{ "rss2.xml", "https://ada.example.org/feed.xml", 0, FEEDS_RSS2, NULL, 6, {
		{ "ada-2026-11-20", "Thing 3: feeds, finally",
		  "https://ada.example.org/2026/11/thing-3", "I tried three readers & kept one.",
		  1795167000, { NULL } },
		/* no guid: the normalised link is the key; the link keeps its form */
		{ "https://ada.example.org/2026/11/no-guid", "No guid here",
		  "https://ADA.example.org:443/2026/11/no-guid#comments", "Plain text.",
		  1795111200, { NULL } },
		/* neither: sha256("Neither guid nor link\nOnly words.") */
		{ "sha256:838ff3911938a7339236033924d79928abc9d7122fe9d76f655fda28c31efc6b",
		  "Neither guid nor link", "", "Only words.", 0, { NULL } },
		{ "https://ada.example.org/?p=42", "Relative link",
		  "https://ada.example.org/2026/11/relative", "", 0, { NULL } },
		{ "sneaky", "Sneaky link", "", "", 0, { NULL } },
		{ "https://ada.example.org/2026/11/permalink", "Guid is the permalink",
		  "https://ada.example.org/2026/11/permalink", "", 0, { NULL } },
	} },
	{ "atom.xml", "https://bo.example.net/feed.atom", 0, FEEDS_ATOM, NULL, 3, {
		{ "tag:bo.example.net,2026:1", "Learning in public",
		  "https://bo.example.net/blog/posts/learning-in-public.html",
		  "Less than <3 minutes a day.", 1795251600, { NULL } },
		{ "tag:bo.example.net,2026:2", "An xhtml title",
		  "https://bo.example.net/other/two.html", "See my list for Thing 5.",
		  1795190400, { "https://bo.example.net/resources/list.html" } },
		{ "tag:bo.example.net,2026:3", "Text title with <b> kept",
		  "https://cdn.example.net/three", "Para one. Para two & more, notes.", 0,
		  { "https://bo.example.net/blog/notes/x.html" } },
	} },
	{ "rss1.rdf", "https://cy.example.com/index.rdf", 0, FEEDS_RSS1, NULL, 2, {
		{ "https://cy.example.com/one", "One & only", "https://cy.example.com/one",
		  "First post.", 1795003200, { NULL } },
		{ "https://cy.example.com/two", "Two", "https://cy.example.com/two",
		  "No link element: the about URI is the link.", 0, { NULL } },
	} },
	{ "blogger.xml", "https://dee-learns.blogspot.com/feeds/posts/default", 0, FEEDS_ATOM,
	  NULL, 2, {
		{ "tag:blogger.com,1999:blog-1234567890123456789.post-111", "Thing 7 - Podcasts",
		  "https://dee-learns.blogspot.com/2026/11/thing-7-podcasts.html",
		  "I listened to three podcasts this week. My favourite was about libraries.",
		  1795345200, { "https://blogger.googleusercontent.com/img/a.png" } },
		{ "tag:blogger.com,1999:blog-1234567890123456789.post-222", "",
		  "https://dee-learns.blogspot.com/2026/11/blog-post.html",
		  "A post without a title, summary only.", 1794733200, { NULL } },
	} },
	{ "wordpress.xml", "https://eve12things.wordpress.com/feed/", 0, FEEDS_RSS2, NULL, 2, {
		{ "http://eve12things.wordpress.com/?p=123",
		  "Thing #4 \xe2\x80\x93 Wikis & me",
		  "https://eve12things.wordpress.com/2026/11/23/thing-4-wikis/",
		  "This week: wikis. I edited my first page \xe2\x80\xa6",
		  1795421565, { "https://things.example.org/things/4/",
		  "https://eve12things.wordpress.com/2026/11/01/older/" } },
		{ "http://eve12things.wordpress.com/?p=120", "Eve\xe2\x80\x99s \"wrap-up\"",
		  "https://eve12things.wordpress.com/2026/11/16/wrap-up/", wrap_up_excerpt,
		  1794812400, { NULL } },
	} },
	{ "latin1.xml", "https://fe.example.fr/rss", 0, FEEDS_RSS2, NULL, 1, {
		{ "fe-1", "Caf\xc3\xa9 cr\xc3\xa8me & \xc2\xabguillemets\xc2\xbb",
		  "https://fe.example.fr/caf%C3%A9", "D\xc3\xa9j\xc3\xa0 vu, na\xc3\xafve \xc3\xa9t\xc3\xa9.",
		  0, { NULL } },
	} },
	{ "cdata-script.xml", "https://mallory.example.com/rss", 0, FEEDS_RSS2, NULL, 1, {
		{ "m-1", "Safe title", "https://mallory.example.com/post?a=1&b=2", "Body text", 0,
		  { NULL } },
	} },
	{ "broken.xml", "https://x.example/", -1, 0, "not well-formed XML", 0, { { 0 } } },
	{ "bomb.xml", "https://x.example/", -1, 0, "entity reference loop", 0, { { 0 } } },
	{ "not-a-feed.xml", "https://x.example/", -1, 0, "not a feed", 0, { { 0 } } },
};

static void
check_case(const struct parse_case *c)
{
	struct got g;
	struct err e;
	enum feeds_format fmt = (enum feeds_format)-1;
	size_t len;
	char *buf;
	int rc;

	buf = fixture_read(c->file, NULL, NULL, &len);
	memset(&g, 0, sizeof(g));
	memset(&e, 0, sizeof(e));
	rc = feeds_parse(buf, len, c->base, collect, &g, &fmt, &e);
	free(buf);
	if (rc != c->rc)
		fail_msg("%s: rc %d, want %d (%s)", c->file, rc, c->rc, e.msg);
	if (c->rc == -1) {
		if (strstr(e.msg, c->error) == NULL)
			fail_msg("%s: error '%s' lacks '%s'", c->file, e.msg, c->error);
		assert_int_equal(g.n, 0);
		return;
	}
	assert_int_equal(fmt, c->format);
	if (g.n != c->n)
		fail_msg("%s: %zu entries, want %zu", c->file, g.n, c->n);
	for (size_t i = 0; i < c->n; i++) {
		const struct want *w = &c->e[i];
		const struct got_entry *x = &g.e[i];
		size_t nlinks = 0;

		assert_string_equal(x->key, w->key);
		assert_string_equal(x->title, w->title);
		assert_string_equal(x->link, w->link);
		assert_string_equal(x->excerpt, w->excerpt);
		if (x->published != w->published)
			fail_msg("%s entry %zu: published %lld, want %lld", c->file, i,
			    (long long)x->published, (long long)w->published);
		while (nlinks < 3 && w->links[nlinks] != NULL)
			nlinks++;
		assert_int_equal(x->nlinks, nlinks);
		for (size_t j = 0; j < nlinks; j++)
			assert_string_equal(x->links[j], w->links[j]);
	}
}

static void
test_fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
}

static void
test_entity_bomb_is_quick(void **state)
{
	struct got g = { .n = 0 };
	struct err e;
	struct timespec t0, t1;
	size_t len;
	char *buf = fixture_read("bomb.xml", NULL, NULL, &len);

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(feeds_parse(buf, len, "https://x.example/", collect, &g, NULL, &e), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	free(buf);
	/* Expanded, the title would be a billion "lol"s. */
	assert_true(t1.tv_sec - t0.tv_sec < 2);
}

/* The external entities point at a file we wrote: its content must not
 * appear anywhere, whatever the parser makes of the rest. */
static void
test_external_entity_not_read(void **state)
{
	char dir[] = "/tmp/things-xxe-XXXXXX", secret[128], cmd[160];
	static const char marker[] = "TOPSECRET-2f9c41";
	struct got g;
	struct err e;
	size_t len;
	char *doc;
	FILE *f;
	int rc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(secret, sizeof(secret), "%s/secret.txt", dir);
	f = fopen(secret, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", marker);
	fclose(f);
	doc = fixture_read("xxe.xml", "@SECRET@", secret, &len);

	memset(&g, 0, sizeof(g));
	rc = feeds_parse(doc, len, "https://x.example/feed", collect, &g, NULL, &e);
	free(doc);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(rc, 0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.e[0].title, "Leak: []");
	assert_string_equal(g.e[0].excerpt, "more here");
	assert_null(strstr(g.e[0].title, marker));
	assert_null(strstr(g.e[0].excerpt, marker));
	assert_null(strstr(g.e[0].link, marker));
}

static void
test_too_large_refused(void **state)
{
	size_t len = FEEDS_PARSE_MAX + 1;
	char *buf = malloc(len);
	struct got g = { .n = 0 };
	struct err e;

	(void)state;
	assert_non_null(buf);
	memset(buf, ' ', len);
	assert_int_equal(feeds_parse(buf, len, "https://x.example/", collect, &g, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "too large"));
	assert_int_equal(g.n, 0);
	free(buf);
}

/* A huge but well-formed feed: 3 MiB, 3000 items, read up to the cap. */
static void
test_huge_feed_capped(void **state)
{
	struct buf b;
	struct got g;
	struct err e;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "<rss version=\"2.0\"><channel><title>Big</title>"), 0);
	for (int i = 0; i < 3000; i++) {
		assert_int_equal(buf_printf(&b, "<item><title>Post %d</title><guid>g%d</guid>"
		    "<description>", i, i), 0);
		for (int j = 0; j < 10; j++)
			assert_int_equal(buf_puts(&b, "Lorem ipsum dolor sit amet, consectetur "
			    "adipiscing elit, sed do eiusmod tempor incididunt ut labore. "), 0);
		assert_int_equal(buf_puts(&b, "</description></item>"), 0);
	}
	assert_int_equal(buf_puts(&b, "</channel></rss>"), 0);
	assert_true(b.len > (size_t)3 << 20);
	memset(&g, 0, sizeof(g));
	assert_int_equal(feeds_parse(buf_str(&b), b.len, "https://x.example/", collect, &g, NULL,
	    &e), 0);
	assert_int_equal(g.n, FEEDS_MAX_ENTRIES);
	assert_string_equal(g.e[0].key, "g0");
	assert_string_equal(g.e[7].title, "Post 7");
	buf_free(&b);
}

static void
test_deep_nesting_refused(void **state)
{
	struct buf b;
	struct got g = { .n = 0 };
	struct err e;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "<rss version=\"2.0\"><channel><item><title>"), 0);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(buf_puts(&b, "<b>"), 0);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(buf_puts(&b, "</b>"), 0);
	assert_int_equal(buf_puts(&b, "</title></item></channel></rss>"), 0);
	assert_int_equal(feeds_parse(buf_str(&b), b.len, "https://x.example/", collect, &g, NULL,
	    &e), -1);
	assert_non_null(strstr(e.msg, "depth"));
	assert_int_equal(g.n, 0);
	buf_free(&b);
}

static void
test_callback_stops_parse(void **state)
{
	struct got g;
	struct err e;
	size_t len;
	char *buf = fixture_read("rss2.xml", NULL, NULL, &len);

	(void)state;
	memset(&g, 0, sizeof(g));
	g.stop_at = 2;
	assert_int_equal(feeds_parse(buf, len, "https://a.example/", collect, &g, NULL, &e), 7);
	assert_int_equal(g.n, 2);
	free(buf);
}

/* Titles are cut to 300 bytes at a character boundary, with an ellipsis. */
static void
test_long_title_clipped(void **state)
{
	struct buf b;
	struct got g;
	struct err e;
	size_t n;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "<rss version=\"2.0\"><channel><item><guid>t</guid><title>"),
	    0);
	for (int i = 0; i < 400; i++)
		assert_int_equal(buf_puts(&b, "\xc3\xa9"), 0); /* é: 800 bytes, no spaces */
	assert_int_equal(buf_puts(&b, "</title></item></channel></rss>"), 0);
	memset(&g, 0, sizeof(g));
	assert_int_equal(feeds_parse(buf_str(&b), b.len, "https://x.example/", collect, &g, NULL,
	    &e), 0);
	buf_free(&b);
	assert_int_equal(g.n, 1);
	n = strlen(g.e[0].title);
	assert_true(n <= FEEDS_TITLE_MAX);
	assert_true(str_valid_utf8(g.e[0].title, n));
	/* 148 é (296 bytes) and the ellipsis (3) = 299: the next é would not fit */
	assert_int_equal(n, 299);
	assert_string_equal(g.e[0].title + 296, "\xe2\x80\xa6");
}

struct date_case {
	const char *text;
	int64_t want;
};

static void
test_dates(void **state)
{
	static const struct date_case dates[] = {
		{ "Fri, 20 Nov 2026 09:30:00 +0000", 1795167000 },
		{ "Fri, 20 Nov 2026 10:30:00 +0100", 1795167000 },
		{ "Fri, 20 Nov 2026 09:30:00 GMT", 1795167000 },
		{ "20 Nov 2026 04:30:00 EST", 1795167000 },
		{ "  Fri, 20 Nov 2026 09:30:00 Z  ", 1795167000 },
		{ "2026-11-20T09:30:00Z", 1795167000 },
		{ "2026-11-20T01:30:00.123-08:00", 1795167000 },
		{ "2026-11-20T11:30:00+02:00", 1795167000 },
		{ "yesterday", 0 },
		{ "", 0 },
		{ "1969-01-01T00:00:00Z", 0 },
	};
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		char doc[512];
		struct got g;

		snprintf(doc, sizeof(doc), "<rss version=\"2.0\"><channel><item><guid>d</guid>"
		    "<pubDate>%s</pubDate></item></channel></rss>", dates[i].text);
		memset(&g, 0, sizeof(g));
		assert_int_equal(feeds_parse(doc, strlen(doc), "https://x.example/", collect, &g,
		    NULL, &e), 0);
		assert_int_equal(g.n, 1);
		if (g.e[0].published != dates[i].want)
			fail_msg("'%s': %lld, want %lld", dates[i].text,
			    (long long)g.e[0].published, (long long)dates[i].want);
	}
}

static int
keep_feed_title(void *arg, const struct feeds_entry *entry)
{
	snprintf(arg, FEEDS_TITLE_MAX + 1, "%s", entry->feed_title);
	return 0;
}

/* The feed's own title rides on every entry: the blog's name in digests. */
static void
test_feed_titles(void **state)
{
	static const struct {
		const char *file;     /* a fixture, or NULL: doc */
		const char *doc;
		const char *want;
	} titles[] = {
		{ "rss2.xml", NULL, "Ada's notes" },
		{ "atom.xml", NULL, "Bo writes" },
		{ "rss1.rdf", NULL, "Cy" },
		{ NULL, "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title type=\"html\">"
		  "&lt;b&gt;Bold&lt;/b&gt; &amp;amp; co&lt;script&gt;x()&lt;/script&gt;</title>"
		  "<entry><id>1</id><title>t</title></entry></feed>", "Bold & co" },
		{ NULL, "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>&lt;script&gt;"
		  "</title><entry><id>1</id><title>t</title></entry></feed>", "<script>" },
		{ NULL, "<rss version=\"2.0\"><channel><item><guid>1</guid></item></channel></rss>",
		  "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++) {
		char title[FEEDS_TITLE_MAX + 1] = "unset";
		char *doc;
		size_t len;
		struct err e;

		if (titles[i].file != NULL) {
			doc = fixture_read(titles[i].file, NULL, NULL, &len);
		} else {
			doc = strdup(titles[i].doc);
			len = strlen(doc);
		}
		if (feeds_parse(doc, len, "https://x.example.org/feed", keep_feed_title, title, NULL,
		    &e) != 0)
			fail_msg("case %zu: %s", i, e.msg);
		free(doc);
		assert_string_equal(title, titles[i].want);
	}
}

static int
keep_feed_link(void *arg, const struct feeds_entry *entry)
{
	snprintf(arg, FEEDS_URL_MAX + 1, "%s", entry->feed_link);
	return 0;
}

/* The blog's own page as the feed names it (the digest links the blog's
 * name to it): RSS's channel link, Atom's alternate link (Blogger puts
 * rel="self" and its own rels first), resolved against xml:base. */
static void
test_feed_links(void **state)
{
	static const struct {
		const char *file;     /* a fixture, or NULL: doc */
		const char *doc;
		const char *want;
	} links[] = {
		{ "blogger.xml", NULL, "https://dee-learns.blogspot.com/" },
		{ NULL, "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\"><channel>"
		  "<atom:link href=\"https://a.example/feed/\" rel=\"self\"/>"
		  "<link>https://a.example/</link><item><guid>1</guid></item></channel></rss>",
		  "https://a.example/" },
		{ NULL, "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:base=\"https://c.example/blog/\">"
		  "<link href=\"/blog/feed.xml\" rel=\"self\"/><link href=\"./\" rel=\"alternate\" "
		  "type=\"text/html\"/><entry><id>1</id></entry></feed>", "https://c.example/blog/" },
		{ NULL, "<feed xmlns=\"http://www.w3.org/2005/Atom\"><link href=\"https://d.example/\"/>"
		  "<entry><id>1</id></entry></feed>", "https://d.example/" },
		{ NULL, "<feed xmlns=\"http://www.w3.org/2005/Atom\"><link href=\"https://e.example/f\" "
		  "rel=\"self\"/><entry><id>1</id></entry></feed>", "" },
		{ NULL, "<rss version=\"2.0\"><channel><link>javascript:alert(1)</link>"
		  "<item><guid>1</guid></item></channel></rss>", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		char link[FEEDS_URL_MAX + 1] = "unset";
		char *doc;
		size_t len;
		struct err e;

		if (links[i].file != NULL) {
			doc = fixture_read(links[i].file, NULL, NULL, &len);
		} else {
			doc = strdup(links[i].doc);
			len = strlen(doc);
		}
		if (feeds_parse(doc, len, "https://x.example.org/feed", keep_feed_link, link, NULL,
		    &e) != 0)
			fail_msg("case %zu: %s", i, e.msg);
		free(doc);
		if (strcmp(link, links[i].want) != 0)
			fail_msg("case %zu: want [%s] got [%s]", i, links[i].want, link);
	}
}

/* HTML's named entities, which XML does not define, as hand-written feeds
 * and careless templates have them: read as their characters, with CDATA
 * around; an unknown name is still an error. */
static void
test_html_entities(void **state)
{
	static const char doc[] = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>"
	    "<title>Caf&eacute; &amp; more</title>"
	    "<item><guid>1</guid><title>Thing 3:&nbsp;Social &ndash; it&rsquo;s&nbsp;fine</title>"
	    "<link>https://x.example/a?b=1&amp;c=2</link>"
	    "<description><![CDATA[<p>Mastodon&nbsp;&mdash; nice</p>]]> and&hellip;</description>"
	    "</item></channel></rss>";
	static const char unknown[] = "<rss version=\"2.0\"><channel><item><guid>1</guid>"
	    "<title>&nosuchentity;</title></item></channel></rss>";
	char title[FEEDS_TITLE_MAX + 1] = "unset";
	struct got g;
	struct err e;

	(void)state;
	memset(&g, 0, sizeof(g));
	if (feeds_parse(doc, strlen(doc), "https://x.example/feed", collect, &g, NULL, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(g.n, 1);
	/* (a no-break space is a space in a one-line title) */
	assert_string_equal(g.e[0].title, "Thing 3: Social \xe2\x80\x93 it\xe2\x80\x99s fine");
	assert_string_equal(g.e[0].link, "https://x.example/a?b=1&c=2");
	assert_string_equal(g.e[0].excerpt, "Mastodon \xe2\x80\x94 nice and\xe2\x80\xa6");
	assert_int_equal(feeds_parse(doc, strlen(doc), "https://x.example/feed", keep_feed_title,
	    title, NULL, &e), 0);
	assert_string_equal(title, "Caf\xc3\xa9 & more");
	assert_int_equal(feeds_parse(unknown, strlen(unknown), "https://x.example/feed", collect,
	    &g, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "nosuchentity"));
}

/* UTF-8 feeds with a few windows-1252 bytes (a WordPress database after a
 * migration): the stray bytes are read as their windows-1252 characters,
 * valid UTF-8 around them as it is, whether the document declares UTF-8 or
 * nothing.  A document declaring another encoding is read in that encoding
 * and never "repaired". */
static void
test_stray_windows_1252(void **state)
{
	static const struct {
		const char *name, *decl, *title, *description;
		const char *want_title, *want_excerpt; /* NULL: refused, with want_error */
		const char *want_error;
	} stray[] = {
		{ "smart quote, en dash, e-acute in UTF-8", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
		  "It\x92s caf\xe9 time \x96 d\xc3\xa9j\xc3\xa0", "Na\xefve \x93quotes\x94 \xf0\x9f\x98\x80 ok",
		  "It\xe2\x80\x99s caf\xc3\xa9 time \xe2\x80\x93 d\xc3\xa9j\xc3\xa0",
		  "Na\xc3\xafve \xe2\x80\x9cquotes\xe2\x80\x9d \xf0\x9f\x98\x80 ok", NULL },
		{ "undeclared, lower-case utf-8 and single quotes", "<?xml version='1.0' encoding='utf-8'?>",
		  "\x92quoted\x92", "\x80 5", "\xe2\x80\x99quoted\xe2\x80\x99", "\xe2\x82\xac 5", NULL },
		{ "no XML declaration", "", "Chlo\xc3\xa9\x92s week", "\x96",
		  "Chlo\xc3\xa9\xe2\x80\x99s week", "\xe2\x80\x93", NULL },
		{ "valid UTF-8 untouched", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
		  "It\xe2\x80\x99s \xc3\xa0 \xe2\x80\x93 \xf0\x9f\x98\x80", "\xc3\x83\xc2\xa9 stays",
		  "It\xe2\x80\x99s \xc3\xa0 \xe2\x80\x93 \xf0\x9f\x98\x80", "\xc3\x83\xc2\xa9 stays", NULL },
		{ "truncated sequences at the ends", "<?xml version=\"1.0\"?>", "Caf\xc3",
		  "Ends in \xe2\x80", "Caf\xc3\x83", "Ends in \xc3\xa2\xe2\x82\xac", NULL },
		{ "stray byte, then an HTML entity", "", "It\x92s&nbsp;fine", "a&mdash;b\xe9",
		  "It\xe2\x80\x99s fine", "a\xe2\x80\x94" "b\xc3\xa9", NULL },
		{ "HTML entity, then a stray byte", "", "A&nbsp;title", "caf\xe9",
		  "A title", "caf\xc3\xa9", NULL },
		/* libxml2 converts ISO-8859-1 itself: UTF-8-looking bytes are
		 * Latin-1 there (a repair would have made them one character) */
		{ "ISO-8859-1 declared", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>",
		  "caf\xc3\xa9 t\xe9", "\xe0 la", "caf\xc3\x83\xc2\xa9 t\xc3\xa9", "\xc3\xa0 la", NULL },
		/* declared otherwise, read by libxml2 as UTF-8 and refused: not
		 * ours to repair (it would read) */
		{ "UTF-16 declared, 8-bit bytes", "<?xml version=\"1.0\" encoding=\"UTF-16\"?>",
		  "It\x92s", "x", NULL, NULL, "not proper UTF-8" },
		{ "US-ASCII declared", "<?xml version=\"1.0\" encoding=\"US-ASCII\"?>",
		  "It\x92s", "x", NULL, NULL, "not well-formed" },
		/* a control character is not a stray byte: still refused */
		{ "stray byte and a control character", "", "It\x92s\x01", "x", NULL, NULL,
		  "invalid Char value 1" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(stray) / sizeof(stray[0]); i++) {
		char doc[1024];
		struct got g;
		struct err e;
		int rc;

		snprintf(doc, sizeof(doc), "%s<rss version=\"2.0\"><channel><title>Blog</title><item>"
		    "<guid>g1</guid><title>%s</title><description>%s</description></item></channel>"
		    "</rss>", stray[i].decl, stray[i].title, stray[i].description);
		memset(&g, 0, sizeof(g));
		memset(&e, 0, sizeof(e));
		rc = feeds_parse(doc, strlen(doc), "https://x.example/feed", collect, &g, NULL, &e);
		if (stray[i].want_title == NULL) {
			if (rc != -1 || strstr(e.msg, stray[i].want_error) == NULL)
				fail_msg("%s: rc %d '%s', want -1 '%s'", stray[i].name, rc, e.msg,
				    stray[i].want_error);
			assert_int_equal(g.n, 0);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: %s", stray[i].name, e.msg);
		assert_int_equal(g.n, 1);
		if (strcmp(g.e[0].title, stray[i].want_title) != 0 ||
		    strcmp(g.e[0].excerpt, stray[i].want_excerpt) != 0)
			fail_msg("%s: '%s' / '%s', want '%s' / '%s'", stray[i].name, g.e[0].title,
			    g.e[0].excerpt, stray[i].want_title, stray[i].want_excerpt);
	}
}

/* The repaired copy counts against FEEDS_PARSE_MAX: a document just under
 * it whose windows-1252 letters double in UTF-8 is refused as too large. */
static void
test_repair_bounded(void **state)
{
	char run[1001];
	struct buf b;
	struct got g = { .n = 0 };
	struct err e;

	(void)state;
	memset(run, '\xe9', sizeof(run) - 1);
	run[sizeof(run) - 1] = '\0';
	buf_init(&b, FEEDS_PARSE_MAX);
	assert_int_equal(buf_puts(&b, "<rss version=\"2.0\"><channel><title>Big</title>"), 0);
	while (b.len + 2100 < FEEDS_PARSE_MAX)
		assert_int_equal(buf_printf(&b, "<item><title>%s</title></item>", run), 0);
	assert_int_equal(buf_puts(&b, "</channel></rss>"), 0);
	assert_int_equal(feeds_parse(buf_str(&b), b.len, "https://x.example/", collect, &g, NULL,
	    &e), -1);
	if (strstr(e.msg, "too large") == NULL)
		fail_msg("%s", e.msg);
	assert_int_equal(g.n, 0);
	buf_free(&b);
}

/* A podcast episode with neither a link nor a permalink guid is reached
 * through its enclosure (relative to the feed); a link or a permalink guid
 * still comes first. */
static void
test_podcast_enclosure_link(void **state)
{
	static const char doc[] = "<rss version=\"2.0\"><channel><title>Pod</title>"
	    "<item><title>Trailer</title><guid isPermaLink=\"false\">t-1</guid>"
	    "<enclosure url=\"media/trailer.mp3\" length=\"1234\" type=\"audio/mpeg\"/></item>"
	    "<item><title>Ep 1</title><link>https://pod.example/ep1</link>"
	    "<enclosure url=\"https://cdn.example/ep1.mp3\" type=\"audio/mpeg\"/></item>"
	    "<item><title>Ep 2</title><guid>https://pod.example/ep2</guid>"
	    "<enclosure url=\"https://cdn.example/ep2.mp3\" type=\"audio/mpeg\"/></item>"
	    "<item><title>Ep 3</title><enclosure url=\"javascript:alert(1)\"/></item>"
	    "</channel></rss>";
	struct got g;
	struct err e;

	(void)state;
	memset(&g, 0, sizeof(g));
	if (feeds_parse(doc, strlen(doc), "https://pod.example/feed.xml", collect, &g, NULL, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.e[0].link, "https://pod.example/media/trailer.mp3");
	assert_string_equal(g.e[0].key, "t-1");
	assert_string_equal(g.e[1].link, "https://pod.example/ep1");
	assert_string_equal(g.e[2].link, "https://pod.example/ep2");
	assert_string_equal(g.e[3].link, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_entity_bomb_is_quick),
		cmocka_unit_test(test_external_entity_not_read),
		cmocka_unit_test(test_too_large_refused),
		cmocka_unit_test(test_huge_feed_capped),
		cmocka_unit_test(test_deep_nesting_refused),
		cmocka_unit_test(test_callback_stops_parse),
		cmocka_unit_test(test_long_title_clipped),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_feed_titles),
		cmocka_unit_test(test_html_entities),
		cmocka_unit_test(test_feed_links),
		cmocka_unit_test(test_podcast_enclosure_link),
		cmocka_unit_test(test_stray_windows_1252),
		cmocka_unit_test(test_repair_bounded),
	};

	feeds_test_init();
	return feeds_test_done(cmocka_run_group_tests(tests, NULL, feeds_test_cleanup));
}
