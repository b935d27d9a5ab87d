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
 * and, apart from mail: inbox_remind (tickets nobody answered).
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
	                          * included: see inbox_url_has_userinfo) but
	                          * for one in <...> that the sender's client
	                          * wrapped: its line breaks and the blanks
	                          * around them are taken out */
	size_t nlinks;
	char *attachments;       /* decoded file names of attachments, one per line */

	int auto_submitted;      /* Auto-Submitted other than "no", X-Autoreply,
	                          * X-Autorespond, X-Auto-Response-Suppress,
	                          * Precedence: auto_reply, X-Loop (and the
	                          * ticket systems' X-OTRS-Loop, RT-Loop-Prevention) */
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
	int is_feedback_report;  /* multipart/report; report-type=feedback-report
	                          * (RFC 5965): a mailbox provider relaying a
	                          * recipient's spam complaint */
	char *report_addrs;      /* an abuse report's addresses that may carry our
	                          * token: its Original-Mail-From, the enclosed
	                          * original's Return-Path, List-Unsubscribe
	                          * (mailto) and To; normalized, deduplicated,
	                          * space separated, at most 8; "" otherwise */
	char *dsn_recipient;     /* Final-Recipient of a DSN, normalized, "" if none */
	char *dsn_original_recipient; /* Original-Recipient, normalized, "" if none */
	char *dsn_action;        /* "failed", "delayed", ... lowercase, "" if none */
	char *dsn_status;        /* "5.1.1", "" if none */
	int text_from_html;      /* no usable text/plain: text came from HTML */
	int text_truncated;      /* the text was longer than INBOX_MAX_TEXT */
	int mime_degraded;       /* the MIME structure was too large or deep to
	                          * parse safely: headers only, text "" */
	int forwarded;           /* the sender passed on someone else's message:
	                          * fresh_text stopped at a forwarded-message line
	                          * ("---------- Forwarded message ---------",
	                          * "Begin forwarded message:"), or at an Outlook
	                          * header block under a "Fwd:"/"WG:" subject;
	                          * text holds the forwarded message too */
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

/* The bytes of the character at s (NUL-terminated UTF-8) if a link may
 * hold it, else 0: printable ASCII but for < > " ` { } | \ ^, and the
 * letters of the Latin, Greek and Cyrillic scripts (which people type in
 * host names and paths); never white space or other punctuation. */
size_t inbox_url_char(const char *s);

/* 1 if the authority of an http(s) URL holds user information
 * ("https://bank.example@evil.example/"), a trick validators must refuse
 * or show; else 0. */
int inbox_url_has_userinfo(const char *url);

/* --- classifying ------------------------------------------------------- */

/* 1 if subject, after reply prefixes and [tags], starts with a forward
 * prefix ("Fwd:", "Fw:", "WG:", "TR:", "RV:", ...); else 0. */
int inbox_subject_forwarded(const char *subject);

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
	II_COMMAND,        /* an organiser's commands, with the shared secret */
	II_TICKET_REPLY,   /* an organiser's answer to a help request (ticket) */
	II_ALTERNATE,      /* address: an alternate address for the sender ("" clears it) */
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
	int from_organiser;      /* sender is one of the programme's organisers */
	const char *organiser_secret; /* commands need it in the message; NULL: commands off */
	int64_t ticket;          /* In-Reply-To/References matched a help request or our
	                          * forward of it: its ticket, else 0 */
};

/* A struct inbox_intent may point into itself (url at url_buf): pass it
 * by pointer.  A copy made by assignment or memcpy keeps pointing at the
 * original's url_buf, valid only while the original lives and is not
 * classified again: after copying, set the copy's url to its own url_buf
 * when the original's url was the original's url_buf. */
struct inbox_intent {
	enum inbox_intent_kind kind;
	int thing;               /* II_REFLECTION */
	const char *url;         /* one of the message's links, or url_buf; NULL if none */
	char url_buf[INBOX_MAX_URL + 1]; /* II_BLOG from a host name written without
	                          * a scheme ("my blog is ann.example.net"): the
	                          * "https://HOST/PATH" made of it; else "" */
	char token[TOKEN_HEX_LEN + 1]; /* II_CONFIRM, II_UNSUBSCRIBE, II_BOUNCE (VERP); "" if none */
	const char *reason;      /* a short static explanation, for the log and the store */
	int64_t ticket;          /* II_TICKET_REPLY, II_COMMAND: ctx->ticket */
	char address[ADDR_MAX + 1]; /* II_ALTERNATE: normalized, "" to clear it */
};

/* Decides what m asks for (the rules, in order, are at the top of
 * classify.c).  Pure: reads m and ctx only, never fails.  out->url points
 * into m->links (valid while m lives) or, for an II_BLOG whose message has
 * no link but names one host (classify_host.c), at out->url_buf (valid
 * while *out lives); it may be NULL even for II_REFLECTION (a +done-N
 * without a link); out->reason is static.
 * ctx->address may be NULL or "": then no plus-address command matches. */
void inbox_classify(const struct inbox_message *m, const struct inbox_context *ctx,
    struct inbox_intent *out);

/* --- the run ----------------------------------------------------------- */

/* The largest message inbox_poll downloads when cfg.inbox_max_kib is 0
 * (the config's own default is the same); a larger one is recorded as
 * "oversize", its sender gets a short answer (kind DK_OVERSIZE), the
 * organisers a notice (DK_FAILED_NOTICE), and it is filed as failed.  The
 * limit is never above INBOX_MAX_RAW. */
#define INBOX_MAX_MESSAGE_DEFAULT ((size_t)10 << 20)

/* The readable text kept with an inbound record (for forwards). */
#define INBOX_BODY_TEXT_MAX ((size_t)64 << 10)

struct inbox_stats {
	size_t listed;       /* waiting in the inbox at the start of the run */
	size_t fetched;
	size_t processed;
	size_t duplicates;   /* already recorded: only moved/flagged again */
	size_t failed;       /* could not be parsed or acted on: filed as failed */
	size_t oversize;     /* over the size limit: answered, filed as failed */
	size_t intents[II_COUNT];
};

/* Fetches every new message from the programme's inbox (p->cfg.imap_url:
 * IMAP or a Maildir) and handles it: recorded in the store with what it
 * caused (state changes, answers and forwards queued with due_at = now;
 * nothing is sent here), then filed as p->cfg says: moved into
 * cfg.inbox_processed or cfg.inbox_failed, or flagged in place
 * (cfg.inbox_flag_only).
 *
 * Messages go in batches (at most INBOX_BATCH messages or 16 MiB of
 * mail; IMAP fetches bodies 50 to a round trip): everything that needs the
 * network (the bodies, the feed of a blog being registered) is done
 * first, then the batch is handled in
 * ONE store transaction (each message under its own savepoint, so that a
 * message that fails to be handled is undone alone and recorded as failed)
 * together with the mailbox position, committed, and only then filed (one
 * command per outcome).  Durability: a crash before the commit loses the
 * whole batch's records, but none of its messages was filed yet, so the
 * next run handles them again from scratch; a crash after the commit
 * leaves filed-or-not messages that the store knows (by source key or
 * Message-ID), which the next run only files.  So a message is processed
 * at most once and never lost, with one synchronous commit per batch
 * instead of one per message.
 *
 * A message that cannot be handled is recorded as "failed" with the
 * reason, the organisers get a notice saying it and where the message
 * is, and it is filed as failed: never lost, never retried forever.  A
 * message that crashes Things (a bug: a library dying on hostile input)
 * is set aside the same way, unread, by the run after the second run it
 * killed (a crash crumb names it: store_crumb_enter).  If
 * the source fails midway (a dropped connection), the run stops at once
 * and returns -1 saying how many messages were done; stats count what was
 * committed, and the next run picks up from there. */
#define INBOX_BATCH 500   /* bench/RESULTS.md: 50 was twice as slow */
/* A blog a participant registers has its feed looked up in the prepare
 * phase (feeds_discover: up to two fetches, each up to the feeds
 * time-out), for at most this many messages per inbox_poll; the blogs of
 * the others are recorded without their feed, which the next feeds round
 * finds.  Nothing is fetched for a sender who is not a participant. */
#define INBOX_DISCOVERIES_MAX 10
int inbox_poll(const struct programme *p, struct store *st, int64_t now,
    struct inbox_stats *stats, struct err *e);

/* Reminds the organisers of tickets (help requests) still open
 * cfg.ticket_reminder_hours (default 48) after they were opened or last
 * reminded: one DK_TICKET_REMINDER per ticket and organiser and period,
 * queued due now, in one transaction.  *n: how many tickets were due.
 * Touches no mailbox: call it even when the inbox cannot be read. */
int inbox_remind(const struct programme *p, struct store *st, int64_t now, size_t *n,
    struct err *e);

#endif
