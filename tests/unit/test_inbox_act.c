/* Unit tests for the inbox handlers (inbox/act.c) on a real store: for
 * each intent, what changes and which answers are queued; automatic mail is
 * never answered; a forged From cannot unsubscribe or confirm anyone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "inbox_act_helpers.h"

static void
test_subscribe_new_address_gets_confirmation(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_message m = message("ann@example.net");
	struct inbox_intent in = intent(II_SUBSCRIBE);
	struct participant p;
	int64_t id;

	m.from_name = "Ann";
	assert_int_equal(act(f, &m, &in, NOW, &id), 0);
	p = participant(f, "ann@example.net");
	assert_int_equal(p.status, PS_PENDING);
	assert_string_equal(p.name, "Ann");
	assert_int_equal(deliveries(f, DK_CONFIRM, "ann@example.net"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'confirm' AND key = '%s'",
	    p.confirm_token), 1);
	assert_int_equal(all_deliveries(f), 1);
	assert_int_equal(q(f, "SELECT participant_id FROM inbound WHERE id = %lld", (long long)id),
	    p.id);
	detail_is(f, id, "confirmation requested");
}

static void
test_subscribe_again_is_rate_limited(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_message m = message("ann@example.net");
	struct inbox_intent in = intent(II_SUBSCRIBE);
	char first[TOKEN_HEX_LEN + 1];
	int64_t id;

	assert_int_equal(act(f, &m, &in, NOW, &id), 0);
	snprintf(first, sizeof(first), "%s", participant(f, "ann@example.net").confirm_token);
	/* within the hour: nothing new, and the token stays valid */
	assert_int_equal(act(f, &m, &in, NOW + 600, &id), 0);
	detail_is(f, id, "within the hour");
	assert_int_equal(deliveries(f, DK_CONFIRM, "ann@example.net"), 1);
	assert_string_equal(participant(f, "ann@example.net").confirm_token, first);
	/* an hour later: a fresh request with a fresh token */
	assert_int_equal(act(f, &m, &in, NOW + 3601, &id), 0);
	detail_is(f, id, "requested again");
	assert_int_equal(deliveries(f, DK_CONFIRM, "ann@example.net"), 2);
	assert_string_not_equal(participant(f, "ann@example.net").confirm_token, first);
}

static void
test_subscribe_active_and_blog_url(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_message m = message("bob@example.net");
	struct inbox_intent in = intent(II_SUBSCRIBE);
	char *links[] = { "https://bob.example.net/blog" };
	int64_t id;

	add_participant(f, "bob@example.net", PS_ACTIVE);
	m.links[0] = links[0];
	m.nlinks = 1;
	assert_int_equal(act(f, &m, &in, NOW, &id), 0);
	detail_is(f, id, "already subscribed");
	assert_int_equal(all_deliveries(f), 0); /* no answer: nothing to loop on */
	assert_string_equal(participant(f, "bob@example.net").blog_url,
	    "https://bob.example.net/blog");
}

static void
test_subscribe_after_unsubscribing_asks_to_confirm(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_message m = message("cy@example.net");
	struct inbox_intent in = intent(II_SUBSCRIBE);
	struct participant p;
	int64_t id;

	add_participant(f, "cy@example.net", PS_UNSUBSCRIBED);
	assert_int_equal(act(f, &m, &in, NOW, &id), 0);
	p = participant(f, "cy@example.net");
	assert_int_equal(p.status, PS_UNSUBSCRIBED); /* until confirmed */
	assert_true(token_valid(p.confirm_token));
	assert_int_equal(deliveries(f, DK_CONFIRM, "cy@example.net"), 1);
}

static void
test_confirm_only_from_the_same_address(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_message sub = message("ann@example.net");
	struct inbox_message forged = message("mallory@example.net");
	struct inbox_intent in = intent(II_SUBSCRIBE);
	struct inbox_intent conf = intent(II_CONFIRM);
	int64_t id;

	assert_int_equal(act(f, &sub, &in, NOW, &id), 0);
	snprintf(conf.token, sizeof(conf.token), "%s",
	    participant(f, "ann@example.net").confirm_token);
	assert_int_equal(act(f, &forged, &conf, NOW, &id), 0);
	detail_is(f, id, "another address");
	assert_int_equal(participant(f, "ann@example.net").status, PS_PENDING);
	assert_int_equal(deliveries(f, DK_WELCOME, "ann@example.net"), 0);
	/* not lost: it may be ann from her work address, for a person to see */
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = '%s' AND "
	    "inbound_id = %lld", DK_UNKNOWN_FORWARD, (long long)id), 2);

	assert_int_equal(act(f, &sub, &conf, NOW, &id), 0);
	detail_is(f, id, "confirmed");
	assert_int_equal(participant(f, "ann@example.net").status, PS_ACTIVE);
	assert_int_equal(deliveries(f, DK_WELCOME, "ann@example.net"), 1);
	/* the token is used up */
	assert_int_equal(act(f, &sub, &conf, NOW, &id), 0);
	detail_is(f, id, "unknown or already used");
	assert_int_equal(deliveries(f, DK_WELCOME, "ann@example.net"), 1);
	/* no token at all */
	memset(conf.token, 0, sizeof(conf.token));
	assert_int_equal(act(f, &sub, &conf, NOW, &id), 0);
	detail_is(f, id, "without a valid token");
}

static void
test_reflection_from_participant_and_stranger(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_message m = message("dee@example.net");
	struct inbox_message stranger = message("eve@example.net");
	struct inbox_intent in = intent(II_REFLECTION);
	char key[32];
	int64_t pid, id;

	pid = add_participant(f, "dee@example.net", PS_ACTIVE);
	in.thing = 3;
	in.url = "https://dee.example.net/thing-3";
	assert_int_equal(act(f, &m, &in, NOW, &id), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM reflections WHERE participant_id = %lld AND "
	    "thing = 3 AND url = 'https://dee.example.net/thing-3'", (long long)pid), 1);
	snprintf(key, sizeof(key), "%lld", (long long)id);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'reflection-ack' AND "
	    "recipient = 'dee@example.net' AND key = '%s' AND inbound_id = %lld", key,
	    (long long)id), 1);

	/* written in the mail itself: the mail is the reflection */
	in.thing = 4;
	in.url = NULL;
	m.message_id = "refl-4@example.net";
	assert_int_equal(act(f, &m, &in, NOW, &id), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM reflections WHERE thing = 4 AND "
	    "url = 'mid:refl-4@example.net'"), 1);

	/* from someone who is not a participant: forwarded, not counted */
	in.thing = 3;
	in.url = "https://eve.example.net/";
	assert_int_equal(act(f, &stranger, &in, NOW, &id), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM reflections"), 2);
	assert_int_equal(deliveries(f, DK_UNKNOWN_FORWARD, "org1@example.org"), 1);
	assert_int_equal(deliveries(f, DK_UNKNOWN_FORWARD, "org2@example.org"), 1);
	assert_int_equal(deliveries(f, DK_REFLECTION_ACK, "eve@example.net"), 0);
}

static void
test_blog_and_help(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_message m = message("fay@example.net");
	struct inbox_intent blog = intent(II_BLOG), help = intent(II_HELP);
	int64_t id;

	add_participant(f, "fay@example.net", PS_ACTIVE);
	blog.url = "https://fay.example.net/";
	assert_int_equal(act(f, &m, &blog, NOW, &id), 0);
	assert_string_equal(participant(f, "fay@example.net").blog_url, "https://fay.example.net/");
	assert_int_equal(deliveries(f, DK_BLOG_ACK, "fay@example.net"), 1);

	assert_int_equal(act(f, &m, &help, NOW, &id), 0);
	assert_int_equal(deliveries(f, DK_HELP_FORWARD, "org1@example.org"), 1);
	assert_int_equal(deliveries(f, DK_HELP_FORWARD, "org2@example.org"), 1);
	assert_int_equal(deliveries(f, DK_HELP_ACK, "fay@example.net"), 1);
	assert_int_equal(q(f, "SELECT inbound_id FROM deliveries WHERE kind = 'help-ack'"), id);
}

/* A reflection on the last Thing not yet done earns the certificate, once
 * ever, whatever the answers limit; off in the config, none. */
static void
test_certificate_when_every_thing_done(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_message m = message("fay@example.net");
	struct inbox_intent in = intent(II_REFLECTION);
	struct certificate c;
	struct err e;
	int64_t pid, id;

	f->prog.nthings = 3;
	f->prog.cfg.certificate = 1;
	f->prog.cfg.answers_per_hour = 1;
	pid = add_participant(f, "fay@example.net", PS_ACTIVE);
	for (int thing = 3; thing >= 1; thing--) {
		in.thing = thing;
		in.url = thing == 2 ? "https://fay.example.net/2b" : "https://fay.example.net/x";
		assert_int_equal(act(f, &m, &in, NOW + thing, &id), 0);
		assert_int_equal(deliveries(f, DK_CERTIFICATE, "fay@example.net"), thing == 1);
	}
	detail_is(f, id, "certificate");
	assert_int_equal(store_certificate_get(f->st, pid, &c, &e), 0);
	assert_int_equal(c.things, 3);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = '%s' AND key = '%lld'",
	    DK_CERTIFICATE, (long long)c.number), 1);
	/* more reflections later: no second certificate */
	in.url = "https://fay.example.net/again";
	assert_int_equal(act(f, &m, &in, NOW + 10, &id), 0);
	assert_int_equal(deliveries(f, DK_CERTIFICATE, "fay@example.net"), 1);
	assert_int_equal(store_certificate_issue(f->st, pid, 3, NOW + 20, &c, &e), 1);

	/* turned off: done, but no certificate */
	f->prog.cfg.certificate = 0;
	pid = add_participant(f, "gil@example.net", PS_ACTIVE);
	m = message("gil@example.net");
	for (int thing = 1; thing <= 3; thing++) {
		in.thing = thing;
		assert_int_equal(act(f, &m, &in, NOW + thing, &id), 0);
	}
	assert_int_equal(deliveries(f, DK_CERTIFICATE, "gil@example.net"), 0);
	assert_int_equal(store_certificate_get(f->st, pid, &c, &e), 1);
}

/* Someone who leaves and joins again is welcomed again. */
static void
test_rejoin_is_welcomed_again(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_message own = message("erin@example.net");
	struct inbox_intent sub = intent(II_SUBSCRIBE), conf = intent(II_CONFIRM);
	struct inbox_intent unsub = intent(II_UNSUBSCRIBE);
	int64_t id;

	for (int round = 1; round <= 2; round++) {
		assert_int_equal(act(f, &own, &sub, NOW + round * 7200, &id), 0);
		snprintf(conf.token, sizeof(conf.token), "%s",
		    participant(f, "erin@example.net").confirm_token);
		assert_int_equal(act(f, &own, &conf, NOW + round * 7200, &id), 0);
		detail_is(f, id, "confirmed");
		assert_int_equal(deliveries(f, DK_WELCOME, "erin@example.net"), round);
		snprintf(unsub.token, sizeof(unsub.token), "%s",
		    participant(f, "erin@example.net").token);
		assert_int_equal(act(f, &own, &unsub, NOW + round * 7200, &id), 0);
		assert_int_equal(participant(f, "erin@example.net").status, PS_UNSUBSCRIBED);
	}
}

static void
test_unsubscribe_needs_token_or_confirmation(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_message own = message("gus@example.net");
	struct inbox_message forged = message("mallory@example.net");
	struct inbox_intent in = intent(II_UNSUBSCRIBE);
	struct participant p;
	int64_t id;

	add_participant(f, "gus@example.net", PS_ACTIVE);
	p = participant(f, "gus@example.net");
	/* without a token: a confirmation to the address on file */
	assert_int_equal(act(f, &own, &in, NOW, &id), 0);
	assert_int_equal(participant(f, "gus@example.net").status, PS_ACTIVE);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'unsubscribe-confirm'"
	    " AND recipient = 'gus@example.net' AND key = '%s'", p.token), 1);
	/* a stranger without a token removes nobody */
	assert_int_equal(act(f, &forged, &in, NOW, &id), 0);
	detail_is(f, id, "non-participant");
	assert_int_equal(deliveries(f, DK_UNSUB_CONFIRM, "mallory@example.net"), 0);
	/* with the participant's token (from any address): at once */
	snprintf(in.token, sizeof(in.token), "%s", p.token);
	assert_int_equal(act(f, &forged, &in, NOW, &id), 0);
	assert_int_equal(participant(f, "gus@example.net").status, PS_UNSUBSCRIBED);
	assert_int_equal(deliveries(f, DK_GOODBYE, "gus@example.net"), 1);
	assert_int_equal(act(f, &own, &in, NOW, &id), 0);
	detail_is(f, id, "already unsubscribed");
	assert_int_equal(deliveries(f, DK_GOODBYE, "gus@example.net"), 1);
}

static void
test_automatic_mail_is_never_answered(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_message m;
	struct inbox_intent kinds[] = { intent(II_SUBSCRIBE), intent(II_HELP),
		intent(II_UNKNOWN), intent(II_UNSUBSCRIBE) };
	int64_t id;

	for (int variant = 0; variant < 5; variant++) {
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			m = message("robot@example.net");
			switch (variant) {
			case 0: m.auto_submitted = 1; break;
			case 1: m.bulk = 1; break;
			case 2: m.null_sender = 1; break;
			case 3: m.from_addr = "things@example.org"; break;
			case 4: m.from_addr = "things+bounce-abc@example.org"; break;
			}
			assert_int_equal(act(f, &m, &kinds[k], NOW, &id), 0);
			detail_is(f, id, "not answered");
		}
	}
	assert_int_equal(all_deliveries(f), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM participants"), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM inbound"), 20);
	/* a lookalike of our address is a person */
	m = message("things+x@example.com");
	assert_int_equal(act_is_automatic(&m, &f->prog), 0);
}

static void
test_bounce_and_autoreply_recorded_only(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_message m = message("");
	struct inbox_intent bounce = intent(II_BOUNCE), auto_reply = intent(II_AUTOREPLY);
	struct participant p;
	int64_t pid, id;

	pid = add_participant(f, "hal@example.net", PS_ACTIVE);
	p = participant(f, "hal@example.net");
	m.null_sender = 1;
	m.is_dsn = 1;
	m.dsn_status = "5.1.1";
	m.dsn_recipient = "hal@example.net";
	snprintf(bounce.token, sizeof(bounce.token), "%s", p.token);
	assert_int_equal(act(f, &m, &bounce, NOW, &id), 0);
	detail_is(f, id, "5.1.1");
	assert_int_equal(q(f, "SELECT participant_id FROM inbound WHERE id = %lld", (long long)id),
	    pid);
	/* a bounce in plain text (Exchange's "Undeliverable:"): what it said it was */
	m = message("postmaster@outlook.example");
	m.subject = "Undeliverable: Thing 2";
	assert_int_equal(act(f, &m, &bounce, NOW + 86400, &id), 0);
	detail_is(f, id, "bounce without a delivery status report: \"Undeliverable: Thing 2\" "
	    "from postmaster@outlook.example (counted)");
	/* a long subject is cut, on a character boundary */
	m.subject = "Unzustellbar - \xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4"
	    "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4"
	    "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4"
	    "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4"
	    "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4"
	    "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4";
	assert_int_equal(act(f, &m, &bounce, NOW + 2 * 86400, &id), 0);
	{
		struct inbound in;
		struct err e;

		assert_int_equal(store_inbound_get(f->st, id, &in, &e), 0);
		assert_true(str_valid_utf8(in.detail, strlen(in.detail)));
		assert_non_null(strstr(in.detail, "\" from postmaster@outlook.example"));
		store_inbound_free(&in);
	}
	m = message("hal@example.net");
	m.auto_submitted = 1;
	assert_int_equal(act(f, &m, &auto_reply, NOW, &id), 0);
	assert_int_equal(all_deliveries(f), 0);
	assert_int_equal(participant(f, "hal@example.net").status, PS_ACTIVE);
}

/* A DSN to a participant's VERP address counts against them (hard 5.x.x,
 * soft 4.x.x, nothing for a 5.7.x refusal or a "delayed" warning, once a
 * day); five days of hard bounces suspend them and tell both organisers;
 * a DSN without a valid token counts against nobody. */
static void
test_bounces_are_scored(void **state)
{
	static const struct {
		const char *status, *action;
		double score;     /* after this one, a day after the one before */
		const char *detail;
	} days[] = {
		{ "5.7.1", "failed", 0, "not counted: no sign" },
		{ "4.4.7", "delayed", 0, "not counted: no sign" },
		{ "5.1.1", "failed", 1, "(counted)" },
		{ "4.2.2", "failed", 1.5, "(counted)" },
		{ "5.1.1", "", 2.5, "(counted)" },
		{ "5.1.1", "failed", 3.5, "(counted)" },
		{ "5.1.1", "failed", 4.5, "(counted)" },
		{ "5.1.1", "failed", 5.5, "participant suspended" },
	};
	struct th_fixture *f = *state;
	struct inbox_intent bounce = intent(II_BOUNCE);
	int64_t pid, id;

	pid = add_participant(f, "gone@example.net", PS_ACTIVE);
	snprintf(bounce.token, sizeof(bounce.token), "%s", participant(f, "gone@example.net").token);
	for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
		struct inbox_message m = message("MAILER-DAEMON@mx.example.net");

		m.null_sender = m.is_dsn = 1;
		m.dsn_status = (char *)days[i].status;
		m.dsn_action = (char *)days[i].action;
		m.dsn_recipient = "gone@example.net";
		assert_int_equal(act(f, &m, &bounce, NOW + (int64_t)i * 86400, &id), 0);
		detail_is(f, id, days[i].detail);
		assert_true(participant(f, "gone@example.net").bounce_score == days[i].score);
		if (i == 3) { /* the same day again */
			assert_int_equal(act(f, &m, &bounce, NOW + (int64_t)i * 86400 + 60, &id), 0);
			detail_is(f, id, "one was counted within the day");
		}
	}
	assert_int_equal(participant(f, "gone@example.net").status, PS_SUSPENDED);
	assert_int_equal(deliveries(f, DK_SUSPENDED, "org1@example.org"), 1);
	assert_int_equal(deliveries(f, DK_SUSPENDED, "org2@example.org"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM inbound WHERE participant_id = %lld",
	    (long long)pid), 9);

	/* no token (the plain bounce address): nobody's score moves */
	pid = add_participant(f, "other@example.net", PS_ACTIVE);
	{
		struct inbox_message m = message("MAILER-DAEMON@mx.example.net");
		struct inbox_intent plain = intent(II_BOUNCE);

		m.null_sender = m.is_dsn = 1;
		m.dsn_status = "5.1.1";
		m.dsn_recipient = "other@example.net";
		assert_int_equal(act(f, &m, &plain, NOW, &id), 0);
		assert_true(participant(f, "other@example.net").bounce_score == 0);
		assert_int_equal(q(f, "SELECT count(*) FROM inbound WHERE participant_id = %lld",
		    (long long)pid), 0);
	}
}

static void
test_unknown_forwarded_and_duplicate_refused(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_message m = message("ivy@example.net");
	struct inbox_intent in = intent(II_UNKNOWN);
	int64_t id;

	m.message_id = "same@example.net";
	assert_int_equal(act(f, &m, &in, NOW, &id), 0);
	assert_int_equal(deliveries(f, DK_UNKNOWN_FORWARD, "org1@example.org"), 1);
	assert_int_equal(deliveries(f, DK_UNKNOWN_FORWARD, "org2@example.org"), 1);
	/* the same Message-ID again: known, nothing done */
	assert_int_equal(act(f, &m, &in, NOW, &id), 1);
	assert_int_equal(all_deliveries(f), 2);
	assert_int_equal(q(f, "SELECT count(*) FROM inbound"), 1);
}

static void
test_unreadable_recorded_forwarded_answered(void **state)
{
	struct th_fixture *f = *state;
	struct act_request r;
	struct err e;
	int64_t id;

	memset(&r, 0, sizeof(r));
	r.st = f->st;
	r.p = &f->prog;
	r.now = NOW;
	r.rec.source = "maildir:/test";
	r.rec.source_key = "big";
	r.rec.message_id = "big@example.net";
	r.rec.sender = "jo@example.net";
	r.rec.subject = "photos";
	r.rec.intent = INTENT_OVERSIZE;
	r.rec.detail = "message of 20000000 bytes is over the limit of 10485760 bytes";
	r.rec.received_at = NOW;
	assert_int_equal(act_unreadable(&r, "jo@example.net", &id, &e), 0);
	assert_int_equal(deliveries(f, DK_OVERSIZE, "jo@example.net"), 1);
	assert_int_equal(deliveries(f, DK_FAILED_NOTICE, "org1@example.org"), 1);
	assert_int_equal(deliveries(f, DK_FAILED_NOTICE, "org2@example.org"), 1);
	detail_is(f, id, "over the limit");
	/* a second time: known */
	r.rec.source_key = "big2";
	assert_int_equal(act_unreadable(&r, "jo@example.net", &id, &e), 1);
	assert_int_equal(all_deliveries(f), 3);
}

static void
test_automatic_unsubscribe_with_token_counts(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_message m = message("gus@example.net");
	struct inbox_intent in = intent(II_UNSUBSCRIBE);
	int64_t id;

	add_participant(f, "gus@example.net", PS_ACTIVE);
	m.auto_submitted = 1; /* a mail client answering List-Unsubscribe */
	snprintf(in.token, sizeof(in.token), "%s", participant(f, "gus@example.net").token);
	assert_int_equal(act(f, &m, &in, NOW, &id), 0);
	assert_int_equal(participant(f, "gus@example.net").status, PS_UNSUBSCRIBED);
	detail_is(f, id, "no goodbye");
	assert_int_equal(all_deliveries(f), 0);
}

static void
test_links_with_user_information_are_not_kept(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_message m = message("kim@example.net");
	struct inbox_intent refl = intent(II_REFLECTION), blog = intent(II_BLOG);
	int64_t id;

	add_participant(f, "kim@example.net", PS_ACTIVE);
	refl.thing = 2;
	refl.url = "https://bank.example@evil.example/thing-2";
	assert_int_equal(act(f, &m, &refl, NOW, &id), 0);
	detail_is(f, id, "user information");
	assert_int_equal(q(f, "SELECT count(*) FROM reflections"), 0);
	assert_int_equal(deliveries(f, DK_UNKNOWN_FORWARD, "org1@example.org"), 1);
	blog.url = refl.url;
	assert_int_equal(act(f, &m, &blog, NOW, &id), 0);
	assert_string_equal(participant(f, "kim@example.net").blog_url, "");
	assert_int_equal(deliveries(f, DK_BLOG_ACK, "kim@example.net"), 0);
}

int
main(void)
{
#define T(name) \
	cmocka_unit_test_setup_teardown(name, th_fixture_setup, th_fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_subscribe_new_address_gets_confirmation),
		T(test_subscribe_again_is_rate_limited),
		T(test_subscribe_active_and_blog_url),
		T(test_subscribe_after_unsubscribing_asks_to_confirm),
		T(test_confirm_only_from_the_same_address),
		T(test_reflection_from_participant_and_stranger),
		T(test_blog_and_help),
		T(test_rejoin_is_welcomed_again),
		T(test_certificate_when_every_thing_done),
		T(test_unsubscribe_needs_token_or_confirmation),
		T(test_automatic_mail_is_never_answered),
		T(test_bounce_and_autoreply_recorded_only),
		T(test_bounces_are_scored),
		T(test_unknown_forwarded_and_duplicate_refused),
		T(test_unreadable_recorded_forwarded_answered),
		T(test_automatic_unsubscribe_with_token_counts),
		T(test_links_with_user_information_are_not_kept),
	};
	return cmocka_run_group_tests_name("inbox_act", tests, NULL, NULL);
}
