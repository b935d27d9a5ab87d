/* Tests of inbox_poll over a temporary Maildir with a real store: each
 * message is processed once; a second run does nothing; a crash between
 * commit and move is recovered without reprocessing; a Message-ID seen in
 * two files is processed once; an oversize message and an unparseable one
 * end in Failed with the organisers told. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../inbox/inbox.h"
#include "inbox_test_helpers.h"

#define NOW 1800000000

static void
deliver(struct th_fixture *f, const char *name, const char *from, const char *msgid,
    const char *subject, const char *body)
{
	char msg[4096];

	snprintf(msg, sizeof(msg), "From: %s\r\nTo: things@example.org\r\n%s%s%sSubject: %s\r\n"
	    "Date: Mon, 11 Jan 2027 09:00:00 +0000\r\n\r\n%s\r\n", from,
	    msgid ? "Message-ID: <" : "", msgid ? msgid : "", msgid ? ">\r\n" : "", subject, body);
	assert_int_equal(th_deliver(f->maildir, "new", name, msg), 0);
}

static int
files_in(struct th_fixture *f, const char *sub)
{
	char p[PATH_MAX + 32];

	snprintf(p, sizeof(p), "%s/%s", f->maildir, sub);
	return th_count_files(p);
}

static int
poll(struct th_fixture *f, struct inbox_stats *s)
{
	struct err e;
	int rc = inbox_poll(&f->prog, f->st, NOW, s, &e);

	if (rc == -1)
		fprintf(stderr, "inbox_poll: %s\n", e.msg);
	return rc;
}

static void
test_processed_once_and_rerun_does_nothing(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_stats s;
	int64_t deliveries;

	deliver(f, "1.M1.h", "Ann <ann@example.net>", "a1@example.net", "hello",
	    "Could you tell me more about the programme?");
	deliver(f, "2.M1.h", "bob@example.net", "b1@example.net", "question", "How do I start?");
	deliver(f, "3.M1.h", "cy@example.net", NULL, "no id", "A message without Message-ID.");
	assert_int_equal(poll(f, &s), 0);
	assert_int_equal(s.listed, 3);
	assert_int_equal(s.fetched, 3);
	assert_int_equal(s.processed, 3);
	assert_int_equal(s.duplicates + s.failed + s.oversize, 0);
	assert_int_equal(q(f, "SELECT count(*) FROM inbound"), 3);
	assert_int_equal(q(f, "SELECT count(*) FROM inbound WHERE message_id = 'a1@example.net'"
	    " AND sender = 'ann@example.net' AND source_key = '1.M1.h'"), 1);
	/* a missing Message-ID is synthesized from the bytes */
	assert_int_equal(q(f, "SELECT count(*) FROM inbound WHERE message_id LIKE "
	    "'things-sha256-%%@invalid' AND length(message_id) = %d", 14 + 64 + 8), 1);
	assert_int_equal(files_in(f, "new"), 0);
	assert_int_equal(files_in(f, ".Processed/cur"), 3);
	deliveries = q(f, "SELECT count(*) FROM deliveries");

	assert_int_equal(poll(f, &s), 0);
	assert_int_equal(s.listed, 0);
	assert_int_equal(s.processed, 0);
	assert_int_equal(q(f, "SELECT count(*) FROM inbound"), 3);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries"), deliveries);
}

static void
test_crash_between_commit_and_move(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_stats s;
	char from[PATH_MAX + 64], to[PATH_MAX + 64];
	int64_t deliveries;

	deliver(f, "1.M1.h", "ann@example.net", "a1@example.net", "hello", "Hello there.");
	assert_int_equal(poll(f, &s), 0);
	assert_int_equal(s.processed, 1);
	deliveries = q(f, "SELECT count(*) FROM deliveries");
	/* the state a crash after the commit, before the move, leaves */
	snprintf(from, sizeof(from), "%s/.Processed/cur/1.M1.h:2,", f->maildir);
	snprintf(to, sizeof(to), "%s/cur/1.M1.h:2,", f->maildir);
	assert_int_equal(rename(from, to), 0);

	assert_int_equal(poll(f, &s), 0);
	assert_int_equal(s.listed, 1);
	assert_int_equal(s.duplicates, 1);
	assert_int_equal(s.processed + s.fetched, 0);  /* not even downloaded again */
	assert_int_equal(q(f, "SELECT count(*) FROM inbound"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries"), deliveries);
	assert_int_equal(files_in(f, "cur"), 0);
	assert_int_equal(files_in(f, ".Processed/cur"), 1);
}

static void
test_same_message_id_in_two_files(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_stats s;

	deliver(f, "1.M1.h", "ann@example.net", "same@example.net", "hello", "Hello there.");
	deliver(f, "2.M1.h", "ann@example.net", "same@example.net", "hello", "Hello there.");
	assert_int_equal(poll(f, &s), 0);
	assert_int_equal(s.processed, 1);
	assert_int_equal(s.duplicates, 1);
	assert_int_equal(q(f, "SELECT count(*) FROM inbound"), 1);
	assert_int_equal(files_in(f, ".Processed/cur"), 2);
	assert_int_equal(files_in(f, "new"), 0);
}

static void
test_oversize_answered_and_failed(void **state)
{
	struct th_fixture *f = *state;
	const char head[] = "From: Jo <jo@example.net>\r\nTo: things@example.org\r\n"
	    "Message-ID: <big@example.net>\r\nSubject: photos\r\n\r\n";
	size_t n = INBOX_MAX_MESSAGE_DEFAULT + 1;
	char *big = malloc(n + 1), p[PATH_MAX + 32];
	struct inbox_stats s;

	assert_non_null(big);
	memset(big, 'x', n);
	memcpy(big, head, sizeof(head) - 1);
	for (size_t i = sizeof(head); i < n; i += 78)
		big[i] = '\n';
	snprintf(p, sizeof(p), "%s/new/1.M1.h", f->maildir);
	assert_int_equal(th_write_file(p, big, n), 0);
	free(big);
	deliver(f, "2.M1.h", "ann@example.net", "a1@example.net", "hello", "Hello there.");

	assert_int_equal(poll(f, &s), 0);
	assert_int_equal(s.oversize, 1);
	assert_int_equal(s.processed, 1);
	assert_int_equal(s.fetched, 1);  /* only the small one was downloaded */
	assert_int_equal(q(f, "SELECT count(*) FROM inbound WHERE intent = 'oversize' AND "
	    "message_id = 'big@example.net' AND sender = 'jo@example.net' AND detail LIKE "
	    "'message of %zu bytes is over the limit%%'", n), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'oversize' AND "
	    "recipient = 'jo@example.net'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries d JOIN inbound i ON "
	    "d.inbound_id = i.id WHERE i.intent = 'oversize' AND d.kind = 'failed-notice' "
	    "AND d.recipient IN ('org1@example.org', 'org2@example.org')"), 2);
	assert_int_equal(files_in(f, ".Failed/cur"), 1);
	assert_int_equal(files_in(f, ".Processed/cur"), 1);
	/* never retried */
	assert_int_equal(poll(f, &s), 0);
	assert_int_equal(s.listed, 0);
}

static void
test_unparseable_goes_to_failed_and_organisers(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_stats s;
	char p[PATH_MAX + 32];

	snprintf(p, sizeof(p), "%s/new/1.M1.h", f->maildir);
	assert_int_equal(th_write_file(p, "", 0), 0);
	deliver(f, "2.M1.h", "ann@example.net", "a1@example.net", "hello", "Hello there.");
	assert_int_equal(poll(f, &s), 0);
	assert_int_equal(s.failed, 1);
	assert_int_equal(s.processed, 1);
	assert_int_equal(q(f, "SELECT count(*) FROM inbound WHERE intent = 'failed' AND "
	    "detail LIKE 'cannot parse%%' AND source_key = '1.M1.h'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries d JOIN inbound i ON "
	    "d.inbound_id = i.id WHERE i.intent = 'failed' AND d.kind = 'failed-notice'"), 2);
	assert_int_equal(files_in(f, ".Failed/cur"), 1);
	assert_int_equal(poll(f, &s), 0);
	assert_int_equal(s.listed, 0);
	assert_int_equal(q(f, "SELECT count(*) FROM inbound"), 2);
}

/* Adds a participant and a message we "sent" them; returns the
 * participant, and the delivery in *d (its Message-ID is what a reply
 * names). */
static struct participant
participant_with_delivery(struct th_fixture *f, const char *addr, enum participant_status st,
    const char *kind, const char *key, struct delivery *d)
{
	struct delivery_request r = { 0 };
	struct participant p;
	struct err e;
	int64_t id;

	assert_int_equal(store_participant_add(f->st, addr, "", st, NOW, &p, &e), 0);
	r.participant_id = p.id;
	r.recipient = addr;
	r.kind = kind;
	r.key = key ? key : p.confirm_token;
	r.due_at = NOW;
	r.msgid_domain = "example.org";
	assert_int_equal(store_delivery_enqueue(f->st, &r, NOW, &id, &e), 0);
	assert_int_equal(store_delivery_get(f->st, id, d, &e), 0);
	return p;
}

static void
test_reply_to_a_thing_is_a_reflection(void **state)
{
	struct th_fixture *f = *state;
	struct participant p;
	struct delivery d;
	struct inbox_stats s;
	char msg[2048];

	p = participant_with_delivery(f, "dee@example.net", PS_ACTIVE, DK_THING, "3", &d);
	snprintf(msg, sizeof(msg), "From: Dee <dee@example.net>\r\nTo: things@example.org\r\n"
	    "Message-ID: <r3@example.net>\r\nIn-Reply-To: <%s>\r\nReferences: <%s>\r\n"
	    "Subject: Re: Thing 3\r\n\r\nMy reflection: https://dee.example.net/thing-3\r\n",
	    d.message_id, d.message_id);
	assert_int_equal(th_deliver(f->maildir, "new", "1.M1.h", msg), 0);
	assert_int_equal(poll(f, &s), 0);
	assert_int_equal(s.processed, 1);
	assert_int_equal(s.intents[II_REFLECTION], 1);
	assert_int_equal(q(f, "SELECT count(*) FROM reflections WHERE participant_id = %lld AND "
	    "thing = 3 AND url = 'https://dee.example.net/thing-3'", (long long)p.id), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'reflection-ack'"), 1);
	assert_int_equal(q(f, "SELECT thing FROM inbound WHERE message_id = 'r3@example.net'"), 3);
}

static void
deliver_raw(struct th_fixture *f, const char *name, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	assert_int_equal(th_deliver(f->maildir, "new", name, msg), 0);
}

static void
test_subscribe_and_confirm_through_the_inbox(void **state)
{
	struct th_fixture *f = *state;
	struct participant p;
	struct inbox_stats s;
	struct err e;

	deliver_raw(f, "1.M1.h", "From: Ann <ann@example.net>\r\nTo: things+subscribe@example.org"
	    "\r\nMessage-ID: <s1@example.net>\r\nSubject: join\r\n\r\nPlease sign me up.\r\n");
	assert_int_equal(poll(f, &s), 0);
	assert_int_equal(s.intents[II_SUBSCRIBE], 1);
	assert_int_equal(store_participant_by_address(f->st, "ann@example.net", &p, &e), 0);
	assert_int_equal(p.status, PS_PENDING);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'confirm' AND "
	    "recipient = 'ann@example.net' AND key = '%s'", p.confirm_token), 1);

	deliver_raw(f, "2.M1.h", "From: ann@example.net\r\nTo: things+confirm-%s@example.org\r\n"
	    "Message-ID: <s2@example.net>\r\nSubject: yes\r\n\r\nYes.\r\n", p.confirm_token);
	assert_int_equal(poll(f, &s), 0);
	assert_int_equal(s.intents[II_CONFIRM], 1);
	assert_int_equal(store_participant_by_address(f->st, "ann@example.net", &p, &e), 0);
	assert_int_equal(p.status, PS_ACTIVE);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'welcome'"), 1);
}

static void
test_reply_to_our_confirmation_request_confirms(void **state)
{
	struct th_fixture *f = *state;
	struct participant p;
	struct delivery d;
	struct inbox_stats s;
	struct err e;

	participant_with_delivery(f, "bob@example.net", PS_PENDING, DK_CONFIRM, NULL, &d);
	/* a plain reply, to the plain address, saying nothing a rule knows */
	deliver_raw(f, "1.M1.h", "From: bob@example.net\r\nTo: things@example.org\r\n"
	    "Message-ID: <c1@example.net>\r\nIn-Reply-To: <%s>\r\nSubject: Re: your request\r\n"
	    "\r\nSounds good.\r\n", d.message_id);
	assert_int_equal(poll(f, &s), 0);
	assert_int_equal(s.intents[II_CONFIRM], 1);
	assert_int_equal(store_participant_by_address(f->st, "bob@example.net", &p, &e), 0);
	assert_int_equal(p.status, PS_ACTIVE);
}

/* The request says "reply to this message": a reply unsubscribes whatever
 * it says, though its subject ("Re: Please confirm: leaving ...") reads as
 * a confirmation. */
static void
test_reply_to_our_unsubscribe_request_unsubscribes(void **state)
{
	struct th_fixture *f = *state;
	struct delivery_request r = { 0 };
	struct participant p;
	struct delivery d;
	struct inbox_stats s;
	struct err e;
	int64_t id;

	assert_int_equal(store_participant_add(f->st, "eve@example.net", "", PS_ACTIVE, NOW, &p,
			     &e), 0);
	r.participant_id = p.id;
	r.recipient = "eve@example.net";
	r.kind = DK_UNSUB_CONFIRM;
	r.key = p.token;
	r.due_at = NOW;
	r.msgid_domain = "example.org";
	assert_int_equal(store_delivery_enqueue(f->st, &r, NOW, &id, &e), 0);
	assert_int_equal(store_delivery_get(f->st, id, &d, &e), 0);
	deliver_raw(f, "1.M1.h", "From: eve@example.net\r\nTo: things@example.org\r\n"
	    "Message-ID: <u1@example.net>\r\nIn-Reply-To: <%s>\r\n"
	    "Subject: Re: Please confirm: leaving 12 Things\r\n\r\nyes\r\n", d.message_id);
	assert_int_equal(poll(f, &s), 0);
	assert_int_equal(s.intents[II_UNSUBSCRIBE], 1);
	assert_int_equal(store_participant_by_address(f->st, "eve@example.net", &p, &e), 0);
	assert_int_equal(p.status, PS_UNSUBSCRIBED);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries WHERE kind = 'goodbye'"), 1);
}

static void
test_out_of_office_is_not_answered(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_stats s;

	deliver_raw(f, "1.M1.h", "From: cy@example.net\r\nTo: things@example.org\r\n"
	    "Message-ID: <o1@example.net>\r\nAuto-Submitted: auto-replied\r\n"
	    "Subject: Out of office\r\n\r\nI am away. Please subscribe me to help.\r\n");
	assert_int_equal(poll(f, &s), 0);
	assert_int_equal(s.processed, 1);
	assert_int_equal(s.intents[II_AUTOREPLY], 1);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries"), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM participants"), 0);
}

/* What the organisers are forwarded: the message that was passed on, not
 * only the line above it; and the names of attachments (a photo with no
 * words is not an empty message). */
static void
test_forwarded_text_and_attachments_kept_for_people(void **state)
{
	struct th_fixture *f = *state;
	struct participant p;
	struct inbox_stats s;
	struct err e;

	assert_int_equal(store_participant_add(f->st, "fay@example.net", "Fay", PS_ACTIVE, NOW, &p,
	    &e), 0);
	deliver_raw(f, "1.M1.h", "From: Fay <fay@example.net>\r\nTo: things@example.org\r\n"
	    "Message-ID: <f1@example.net>\r\nSubject: Fwd: my post\r\n\r\n"
	    "This is my post for Thing 2!\r\n\r\n"
	    "-------- Forwarded Message --------\r\nSubject: New post: Feeds\r\n"
	    "From: WordPress.com <donotreply@wordpress.com>\r\n\r\n"
	    "Fay published a new post: https://fay.example.net/feeds/\r\n");
	deliver_raw(f, "2.M1.h", "From: fay@example.net\r\nTo: things@example.org\r\n"
	    "Message-ID: <f2@example.net>\r\nSubject: Re: Thing 1\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
	    "Content-Type: image/jpeg; name=IMG_0042.jpeg\r\n"
	    "Content-Disposition: inline; filename=IMG_0042.jpeg\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n/9j/4AAQ\r\n--b\r\n"
	    "Content-Type: text/plain\r\n\r\n\r\nSent from my iPhone\r\n--b--\r\n");
	assert_int_equal(poll(f, &s), 0);
	assert_int_equal(s.processed, 2);
	assert_int_equal(q(f, "SELECT count(*) FROM inbound WHERE message_id = 'f1@example.net' AND "
	    "intent = 'help' AND body_text LIKE 'This is my post for Thing 2!%%' AND "
	    "body_text LIKE '%%published a new post: https://fay.example.net/feeds/%%'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM inbound WHERE message_id = 'f2@example.net' AND "
	    "intent = 'help' AND body_text LIKE '%%[attached: IMG_0042.jpeg]'"), 1);
	assert_int_equal(q(f, "SELECT count(DISTINCT inbound_id) FROM deliveries WHERE "
	    "kind = 'help-forward'"), 2);
}

static void
test_no_inbox_configured(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_stats s;
	struct err e;

	f->prog.cfg.imap_url = NULL;
	assert_int_equal(inbox_poll(&f->prog, f->st, NOW, &s, &e), -1);
	assert_non_null(strstr(e.msg, "no inbox configured"));
}

int
main(void)
{
#define T(name) \
	cmocka_unit_test_setup_teardown(name, th_fixture_setup, th_fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_processed_once_and_rerun_does_nothing),
		T(test_crash_between_commit_and_move),
		T(test_same_message_id_in_two_files),
		T(test_oversize_answered_and_failed),
		T(test_unparseable_goes_to_failed_and_organisers),
		T(test_reply_to_a_thing_is_a_reflection),
		T(test_subscribe_and_confirm_through_the_inbox),
		T(test_reply_to_our_confirmation_request_confirms),
		T(test_reply_to_our_unsubscribe_request_unsubscribes),
		T(test_out_of_office_is_not_answered),
		T(test_forwarded_text_and_attachments_kept_for_people),
		T(test_no_inbox_configured),
	};
	return cmocka_run_group_tests_name("inbox_poll", tests, NULL, NULL);
}
