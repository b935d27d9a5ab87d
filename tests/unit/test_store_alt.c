/* Unit tests for alternate addresses in the store (store/participant.c,
 * store/bounce.c): an organiser sets or clears one at once (normalized,
 * never the participant's own address); a participant's request waits for
 * its confirmation token; a suspension for bounces queues one notice to
 * the alternate address, once per suspension, on a real store. */
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

static const char *const organisers[] = { "org@example.org" };
static const struct bounce_policy policy = { 2, 7, organisers, 1, "example.org" };

/* store_participant_each's view, to check every reader sees the columns */
static int
copy_first(void *arg, const struct participant *p)
{
	*(struct participant *)arg = *p;
	return 1;
}

static void
test_set_and_clear(void **state)
{
	static const char *const refused[] = {
		"dead@example.net",        /* their own */
		"DEAD@Example.NET",        /* their own, in other case */
		"not an address",
		"a@b\r\nBcc: x@example.org",
		"@example.org",
	};
	struct fixture *f = *state;
	struct participant p;
	char token[TOKEN_HEX_LEN + 1];
	struct err e;

	assert_string_equal(get(f).alt_address, "");
	assert_int_equal(store_participant_set_alt(f->st, f->pid, "Dee.Home@Example.ORG", &e), 0);
	assert_string_equal(get(f).alt_address, "dee.home@example.org");
	assert_int_equal(store_participant_by_address(f->st, "dead@example.net", &p, &e), 0);
	assert_string_equal(p.alt_address, "dee.home@example.org");
	assert_int_equal(store_participant_each(f->st, -1, copy_first, &p, &e), 1);
	assert_string_equal(p.alt_address, "dee.home@example.org");

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (store_participant_set_alt(f->st, f->pid, refused[i], &e) != -1)
			fail_msg("set_alt accepted '%s'", refused[i]);
		if (store_participant_request_alt(f->st, f->pid, refused[i], T0, token, &e) != -1)
			fail_msg("request_alt accepted '%s'", refused[i]);
		assert_string_equal(get(f).alt_address, "dee.home@example.org");
		assert_string_equal(get(f).alt_pending, "");
	}
	/* "" clears, for an organiser; a request for nothing is no request */
	assert_int_equal(store_participant_request_alt(f->st, f->pid, "", T0, token, &e), -1);
	assert_int_equal(store_participant_set_alt(f->st, f->pid + 99, "x@example.org", &e), -1);

	assert_int_equal(store_participant_set_alt(f->st, f->pid, "", &e), 0);
	assert_string_equal(get(f).alt_address, "");
}

static void
test_request_and_confirm(void **state)
{
	struct fixture *f = *state;
	struct participant p;
	char first[TOKEN_HEX_LEN + 1], second[TOKEN_HEX_LEN + 1];
	struct err e;

	assert_int_equal(store_participant_set_alt(f->st, f->pid, "old@example.org", &e), 0);
	assert_int_equal(store_participant_request_alt(f->st, f->pid, "First@Example.org", T0,
	    first, &e), 0);
	assert_true(token_valid(first));
	p = get(f);
	assert_string_equal(p.alt_pending, "first@example.org");
	assert_string_equal(p.alt_token, first);
	assert_int_equal(p.alt_requested_at, T0);
	assert_string_equal(p.alt_address, "old@example.org"); /* not before it is confirmed */

	/* a newer request replaces the older one and its token */
	assert_int_equal(store_participant_request_alt(f->st, f->pid, "second@example.org",
	    T0 + 60, second, &e), 0);
	assert_string_not_equal(first, second);
	assert_int_equal(store_participant_by_alt_token(f->st, first, &p, &e), 1);
	assert_int_equal(store_participant_by_alt_token(f->st, second, &p, &e), 0);
	assert_int_equal(p.id, f->pid);
	assert_string_equal(p.alt_pending, "second@example.org");

	assert_int_equal(store_participant_confirm_alt(f->st, f->pid, &e), 0);
	p = get(f);
	assert_string_equal(p.alt_address, "second@example.org");
	assert_string_equal(p.alt_pending, "");
	assert_string_equal(p.alt_token, "");
	assert_int_equal(p.alt_requested_at, 0);
	assert_int_equal(store_participant_by_alt_token(f->st, second, &p, &e), 1);
	/* a token is good once */
	assert_int_equal(store_participant_confirm_alt(f->st, f->pid, &e), 1);
	assert_string_equal(get(f).alt_address, "second@example.org");

	/* an organiser's word drops a pending request */
	assert_int_equal(store_participant_request_alt(f->st, f->pid, "third@example.org", T0,
	    first, &e), 0);
	assert_int_equal(store_participant_set_alt(f->st, f->pid, "org-set@example.org", &e), 0);
	assert_int_equal(store_participant_by_alt_token(f->st, first, &p, &e), 1);
	assert_int_equal(store_participant_confirm_alt(f->st, f->pid, &e), 1);
	assert_string_equal(get(f).alt_address, "org-set@example.org");
}

static int64_t
count_kind(struct fixture *f, const char *kind)
{
	int64_t n;
	struct err e;

	assert_int_equal(store_delivery_count(f->st, kind, -1, &n, &e), 0);
	return n;
}

static struct bounce_outcome
bounce(struct fixture *f, int64_t pid, int64_t now)
{
	struct bounce_outcome out;
	struct err e;

	if (store_participant_bounce(f->st, pid, BOUNCE_HARD, "RCPT: 550 5.1.1 unknown", now,
	    &policy, &out, &e) == -1)
		fail_msg("%s", e.msg);
	return out;
}

/* Threshold 2: the second day's bounce suspends; the alternate address
 * gets one notice, the organiser theirs; later bounces and a participant
 * without an alternate add none. */
static void
test_suspension_tells_alternate_once(void **state)
{
	struct fixture *f = *state;
	struct participant other;
	struct delivery d;
	struct err e;
	char key[64];

	assert_int_equal(store_participant_set_alt(f->st, f->pid, "dee@home.example", &e), 0);
	assert_false(bounce(f, f->pid, T0).suspended);
	assert_int_equal(count_kind(f, DK_SUSPENDED_ALT), 0);
	assert_true(bounce(f, f->pid, T0 + DAY).suspended);
	assert_int_equal(count_kind(f, DK_SUSPENDED_ALT), 1);
	assert_int_equal(count_kind(f, DK_SUSPENDED), 1);
	snprintf(key, sizeof(key), "%lld.%lld", (long long)f->pid, (long long)(T0 + DAY));
	assert_int_equal(store_delivery_find(f->st, "dee@home.example", DK_SUSPENDED_ALT, key, &d,
	    &e), 0);
	assert_int_equal(d.participant_id, f->pid);
	assert_int_equal(d.state, DS_QUEUED);
	assert_int_equal(d.due_at, T0 + DAY);
	/* not to the dead address */
	assert_int_equal(store_delivery_find(f->st, "dead@example.net", DK_SUSPENDED_ALT, key, &d,
	    &e), 1);
	assert_true(bounce(f, f->pid, T0 + 2 * DAY).counted);
	assert_int_equal(count_kind(f, DK_SUSPENDED_ALT), 1);

	assert_int_equal(store_participant_add(f->st, "solo@example.net", "", PS_ACTIVE, T0,
	    &other, &e), 0);
	bounce(f, other.id, T0);
	assert_true(bounce(f, other.id, T0 + DAY).suspended);
	assert_int_equal(count_kind(f, DK_SUSPENDED), 2);
	assert_int_equal(count_kind(f, DK_SUSPENDED_ALT), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_set_and_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_and_confirm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_suspension_tells_alternate_once, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("store_alt", tests, NULL, NULL);
}
