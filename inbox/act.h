/*
 * act.h - what inbox_poll does with a classified message (private to
 * inbox/): record it in the store and queue the answers, all inside the
 * caller's transaction (store_begin ... store_commit), so that a message
 * is either fully handled or not at all.
 *
 * Policy that holds for every intent: an automatic message (Auto-Submitted,
 * bulk/list mail, a null sender, mail from the programme's own address) is
 * recorded and never answered, whatever it says -- the one exception being
 * an unsubscribe with the participant's token, which takes effect (with no
 * goodbye).  Answers and forwards are queued with store_delivery_enqueue
 * (due now) for the mailer to send.
 */
#ifndef THINGS_INBOX_ACT_H
#define THINGS_INBOX_ACT_H

#include <stdint.h>

#include "inbox.h"

/* The store text of the intents act_* records besides the classifier's. */
#define INTENT_FAILED "failed"
#define INTENT_OVERSIZE "oversize"

struct act_request {
	struct store *st;
	const struct programme *p;
	const struct inbox_message *m;    /* NULL for act_unreadable */
	const struct inbox_intent *in;    /* NULL for act_unreadable */
	struct inbound_record rec;        /* source .. received_at; act fills
	                                     participant_id and detail */
	int64_t now;
};

/* Records the message and acts on its intent.  Returns 0 (handled; the
 * new inbound id in *id), 1 when the store already knew the message
 * (nothing was done: the caller rolls back and treats it as a duplicate),
 * or -1 (the caller rolls back and records a failure). */
int act_on_message(struct act_request *r, int64_t *id, struct err *e);

/* Records a message that could not be handled (rec.intent INTENT_FAILED
 * or INTENT_OVERSIZE, the reason in rec.detail) and forwards it to the
 * organisers.  answer_to, when not NULL, is the sender's normalized
 * address, to be told politely that the message was too large.  Returns
 * 0, 1 (already recorded: nothing done) or -1. */
int act_unreadable(struct act_request *r, const char *answer_to, int64_t *id, struct err *e);

/* 1 if m must never be answered: auto-replies, bulk and list mail, null
 * senders, mail without a usable From, mail from the programme itself. */
int act_is_automatic(const struct inbox_message *m, const struct programme *p);

#endif
