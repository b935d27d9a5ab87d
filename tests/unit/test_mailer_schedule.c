/* Unit tests for mailer_schedule on a real store and a simulated clock:
 * each scenario is a timeline (participants join and leave, runs tick,
 * organisers release, the config changes) played against a twelve-Thing
 * programme that sends into a Maildir; at every tick the schedule runs
 * twice (the second run must find nothing new) and then sends (with the
 * Things that follow one sent in the same run).  The end state of every
 * (participant, Thing) is checked: state and due time; and each
 * participant's Things must have reached the Maildir in order. */
#include "test_mailer_schedule.h"

static const struct scenario scenarios[] = {
	{ "cohort: each Thing at its release, on time", 0, 2, 0, { 0 },
	  { JN(T0 - DAY, 0), TK(T0 - 1, 0, 0), TK(T0, 1, 0), TK(R(2), 1, 0), TK(R(3) + HOUR, 1, 0),
	    TK(R(4), 1, 0), TK(R(5) + 2 * DAY, 1, 0) },
	  { { 0, 1, DS_SENT, R(1) }, { 0, 2, DS_SENT, R(2) }, { 0, 3, DS_SENT, R(3) },
	    { 0, 4, DS_SENT, R(4) }, { 0, 5, DS_SENT, R(5) }, { 0, 6, NONE, 0 }, { -1, 0, 0, 0 } },
	  0 },

	{ "late joiner, catch_up_days 0: the Things out, all at once, in order", 0, 0, 0, { 0 },
	  { JN(T0 - DAY, 0), TK(T0, 1, 0), TK(R(2), 1, 0), TK(R(3), 1, 0), JN(T0 + 30 * DAY, 1),
	    TK(T0 + 30 * DAY, 3, 0), TK(R(4), 2, 0) },
	  { { 1, 1, DS_SENT, T0 + 30 * DAY }, { 1, 2, DS_SENT, T0 + 30 * DAY },
	    { 1, 3, DS_SENT, T0 + 30 * DAY }, { 1, 4, DS_SENT, R(4) }, { 1, 5, NONE, 0 },
	    { 0, 3, DS_SENT, R(3) }, { -1, 0, 0, 0 } }, 0 },

	{ "late joiner, catch_up_days 3: one every 3 days, then with the cohort", 0, 3, 0, { 0 },
	  { JN(T0 - DAY, 0), TK(T0, 1, 0), TK(R(2), 1, 0), TK(R(3), 1, 0),
	    JN(T0 + 30 * DAY + HOUR, 1), TK(T0 + 30 * DAY + HOUR, 1, 0),
	    TK(T0 + 32 * DAY, 0, 0), TK(T0 + 33 * DAY + HOUR, 1, 0),
	    TK(T0 + 36 * DAY + HOUR, 1, 0), TK(R(4), 2, 0) },
	  { { 1, 1, DS_SENT, T0 + 30 * DAY + HOUR }, { 1, 2, DS_SENT, T0 + 33 * DAY + HOUR },
	    { 1, 3, DS_SENT, T0 + 36 * DAY + HOUR }, { 1, 4, DS_SENT, R(4) },
	    { 0, 4, DS_SENT, R(4) }, { 1, 5, NONE, 0 }, { -1, 0, 0, 0 } }, 0 },

	{ "slow catch-up: a Thing released during it waits its turn; the next on time", 0, 7, 0, { 0 },
	  { JN(T0 + 30 * DAY + HOUR, 1), TK(T0 + 30 * DAY + HOUR, 1, 0),
	    TK(T0 + 37 * DAY + HOUR, 1, 0), TK(R(4), 0, 0), TK(T0 + 44 * DAY + HOUR, 1, 0),
	    TK(T0 + 51 * DAY + HOUR, 1, 0), TK(R(5), 1, 0) },
	  { { 1, 1, DS_SENT, T0 + 30 * DAY + HOUR }, { 1, 2, DS_SENT, T0 + 37 * DAY + HOUR },
	    { 1, 3, DS_SENT, T0 + 44 * DAY + HOUR }, { 1, 4, DS_SENT, T0 + 51 * DAY + HOUR },
	    { 1, 5, DS_SENT, R(5) }, { -1, 0, 0, 0 } }, 0 },

	{ "self-paced: each from their confirmation; [schedule] dates ignored", 1, 2, 0,
	  { 0, T0 + 3 * DAY, 0, 0, 0 },
	  { JN(T0 + DAY, 0), TK(T0 + DAY, 1, 0), TK(T0 + 4 * DAY, 0, 0), JN(T0 + 10 * DAY, 1),
	    TK(T0 + 10 * DAY, 1, 0), TK(T0 + 15 * DAY, 1, 0), TK(T0 + 24 * DAY, 1, 0),
	    TK(T0 + 29 * DAY, 1, 0), TK(T0 + 38 * DAY, 1, 0) },
	  { { 0, 1, DS_SENT, T0 + DAY }, { 0, 2, DS_SENT, T0 + 15 * DAY },
	    { 0, 3, DS_SENT, T0 + 29 * DAY }, { 0, 4, NONE, 0 },
	    { 1, 1, DS_SENT, T0 + 10 * DAY }, { 1, 2, DS_SENT, T0 + 24 * DAY },
	    { 1, 3, DS_SENT, T0 + 38 * DAY }, { -1, 0, 0, 0 } }, 0 },

	{ "cohort: a [schedule] date moves one Thing", 0, 2, 0, { 0, 0, T0 + 35 * DAY, 0, 0 },
	  { JN(T0 - DAY, 0), TK(T0, 1, 0), TK(R(2), 1, 0), TK(R(3) + HOUR, 0, 0),
	    TK(T0 + 35 * DAY, 1, 0) },
	  { { 0, 2, DS_SENT, R(2) }, { 0, 3, DS_SENT, T0 + 35 * DAY }, { -1, 0, 0, 0 } }, 0 },

	{ "cohort: a [schedule] date after the next Thing's: the next waits for it", 0, 2, 0,
	  { 0, 0, R(4) + DAY, 0, 0 },
	  { JN(T0 - DAY, 0), TK(T0, 1, 0), TK(R(2), 1, 0), TK(R(4), 0, 0), TK(R(4) + DAY, 1, 0),
	    TK(R(4) + 3 * DAY, 1, 0) },
	  { { 0, 3, DS_SENT, R(4) + DAY }, { 0, 4, DS_SENT, R(4) + 3 * DAY }, { -1, 0, 0, 0 } },
	  0 },

	{ "five days without a run: held, one notice per organiser, once; the next waits (nine "
	  "days on, a reminder)", 0, 2, 0, { 0 },
	  { JN(T0 - DAY, 0), JN(T0 - DAY, 1), TK(T0, 2, 0), TK(R(2) + 5 * DAY, 2, 2),
	    TK(R(2) + 5 * DAY + HOUR, 0, 0), TK(R(3), 2, 0) },
	  { { 0, 1, DS_SENT, R(1) }, { 0, 2, DS_HELD, R(2) }, { 1, 2, DS_HELD, R(2) },
	    { 0, 3, NONE, 0 }, { 1, 3, NONE, 0 }, { -1, 0, 0, 0 } }, 4 },

	{ "send_late = yes: five days late, sent", 0, 2, 1, { 0 },
	  { JN(T0 - DAY, 0), JN(T0 - DAY, 1), TK(T0, 2, 0), TK(R(2) + 5 * DAY, 2, 0) },
	  { { 0, 2, DS_SENT, R(2) }, { 1, 2, DS_SENT, R(2) }, { -1, 0, 0, 0 } }, 0 },

	{ "send_late = yes after weeks down: the backlog in order, paced from the late one", 0, 2,
	  1, { 0 },
	  { JN(T0 - DAY, 0), TK(T0, 1, 0), TK(R(4) + DAY, 1, 0), TK(R(4) + 2 * DAY, 0, 0),
	    TK(R(4) + 3 * DAY, 1, 0), TK(R(4) + 5 * DAY, 1, 0), TK(R(5), 1, 0) },
	  { { 0, 2, DS_SENT, R(2) }, { 0, 3, DS_SENT, R(4) + 3 * DAY },
	    { 0, 4, DS_SENT, R(4) + 5 * DAY }, { 0, 5, DS_SENT, R(5) }, { -1, 0, 0, 0 } }, 0 },

	{ "released Things go once; a later hold is told anew", 0, 2, 0, { 0 },
	  { JN(T0 - DAY, 0), TK(T0, 1, 0), TK(R(2) + 5 * DAY, 2, 1), REL(R(2) + 5 * DAY + HOUR, 2),
	    TK(R(2) + 5 * DAY + HOUR, 0, 0), TK(R(2) + 5 * DAY + 2 * HOUR, 0, 0),
	    JN(T0 + 20 * DAY, 1), TK(T0 + 20 * DAY, 1, 0), TK(T0 + 27 * DAY, 2, 1),
	    REL(T0 + 27 * DAY + HOUR, 0), TK(T0 + 27 * DAY + HOUR, 0, 0) },
	  { { 0, 2, DS_SENT, R(2) + 5 * DAY + HOUR }, { 1, 1, DS_SENT, T0 + 20 * DAY },
	    { 1, 2, DS_SENT, T0 + 27 * DAY + HOUR }, { -1, 0, 0, 0 } }, 4 },

	{ "a separate hold while the first is still held: told anew", 0, 2, 0, { 0 },
	  { JN(T0 - DAY, 0), TK(T0, 1, 0), TK(R(2) + 5 * DAY, 2, 1), JN(T0 + 20 * DAY, 1),
	    TK(T0 + 20 * DAY, 1, 0), TK(T0 + 27 * DAY, 2, 1) },
	  { { 0, 2, DS_HELD, R(2) }, { 1, 2, DS_HELD, T0 + 22 * DAY }, { -1, 0, 0, 0 } }, 4 },

	{ "an ongoing hold is told once, then reminded of weekly, however many runs and Things "
	  "due behind it", 0, 2, 0, { 0 },
	  { JN(T0 - DAY, 0), JN(T0 - DAY, 1), TK(T0, 2, 0), TK(R(2) + 5 * DAY, 2, 2),
	    TK(R(2) + 5 * DAY + HOUR, 0, 0), TK(R(3), 2, 0), TK(R(3) + 4 * DAY, 0, 0),
	    TK(R(4), 2, 0), TK(R(5) + HOUR, 2, 0), TK(R(5) + 5 * DAY, 0, 0) },
	  { { 0, 2, DS_HELD, R(2) }, { 1, 2, DS_HELD, R(2) }, { 0, 3, NONE, 0 },
	    { 1, 5, NONE, 0 }, { -1, 0, 0, 0 } }, 8 },

	{ "downtime: 9 held, 10-12 due wait; release 9: 9..12 in order, one every 2 days", 0, 2,
	  0, { 0 },
	  { JN(T0 - DAY, 0), JN(T0 - DAY, 1), { TICK_RELEASES, 0, 8, 2, 0 },
	    TK(R(12) + DAY, 2, 2), TK(R(12) + DAY + HOUR, 0, 0), TK(R(12) + 3 * DAY, 0, 0),
	    REL(X9, 9), TK(X9, 0, 0), TK(X9 + DAY, 0, 0), TK(X9 + 2 * DAY, 2, 0),
	    TK(X9 + 4 * DAY, 2, 0), TK(X9 + 5 * DAY, 0, 0), TK(X9 + 6 * DAY, 2, 0) },
	  { { 0, 8, DS_SENT, R(8) }, { 0, 9, DS_SENT, X9 }, { 0, 10, DS_SENT, X9 + 2 * DAY },
	    { 0, 11, DS_SENT, X9 + 4 * DAY }, { 0, 12, DS_SENT, X9 + 6 * DAY },
	    { 1, 9, DS_SENT, X9 }, { 1, 12, DS_SENT, X9 + 6 * DAY }, { -1, 0, 0, 0 } }, 2 },

	{ "downtime, catch_up_days 0: release 9 sends 9..12 in its run, one after the other", 0,
	  0, 0, { 0 },
	  { JN(T0 - DAY, 0), JN(T0 - DAY, 1), { TICK_RELEASES, 0, 8, 2, 0 },
	    TK(R(12) + DAY, 2, 2), TK(R(12) + 3 * DAY, 0, 0), REL(X9, 9), TK(X9, 6, 0),
	    TK(X9 + DAY, 0, 0) },
	  { { 0, 9, DS_SENT, X9 }, { 0, 10, DS_SENT, X9 }, { 0, 12, DS_SENT, X9 },
	    { 1, 9, DS_SENT, X9 }, { 1, 12, DS_SENT, X9 }, { -1, 0, 0, 0 } }, 2 },

	{ "self-paced, down 2 weeks: her 3 held, 4 waits; released, 4 follows; bob unaffected", 1,
	  2, 0, { 0 },
	  { JN(T0, 0), TK(SP(1), 1, 0), TK(SP(2), 1, 0), TK(SP(3) - DAY, 0, 0),
	    TK(SP(4) + DAY, 2, 1), JN(SP(4) + DAY, 1), TK(SP(4) + DAY + HOUR, 1, 0),
	    REL(SP(4) + 2 * DAY, 3), TK(SP(4) + 2 * DAY, 0, 0), TK(SP(4) + 4 * DAY, 1, 0),
	    TK(SP(5), 1, 0) },
	  { { 0, 3, DS_SENT, SP(4) + 2 * DAY }, { 0, 4, DS_SENT, SP(4) + 4 * DAY },
	    { 0, 5, DS_SENT, SP(5) }, { 1, 1, DS_SENT, SP(4) + DAY }, { 1, 2, NONE, 0 },
	    { -1, 0, 0, 0 } }, 2 },

	{ "self-paced, months apart: another's hold of the same Thing is told, the first left "
	  "held by a participant who left", 1, 2, 0, { 0 },
	  { JN(T0, 0), TK(SP(1), 1, 0), TK(SP(2) + 5 * DAY, 2, 1), LV(SP(2) + 6 * DAY, 0),
	    JN(T0 + 100 * DAY, 1), TK(T0 + 100 * DAY, 1, 0), TK(T0 + 119 * DAY, 2, 1),
	    TK(T0 + 119 * DAY + HOUR, 0, 0) },
	  { { 0, 2, DS_HELD, SP(2) }, { 1, 1, DS_SENT, T0 + 100 * DAY },
	    { 1, 2, DS_HELD, T0 + 114 * DAY }, { -1, 0, 0, 0 } }, 4 },

	{ "late joiner held on joining (confirmed before the downtime): the rest waits", 0, 2, 0,
	  { 0 },
	  { JN(T0 + 20 * DAY, 1), TK(T0 + 24 * DAY, 2, 1), REL(T0 + 25 * DAY, 1),
	    TK(T0 + 25 * DAY, 0, 0), TK(T0 + 27 * DAY, 1, 0), TK(R(3), 1, 0) },
	  { { 1, 1, DS_SENT, T0 + 25 * DAY }, { 1, 2, DS_SENT, T0 + 27 * DAY },
	    { 1, 3, DS_SENT, R(3) }, { -1, 0, 0, 0 } }, 2 },

	{ "catch-up after downtime: lateness from each one's own slot; the next waits", 0, 2, 0,
	  { 0 },
	  { JN(T0 + 30 * DAY, 1), TK(T0 + 30 * DAY, 1, 0), TK(T0 + 36 * DAY, 2, 1) },
	  { { 1, 1, DS_SENT, T0 + 30 * DAY }, { 1, 2, DS_HELD, T0 + 32 * DAY },
	    { 1, 3, NONE, 0 }, { -1, 0, 0, 0 } }, 2 },

	{ "catch_up_days changed: what is queued stays, the rest follows", 0, 3, 0, { 0 },
	  { JN(T0 + 30 * DAY, 1), TK(T0 + 30 * DAY, 1, 0), TK(T0 + 33 * DAY, 1, 0),
	    { SET_CATCH_UP, T0 + 34 * DAY, 1, 0, 0 }, TK(T0 + 34 * DAY, 1, 0),
	    { SET_CATCH_UP, T0 + 35 * DAY, 10, 0, 0 }, TK(T0 + 35 * DAY, 0, 0) },
	  { { 1, 1, DS_SENT, T0 + 30 * DAY }, { 1, 2, DS_SENT, T0 + 33 * DAY },
	    { 1, 3, DS_SENT, T0 + 34 * DAY }, { 1, 4, NONE, 0 }, { -1, 0, 0, 0 } }, 0 },

	{ "a participant back from leaving: what came out meanwhile, paced", 0, 2, 0, { 0 },
	  { JN(T0 - DAY, 0), TK(T0, 1, 0), LV(T0 + DAY, 0), TK(R(2), 0, 0),
	    TK(R(3), 0, 0), JN(T0 + 30 * DAY, 0), TK(T0 + 30 * DAY, 1, 0),
	    TK(T0 + 32 * DAY, 1, 0) },
	  { { 0, 1, DS_SENT, R(1) }, { 0, 2, DS_SENT, T0 + 30 * DAY },
	    { 0, 3, DS_SENT, T0 + 32 * DAY }, { -1, 0, 0, 0 } }, 0 },
};
#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))


/* The configuration of the two tests below: catch-up one every 3 days. */
static const struct scenario paced = { "paced", 0, 3, 0, { 0 }, { { END, 0, 0, 0, 0 } },
	{ { -1, 0, 0, 0 } }, 0 };

static void
check_pending(const struct mailer_pending *got, const struct mailer_pending *want)
{
	for (int i = 0; i < NT; i++) {
		const struct mailer_pending *g = &got[i], *w = &want[i];

		if (g->waiting != w->waiting || g->next_at != w->next_at ||
		    g->blocked != w->blocked || g->held_back != w->held_back ||
		    g->holding != w->holding)
			fail_msg("Thing %d: %lld waiting (%lld blocked, %lld held back behind it, "
			    "%lld holding it), next T0%+.2f days; expected %lld (%lld, %lld, %lld), "
			    "T0%+.2f", i + 1, (long long)g->waiting, (long long)g->blocked,
			    (long long)g->held_back, (long long)g->holding,
			    (double)(g->next_at - T0) / DAY, (long long)w->waiting,
			    (long long)w->blocked, (long long)w->held_back, (long long)w->holding,
			    (double)(w->next_at - T0) / DAY);
	}
}

static void
test_pending_counts_what_is_left(void **state)
{
	struct mailer_pending want[NT] = {
		{ 0, 0, 0, 0, 0 }, { 1, T0 + 33 * DAY, 0, 0, 0 }, { 1, T0 + 36 * DAY, 0, 0, 0 },
	};
	struct fixture *f = *state;
	struct mailer_pending got[NT];
	int64_t before, after;
	struct err e;

	for (int i = 3; i < NT; i++)
		want[i] = (struct mailer_pending){ 2, R(i + 1), 0, 0, 0 };
	join(f, 0, T0 - DAY);
	assert_int_equal(mailer_schedule_pending(f->m, got, &e), 0);
	assert_int_equal(got[0].waiting, 1);   /* Thing 1: due, not queued yet */
	assert_int_equal(got[0].next_at, R(1));
	for (int i = 1; i <= 3; i++)
		tick(f, R(i), 1, 0);               /* ann: 1, 2, 3 */
	join(f, 1, T0 + 30 * DAY);
	tick(f, T0 + 30 * DAY, 1, 0);          /* bob: 1 of 3 out */
	assert_int_equal(store_delivery_count(f->st, NULL, -1, &before, &e), 0);
	assert_int_equal(mailer_schedule_pending(f->m, got, &e), 0);
	assert_int_equal(store_delivery_count(f->st, NULL, -1, &after, &e), 0);
	assert_int_equal(after, before);
	check_pending(got, want);
}

/* Behind a held Thing: the later ones are counted as blocked (no due time
 * of their own) and charged to the held Thing, for status and release. */
static void
test_pending_behind_a_hold(void **state)
{
	struct mailer_pending want[NT] = {
		{ 0, 0, 0, 0, 0 }, { 0, 0, 0, 2 * (NT - 2), 2 },
	};
	struct fixture *f = *state;
	struct mailer_pending got[NT];
	int64_t n;
	struct err e;

	for (int i = 2; i < NT; i++)
		want[i] = (struct mailer_pending){ 2, 0, 2, 0, 0 };
	join(f, 0, T0 - DAY);
	join(f, 1, T0 - DAY);
	tick(f, T0, 2, 0);
	tick(f, R(3) + DAY, 2, 2);             /* 2 held (notices queued), 3 waits */
	assert_int_equal(mailer_schedule_pending(f->m, got, &e), 0);
	check_pending(got, want);
	assert_int_equal(store_delivery_release_held(f->st, DK_THING, "2", R(3) + 2 * DAY, &n,
	    &e), 0);
	assert_int_equal(n, 2);
	/* released: nothing blocked; Thing 3 follows 2 by catch_up_days (3) */
	want[1].held_back = 0;
	want[1].holding = 0;
	want[2] = (struct mailer_pending){ 2, R(3) + 5 * DAY, 0, 0, 0 };
	for (int i = 3; i < NT; i++)
		want[i] = (struct mailer_pending){ 2, R(i + 1), 0, 0, 0 };
	assert_int_equal(mailer_schedule_pending(f->m, got, &e), 0);
	check_pending(got, want);
}

static void
test_notice_says_what_and_how(void **state)
{
	struct fixture *f = *state;
	struct delivery held, notice;
	struct buf out;
	char key[32];
	struct err e;

	f->p.cfg.path = (char *)"/srv/my things/things.conf";
	join(f, 0, T0 - DAY);
	join(f, 1, T0 - DAY);
	tick(f, T0, 2, 0);
	tick(f, R(2) + 4 * DAY, 2, 2);
	assert_int_equal(store_delivery_find(f->st, who[0], DK_THING, "2", &held, &e), 0);
	snprintf(key, sizeof(key), "2-%lld", (long long)held.id);
	assert_int_equal(store_delivery_find(f->st, "org2@example.org", DK_HELD_NOTICE, key,
	    &notice, &e), 0);
	assert_int_equal(notice.state, DS_SENT);
	buf_init(&out, 0);
	if (mailer_compose(f->m, &notice, &out, &e) == -1)
		fail_msg("%s", e.msg);
	assert_non_null(strstr(buf_str(&out), "\r\nTo: <org2@example.org>\r\n"));
	assert_non_null(strstr(buf_str(&out), "\r\nSubject: Thing 2 is held: it was due over 72"
	    " hours ago\r\n"));
	assert_non_null(strstr(buf_str(&out), "Auto-Submitted: auto-generated\r\n"));
	assert_int_equal(outbox_with(f, "To: <org2@example.org>",
	    "Return-Path: <things+bounce@example.org>"), 1);
	assert_null(strstr(buf_str(&out), "List-Unsubscribe"));
	/* the text part is quoted-printable: look for short pieces */
	assert_non_null(strstr(buf_str(&out), "waiting for it now: 2."));
	assert_non_null(strstr(buf_str(&out), "wait behind it too"));
	assert_non_null(strstr(buf_str(&out), "things -c '/srv/my things/things.conf' release 2"));
	assert_non_null(strstr(buf_str(&out), "things -c '/srv/my things/things.conf' status"));
	buf_free(&out);
}

int
main(void)
{
	struct CMUnitTest tests[NSCENARIOS + 3];

	tests[NSCENARIOS] = (struct CMUnitTest)cmocka_unit_test_prestate_setup_teardown(
	    test_pending_counts_what_is_left, setup, teardown, (void *)&paced);
	tests[NSCENARIOS + 1] = (struct CMUnitTest)cmocka_unit_test_prestate_setup_teardown(
	    test_notice_says_what_and_how, setup, teardown, (void *)&paced);
	tests[NSCENARIOS + 2] = (struct CMUnitTest)cmocka_unit_test_prestate_setup_teardown(
	    test_pending_behind_a_hold, setup, teardown, (void *)&paced);
	for (size_t i = 0; i < NSCENARIOS; i++) {
		tests[i].name = scenarios[i].name;
		tests[i].test_func = test_scenario;
		tests[i].setup_func = setup;
		tests[i].teardown_func = teardown;
		tests[i].initial_state = (void *)&scenarios[i];
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
