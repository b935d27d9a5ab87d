/* Feeds as platforms serve them (tests/fixtures/feeds/wild/), through the
 * real path: each blog is served on loopback (with the status and headers
 * its platform sends: tests/tools/httpd.py's FILE.http sidecars), found by
 * feeds_discover from its page, read by feeds_poll into a store, and shown
 * in the digest a participant would get (mailer_preview_digest): what it
 * lists, that titles, links and excerpts read as a good feed reader shows
 * them, and why a feed that fails failed.  THINGS_WILD_SHOW=1 prints each
 * digest's text part. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../feeds/feeds.h"
#include "test_feeds_httpd.h"
#include "test_mailer_check.h"
#include "test_mailer_fixture.h"

#define WILD "wild/"
#define NOW ((int64_t)1795500000)   /* 2026-11-24 05:20 UTC: a Tuesday */
#define FILES_MAX 4

struct served {
	const char *fixture;   /* under tests/fixtures/feeds/wild/ */
	const char *path;      /* where the server has it */
};

struct wild_case {
	const char *name;
	struct served files[FILES_MAX];
	const char *blog;       /* the address the participant sends */
	const char *feed;       /* the feed discovery finds (path), or NULL: it fails */
	const char *why;        /* discovery's reason (NULL: found) or the feed's */
	enum feeds_problem problem;  /* after a round */
	int posts;              /* in the digest */
	const char *title;      /* one post as the digest's text shows it */
	const char *link;       /* that post's link */
	const char *excerpt;    /* the start of its excerpt in the digest */
};

static const struct wild_case cases[] = {
	{ "wordpress.com", { { "wpcom.html", "/" }, { "wpcom.xml", "/feed/" } }, "/", "/feed/",
	    NULL, FP_NONE, 2, "Thing 3: Wikis, and why I\u2019m late",
	    "https://eve12things.wordpress.com/2026/11/22/thing-3-wikis/",
	    "I\u2019ve put this one off for a week. Our staff wiki is where good intentions go to "
	    "die, so writing about wikis felt a bit like writing about the gym. \u2026" },
	{ "wordpress self-hosted, blank lines before <?xml, utm_ links",
	    { { "wpself.html", "/" }, { "wpself.xml", "/feed/" } }, "/", "/feed/", NULL, FP_NONE,
	    1, "Podcasts for the commute (Thing 4)",
	    "https://marginalia.example.org.uk/2026/11/23/podcasts-for-the-commute-thing-4/",
	    "Three podcasts I now listen to on the 07:52" },
	{ "wordpress private (HTTP auth)", { { "wp401.xml", "/feed/" } }, "/feed/", NULL,
	    "HTTP status 401", FP_PRIVATE, 0, NULL, NULL, NULL },
	{ "wordpress members only (403)", { { "wp403.xml", "/feed/" } }, "/feed/", NULL,
	    "HTTP status 403", FP_PRIVATE, 0, NULL, NULL, NULL },
	{ "wordpress.com private: login page", { { "wpcompriv.xml", "/feed/" },
	    { "wpcompriv-login.html", "/log-in" } }, "/feed/", NULL, "login", FP_PRIVATE, 0,
	    NULL, NULL, NULL },
	{ "blogger via feedburner", { { "blogger.html", "/" },
	    { "blogger.xml", "/feeds/posts/default" } }, "/", "/feeds/posts/default", NULL,
	    FP_NONE, 2, "Thing 5 \u2013 Photos (and the cat)",
	    "https://gracesthings.blogspot.com/2026/11/thing-5-photos-and-cat.html",
	    "Flickr was where I started, years ago." },
	/* the warning page announces no feed: Blogger's usual place is tried */
	{ "blogger content warning", { { "blogger-warning.html", "/" },
	    { "blogger.xml", "/feeds/posts/default" } }, "/", "/feeds/posts/default",
	    NULL, FP_NONE, 2, "Catching up",
	    "https://gracesthings.blogspot.com/2026/11/catching-up.html",
	    "Two Things behind, but here goes." },
	{ "substack", { { "substack.html", "/" }, { "substack.xml", "/feed" } }, "/", "/feed",
	    NULL, FP_NONE, 1, "Thing 6: Bookmarks are a love letter to your future self",
	    "https://shelflife.substack.com/p/thing-6-bookmarks-are-a-love-letter",
	    "Or: why I finally cleaned up 4,000 browser bookmarks" },
	{ "ghost", { { "ghost.html", "/" }, { "ghost.xml", "/rss/" } }, "/", "/rss/", NULL,
	    FP_NONE, 1, "Maps, and the map room nobody visits",
	    "https://quietcarrel.ghost.io/maps-and-the-map-room/", "We have a map room." },
	{ "medium", { { "medium.html", "/@jolindqvist" }, { "medium.xml", "/feed/@jolindqvist" } },
	    "/@jolindqvist", "/feed/@jolindqvist", NULL, FP_NONE, 1,
	    "Cloud storage: what I learnt deleting 40 GB",
	    "https://medium.com/@jolindqvist/cloud-storage-what-i-learnt-deleting-40-gb-3f2a1b9c8d7e",
	    "My Drive, before. The storage warning" },
	{ "tumblr", { { "tumblr.html", "/" }, { "tumblr.xml", "/rss" } }, "/", "/rss", NULL,
	    FP_NONE, 2, "Photo", "https://stackspotting.tumblr.com/post/736201998877/our-new-zine-rack",
	    "Our new zine rack for Thing 5 \U0001f4da" },
	{ "squarespace", { { "squarespace.html", "/" }, { "squarespace.xml", "/blog" } }, "/",
	    "/blog?format=rss", NULL, FP_NONE, 1, "Video killed the induction talk",
	    "https://www.kitreads.com/blog/video-killed-the-induction-talk",
	    "For Thing 7 I replaced our twenty-minute induction talk" },
	{ "wix", { { "wix.html", "/blog" }, { "wix.xml", "/blog-feed.xml" } }, "/blog",
	    "/blog-feed.xml", NULL, FP_NONE, 1, "Mashups: a library events map in an afternoon",
	    "https://lenalog.wixsite.com/log/post/mashups-a-library-events-map-in-an-afternoon",
	    "I took our events spreadsheet" },
	{ "micro.blog (JSON Feed announced first)", { { "microblog.html", "/" },
	    { "microblog.xml", "/feed.xml" }, { "microblog.json", "/feed.json" } }, "/",
	    "/feed.xml", NULL, FP_NONE, 2, "Why I moved my reading log to a micro blog",
	    "https://moreads.micro.blog/2026/11/20/why-i-moved.html", "Short version: it is less work." },
	{ "micro.blog JSON Feed given", { { "microblog.json", "/feed.json" } }, "/feed.json", NULL,
	    "JSON Feed", FP_NOT_A_FEED, 0, NULL, NULL, NULL },
	{ "mastodon", { { "mastodon.html", "/@nadia" }, { "mastodon.rss", "/@nadia.rss" } },
	    "/@nadia", "/@nadia.rss", NULL, FP_NONE, 2, "@ollie yes, the cloud one was the hardest so far",
	    "https://glammr.us/@nadia/113531226700112233",
	    "Thing 11 is games. We ran a board-game afternoon for the teen group & 14 came." },
	{ "jekyll (relative links)", { { "jekyll.html", "/" }, { "jekyll.xml", "/feed.xml" } }, "/",
	    "/feed.xml", NULL, FP_NONE, 1, "Wikis & why our intranet is one",
	    "@/2026/11/22/wikis-and-our-intranet.html", "Our intranet is a wiki" },
	{ "hugo (relative links, year 0001)", { { "hugo.html", "/" }, { "hugo.xml", "/index.xml" } },
	    "/", "/index.xml", NULL, FP_NONE, 1, "Thing 9: Cloud storage",
	    "@/posts/thing-9-cloud-storage/", "I moved the branch rota" },
	{ "eleventy atom (xml:base)", { { "eleventy.xml", "/feed/feed.xml" } }, "/feed/feed.xml",
	    "/feed/feed.xml", NULL, FP_NONE, 1,
	    "Thing 10, mashups, in which I break a spreadsheet",
	    "https://sam.example.net/blog/thing-10-mashups/", "A mashup of our opening hours" },
	{ "podcast", { { "podcast.xml", "/podcast.xml" } }, "/podcast.xml", "/podcast.xml", NULL,
	    FP_NONE, 2, "Ep. 11 \u2013 Trailer", "https://op3.dev/e/media.example-cdn.com/overdue/ep11.mp3",
	    "A two-minute trailer." },
	{ "youtube channel", { { "youtube.html", "/channel/UCq1w2e3r4t5y6u7i8o9p0aB" },
	    { "youtube.xml", "/feeds/videos.xml" } }, "/channel/UCq1w2e3r4t5y6u7i8o9p0aB",
	    "/feeds/videos.xml?channel_id=UCq1w2e3r4t5y6u7i8o9p0aB", NULL, FP_NONE, 1,
	    "Thing 7: Video \u2014 filming a 60-second library tour",
	    "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "One phone, no tripod, sixty seconds" },
	{ "cloudflare challenge", { { "cloudflare.xml", "/feed/" } }, "/feed/", NULL,
	    "a bot check stands in front of the feed (HTTP status 403: Cloudflare",
	    FP_BLOCKED, 0, NULL, NULL, NULL },
	{ "feed served as text/html, with a BOM", { { "texthtml.xml", "/feed.xml" } }, "/feed.xml",
	    "/feed.xml", NULL, FP_NONE, 1, "Fotos: the reading room at dawn",
	    "https://tomas.example.es/2026/11/fotos", "Six photos" },
	{ "feed served as application/octet-stream", { { "octet", "/feed" } }, "/feed", "/feed",
	    NULL, FP_NONE, 1, "Bookmarks, finally sorted", "https://uli.example.de/bookmarks",
	    "Pinboard, then Raindrop" },
	{ "ISO-8859-1 declared", { { "latin1.xml", "/feed.xml" } }, "/feed.xml", "/feed.xml", NULL,
	    FP_NONE, 1, "Thing 2 : les flux, c'est d\u00e9j\u00e0 l'\u00e9t\u00e9",
	    "https://zoe.example.fr/flux", "Ma premi\u00e8re fois" },
	{ "windows-1252 declared", { { "cp1252.xml", "/feed.xml" } }, "/feed.xml", "/feed.xml",
	    NULL, FP_NONE, 1, "\u201cFree\u201d cloud storage \u2013 what it costs (\u20ac)",
	    "https://ana.example.ie/free-cloud", "It\u2019s free until it isn\u2019t" },
	{ "ISO-8859-1 undeclared", { { "latin1-undeclared.xml", "/feed.xml" } }, "/feed.xml",
	    "/feed.xml", NULL, FP_NONE, 1, "Kartor och tv\u00e5 \u00e5rs v\u00e4rde av m\u00f6ten",
	    "https://bjorn.example.se/kartor", "Vi ritade kartan \u00f6ver alla filialer" },
	/* a WordPress database migrated with one title's smart quote left a
	 * windows-1252 byte (0x92) in a UTF-8 feed: read as that character */
	{ "UTF-8 with a windows-1252 title", { { "mixed.xml", "/feed.xml" } }, "/feed.xml",
	    "/feed.xml", NULL, FP_NONE, 1, "Chloe\u2019s video week", "https://chloe.example.be/videos",
	    "Une semaine de vid\u00e9os \u2013 d\u00e9j\u00e0 !" },
	{ "double-escaped RSS", { { "escaped.xml", "/feed.xml" } }, "/feed.xml", "/feed.xml", NULL,
	    FP_NONE, 3, "Tom & Jerry & the 3D printer", "https://xavi.example.cat/tom-jerry",
	    "Escaped twice by a plugin \u2014 still readable." },
	{ "escaped once, about markup", { { "escaped.xml", "/feed.xml" } }, "/feed.xml",
	    "/feed.xml", NULL, FP_NONE, 3, "Why I write <br> by hand", "https://xavi.example.cat/br",
	    "A post about HTML." },
	{ "escaped once, markup in the title", { { "escaped.xml", "/feed.xml" } }, "/feed.xml",
	    "/feed.xml", NULL, FP_NONE, 3, "Bold claims about games", "https://xavi.example.cat/bold",
	    "Games \u2013 and why <blink> is not one." },
	{ "double-escaped Atom text", { { "escaped-atom.xml", "/atom.xml" } }, "/atom.xml",
	    "/atom.xml", NULL, FP_NONE, 2, "Podcasts & audiobooks \u2013 a love story",
	    "https://yara.example.com/podcasts", "Audiobooks & podcasts" },
	{ "emoji, right-to-left, very long", { { "intl.xml", "/feed.xml" } }, "/feed.xml",
	    "/feed.xml", NULL, FP_NONE, 4, "\U0001f389 Thing 1 done! \U0001f389 (and a \U0001f408)",
	    "https://dana.example.co.il/thing-1", "Emoji in the title" },
	{ "entries without dates", { { "undated.xml", "/feed.xml" } }, "/feed.xml", "/feed.xml",
	    NULL, FP_NONE, 0, NULL, NULL, NULL },
	/* a date more than a day ahead is no date: on a first fetch, like the
	 * undated ones, no post of it is news (one is an archive post dated 2099) */
	{ "dates in the future", { { "future.xml", "/feed.xml" } }, "/feed.xml", "/feed.xml", NULL,
	    FP_NONE, 0, NULL, NULL, NULL },
	{ "duplicate guids", { { "dupguid.xml", "/feed.xml" } }, "/feed.xml", "/feed.xml", NULL,
	    FP_NONE, 2, "Games night, part 2", "https://sol.example.org/games-2", "Second part." },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

struct run {
	struct fixture *f;
	struct httpd h;
	struct feeds_options o;
	int64_t author, reader;
	char text[1 << 16];
	char html[1 << 16];
	int composed;           /* 0: a digest; 1: nothing to send */
	int failed;             /* a check of this case failed (listed on stderr) */
};

/* Records a wrong outcome and goes on, so that one run lists them all. */
static void __attribute__((format(printf, 2, 3)))
wrong(struct run *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "WRONG: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	r->failed = 1;
}

static const struct feeds_thing things[NTHINGS] = { { "Blogging", NULL }, { "Feeds", NULL },
	{ "Podcasts", NULL } };

static void
url_of(const struct run *r, const char *path, char *out, size_t n)
{
	if (strncmp(path, "@/", 2) == 0)
		path++;
	snprintf(out, n, "%s%s", strncmp(path, "http", 4) == 0 ? "" : r->h.base, path);
}

static void
serve(struct run *r, const struct wild_case *c)
{
	for (size_t i = 0; i < FILES_MAX && c->files[i].fixture != NULL; i++) {
		char name[128], side[160], path[256];
		size_t len;
		char *data;
		FILE *fp;

		snprintf(name, sizeof(name), WILD "%s", c->files[i].fixture);
		data = fixture_read(name, NULL, NULL, &len);
		/* binary-safe: @BASE@ is ASCII, and some fixtures are not UTF-8 */
		/* "/" and "/feed/" are folders: the file is their index */
		snprintf(path, sizeof(path), "%s%s", c->files[i].path + 1,
		    c->files[i].path[strlen(c->files[i].path) - 1] != '/' ? "" :
		    strstr(c->files[i].fixture, ".html") ? "index.html" : "index.xml");
		httpd_put(&r->h, path, data);
		free(data);
		snprintf(side, sizeof(side), FIXTURES WILD "%s.http", c->files[i].fixture);
		if ((fp = fopen(side, "r")) != NULL) {
			fclose(fp);
			snprintf(name, sizeof(name), WILD "%s.http", c->files[i].fixture);
			data = fixture_read(name, NULL, NULL, &len);
			snprintf(side, sizeof(side), "%s.http", path);
			httpd_put(&r->h, side, data);
			free(data);
		}
	}
}

/* The digest the reader would get now, into r->text and r->html. */
static void
preview(struct run *r, int64_t now)
{
	struct participant p;
	struct buf raw;
	struct err e;
	const char *text = NULL, *html = NULL;
	char week[16];

	assert_int_equal(store_participant_by_id(r->f->st, r->reader, &p, &e), 0);
	buf_init(&raw, 0);
	r->composed = mailer_preview_digest(r->f->m, &p, now, &raw, &text, &html, week,
	    sizeof(week), &e);
	if (r->composed == -1)
		fail_msg("preview: %s", e.msg);
	snprintf(r->text, sizeof(r->text), "%s", r->composed == 0 ? text : "");
	snprintf(r->html, sizeof(r->html), "%s", r->composed == 0 ? html : "");
	buf_free(&raw);
	if (getenv("THINGS_WILD_SHOW") != NULL)
		fprintf(stderr, "----- digest text -----\n%s\n", r->text);
}

static int
occurrences(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* What no digest may show, whatever the feed: markup or entities in the
 * text part, tracking parameters, the same post twice. */
static void
check_clean(const struct wild_case *c, struct run *r)
{
	static const char *const junk[] = { "&amp;", "&lt;", "&gt;", "&#", "&quot;", "<p>", "</p>",
		"<b>", "<img", "<div", "<span", "utm_", "source=rss", "Continue reading", "\xef\xbf\xbd", NULL };
	const char *links = r->html;

	for (size_t i = 0; junk[i] != NULL; i++)
		if (strstr(r->text, junk[i]) != NULL)
			wrong(r, "%s: the digest's text shows '%s':\n%s", c->name, junk[i], r->text);
	if (strstr(r->html, "utm_") != NULL || strstr(r->html, "source=rss") != NULL)
		wrong(r, "%s: tracking parameters in the HTML:\n%s", c->name, r->html);
	/* each post's link once */
	for (const char *a; (a = strstr(links, "<a href=\"")) != NULL; links = a + 9) {
		char href[512];
		size_t n = strcspn(a + 9, "\"");

		snprintf(href, sizeof(href), "\"%.*s\"", (int)(n < 500 ? n : 500), a + 9);
		if (strstr(href, "blog") == NULL && occurrences(r->html, href) > 1 &&
		    occurrences(r->html, href) != occurrences(r->html, "<li>"))
			wrong(r, "%s: %s listed twice:\n%s", c->name, href, r->html);
	}
}

static void
check_outcome(const struct wild_case *c, struct run *r, const char *feed_url, int64_t at)
{
	struct participant p;
	struct feed fd;
	struct err e;
	enum feeds_problem got;

	assert_int_equal(store_participant_by_id(r->f->st, r->author, &p, &e), 0);
	assert_int_equal(store_feed_ensure(r->f->st, r->author, p.feed_url[0] ? p.feed_url :
	    p.blog_url, NOW, &fd, &e), 1);
	got = feeds_problem_of(fd.status == FS_GONE, fd.last_error);
	if (got != c->problem)
		wrong(r, "%s: '%s' is %s, want %s", c->name, fd.last_error,
		    feeds_problem_name(got), feeds_problem_name(c->problem));
	if (c->problem != FP_NONE && c->why != NULL && feed_url[0] == '\0' &&
	    strstr(fd.last_error, c->why) == NULL && strncmp(c->why, "does not", 8) != 0)
		wrong(r, "%s: recorded '%s', want '%s' in it", c->name, fd.last_error, c->why);
	preview(r, at);
	if (c->posts == 0) {
		if (r->composed != 1)
			wrong(r, "%s: a digest with nothing to show:\n%s", c->name, r->text);
		return;
	}
	if (r->composed != 0)
		wrong(r, "%s: no digest, want %d posts", c->name, c->posts);
	if (occurrences(r->html, "<li>") != c->posts)
		wrong(r, "%s: %d posts, want %d:\n%s", c->name, occurrences(r->html, "<li>"), c->posts,
		    r->text);
	check_clean(c, r);
	if (c->title != NULL && !has(r->text, c->title))
		wrong(r, "%s: no title '%s' in:\n%s", c->name, c->title, r->text);
	if (c->link != NULL) {
		char want[512];

		url_of(r, c->link, want, sizeof(want));
		if (strstr(r->html, want) == NULL)
			wrong(r, "%s: no link %s in:\n%s", c->name, want, r->html);
	}
	if (c->excerpt != NULL && !has(r->text, c->excerpt))
		wrong(r, "%s: no excerpt '%s' in:\n%s", c->name, c->excerpt, r->text);
}

static int
run_case(const struct wild_case *c, void **state)
{
	struct run *r = calloc(1, sizeof(*r));
	char blog[256], feed[FEEDS_URL_MAX + 1], want[256];
	struct feeds_stats s;
	struct err e;
	int rc;

	assert_non_null(r);
	if (setup(state) == -1)
		fail_msg("setup");
	r->f = *state;
	if (httpd_start(&r->h, "127.0.0.1", NULL) == -1)
		fail_msg("httpd");
	serve(r, c);
	feeds_options_default(&r->o);
	r->o.allow_private = 1;
	r->o.timeout = 10;
	r->author = add_active(r->f, "author@example.org", "Pat Author", NOW - 30 * DAY);
	r->reader = add_active(r->f, "reader@example.org", "Robin Reader", NOW - 30 * DAY);
	url_of(r, c->blog, blog, sizeof(blog));
	rc = feeds_discover(&r->o, blog, feed, sizeof(feed), &e);
	if (c->feed != NULL) {
		url_of(r, c->feed, want, sizeof(want));
		if (rc != 0)
			wrong(r, "%s: discovery failed: %s", c->name, e.msg);
		else if (strcmp(feed, want) != 0)
			wrong(r, "%s: discovery found %s, want %s", c->name, feed, want);
	} else if (c->why != NULL && c->problem != FP_NONE) {
		if (rc == 0)
			wrong(r, "%s: discovery found %s", c->name, feed);
		if (strstr(e.msg, c->why) == NULL)
			wrong(r, "%s: discovery says '%s', want '%s' in it", c->name, e.msg, c->why);
		feed[0] = '\0';
	}
	/* as the blog handler records it: the feed if one was found */
	if (store_participant_set_blog(r->f->st, r->author, blog, rc == 0 ? feed : "", &e) == -1)
		wrong(r, "%s", e.msg);
	if (feeds_poll(r->f->st, &r->o, things, NTHINGS, NOW, &s, &e) != 0)
		wrong(r, "%s: feeds_poll: %s", c->name, e.msg);
	check_outcome(c, r, rc == 0 ? feed : "", NOW + 3600);
	httpd_stop(&r->h);
	if (teardown(state) == -1)
		wrong(r, "teardown");
	rc = r->failed;
	free(r);
	return rc;
}

static void
test_wild_corpus(void **state)
{
	const char *only = getenv("THINGS_WILD_ONLY");
	int failed = 0;

	for (size_t i = 0; i < NCASES; i++) {
		if (only != NULL && strstr(cases[i].name, only) == NULL)
			continue;
		if (getenv("THINGS_WILD_SHOW") != NULL)
			fprintf(stderr, "===== %s =====\n", cases[i].name);
		failed += run_case(&cases[i], state);
	}
	if (failed > 0)
		fail_msg("%d of the wild feeds are not read as they should be", failed);
}

/* A feed that makes up new guids (and tracking parameters) at every
 * build: each post is stored once, and the digest lists each once, at its
 * clean address. */
static void
test_wild_rotating_guids(void **state)
{
	static const struct wild_case c = { "rotating guids", { { NULL, NULL } }, NULL, NULL, NULL,
		FP_NONE, 2, "Looking back on Thing 12", "https://uwe.example.org/looking-back",
		"Every fetch, a new guid for the same post." };
	struct run *r = calloc(1, sizeof(*r));
	const char *fetches[] = { "build-1", "build-2", "build-3" };
	struct feeds_stats s;
	struct err e;
	char feed[256];
	int64_t stored;

	assert_non_null(r);
	assert_int_equal(setup(state), 0);
	r->f = *state;
	assert_int_equal(httpd_start(&r->h, "127.0.0.1", NULL), 0);
	feeds_options_default(&r->o);
	r->o.allow_private = 1;
	r->author = add_active(r->f, "author@example.org", "Pat Author", NOW - 30 * DAY);
	r->reader = add_active(r->f, "reader@example.org", "Robin Reader", NOW - 30 * DAY);
	snprintf(feed, sizeof(feed), "%s/feed.xml", r->h.base);
	assert_int_equal(store_participant_set_blog(r->f->st, r->author, feed, feed, &e), 0);
	for (size_t i = 0; i < 3; i++) {
		size_t len;
		char *data = fixture_read(WILD "rotating.xml", "@FETCH@", fetches[i], &len);

		httpd_put(&r->h, "feed.xml", data);
		free(data);
		if (feeds_poll(r->f->st, &r->o, things, NTHINGS, NOW + (int64_t)i * 6 * 3600, &s,
		    &e) != 0)
			fail_msg("feeds_poll: %s", e.msg);
	}
	/* a post of the same link and title is known, whatever its guid:
	 * the store keeps two posts, not two a fetch */
	assert_int_equal(store_post_count(r->f->st, 0, -1, &stored, &e), 0);
	assert_int_equal(stored, 2);
	check_outcome(&c, r, feed, NOW + 13 * 3600);
	httpd_stop(&r->h);
	assert_int_equal(teardown(state), 0);
	stored = r->failed;
	free(r);
	assert_int_equal(stored, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wild_corpus),
		cmocka_unit_test(test_wild_rotating_guids),
	};
	int rc;

	feeds_test_init();
	rc = cmocka_run_group_tests(tests, NULL, feeds_test_cleanup);
	return feeds_test_done(rc);
}
