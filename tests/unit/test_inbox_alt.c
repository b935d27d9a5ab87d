/* Unit tests for alternate addresses by mail (inbox/act_alt.c) on a real
 * store: a participant's request sends a confirmation to the alternate
 * address and an acknowledgement to them; only a reply from the alternate
 * address, with the token, within a week, records it; strangers, forged
 * senders and loops change nothing; a suspension by DSN tells the
 * alternate address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "inbox_act_helpers.h"

#define DEE "dee@example.net"
#define HOME "dee@home.example"

static struct inbox_intent
alternate(const char *address)
{
	struct inbox_intent in = intent(II_ALTERNATE);

	snprintf(in.address, sizeof(in.address), "%s", address);
	return in;
}

static struct inbox_intent
confirm(const char *token)
{
	struct inbox_intent in = intent(II_CONFIRM);

	snprintf(in.token, sizeof(in.token), "%s", token);
	return in;
}

static int64_t
key_deliveries(struct th_fixture *f, const char *kind, const char *to, const char *key,
    int64_t pid)
{
	return q(f, "SELECT count(*) FROM deliveries WHERE kind = '%s' AND recipient = '%s'"
	    " AND key = '%s' AND participant_id = %lld", kind, to, key, (long long)pid);
}

static void
test_request_then_confirm_from_the_alternate(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_message from_dee = message(DEE), from_home = message(HOME);
	struct inbox_message forged = message("mallory@example.net");
	struct inbox_intent in = alternate(HOME), conf;
	struct participant p;
	char key[64];
	int64_t pid, id;

	pid = add_participant(f, DEE, PS_ACTIVE);
	assert_int_equal(act(f, &from_dee, &in, NOW, &id), 0);
	detail_is(f, id, "alternate address " HOME " requested");
	p = participant(f, DEE);
	assert_string_equal(p.alt_pending, HOME);
	assert_string_equal(p.alt_address, "");
	assert_true(token_valid(p.alt_token));
	assert_int_equal(key_deliveries(f, DK_ALT_CONFIRM, HOME, p.alt_token, pid), 1);
	snprintf(key, sizeof(key), "requested-%lld", (long long)id);
	assert_int_equal(key_deliveries(f, DK_ALT_ACK, DEE, key, pid), 1);
	conf = confirm(p.alt_token);

	/* the token from anyone but the alternate address does nothing */
	assert_int_equal(act(f, &forged, &conf, NOW + 60, &id), 0);
	detail_is(f, id, "from another address: ignored");
	assert_int_equal(act(f, &from_dee, &conf, NOW + 60, &id), 0);
	detail_is(f, id, "from another address: ignored");
	assert_string_equal(participant(f, DEE).alt_address, "");
	/* nor does an automatic answer from the alternate address */
	from_home.auto_submitted = 1;
	assert_int_equal(act(f, &from_home, &conf, NOW + 60, &id), 0);
	assert_string_equal(participant(f, DEE).alt_address, "");
	from_home.auto_submitted = 0;

	assert_int_equal(act(f, &from_home, &conf, NOW + 120, &id), 0);
	detail_is(f, id, "alternate address " HOME " confirmed");
	p = participant(f, DEE);
	assert_string_equal(p.alt_address, HOME);
	assert_string_equal(p.alt_pending, "");
	snprintf(key, sizeof(key), "confirmed-%lld", (long long)id);
	assert_int_equal(key_deliveries(f, DK_ALT_ACK, DEE, key, pid), 1);
	assert_int_equal(deliveries(f, DK_ALT_ACK, HOME), 0);
	/* once */
	assert_int_equal(act(f, &from_home, &conf, NOW + 180, &id), 0);
	detail_is(f, id, "unknown or already used");
	assert_int_equal(deliveries(f, DK_ALT_ACK, DEE), 2);
}

static void
test_who_may_ask_and_how_often(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_message stranger = message("stranger@example.net");
	struct inbox_message from_pending = message("pending@example.net");
	struct inbox_message from_dee = message(DEE), from_home = message(HOME);
	struct inbox_intent in = alternate(HOME), conf;
	char first[TOKEN_HEX_LEN + 1];
	int64_t id;

	add_participant(f, "pending@example.net", PS_PENDING);
	add_participant(f, DEE, PS_ACTIVE);
	assert_int_equal(act(f, &stranger, &in, NOW, &id), 0);
	detail_is(f, id, "not from an active participant: forwarded");
	assert_int_equal(act(f, &from_pending, &in, NOW, &id), 0);
	detail_is(f, id, "not from an active participant: forwarded");
	assert_int_equal(deliveries(f, DK_UNKNOWN_FORWARD, "org1@example.org"), 2);
	assert_int_equal(deliveries(f, DK_ALT_CONFIRM, HOME), 0);

	/* their own address, or ours: no confirmation to send */
	in = alternate(DEE);
	assert_int_equal(act(f, &from_dee, &in, NOW, &id), 0);
	detail_is(f, id, "their own or the programme's");
	in = alternate("things+help@example.org");
	assert_int_equal(act(f, &from_dee, &in, NOW, &id), 0);
	detail_is(f, id, "their own or the programme's");
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = '%s'", DK_ALT_CONFIRM),
	    0);

	/* one confirmation an hour, whatever the address */
	in = alternate(HOME);
	assert_int_equal(act(f, &from_dee, &in, NOW, &id), 0);
	snprintf(first, sizeof(first), "%s", participant(f, DEE).alt_token);
	in = alternate("victim@example.com");
	assert_int_equal(act(f, &from_dee, &in, NOW + 1800, &id), 0);
	detail_is(f, id, "within the hour: no confirmation sent");
	assert_int_equal(deliveries(f, DK_ALT_CONFIRM, "victim@example.com"), 0);
	assert_string_equal(participant(f, DEE).alt_pending, HOME);
	/* clearing in between does not reset the hour: no spraying by
	 * request, clear, request, clear ... */
	{
		struct inbox_intent none = alternate("");

		assert_int_equal(act(f, &from_dee, &none, NOW + 1801, &id), 0);
		detail_is(f, id, "cleared");
		assert_int_equal(act(f, &from_dee, &in, NOW + 1802, &id), 0);
		detail_is(f, id, "within the hour: no confirmation sent");
		assert_int_equal(deliveries(f, DK_ALT_CONFIRM, "victim@example.com"), 0);
		in = alternate(HOME);
		assert_int_equal(act(f, &from_dee, &in, NOW + 1803, &id), 0);
		in = alternate("victim@example.com");
	}
	/* later: the new request replaces the first, whose token is dead */
	in = alternate("dee@work.example");
	assert_int_equal(act(f, &from_dee, &in, NOW + 3601, &id), 0);
	assert_int_equal(deliveries(f, DK_ALT_CONFIRM, "dee@work.example"), 1);
	conf = confirm(first);
	assert_int_equal(act(f, &from_home, &conf, NOW + 3700, &id), 0);
	detail_is(f, id, "unknown or already used");
	assert_string_equal(participant(f, DEE).alt_address, "");

	/* a week later the request has lapsed */
	conf = confirm(participant(f, DEE).alt_token);
	{
		struct inbox_message from_work = message("dee@work.example");

		assert_int_equal(act(f, &from_work, &conf, NOW + 3601 + 8 * 86400, &id), 0);
		detail_is(f, id, "lapsed");
	}
	assert_string_equal(participant(f, DEE).alt_address, "");
}

static void
test_clear_and_suspension_by_dsn(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_message from_dee = message(DEE);
	struct inbox_intent in = alternate(""), bounce = intent(II_BOUNCE);
	struct err e;
	int64_t pid, id;

	pid = add_participant(f, DEE, PS_ACTIVE);
	assert_int_equal(store_participant_set_alt(f->st, pid, HOME, &e), 0);
	assert_int_equal(act(f, &from_dee, &in, NOW, &id), 0);
	detail_is(f, id, "alternate address cleared");
	assert_string_equal(participant(f, DEE).alt_address, "");
	assert_int_equal(deliveries(f, DK_ALT_ACK, DEE), 1);

	/* with an alternate address, a suspension by DSN tells it once */
	assert_int_equal(store_participant_set_alt(f->st, pid, HOME, &e), 0);
	snprintf(bounce.token, sizeof(bounce.token), "%s", participant(f, DEE).token);
	for (int day = 0; day < 7; day++) {
		struct inbox_message m = message("MAILER-DAEMON@mx.example.net");

		m.null_sender = m.is_dsn = 1;
		m.dsn_status = "5.1.1";
		m.dsn_action = "failed";
		m.dsn_recipient = DEE;
		assert_int_equal(act(f, &m, &bounce, NOW + 86400 + (int64_t)day * 86400, &id), 0);
	}
	assert_int_equal(participant(f, DEE).status, PS_SUSPENDED);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = '%s' AND recipient ="
	    " '%s' AND participant_id = %lld", DK_SUSPENDED_ALT, HOME, (long long)pid), 1);
	assert_int_equal(deliveries(f, DK_SUSPENDED, "org1@example.org"), 1);
	assert_int_equal(deliveries(f, DK_SUSPENDED_ALT, DEE), 0);
}

int
main(void)
{
#define T(name) \
	cmocka_unit_test_setup_teardown(name, th_fixture_setup, th_fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_request_then_confirm_from_the_alternate),
		T(test_who_may_ask_and_how_often),
		T(test_clear_and_suspension_by_dsn),
	};
	return cmocka_run_group_tests_name("inbox_alt", tests, NULL, NULL);
}
