/* Unit tests for bounce scoring (store/bounce.c): how a failure counts
 * (hard, soft, a policy refusal, a warning), the rule over time (once a
 * day, stale after stale_days), and suspension at the threshold with one
 * notice per organiser and per suspension, on a real store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "test_store_fixture.h"

static void
test_severity_table(void **state)
{
	static const struct {
		const char *status;
		int code;
		const char *action;
		enum bounce_severity want;
	} cases[] = {
		{ "5.1.1", 0, NULL, BOUNCE_HARD },        /* no such user */
		{ "5.2.2", 0, "failed", BOUNCE_HARD },    /* mailbox full, given up */
		{ "4.2.2", 0, NULL, BOUNCE_SOFT },
		{ "4.4.7", 0, "failed", BOUNCE_SOFT },    /* expired in a queue */
		{ "5.7.1", 0, NULL, BOUNCE_NONE },        /* spam block */
		{ "5.7.26", 0, "failed", BOUNCE_NONE },   /* DMARC */
		{ "4.7.0", 0, NULL, BOUNCE_NONE },        /* greylisting, policy */
		{ "5.1.1", 0, "delayed", BOUNCE_NONE },   /* a warning */
		{ "2.0.0", 0, "delivered", BOUNCE_NONE },
		{ "", 550, NULL, BOUNCE_HARD },           /* SMTP reply, no status */
		{ NULL, 554, NULL, BOUNCE_HARD },
		{ "", 451, NULL, BOUNCE_SOFT },
		{ "5.7.1", 550, NULL, BOUNCE_NONE },      /* the status decides */
		{ "", 0, NULL, BOUNCE_SOFT },             /* a bounce, we know not how bad */
		{ NULL, 0, "", BOUNCE_SOFT },
		{ "", 0, "delayed", BOUNCE_NONE },
		{ "x.y.z", 0, NULL, BOUNCE_NONE },        /* garbage is no evidence */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum bounce_severity got = bounce_severity_of(cases[i].status, cases[i].code,
		    cases[i].action);

		if (got != cases[i].want)
			fail_msg("case %zu (%s, %d, %s): %d, want %d", i,
			    cases[i].status ? cases[i].status : "NULL", cases[i].code,
			    cases[i].action ? cases[i].action : "NULL", got, cases[i].want);
	}
}

static void
test_score_table(void **state)
{
	static const struct {
		double score;
		int64_t last_at;    /* relative to T0; 1: never (0) */
		enum bounce_severity sev;
		double want;
		int counted;
	} cases[] = {
		{ 0, 1, BOUNCE_HARD, 1.0, 1 },                 /* first bounce */
		{ 0, 1, BOUNCE_SOFT, 0.5, 1 },
		{ 2, -3600, BOUNCE_HARD, 2, 0 },               /* an hour ago: once a day */
		{ 2, -DAY + 1, BOUNCE_SOFT, 2, 0 },
		{ 2, -DAY, BOUNCE_HARD, 3, 1 },                /* a day later: counts */
		{ 2, -DAY, BOUNCE_SOFT, 2.5, 1 },
		{ 4.5, -6 * DAY, BOUNCE_HARD, 5.5, 1 },        /* not stale yet */
		{ 4.5, -7 * DAY, BOUNCE_HARD, 1, 1 },          /* stale: starts again */
		{ 4.5, -30 * DAY, BOUNCE_SOFT, 0.5, 1 },
		{ 3, -2 * DAY, BOUNCE_NONE, 3, 0 },            /* a policy refusal */
		{ 3, DAY, BOUNCE_HARD, 3, 0 },                 /* clock went back */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int counted = -1;
		int64_t last = cases[i].last_at == 1 ? 0 : T0 + cases[i].last_at;
		double got = bounce_score_next(cases[i].score, last, T0, cases[i].sev, 7, &counted);

		if (got != cases[i].want || counted != cases[i].counted)
			fail_msg("case %zu: score %g counted %d, want %g %d", i, got, counted,
			    cases[i].want, cases[i].counted);
	}
}

/* --- on a store ------------------------------------------------------------ */

static const char *const organisers[] = { "org1@example.org", "org2@example.org" };
static const struct bounce_policy policy = { 5, 7, organisers, 2, "example.org" };

static struct bounce_outcome
bounce(struct fixture *f, enum bounce_severity sev, const char *why, int64_t now)
{
	struct bounce_outcome out;
	struct err e;

	if (store_participant_bounce(f->st, f->pid, sev, why, now, &policy, &out, &e) == -1)
		fail_msg("%s", e.msg);
	return out;
}

static int64_t
notices(struct fixture *f)
{
	int64_t n;
	struct err e;

	assert_int_equal(store_delivery_count(f->st, DK_SUSPENDED, -1, &n, &e), 0);
	return n;
}

/* Five hard bounces on five days suspend; both organisers are told once;
 * more bounces change the score but tell nobody again. */
static void
test_threshold_suspends_and_tells_organisers_once(void **state)
{
	struct fixture *f = *state;
	struct bounce_outcome out;
	struct delivery d;
	struct err e;
	char key[64];

	for (int day = 0; day < 4; day++) {
		out = bounce(f, BOUNCE_HARD, "RCPT: 550 5.1.1 no such user", T0 + day * DAY);
		assert_true(out.counted);
		assert_false(out.suspended);
		/* the same day again: not counted */
		out = bounce(f, BOUNCE_HARD, "again", T0 + day * DAY + 3600);
		assert_false(out.counted);
	}
	assert_int_equal(get(f).status, PS_ACTIVE);
	assert_true(get(f).bounce_score == 4.0);
	assert_int_equal(notices(f), 0);
	out = bounce(f, BOUNCE_HARD, "RCPT: 550 5.1.1 <dead@example.net>: unknown", T0 + 4 * DAY);
	assert_true(out.counted && out.suspended);
	assert_true(out.score == 5.0);
	assert_int_equal(get(f).status, PS_SUSPENDED);
	assert_string_equal(get(f).bounce_reason, "RCPT: 550 5.1.1 <dead@example.net>: unknown");
	assert_int_equal(get(f).bounce_at, T0 + 4 * DAY);
	assert_int_equal(notices(f), 2);
	snprintf(key, sizeof(key), "%lld.%lld", (long long)f->pid, (long long)(T0 + 4 * DAY));
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(store_delivery_find(f->st, organisers[i], DK_SUSPENDED, key, &d, &e),
		    0);
		assert_int_equal(d.participant_id, 0);
		assert_int_equal(d.state, DS_QUEUED);
		assert_int_equal(d.due_at, T0 + 4 * DAY);
	}
	out = bounce(f, BOUNCE_HARD, "still dead", T0 + 5 * DAY);
	assert_true(out.counted && !out.suspended);
	assert_int_equal(notices(f), 2);

	/* back in the programme: a clean slate, and a new suspension is news */
	assert_int_equal(store_participant_activate(f->st, f->pid, T0 + 20 * DAY, &e), 0);
	assert_true(get(f).bounce_score == 0);
	assert_int_equal(get(f).bounce_at, 0);
	assert_string_equal(get(f).bounce_reason, "");
	for (int day = 21; day <= 25; day++)
		out = bounce(f, BOUNCE_HARD, "dead again", T0 + day * DAY);
	assert_true(out.suspended);
	assert_int_equal(notices(f), 4);
}

/* Soft bounces count half; a stale score starts again; a policy refusal
 * and a warning change nothing. */
static void
test_soft_stale_and_policy(void **state)
{
	struct fixture *f = *state;
	struct bounce_outcome out;

	for (int day = 0; day < 9; day++)
		bounce(f, BOUNCE_SOFT, "452 4.2.2 mailbox full", T0 + day * DAY);
	assert_true(get(f).bounce_score == 4.5);
	out = bounce(f, BOUNCE_NONE, "550 5.7.1 spam", T0 + 9 * DAY);
	assert_false(out.counted);
	assert_true(get(f).bounce_score == 4.5);
	assert_string_equal(get(f).bounce_reason, "452 4.2.2 mailbox full");
	/* a week without bounces: the next one starts from zero */
	out = bounce(f, BOUNCE_HARD, "550 5.1.1", T0 + 8 * DAY + 7 * DAY);
	assert_true(out.counted && !out.suspended);
	assert_true(out.score == 1.0);
	assert_int_equal(get(f).status, PS_ACTIVE);
	assert_int_equal(notices(f), 0);
}

/* Only active participants are suspended (a pending one whose
 * confirmation bounces stays pending); the caller's transaction is joined
 * and a rollback undoes everything. */
static void
test_pending_and_rollback(void **state)
{
	struct fixture *f = *state;
	struct bounce_outcome out;
	struct err e;

	assert_int_equal(store_participant_set_status(f->st, f->pid, PS_PENDING, T0, &e), 0);
	for (int day = 0; day < 6; day++)
		out = bounce(f, BOUNCE_HARD, "550 5.1.1", T0 + day * DAY);
	assert_false(out.suspended);
	assert_int_equal(get(f).status, PS_PENDING);
	assert_int_equal(notices(f), 0);

	assert_int_equal(store_participant_activate(f->st, f->pid, T0 + 10 * DAY, &e), 0);
	assert_int_equal(store_begin(f->st, &e), 0);
	for (int day = 10; day < 15; day++)
		out = bounce(f, BOUNCE_HARD, "550 5.1.1", T0 + day * DAY);
	assert_true(out.suspended);
	store_rollback(f->st);
	assert_int_equal(get(f).status, PS_ACTIVE);
	assert_true(get(f).bounce_score == 0);
	assert_int_equal(notices(f), 0);
	assert_int_equal(store_participant_bounce(f->st, f->pid + 100, BOUNCE_HARD, "x", T0, &policy,
	    &out, &e), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_severity_table),
		cmocka_unit_test(test_score_table),
		cmocka_unit_test_setup_teardown(test_threshold_suspends_and_tells_organisers_once,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_soft_stale_and_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_and_rollback, setup, teardown),
	};

	return cmocka_run_group_tests_name("store_bounce", tests, NULL, NULL);
}
