/* feeds_problem_of on the reasons feeds_poll really records: each kind of
 * breakage is made for real (loopback httpd.py, a closed port, the
 * private-address guard) and its recorded reason must land in the class
 * whose advice fits it.  A reworded reason that slips class fails here. */
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

#define NOW ((int64_t)1795500000)

struct fixture {
	struct httpd h;
	struct test_store ts;
	struct feeds_options o;
};

static int
setup(void **state)
{
	static const char *const extra[] = { "--status", "/private.xml=403", "--status",
		"/login.xml=401", "--status", "/down.xml=503", "--status", "/teapot.xml=418",
		NULL };
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || httpd_start(&f->h, "127.0.0.1", extra) == -1 ||
	    test_store_open(&f->ts) == -1)
		return -1;
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
	rc = test_store_close(&f->ts);
	free(f);
	return rc;
}

static const struct {
	const char *url;       /* "@" is the server's base */
	enum feeds_problem want;
} cases[] = {
	{ "@/private.xml", FP_PRIVATE },
	{ "@/login.xml", FP_PRIVATE },
	{ "@/missing.xml", FP_MISSING },
	{ "@/gone.xml", FP_GONE },
	{ "@/down.xml", FP_UNREACHABLE },
	{ "@/teapot.xml", FP_OTHER },
	{ "@/page.html", FP_WEB_PAGE },          /* a page naming no feed */
	{ "@/loop.html", FP_WEB_PAGE },          /* a page naming a page */
	{ "@/not-a-feed.xml", FP_WEB_PAGE },     /* XHTML: a page */
	{ "@/sitemap.xml", FP_NOT_A_FEED },      /* XML, but no feed */
	{ "@/broken.xml", FP_NOT_A_FEED },       /* not well-formed */
	{ "http://127.0.0.1:1/feed.xml", FP_UNREACHABLE },  /* nobody listens */
	{ "@/ok.xml", FP_NONE },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static void
test_recorded_reasons_classified(void **state)
{
	struct fixture *f = *state;
	static const char gone[] = "/gone.xml\n";
	int64_t ids[NCASES];
	struct feeds_stats s;
	struct err e;

	httpd_write(f->h.gone, gone, strlen(gone));
	httpd_put_fixture(&f->h, "page.html", "plain-page.html");
	httpd_put(&f->h, "loop.html", "<html><head><link rel=\"alternate\""
	    " type=\"application/rss+xml\" href=\"/page.html\"></head></html>");
	httpd_put_fixture(&f->h, "not-a-feed.xml", "not-a-feed.xml");
	httpd_put_fixture(&f->h, "broken.xml", "broken.xml");
	httpd_put(&f->h, "sitemap.xml", "<?xml version=\"1.0\"?><urlset><url><loc>@BASE@/</loc>"
	    "</url></urlset>");
	httpd_put_fixture(&f->h, "ok.xml", "rss2.xml");
	for (size_t i = 0; i < NCASES; i++) {
		char addr[64], url[256];

		snprintf(addr, sizeof(addr), "p%zu@example.org", i);
		ids[i] = test_participant(f->ts.st, addr, PS_ACTIVE);
		if (cases[i].url[0] == '@')
			snprintf(url, sizeof(url), "%s%s", f->h.base, cases[i].url + 1);
		else
			snprintf(url, sizeof(url), "%s", cases[i].url);
		assert_int_equal(store_participant_set_blog(f->ts.st, ids[i], url, "", &e), 0);
	}
	if (feeds_poll(f->ts.st, &f->o, NULL, 0, NOW, &s, &e) != 0)
		fail_msg("feeds_poll: %s", e.msg);
	assert_int_equal(s.feeds, (int)NCASES);
	for (size_t i = 0; i < NCASES; i++) {
		struct participant p;
		struct feed fd;
		enum feeds_problem got;

		assert_int_equal(store_participant_by_id(f->ts.st, ids[i], &p, &e), 0);
		assert_int_equal(store_feed_ensure(f->ts.st, ids[i], p.feed_url[0] ? p.feed_url :
		    p.blog_url, NOW, &fd, &e), 1);
		got = feeds_problem_of(fd.status == FS_GONE, fd.last_error);
		if (got != cases[i].want)
			fail_msg("%s: reason '%s' is %s, want %s", cases[i].url, fd.last_error,
			    feeds_problem_name(got), feeds_problem_name(cases[i].want));
	}
}

/* The guard's refusal of a private address: a blog on the organiser's
 * network is unreachable from the programme's point of view. */
static void
test_refused_address_is_unreachable(void **state)
{
	struct fixture *f = *state;
	struct feeds_stats s;
	struct participant p;
	struct feed fd;
	struct err e;
	char url[256];
	int64_t id = test_participant(f->ts.st, "lan@example.org", PS_ACTIVE);

	httpd_put_fixture(&f->h, "ok.xml", "rss2.xml");
	snprintf(url, sizeof(url), "%s/ok.xml", f->h.base);
	assert_int_equal(store_participant_set_blog(f->ts.st, id, url, "", &e), 0);
	f->o.allow_private = 0;
	assert_int_equal(feeds_poll(f->ts.st, &f->o, NULL, 0, NOW, &s, &e), 0);
	assert_int_equal(s.failed, 1);
	assert_int_equal(store_participant_by_id(f->ts.st, id, &p, &e), 0);
	assert_int_equal(store_feed_ensure(f->ts.st, id, url, NOW, &fd, &e), 1);
	assert_non_null(strstr(fd.last_error, "refused to connect"));
	assert_int_equal(feeds_problem_of(0, fd.last_error), FP_UNREACHABLE);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(feeds_problem_name(FP_WEB_PAGE), "web-page");
	assert_string_equal(feeds_problem_name(FP_GONE), "gone");
	assert_string_equal(feeds_problem_name((enum feeds_problem)99), "?");
	assert_int_equal(feeds_problem_of(0, ""), FP_NONE);
	assert_int_equal(feeds_problem_of(1, ""), FP_GONE);
	assert_int_equal(feeds_problem_of(0, NULL), FP_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_recorded_reasons_classified, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_address_is_unreachable, setup,
		    teardown),
		cmocka_unit_test(test_names),
	};
	feeds_test_init();
	return feeds_test_done(cmocka_run_group_tests(tests, NULL, feeds_test_cleanup));
}
