/* Tests of inbox_poll's configurable filing and of its batches, on a
 * Maildir with a real store: flag mode (S/F info flags; a message a reader
 * marked seen is still read), configured folders and size limit; a
 * message whose handling fails inside a batch is undone alone; a blog's
 * feed is discovered (over HTTP, on loopback) before the transaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../inbox/inbox.h"
#include "inbox_test_helpers.h"
#include "test_feeds_httpd.h"

#define NOW 1800000000

#define deliver(f, ...) assert_int_equal(th_deliverf((f), NULL, NULL, __VA_ARGS__), 0)

static void
poll_ok(struct th_fixture *f, struct inbox_stats *s)
{
	struct err e;

	if (inbox_poll(&f->prog, f->st, NOW, s, &e) == -1)
		fail_msg("inbox_poll: %s", e.msg);
}

static int
files_in(struct th_fixture *f, const char *sub)
{
	char p[PATH_MAX + 32];

	snprintf(p, sizeof(p), "%s/%s", f->maildir, sub);
	return th_count_files(p);
}

/* Files in f's Maildir subdirectory whose name ends with suffix. */
static int
files_ending(struct th_fixture *f, const char *sub, const char *suffix)
{
	char line[32];

	if (th_sh_line(line, sizeof(line), "find '%s/%s' -maxdepth 1 -type f -name '*%s' | wc -l",
	    f->maildir, sub, suffix) == -1)
		return -1;
	return atoi(line);
}

static void
test_flag_mode(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_stats s;
	char from[PATH_MAX + 64], to[PATH_MAX + 64];

	f->prog.cfg.inbox_flag_only = 1;
	deliver(f, "From: ann@example.net\r\nTo: things@example.org\r\nMessage-ID: <a1@x>\r\n"
	    "Subject: hello\r\n\r\nHello.\r\n");
	deliver(f, "From: bob@example.net\r\nTo: things@example.org\r\nMessage-ID: <b1@x>\r\n"
	    "Subject: hello\r\n\r\nHello.\r\n");
	deliver(f, "%s", "   \r\n");
	poll_ok(f, &s);
	assert_int_equal(s.processed, 2);
	assert_int_equal(s.failed, 1);
	assert_int_equal(files_in(f, "new"), 0);
	assert_int_equal(files_ending(f, "cur", ":2,S"), 2);
	assert_int_equal(files_ending(f, "cur", ":2,F"), 1);
	assert_int_equal(files_in(f, ".Processed/cur"), -1); /* never made */
	assert_int_equal(files_in(f, ".Failed/cur"), -1);
	poll_ok(f, &s);
	assert_int_equal(s.listed, 0);

	/* a reader saw a new message first (S, and F with it): still read */
	assert_int_equal(th_deliverf(f, "cur", "2000.M9.test:2,FS", "From: cy@example.net\r\nTo: things@example.org\r\n"
	    "Message-ID: <c1@x>\r\nSubject: hello\r\n\r\nHello.\r\n"), 0);
	poll_ok(f, &s);
	assert_int_equal(s.listed, 1);
	assert_int_equal(s.processed, 1);
	assert_int_equal(q(f, "SELECT count(*) FROM inbound WHERE message_id = 'c1@x'"), 1);

	/* a crash between commit and flag: known, only flagged */
	snprintf(from, sizeof(from), "%s/cur/1000.M0.test:2,S", f->maildir);
	snprintf(to, sizeof(to), "%s/new/1000.M0.test", f->maildir);
	assert_int_equal(rename(from, to), 0);
	poll_ok(f, &s);
	assert_int_equal(s.listed, 1);
	assert_int_equal(s.duplicates, 1);
	assert_int_equal(s.fetched, 0);
	assert_int_equal(files_ending(f, "cur", "S"), 3); /* the reader's FS stays */
	assert_int_equal(q(f, "SELECT count(*) FROM inbound"), 4);
}

static void
test_configured_folders_and_size(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_stats s;
	char big[24 * 1024];
	int n;

	f->prog.cfg.inbox_processed = "Done";
	f->prog.cfg.inbox_failed = "Not-handled";
	f->prog.cfg.inbox_max_kib = 16;
	n = snprintf(big, sizeof(big), "From: jo@example.net\r\nTo: things@example.org\r\n"
	    "Message-ID: <big@x>\r\nSubject: photos\r\n\r\n");
	for (; n < 20 * 1024; n += 64)
		memcpy(big + n, "01234567890123456789012345678901234567890123456789012345678901\r\n",
		    64);
	big[n] = '\0';
	deliver(f, "%s", big);
	/* 15 KiB: under the limit */
	big[15 * 1024] = '\0';
	big[14] = 'k'; /* another sender */
	memcpy(strstr(big, "<big@x>"), "<fit@x>", 7);
	deliver(f, "%s", big);
	poll_ok(f, &s);
	assert_int_equal(s.oversize, 1);
	assert_int_equal(s.processed, 1);
	assert_int_equal(files_in(f, ".Done/cur"), 1);
	assert_int_equal(files_in(f, ".Not-handled/cur"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM inbound WHERE message_id = 'big@x' AND "
	    "detail LIKE '%%over the limit of 16384 bytes'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'oversize' AND "
	    "recipient = 'jo@example.net'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'failed-notice'"), 2);
}

/* A reflection whose recording fails (a trigger stands for any store
 * refusal) is undone alone: the rest of its batch is kept, and it is
 * recorded as failed with the reason, in Failed, the organisers told. */
static void
test_failure_is_undone_alone(void **state)
{
	struct th_fixture *f = *state;
	struct participant p;
	struct inbox_stats s;
	struct err e;
	sqlite3 *db;

	assert_int_equal(store_participant_add(f->st, "dee@example.net", "", PS_ACTIVE, NOW, &p,
			     &e), 0);
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TRIGGER boom BEFORE INSERT ON reflections "
	    "WHEN NEW.url LIKE '%boom%' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	for (int i = 1; i <= 3; i++)
		deliver(f, "From: dee@example.net\r\nTo: things+done-%d@example.org\r\n"
		    "Message-ID: <r%d@x>\r\nSubject: done\r\n\r\nhttps://dee.example.net/%s/%d\r\n",
		    i, i, i == 2 ? "boom" : "ok", i);
	poll_ok(f, &s);
	assert_int_equal(s.processed, 2);
	assert_int_equal(s.failed, 1);
	assert_int_equal(q(f, "SELECT count(*) FROM reflections"), 2);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'reflection-ack'"), 2);
	assert_int_equal(q(f, "SELECT count(*) FROM inbound WHERE message_id = 'r2@x' AND "
	    "intent = 'failed' AND detail LIKE 'could not be handled: %%refused by the test%%'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries d JOIN inbound i ON "
	    "i.id = d.inbound_id WHERE i.message_id = 'r2@x' AND d.kind = 'failed-notice'"), 2);
	assert_int_equal(files_in(f, ".Processed/cur"), 2);
	assert_int_equal(files_in(f, ".Failed/cur"), 1);
}

static void
test_blog_feed_discovered(void **state)
{
	struct th_fixture *f = *state;
	struct participant p;
	struct inbox_stats s;
	struct httpd h;
	char want[256];
	struct err e;

	if (httpd_start(&h, "127.0.0.1", NULL) == -1)
		fail_msg("httpd did not start");
	httpd_put_fixture(&h, "wordpress.xml", "wordpress.xml");
	httpd_put(&h, "blog/index.html", "<html><head><link rel=\"alternate\" "
	    "type=\"application/rss+xml\" href=\"/wordpress.xml\"></head><body>Hi</body></html>");
	httpd_put_fixture(&h, "plain.html", "plain-page.html");
	assert_int_equal(store_participant_add(f->st, "eve@example.net", "", PS_ACTIVE, NOW, &p,
			     &e), 0);
	f->prog.cfg.feeds_allow_private = 1;
	f->prog.cfg.feeds_timeout_s = 5;
	deliver(f, "From: eve@example.net\r\nTo: things+blog@example.org\r\nMessage-ID: <b1@x>\r\n"
	    "Subject: my blog\r\n\r\n%s/blog/index.html\r\n", h.base);
	poll_ok(f, &s);
	assert_int_equal(s.intents[II_BLOG], 1);
	assert_int_equal(store_participant_by_address(f->st, "eve@example.net", &p, &e), 0);
	snprintf(want, sizeof(want), "%s/blog/index.html", h.base);
	assert_string_equal(p.blog_url, want);
	snprintf(want, sizeof(want), "%s/wordpress.xml", h.base);
	assert_string_equal(p.feed_url, want);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'blog-ack'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM inbound WHERE message_id = 'b1@x' AND "
	    "detail LIKE '%%; feed %s'", want), 1);

	/* a page without a feed: the blog is registered, the reason kept */
	deliver(f, "From: eve@example.net\r\nTo: things+blog@example.org\r\nMessage-ID: <b2@x>\r\n"
	    "Subject: my new blog\r\n\r\n%s/plain.html\r\n", h.base);
	poll_ok(f, &s);
	assert_int_equal(store_participant_by_address(f->st, "eve@example.net", &p, &e), 0);
	assert_string_equal(p.feed_url, "");
	assert_int_equal(q(f, "SELECT count(*) FROM inbound WHERE message_id = 'b2@x' AND "
	    "detail LIKE '%%no feed found: %%does not announce a feed%%'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'blog-ack'"), 2);

	/* private addresses are refused unless the config allows them */
	f->prog.cfg.feeds_allow_private = 0;
	deliver(f, "From: eve@example.net\r\nTo: things+blog@example.org\r\nMessage-ID: <b3@x>\r\n"
	    "Subject: again\r\n\r\n%s/blog/index.html\r\n", h.base);
	poll_ok(f, &s);
	assert_int_equal(store_participant_by_address(f->st, "eve@example.net", &p, &e), 0);
	assert_string_equal(p.feed_url, "");
	assert_int_equal(q(f, "SELECT count(*) FROM inbound WHERE message_id = 'b3@x' AND "
	    "detail LIKE '%%no feed found: %%loopback%%'"), 1);
	httpd_stop(&h);
}

/* Looking a feed up costs up to two fetches' time-outs, before the
 * transaction and under the run lock: a stranger's "+blog" mail (which
 * act_blog only forwards) fetches nothing, and one run looks up at most
 * INBOX_DISCOVERIES_MAX feeds (the others wait for the feeds round). */
static void
test_blog_discovery_bounded(void **state)
{
	static const char *const index_get[] = { "/blog/index.html", NULL };
	struct th_fixture *f = *state;
	struct participant p;
	struct inbox_stats s;
	struct httpd h;
	struct err e;

	if (httpd_start(&h, "127.0.0.1", NULL) == -1)
		fail_msg("httpd did not start");
	httpd_put_fixture(&h, "wordpress.xml", "wordpress.xml");
	httpd_put(&h, "blog/index.html", "<html><head><link rel=\"alternate\" "
	    "type=\"application/rss+xml\" href=\"/wordpress.xml\"></head><body>Hi</body></html>");
	f->prog.cfg.feeds_allow_private = 1;
	f->prog.cfg.feeds_timeout_s = 5;
	deliver(f, "From: stranger@example.net\r\nTo: things+blog@example.org\r\n"
	    "Message-ID: <s1@x>\r\nSubject: my blog\r\n\r\n%s/blog/index.html\r\n", h.base);
	poll_ok(f, &s);
	assert_int_equal(s.processed, 1);
	assert_int_equal(httpd_expect(&h, index_get, 0), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'unknown-forward'"), 2);

	assert_int_equal(store_participant_add(f->st, "eve@example.net", "", PS_ACTIVE, NOW, &p,
			     &e), 0);
	for (int i = 0; i < INBOX_DISCOVERIES_MAX + 3; i++)
		deliver(f, "From: eve@example.net\r\nTo: things+blog@example.org\r\n"
		    "Message-ID: <e%d@x>\r\nSubject: my blog\r\n\r\n%s/blog/index.html?%d\r\n", i,
		    h.base, i);
	poll_ok(f, &s);
	assert_int_equal(s.intents[II_BLOG], INBOX_DISCOVERIES_MAX + 3);
	assert_int_equal(httpd_expect(&h, index_get, INBOX_DISCOVERIES_MAX),
	    INBOX_DISCOVERIES_MAX);
	assert_int_equal(q(f, "SELECT count(*) FROM inbound WHERE detail LIKE "
	    "'%%feed not looked up yet%%'"), 3);
	httpd_stop(&h);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, th_fixture_setup, th_fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_flag_mode),
		T(test_configured_folders_and_size),
		T(test_failure_is_undone_alone),
		T(test_blog_feed_discovered),
		T(test_blog_discovery_bounded),
	};
	return cmocka_run_group_tests_name("inbox_batch", tests, NULL, NULL);
}
