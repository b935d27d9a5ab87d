/* The weekly digest and the broken-feed notice, with a real store and the
 * built-in templates: when an edition is made, which posts its window
 * holds (across reruns and missed weeks), who gets one, what it says and
 * that nothing from a feed can inject markup; and that a broken feed gets
 * its owner exactly one message per breakage, with advice that fits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "test_mailer_check.h"
#include "test_mailer_fixture.h"

#define HOUR 3600
#define MON3 (T0 + 7 * DAY - HOUR) /* 2027-01-18 08:00 UTC: week 3's digest time */

struct world {
	int64_t ann, ben, cat;
	int64_t feed_ann, feed_ben;
};

static int
digest_setup(void **state)
{
	struct fixture *f;

	if (setup(state) == -1)
		return -1;
	f = *state;
	f->p.cfg.digest_enabled = 1;
	f->p.cfg.digest_weekday = 1;
	f->p.cfg.digest_hour = 8;
	f->p.cfg.feeds_failures_notice = 3;
	return 0;
}

static int64_t
add_feed(struct fixture *f, int64_t who, const char *url, const char *title)
{
	struct feed fd;
	struct err e;

	if (store_participant_set_blog(f->st, who, url, url, &e) == -1 ||
	    store_feed_ensure(f->st, who, url, T0 - DAY, &fd, &e) == -1 ||
	    store_feed_set_title(f->st, fd.id, title, &e) == -1)
		fail_msg("%s", e.msg);
	return fd.id;
}

/* ann and ben blog; cat does not. */
static struct world
world(struct fixture *f)
{
	struct world w;

	w.ann = add_active(f, "ann@example.net", "Ann Author", T0 - DAY);
	w.ben = add_active(f, "ben@example.net", "Ben", T0 - DAY);
	w.cat = add_active(f, "cat@example.net", "", T0 - DAY);
	w.feed_ann = add_feed(f, w.ann, "https://ann.example.net/feed", "Ann's Library Blog");
	w.feed_ben = add_feed(f, w.ben, "https://ben.example.net/atom.xml", "");
	return w;
}

static void
post(struct fixture *f, int64_t who, int64_t feed, const char *title, const char *link,
    const char *excerpt, int thing, int64_t first_seen)
{
	struct post_record r = { who, feed, title, title, link, excerpt, first_seen - DAY, thing,
		1 };
	struct err e;

	if (store_post_add(f->st, &r, first_seen, NULL, &e) != 0)
		fail_msg("post '%s': %s", title, e.msg);
}

static size_t
digest_at(struct fixture *f, int64_t now)
{
	struct mailer_stats stats = { 0 };
	struct err e;

	if (mailer_schedule_digest(f->m, now, &stats, &e) == -1)
		fail_msg("%s", e.msg);
	assert_int_equal(stats.enqueued, stats.digests);
	return stats.digests;
}

/* Composes the queued delivery (rcpt, kind, key) and returns its text and
 * HTML parts (the caller frees both). */
static void
compose_parts(struct fixture *f, int64_t pid, const char *rcpt, const char *kind,
    const char *key, char **text, char **html)
{
	struct delivery d = lookup(f, pid, rcpt, kind, key);
	struct buf out;
	struct err e;
	int te, he;

	buf_init(&out, 0);
	if (mailer_compose(f->m, &d, &out, &e) == -1)
		fail_msg("%s %s: %s", kind, key, e.msg);
	check_field_is(out.data, "Precedence", strcmp(kind, DK_DIGEST) == 0 ? "bulk" : NULL);
	check_field_is(out.data, "Auto-Submitted", "auto-generated");
	check_alternative(out.data, out.len, text, html, &te, &he);
	buf_free(&out);
}

static char *
digest_text(struct fixture *f, int64_t pid, const char *rcpt, const char *week)
{
	char *text, *html;

	compose_parts(f, pid, rcpt, DK_DIGEST, week, &text, &html);
	free(html);
	return text;
}

static void
assert_has(const char *text, const char *needle)
{
	if (!has(text, needle))
		fail_msg("expected '%s' in:\n%s", needle, text);
}

static void
assert_lacks(const char *text, const char *needle)
{
	if (has(text, needle))
		fail_msg("did not expect '%s' in:\n%s", needle, text);
}

static struct digest_edition
edition(struct fixture *f, const char *week)
{
	struct digest_edition ed;
	struct err e;

	if (store_digest_get(f->st, week, &ed, &e) != 0)
		fail_msg("no edition %s", week);
	return ed;
}

/* --- when ------------------------------------------------------------- */

static void
test_moment_and_week(void **state)
{
	static const struct {
		const char *tz;
		int weekday, hour;
		const char *now, *moment, *week;
	} cases[] = {
		{ "UTC", 1, 8, "2027-01-18T08:00", "2027-01-18T08:00", "2027-W03" },
		{ "UTC", 1, 8, "2027-01-18T07:59", "2027-01-11T08:00", "2027-W02" },
		{ "UTC", 1, 8, "2027-01-17T23:00", "2027-01-11T08:00", "2027-W02" },
		{ "UTC", 0, 20, "2027-01-03T21:00", "2027-01-03T20:00", "2026-W53" },
		{ "UTC", 1, 0, "2027-01-04T00:00", "2027-01-04T00:00", "2027-W01" },
		{ "UTC", 5, 14, "2027-01-06T10:00", "2027-01-01T14:00", "2026-W53" },
		{ "UTC", 4, 9, "2024-12-30T10:00", "2024-12-26T09:00", "2024-W52" },
		/* local time: the day after clocks go forward, and the day they go back */
		{ "Europe/London", 1, 8, "2027-03-29T08:30", "2027-03-29T08:00", "2027-W13" },
		{ "America/New_York", 0, 23, "2027-11-07T23:30", "2027-11-07T23:00", "2027-W44" },
		{ "Pacific/Auckland", 1, 8, "2027-01-18T07:00", "2027-01-11T08:00", "2027-W02" },
	};
	struct programme_config c;

	(void)state;
	memset(&c, 0, sizeof(c));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char week[16];
		int64_t now, want, got;
		struct err e;

		setenv("TZ", cases[i].tz, 1);
		tzset();
		c.digest_weekday = cases[i].weekday;
		c.digest_hour = cases[i].hour;
		assert_int_equal(time_parse_iso(cases[i].now, &now, &e), 0);
		assert_int_equal(time_parse_iso(cases[i].moment, &want, &e), 0);
		assert_int_equal(mailer_digest_moment(&c, now, &got, week, sizeof(week)), 0);
		if (got != want || strcmp(week, cases[i].week) != 0)
			fail_msg("%s %s: moment %lld (want %lld), week %s (want %s)", cases[i].tz,
			    cases[i].now, (long long)got, (long long)want, week, cases[i].week);
	}
	setenv("TZ", "UTC", 1);
	tzset();
}

static void
test_not_before_start_nor_when_off(void **state)
{
	struct fixture *f = *state;
	struct world w = world(f);
	int64_t moment;
	struct err e;

	post(f, w.ann, w.feed_ann, "Early", "https://ann.example.net/early", "", 0, T0);
	/* Monday 11 January, 10:00: the programme began at 09:00, after 08:00 */
	assert_int_equal(mailer_digest_due(f->m, T0 + HOUR, &moment, &e), 0);
	assert_int_equal(digest_at(f, T0 + HOUR), 0);
	assert_int_equal(store_digest_last(f->st, &(struct digest_edition){ 0 }, &e), 1);
	f->p.cfg.digest_enabled = 0;
	assert_int_equal(digest_at(f, MON3 + 300), 0);
	assert_int_equal(store_digest_last(f->st, &(struct digest_edition){ 0 }, &e), 1);
	f->p.cfg.digest_enabled = 1;
	assert_int_equal(mailer_digest_due(f->m, MON3 + 300, &moment, &e), 1);
	assert_int_equal(moment, MON3);
	assert_int_equal(digest_at(f, MON3 + 300), 2);        /* not to Ann herself */
	assert_int_equal(mailer_digest_due(f->m, MON3 + 600, &moment, &e), 0);
}

/* --- who gets what ----------------------------------------------------- */

static void
test_windows_chain_across_reruns_and_missed_weeks(void **state)
{
	struct fixture *f = *state;
	struct world w = world(f);
	struct digest_edition ed;
	int64_t now3 = MON3 + 300, now6 = MON3 + 21 * DAY + 2 * HOUR;
	char *t;

	post(f, w.ann, w.feed_ann, "A0 before the first window", "https://ann.example.net/a0", "",
	    0, MON3 - 8 * DAY);
	post(f, w.ann, w.feed_ann, "A1 blogging", "https://ann.example.net/a1", "Ann tried it.", 1,
	    MON3 - 2 * DAY);
	post(f, w.ben, w.feed_ben, "B1 thoughts", "https://ben.example.net/b1", "", 0,
	    MON3 - DAY);
	post(f, w.ben, w.feed_ben, "B-edge at the run", "https://ben.example.net/e0", "", 0, now3);

	assert_int_equal(digest_at(f, now3), 3);
	ed = edition(f, "2027-W03");
	assert_int_equal(ed.window_from, MON3 - 7 * DAY);
	assert_int_equal(ed.window_to, now3 + 1);
	assert_int_equal(ed.posts, 3);
	assert_int_equal(ed.recipients, 3);

	t = digest_text(f, w.ann, "ann@example.net", "2027-W03");
	assert_has(t, "B1 thoughts");
	assert_has(t, "B-edge at the run");
	assert_lacks(t, "A1 blogging");           /* her own */
	assert_lacks(t, "A0 before");
	free(t);
	t = digest_text(f, w.cat, "cat@example.net", "2027-W03");
	assert_has(t, "A1 blogging");
	assert_has(t, "Ann tried it.");
	assert_has(t, "B1 thoughts");
	assert_lacks(t, "A0 before");
	free(t);

	/* Reruns in the same week make nothing, whatever the hour. */
	assert_int_equal(digest_at(f, now3), 0);
	assert_int_equal(digest_at(f, MON3 + HOUR), 0);
	assert_int_equal(digest_at(f, MON3 + 6 * DAY), 0);
	assert_int_equal(count(f, DK_DIGEST, -1), 3);

	/* Weeks 4 and 5 pass without a run; week 6's covers all since. */
	post(f, w.ben, w.feed_ben, "B-edge after the run", "https://ben.example.net/e1", "", 0,
	    now3 + 1);
	post(f, w.ben, w.feed_ben, "B2 week four", "https://ben.example.net/b2", "", 2,
	    MON3 + 2 * DAY);
	post(f, w.ann, w.feed_ann, "A2 week five", "https://ann.example.net/a2", "", 0,
	    MON3 + 9 * DAY);
	post(f, w.ben, w.feed_ben, "B3 week six", "https://ben.example.net/b3", "", 0,
	    MON3 + 20 * DAY);
	assert_int_equal(digest_at(f, now6), 3);
	assert_int_equal(store_digest_get(f->st, "2027-W04", &ed, &(struct err){ 0 }), 1);
	ed = edition(f, "2027-W06");
	assert_int_equal(ed.window_from, now3 + 1);
	assert_int_equal(ed.window_to, now6 + 1);
	assert_int_equal(ed.posts, 4);
	t = digest_text(f, w.ann, "ann@example.net", "2027-W06");
	assert_has(t, "B-edge after the run");
	assert_has(t, "B2 week four");
	assert_has(t, "B3 week six");
	assert_lacks(t, "A2 week five");
	assert_lacks(t, "B1 thoughts");           /* was in week 3's */
	assert_lacks(t, "B-edge at the run");
	free(t);
	t = digest_text(f, w.cat, "cat@example.net", "2027-W06");
	assert_has(t, "A2 week five");
	assert_lacks(t, "A1 blogging");
	free(t);
	assert_int_equal(store_digest_last(f->st, &ed, &(struct err){ 0 }), 0);
	assert_string_equal(ed.week, "2027-W06");
}

static void
test_nothing_new_nothing_sent(void **state)
{
	struct fixture *f = *state;
	struct world w = world(f);
	char *t;

	/* No posts at all: the edition is made (the window moves on), no mail. */
	assert_int_equal(digest_at(f, MON3 + 300), 0);
	assert_int_equal(edition(f, "2027-W03").recipients, 0);
	assert_int_equal(count(f, DK_DIGEST, -1), 0);

	/* Only Ann wrote: everyone but Ann hears of it. */
	post(f, w.ann, w.feed_ann, "Only Ann", "https://ann.example.net/only", "", 0,
	    MON3 + 3 * DAY);
	assert_int_equal(digest_at(f, MON3 + 7 * DAY + 300), 2);
	assert_int_equal(store_delivery_find(f->st, "ann@example.net", DK_DIGEST, "2027-W04",
	    &(struct delivery){ 0 }, &(struct err){ 0 }), 1);
	t = digest_text(f, w.ben, "ben@example.net", "2027-W04");
	assert_has(t, "Only Ann");
	free(t);
}

/* Posts by someone who left are not shown, and do not earn a digest. */
static void
test_inactive_authors_left_out(void **state)
{
	struct fixture *f = *state;
	struct world w = world(f);
	struct err e;

	post(f, w.ben, w.feed_ben, "Ben's farewell", "https://ben.example.net/bye", "", 0,
	    MON3 - DAY);
	assert_int_equal(store_participant_set_status(f->st, w.ben, PS_UNSUBSCRIBED, MON3, &e), 0);
	assert_int_equal(digest_at(f, MON3 + 300), 0);
}

/* --- what it says ------------------------------------------------------ */

static void
test_grouped_by_thing_with_bylines(void **state)
{
	struct fixture *f = *state;
	struct world w = world(f);
	int64_t dan = add_active(f, "dan@example.net", "", T0 - DAY);
	int64_t feed_dan = add_feed(f, dan, "https://dan.example.net/rss", "");
	char *t, *h;
	const char *t1, *t2, *other;
	struct err e;

	/* the page dan's feed names for his blog (he sent the feed's address) */
	assert_int_equal(store_feed_set_site(f->st, feed_dan, "https://dan.example.net/", &e), 0);

	post(f, w.ben, w.feed_ben, "Ben on feeds", "https://ben.example.net/feeds", "", 2,
	    MON3 - 3 * DAY);
	post(f, w.ann, w.feed_ann, "Ann on blogs", "https://ann.example.net/blogs", "", 1,
	    MON3 - 2 * DAY);
	post(f, w.ben, w.feed_ben, "Ben, unfiled", "https://ben.example.net/x", "", 0,
	    MON3 - DAY);
	post(f, dan, feed_dan, "Dan on a Thing that is not", "https://dan.example.net/p", "", 99,
	    MON3 - DAY);
	assert_int_equal(digest_at(f, MON3 + 300), 4);
	compose_parts(f, w.cat, "cat@example.net", DK_DIGEST, "2027-W03", &t, &h);
	t1 = strstr(t, "Thing 1: Blogging");
	t2 = strstr(t, "Thing 2: Feeds");
	other = strstr(t, "Other posts");
	assert_non_null(t1);
	assert_non_null(t2);
	assert_non_null(other);
	assert_true(t1 < strstr(t, "Ann on blogs") && strstr(t, "Ann on blogs") < t2);
	assert_true(t2 < strstr(t, "Ben on feeds") && strstr(t, "Ben on feeds") < other);
	assert_true(other < strstr(t, "Ben, unfiled"));
	assert_true(other < strstr(t, "Dan on a Thing"));
	assert_has(t, "by Ann Author, on Ann's Library Blog");
	assert_has(t, "by Ben, on ben.example.net");   /* a blog without a title */
	assert_has(t, "by a participant, on dan.example.net");
	assert_lacks(t, "dan@example.net");            /* never an address */
	assert_lacks(t, "ann@example.net");
	assert_has(h, "<a href=\"https://ann.example.net/blogs\">Ann on blogs</a>");
	assert_has(h, "<a href=\"https://ann.example.net/feed\">Ann's Library Blog</a>");
	assert_has(h, "<a href=\"https://dan.example.net/\">dan.example.net</a>");
	free(t);
	free(h);
}

static size_t occurrences(const char *s, const char *needle);

/* A post stored twice (a feed that made up a new guid) is listed once;
 * posts that only share a link (a feed linking every item to its home
 * page) are all listed. */
static void
test_same_post_listed_once(void **state)
{
	struct fixture *f = *state;
	struct world w = world(f);
	char *t;

	post(f, w.ann, w.feed_ann, "News one", "https://ann.example.net/", "", 0, MON3 - 3 * DAY);
	post(f, w.ann, w.feed_ann, "News two", "https://ann.example.net/", "", 0, MON3 - 2 * DAY);
	post(f, w.ben, w.feed_ben, "Ben again", "https://ben.example.net/a", "", 0, MON3 - 2 * DAY);
	{
		/* the same post under another key */
		struct post_record r = { w.ben, w.feed_ben, "guid-2", "Ben again",
			"https://ben.example.net/a", "", MON3 - 3 * DAY, 0, 1 };
		struct err e;

		if (store_post_add(f->st, &r, MON3 - DAY, NULL, &e) != 0)
			fail_msg("%s", e.msg);
	}
	assert_int_equal(digest_at(f, MON3 + 300), 3);
	t = digest_text(f, w.cat, "cat@example.net", "2027-W03");
	assert_has(t, "News one");
	assert_has(t, "News two");
	assert_int_equal(occurrences(t, "Ben again"), 1);
	free(t);
}

static void
test_feed_strings_cannot_inject(void **state)
{
	struct fixture *f = *state;
	struct world w = world(f);
	struct err e;
	char *t, *h;

	assert_int_equal(store_feed_set_title(f->st, w.feed_ben,
	    "<b>Ben</b> & {{name}} **loud**", &e), 0);
	post(f, w.ben, w.feed_ben, "<script>alert(1)</script> [x](javascript:alert(2)) {{address}}",
	    "javascript:alert(3)", "<img src=x onerror=alert(4)> **bold** {{unsubscribe_mailto}}",
	    0, MON3 - DAY);
	post(f, w.ben, w.feed_ben, "Quote in the link", "https://ben.example.net/\"><script>x()"
	    "</script>", "", 0, MON3 - DAY);
	post(f, w.ben, w.feed_ben, "Shouted scheme", "HTTPS://ben.example.net/up", "", 0,
	    MON3 - DAY);
	assert_int_equal(digest_at(f, MON3 + 300), 2);
	compose_parts(f, w.ann, "ann@example.net", DK_DIGEST, "2027-W03", &t, &h);
	/* as text: exactly what the feed said */
	assert_has(t, "<script>alert(1)</script> [x](javascript:alert(2)) {{address}}");
	assert_has(t, "<img src=x onerror=alert(4)> **bold** {{unsubscribe_mailto}}");
	assert_has(t, "<b>Ben</b> & {{name}} **loud**");
	/* as HTML: shown, never run, never a link or a placeholder */
	assert_has(h, "&lt;script&gt;alert(1)&lt;/script&gt;");
	assert_has(h, "&lt;img src=x onerror=alert(4)&gt;");
	assert_has(h, "&lt;b&gt;Ben&lt;/b&gt; &amp; {{name}} **loud**");
	assert_lacks(h, "<script");
	assert_lacks(h, "<img");
	assert_lacks(h, "<b>Ben");
	assert_lacks(h, "<strong>bold");
	assert_lacks(h, "href=\"javascript");
	assert_lacks(h, "ann@example.net\">"); /* {{address}} stayed text */
	assert_has(h, "{{address}}");
	/* a scheme in capitals is still the web (RFC 3986: case-insensitive) */
	assert_has(h, "<a href=\"HTTPS://ben.example.net/up\">Shouted scheme</a>");
	free(t);
	free(h);
}

#define FSI "\xe2\x81\xa8"  /* U+2068 FIRST STRONG ISOLATE */
#define PDI "\xe2\x81\xa9"  /* U+2069 POP DIRECTIONAL ISOLATE */

static size_t
occurrences(const char *s, const char *needle)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* A Hebrew or Arabic title, name or blog among the English byline is
 * isolated (FSI ... PDI as text, <bdi> as HTML), escaped as strictly as
 * ever; English strings are left bare; a feed's own isolate controls are
 * dropped, so that they cannot end ours early. */
static void
test_right_to_left_isolated(void **state)
{
	struct fixture *f = *state;
	struct world w = world(f);
	int64_t dana = add_active(f, "dana@example.net", "דנה", T0 - DAY);
	int64_t feed_dana = add_feed(f, dana, "https://dana.example.net/feed", "مدونتي");
	char *t, *h;

	post(f, dana, feed_dana, "<b>שלום</b> עולם", "https://dana.example.net/1",
	    "זה הפוסט הראשון שלי.", 1, MON3 - 2 * DAY);
	post(f, dana, feed_dana, "Early " PDI "עברית", "https://dana.example.net/2", "", 2,
	    MON3 - 2 * DAY);
	{
		struct post_record r = { dana, feed_dana, "untitled-3", "",
			"https://dana.example.net/3", "مرحبا بالعالم", MON3 - 3 * DAY, 3, 1 };
		struct err e;

		assert_int_equal(store_post_add(f->st, &r, MON3 - 2 * DAY, NULL, &e), 0);
	}
	post(f, w.ann, w.feed_ann, "Ann on blogs", "https://ann.example.net/blogs",
	    "An English excerpt.", 1, MON3 - DAY);
	assert_int_equal(digest_at(f, MON3 + 300), 4);
	compose_parts(f, w.cat, "cat@example.net", DK_DIGEST, "2027-W03", &t, &h);

	assert_has(t, FSI "<b>שלום</b> עולם" PDI);
	assert_has(t, "by " FSI "דנה" PDI ", on " FSI "مدونتي" PDI);
	assert_has(t, FSI "זה הפוסט הראשון שלי." PDI);
	assert_has(t, FSI "Early עברית" PDI);          /* its own PDI dropped */
	assert_has(t, FSI "مرحبا بالعالم" PDI);         /* untitled: its words */
	assert_has(t, "by Ann Author, on Ann's Library Blog\n");
	assert_has(t, "\n  An English excerpt.\n");
	assert_lacks(t, FSI "Ann");
	assert_lacks(t, FSI "An English");

	assert_has(h, "<a href=\"https://dana.example.net/1\"><bdi>&lt;b&gt;שלום&lt;/b&gt; עולם"
	    "</bdi></a>");
	assert_has(h, "by <bdi>דנה</bdi>, on <a href=\"https://dana.example.net/feed\"><bdi>"
	    "مدونتي</bdi></a>");
	assert_has(h, "<bdi>זה הפוסט הראשון שלי.</bdi>");
	assert_has(h, "<bdi>Early עברית</bdi>");
	assert_has(h, "<a href=\"https://ann.example.net/blogs\">Ann on blogs</a>");
	assert_has(h, "by Ann Author, on <a href=\"https://ann.example.net/feed\">Ann's Library "
	    "Blog</a>");
	assert_lacks(h, "<b>");
	assert_lacks(h, FSI);
	assert_lacks(h, PDI);
	assert_int_equal(occurrences(h, "<bdi>"), occurrences(h, "</bdi>"));
	/* Dana's title, name and blog in each of her three posts, one excerpt */
	assert_int_equal(occurrences(h, "<bdi>"), 10);
	assert_int_equal(occurrences(t, FSI), 10);
	assert_int_equal(occurrences(t, PDI), 10);
	free(t);
	free(h);
}

static void
test_long_digest_capped(void **state)
{
	struct fixture *f = *state;
	struct world w = world(f);
	char *t;

	for (int i = 0; i < 105; i++) {
		char title[32], link[64];

		snprintf(title, sizeof(title), "Post %03d", i);
		snprintf(link, sizeof(link), "https://ben.example.net/%d", i);
		post(f, w.ben, w.feed_ben, title, link, "", 0, MON3 - DAY + i);
	}
	assert_int_equal(digest_at(f, MON3 + 300), 2);
	t = digest_text(f, w.ann, "ann@example.net", "2027-W03");
	assert_has(t, "Post 000");
	assert_has(t, "Post 099");
	assert_lacks(t, "Post 100");
	assert_has(t, "And 5 more new posts");
	free(t);
}

static void
test_preview_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct world w = world(f);
	struct participant sample, ann;
	const char *text, *html;
	char week[STORE_WEEK_MAX + 1];
	struct buf raw;
	struct err e;

	post(f, w.ann, w.feed_ann, "Ann's preview post", "https://ann.example.net/p", "", 0,
	    MON3 - DAY);
	post(f, w.ben, w.feed_ben, "Ben's preview post", "https://ben.example.net/p", "", 0,
	    MON3 - DAY);
	memset(&sample, 0, sizeof(sample));
	snprintf(sample.address, sizeof(sample.address), "sample@example.org");
	snprintf(sample.token, sizeof(sample.token), "%0*d", TOKEN_HEX_LEN, 0);
	assert_int_equal(store_participant_by_id(f->st, w.ann, &ann, &e), 0);
	buf_init(&raw, 0);
	assert_int_equal(mailer_preview_digest(f->m, &sample, MON3 + 60, &raw, &text, &html, week,
	    sizeof(week), &e), 0);
	assert_string_equal(week, "2027-W03");
	assert_has(text, "Ann's preview post");
	assert_has(text, "Ben's preview post");
	assert_has(buf_str(&raw), "Subject: ");
	assert_int_equal(mailer_preview_digest(f->m, &ann, MON3 + 60, &raw, &text, &html, week,
	    sizeof(week), &e), 0);
	assert_lacks(text, "Ann's preview post");
	assert_has(text, "Ben's preview post");
	assert_int_equal(count(f, NULL, -1), 0);
	assert_int_equal(store_digest_last(f->st, &(struct digest_edition){ 0 }, &e), 1);

	/* Once week 3's is made, the next is week 4's, with nothing in it yet. */
	assert_int_equal(digest_at(f, MON3 + 300), 3);
	assert_int_equal(mailer_preview_digest(f->m, &sample, MON3 + 400, &raw, &text, &html, week,
	    sizeof(week), &e), 1);
	assert_string_equal(week, "2027-W04");
	buf_free(&raw);
}

/* --- a feed that stopped working --------------------------------------- */

static size_t
notices_at(struct fixture *f, int64_t now)
{
	struct mailer_stats stats = { 0 };
	struct err e;

	if (mailer_schedule_feed_notices(f->m, now, &stats, &e) == -1)
		fail_msg("%s", e.msg);
	assert_int_equal(stats.enqueued, stats.feed_notices);
	return stats.feed_notices;
}

static void
fail_feed(struct fixture *f, int64_t feed, const char *reason, int times, int64_t now)
{
	struct err e;

	for (int i = 0; i < times; i++)
		if (store_feed_fetch_failed(f->st, feed, reason, now + i, &e) == -1)
			fail_msg("%s", e.msg);
}

static void
test_broken_feed_told_once_per_breakage(void **state)
{
	struct fixture *f = *state;
	struct world w = world(f);
	struct err e;
	char key[64], *t, *h;

	fail_feed(f, w.feed_ann, "HTTP status 403", 2, T0);
	assert_int_equal(notices_at(f, T0 + HOUR), 0);        /* 2 < 3 */
	fail_feed(f, w.feed_ann, "HTTP status 403", 1, T0 + HOUR);
	assert_int_equal(notices_at(f, T0 + 2 * HOUR), 1);
	snprintf(key, sizeof(key), "%lld-0", (long long)w.feed_ann);
	compose_parts(f, w.ann, "ann@example.net", DK_FEED_BROKEN, key, &t, &h);
	assert_has(t, "gone private");
	assert_has(t, "HTTP status 403");
	assert_has(t, "3 attempts in a");
	assert_has(t, "https://ann.example.net/feed");
	assert_has(t, "things+blog@example.org");
	assert_lacks(t, "the last one that worked");
	assert_lacks(t, "no longer where it was");
	free(t);
	free(h);
	for (int run = 0; run < 5; run++) {                   /* later runs: still failing */
		fail_feed(f, w.feed_ann, "HTTP status 403", 1, T0 + (3 + run) * HOUR);
		assert_int_equal(notices_at(f, T0 + (3 + run) * HOUR), 0);
	}
	assert_int_equal(count(f, DK_FEED_BROKEN, -1), 1);

	/* It works again, then breaks again: a second, separate message. */
	assert_int_equal(store_feed_fetch_ok(f->st, w.feed_ann, "", 0, T0 + DAY, &e), 0);
	fail_feed(f, w.feed_ann, "HTTP status 404", 3, T0 + 2 * DAY);
	assert_int_equal(notices_at(f, T0 + 3 * DAY), 1);
	assert_int_equal(count(f, DK_FEED_BROKEN, -1), 2);
	snprintf(key, sizeof(key), "%lld-%lld", (long long)w.feed_ann, (long long)(T0 + DAY));
	compose_parts(f, w.ann, "ann@example.net", DK_FEED_BROKEN, key, &t, &h);
	assert_has(t, "no longer where it was");
	assert_has(t, "the last one that worked was on Tuesday 12 January 2027");
	free(t);
	free(h);

	/* Someone who left is not written to about their feed. */
	fail_feed(f, w.feed_ben, "HTTP status 500", 3, T0);
	assert_int_equal(store_participant_set_status(f->st, w.ben, PS_UNSUBSCRIBED, T0, &e), 0);
	assert_int_equal(notices_at(f, T0 + 4 * DAY), 0);
}

static void
test_advice_follows_the_problem(void **state)
{
	static const struct {
		const char *reason;    /* NULL: retired (410) */
		const char *says;
		const char *not;       /* advice of another problem */
	} cases[] = {
		{ "HTTP status 401", "gone private", "has been deleted" },
		{ "HTTP status 404", "no longer where it was", "gone private" },
		{ NULL, "The feed has been deleted", "We will keep trying" },
		{ "the page does not announce a feed (no <link rel=\"alternate\">)",
		  "a web page instead of a feed", "could not reach" },
		{ "not well-formed XML (line 3: EndTag: '</' not found)", "The feed is broken",
		  "web page instead" },
		{ "Could not resolve host: gone.example", "could not reach your blog",
		  "The feed is broken" },
		{ "refused to connect: 10.0.0.8 is a private address", "could not reach your blog",
		  "gone private" },
		{ "more than 5 redirects", "Something is wrong with the feed",
		  "could not reach" },
		{ "a bot check stands in front of the feed (HTTP status 403: Cloudflare's "
		  "challenge page)", "turns feed readers away", "gone private" },
	};
	struct fixture *f = *state;
	struct err e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char addr[64], url[128], key[64], *t, *h;
		int64_t who, feed;

		snprintf(addr, sizeof(addr), "p%zu@example.net", i);
		snprintf(url, sizeof(url), "https://p%zu.example.net/feed", i);
		who = add_active(f, addr, "", T0);
		feed = add_feed(f, who, url, "");
		if (cases[i].reason != NULL)
			fail_feed(f, feed, cases[i].reason, 3, T0);
		else
			assert_int_equal(store_feed_retire(f->st, feed, "the server says the feed is"
			    " gone (HTTP 410)", T0, &e), 0);
		assert_int_equal(notices_at(f, T0 + HOUR), 1);
		snprintf(key, sizeof(key), "%lld-0", (long long)feed);
		compose_parts(f, who, addr, DK_FEED_BROKEN, key, &t, &h);
		if (!has(t, cases[i].says) || has(t, cases[i].not))
			fail_msg("case %zu: want '%s', not '%s', in:\n%s", i, cases[i].says,
			    cases[i].not, t);
		/* the reason is shown as text, whatever it holds */
		if (cases[i].reason != NULL && strstr(cases[i].reason, "<link") != NULL) {
			assert_has(h, "&lt;link rel=");
			assert_lacks(h, "<link rel=\"alternate");
		}
		free(t);
		free(h);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_moment_and_week),
		cmocka_unit_test_setup_teardown(test_not_before_start_nor_when_off, digest_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_windows_chain_across_reruns_and_missed_weeks,
		    digest_setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_new_nothing_sent, digest_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_inactive_authors_left_out, digest_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_grouped_by_thing_with_bylines, digest_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_same_post_listed_once, digest_setup, teardown),
		cmocka_unit_test_setup_teardown(test_feed_strings_cannot_inject, digest_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_right_to_left_isolated, digest_setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_digest_capped, digest_setup, teardown),
		cmocka_unit_test_setup_teardown(test_preview_changes_nothing, digest_setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_feed_told_once_per_breakage,
		    digest_setup, teardown),
		cmocka_unit_test_setup_teardown(test_advice_follows_the_problem, digest_setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
