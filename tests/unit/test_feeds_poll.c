/* feeds_poll end to end: a real store in a temporary directory and real
 * feeds served on loopback by tests/tools/httpd.py, whose request log shows
 * what was fetched and how (304s, redirects, nothing for gone feeds). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../feeds/feeds.h"
#include "test_feeds_common.h"
#include "test_feeds_httpd.h"

#define NOW ((int64_t)1795500000) /* 2026-11-24 05:20 UTC */
#define DAY ((int64_t)86400)
#define WORDPRESS_TITLE "Eve's 12 Things" /* tests/fixtures/feeds/wordpress.xml */
#define WORDPRESS_SITE "https://eve12things.wordpress.com" /* its channel's link */

struct fixture {
	struct httpd h;
	struct httpd big;   /* a second server some tests start */
	struct test_store ts;
	struct store *st;   /* ts.st */
	struct feeds_options o;
	int64_t ada, bo, cy, dee;    /* cy is pending; dee has no blog */
};

static const struct feeds_thing things[12] = {
	{ "Blogs", NULL }, { "RSS feeds", NULL }, { "Wikis", NULL }, { "Podcasts", NULL },
	{ "Photos", NULL }, { "Bookmarks", NULL }, { "Video", NULL }, { "Maps", NULL },
	{ "Cloud storage", NULL }, { "Mashups", NULL }, { "Games", NULL }, { "Looking back", NULL },
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || httpd_start(&f->h, "127.0.0.1", NULL) == -1 ||
	    test_store_open(&f->ts) == -1)
		return -1;
	f->st = f->ts.st;
	f->ada = test_participant(f->st, "ada@example.org", PS_ACTIVE);
	f->bo = test_participant(f->st, "bo@example.net", PS_ACTIVE);
	f->cy = test_participant(f->st, "cy@example.com", PS_PENDING);
	f->dee = test_participant(f->st, "dee@example.com", PS_ACTIVE);
	feeds_options_default(&f->o);
	f->o.allow_private = 1;
	f->o.timeout = 10;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	httpd_stop(&f->h);
	httpd_stop(&f->big);
	rc = test_store_close(&f->ts);
	free(f);
	return rc;
}

static void
blog(struct fixture *f, int64_t who, const char *blog_path, const char *feed_path)
{
	char b[256] = "", fe[256] = "";
	struct err e;

	if (blog_path)
		snprintf(b, sizeof(b), "%s%s", f->h.base, blog_path);
	if (feed_path)
		snprintf(fe, sizeof(fe), "%s%s", f->h.base, feed_path);
	assert_int_equal(store_participant_set_blog(f->st, who, b, fe, &e), 0);
}

static void
poll_at(struct fixture *f, int64_t now, struct feeds_stats *s)
{
	struct err e;

	if (feeds_poll(f->st, &f->o, things, 12, now, s, &e) != 0)
		fail_msg("feeds_poll: %s", e.msg);
}

/* The participant's current feed row. */
static void
feed_of(struct fixture *f, int64_t who, struct feed *out)
{
	struct participant p;
	struct err e;

	assert_int_equal(store_participant_by_id(f->st, who, &p, &e), 0);
	assert_int_equal(store_feed_ensure(f->st, who, p.feed_url[0] ? p.feed_url : p.blog_url,
	    NOW, out, &e), 1);
}

/* Checks that the participant's feed URL is now base + path and gives
 * the feed row. */
static void
assert_feed_url(struct fixture *f, int64_t who, const char *path, struct feed *fd)
{
	struct participant p;
	struct err e;
	char want[256];

	snprintf(want, sizeof(want), "%s%s", f->h.base, path);
	assert_int_equal(store_participant_by_id(f->st, who, &p, &e), 0);
	assert_string_equal(p.feed_url, want);
	feed_of(f, who, fd);
	assert_string_equal(fd->url, want);
}

static int
requests(struct fixture *f, const char *what, int want)
{
	return httpd_expect(&f->h, (const char *[]){ what, NULL }, want);
}

struct count_arg {
	int n;
	int64_t id;
};

static int
count_feed(void *arg, const struct feed *fd)
{
	struct count_arg *c = arg;

	c->n++;
	c->id = fd->id;
	return 0;
}

static int
broken_count(struct fixture *f, int min)
{
	struct count_arg c = { 0, 0 };
	struct err e;

	assert_int_equal(store_feed_each_broken(f->st, min, count_feed, &c, &e), 0);
	return c.n;
}

static void
test_poll_first_fetch_then_304(void **state)
{
	struct fixture *f = *state;
	struct feeds_stats s;
	struct feed fd;
	struct post p;
	struct err e;
	int64_t n;

	httpd_put_fixture(&f->h, "feed.xml", "wordpress.xml");
	httpd_put_fixture(&f->h, "cy.xml", "rss2.xml");
	blog(f, f->ada, "/", "/feed.xml");
	blog(f, f->cy, "/cy.xml", NULL);               /* pending: not fetched */
	assert_int_equal(store_participant_set_blog(f->st, f->bo, "javascript:alert(1)", "", &e),
	    0);                                        /* not http: skipped */

	poll_at(f, NOW, &s);
	assert_int_equal(s.feeds, 1);
	assert_int_equal(s.new_posts, 2);
	assert_int_equal(s.digest_posts, 1);           /* the 16 Nov post is 8 days old */
	assert_int_equal(s.not_modified + s.failed + s.retired + s.moved, 0);
	feed_of(f, f->ada, &fd);
	assert_int_equal(fd.last_ok_at, NOW);
	assert_int_equal(fd.failures, 0);
	assert_true(fd.etag[0] == '"');
	assert_string_equal(fd.title, WORDPRESS_TITLE);
	assert_string_equal(fd.site_url, WORDPRESS_SITE);
	assert_int_equal(store_post_by_key(f->st, fd.id, "http://eve12things.wordpress.com/?p=123",
	    &p, &e), 0);
	assert_int_equal(p.for_digest, 1);
	assert_int_equal(p.thing, 4);
	assert_string_equal(p.title, "Thing #4 \xe2\x80\x93 Wikis & me");
	assert_int_equal(p.first_seen_at, NOW);
	assert_int_equal(store_post_by_key(f->st, fd.id, "http://eve12things.wordpress.com/?p=120",
	    &p, &e), 0);
	assert_int_equal(p.for_digest, 0);

	/* Unchanged: a 304, nothing new. */
	poll_at(f, NOW + 3600, &s);
	assert_int_equal(s.feeds, 1);
	assert_int_equal(s.not_modified, 1);
	assert_int_equal(s.new_posts, 0);
	assert_int_equal(httpd_expect(&f->h, (const char *[]){ "GET /feed.xml 304", "inm", NULL },
	    1), 1);
	assert_int_equal(requests(f, "GET /feed.xml", 2), 2);
	assert_int_equal(requests(f, "/cy.xml", 0), 0);
	feed_of(f, f->ada, &fd);
	assert_int_equal(fd.last_ok_at, NOW + 3600);

	/* Changed: one new entry, for the digest. */
	httpd_put(&f->h, "feed.xml", "<rss version=\"2.0\"><channel><title>Eve</title>"
	    "<item><guid>new-1</guid><title>Thing 5 at last</title>"
	    "<link>https://eve12things.wordpress.com/2026/11/25/t5/</link></item>"
	    "<item><guid isPermaLink=\"false\">http://eve12things.wordpress.com/?p=123</guid>"
	    "<title>Rewritten</title></item></channel></rss>");
	poll_at(f, NOW + 2 * DAY, &s);
	assert_int_equal(s.not_modified, 0);
	assert_int_equal(s.new_posts, 1);
	assert_int_equal(s.digest_posts, 1);
	assert_int_equal(store_post_by_key(f->st, fd.id, "new-1", &p, &e), 0);
	assert_int_equal(p.thing, 5);
	assert_int_equal(p.first_seen_at, NOW + 2 * DAY);
	assert_int_equal(store_post_count(f->st, 0, -1, &n, &e), 0);
	assert_int_equal(n, 3);
	/* The blog's name follows the feed's title. */
	feed_of(f, f->ada, &fd);
	assert_string_equal(fd.title, "Eve");
}

static void
test_poll_moved_permanently(void **state)
{
	struct fixture *f = *state;
	static const char map[] = "/old.xml 301 /new.xml\n/temp.xml 302 /other.xml\n";
	struct feeds_stats s;
	struct feed fd;
	struct err e;
	int64_t n;

	httpd_write(f->h.redirects, map, strlen(map));
	httpd_put_fixture(&f->h, "new.xml", "rss2.xml");
	httpd_put_fixture(&f->h, "other.xml", "atom.xml");
	blog(f, f->bo, "/", "/old.xml");
	blog(f, f->ada, "/", "/temp.xml");

	poll_at(f, NOW, &s);
	assert_int_equal(s.feeds, 2);
	assert_int_equal(s.moved, 1);
	assert_int_equal(s.new_posts, 6 + 3);
	assert_feed_url(f, f->bo, "/new.xml", &fd);
	assert_int_equal(store_post_count(f->st, fd.id, -1, &n, &e), 0);
	assert_int_equal(n, 6);
	/* A temporary redirect is not a move. */
	assert_feed_url(f, f->ada, "/temp.xml", &fd);

	poll_at(f, NOW + DAY, &s);
	assert_int_equal(s.moved, 0);
	assert_int_equal(s.not_modified, 2);
	assert_int_equal(requests(f, "GET /old.xml", 1), 1);
	assert_int_equal(httpd_expect(&f->h, (const char *[]){ "GET /new.xml 304", NULL }, 1), 1);
	assert_int_equal(requests(f, "GET /temp.xml 302", 2), 2);

	/* Now a permanent move to a URL serving the same feed: a 304 there
	 * still moves the stored URL. */
	httpd_write(f->h.redirects, "/temp.xml 301 /other.xml\n", 25);
	poll_at(f, NOW + 2 * DAY, &s);
	assert_int_equal(s.moved, 1);
	assert_int_equal(s.not_modified, 2);
	assert_int_equal(s.new_posts, 0);
	assert_feed_url(f, f->ada, "/other.xml", &fd);
	assert_int_equal(fd.last_ok_at, NOW + 2 * DAY);
	assert_true(fd.etag[0] == '"');
	assert_int_equal(requests(f, "GET /temp.xml 301", 1), 1);
	/* one behind the 302 of the second poll, one behind the 301 */
	assert_int_equal(httpd_expect(&f->h, (const char *[]){ "GET /other.xml 304", NULL }, 2), 2);
}

static void
test_poll_gone(void **state)
{
	struct fixture *f = *state;
	static const char gone[] = "/gone.xml\n";
	struct feeds_stats s;
	struct feed fd;

	httpd_write(f->h.gone, gone, strlen(gone));
	blog(f, f->ada, "/", "/gone.xml");
	poll_at(f, NOW, &s);
	assert_int_equal(s.retired, 1);
	feed_of(f, f->ada, &fd);
	assert_int_equal(fd.status, FS_GONE);
	assert_non_null(strstr(fd.last_error, "410"));
	assert_int_equal(broken_count(f, 5), 1);        /* her owner is to be told */

	poll_at(f, NOW + DAY, &s);
	assert_int_equal(s.feeds, 0);
	assert_int_equal(s.retired, 0);
	assert_int_equal(requests(f, "GET /gone.xml", 1), 1);
}

static void
test_poll_failures_recorded(void **state)
{
	struct fixture *f = *state;
	struct feeds_stats s;
	struct feed fd;
	struct err e;
	int64_t n;

	blog(f, f->ada, "/", "/missing.xml");
	httpd_put_fixture(&f->h, "broken.xml", "broken.xml");
	blog(f, f->bo, "/", "/broken.xml");
	for (int i = 0; i < 3; i++) {
		poll_at(f, NOW + i, &s);
		assert_int_equal(s.failed, 2);
	}
	feed_of(f, f->ada, &fd);
	assert_int_equal(fd.failures, 3);
	assert_string_equal(fd.last_error, "HTTP status 404");
	assert_int_equal(fd.last_fetch_at, NOW + 2);
	assert_int_equal(fd.last_ok_at, 0);
	feed_of(f, f->bo, &fd);
	assert_int_equal(fd.failures, 3);
	assert_non_null(strstr(fd.last_error, "not well-formed XML"));
	assert_int_equal(store_post_count(f->st, 0, -1, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(broken_count(f, 3), 2);
	assert_int_equal(broken_count(f, 4), 0);

	/* Ada's feed appears: back to health, and her posts are a first fetch. */
	httpd_put_fixture(&f->h, "missing.xml", "wordpress.xml");
	poll_at(f, NOW + DAY, &s);
	assert_int_equal(s.failed, 1);
	assert_int_equal(s.new_posts, 2);
	feed_of(f, f->ada, &fd);
	assert_int_equal(fd.failures, 0);
	assert_string_equal(fd.last_error, "");
	assert_int_equal(fd.last_ok_at, NOW + DAY);
	assert_int_equal(broken_count(f, 3), 1);
}

static void
test_poll_discovers_feed(void **state)
{
	struct fixture *f = *state;
	static const char map[] = "/feed/ 302 /wordpress.xml\n";
	struct feeds_stats s;
	struct feed fd;
	struct err e;
	int64_t n;

	httpd_write(f->h.redirects, map, strlen(map));
	httpd_put_fixture(&f->h, "blog.html", "wordpress-page.html");
	httpd_put_fixture(&f->h, "wordpress.xml", "wordpress.xml");
	httpd_put_fixture(&f->h, "bo.xml", "atom.xml");
	httpd_put(&f->h, "nofeed.html", "<!DOCTYPE html><html><head><title>x</title></head>"
	    "<body>no feed</body></html>");
	blog(f, f->ada, "/blog.html", NULL);   /* a page: its feed is found */
	blog(f, f->bo, "/bo.xml", NULL);       /* the blog URL is the feed */
	blog(f, f->dee, "/nofeed.html", NULL);

	poll_at(f, NOW, &s);
	assert_int_equal(s.feeds, 3);
	assert_int_equal(s.moved, 1);
	assert_int_equal(s.failed, 1);
	assert_int_equal(s.new_posts, 2 + 3);
	assert_feed_url(f, f->ada, "/feed/", &fd);
	assert_int_equal(store_post_count(f->st, fd.id, -1, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_feed_url(f, f->bo, "/bo.xml", &fd);
	feed_of(f, f->dee, &fd);
	assert_int_equal(fd.failures, 1);
	assert_non_null(strstr(fd.last_error, "does not announce a feed"));

	/* Next time the feed is fetched directly, conditionally. */
	poll_at(f, NOW + DAY, &s);
	assert_int_equal(s.moved, 0);
	assert_int_equal(s.not_modified, 2);
	assert_int_equal(requests(f, "GET /blog.html", 1), 1);
	assert_int_equal(httpd_expect(&f->h, (const char *[]){ "GET /wordpress.xml 304", NULL },
	    1), 1);
}

static void
test_poll_guard_and_size_cap(void **state)
{
	struct fixture *f = *state;
	struct feeds_stats s;
	struct feed fd;
	struct err e;
	char url[128];
	const char *extra[] = { "--chunked", "/endless.xml=500000000", NULL };

	httpd_put_fixture(&f->h, "feed.xml", "rss2.xml");
	blog(f, f->ada, "/", "/feed.xml");
	f->o.allow_private = 0;
	poll_at(f, NOW, &s);
	assert_int_equal(s.failed, 1);
	feed_of(f, f->ada, &fd);
	assert_string_equal(fd.last_error, "refused to connect: 127.0.0.1 is a loopback address");
	assert_int_equal(requests(f, "GET", 0), 0);

	f->o.allow_private = 1;
	f->o.max_size = 100000;
	assert_int_equal(httpd_start(&f->big, "127.0.0.1", extra), 0);
	snprintf(url, sizeof(url), "%s/endless.xml", f->big.base);
	assert_int_equal(store_participant_set_blog(f->st, f->bo, url, url, &e), 0);
	poll_at(f, NOW + 1, &s);
	assert_int_equal(s.feeds, 2);
	assert_int_equal(s.failed, 1);
	assert_int_equal(s.new_posts, 6);
	feed_of(f, f->bo, &fd);
	assert_string_equal(fd.last_error, "larger than 100000 bytes");
}

/* A feed that worked, whose address now shows a page naming another feed:
 * followed on the same site (the blog moved its feed), not to another
 * participant's feed (their posts would come under this name) nor to
 * another site (a parked domain, a platform's front page). */
static void
test_poll_page_names_another_feed(void **state)
{
	struct fixture *f = *state;
	static const char page[] = "<!DOCTYPE html><html><head><title>A blog</title>"
	    "<link rel=\"alternate\" type=\"application/rss+xml\" href=\"%s\">"
	    "</head><body>A blog</body></html>";
	char html[512], other[128];
	struct feeds_stats s;
	struct feed fd;
	struct err e;
	int64_t n;

	httpd_put_fixture(&f->h, "ada.xml", "rss2.xml");
	httpd_put_fixture(&f->h, "bo.xml", "atom.xml");
	httpd_put_fixture(&f->h, "dee.xml", "blogger.xml");
	blog(f, f->ada, "/", "/ada.xml");
	blog(f, f->bo, "/", "/bo.xml");
	blog(f, f->dee, "/", "/dee.xml");
	poll_at(f, NOW, &s);
	assert_int_equal(s.failed, 0);

	/* ada's address now shows a page naming bo's feed */
	snprintf(html, sizeof(html), page, "@BASE@/bo.xml");
	httpd_put(&f->h, "ada.xml", html);
	/* dee's, a page naming a feed on another host name of the same server */
	snprintf(other, sizeof(other), "http://localhost:%d/dee-new.xml", f->h.port);
	snprintf(html, sizeof(html), page, other);
	httpd_put(&f->h, "dee.xml", html);
	httpd_put_fixture(&f->h, "dee-new.xml", "blogger.xml");
	poll_at(f, NOW + DAY, &s);
	assert_int_equal(s.moved, 0);
	assert_int_equal(s.failed, 2);
	assert_feed_url(f, f->ada, "/ada.xml", &fd);
	assert_non_null(strstr(fd.last_error, "names another participant's feed"));
	assert_int_equal(feeds_problem_of(0, fd.last_error), FP_WEB_PAGE);
	assert_int_equal(store_post_count(f->st, fd.id, -1, &n, &e), 0);
	assert_int_equal(n, 6); /* rss2.xml has six items; none of bo's came in */
	assert_feed_url(f, f->dee, "/dee.xml", &fd);
	assert_non_null(strstr(fd.last_error, "names a feed on another site"));
	assert_int_equal(feeds_problem_of(0, fd.last_error), FP_WEB_PAGE);
	assert_int_equal(requests(f, "GET /dee-new.xml", 0), 0);

	/* the same site, a feed nobody has: the blog moved its feed */
	snprintf(html, sizeof(html), page, "@BASE@/ada-new.xml");
	httpd_put(&f->h, "ada.xml", html);
	httpd_put_fixture(&f->h, "ada-new.xml", "rss2.xml");
	poll_at(f, NOW + 2 * DAY, &s);
	assert_int_equal(s.moved, 1);
	assert_feed_url(f, f->ada, "/ada-new.xml", &fd);
	assert_int_equal(fd.failures, 0);
}

/* Many participants on one host, two connections at a time. */
/* More feeds than the reader may hold at once (PENDING_MAX) and than one
 * transaction stores (STORE_BATCH), broken ones among them: every good
 * feed's posts and validators are stored, every broken one is recorded
 * failed with nothing stored, whatever the batch it fell in. */
static void
test_poll_many(void **state)
{
	enum { N = 150 };
	struct fixture *f = *state;
	struct feeds_stats s;
	int64_t ids[N], n;
	int broken = 0, good = 0;
	struct feed fd;
	struct err e;

	f->o.per_host = 2;
	f->o.parallelism = 4;
	for (int i = 0; i < N; i++) {
		char addr[64], name[32], path[40];

		snprintf(addr, sizeof(addr), "p%d@example.org", i);
		ids[i] = test_participant(f->st, addr, PS_ACTIVE);
		snprintf(name, sizeof(name), "f%d.xml", i);
		httpd_put_fixture(&f->h, name, i % 7 == 3 ? "broken.xml" :
		    i % 2 ? "rss1.rdf" : "blogger.xml");
		if (i % 7 == 3)
			broken++;
		else
			good++;
		snprintf(path, sizeof(path), "/%s", name);
		blog(f, ids[i], "/", path);
	}
	poll_at(f, NOW, &s);
	assert_int_equal(s.feeds, N);
	assert_int_equal(s.failed, broken);
	assert_int_equal(s.new_posts, good * 2);
	assert_int_equal(store_post_count(f->st, 0, -1, &n, &e), 0);
	assert_int_equal(n, good * 2);
	for (int i = 0; i < N; i++) {
		feed_of(f, ids[i], &fd);
		if (i % 7 == 3) {
			assert_int_equal(fd.failures, 1);
			assert_int_equal(fd.last_ok_at, 0);
			assert_int_equal(store_post_count(f->st, fd.id, -1, &n, &e), 0);
			assert_int_equal(n, 0);
		} else {
			assert_int_equal(fd.failures, 0);
			assert_int_equal(fd.last_ok_at, NOW);
			assert_string_not_equal(fd.etag, "");
		}
	}
	assert_int_equal(requests(f, "GET /f", N), N);
	/* and the next round is all 304s, stored in the same batches */
	poll_at(f, NOW + 1, &s);
	assert_int_equal(s.not_modified, good);
	assert_int_equal(s.failed, broken);
	assert_int_equal(s.new_posts, 0);
}

/* A blog whose host is written in another script is fetched at its ASCII
 * name (libcurl would not convert it under cron's C locale), and the
 * participant's feed keeps that form.  curl resolves *.localhost to
 * loopback itself, so no DNS is needed. */
static void
test_poll_host_in_another_script(void **state)
{
	struct fixture *f = *state;
	struct participant p;
	struct feeds_stats s;
	char url[160], want[160];
	struct err e;

	httpd_put_fixture(&f->h, "f.xml", "rss2.xml");
	snprintf(url, sizeof(url), "http://j\xc3\xb6rg.localhost:%d/f.xml", f->h.port);
	snprintf(want, sizeof(want), "http://xn--jrg-sna.localhost:%d/f.xml", f->h.port);
	assert_int_equal(store_participant_set_blog(f->st, f->ada, url, "", &e), 0);
	poll_at(f, NOW, &s);
	assert_int_equal(s.feeds, 1);
	assert_int_equal(s.failed, 0);
	assert_true(s.new_posts > 0);
	assert_int_equal(store_participant_by_id(f->st, f->ada, &p, &e), 0);
	assert_string_equal(p.feed_url, want);
	assert_string_equal(p.blog_url, url);   /* shown as the participant wrote it */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_poll_first_fetch_then_304, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_moved_permanently, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_failures_recorded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_discovers_feed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_guard_and_size_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_page_names_another_feed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_host_in_another_script, setup, teardown),
	};
	feeds_test_init();
	return feeds_test_done(cmocka_run_group_tests(tests, NULL, feeds_test_cleanup));
}
