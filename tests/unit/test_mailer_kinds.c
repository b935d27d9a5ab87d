/* Unit tests for mailer_compose: every kind of delivery, composed from the
 * store (participant, inbound message) and the built-in templates, carries
 * the header fields its kind calls for, and the addresses it must. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_mailer_check.h"
#include "test_mailer_fixture.h"

#define ABSENT NULL

struct expect {
	const char *to;              /* exact To value */
	const char *auto_submitted;  /* exact value, or ABSENT */
	int bulk;
	int list;                    /* List-Id and List-Help */
	int unsubscribe;             /* List-Unsubscribe (+ Post: https is configured) */
	const char *in_reply_to;     /* exact value, or ABSENT */
	const char *reply_to;        /* exact value, or ABSENT */
};

static int64_t
add_inbound(struct fixture *f, const char *msgid, const char *sender, const char *subject,
    int64_t pid, int thing, const char *detail, const char *body)
{
	struct inbound_record r = { "maildir:/x", msgid, msgid, sender, subject, "test", pid, thing,
		detail, body, T0 };
	struct err e;
	int64_t id;

	if (store_inbound_add(f->st, &r, &id, &e) != 0)
		fail_msg("%s", e.msg);
	return id;
}

static struct delivery
queue(struct fixture *f, int64_t pid, const char *rcpt, const char *kind, const char *key,
    int64_t inbound)
{
	struct delivery_request r = { .participant_id = pid, .recipient = rcpt, .kind = kind,
		.key = key, .due_at = T0, .inbound_id = inbound, .msgid_domain = "example.org" };
	struct delivery d;
	struct err e;
	int64_t id;

	if (store_delivery_enqueue(f->st, &r, T0, &id, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(store_delivery_get(f->st, id, &d, &e), 0);
	return d;
}

/* Composes d, checks shape and fields; returns the decoded text part. */
static char *
compose_and_check(struct fixture *f, const struct delivery *d, const struct expect *x)
{
	struct header_scan hs;
	struct buf out;
	struct err e;
	char *text, *html, want[400];
	int te, he;

	buf_init(&out, 0);
	if (mailer_compose(f->m, d, &out, &e) == -1)
		fail_msg("%s: %s", d->kind, e.msg);
	check_scan(out.data, out.len, &hs);
	for (size_t i = 0; i < hs.n; i++)
		if (check_count(&hs, hs.names[i]) != 1)
			fail_msg("%s: %s appears %zu times", d->kind, hs.names[i],
			    check_count(&hs, hs.names[i]));
	check_field_is(out.data, "From", "12 Things Test <things@example.org>");
	check_field_is(out.data, "To", x->to);
	snprintf(want, sizeof(want), "<%s>", d->message_id);
	check_field_is(out.data, "Message-ID", want);
	check_field_is(out.data, "Auto-Submitted", x->auto_submitted);
	check_field_is(out.data, "Precedence", x->bulk ? "bulk" : ABSENT);
	check_field_is(out.data, "List-Id",
	    x->list ? "12 Things Test <12-things-test.example.org>" : ABSENT);
	check_field_is(out.data, "List-Help", x->list ? "<mailto:things+help@example.org>" : ABSENT);
	assert_int_equal(check_count(&hs, "List-Unsubscribe"), x->unsubscribe);
	assert_int_equal(check_count(&hs, "List-Unsubscribe-Post"), x->unsubscribe);
	check_field_is(out.data, "In-Reply-To", x->in_reply_to);
	check_field_is(out.data, "References", x->in_reply_to);
	check_field_is(out.data, "Reply-To", x->reply_to);
	assert_int_equal(check_count(&hs, "Subject"), 1);
	check_alternative(out.data, out.len, &text, &html, &te, &he);
	assert_null(strstr(text, "{{"));
	assert_null(strstr(html, "{{"));
	free(html);
	buf_free(&out);
	return text;
}

static void
test_every_kind(void **state)
{
	struct fixture *f = *state;
	struct participant pending;
	struct delivery d;
	int64_t alice, bob, in;
	char *text, want[200], token[TOKEN_HEX_LEN + 1];
	struct err e;

	alice = add_active(f, "alice@example.net", "Alice Smith", T0 - DAY);

	/* a Thing: bulk, one-click unsubscribe */
	d = queue(f, alice, "alice@example.net", DK_THING, "2", 0);
	text = compose_and_check(f, &d, &(struct expect){ "Alice Smith <alice@example.net>",
	    "auto-generated", 1, 1, 1, ABSENT, ABSENT });
	assert_non_null(strstr(text, "Write about"));
	assert_non_null(strstr(text, "things+done-2@example.org"));
	free(text);

	/* the confirmation request answers a subscription mail */
	assert_int_equal(store_participant_add(f->st, "new@example.net", "", PS_PENDING, T0,
			     &pending, &e), 0);
	in = add_inbound(f, "sub1@mail.example.net", "new@example.net", "subscribe", pending.id, 0,
	    NULL, NULL);
	d = queue(f, pending.id, "new@example.net", DK_CONFIRM, pending.confirm_token, in);
	text = compose_and_check(f, &d, &(struct expect){ "<new@example.net>", "auto-replied", 0, 1,
	    0, "<sub1@mail.example.net>", ABSENT });
	snprintf(want, sizeof(want), "things+confirm-%s@example.org", pending.confirm_token);
	assert_non_null(strstr(text, want));
	free(text);

	/* welcome without a message to answer: auto-generated */
	d = queue(f, alice, "alice@example.net", DK_WELCOME, "1", 0);
	text = compose_and_check(f, &d, &(struct expect){ "Alice Smith <alice@example.net>",
	    "auto-generated", 0, 1, 1, ABSENT, ABSENT });
	free(text);

	in = add_inbound(f, "refl@mail.example.net", "alice@example.net", "done", alice, 1,
	    "https://alice.example.net/thing-1", NULL);
	assert_int_equal(store_reflection_add(f->st, alice, 1, "https://alice.example.net/thing-1",
			     in, T0, &e), 0);
	d = queue(f, alice, "alice@example.net", DK_REFLECTION_ACK, "r1", in);
	text = compose_and_check(f, &d, &(struct expect){ "Alice Smith <alice@example.net>",
	    "auto-replied", 0, 1, 1, "<refl@mail.example.net>", ABSENT });
	free(text);

	/* a hostile subject stays one Subject line */
	in = add_inbound(f, "help@mail.example.net", "alice@example.net",
	    "Help\r\nBcc: mallory@evil.example", alice, 0, NULL, "I am stuck.\n");
	d = queue(f, alice, "alice@example.net", DK_HELP_ACK, "h1", in);
	text = compose_and_check(f, &d, &(struct expect){ "Alice Smith <alice@example.net>",
	    "auto-replied", 0, 1, 1, "<help@mail.example.net>", ABSENT });
	free(text);

	/* forwards go to an organiser, Reply-To the sender, threaded with
	 * the sender's message (so is the organiser's answer) */
	d = queue(f, 0, "organiser@example.org", DK_HELP_FORWARD, "h1", in);
	text = compose_and_check(f, &d, &(struct expect){ "<organiser@example.org>",
	    "auto-generated", 0, 0, 0, "<help@mail.example.net>",
	    "Alice Smith <alice@example.net>" });
	free(text);
	in = add_inbound(f, "odd@mail.example.net", "stranger@example.com", "???", 0, 0,
	    "no Thing named", "what is this\n");
	d = queue(f, 0, "organiser@example.org", DK_UNKNOWN_FORWARD, "u1", in);
	text = compose_and_check(f, &d, &(struct expect){ "<organiser@example.org>",
	    "auto-generated", 0, 0, 0, "<odd@mail.example.net>", "<stranger@example.com>" });
	free(text);

	assert_int_equal(token_new(token, &e), 0);
	in = add_inbound(f, "unsub@mail.example.net", "alice@example.net", "unsubscribe", alice, 0,
	    NULL, NULL);
	d = queue(f, alice, "alice@example.net", DK_UNSUB_CONFIRM, token, in);
	text = compose_and_check(f, &d, &(struct expect){ "Alice Smith <alice@example.net>",
	    "auto-replied", 0, 1, 0, "<unsub@mail.example.net>", ABSENT });
	snprintf(want, sizeof(want), "things+unsubscribe-%s@example.org", token);
	assert_non_null(strstr(text, want));
	free(text);

	d = queue(f, alice, "alice@example.net", DK_GOODBYE, "g1", in);
	text = compose_and_check(f, &d, &(struct expect){ "Alice Smith <alice@example.net>",
	    "auto-replied", 0, 1, 0, "<unsub@mail.example.net>", ABSENT });
	free(text);

	assert_int_equal(store_participant_set_blog(f->st, alice, "https://alice.example.net/",
			     "https://alice.example.net/feed.xml", &e), 0);
	in = add_inbound(f, "blog@mail.example.net", "alice@example.net", "my blog", alice, 0,
	    "https://alice.example.net/", NULL);
	d = queue(f, alice, "alice@example.net", DK_BLOG_ACK, "b1", in);
	text = compose_and_check(f, &d, &(struct expect){ "Alice Smith <alice@example.net>",
	    "auto-replied", 0, 1, 1, "<blog@mail.example.net>", ABSENT });
	assert_non_null(strstr(text, "https://alice.example.net/feed.xml"));
	free(text);

	/* the feed decides a section: rendered per recipient, not from a
	 * cache filled by Alice's */
	bob = add_active(f, "bob@example.net", "Bob", T0 - DAY);
	assert_int_equal(store_participant_set_blog(f->st, bob, "https://bob.example.net/", "", &e),
	    0);
	in = add_inbound(f, "blog2@mail.example.net", "bob@example.net", "my blog", bob, 0,
	    "https://bob.example.net/", NULL);
	d = queue(f, bob, "bob@example.net", DK_BLOG_ACK, "b2", in);
	text = compose_and_check(f, &d, &(struct expect){ "Bob <bob@example.net>", "auto-replied",
	    0, 1, 1, "<blog2@mail.example.net>", ABSENT });
	assert_non_null(strstr(text, "https://bob.example.net/"));
	assert_null(strstr(text, "alice"));
	assert_null(strstr(text, "feed.xml"));
	free(text);
}

/* The inbox's kinds: the oversize answer, the organisers' notices (a
 * failed message, a ticket and its reminder) and the answer to an
 * organiser's commands. */
static void
test_inbox_kinds(void **state)
{
	struct fixture *f = *state;
	struct delivery d;
	int64_t alice, in, ticket;
	char *text;
	struct err e;

	alice = add_active(f, "alice@example.net", "Alice Smith", T0 - DAY);
	in = add_inbound(f, "big@mail.example.net", "jo@example.com", "holiday photos", 0, 0,
	    "message of 20000000 bytes is over the limit of 10485760 bytes", NULL);
	d = queue(f, 0, "jo@example.com", DK_OVERSIZE, "o1", in);
	text = compose_and_check(f, &d, &(struct expect){ "<jo@example.com>", "auto-replied", 0,
	    1, 0, "<big@mail.example.net>", ABSENT });
	assert_non_null(strstr(text, "10\u00a0MB"));
	assert_non_null(strstr(text, "holiday photos"));
	free(text);
	d = queue(f, 0, "organiser@example.org", DK_FAILED_NOTICE, "o1", in);
	text = compose_and_check(f, &d, &(struct expect){ "<organiser@example.org>",
	    "auto-generated", 0, 0, 0, "<big@mail.example.net>", "<jo@example.com>" });
	assert_non_null(strstr(text, "over the limit of 10485760 bytes"));
	assert_non_null(strstr(text, "in the folder \"Failed\""));
	free(text);

	in = add_inbound(f, "q@mail.example.net", "alice@example.net", "Feeds?", alice, 2,
	    NULL, "Where is the feed?\n");
	assert_int_equal(store_ticket_open(f->st, in, alice, "alice@example.net", "Feeds?", 2, T0,
			     &ticket, &e), 0);
	d = queue(f, 0, "organiser@example.org", DK_HELP_FORWARD, "t1", in);
	text = compose_and_check(f, &d, &(struct expect){ "<organiser@example.org>",
	    "auto-generated", 0, 0, 0, "<q@mail.example.net>", "Alice Smith <alice@example.net>" });
	assert_non_null(strstr(text, "ticket 1"));
	assert_non_null(strstr(text, "Where is the feed?"));
	free(text);
	time_set_now(T0 + 3 * DAY);
	d = queue(f, 0, "organiser@example.org", DK_TICKET_REMINDER, "1-1", in);
	text = compose_and_check(f, &d, &(struct expect){ "<organiser@example.org>",
	    "auto-generated", 0, 0, 0, "<q@mail.example.net>", "Alice Smith <alice@example.net>" });
	assert_non_null(strstr(text, "waiting for 3 days"));
	assert_non_null(strstr(text, "things tickets close 1"));
	free(text);
	time_set_now(-1);

	in = add_inbound(f, "cmd@mail.example.net", "organiser@example.org", "status", 0, 0,
	    "> status\nParticipants: 1 active\n\n> remove bob@example.net\n"
	    "not done: bob@example.net is no participant\n", NULL);
	d = queue(f, 0, "organiser@example.org", DK_COMMAND_ANSWER, "c1", in);
	text = compose_and_check(f, &d, &(struct expect){ "<organiser@example.org>",
	    "auto-replied", 0, 1, 0, "<cmd@mail.example.net>", ABSENT });
	assert_non_null(strstr(text, "Participants: 1 active"));
	assert_non_null(strstr(text, "bob@example.net is no participant"));
	free(text);
}

static void
test_refusals(void **state)
{
	struct fixture *f = *state;
	struct delivery d;
	struct buf out;
	struct err e;
	int64_t alice;

	alice = add_active(f, "alice@example.net", "Alice", T0 - DAY);
	buf_init(&out, 0);
	d = queue(f, alice, "alice@example.net", "mystery", "1", 0);
	assert_int_equal(mailer_compose(f->m, &d, &out, &e), -1);
	assert_non_null(strstr(e.msg, "unknown kind"));
	d = queue(f, alice, "alice@example.net", DK_THING, "9", 0);
	assert_int_equal(mailer_compose(f->m, &d, &out, &e), -1);
	assert_non_null(strstr(e.msg, "no Thing"));
	d = queue(f, alice, "alice@example.net", DK_CONFIRM, "not-a-token", 0);
	assert_int_equal(mailer_compose(f->m, &d, &out, &e), -1);
	d.participant_id = 999;
	assert_int_equal(mailer_compose(f->m, &d, &out, &e), -1);
	assert_non_null(strstr(e.msg, "gone"));
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

/* VERP: a participant's token for their mail, the bare bounce address for
 * anything else, forwards included. */
static void
test_envelope_sender(void **state)
{
	struct fixture *f = *state;
	struct participant p;
	struct delivery d;
	char want[ADDR_MAX + 1], got[ADDR_MAX + 1];
	struct err e;

	add_active(f, "alice@example.net", "Alice", T0 - DAY);
	assert_int_equal(store_participant_by_address(f->st, "alice@example.net", &p, &e), 0);
	d = queue(f, p.id, "alice@example.net", DK_THING, "1", 0);
	assert_int_equal(message_sender(f->m, &d, &p, got, sizeof(got), &e), 0);
	snprintf(want, sizeof(want), "things+bounce-%s@example.org", p.token);
	assert_string_equal(got, want);
	d = queue(f, p.id, "organiser@example.org", DK_HELP_FORWARD, "1", 0);
	assert_int_equal(message_sender(f->m, &d, &p, got, sizeof(got), &e), 0);
	assert_string_equal(got, "things+bounce@example.org");
	d = queue(f, 0, "organiser@example.org", DK_UNKNOWN_FORWARD, "1", 0);
	assert_int_equal(message_sender(f->m, &d, NULL, got, sizeof(got), &e), 0);
	assert_string_equal(got, "things+bounce@example.org");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_kind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbox_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_envelope_sender, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
