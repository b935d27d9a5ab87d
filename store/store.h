/*
 * store.h - everything Things knows, in one SQLite database.
 *
 * The store is the only shared state between the inbox (which writes what
 * arrived), the content/scheduler (which decides what is due) and the mailer
 * (which sends what is queued).  It is safe under overlapping cron runs
 * (WAL, busy_timeout, BEGIN IMMEDIATE, a run lock) and under crashes (every
 * state change is one transaction; a delivery is "sending" from before the
 * SMTP transaction until after it).
 *
 * Conventions: functions return 0 on success and -1 on error with a reason
 * in *e; "lookup" functions return 1 for "not found", "add" functions return
 * 1 for "already there" (and fill in the existing row where they take an out
 * parameter).  Strings passed in are copied; structs handed out are plain
 * values owned by the caller (fixed-size fields, nothing to free) unless a
 * _free function is named.
 */
#ifndef THINGS_STORE_H
#define THINGS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "../util/util.h"

struct store;

#define STORE_NAME_MAX 128     /* display names, bytes of UTF-8 */
#define STORE_URL_MAX 1024
#define STORE_KIND_MAX 32
#define STORE_KEY_MAX 96
#define STORE_MSGID_MAX 256    /* without angle brackets */
#define STORE_REASON_MAX 300

/* --- opening, transactions, the run lock ------------------------------- */

/* Opens (creating if needed) the database at path and brings its schema up
 * to date (migrations keyed on PRAGMA user_version, each in one
 * BEGIN IMMEDIATE).  Refuses a database written by a newer Things. */
int store_open(const char *path, struct store **out, struct err *e);
void store_close(struct store *st);

/* Explicit transactions (BEGIN IMMEDIATE).  Functions below that change
 * several rows take care of their own transaction when none is open, and
 * join the caller's otherwise. */
int store_begin(struct store *st, struct err *e);
int store_commit(struct store *st, struct err *e);
void store_rollback(struct store *st);

/* Fast mode trades power-loss durability of the following commits for speed
 * (synchronous=NORMAL; a crashed process still loses nothing in WAL mode).
 * The mailer uses it for "sent" marks: a mark lost to a power cut means at
 * most a duplicate, never a lost message.  Off by default. */
int store_set_fast(struct store *st, int fast, struct err *e);

/* Takes an exclusive, non-blocking lock on "<path>.lock" so that two cron
 * runs never work at once.  Returns 0 with *fd set, 1 if another run holds
 * it, -1 on error.  store_run_unlock(fd) releases it; so does exiting. */
int store_run_lock(const char *path, int *fd, struct err *e);
void store_run_unlock(int fd);

/* Crash breadcrumbs: which untrusted input (a message, a feed) a run had
 * in hand when it died, so that an input that crashes Things stops a
 * bounded number of runs, not every run forever.  Kept in "<path>.crumb"
 * beside the database (in memory for a store without a file), written
 * without fsync: it outlives the process, not the machine.  One run at a
 * time uses it (the run lock).  Keys are one line, < STORE_CRUMB_MAX.
 *
 * store_crumb_enter: key is in hand from now on.  Returns 1, with nothing
 * in hand, when `limit` runs in a row have died with this key in hand: the
 * caller sets the input aside instead of handling it.  Else 0 (or -1).
 * Entering the same key again in the same run counts no new death.
 * store_crumb_leave: nothing is in hand.  0 or -1.
 * store_crumb_prepare: reads what the last run left (enter and leave do it
 * on first use).  After it, enter and leave touch only the crumb file, never
 * the database: one other thread may use them while this one uses st (one
 * thread at a time for the crumb).  0 or -1. */
#define STORE_CRUMB_MAX 512
int store_crumb_enter(struct store *st, const char *key, int limit, struct err *e);
int store_crumb_leave(struct store *st, struct err *e);
int store_crumb_prepare(struct store *st, struct err *e);
/* store_crumb_guard (after store_crumb_prepare), for a crumb that one
 * thread holds while others run: until store_crumb_unguard, a fatal signal
 * (SEGV, BUS, FPE, ILL, ABRT) on a thread other than the one that last
 * entered the crumb clears it before the process dies as it would have,
 * so that a death elsewhere is not counted against the input in hand.  One
 * guard at a time in a process; nothing for a store without a file. */
void store_crumb_guard(struct store *st);
void store_crumb_unguard(void);

/* --- participants ------------------------------------------------------ */

enum participant_status {
	PS_PENDING,      /* asked to join, has not confirmed */
	PS_ACTIVE,
	PS_UNSUBSCRIBED,
	PS_SUSPENDED,    /* too many bounces */
};

struct participant {
	int64_t id;
	char address[ADDR_MAX + 1];          /* normalized, lowercase */
	char name[STORE_NAME_MAX + 1];       /* may be "" */
	enum participant_status status;
	char token[TOKEN_HEX_LEN + 1];       /* secret: unsubscribe links, VERP */
	char confirm_token[TOKEN_HEX_LEN + 1]; /* "" unless pending */
	char blog_url[STORE_URL_MAX + 1];    /* "" if none */
	char feed_url[STORE_URL_MAX + 1];    /* "" if none found yet */
	int64_t created_at;
	int64_t confirmed_at;                /* 0 unless active at some point */
	int64_t status_at;                   /* when the status last changed (for an
	                                        active one: when they last became active) */
	double bounce_score;                 /* see store_participant_bounce */
	int64_t bounce_at;                   /* the last bounce counted; 0: none */
	char bounce_reason[STORE_REASON_MAX + 1]; /* what it said; "" if none */
	char alt_address[ADDR_MAX + 1];      /* another address of theirs, normalized: told
	                                        when they are suspended; "" if none */
	char alt_pending[ADDR_MAX + 1];      /* an alternate asked for by mail, not yet
	                                        confirmed from that address; "" if none */
	char alt_token[TOKEN_HEX_LEN + 1];   /* its confirmation token; "" if none */
	int64_t alt_requested_at;            /* when alt_pending was asked for; 0: never */
};

const char *participant_status_name(enum participant_status s);

/* Adds a participant.  address must be normalized (addr_normalize); name is
 * squashed to one line and truncated to STORE_NAME_MAX bytes at a UTF-8
 * boundary.  New participants get a fresh token, and a confirm_token when
 * status is PS_PENDING.  Returns 0 if added, 1 if the address was already
 * there (out then holds the existing row, unchanged). */
int store_participant_add(struct store *st, const char *address, const char *name,
    enum participant_status status, int64_t now, struct participant *out, struct err *e);

/* Lookups: 0 found, 1 not found, -1 error. */
int store_participant_by_id(struct store *st, int64_t id, struct participant *out, struct err *e);
int store_participant_by_address(struct store *st, const char *address,
    struct participant *out, struct err *e);
int store_participant_by_token(struct store *st, const char *token,
    struct participant *out, struct err *e);
int store_participant_by_confirm_token(struct store *st, const char *token,
    struct participant *out, struct err *e);

/* Makes a participant active (confirming a pending one, or re-subscribing),
 * clears the confirm token, sets confirmed_at to now if it was 0, and
 * clears the bounce score (a participant who comes back starts afresh). */
int store_participant_activate(struct store *st, int64_t id, int64_t now, struct err *e);
/* Gives a participant (pending, or one re-subscribing) a new confirm token,
 * written into token_out (TOKEN_HEX_LEN + 1 bytes). */
int store_participant_new_confirm_token(struct store *st, int64_t id, char *token_out,
    struct err *e);
int store_participant_set_status(struct store *st, int64_t id, enum participant_status s,
    int64_t now, struct err *e);
int store_participant_set_name(struct store *st, int64_t id, const char *name, struct err *e);
/* Records a blog URL (and its feed, "" if not known yet). */
int store_participant_set_blog(struct store *st, int64_t id, const char *blog_url,
    const char *feed_url, struct err *e);

/* Alternate addresses.  Each takes alt in any case (it is normalized here
 * with addr_normalize) and refuses a malformed one or the participant's
 * own address.
 *
 * set_alt: an organiser's decision, at once: alt becomes the alternate
 * address ("" clears it), and any pending request is dropped;
 * alt_requested_at stays (the hourly limit on requests counts from it).
 * request_alt: a participant's request by mail, which the alternate
 * address has to confirm: alt_pending = alt, a fresh alt_token (written
 * into token_out, TOKEN_HEX_LEN + 1 bytes), alt_requested_at = now, the
 * alternate address unchanged (a new request replaces an older one).
 * confirm_alt: the pending request becomes the alternate address and is
 * cleared; 0 done, 1 nothing was pending.
 * by_alt_token: 0 found, 1 not found. */
int store_participant_set_alt(struct store *st, int64_t id, const char *alt, struct err *e);
int store_participant_request_alt(struct store *st, int64_t id, const char *alt, int64_t now,
    char *token_out, struct err *e);
int store_participant_confirm_alt(struct store *st, int64_t id, struct err *e);
int store_participant_by_alt_token(struct store *st, const char *token,
    struct participant *out, struct err *e);

/* Calls fn for each participant with the given status (or every
 * participant when status is -1), in id order.  fn returns 0 to go on, or
 * non-zero to stop (that value is returned). */
typedef int (*participant_fn)(void *arg, const struct participant *p);
int store_participant_each(struct store *st, int status, participant_fn fn, void *arg,
    struct err *e);
int store_participant_count(struct store *st, int status, int64_t *n, struct err *e);

/* --- the outbox: every message Things sends ---------------------------- */

/* Kinds of message, stored as text.  The mailer composes each kind from the
 * template of the same name. */
#define DK_THING "thing"                 /* key: the Thing number */
#define DK_CONFIRM "confirm"             /* double opt-in request; key: token */
#define DK_WELCOME "welcome"             /* after confirmation; key: inbound id */
#define DK_REFLECTION_ACK "reflection-ack" /* key: inbound id */
#define DK_HELP_ACK "help-ack"           /* key: inbound id */
#define DK_HELP_FORWARD "help-forward"   /* to organisers; key: inbound id */
#define DK_UNKNOWN_FORWARD "unknown-forward" /* to organisers; key: inbound id */
#define DK_UNSUB_CONFIRM "unsubscribe-confirm" /* key: token */
#define DK_GOODBYE "goodbye"             /* unsubscribed; key: inbound id */
#define DK_BLOG_ACK "blog-ack"           /* key: inbound id */
#define DK_SUSPENDED "suspended"         /* to organisers: a participant suspended
                                          * for bounces; key: "PARTICIPANT_ID.TIME" */
#define DK_HELD_NOTICE "late-notice"     /* to organisers: Thing N held because it is
                                            late; key "N-ID", ID the first delivery held */
#define DK_DIGEST "digest"               /* key: the edition's ISO week, "2027-W03" */
#define DK_FEED_BROKEN "feed-broken"     /* key: "<feed id>-<its last_ok_at>" */
#define DK_OVERSIZE "oversize"           /* "too large to read"; key: inbound id */
#define DK_FAILED_NOTICE "failed-notice" /* to organisers: a message that could not
                                          * be handled (or was too large); key: inbound id */
#define DK_TICKET_REMINDER "ticket-reminder" /* to organisers; key: "TICKET-N", the
                                          * Nth reminder of that ticket */
#define DK_COMMAND_ANSWER "command-answer" /* to an organiser: the results of the
                                          * commands in their mail; key: inbound id */
#define DK_ALT_CONFIRM "alternate-confirm" /* to an alternate address a participant asked
                                          * for: confirm it; key: its alt_token */
#define DK_ALT_ACK "alternate-ack"       /* to the participant: their alternate address
                                          * was "requested", "confirmed" or "cleared";
                                          * key: "WHAT-INBOUND_ID" */
#define DK_CERTIFICATE "certificate"     /* completion; key: the certificate's number */
#define DK_SUSPENDED_ALT "suspended-alternate" /* to a participant suspended for bounces,
                                          * at their alternate address; key as
                                          * DK_SUSPENDED's */

enum delivery_state {
	DS_QUEUED,
	DS_SENDING,   /* claimed by a run: SMTP may be under way */
	DS_SENT,
	DS_DEFERRED,  /* temporary failure; retried at due_at */
	DS_FAILED,    /* permanent failure */
	DS_HELD,      /* too late to send blindly; waits for an organiser */
};

const char *delivery_state_name(enum delivery_state s);

struct delivery_request {
	int64_t participant_id;   /* 0 for mail to non-participants (organisers) */
	const char *recipient;    /* normalized address */
	const char *kind;         /* DK_* */
	const char *key;          /* unique per recipient and kind */
	int64_t due_at;
	int64_t inbound_id;       /* the message this answers or forwards, or 0 */
	const char *msgid_domain; /* the domain of the Message-ID to mint */
	enum delivery_state state; /* initial state: DS_QUEUED (0, the default) or
	                              DS_HELD (sent only once released) */
};

struct delivery {
	int64_t id;
	int64_t participant_id;
	int64_t inbound_id;
	char recipient[ADDR_MAX + 1];
	char kind[STORE_KIND_MAX + 1];
	char key[STORE_KEY_MAX + 1];
	char message_id[STORE_MSGID_MAX + 1]; /* fixed at enqueue: stable across retries */
	enum delivery_state state;
	int attempts;                          /* including the current claim */
	int64_t due_at;
	int64_t sent_at;
	char last_error[STORE_REASON_MAX + 1];
};

/* Queues a message, in r->state (DS_QUEUED or DS_HELD; any other state is
 * refused).  Unique per (recipient, kind, key): a second enqueue is a no-op
 * that returns 1 (with *id set to the existing row, whatever its state).
 * The Message-ID is minted here, once, so that a resend carries the same
 * one. */
int store_delivery_enqueue(struct store *st, const struct delivery_request *r, int64_t now,
    int64_t *id, struct err *e);

/* Moves up to max queued or deferred deliveries whose due_at <= now to
 * "sending" (attempts + 1) and copies them into out[]; *n is how many.
 * Oldest due first.  One transaction. */
int store_delivery_claim(struct store *st, int64_t now, size_t max, struct delivery *out,
    size_t *n, struct err *e);
int store_delivery_mark_sent(struct store *st, int64_t id, int64_t now, struct err *e);
int store_delivery_mark_deferred(struct store *st, int64_t id, int64_t retry_at,
    const char *reason, struct err *e);
int store_delivery_mark_failed(struct store *st, int64_t id, const char *reason, struct err *e);

/* After a crash, deliveries may be left in "sending".  Call this only while
 * holding the run lock: no other run can be sending them, so they go back
 * to "queued" with last_error STORE_RECOVERED (they may have reached the
 * server: at most those in flight at the crash are sent twice).  *n: how
 * many were recovered. */
#define STORE_RECOVERED "recovered after an interrupted run"
int store_delivery_recover(struct store *st, int64_t *n, struct err *e);

/* Lookups: 0 found, 1 not found. */
int store_delivery_by_message_id(struct store *st, const char *message_id,
    struct delivery *out, struct err *e);
int store_delivery_get(struct store *st, int64_t id, struct delivery *out, struct err *e);
int store_delivery_find(struct store *st, const char *recipient, const char *kind,
    const char *key, struct delivery *out, struct err *e);

/* Counts deliveries of a kind (NULL: all kinds) in a state (-1: any). */
int store_delivery_count(struct store *st, const char *kind, int state, int64_t *n,
    struct err *e);
/* Counts the queued and deferred deliveries due at now: what
 * store_delivery_claim would hand out (for progress reports). */
int store_delivery_count_due(struct store *st, int64_t now, int64_t *n, struct err *e);

/* --- bounces ------------------------------------------------------------ */

/* How a failed delivery counts against its address. */
enum bounce_severity {
	BOUNCE_NONE,   /* not a sign of a dead address: not counted */
	BOUNCE_SOFT,   /* temporary (4.x.x): +0.5 */
	BOUNCE_HARD,   /* permanent (5.x.x): +1 */
};

/* Classifies a failure by its RFC 3463 status ("5.1.1"; NULL or "" if
 * none), else by its SMTP reply code (0 if none), else -- a bounce with
 * neither, e.g. a plain-text report to the VERP address -- as soft.
 * X.7.X (security or policy: a spam block, a relay refusal) is
 * BOUNCE_NONE, as is a DSN whose action (lowercase; NULL or "" if none)
 * is not "failed" ("delayed" is a warning, "delivered" a success). */
enum bounce_severity bounce_severity_of(const char *status, int smtp_code,
    const char *dsn_action);

/* The scoring rule, as mature list servers have it: a bounce within a day
 * of the last one counted is not counted again (*counted = 0, score
 * unchanged); a score whose last bounce is stale_days or more old starts
 * again from 0; then hard adds 1, soft 0.5.  last_at 0: never bounced. */
double bounce_score_next(double score, int64_t last_at, int64_t now,
    enum bounce_severity sev, int stale_days, int *counted);

struct bounce_policy {
	double threshold;               /* a score this high suspends (cfg.bounce_threshold) */
	int stale_days;                 /* cfg.bounce_stale_days */
	const char *const *organisers;  /* told of each suspension */
	size_t norganisers;
	const char *msgid_domain;       /* for the notices' Message-IDs */
};

struct bounce_outcome {
	int counted;       /* 0: BOUNCE_NONE, or one was counted within the day */
	double score;      /* the participant's score after this bounce */
	int suspended;     /* this bounce suspended an active participant */
};

/* Counts a bounce of mail to the participant (bounce_score_next; reason,
 * clipped to one line, is kept as bounce_reason).  When the score reaches
 * pol->threshold and the participant is active, suspends them (no more
 * Things) and queues a DK_SUSPENDED notice to each organiser and, if
 * they have an alternate address, a DK_SUSPENDED_ALT to it (participant_id
 * set, recipient the alternate address), once per suspension.  One
 * transaction, or the caller's.  BOUNCE_NONE
 * changes nothing. */
int store_participant_bounce(struct store *st, int64_t participant_id,
    enum bounce_severity sev, const char *reason, int64_t now,
    const struct bounce_policy *pol, struct bounce_outcome *out, struct err *e);
/* The same, for one key of the kind too (key NULL: any key). */
int store_delivery_count_key(struct store *st, const char *kind, const char *key, int state,
    int64_t *n, struct err *e);

/* An organiser's decision: the held deliveries of kind (NULL: every kind)
 * with key (NULL: every key) become queued, due at now, so that the next
 * send sends them.  *n: how many.  Only held ones change: releasing twice
 * releases nothing the second time.  One statement (atomic). */
int store_delivery_release_held(struct store *st, const char *kind, const char *key,
    int64_t now, int64_t *n, struct err *e);

/* The last_error of a delivery an organiser skipped. */
#define STORE_SKIPPED "skipped by an organiser"

/* The other decision: the held deliveries of kind (NULL: every kind) with
 * key (NULL: every key) are never sent: they become failed for good, due_at
 * now (when they were skipped: what the schedule paces the next from),
 * last_error STORE_SKIPPED.  *n: how many.  Only held ones change.  One
 * statement (atomic). */
int store_delivery_skip_held(struct store *st, const char *kind, const char *key,
    int64_t now, int64_t *n, struct err *e);

/* When the last delivery of kind whose key begins with prefix was queued:
 * *at, 0 if there is none (the schedule: the last late-notice of a Thing,
 * prefix "N-"). */
int store_delivery_last_queued(struct store *st, const char *kind, const char *prefix,
    int64_t *at, struct err *e);

/* For the schedule: when each Thing was queued for a participant.
 * created[n - 1] (n = 1..nthings) gets the created time of the
 * participant's delivery of Thing n, or 0 when there is none; deliveries
 * of Things beyond nthings are ignored. */
int store_thing_deliveries(struct store *st, int64_t participant_id, int nthings,
    int64_t *created, struct err *e);

/* A participant's delivery of one Thing, as the schedule sees it. */
struct thing_delivery {
	int64_t created_at;        /* when it was queued; 0: there is none */
	enum delivery_state state;
	int64_t due_at;            /* (a deferred one's: its next attempt) */
	int64_t sent_at;           /* 0 unless sent */
	int skipped;               /* failed because an organiser skipped it (due_at:
	                              when) */
};

/* The same as store_thing_deliveries with each delivery's state and times:
 * out[n - 1] for Thing n, created_at 0 (and the rest 0) when there is
 * none.  The schedule keeps a participant's Things in order with it. */
int store_thing_delivery_rows(struct store *st, int64_t participant_id, int nthings,
    struct thing_delivery *out, struct err *e);

/* --- inbound messages -------------------------------------------------- */

/* Where a message came from: source is the mailbox ("imap://user@host/INBOX"
 * or "maildir:/path"), source_key names it there ("UIDVALIDITY:UID" for
 * IMAP, the unique file name for Maildir). */
struct inbound_record {
	const char *source;
	const char *source_key;
	const char *message_id;   /* without brackets; never NULL (synthesize one) */
	const char *sender;       /* normalized From address, "" if none */
	const char *subject;      /* decoded, one line */
	const char *intent;       /* what the classifier decided, as text */
	int64_t participant_id;   /* 0 if not from a participant */
	int thing;                /* 0 if none */
	const char *detail;       /* a URL, a reason; may be NULL */
	const char *body_text;    /* the readable text, for forwarding; may be NULL */
	int64_t received_at;
};

/* 1 if a message with this source_key in this source, or with this
 * Message-ID, was already recorded; else 0.  (-1 on error.) */
int store_inbound_known(struct store *st, const char *source, const char *source_key,
    const char *message_id, struct err *e);
/* Records a processed message.  0 added (*id set), 1 already known. */
int store_inbound_add(struct store *st, const struct inbound_record *r, int64_t *id,
    struct err *e);

/* A recorded message, for composing answers and forwards.  Strings are
 * owned by the struct: release with store_inbound_free. */
struct inbound {
	int64_t id;
	char *message_id;
	char *sender;
	char *subject;
	char *intent;
	int64_t participant_id;
	int thing;
	char *detail;
	char *body_text;
	int64_t received_at;
};
int store_inbound_get(struct store *st, int64_t id, struct inbound *out, struct err *e);
void store_inbound_free(struct inbound *in);
int store_inbound_count(struct store *st, const char *intent, int64_t *n, struct err *e);

/* IMAP bookkeeping: the UIDVALIDITY seen last and the highest UID done.
 * 0 found, 1 never seen. */
int store_mailbox_get(struct store *st, const char *source, uint32_t *uidvalidity,
    uint32_t *last_uid, struct err *e);
int store_mailbox_set(struct store *st, const char *source, uint32_t uidvalidity,
    uint32_t last_uid, struct err *e);

/* --- reflections ------------------------------------------------------- */

/* Records that a participant reflected on a Thing at url.  0 added, 1 the
 * same (participant, thing, url) was there already. */
int store_reflection_add(struct store *st, int64_t participant_id, int thing,
    const char *url, int64_t inbound_id, int64_t now, struct err *e);
/* How many distinct Things the participant has reflected on. */
int store_reflection_things(struct store *st, int64_t participant_id, int *n, struct err *e);
int store_reflection_count(struct store *st, int64_t *n, struct err *e);

/* --- certificates of completion --------------------------------------- */

struct certificate {
	int64_t number;          /* the certificate's number (its row id) */
	int64_t participant_id;
	int things;              /* how many Things it certifies */
	int64_t issued_at;
};

/* Issues the participant's certificate (one per participant, ever):
 * 0 issued now, 1 they had one already; *out is the certificate either
 * way.  store_certificate_get: 0 found, 1 none. */
int store_certificate_issue(struct store *st, int64_t participant_id, int things, int64_t now,
    struct certificate *out, struct err *e);
int store_certificate_get(struct store *st, int64_t participant_id, struct certificate *out,
    struct err *e);

/* --- the Things as they went out --------------------------------------- */

/* What Thing `number` was when it first went out (or was last confirmed
 * the same), for noticing renumbered files.  _get: 0 found (slug, title
 * filled, cut to fit), 1 none.  _set: records or replaces it.  _queued:
 * *any = 1 if a delivery of Thing number was ever queued. */
int store_thing_sent_get(struct store *st, int number, char *slug, size_t slug_n, char *title,
    size_t title_n, struct err *e);
int store_thing_sent_set(struct store *st, int number, const char *slug, const char *title,
    int64_t now, struct err *e);
int store_thing_queued(struct store *st, int number, int *any, struct err *e);

/* --- reports ----------------------------------------------------------- */

struct thing_stats {
	int thing;
	int64_t queued;    /* queued, sending or deferred */
	int64_t sent;
	int64_t failed;
	int64_t skipped;   /* of failed: skipped by an organiser (STORE_SKIPPED) */
	int64_t held;
	int64_t reflections; /* participants who reflected on it */
};

/* Fills stats[0 .. nthings-1] for Things 1..nthings. */
int store_thing_stats(struct store *st, int nthings, struct thing_stats *stats, struct err *e);

/* The outbox of one Thing at a given time, for `things status`. */
struct thing_outbox {
	int thing;
	int64_t due;       /* queued, due_at <= now */
	int64_t later;     /* queued, due_at > now */
	int64_t sending;
	int64_t sent;
	int64_t deferred;
	int64_t failed;
	int64_t skipped;   /* of failed: skipped by an organiser (STORE_SKIPPED) */
	int64_t held;
};

/* Fills out[0 .. nthings-1] for Things 1..nthings as of now (deliveries of
 * Things no longer in the programme are left out). */
int store_thing_outbox(struct store *st, int64_t now, int nthings, struct thing_outbox *out,
    struct err *e);

struct participant_progress {
	struct participant p;
	int things_sent;
	int reflections;     /* distinct Things reflected on */
	int64_t certificate; /* its number, 0: none */
	int64_t certified_at;
};
typedef int (*progress_fn)(void *arg, const struct participant_progress *pp);
int store_progress_each(struct store *st, progress_fn fn, void *arg, struct err *e);

/* --- feeds and posts (written by feeds/, read by the mailer and reports) */

#define STORE_ETAG_MAX 256
#define STORE_TITLE_MAX 300      /* bytes of UTF-8 */
#define STORE_EXCERPT_MAX 1280   /* bytes: ~300 characters of UTF-8 */
#define STORE_ENTRY_KEY_MAX 512  /* feeds/ hashes longer keys */

enum feed_status {
	FS_ACTIVE,    /* fetched by feeds_poll */
	FS_GONE,      /* the server said 410 Gone: never fetched again */
	FS_REPLACED,  /* the participant registered another blog since */
};

const char *feed_status_name(enum feed_status s);

/* A participant's blog feed and how fetching it went. */
struct feed {
	int64_t id;
	int64_t participant_id;
	char url[STORE_URL_MAX + 1];
	char etag[STORE_ETAG_MAX + 1];       /* "" if the server gave none */
	int64_t last_modified;               /* 0 if the server gave none */
	enum feed_status status;
	int failures;                        /* consecutive failed fetches */
	char last_error[STORE_REASON_MAX + 1]; /* "" after a success */
	int64_t last_ok_at;                  /* 0: never fetched successfully */
	int64_t last_fetch_at;
	int64_t told_at;                     /* owner told it is broken; 0: not told */
	int64_t created_at;
	char title[STORE_TITLE_MAX + 1];     /* the feed's own title, "" until known */
	char site_url[STORE_URL_MAX + 1];    /* the blog's page as the feed names it, "" until
	                                      * known */
};

/* Finds the participant's feed row for url, creating an active one if there
 * is none; any other active feed of the participant becomes FS_REPLACED
 * (a row for url that was replaced earlier becomes active again, keeping
 * its posts).  A row that is FS_GONE stays gone.  0 created, 1 already
 * there; out holds the row either way.  url: http(s), no control
 * characters, at most STORE_URL_MAX bytes. */
int store_feed_ensure(struct store *st, int64_t participant_id, const char *url, int64_t now,
    struct feed *out, struct err *e);
/* 0 found, 1 not found. */
int store_feed_get(struct store *st, int64_t id, struct feed *out, struct err *e);

/* A fetch succeeded (200 or 304): failures and last_error reset, told_at
 * reset (a later breakage is told again), last_ok_at = now; the validators
 * for the next conditional GET are replaced by etag ("" for none) and
 * last_modified (0 for none). */
int store_feed_fetch_ok(struct store *st, int64_t id, const char *etag, int64_t last_modified,
    int64_t now, struct err *e);
/* A fetch failed: failures + 1, last_error = reason (one line, clipped). */
int store_feed_fetch_failed(struct store *st, int64_t id, const char *reason, int64_t now,
    struct err *e);
/* A response that crashed Things was set aside: failures + 1, last_error =
 * reason, and its validators kept (etag, last_modified, as in
 * store_feed_fetch_ok) so that the next round gets a 304 while the feed
 * is unchanged instead of the same body that crashed it. */
int store_feed_set_aside(struct store *st, int64_t id, const char *etag, int64_t last_modified,
    const char *reason, int64_t now, struct err *e);
/* The feed is gone for good (410): status FS_GONE, failures + 1, reason kept. */
int store_feed_retire(struct store *st, int64_t id, const char *reason, int64_t now,
    struct err *e);
/* The feed moved (a permanent redirect, or a page that now names another
 * feed): the row keeps its id, posts and keys and takes the new url; the
 * validators are cleared. */
int store_feed_set_url(struct store *st, int64_t id, const char *url, struct err *e);
/* Records the feed's own title (the blog's name in digests), clipped to
 * STORE_TITLE_MAX bytes as one line. */
int store_feed_set_title(struct store *st, int64_t id, const char *title, struct err *e);
/* Records the blog's own page as its feed names it (the link of the blog's
 * name in digests); url: "" or http(s), at most STORE_URL_MAX bytes. */
int store_feed_set_site(struct store *st, int64_t id, const char *url, struct err *e);
/* Records that the owner was told the feed is broken (the mailer calls it
 * when it queues the "your feed is broken" mail). */
int store_feed_mark_told(struct store *st, int64_t id, int64_t now, struct err *e);

/* Calls fn for each feed (in id order) that needs its owner told: the
 * participant is active, the feed is their current one, told_at is 0, and
 * either it is active and failed at least min_failures times in a row, or
 * it is gone (410).  fn returns 0 to go on, non-zero to stop (returned). */
typedef int (*feed_fn)(void *arg, const struct feed *f);
int store_feed_each_broken(struct store *st, int min_failures, feed_fn fn, void *arg,
    struct err *e);
/* Calls fn for every feed row, in id order (for reports). */
int store_feed_each(struct store *st, feed_fn fn, void *arg, struct err *e);

/* One entry of a feed as feeds/ stores it.  Text is plain UTF-8, one line,
 * already clipped by feeds/ (the store clips again to the maxima above). */
struct post_record {
	int64_t participant_id;
	int64_t feed_id;
	const char *key;          /* guid/id, normalised link, or content hash */
	const char *title;
	const char *link;         /* absolute http(s) URL or "" */
	const char *excerpt;
	int64_t published_at;     /* 0 if the feed gave no date */
	int thing;                /* the Thing it is about, 0 if none found */
	int for_digest;           /* 0: seen, but never shown in a digest */
};

struct post {
	int64_t id;
	int64_t participant_id;
	int64_t feed_id;
	char title[STORE_TITLE_MAX + 1];
	char link[STORE_URL_MAX + 1];
	char excerpt[STORE_EXCERPT_MAX + 1];
	int64_t published_at;
	int64_t first_seen_at;
	int thing;
	int for_digest;
};

/* Stores an entry unless (feed_id, key) is already there: an entry once
 * stored is never new again, whatever its content becomes (the stored row
 * is left as it was).  0 added (*id set; id may be NULL), 1 known. */
int store_post_add(struct store *st, const struct post_record *r, int64_t now, int64_t *id,
    struct err *e);
/* 0 found, 1 not found. */
/* 1 if the feed has a post with this link and this title (a post whose
 * feed gave it a new guid), 0 if not, -1 on error. */
int store_post_seen(struct store *st, int64_t feed_id, const char *link, const char *title,
    struct err *e);
int store_post_by_key(struct store *st, int64_t feed_id, const char *key, struct post *out,
    struct err *e);
/* Posts for a digest: for_digest set, first seen in [from, to), by an
 * active participant other than exclude_participant (0: exclude nobody),
 * oldest first. */
typedef int (*post_fn)(void *arg, const struct post *p);
int store_post_each_digest(struct store *st, int64_t from, int64_t to,
    int64_t exclude_participant, post_fn fn, void *arg, struct err *e);
/* Counts posts of a feed (0: all feeds) with for_digest equal to
 * for_digest (-1: either). */
int store_post_count(struct store *st, int64_t feed_id, int for_digest, int64_t *n,
    struct err *e);

/* Calls fn(arg, thing, url) for each reflection URL the participant sent. */
typedef int (*reflection_url_fn)(void *arg, int thing, const char *url);
int store_reflection_each_url(struct store *st, int64_t participant_id, reflection_url_fn fn,
    void *arg, struct err *e);

/* --- digest editions and feed rounds ----------------------------------- */

#define STORE_WEEK_MAX 16

/* One weekly digest: the window of posts its deliveries (kind DK_DIGEST,
 * key = week) show.  The mailer makes at most one per ISO week and starts
 * each window where the previous edition's ended, so no post is in two
 * digests and none falls between them, whatever runs were missed. */
struct digest_edition {
	char week[STORE_WEEK_MAX + 1];   /* ISO 8601 week, "2027-W03" */
	int64_t window_from;             /* posts first seen in [window_from, window_to) */
	int64_t window_to;
	int64_t created_at;
	int recipients;                  /* deliveries queued for it */
	int posts;                       /* posts in its window */
};

/* Records an edition (week: 1..STORE_WEEK_MAX bytes, no control
 * characters; window_from <= window_to).  0 added, 1 that week has one
 * already (left as it was). */
int store_digest_add(struct store *st, const struct digest_edition *d, struct err *e);
/* 0 found, 1 not found. */
int store_digest_get(struct store *st, const char *week, struct digest_edition *out,
    struct err *e);
/* The edition whose window ends last: 0 found, 1 there is none yet. */
int store_digest_last(struct store *st, struct digest_edition *out, struct err *e);

/* One round of fetching every feed (feeds_poll), recorded when it ends;
 * the time of the last one decides when the next is due. */
struct feed_round {
	int64_t started_at;
	int64_t finished_at;
	int feeds;
	int not_modified;
	int failed;
	int new_posts;
};
int store_feed_round_add(struct store *st, const struct feed_round *r, struct err *e);
/* The round that started last: 0 found, 1 there was none yet. */
int store_feed_round_last(struct store *st, struct feed_round *out, struct err *e);
/* --- savepoints -------------------------------------------------------- */

/* Inside a transaction opened with store_begin: marks a point that
 * store_rollback_to returns to, undoing only what came after it (one
 * message of a batch), while the transaction stays open.  One level:
 * store_release (keep the work) or store_rollback_to (undo it) ends it. */
int store_savepoint(struct store *st, struct err *e);
int store_release(struct store *st, struct err *e);
int store_rollback_to(struct store *st, struct err *e);

/* --- answers ------------------------------------------------------------ */

/* How many messages were queued to address since `since` (created_at)
 * in answer to a message from that same address (deliveries whose inbound
 * message's sender is the recipient), whatever their kind or state.  The
 * inbox's limit on automatic answers per address per hour. */
int store_answer_count(struct store *st, const char *address, int64_t since, int64_t *n,
    struct err *e);

/* Appends note to the detail of inbound message id ("detail; note"). */
int store_inbound_note(struct store *st, int64_t id, const char *note, struct err *e);

/* --- tickets: help requests waiting for an organiser ------------------- */

enum ticket_state {
	TS_OPEN,       /* forwarded, nobody has answered yet */
	TS_ANSWERED,   /* an organiser's answer was seen */
	TS_CLOSED,     /* an organiser closed it (command or CLI) */
};

const char *ticket_state_name(enum ticket_state s);

struct ticket {
	int64_t id;                          /* the ticket number organisers see */
	int64_t inbound_id;                  /* the help request */
	int64_t participant_id;              /* 0 if the sender is no participant */
	char sender[ADDR_MAX + 1];
	char subject[STORE_TITLE_MAX + 1];
	int thing;                           /* the Thing it concerns, 0 if none */
	enum ticket_state state;
	int64_t opened_at;
	int64_t closed_at;                   /* 0 while open */
	char closed_by[ADDR_MAX + 1];        /* an organiser's address, or "cli" */
	int reminders;                       /* reminders sent so far */
	int64_t reminded_at;                 /* 0: never reminded */
};

/* Opens the ticket of help request inbound_id (one per request).  sender
 * normalized; subject clipped to STORE_TITLE_MAX bytes.  0 opened (*id
 * set), 1 the request had one already (*id: that one). */
int store_ticket_open(struct store *st, int64_t inbound_id, int64_t participant_id,
    const char *sender, const char *subject, int thing, int64_t now, int64_t *id,
    struct err *e);
/* Lookups: 0 found, 1 not found.  by_message_id finds the ticket of the
 * help request with that Message-ID (without brackets). */
int store_ticket_get(struct store *st, int64_t id, struct ticket *out, struct err *e);
int store_ticket_by_inbound(struct store *st, int64_t inbound_id, struct ticket *out,
    struct err *e);
int store_ticket_by_message_id(struct store *st, const char *message_id, struct ticket *out,
    struct err *e);
/* Ends an open ticket: state TS_ANSWERED or TS_CLOSED, by whom (one line,
 * clipped), when.  0 done, 1 no open ticket with that id. */
int store_ticket_close(struct store *st, int64_t id, enum ticket_state state, const char *by,
    int64_t now, struct err *e);
/* Counts a reminder sent now. */
int store_ticket_reminded(struct store *st, int64_t id, int64_t now, struct err *e);
/* Calls fn for each ticket in state (-1: every ticket), oldest first; fn
 * may use the store.  fn returns 0 to go on, non-zero to stop (returned). */
typedef int (*ticket_fn)(void *arg, const struct ticket *t);
int store_ticket_each(struct store *st, int state, ticket_fn fn, void *arg, struct err *e);
int store_ticket_count(struct store *st, int state, int64_t *n, struct err *e);

#endif
