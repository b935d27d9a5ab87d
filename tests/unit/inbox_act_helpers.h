/*
 * inbox_act_helpers.h - running the inbox handlers (inbox/act*.c) on the
 * store of inbox_test_helpers.h's fixture, as inbox_poll does, and looking
 * at what they did.  Included by test_inbox_act.c and test_inbox_alt.c.
 */
#ifndef THINGS_INBOX_ACT_HELPERS_H
#define THINGS_INBOX_ACT_HELPERS_H

#include "../../inbox/act.h"
#include "inbox_test_helpers.h"

#define NOW 1800000000

static __attribute__((unused)) int64_t
deliveries(struct th_fixture *f, const char *kind, const char *to)
{
	return q(f, "SELECT count(*) FROM deliveries WHERE kind = '%s' AND recipient = '%s'",
	    kind, to);
}

static __attribute__((unused)) int64_t
all_deliveries(struct th_fixture *f)
{
	return q(f, "SELECT count(*) FROM deliveries");
}

static __attribute__((unused)) void
detail_is(struct th_fixture *f, int64_t id, const char *want)
{
	struct inbound in;
	struct err e;

	assert_int_equal(store_inbound_get(f->st, id, &in, &e), 0);
	if (strstr(in.detail, want) == NULL)
		fail_msg("inbound %lld detail \"%s\", expected \"%s\"", (long long)id, in.detail,
		    want);
	store_inbound_free(&in);
}

static __attribute__((unused)) struct participant
participant(struct th_fixture *f, const char *addr)
{
	struct participant p;
	struct err e;

	assert_int_equal(store_participant_by_address(f->st, addr, &p, &e), 0);
	return p;
}

static __attribute__((unused)) int64_t
add_participant(struct th_fixture *f, const char *addr, enum participant_status s)
{
	struct participant p;
	struct err e;

	assert_int_equal(store_participant_add(f->st, addr, "", s, NOW - 86400, &p, &e), 0);
	return p.id;
}

/* A parsed message as inbox_parse would give it (strings not owned). */
static __attribute__((unused)) struct inbox_message
message(const char *from)
{
	struct inbox_message m;

	memset(&m, 0, sizeof(m));
	m.message_id = m.from_name = m.reply_to = m.to_addrs = m.subject = "";
	m.in_reply_to = m.text = m.fresh_text = m.dsn_recipient = m.dsn_status = "";
	m.attachments = m.dsn_original_recipient = m.dsn_action = m.report_addrs = "";
	m.from_addr = (char *)from;
	m.subject = "hello";
	m.text = m.fresh_text = "Some text.";
	return m;
}

static __attribute__((unused)) struct inbox_intent
intent(enum inbox_intent_kind k)
{
	struct inbox_intent in;

	memset(&in, 0, sizeof(in));
	in.kind = k;
	in.reason = "test";
	return in;
}

/* Runs the handler in a transaction as inbox_poll does; returns its
 * result and the inbound id. */
static __attribute__((unused)) int
act(struct th_fixture *f, const struct inbox_message *m, const struct inbox_intent *in,
    int64_t now, int64_t *id)
{
	static int seq;
	struct act_request r;
	char key[32], msgid[64];
	struct err e;
	int rc;

	seq++;
	snprintf(key, sizeof(key), "k%d", seq);
	snprintf(msgid, sizeof(msgid), "%s", m->message_id[0] ? m->message_id : "");
	if (msgid[0] == '\0')
		snprintf(msgid, sizeof(msgid), "m%d@example.net", seq);
	memset(&r, 0, sizeof(r));
	r.st = f->st;
	r.p = &f->prog;
	r.m = m;
	r.in = in;
	r.now = now;
	r.rec.source = "maildir:/test";
	r.rec.source_key = key;
	r.rec.message_id = msgid;
	r.rec.sender = m->from_addr;
	r.rec.subject = m->subject;
	r.rec.intent = inbox_intent_name(in->kind);
	r.rec.received_at = now;
	assert_int_equal(store_begin(f->st, &e), 0);
	rc = act_on_message(&r, id, &e);
	if (rc == 0)
		assert_int_equal(store_commit(f->st, &e), 0);
	else
		store_rollback(f->st);
	if (rc == -1)
		fprintf(stderr, "act: %s\n", e.msg);
	return rc;
}

#endif
