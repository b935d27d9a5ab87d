/*
 * inbox.h - everything Things receives: fetching replies (IMAP with
 * libetpan, or a Maildir), parsing them into plain records, deciding what
 * each one means, and recording that in the store (queueing the answers
 * the mailer will send).
 *
 * Three stages, kept apart so each can be tested alone:
 *   inbox_parse     untrusted bytes -> struct inbox_message (no decisions)
 *   inbox_classify  record + context -> struct inbox_intent (no I/O)
 *   inbox_poll      fetch, parse, classify, act, commit, then move/flag
 */
#ifndef THINGS_INBOX_H
#define THINGS_INBOX_H

#include <stddef.h>
#include <stdint.h>

#include "../content/content.h"
#include "../store/store.h"
#include "../util/util.h"

/* --- parsing ----------------------------------------------------------- */

#define INBOX_MAX_LINKS 32
#define INBOX_MAX_REFS 32

/* A parsed message.  Every string is UTF-8, NUL-terminated, owned by the
 * struct (inbox_message_free); absent fields are "" (never NULL). */
struct inbox_message {
	char *message_id;        /* without brackets; "" if the message had none */
	char *from_addr;         /* normalized, "" if unparseable */
	char *from_name;         /* decoded display name */
	char *reply_to;          /* normalized Reply-To address, "" if none */
	char *to_addrs;          /* normalized To+Cc+Delivered-To addresses, space separated */
	char *subject;           /* decoded, one line */
	char *in_reply_to;       /* first id, without brackets */
	char *references[INBOX_MAX_REFS]; /* without brackets */
	size_t nreferences;
	char *text;              /* the readable body: text/plain, or HTML turned to text */
	char *fresh_text;        /* text without quoted lines and signature */
	char *links[INBOX_MAX_LINKS]; /* http(s) URLs in fresh_text, in order, deduplicated */
	size_t nlinks;

	int auto_submitted;      /* Auto-Submitted other than "no", X-Autoreply, ... */
	int bulk;                /* Precedence bulk/junk/list, or List-Id present */
	int null_sender;         /* Return-Path <> */
	int is_dsn;              /* multipart/report; report-type=delivery-status */
	char *dsn_recipient;     /* Final-Recipient of a DSN, "" if none */
	char *dsn_status;        /* "5.1.1", "" if none */
	size_t size;             /* bytes of the raw message */
};

/* Parses raw (len bytes, not necessarily NUL-terminated).  Malformed
 * input gives a best-effort record, never a crash; -1 only for input that
 * holds no message at all or when out of memory. */
int inbox_parse(const char *raw, size_t len, struct inbox_message *out, struct err *e);
void inbox_message_free(struct inbox_message *m);

/* --- classifying ------------------------------------------------------- */

enum inbox_intent_kind {
	II_SUBSCRIBE,
	II_CONFIRM,        /* token carries which subscription */
	II_REFLECTION,     /* thing + url */
	II_BLOG,           /* url */
	II_HELP,
	II_UNSUBSCRIBE,    /* token if it came with one */
	II_BOUNCE,
	II_AUTOREPLY,
	II_UNKNOWN,        /* forwarded to organisers */
	II_COUNT
};

const char *inbox_intent_name(enum inbox_intent_kind k);

/* What the classifier needs to know besides the message; the caller looks
 * these up (the store) beforehand so that classifying does no I/O. */
struct inbox_context {
	const char *address;     /* the programme's address */
	char delimiter;          /* '+' */
	int nthings;
	int reply_to_thing;      /* In-Reply-To/References matched a Thing we sent: its number, else 0 */
	int from_participant;    /* sender is a known active participant */
};

struct inbox_intent {
	enum inbox_intent_kind kind;
	int thing;               /* II_REFLECTION */
	const char *url;         /* points into the message's links; NULL if none */
	char token[TOKEN_HEX_LEN + 1]; /* II_CONFIRM, II_UNSUBSCRIBE, II_BOUNCE (VERP); "" if none */
	const char *reason;      /* a short static explanation, for the log and the store */
};

void inbox_classify(const struct inbox_message *m, const struct inbox_context *ctx,
    struct inbox_intent *out);

/* --- the run ----------------------------------------------------------- */

/* The largest message inbox_poll downloads; a larger one is recorded as
 * "oversize", its sender gets a short answer (kind DK_OVERSIZE), the
 * organisers a notice, and it goes to the Failed folder. */
#define INBOX_MAX_MESSAGE_DEFAULT ((size_t)10 << 20)

/* The readable text kept with an inbound record (for forwards). */
#define INBOX_BODY_TEXT_MAX ((size_t)64 << 10)

/* One more kind of answer, beside store.h's DK_* (the mailer composes it
 * from the template of the same name): "your message was too large".
 * Key: the inbound id. */
#define DK_OVERSIZE "oversize"

struct inbox_stats {
	size_t listed;       /* waiting in the inbox at the start of the run */
	size_t fetched;
	size_t processed;
	size_t duplicates;   /* already recorded: only moved/flagged again */
	size_t failed;       /* could not be parsed or acted on: moved to Failed */
	size_t oversize;     /* over INBOX_MAX_MESSAGE_DEFAULT: answered, moved to Failed */
	size_t intents[II_COUNT];
};

/* Fetches every new message from the programme's inbox (p->cfg.imap_url:
 * IMAP or a Maildir), acts on each in one store transaction, then moves it
 * out of the way (folder "Processed").  A message is processed at most
 * once even across crashes: one the store already knows (a crash between
 * commit and move) is only moved.  A message that cannot be handled is
 * recorded as "failed", forwarded to the organisers and kept in a
 * "Failed" folder: never lost, never retried forever.  If the source
 * fails midway (a dropped connection), the run stops at once and returns
 * -1 saying how many messages were done; stats count what was done, and
 * the next run picks up from there.  Answers are queued in the store with
 * due_at = now; nothing is sent here. */
int inbox_poll(const struct programme *p, struct store *st, int64_t now,
    struct inbox_stats *stats, struct err *e);

#endif
