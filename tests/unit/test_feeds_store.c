/* Unit tests for the feeds part of the store (schema v2, feeds, posts) and
 * for feeds_ingest's rules (dedupe, no backfill, stale entries, the cap,
 * broken feeds, matching) against a real store in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "../../feeds/feeds.h"
#include "test_feeds_common.h"

#define NOW ((int64_t)1795500000) /* 2026-11-24 */
#define DAY ((int64_t)86400)

struct fixture {
	struct test_store ts;
	struct store *st;      /* ts.st */
	int64_t ada, bo, cy;   /* active, active, pending */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || test_store_open(&f->ts) == -1)
		return -1;
	f->st = f->ts.st;
	f->ada = test_participant(f->st, "ada@example.org", PS_ACTIVE);
	f->bo = test_participant(f->st, "bo@example.net", PS_ACTIVE);
	f->cy = test_participant(f->st, "cy@example.com", PS_PENDING);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc = test_store_close(&f->ts);

	free(f);
	return rc;
}

/* Later migrations may come; these tables and columns must be there. */
static void
test_schema(void **state)
{
	struct fixture *f = *state;
	struct store *again;
	struct err e;
	sqlite3 *db;
	sqlite3_stmt *s;

	assert_int_equal(sqlite3_open(f->ts.path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_true(sqlite3_column_int(s, 0) >= 3);
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_exec(db, "SELECT id, participant_id, url, etag, last_modified,"
	    " status, failures, last_error, last_ok_at, last_fetch_at, told_at, created_at, title,"
	    " site_url"
	    " FROM feeds; SELECT week, window_from, window_to, created_at, recipients, posts"
	    " FROM digests; SELECT started_at, finished_at, feeds, not_modified, failed, new_posts"
	    " FROM feed_rounds;"
	    " SELECT id, participant_id, feed_id, entry_key, title, link, excerpt, published_at,"
	    " first_seen_at, thing, for_digest FROM posts", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->ts.path, &again, &e), 0);
	store_close(again);
}

static void
test_feed_ensure(void **state)
{
	struct fixture *f = *state;
	struct feed a, b, x;
	struct err e;
	char longurl[STORE_URL_MAX + 32];

	assert_int_equal(store_feed_ensure(f->st, f->ada, "https://ada.example.org/feed",
	    NOW, &a, &e), 0);
	assert_int_equal(a.status, FS_ACTIVE);
	assert_int_equal(a.participant_id, f->ada);
	assert_int_equal(a.created_at, NOW);
	assert_int_equal(a.last_ok_at, 0);
	assert_int_equal(store_feed_ensure(f->st, f->ada, "https://ada.example.org/feed",
	    NOW, &x, &e), 1);
	assert_int_equal(x.id, a.id);

	/* A new blog replaces the old feed; going back reactivates the old row. */
	assert_int_equal(store_feed_ensure(f->st, f->ada, "https://ada.example.net/rss",
	    NOW, &b, &e), 0);
	assert_true(b.id != a.id);
	assert_int_equal(store_feed_get(f->st, a.id, &x, &e), 0);
	assert_int_equal(x.status, FS_REPLACED);
	assert_int_equal(store_feed_ensure(f->st, f->ada, "https://ada.example.org/feed",
	    NOW, &x, &e), 1);
	assert_int_equal(x.id, a.id);
	assert_int_equal(x.status, FS_ACTIVE);
	assert_int_equal(store_feed_get(f->st, b.id, &x, &e), 0);
	assert_int_equal(x.status, FS_REPLACED);

	/* Gone stays gone. */
	assert_int_equal(store_feed_retire(f->st, a.id, "410", NOW, &e), 0);
	assert_int_equal(store_feed_ensure(f->st, f->ada, "https://ada.example.org/feed",
	    NOW, &x, &e), 1);
	assert_int_equal(x.id, a.id);
	assert_int_equal(x.status, FS_GONE);

	/* Another participant with the same URL has a feed of their own. */
	assert_int_equal(store_feed_ensure(f->st, f->bo, "https://ada.example.org/feed",
	    NOW, &x, &e), 0);
	assert_true(x.id != a.id);

	assert_int_equal(store_feed_ensure(f->st, f->bo, "ftp://x.example/", NOW, &x, &e), -1);
	assert_int_equal(store_feed_ensure(f->st, f->bo, "https://x.example/\n", NOW, &x, &e), -1);
	memset(longurl, 'a', sizeof(longurl) - 1);
	memcpy(longurl, "https://", 8);
	longurl[sizeof(longurl) - 1] = '\0';
	assert_int_equal(store_feed_ensure(f->st, f->bo, longurl, NOW, &x, &e), -1);
	assert_int_equal(store_feed_get(f->st, 9999, &x, &e), 1);
}

struct listed {
	int64_t ids[8];
	int n;
};

static int
list_feed(void *arg, const struct feed *fd)
{
	struct listed *l = arg;

	if (l->n < 8)
		l->ids[l->n] = fd->id;
	l->n++;
	return 0;
}

static int
broken(struct store *st, int min, struct listed *l)
{
	struct err e;

	memset(l, 0, sizeof(*l));
	assert_int_equal(store_feed_each_broken(st, min, list_feed, l, &e), 0);
	return l->n;
}

static void
test_feed_outcomes_and_broken(void **state)
{
	struct fixture *f = *state;
	struct feed a, g, x;
	struct listed l;
	struct err e;

	assert_int_equal(store_participant_set_blog(f->st, f->ada, "https://ada.example.org/",
	    "https://ada.example.org/feed", &e), 0);
	assert_int_equal(store_feed_ensure(f->st, f->ada, "https://ada.example.org/feed",
	    NOW, &a, &e), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(store_feed_fetch_failed(f->st, a.id, "HTTP status 500\nboom",
		    NOW + i, &e), 0);
	assert_int_equal(store_feed_get(f->st, a.id, &x, &e), 0);
	assert_int_equal(x.failures, 3);
	assert_string_equal(x.last_error, "HTTP status 500 boom"); /* one line */
	assert_int_equal(x.last_fetch_at, NOW + 2);
	assert_int_equal(x.last_ok_at, 0);

	assert_int_equal(broken(f->st, 3, &l), 1);
	assert_int_equal(l.ids[0], a.id);
	assert_int_equal(broken(f->st, 4, &l), 0);
	assert_int_equal(store_feed_mark_told(f->st, a.id, NOW + 3, &e), 0);
	assert_int_equal(broken(f->st, 3, &l), 0);

	/* A success clears the streak and the "told" mark. */
	assert_int_equal(store_feed_fetch_ok(f->st, a.id, "\"v1\"", NOW - DAY, NOW + 4, &e), 0);
	assert_int_equal(store_feed_get(f->st, a.id, &x, &e), 0);
	assert_int_equal(x.failures, 0);
	assert_string_equal(x.last_error, "");
	assert_int_equal(x.told_at, 0);
	assert_int_equal(x.last_ok_at, NOW + 4);
	assert_string_equal(x.etag, "\"v1\"");
	assert_int_equal(x.last_modified, NOW - DAY);
	for (int i = 0; i < 3; i++)
		assert_int_equal(store_feed_fetch_failed(f->st, a.id, "timeout", NOW + 5, &e), 0);
	assert_int_equal(broken(f->st, 3, &l), 1);

	/* Not told: a participant who left, or a feed they no longer name. */
	assert_int_equal(store_participant_set_status(f->st, f->ada, PS_UNSUBSCRIBED, NOW, &e), 0);
	assert_int_equal(broken(f->st, 1, &l), 0);
	assert_int_equal(store_participant_set_status(f->st, f->ada, PS_ACTIVE, NOW, &e), 0);
	assert_int_equal(broken(f->st, 1, &l), 1);
	assert_int_equal(store_participant_set_blog(f->st, f->ada, "https://ada.example.org/",
	    "https://ada.example.org/other-feed", &e), 0);
	assert_int_equal(broken(f->st, 1, &l), 0);

	/* A gone feed is told even after one failure; a blog URL with no feed
	 * URL yet counts as the participant's current one. */
	assert_int_equal(store_participant_set_blog(f->st, f->bo, "https://bo.example.net/", "",
	    &e), 0);
	assert_int_equal(store_feed_ensure(f->st, f->bo, "https://bo.example.net/", NOW, &g, &e), 0);
	assert_int_equal(store_feed_retire(f->st, g.id, "gone", NOW, &e), 0);
	assert_int_equal(broken(f->st, 5, &l), 1);
	assert_int_equal(l.ids[0], g.id);

	/* A validator with control characters is not kept. */
	assert_int_equal(store_feed_fetch_ok(f->st, a.id, "\"a\r\nX-Evil: 1\"", 0, NOW, &e), 0);
	assert_int_equal(store_feed_get(f->st, a.id, &x, &e), 0);
	assert_string_equal(x.etag, "");
	assert_int_equal(store_feed_fetch_failed(f->st, 9999, "x", NOW, &e), -1);
}

static void
test_feed_set_url(void **state)
{
	struct fixture *f = *state;
	struct feed a, x;
	struct err e;

	assert_int_equal(store_feed_ensure(f->st, f->ada, "http://ada.example.org/feed", NOW, &a,
	    &e), 0);
	assert_int_equal(store_feed_fetch_ok(f->st, a.id, "\"e\"", NOW, NOW, &e), 0);
	assert_int_equal(store_feed_set_url(f->st, a.id, "https://ada.example.org/feed", &e), 0);
	assert_int_equal(store_feed_get(f->st, a.id, &x, &e), 0);
	assert_string_equal(x.url, "https://ada.example.org/feed");
	assert_string_equal(x.etag, "");            /* validators belong to the old URL */
	assert_int_equal(x.last_modified, 0);
	assert_int_equal(x.last_ok_at, NOW);        /* not a first fetch again */
	assert_int_equal(store_feed_set_url(f->st, a.id, "javascript:x", &e), -1);
}

static struct post_record
record(int64_t pid, int64_t feed, const char *key, const char *title, int for_digest)
{
	struct post_record r = { .participant_id = pid, .feed_id = feed, .key = key,
		.title = title, .link = "https://x.example/p", .excerpt = "words",
		.published_at = NOW - DAY, .thing = 3, .for_digest = for_digest };

	return r;
}

static void
test_post_add_dedupe(void **state)
{
	struct fixture *f = *state;
	struct feed a, b;
	struct post p;
	struct post_record r;
	struct err e;
	int64_t id = 0, n;
	char longkey[STORE_ENTRY_KEY_MAX + 2];

	assert_int_equal(store_feed_ensure(f->st, f->ada, "https://a.example/f", NOW, &a, &e), 0);
	assert_int_equal(store_feed_ensure(f->st, f->bo, "https://b.example/f", NOW, &b, &e), 0);
	r = record(f->ada, a.id, "k1", "First title", 1);
	assert_int_equal(store_post_add(f->st, &r, NOW, &id, &e), 0);
	assert_true(id > 0);
	r.title = "Rewritten title";
	r.for_digest = 0;
	assert_int_equal(store_post_add(f->st, &r, NOW + DAY, NULL, &e), 1);
	assert_int_equal(store_post_by_key(f->st, a.id, "k1", &p, &e), 0);
	assert_int_equal(p.id, id);
	assert_string_equal(p.title, "First title");
	assert_int_equal(p.first_seen_at, NOW);
	assert_int_equal(p.for_digest, 1);
	assert_int_equal(p.thing, 3);
	assert_int_equal(p.published_at, NOW - DAY);
	assert_string_equal(p.link, "https://x.example/p");
	/* the same key in another feed is another post */
	r = record(f->bo, b.id, "k1", "Bo's", 1);
	assert_int_equal(store_post_add(f->st, &r, NOW, NULL, &e), 0);
	assert_int_equal(store_post_count(f->st, 0, -1, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_post_count(f->st, a.id, -1, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_post_by_key(f->st, a.id, "nope", &p, &e), 1);

	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	r = record(f->ada, a.id, longkey, "t", 1);
	assert_int_equal(store_post_add(f->st, &r, NOW, NULL, &e), -1);
	r = record(f->ada, a.id, "k2", "t", 1);
	r.link = "https://x.example/\r\nX: y";
	assert_int_equal(store_post_add(f->st, &r, NOW, NULL, &e), -1);
}

struct titles {
	char t[8][64];
	int n;
};

static int
list_post(void *arg, const struct post *p)
{
	struct titles *l = arg;

	if (l->n < 8)
		snprintf(l->t[l->n], sizeof(l->t[0]), "%s", p->title);
	l->n++;
	return 0;
}

static void
test_digest_listing(void **state)
{
	struct fixture *f = *state;
	struct feed a, b, c;
	struct post_record r;
	struct titles l;
	struct err e;

	assert_int_equal(store_feed_ensure(f->st, f->ada, "https://a.example/f", NOW, &a, &e), 0);
	assert_int_equal(store_feed_ensure(f->st, f->bo, "https://b.example/f", NOW, &b, &e), 0);
	assert_int_equal(store_feed_ensure(f->st, f->cy, "https://c.example/f", NOW, &c, &e), 0);
	r = record(f->ada, a.id, "1", "ada late", 1);
	assert_int_equal(store_post_add(f->st, &r, NOW + 5, NULL, &e), 0);
	r = record(f->bo, b.id, "1", "bo early", 1);
	assert_int_equal(store_post_add(f->st, &r, NOW + 1, NULL, &e), 0);
	r = record(f->bo, b.id, "2", "bo backfill", 0);
	assert_int_equal(store_post_add(f->st, &r, NOW + 2, NULL, &e), 0);
	r = record(f->bo, b.id, "3", "bo too late", 1);
	assert_int_equal(store_post_add(f->st, &r, NOW + 10, NULL, &e), 0);
	r = record(f->bo, b.id, "4", "bo too early", 1);
	assert_int_equal(store_post_add(f->st, &r, NOW - 1, NULL, &e), 0);
	r = record(f->cy, c.id, "1", "cy pending", 1);
	assert_int_equal(store_post_add(f->st, &r, NOW + 3, NULL, &e), 0);

	memset(&l, 0, sizeof(l));
	assert_int_equal(store_post_each_digest(f->st, NOW, NOW + 10, 0, list_post, &l, &e), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.t[0], "bo early");
	assert_string_equal(l.t[1], "ada late");
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_post_each_digest(f->st, NOW, NOW + 10, f->bo, list_post, &l, &e), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.t[0], "ada late");
}

/* --- feeds_ingest: the rules of feeds.h ---------------------------------- */

struct item {
	const char *guid;
	const char *title;
	const char *link;
	int64_t published;   /* 0: no pubDate */
};

static char *
rss(const struct item *items, size_t n)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>"
	    "<title>t</title>"), 0);
	for (size_t i = 0; i < n; i++) {
		char date[64];

		assert_int_equal(buf_printf(&b, "<item><guid isPermaLink=\"false\">%s</guid>"
		    "<title>%s</title><description>About %s.</description>", items[i].guid,
		    items[i].title, items[i].title), 0);
		if (items[i].link)
			assert_int_equal(buf_printf(&b, "<link>%s</link>", items[i].link), 0);
		if (items[i].published) {
			time_format_rfc5322(items[i].published, date, sizeof(date));
			assert_int_equal(buf_printf(&b, "<pubDate>%s</pubDate>", date), 0);
		}
		assert_int_equal(buf_puts(&b, "</item>"), 0);
	}
	assert_int_equal(buf_puts(&b, "</channel></rss>"), 0);
	return buf_steal(&b);
}

static int
ingest(struct store *st, const struct feed *fd, const struct item *items, size_t n,
    int64_t now, struct feeds_stats *stats)
{
	static const struct feeds_thing things[3] = { { "Blogs", NULL }, { "Wikis", NULL },
		{ "Podcasts", NULL } };
	struct err e;
	char *doc = rss(items, n);
	int rc;

	memset(stats, 0, sizeof(*stats));
	assert_int_equal(store_begin(st, &e), 0);
	rc = feeds_ingest(st, fd, doc, strlen(doc), "https://ada.example.org/feed", things, 3,
	    now, stats, &e);
	if (rc == 0)
		assert_int_equal(store_commit(st, &e), 0);
	else
		store_rollback(st);
	free(doc);
	return rc;
}

static int
digest_flag(struct store *st, int64_t feed, const char *key)
{
	struct post p;
	struct err e;

	assert_int_equal(store_post_by_key(st, feed, key, &p, &e), 0);
	return p.for_digest;
}

static void
test_first_fetch_no_backfill(void **state)
{
	struct fixture *f = *state;
	const struct item items[] = {
		{ "a1", "Yesterday", NULL, NOW - DAY },
		{ "a2", "Six days ago", NULL, NOW - 6 * DAY },
		{ "a3", "Eight days ago", NULL, NOW - 8 * DAY },
		{ "a4", "Last year", NULL, NOW - 400 * DAY },
		{ "a5", "Undated", NULL, 0 },
	};
	struct feeds_stats stats;
	struct feed a;
	struct err e;
	int64_t n;

	assert_int_equal(store_feed_ensure(f->st, f->ada, "https://ada.example.org/feed", NOW, &a,
	    &e), 0);
	assert_int_equal(ingest(f->st, &a, items, 5, NOW, &stats), 0);
	assert_int_equal(stats.new_posts, 5);
	assert_int_equal(stats.digest_posts, 2);
	assert_int_equal(digest_flag(f->st, a.id, "a1"), 1);
	assert_int_equal(digest_flag(f->st, a.id, "a2"), 1);
	assert_int_equal(digest_flag(f->st, a.id, "a3"), 0);
	assert_int_equal(digest_flag(f->st, a.id, "a4"), 0);
	assert_int_equal(digest_flag(f->st, a.id, "a5"), 0);
	assert_int_equal(store_post_count(f->st, a.id, 1, &n, &e), 0);
	assert_int_equal(n, 2);
	/* The same document again: nothing new. */
	assert_int_equal(ingest(f->st, &a, items, 5, NOW + 3600, &stats), 0);
	assert_int_equal(stats.new_posts, 0);
	assert_int_equal(stats.digest_posts, 0);
}

/* Ada's feed after a first fetch of items at NOW (fetched OK at NOW). */
static void
primed_feed(struct store *st, int64_t who, const struct item *items, size_t n,
    struct feed *out)
{
	struct feeds_stats stats;
	struct err e;

	assert_int_equal(store_feed_ensure(st, who, "https://ada.example.org/feed", NOW, out, &e),
	    0);
	assert_int_equal(ingest(st, out, items, n, NOW, &stats), 0);
	assert_int_equal(store_feed_fetch_ok(st, out->id, "", 0, NOW, &e), 0);
	assert_int_equal(store_feed_get(st, out->id, out, &e), 0);
}

static void
test_later_fetch_rules(void **state)
{
	struct fixture *f = *state;
	const struct item first[] = {
		{ "a1", "Original title", "https://ada.example.org/a1", NOW - DAY },
	};
	const struct item second[] = {
		{ "a1", "Rewritten title", "https://ada.example.org/a1-new", NOW + 6 * DAY },
		{ "b1", "Fresh", NULL, NOW + 6 * DAY },
		{ "b2", "Undated but new", NULL, 0 },
		{ "b3", "Old post scrolled back in", NULL, NOW - 30 * DAY },
		{ "b4", "Published while we were away", NULL, NOW - 6 * DAY },
	};
	struct feeds_stats stats;
	struct feed a;
	struct post p;
	struct err e;

	primed_feed(f->st, f->ada, first, 1, &a);

	assert_int_equal(ingest(f->st, &a, second, 5, NOW + 7 * DAY, &stats), 0);
	assert_int_equal(stats.new_posts, 4);
	assert_int_equal(stats.digest_posts, 3);
	assert_int_equal(digest_flag(f->st, a.id, "b1"), 1);
	assert_int_equal(digest_flag(f->st, a.id, "b2"), 1);
	assert_int_equal(digest_flag(f->st, a.id, "b3"), 0);
	assert_int_equal(digest_flag(f->st, a.id, "b4"), 1);
	/* The rewritten entry is not new again, and keeps what it was. */
	assert_int_equal(store_post_by_key(f->st, a.id, "a1", &p, &e), 0);
	assert_string_equal(p.title, "Original title");
	assert_string_equal(p.link, "https://ada.example.org/a1");
	assert_int_equal(p.first_seen_at, NOW);
	assert_int_equal(store_post_by_key(f->st, a.id, "b1", &p, &e), 0);
	assert_int_equal(p.first_seen_at, NOW + 7 * DAY);
}

static void
test_digest_cap_per_fetch(void **state)
{
	struct fixture *f = *state;
	struct item items[15];
	char keys[15][8];
	struct feeds_stats stats;
	struct feed a;

	primed_feed(f->st, f->ada, NULL, 0, &a);
	/* A feed that regenerated every guid: all "new", all undated. */
	for (int i = 0; i < 15; i++) {
		snprintf(keys[i], sizeof(keys[i]), "r%d", i);
		items[i] = (struct item){ keys[i], "Same old post", NULL, 0 };
	}
	assert_int_equal(ingest(f->st, &a, items, 15, NOW + DAY, &stats), 0);
	assert_int_equal(stats.new_posts, 15);
	assert_int_equal(stats.digest_posts, FEEDS_DIGEST_PER_FETCH);
	assert_int_equal(digest_flag(f->st, a.id, "r0"), 1);
	assert_int_equal(digest_flag(f->st, a.id, "r9"), 1);
	assert_int_equal(digest_flag(f->st, a.id, "r10"), 0);
	assert_int_equal(digest_flag(f->st, a.id, "r14"), 0);
}

static void
test_broken_feed_stores_nothing(void **state)
{
	struct fixture *f = *state;
	static const char broken[] = "<rss version=\"2.0\"><channel><item><guid>z</guid>"
	    "<title>half</title></item><item><title>cut here";
	struct feeds_stats stats = { 0 };
	struct feed a;
	struct err e;
	int64_t n;

	assert_int_equal(store_feed_ensure(f->st, f->ada, "https://ada.example.org/feed", NOW, &a,
	    &e), 0);
	assert_int_equal(store_begin(f->st, &e), 0);
	assert_int_equal(feeds_ingest(f->st, &a, broken, strlen(broken), a.url, NULL, 0, NOW,
	    &stats, &e), 1);
	store_rollback(f->st);
	assert_non_null(strstr(e.msg, "not well-formed"));
	assert_int_equal(store_post_count(f->st, 0, -1, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(stats.new_posts, 0);
}

static void
test_ingest_matches_things(void **state)
{
	struct fixture *f = *state;
	const struct item items[] = {
		{ "m1", "Thing 2 today", NULL, NOW },
		{ "m2", "My reflection", "https://ada.example.org/2026/11/reflect", NOW },
		{ "m3", "On podcasts", NULL, NOW },
		{ "m4", "Nothing in particular", NULL, NOW },
	};
	struct feeds_stats stats;
	struct feed a;
	struct post p;
	struct err e;

	/* The reflection was sent with another spelling of the same URL. */
	assert_int_equal(store_reflection_add(f->st, f->ada, 5,
	    "http://www.ada.example.org/2026/11/reflect/", 0, NOW, &e), 0);
	assert_int_equal(store_feed_ensure(f->st, f->ada, "https://ada.example.org/feed", NOW, &a,
	    &e), 0);
	assert_int_equal(ingest(f->st, &a, items, 4, NOW, &stats), 0);
	assert_int_equal(store_post_by_key(f->st, a.id, "m1", &p, &e), 0);
	assert_int_equal(p.thing, 2);
	assert_int_equal(store_post_by_key(f->st, a.id, "m2", &p, &e), 0);
	assert_int_equal(p.thing, 5);
	assert_int_equal(store_post_by_key(f->st, a.id, "m3", &p, &e), 0);
	assert_int_equal(p.thing, 3);
	assert_int_equal(store_post_by_key(f->st, a.id, "m4", &p, &e), 0);
	assert_int_equal(p.thing, 0);
}

/* Digest editions: one per week, the last by where its window ends. */
static void
test_digest_editions(void **state)
{
	struct fixture *f = *state;
	struct digest_edition a = { "2027-W03", 100, 200, 200, 3, 7 }, b = { "2027-W06", 200,
		900, 900, 2, 1 }, got;
	struct err e;

	assert_int_equal(store_digest_last(f->st, &got, &e), 1);
	assert_int_equal(store_digest_add(f->st, &b, &e), 0);
	assert_int_equal(store_digest_add(f->st, &a, &e), 0);
	a.recipients = 99;
	assert_int_equal(store_digest_add(f->st, &a, &e), 1);      /* the week has one */
	assert_int_equal(store_digest_get(f->st, "2027-W03", &got, &e), 0);
	assert_int_equal(got.recipients, 3);
	assert_int_equal(got.window_from, 100);
	assert_int_equal(got.window_to, 200);
	assert_int_equal(got.posts, 7);
	assert_int_equal(store_digest_get(f->st, "2027-W04", &got, &e), 1);
	assert_int_equal(store_digest_last(f->st, &got, &e), 0);
	assert_string_equal(got.week, "2027-W06");
	assert_int_equal(got.window_to, 900);
	assert_int_equal(store_digest_add(f->st, &(struct digest_edition){ "", 1, 2, 2, 0, 0 },
	    &e), -1);
	assert_int_equal(store_digest_add(f->st, &(struct digest_edition){ "2027-W09", 5, 4, 4, 0,
	    0 }, &e), -1);
	assert_int_equal(store_digest_add(f->st, &(struct digest_edition){ "2027\nW09", 4, 5, 5,
	    0, 0 }, &e), -1);
}

static void
test_feed_rounds(void **state)
{
	struct fixture *f = *state;
	struct feed_round r = { 1000, 1010, 12, 9, 1, 4 }, got;
	struct err e;

	assert_int_equal(store_feed_round_last(f->st, &got, &e), 1);
	assert_int_equal(store_feed_round_add(f->st, &r, &e), 0);
	r.started_at = 500;    /* a run with --now in the past */
	assert_int_equal(store_feed_round_add(f->st, &r, &e), 0);
	assert_int_equal(store_feed_round_last(f->st, &got, &e), 0);
	assert_int_equal(got.started_at, 1000);
	assert_int_equal(got.finished_at, 1010);
	assert_int_equal(got.feeds, 12);
	assert_int_equal(got.not_modified, 9);
	assert_int_equal(got.failed, 1);
	assert_int_equal(got.new_posts, 4);
}

/* A date more than a day ahead counts as no date: not news on a first
 * fetch; on a later fetch a new entry is news whatever its date says. */
static void
test_future_dates(void **state)
{
	struct fixture *f = *state;
	const struct item first[] = {
		{ "f1", "Dated 2099", NULL, NOW + 3000 * DAY },
		{ "f2", "Dated in an hour", NULL, NOW + 3600 },
	};
	const struct item later[] = {
		{ "f3", "Dated next week", NULL, NOW + 8 * DAY },
	};
	struct feeds_stats stats;
	struct feed a;

	primed_feed(f->st, f->ada, first, 2, &a);
	assert_int_equal(digest_flag(f->st, a.id, "f1"), 0);
	assert_int_equal(digest_flag(f->st, a.id, "f2"), 1);   /* a clock a little fast */
	assert_int_equal(ingest(f->st, &a, later, 1, NOW + DAY, &stats), 0);
	assert_int_equal(digest_flag(f->st, a.id, "f3"), 1);
}

/* A post that comes back under a new guid (same link, same title) is not
 * stored again; items that share a link but not a title (a feed linking
 * every item to its home page) are all kept. */
static void
test_new_guid_same_post(void **state)
{
	struct fixture *f = *state;
	const struct item first[] = {
		{ "build-1-a", "Looking back", "https://ada.example.org/back", NOW - DAY },
		{ "build-1-b", "News one", "https://ada.example.org/", NOW - DAY },
	};
	const struct item later[] = {
		{ "build-2-a", "Looking back", "https://ada.example.org/back", NOW - DAY },
		{ "build-2-b", "News one", "https://ada.example.org/", NOW - DAY },
		{ "build-2-c", "News two", "https://ada.example.org/", NOW },
		{ "toot-1", "", "https://ada.example.org/", NOW },   /* untitled, alike */
		{ "toot-2", "", "https://ada.example.org/", NOW },
	};
	struct feeds_stats stats;
	struct feed a;
	struct err e;
	int64_t n;

	primed_feed(f->st, f->ada, first, 2, &a);
	assert_int_equal(ingest(f->st, &a, later, 5, NOW + DAY, &stats), 0);
	assert_int_equal(stats.new_posts, 3);
	assert_int_equal(store_post_count(f->st, a.id, -1, &n, &e), 0);
	assert_int_equal(n, 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest_editions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feed_rounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feed_ensure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feed_outcomes_and_broken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feed_set_url, setup, teardown),
		cmocka_unit_test_setup_teardown(test_post_add_dedupe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest_listing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_fetch_no_backfill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_later_fetch_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest_cap_per_fetch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_feed_stores_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ingest_matches_things, setup, teardown),
		cmocka_unit_test_setup_teardown(test_future_dates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_guid_same_post, setup, teardown),
	};
	feeds_test_init();
	return feeds_test_done(cmocka_run_group_tests(tests, NULL, feeds_test_cleanup));
}
