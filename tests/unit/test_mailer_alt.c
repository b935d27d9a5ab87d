/* Unit tests for mail to a participant's alternate address: the
 * confirmation request, the acknowledgement to the participant, and the
 * suspension notice.  Mail to the alternate address carries none of the
 * participant's secrets (no VERP token, no List-Unsubscribe), goes out
 * although the participant is suspended, and its bounce counts against
 * nobody; over SMTP to the scripted server of test_mailer_fake.h, a
 * suspension sends the organisers' notice and the participant's in the
 * same run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_mailer_check.h"
#include "test_mailer_bed.h"

static struct participant
get(struct fixture *f, int64_t id)
{
	struct participant p;
	struct err e;

	assert_int_equal(store_participant_by_id(f->st, id, &p, &e), 0);
	return p;
}

static struct delivery
queue(struct fixture *f, int64_t pid, const char *rcpt, const char *kind, const char *key)
{
	struct delivery_request r = { .participant_id = pid, .recipient = rcpt, .kind = kind,
		.key = key, .due_at = T0, .msgid_domain = "example.org" };
	struct delivery d;
	struct err e;
	int64_t id;

	assert_int_equal(store_delivery_enqueue(f->st, &r, T0, &id, &e), 0);
	assert_int_equal(store_delivery_get(f->st, id, &d, &e), 0);
	return d;
}

/* Composes d; checks To, List-Unsubscribe and the envelope sender, and
 * that the participant's token appears only where it may.  Returns the
 * text part (the caller frees it). */
static char *
compose(struct fixture *f, const struct delivery *d, const char *to, int own_address)
{
	struct participant p = get(f, d->participant_id);
	char sender[ADDR_MAX + 1], verp[ADDR_MAX + 1], *text, *html;
	struct buf out;
	struct err e;
	int te, he;

	buf_init(&out, 0);
	if (mailer_compose(f->m, d, &out, &e) == -1)
		fail_msg("%s: %s", d->kind, e.msg);
	check_field_is(out.data, "To", to);
	assert_true((strstr(out.data, "List-Unsubscribe:") != NULL) == own_address);
	assert_true((strstr(out.data, p.token) != NULL) == own_address);
	assert_int_equal(message_sender(f->m, d, &p, sender, sizeof(sender), &e), 0);
	snprintf(verp, sizeof(verp), "things+bounce-%s@example.org", p.token);
	assert_string_equal(sender, own_address ? verp : "things+bounce@example.org");
	check_alternative(out.data, out.len, &text, &html, &te, &he);
	assert_null(strstr(text, "{{"));
	free(html);
	buf_free(&out);
	return text;
}

static void
test_the_three_kinds(void **state)
{
	struct fixture *f = *state;
	struct participant p;
	struct delivery d;
	char token[TOKEN_HEX_LEN + 1], want[128], *text;
	struct err e;
	int64_t pid;

	pid = add_active(f, "dee@example.net", "Dee Dee", T0 - DAY);
	assert_int_equal(store_participant_request_alt(f->st, pid, "dee@home.example", T0, token,
	    &e), 0);

	d = queue(f, pid, "dee@home.example", DK_ALT_CONFIRM, token);
	text = compose(f, &d, "Dee Dee <dee@home.example>", 0);
	snprintf(want, sizeof(want), "things+confirm-%s@example.org", token);
	assert_non_null(strstr(text, want));
	assert_non_null(strstr(text, "at dee@example.net asked"));
	free(text);

	d = queue(f, pid, "dee@example.net", DK_ALT_ACK, "requested-7");
	text = compose(f, &d, "Dee Dee <dee@example.net>", 1);
	assert_non_null(strstr(text, "keep dee@home.example as your alternate"));
	assert_null(strstr(text, "is now your alternate"));
	free(text);

	assert_int_equal(store_participant_confirm_alt(f->st, pid, &e), 0);
	d = queue(f, pid, "dee@example.net", DK_ALT_ACK, "confirmed-8");
	text = compose(f, &d, "Dee Dee <dee@example.net>", 1);
	assert_non_null(strstr(text, "dee@home.example is now your alternate address"));
	assert_null(strstr(text, "You asked us to keep"));
	free(text);

	/* suspended: the notice still composes, from the participant as now */
	assert_int_equal(store_participant_set_status(f->st, pid, PS_SUSPENDED, T0, &e), 0);
	p = get(f, pid);
	snprintf(want, sizeof(want), "%lld.%lld", (long long)pid, (long long)T0);
	d = queue(f, pid, p.alt_address, DK_SUSPENDED_ALT, want);
	text = compose(f, &d, "Dee Dee <dee@home.example>", 0);
	assert_non_null(strstr(text, "dee@example.net has bounced too often"));
	assert_non_null(strstr(text, "things+subscribe@example.org"));
	assert_non_null(strstr(text, "things+help@example.org"));
	free(text);
}

/* Threshold 1: perm@'s Thing is refused 550 5.1.1: suspended, and in the
 * same run the organiser and perm@'s alternate address are told.  A
 * notice to an alternate address that is refused itself (quinn's, which
 * is perm@other.example) fails without counting against quinn. */
static void
test_suspension_notice_sent_and_its_bounce_not_counted(void **state)
{
	struct bed *b = *state;
	struct fixture *f = b->f;
	struct mailer_stats st;
	struct delivery d;
	struct err e;
	char key[64], *text, *html;
	struct buf msg;
	int64_t pid, quinn;
	int te, he;

	f->p.cfg.bounce_threshold = 1;
	pid = add_active(f, "perm@example.org", "Pat Perm", T0 - DAY);
	assert_int_equal(store_participant_set_alt(f->st, pid, "pat@home.example", &e), 0);
	schedule(f, T0, 1);
	st = send_due(f, T0);
	assert_int_equal(st.suspended, 1);
	assert_int_equal(st.sent, 2); /* the organiser's notice and Pat's */
	assert_int_equal(get(f, pid).status, PS_SUSPENDED);
	snprintf(key, sizeof(key), "%lld.%lld", (long long)pid, (long long)T0);
	assert_int_equal(store_delivery_find(f->st, "pat@home.example", DK_SUSPENDED_ALT, key, &d,
	    &e), 0);
	assert_int_equal(d.state, DS_SENT);
	assert_int_equal(count(f, DK_SUSPENDED_ALT, -1), 1);
	text = compose(f, &d, "Pat Perm <pat@home.example>", 0);
	assert_non_null(strstr(text, "> RCPT: 550 5.1.1 <perm@example.org>"));
	free(text);
	/* the organisers learn where Pat was told */
	assert_int_equal(store_delivery_find(f->st, "organiser@example.org", DK_SUSPENDED, key, &d,
	    &e), 0);
	buf_init(&msg, 0);
	assert_int_equal(mailer_compose(f->m, &d, &msg, &e), 0);
	check_alternative(msg.data, msg.len, &text, &html, &te, &he);
	assert_non_null(strstr(text, "They have been told at their alternate"));
	assert_non_null(strstr(text, "pat@home.example."));
	assert_null(strstr(text, "have not been told"));
	free(text);
	free(html);
	buf_free(&msg);
	assert_int_equal(send_due(f, T0 + 60).sent, 0);

	quinn = add_active(f, "quinn@example.org", "", T0 - DAY);
	assert_int_equal(store_participant_set_alt(f->st, quinn, "perm@other.example", &e), 0);
	assert_int_equal(store_participant_set_status(f->st, quinn, PS_SUSPENDED, T0, &e), 0);
	snprintf(key, sizeof(key), "%lld.%lld", (long long)quinn, (long long)T0);
	queue(f, quinn, "perm@other.example", DK_SUSPENDED_ALT, key);
	st = send_due(f, T0 + 120);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.bounces, 0);
	assert_int_equal(store_delivery_find(f->st, "perm@other.example", DK_SUSPENDED_ALT, key,
	    &d, &e), 0);
	assert_int_equal(d.state, DS_FAILED);
	assert_non_null(strstr(d.last_error, "550 5.1.1"));
	assert_true(get(f, quinn).bounce_score == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_the_three_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_suspension_notice_sent_and_its_bounce_not_counted,
		    bed_setup, bed_teardown),
	};

	return cmocka_run_group_tests_name("mailer_alt", tests, NULL, NULL);
}
