/* Tests of what the inbox does for and with the organisers, through
 * inbox_poll on a Maildir and a real store: help requests become tickets
 * that an organiser's answer closes; unanswered tickets are reminded once
 * per period; organisers' commands run only from an organiser's address
 * with the secret; automatic answers to one address are limited per
 * hour. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../inbox/inbox.h"
#include "inbox_test_helpers.h"

#define NOW 1800000000
#define HOUR 3600
#define SECRET "organisers-only-0123456789"

#define deliver(f, ...) assert_int_equal(th_deliverf((f), NULL, NULL, __VA_ARGS__), 0)

static void
poll_at(struct th_fixture *f, int64_t now, struct inbox_stats *s)
{
	struct err e;

	if (inbox_poll(&f->prog, f->st, now, s, &e) == -1)
		fail_msg("inbox_poll: %s", e.msg);
}

static int64_t
active(struct th_fixture *f, const char *addr)
{
	struct participant p;
	struct err e;

	assert_int_equal(store_participant_add(f->st, addr, "", PS_ACTIVE, NOW - 86400, &p, &e), 0);
	return p.id;
}

static enum participant_status
status_of(struct th_fixture *f, const char *addr)
{
	struct participant p;
	struct err e;

	assert_int_equal(store_participant_by_address(f->st, addr, &p, &e), 0);
	return p.status;
}

/* The Message-ID of our delivery of kind to rcpt (the newest). */
static void
message_id_of(struct th_fixture *f, const char *kind, const char *rcpt, char *out, size_t n)
{
	sqlite3 *db;
	sqlite3_stmt *s;

	assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT message_id FROM deliveries WHERE kind = ?"
	    " AND recipient = ? ORDER BY id DESC", -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, rcpt, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	snprintf(out, n, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(db);
}

/* The detail of the inbound message with this Message-ID. */
static char *
detail_of(struct th_fixture *f, const char *msgid)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	char *d = NULL;

	assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT coalesce(detail, '') FROM inbound WHERE"
	    " message_id = ?", -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_text(s, 1, msgid, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		d = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(db);
	if (d == NULL)
		fail_msg("no inbound message <%s>", msgid);
	return d;
}

static void
detail_has(struct th_fixture *f, const char *msgid, const char *want)
{
	char *d = detail_of(f, msgid);

	if (strstr(d, want) == NULL)
		fail_msg("<%s>: detail '%s' lacks '%s'", msgid, d, want);
	free(d);
}

static void
help_from(struct th_fixture *f, const char *from, const char *msgid, const char *subject)
{
	deliver(f, "From: %s\r\nTo: things+help@example.org\r\nMessage-ID: <%s>\r\n"
	    "Subject: %s\r\n\r\nI cannot find the feed of my blog. What now?\r\n", from, msgid,
	    subject);
}

static void
test_help_ticket_closed_by_an_organisers_answer(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_stats s;
	char fwd[STORE_MSGID_MAX + 1];
	struct ticket t;
	struct err e;
	int64_t before;

	active(f, "ann@example.net");
	help_from(f, "Ann <ann@example.net>", "h1@example.net", "Stuck on Thing 2");
	poll_at(f, NOW, &s);
	assert_int_equal(s.intents[II_HELP], 1);
	assert_int_equal(store_ticket_get(f->st, 1, &t, &e), 0);
	assert_int_equal(t.state, TS_OPEN);
	assert_string_equal(t.sender, "ann@example.net");
	assert_string_equal(t.subject, "Stuck on Thing 2");
	assert_int_equal(t.thing, 2);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'help-forward'"), 2);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'help-ack' AND "
	    "recipient = 'ann@example.net'"), 1);
	detail_has(f, "h1@example.net", "ticket 1");

	/* org1 answers Ann and copies Things: the answer names our forward */
	message_id_of(f, DK_HELP_FORWARD, "org1@example.org", fwd, sizeof(fwd));
	before = q(f, "SELECT count(*) FROM deliveries");
	deliver(f, "From: Org One <org1@example.org>\r\nTo: ann@example.net\r\n"
	    "Cc: things@example.org\r\nMessage-ID: <a1@example.org>\r\nIn-Reply-To: <%s>\r\n"
	    "References: <h1@example.net> <%s>\r\nSubject: Re: [ticket 1] Help request\r\n\r\n"
	    "Hello Ann, the feed is at /feed.\r\n", fwd, fwd);
	poll_at(f, NOW + HOUR, &s);
	assert_int_equal(s.intents[II_TICKET_REPLY], 1);
	assert_int_equal(store_ticket_get(f->st, 1, &t, &e), 0);
	assert_int_equal(t.state, TS_ANSWERED);
	assert_string_equal(t.closed_by, "org1@example.org");
	assert_int_equal(t.closed_at, NOW + HOUR);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries"), before); /* nothing sent */
	detail_has(f, "a1@example.org", "answer to ticket 1: marked answered");

	/* an answer naming only the participant's message finds its ticket too */
	help_from(f, "ann@example.net", "h2@example.net", "Another question");
	poll_at(f, NOW + 2 * HOUR, &s);
	deliver(f, "From: org2@example.org\r\nTo: ann@example.net, things@example.org\r\n"
	    "Message-ID: <a2@example.org>\r\nIn-Reply-To: <h2@example.net>\r\n"
	    "Subject: Re: Another question\r\n\r\nSee you.\r\n");
	poll_at(f, NOW + 3 * HOUR, &s);
	assert_int_equal(s.intents[II_TICKET_REPLY], 1);
	assert_int_equal(store_ticket_get(f->st, 2, &t, &e), 0);
	assert_int_equal(t.state, TS_ANSWERED);

	/* the participant's own follow-up in the thread is no answer */
	help_from(f, "ann@example.net", "h3@example.net", "Re: Another question");
	poll_at(f, NOW + 4 * HOUR, &s);
	assert_int_equal(q(f, "SELECT count(*) FROM tickets WHERE state = 'open'"), 1);
}

static void
test_reminders_once_per_period(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_stats s;
	struct err e;
	size_t n;

	active(f, "ann@example.net");
	f->prog.cfg.ticket_reminder_hours = 24;
	help_from(f, "ann@example.net", "h1@example.net", "Help");
	poll_at(f, NOW, &s);
	assert_int_equal(inbox_remind(&f->prog, f->st, NOW + 23 * HOUR, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(inbox_remind(&f->prog, f->st, NOW + 24 * HOUR, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'ticket-reminder' AND "
	    "key = '1-1' AND recipient IN ('org1@example.org', 'org2@example.org') AND "
	    "inbound_id = (SELECT id FROM inbound WHERE message_id = 'h1@example.net')"), 2);
	/* within the same period: nothing more */
	assert_int_equal(inbox_remind(&f->prog, f->st, NOW + 47 * HOUR, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(inbox_remind(&f->prog, f->st, NOW + 48 * HOUR, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'ticket-reminder' "
	    "AND key = '1-2'"), 2);
	assert_int_equal(q(f, "SELECT reminders FROM tickets WHERE id = 1"), 2);
	/* closed: never again */
	assert_int_equal(store_ticket_close(f->st, 1, TS_CLOSED, "cli", NOW + 49 * HOUR, &e), 0);
	assert_int_equal(inbox_remind(&f->prog, f->st, NOW + 500 * HOUR, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'ticket-reminder'"), 4);
	/* the default period is 48 hours */
	f->prog.cfg.ticket_reminder_hours = 0;
	help_from(f, "ann@example.net", "h2@example.net", "Help again");
	poll_at(f, NOW + 500 * HOUR, &s);
	assert_int_equal(inbox_remind(&f->prog, f->st, NOW + 547 * HOUR, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(inbox_remind(&f->prog, f->st, NOW + 548 * HOUR, &n, &e), 0);
	assert_int_equal(n, 1);
}

static void
test_commands_with_the_secret(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_stats s;
	struct participant carol;
	struct ticket t;
	struct err e;
	char *d;

	f->prog.cfg.organiser_secret = SECRET;
	active(f, "alice@example.net");
	active(f, "bob@example.net");
	help_from(f, "alice@example.net", "h1@example.net", "Help");
	poll_at(f, NOW, &s);
	deliver(f, "From: Org One <org1@example.org>\r\nTo: things@example.org\r\n"
	    "Message-ID: <c1@example.org>\r\nSubject: commands " SECRET "\r\n\r\n"
	    "status\r\nremove bob@example.net\r\nadd carol@example.net Carol Cook\r\n"
	    "close 1\r\nremove nobody@example.net\r\nADD not-an-address\r\n"
	    "Thanks!\r\n");
	poll_at(f, NOW + HOUR, &s);
	assert_int_equal(s.intents[II_COMMAND], 1);
	assert_int_equal(status_of(f, "bob@example.net"), PS_UNSUBSCRIBED);
	assert_int_equal(status_of(f, "alice@example.net"), PS_ACTIVE);
	assert_int_equal(store_participant_by_address(f->st, "carol@example.net", &carol, &e), 0);
	assert_int_equal(carol.status, PS_ACTIVE);
	assert_string_equal(carol.name, "Carol Cook");
	assert_int_equal(store_ticket_get(f->st, 1, &t, &e), 0);
	assert_int_equal(t.state, TS_CLOSED);
	assert_string_equal(t.closed_by, "org1@example.org");
	d = detail_of(f, "c1@example.org");
	assert_non_null(strstr(d, "> status\n"));
	assert_non_null(strstr(d, "Participants: 2 active, 0 pending, 0 unsubscribed"));
	assert_non_null(strstr(d, "#1 from alice@example.net"));
	assert_non_null(strstr(d, "bob@example.net removed (was active)"));
	assert_non_null(strstr(d, "carol@example.net added, active"));
	assert_non_null(strstr(d, "ticket 1 closed"));
	assert_non_null(strstr(d, "nobody@example.net is no participant"));
	assert_non_null(strstr(d, "'not-an-address' is not an address"));
	assert_null(strstr(d, "Thanks"));
	assert_null(strstr(d, SECRET));
	free(d);
	/* the secret is not kept: no body, no subject holding it */
	assert_int_equal(q(f, "SELECT count(*) FROM inbound WHERE message_id = 'c1@example.org' "
	    "AND body_text IS NULL AND subject NOT LIKE '%%" SECRET "%%'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'command-answer' AND "
	    "recipient = 'org1@example.org'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'unknown-forward'"), 0);

	/* the secret in a line of its own, the command in the subject */
	deliver(f, "From: org2@example.org\r\nTo: things@example.org\r\n"
	    "Message-ID: <c2@example.org>\r\nSubject: Re: status\r\n\r\n" SECRET "\r\n");
	poll_at(f, NOW + 2 * HOUR, &s);
	assert_int_equal(s.intents[II_COMMAND], 1);
	detail_has(f, "c2@example.org", "> status");
	detail_has(f, "c2@example.org", "Participants: 2 active");
}

static void
test_commands_refused_without_organiser_and_secret(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_stats s;

	f->prog.cfg.organiser_secret = SECRET;
	active(f, "alice@example.net");
	/* an organiser without the secret */
	deliver(f, "From: org1@example.org\r\nTo: things@example.org\r\nMessage-ID: <n1@x>\r\n"
	    "Subject: please\r\n\r\nremove alice@example.net\r\n");
	/* the secret from someone else (a forged organiser would need the
	 * secret too; here: a participant who learnt it) */
	deliver(f, "From: alice@example.net\r\nTo: things@example.org\r\nMessage-ID: <n2@x>\r\n"
	    "Subject: hello\r\n\r\n" SECRET "\r\nremove alice@example.net\r\n");
	poll_at(f, NOW, &s);
	assert_int_equal(s.intents[II_COMMAND], 0);
	assert_int_equal(status_of(f, "alice@example.net"), PS_ACTIVE);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'command-answer'"), 0);
	/* both are ordinary mail, forwarded to the organisers */
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'unknown-forward'"), 4);

	/* commands off: the secret means nothing */
	f->prog.cfg.organiser_secret = NULL;
	deliver(f, "From: org1@example.org\r\nTo: things@example.org\r\nMessage-ID: <n3@x>\r\n"
	    "Subject: hi\r\n\r\n" SECRET "\r\nremove alice@example.net\r\n");
	poll_at(f, NOW, &s);
	assert_int_equal(s.intents[II_COMMAND], 0);
	assert_int_equal(status_of(f, "alice@example.net"), PS_ACTIVE);
}

static void
test_answers_per_hour(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_stats s;
	char id[32];

	f->prog.cfg.answers_per_hour = 3;
	active(f, "ann@example.net");
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "q%d@example.net", i);
		help_from(f, "ann@example.net", id, "Question");
	}
	poll_at(f, NOW, &s);
	assert_int_equal(s.intents[II_HELP], 5);
	assert_int_equal(q(f, "SELECT count(*) FROM inbound"), 5);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'help-ack'"), 3);
	/* the organisers still get every request */
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'help-forward'"), 10);
	detail_has(f, "q3@example.net", "not answered (help-ack): 3 answers to this address in "
	    "the last hour, the limit is 3");
	detail_has(f, "q4@example.net", "not answered");
	/* every kind of answer counts */
	deliver(f, "From: ann@example.net\r\nTo: things+done-1@example.org\r\n"
	    "Message-ID: <r1@example.net>\r\nSubject: done\r\n\r\nhttps://ann.example.net/1\r\n");
	poll_at(f, NOW + 1800, &s);
	assert_int_equal(s.intents[II_REFLECTION], 1);
	assert_int_equal(q(f, "SELECT count(*) FROM reflections"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'reflection-ack'"), 0);
	detail_has(f, "r1@example.net", "not answered (reflection-ack)");
	/* an hour later, answers again */
	help_from(f, "ann@example.net", "q9@example.net", "Question");
	poll_at(f, NOW + HOUR + 1, &s);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'help-ack'"), 4);
}

/* A Thing delivery to addr, queued (or held); its id. */
static int64_t
thing_to(struct th_fixture *f, const char *addr, const char *key, enum delivery_state state)
{
	struct delivery_request r = { 0 };
	struct err e;
	int64_t id;

	r.participant_id = active(f, addr);
	r.recipient = addr;
	r.kind = DK_THING;
	r.key = key;
	r.due_at = NOW;
	r.msgid_domain = "example.org";
	r.state = state;
	assert_int_equal(store_delivery_enqueue(f->st, &r, NOW, &id, &e), 0);
	return id;
}

/* The Things' lines of the by-mail status: deliveries an organiser
 * skipped (things release N --skip) are not counted as failed, and are
 * named only where there are some. */
static void
test_status_shows_skipped_apart(void **state)
{
	struct th_fixture *f = *state;
	struct thing things[2] = { { .number = 1, .title = "Blogs", .release_at = NOW - 86400 },
		{ .number = 2, .title = "Feeds", .release_at = NOW } };
	struct delivery claimed[10];
	struct inbox_stats s;
	struct err e;
	size_t nclaimed;
	int64_t n;
	char *d;

	f->prog.cfg.organiser_secret = SECRET;
	f->prog.things = things;
	f->prog.nthings = 2;
	thing_to(f, "alice@example.net", "1", DS_HELD);
	thing_to(f, "bob@example.net", "1", DS_HELD);
	thing_to(f, "carol@example.net", "1", DS_QUEUED);
	thing_to(f, "dan@example.net", "2", DS_QUEUED);
	/* the two queued ones are tried and refused for good */
	assert_int_equal(store_delivery_claim(f->st, NOW, 10, claimed, &nclaimed, &e), 0);
	assert_int_equal(nclaimed, 2);
	for (size_t i = 0; i < nclaimed; i++)
		assert_int_equal(store_delivery_mark_failed(f->st, claimed[i].id, "550 no such user",
		    &e), 0);
	assert_int_equal(store_delivery_skip_held(f->st, DK_THING, "1", NOW, &n, &e), 0);
	assert_int_equal(n, 2);
	deliver(f, "From: org1@example.org\r\nTo: things@example.org\r\n"
	    "Message-ID: <st@example.org>\r\nSubject: commands " SECRET "\r\n\r\nstatus\r\n");
	poll_at(f, NOW + HOUR, &s);
	d = detail_of(f, "st@example.org");
	if (strstr(d, "  1 (") == NULL || strstr(d, "0 sent, 0 queued, 1 failed, 2 skipped, 0 held,"
	    " 0 reflections\n  2 (") == NULL ||
	    strstr(d, "0 sent, 0 queued, 1 failed, 0 held, 0 reflections\n\nParticipants") == NULL)
		fail_msg("status:\n%s", d);
	free(d);
	f->prog.things = NULL;
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, th_fixture_setup, th_fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_help_ticket_closed_by_an_organisers_answer),
		T(test_reminders_once_per_period),
		T(test_commands_with_the_secret),
		T(test_commands_refused_without_organiser_and_secret),
		T(test_answers_per_hour),
		T(test_status_shows_skipped_apart),
	};
	return cmocka_run_group_tests_name("inbox_organiser", tests, NULL, NULL);
}
