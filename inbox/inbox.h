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
#define INBOX_MAX_RAW ((size_t)32 << 20)   /* inbox_parse refuses bigger input */
#define INBOX_MAX_TEXT ((size_t)256 << 10) /* bytes of text kept (UTF-8) */
#define INBOX_MAX_RECIPIENTS 64            /* addresses kept in to_addrs */
#define INBOX_MAX_URL 1024                 /* longer URLs are not links */

/* A parsed message.  Every string is UTF-8, NUL-terminated, owned by the
 * struct (inbox_message_free); absent fields are "" (never NULL).  One-line
 * fields (names, subject, ids, addresses) hold no control characters. */
struct inbox_message {
	char *message_id;        /* without brackets; "" if the message had none */
	char *from_addr;         /* normalized, "" if unparseable */
	char *from_name;         /* decoded display name */
	char *reply_to;          /* normalized Reply-To address, "" if none */
	char *to_addrs;          /* normalized To, Cc, Delivered-To, X-Original-To and
	                          * Envelope-To addresses, deduplicated, space
	                          * separated, at most INBOX_MAX_RECIPIENTS */
	char *subject;           /* decoded, one line */
	char *in_reply_to;       /* first id, without brackets */
	char *references[INBOX_MAX_REFS]; /* without brackets; with more, the
	                          * first one and the last INBOX_MAX_REFS-1 */
	size_t nreferences;
	char *text;              /* the readable body: text/plain, or HTML turned to
	                          * text (blockquotes as "> " lines, links as
	                          * "<URL>"); LF line ends; at most INBOX_MAX_TEXT */
	char *fresh_text;        /* text without quoted lines and signature */
	char *links[INBOX_MAX_LINKS]; /* http(s) URLs in fresh_text, in order,
	                          * deduplicated, kept verbatim (credentials
	                          * included: see inbox_url_has_userinfo) */
	size_t nlinks;
	char *attachments;       /* decoded file names of attachments, one per line */

	int auto_submitted;      /* Auto-Submitted other than "no", X-Autoreply,
	                          * X-Autorespond, X-Auto-Response-Suppress,
	                          * Precedence: auto_reply */
	int x_autoreply;         /* the vacation-program subset of the above:
	                          * X-Autoreply, X-Autorespond, Precedence: auto_reply */
	int vacation_subject;    /* a hint only: "Out of office", "Automatic reply",
	                          * "Abwesenheitsnotiz", "Vacation:", ... */
	int bulk;                /* Precedence bulk/junk/list, or List-Id or
	                          * List-Unsubscribe present */
	int has_list_id;
	int has_list_unsubscribe;
	int null_sender;         /* Return-Path <> */
	int is_dsn;              /* multipart/report; report-type=delivery-status */
	char *dsn_recipient;     /* Final-Recipient of a DSN, normalized, "" if none */
	char *dsn_original_recipient; /* Original-Recipient, normalized, "" if none */
	char *dsn_action;        /* "failed", "delayed", ... lowercase, "" if none */
	char *dsn_status;        /* "5.1.1", "" if none */
	int text_from_html;      /* no usable text/plain: text came from HTML */
	int text_truncated;      /* the text was longer than INBOX_MAX_TEXT */
	int mime_degraded;       /* the MIME structure was too large or deep to
	                          * parse safely: headers only, text "" */
	size_t size;             /* bytes of the raw message */
};

/* Parses raw (len bytes, not necessarily NUL-terminated; not kept after
 * the call).  Malformed input gives a best-effort record, never a crash;
 * -1 only for input that holds no message at all (empty or white space),
 * input longer than INBOX_MAX_RAW, or when out of memory.  On -1, *out
 * holds nothing (inbox_message_free on it is harmless). */
int inbox_parse(const char *raw, size_t len, struct inbox_message *out, struct err *e);
/* Releases every string of m and zeroes it; m may be zeroed already. */
void inbox_message_free(struct inbox_message *m);

/* 1 if the authority of an http(s) URL holds user information
 * ("https://bank.example@evil.example/"), a trick validators must refuse
 * or show; else 0. */
int inbox_url_has_userinfo(const char *url);

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

/* "subscribe", "confirm", ... (static); "invalid" for a value out of range. */
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

/* Decides what m asks for (the rules, in order, are at the top of
 * classify.c).  Pure: reads m and ctx only, never fails.  out->url points
 * into m->links (valid while m lives) and may be NULL even for
 * II_REFLECTION (a +done-N without a link); out->reason is static.
 * ctx->address may be NULL or "": then no plus-address command matches. */
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
