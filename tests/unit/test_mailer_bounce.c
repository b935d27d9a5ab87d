/* Unit tests for what the send loop does with refusals, over SMTP to the
 * scripted server of test_mailer_fake.h: a 5xx to a recipient fails the
 * delivery and counts a hard bounce against the participant, a 5.7.x
 * policy refusal fails it without counting, a recipient refused with 4xx
 * for days is given up as a soft bounce; reaching the threshold suspends
 * the participant (no more Things) and the organisers' notice goes out in
 * the same run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_mailer_bed.h"

static struct participant
who(struct fixture *f, const char *addr)
{
	struct participant p;
	struct err e;

	assert_int_equal(store_participant_by_address(f->st, addr, &p, &e), 0);
	return p;
}

static void
enqueue(struct fixture *f, int64_t pid, const char *to, const char *kind, const char *key,
    int64_t due)
{
	struct delivery_request r = { .participant_id = pid, .recipient = to, .kind = kind,
		.key = key, .due_at = due, .msgid_domain = "example.org" };
	struct err e;
	int64_t id;

	assert_int_equal(store_delivery_enqueue(f->st, &r, due, &id, &e), 0);
}

/* perm@ is refused 550 5.1.1, policy@ 550 5.7.1, nostatus@ a bare 550. */
static void
test_refusals_count_as_bounces_unless_policy(void **state)
{
	struct bed *b = *state;
	struct fixture *f = b->f;
	struct mailer_stats st;
	struct delivery d;

	add_active(f, "ok@example.org", "", T0 - DAY);
	add_active(f, "perm@example.org", "", T0 - DAY);
	add_active(f, "policy@example.org", "", T0 - DAY);
	add_active(f, "nostatus@example.org", "", T0 - DAY);
	schedule(f, T0, 4);
	st = send_due(f, T0);
	assert_int_equal(st.sent, 1);
	assert_int_equal(st.failed, 3);
	assert_int_equal(st.bounces, 2);
	assert_int_equal(st.suspended, 0);
	d = lookup(f, 0, "perm@example.org", DK_THING, "1");
	assert_int_equal(d.state, DS_FAILED);
	assert_non_null(strstr(d.last_error, "550 5.1.1"));
	assert_true(who(f, "perm@example.org").bounce_score == 1.0);
	assert_non_null(strstr(who(f, "perm@example.org").bounce_reason, "RCPT: 550 5.1.1"));
	assert_int_equal(who(f, "perm@example.org").bounce_at, T0);
	assert_true(who(f, "nostatus@example.org").bounce_score == 1.0);
	/* a spam block is no dead address */
	d = lookup(f, 0, "policy@example.org", DK_THING, "1");
	assert_int_equal(d.state, DS_FAILED);
	assert_true(who(f, "policy@example.org").bounce_score == 0);
	assert_int_equal(who(f, "policy@example.org").status, PS_ACTIVE);
	assert_true(who(f, "ok@example.org").bounce_score == 0);
}

/* Threshold 2: a second day of refusals suspends perm@; the organiser's
 * notice is sent in the same run and says who and why; a Thing queued
 * for perm@ before is not sent, and later Things are not even queued. */
static void
test_threshold_suspends_and_notice_goes_out(void **state)
{
	struct bed *b = *state;
	struct fixture *f = b->f;
	struct mailer_stats st;
	struct delivery d;
	struct buf msg;
	struct err e;
	int64_t pid, n;
	char key[64];

	f->p.cfg.bounce_threshold = 2;
	pid = add_active(f, "perm@example.org", "Pat Perm", T0 - DAY);
	add_active(f, "ok@example.org", "", T0 - DAY);
	schedule(f, T0, 2);
	assert_int_equal(send_due(f, T0).bounces, 1);
	assert_int_equal(who(f, "perm@example.org").status, PS_ACTIVE);

	/* the next day: an answer to perm@ bounces too, and a Thing waits */
	enqueue(f, pid, "perm@example.org", DK_HELP_ACK, "h1", T0 + DAY);
	enqueue(f, pid, "perm@example.org", DK_THING, "3", T0 + DAY + 60);
	st = send_due(f, T0 + DAY);
	assert_int_equal(st.bounces, 1);
	assert_int_equal(st.suspended, 1);
	assert_int_equal(st.sent, 1); /* the notice, in the same run */
	assert_int_equal(who(f, "perm@example.org").status, PS_SUSPENDED);
	snprintf(key, sizeof(key), "%lld.%lld", (long long)pid, (long long)(T0 + DAY));
	assert_int_equal(store_delivery_find(f->st, "organiser@example.org", DK_SUSPENDED, key, &d,
	    &e), 0);
	assert_int_equal(d.state, DS_SENT);
	assert_int_equal(count(f, DK_SUSPENDED, -1), 1);

	buf_init(&msg, 0);
	assert_int_equal(mailer_compose(f->m, &d, &msg, &e), 0);
	assert_non_null(strstr(msg.data, "Subject: 12 Things Test: perm@example.org suspended after"));
	assert_non_null(strstr(msg.data, "To: <organiser@example.org>"));
	assert_non_null(strstr(msg.data, "Pat Perm <perm@example.org>"));
	assert_non_null(strstr(msg.data, "550 5.1.1"));
	assert_non_null(strstr(msg.data, "They have not been told"));
	assert_null(strstr(msg.data, "List-Unsubscribe"));
	buf_free(&msg);

	/* the Thing queued before the suspension stays unsent ... */
	st = send_due(f, T0 + DAY + 60);
	d = lookup(f, pid, "perm@example.org", DK_THING, "3");
	assert_int_equal(d.state, DS_FAILED);
	assert_string_equal(d.last_error, "not sent: participant is suspended");
	/* ... and the next Thing goes to ok@ only */
	schedule(f, T0 + 14 * DAY, 1);
	st = send_due(f, T0 + 14 * DAY);
	assert_int_equal(st.sent, 1);
	assert_int_equal(store_delivery_count(f->st, DK_THING, DS_SENT, &n, &e), 0);
	assert_int_equal(n, 2);
}

/* temp@ answers 451 at RCPT every time: deferred with growing delays,
 * given up after about three days, which counts as a soft bounce.  Only
 * per-recipient refusals count: a server that refuses everyone does not. */
static void
test_given_up_counts_soft(void **state)
{
	struct bed *b = *state;
	struct fixture *f = b->f;
	struct mailer_stats st = { 0 };
	struct delivery d;
	int64_t now = T0;
	int runs = 0;

	add_active(f, "temp@example.org", "", T0 - DAY);
	schedule(f, T0, 1);
	do {
		st = send_due(f, now);
		d = lookup(f, 0, "temp@example.org", DK_THING, "1");
		now = d.due_at;
		runs++;
		if (d.state == DS_DEFERRED)
			assert_true(who(f, "temp@example.org").bounce_score == 0);
	} while (d.state == DS_DEFERRED && runs < 20);
	assert_int_equal(d.state, DS_FAILED);
	assert_int_equal(runs, 13);
	assert_non_null(strstr(d.last_error, "gave up after 13 attempts: RCPT: 451 4.3.0"));
	assert_int_equal(st.bounces, 1);
	assert_true(who(f, "temp@example.org").bounce_score == 0.5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_refusals_count_as_bounces_unless_policy,
		    bed_setup, bed_teardown),
		cmocka_unit_test_setup_teardown(test_threshold_suspends_and_notice_goes_out,
		    bed_setup, bed_teardown),
		cmocka_unit_test_setup_teardown(test_given_up_counts_soft, bed_setup, bed_teardown),
	};

	return cmocka_run_group_tests_name("mailer_bounce", tests, NULL, NULL);
}
