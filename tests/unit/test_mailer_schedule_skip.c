/* Unit tests for what becomes of a held Thing left as it is: skipped by
 * an organiser (store_delivery_skip_held), the later Things follow it in
 * order from the next run, paced by catch_up_days; left held, the
 * organisers are reminded once a week (mailer_schedule), not before and
 * not twice within the week.  Same timeline machinery as
 * test_mailer_schedule.c, on a simulated clock. */
#include "test_mailer_schedule.h"

#define H2 (R(2) + 5 * DAY)                 /* when Thing 2 is held, below */
#define BACK (T0 + 40 * DAY)                /* ann comes back */

static const struct scenario scenarios[] = {
	{ "downtime: 9 held, 10-12 wait; skip 9: 10..12 follow from the next run, one every 2 days",
	  0, 2, 0, { 0 },
	  { JN(T0 - DAY, 0), JN(T0 - DAY, 1), { TICK_RELEASES, 0, 8, 2, 0 },
	    TK(R(12) + DAY, 2, 2), TK(R(12) + 3 * DAY, 0, 0), SKP(X9, 9), TK(X9, 2, 0),
	    TK(X9 + DAY, 0, 0), TK(X9 + 2 * DAY, 2, 0), TK(X9 + 3 * DAY, 0, 0),
	    TK(X9 + 4 * DAY, 2, 0), TK(X9 + 12 * DAY, 0, 0) },
	  { { 0, 8, DS_SENT, R(8) }, { 0, 9, DS_FAILED, X9 }, { 0, 10, DS_SENT, X9 },
	    { 0, 11, DS_SENT, X9 + 2 * DAY }, { 0, 12, DS_SENT, X9 + 4 * DAY },
	    { 1, 9, DS_FAILED, X9 }, { 1, 10, DS_SENT, X9 }, { 1, 12, DS_SENT, X9 + 4 * DAY },
	    { -1, 0, 0, 0 } }, 2 },

	{ "downtime, catch_up_days 0: skip 9: 10..12 all in the next run, in order", 0, 0, 0,
	  { 0 },
	  { JN(T0 - DAY, 0), JN(T0 - DAY, 1), { TICK_RELEASES, 0, 8, 2, 0 },
	    TK(R(12) + DAY, 2, 2), SKP(X9, 9), TK(X9, 6, 0), TK(X9 + DAY, 0, 0) },
	  { { 0, 9, DS_FAILED, X9 }, { 0, 10, DS_SENT, X9 }, { 0, 12, DS_SENT, X9 },
	    { 1, 9, DS_FAILED, X9 }, { 1, 12, DS_SENT, X9 }, { -1, 0, 0, 0 } }, 2 },

	{ "skipped before the next one's date: the next goes on its date", 0, 2, 0, { 0 },
	  { JN(T0 - DAY, 0), TK(T0, 1, 0), TK(H2, 2, 1), SKP(H2 + HOUR, 2), TK(H2 + HOUR, 0, 0),
	    TK(R(3) - HOUR, 0, 0), TK(R(3), 1, 0) },
	  { { 0, 2, DS_FAILED, H2 + HOUR }, { 0, 3, DS_SENT, R(3) }, { -1, 0, 0, 0 } }, 2 },

	{ "back after leaving with an old held Thing: it stops her (reminded) until skipped; "
	  "then the rest from the skip, paced", 0, 2, 0, { 0 },
	  { JN(T0 - DAY, 0), TK(T0, 1, 0), TK(H2, 2, 1), LV(H2 + DAY, 0), TK(H2 + 9 * DAY, 0, 0),
	    JN(BACK, 0), TK(BACK, 2, 0), TK(BACK + HOUR, 0, 0), SKP(BACK + 2 * HOUR, 2),
	    TK(BACK + 2 * HOUR, 1, 0), TK(R(4) - HOUR, 0, 0), TK(R(4), 1, 0), TK(R(5), 1, 0) },
	  { { 0, 2, DS_FAILED, BACK + 2 * HOUR }, { 0, 3, DS_SENT, BACK + 2 * HOUR },
	    { 0, 4, DS_SENT, R(4) }, { 0, 5, DS_SENT, R(5) }, { -1, 0, 0, 0 } }, 4 },

	{ "left held: a reminder 7 days after the notice, not before, then weekly; none once "
	  "released", 0, 2, 0, { 0 },
	  { JN(T0 - DAY, 0), JN(T0 - DAY, 1), TK(T0, 2, 0), TK(H2, 2, 2),
	    TK(H2 + 7 * DAY - 1, 0, 0), TK(H2 + 7 * DAY, 2, 0), TK(H2 + 7 * DAY + HOUR, 0, 0),
	    TK(H2 + 13 * DAY, 0, 0), TK(H2 + 14 * DAY - 1, 0, 0), TK(H2 + 14 * DAY, 2, 0),
	    REL(H2 + 15 * DAY, 2), TK(H2 + 15 * DAY, 0, 0), TK(H2 + 17 * DAY, 2, 0),
	    TK(H2 + 22 * DAY, 0, 0) },
	  { { 0, 2, DS_SENT, H2 + 15 * DAY }, { 1, 3, DS_SENT, H2 + 17 * DAY }, { -1, 0, 0, 0 } },
	  6 },

	{ "a new hold of the same Thing a week on is told, and restarts the week", 0, 2, 0,
	  { 0 },
	  { JN(T0 - DAY, 0), TK(T0, 1, 0), TK(H2, 2, 1), JN(T0 + 20 * DAY, 1),
	    TK(T0 + 20 * DAY, 1, 0), TK(H2 + 7 * DAY, 2, 1), TK(H2 + 14 * DAY - HOUR, 0, 0),
	    TK(H2 + 14 * DAY, 2, 0) },
	  { { 0, 2, DS_HELD, R(2) }, { 1, 2, DS_HELD, T0 + 22 * DAY }, { -1, 0, 0, 0 } }, 6 },
};
#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

/* The reminder says it is one, for how long, and how to release or skip. */
static void
test_reminder_says_so(void **state)
{
	struct fixture *f = *state;
	struct delivery held, notice;
	struct buf out;
	char key[64];
	struct err e;

	join(f, 0, T0 - DAY);
	tick(f, T0, 1, 0);
	tick(f, H2, 2, 1);
	tick(f, H2 + 8 * DAY, 2, 0);
	assert_int_equal(store_delivery_find(f->st, who[0], DK_THING, "2", &held, &e), 0);
	snprintf(key, sizeof(key), "2-%lld", (long long)held.id);
	assert_int_equal(store_delivery_find(f->st, "org1@example.org", DK_HELD_NOTICE, key,
	    &notice, &e), 0);
	buf_init(&out, 0);
	if (mailer_compose(f->m, &notice, &out, &e) == -1)
		fail_msg("%s", e.msg);
	assert_non_null(strstr(buf_str(&out), "\r\nSubject: Thing 2 is held: it was due"));
	assert_non_null(strstr(buf_str(&out), "release 2 --skip"));
	assert_non_null(strstr(buf_str(&out), "stops their programme"));
	assert_null(strstr(buf_str(&out), "reminder"));
	snprintf(key, sizeof(key), "2-r8-%lld", (long long)(H2 + 8 * DAY));
	assert_int_equal(store_delivery_find(f->st, "org1@example.org", DK_HELD_NOTICE, key,
	    &notice, &e), 0);
	assert_int_equal(notice.state, DS_SENT);
	buf_reset(&out);
	if (mailer_compose(f->m, &notice, &out, &e) == -1)
		fail_msg("%s", e.msg);
	assert_non_null(strstr(buf_str(&out), "\r\nSubject: Thing 2 is still held: it was due"));
	assert_non_null(strstr(buf_str(&out), "A reminder"));
	assert_non_null(strstr(buf_str(&out), "8 days"));
	assert_non_null(strstr(buf_str(&out), "things -c things.conf release 2\r\n"));
	assert_non_null(strstr(buf_str(&out), "things -c things.conf release 2 --skip"));
	buf_free(&out);
}

/* Skipped: status counts them apart from real failures; release and
 * status see nobody held or blocked any more. */
static void
test_skipped_counted_apart(void **state)
{
	struct fixture *f = *state;
	struct mailer_pending got[NT];
	struct thing_outbox box[NT];
	struct thing_stats stats[NT];
	struct delivery d;
	int64_t n;
	struct err e;

	join(f, 0, T0 - DAY);
	join(f, 1, T0 - DAY);
	tick(f, T0, 2, 0);
	tick(f, H2, 2, 2);
	assert_int_equal(mailer_schedule_pending(f->m, got, &e), 0);
	assert_int_equal(got[1].holding, 2);
	assert_int_equal(got[1].held_back, 2 * (NT - 2));
	/* skipped after Thing 3's date: 3 is due from the skip on */
	assert_int_equal(store_delivery_skip_held(f->st, DK_THING, "2", R(3) + DAY, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_delivery_skip_held(f->st, DK_THING, "2", R(3) + DAY, &n, &e), 0);
	assert_int_equal(n, 0);                /* only held ones: twice skips nothing */
	assert_int_equal(store_delivery_find(f->st, who[0], DK_THING, "2", &d, &e), 0);
	assert_int_equal(d.state, DS_FAILED);
	assert_string_equal(d.last_error, STORE_SKIPPED);
	assert_int_equal(mailer_schedule_pending(f->m, got, &e), 0);
	assert_int_equal(got[1].holding + got[1].held_back + got[2].blocked, 0);
	assert_int_equal(got[2].next_at, R(3) + DAY);
	assert_int_equal(got[3].next_at, R(4));      /* Thing 4 on its date */
	assert_int_equal(store_thing_outbox(f->st, R(3) + DAY, NT, box, &e), 0);
	assert_int_equal(box[1].failed, 2);
	assert_int_equal(box[1].skipped, 2);
	assert_int_equal(box[1].held, 0);
	assert_int_equal(box[0].skipped, 0);
	assert_int_equal(store_thing_stats(f->st, NT, stats, &e), 0);
	assert_int_equal(stats[1].failed, 2);
	assert_int_equal(stats[1].skipped, 2);
}

static const struct scenario paced = { "paced", 0, 2, 0, { 0 }, { { END, 0, 0, 0, 0 } },
	{ { -1, 0, 0, 0 } }, 0 };

int
main(void)
{
	struct CMUnitTest tests[NSCENARIOS + 2];

	tests[NSCENARIOS] = (struct CMUnitTest)cmocka_unit_test_prestate_setup_teardown(
	    test_reminder_says_so, setup, teardown, (void *)&paced);
	tests[NSCENARIOS + 1] = (struct CMUnitTest)cmocka_unit_test_prestate_setup_teardown(
	    test_skipped_counted_apart, setup, teardown, (void *)&paced);
	for (size_t i = 0; i < NSCENARIOS; i++) {
		tests[i].name = scenarios[i].name;
		tests[i].test_func = test_scenario;
		tests[i].setup_func = setup;
		tests[i].teardown_func = teardown;
		tests[i].initial_state = (void *)&scenarios[i];
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
