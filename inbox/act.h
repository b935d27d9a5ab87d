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

#define ANSWERS_PER_HOUR_DEFAULT 5    /* when cfg.answers_per_hour is 0 */
#define COMMAND_RESULT_MAX ((size_t)64 << 10) /* the text answering an organiser */

/* The feed of a blog being registered, looked up by inbox_poll before the
 * message's transaction (network I/O never happens inside one). */
struct act_discovery {
	int done;                             /* 1: looked up for url */
	char url[STORE_URL_MAX + 1];
	int found;                            /* 1: feed is the feed's URL */
	char feed[STORE_URL_MAX + 1];
	char note[STORE_REASON_MAX + 1];      /* why none was found */
};

struct act_request {
	struct store *st;
	const struct programme *p;
	const struct inbox_message *m;    /* NULL for act_unreadable */
	const struct inbox_intent *in;    /* NULL for act_unreadable */
	struct inbound_record rec;        /* source .. received_at; act fills
	                                     participant_id and detail */
	const struct act_discovery *discovery; /* may be NULL */
	int64_t now;
};

/* Records the message and acts on its intent.  Returns 0 (handled; the
 * new inbound id in *id), 1 when the store already knew the message
 * (nothing was done: the caller rolls back and treats it as a duplicate),
 * or -1 (the caller rolls back and records a failure). */
int act_on_message(struct act_request *r, int64_t *id, struct err *e);

/* Records a message that could not be handled (rec.intent INTENT_FAILED
 * or INTENT_OVERSIZE, the reason in rec.detail) and tells the organisers
 * (DK_FAILED_NOTICE).  answer_to, when not NULL, is the sender's
 * normalized address, to be told politely that the message was too large
 * (DK_OVERSIZE).  Returns 0, 1 (already recorded: nothing done) or -1. */
int act_unreadable(struct act_request *r, const char *answer_to, int64_t *id, struct err *e);

/* 1 if m must never be answered: auto-replies, bulk and list mail, null
 * senders, abuse reports, mail without a usable From, mail from the
 * programme itself. */
int act_is_automatic(const struct inbox_message *m, const struct programme *p);

/* The link a blog (or subscription) message registers: in->url, else the
 * first link, if it fits the store and has no user information; NULL if
 * none is usable.  Points into m, or into *in (in->url_buf: a host name
 * written without a scheme): valid while both live. */
const char *act_blog_url(const struct inbox_message *m, const struct inbox_intent *in);

/* Looks up the context of m in the store (context.c) and classifies it,
 * an answer to our confirmation or unsubscribe request counting as such
 * whatever its words.  0, or -1 (store error). */
int context_classify(const struct programme *p, struct store *st,
    const struct inbox_message *m, struct inbox_context *ctx, struct inbox_intent *in,
    struct err *e);

/* alternate.c: the operand of an alternate command, from s (the text
 * after the command word): filler words ("address", "is", "to", ":")
 * skipped, then an address (in <...> or not, a trailing '.', ',' or ';'
 * dropped), normalized into out (ADDR_MAX + 1 bytes), or a word that
 * clears the alternate address ("none", "off", "clear", "remove",
 * "delete": out is then "").  1 if found, else 0 (out "").
 * alternate_first: the same for the first word of s that gives one. */
int alternate_operand(const char *s, char *out);
int alternate_first(const char *s, char *out);

/* The domain of the programme's address, for the Message-IDs it mints. */
const char *act_domain(const struct programme *p);

/* --- shared by the handlers (act.c, act_organiser.c) --------------------- */

/* One message being handled. */
struct act {
	struct act_request *r;
	int64_t inbound_id;
	char idkey[24];          /* the inbound id as text */
	const char *domain;      /* of the programme's address: Message-IDs */
	struct participant sender;
	int have_sender;         /* the From address is a participant (any status) */
	int quiet;               /* an automatic message: change state, answer nothing */
	struct err *e;
};

/* Records the message with its outcome; 0, 1 (known already) or -1. */
int act_record(struct act *a, int64_t participant_id, const char *detail);
/* Queues an answer of kind to `to` (keyed as store.h says), unless `to`
 * had cfg.answers_per_hour answers in the last hour: then nothing is
 * queued and the message's record says it was not answered.  0 or -1. */
int act_answer(struct act *a, int64_t pid, const char *to, const char *kind, const char *key);
/* Queues kind to every organiser, keyed by the inbound id.  0 or -1. */
int act_tell_organisers(struct act *a, const char *kind);

/* An organiser's commands (II_COMMAND), answered with their results. */
int act_command(struct act *a);
/* act_alt.c: a participant's alternate address (II_ALTERNATE): cleared at
 * once, or requested with a confirmation to the alternate address (at most
 * one per participant per hour) and an acknowledgement to the participant.
 * act_confirm_alternate: a confirmation carrying p's alt_token (act_confirm
 * found p by it); it counts only from the pending address, within a week. */
int act_alternate(struct act *a);
int act_confirm_alternate(struct act *a, const struct participant *p);
/* An organiser's answer to a ticket (II_TICKET_REPLY): marks it answered. */
int act_ticket_reply(struct act *a);

/* Appends to an answer for an organiser.  What does not fit is left out:
 * a full answer is cut, and that is no reason to stop (act_command).
 * Returns 0, so that a command can end with `return act_say(...)`. */
int act_say(struct buf *out, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* The programme's state as text for an organiser (the "status" command):
 * participants, Things, open tickets, failures.  Appended to out; a text
 * longer than out's maximum is cut with a note.  0 or -1 (store). */
int act_status_text(const struct programme *p, struct store *st, int64_t now, struct buf *out,
    struct err *e);

#endif
