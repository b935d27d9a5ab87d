/*
 * mailer.h - everything Things sends: deciding what is due (the schedule),
 * composing MIME messages from content templates, and submitting them over
 * SMTP (libcurl) or into a Maildir.
 *
 * The mailer reads the programme and the store and writes only delivery
 * states (and, through the schedule, new queued deliveries).
 *
 * Messages (one per delivery, composed just before it is sent):
 *   - From "Programme Name" <programme address>; To the participant (name
 *     and address) or the organiser; RFC 2047 encoded-words for non-ASCII
 *     names and subjects, folded at 78 columns; nothing a participant wrote
 *     can add a header field or break the MIME structure.
 *   - Message-ID is the delivery's stored one (stable across retries).
 *   - Participant mail carries List-Id, List-Help and (Things, welcome,
 *     acks) List-Unsubscribe with the participant's mailto token and, when
 *     the config has unsubscribe_url, an https URL "?token=TOKEN" with
 *     List-Unsubscribe-Post (RFC 8058 one-click).
 *   - Things: Precedence: bulk, Auto-Submitted: auto-generated.  Answers to
 *     a participant's mail (delivery with an inbound message): In-Reply-To
 *     and References, Auto-Submitted: auto-replied.  Forwards to organisers
 *     (help-forward, unknown-forward): Reply-To the sender, auto-generated.
 *   - multipart/alternative: text/plain then text/html, utf-8, each in
 *     quoted-printable or base64, whichever is shorter.
 *   - Envelope sender (VERP): things+bounce-TOKEN@domain for a participant,
 *     things+bounce@domain otherwise.
 *
 * Transports (cfg.smtp_url): "smtp://[user:pw@]host[:port][/ehlo-name]"
 * (plain), "smtp+starttls://..." (STARTTLS required, never a plaintext
 * fallback), "smtps://..." (implicit TLS); certificates always verified,
 * host name included, against the system store (libcurl's CA path) and
 * cfg.smtp_ca_file when set; AUTH when the URL has a user.  Up to
 * cfg.smtp_connections connections (default 4) in parallel, each reused
 * from message to message (sharing TLS session and DNS caches), one
 * recipient per transaction.  "maildir:/path" writes each
 * message into /path/new as an MDA would (created if missing).
 *
 * Test switch: THINGS_TEST_STOP_AFTER=N in the environment makes the
 * process kill itself (SIGKILL) right after the Nth successful submission
 * of this process (SMTP 2xx after DATA, or file in new/) and before that
 * delivery is recorded as sent, so tests can prove crash recovery
 * deterministically.  Unset or empty: no effect; not a positive count:
 * ignored with a warning.
 */
#ifndef THINGS_MAILER_H
#define THINGS_MAILER_H

#include <stddef.h>
#include <stdint.h>

#include "../content/content.h"
#include "../store/store.h"
#include "../util/util.h"

struct mailer;

struct mailer_stats {
	size_t enqueued;   /* new deliveries queued by the schedule */
	size_t recovered;  /* left "sending" by a crashed run, queued again */
	size_t sent;
	size_t deferred;
	size_t failed;
	size_t held;       /* new deliveries queued held by the schedule (too late) */
	size_t digests;    /* of enqueued: weekly digests */
	size_t feed_notices; /* of enqueued: "your blog's feed stopped working" */
	size_t bounces;    /* failures counted against a participant's address */
	size_t suspended;  /* participants suspended by those bounces */
};

/* A mailer for one run.  p and st must outlive it.  Rendered templates are
 * cached in it (one per kind, one per Thing) until mailer_free. */
int mailer_new(const struct programme *p, struct store *st, struct mailer **out,
    struct err *e);
void mailer_free(struct mailer *m);

/* Queues what is due at now: each Thing, for each active participant, at
 * the Thing's due time for that participant.
 *
 * Due times.  "Joined" is when the participant last became active (their
 * confirmation, or their return after leaving or a suspension).
 *   - Cohort mode: a Thing released (release_at, [schedule] overrides
 *     included) at or after they joined is due at its release.  The Things
 *     released before they joined and not queued for them by then (the
 *     back catalogue) are due one every cfg.catch_up_days days from joining,
 *     in Thing order: the first when they join, the next catch_up_days
 *     later, and so on (catch_up_days 0: all when they join); each is so
 *     after its own release.  Things released after joining go at their
 *     release, except one that would overtake the end of a slow catch-up:
 *     it follows the Thing before it by catch_up_days, so that Things
 *     arrive in order.
 *   - Self-paced mode: Thing N is due at confirmed_at + (N - 1) *
 *     interval_days ([schedule] overrides do not apply); Things that fell
 *     due while they were away are a back catalogue, paced as above.
 * Days are calendar days in local time (09:00 stays 09:00 across DST).
 *
 * Order: a participant never gets Thing N+1 before Thing N.  A Thing is
 * queued for them only once the Thing before it has gone: sent, or failed
 * for good (a failure does not stop the programme for them).  While it is
 * held, retried, or still in the outbox, the later ones wait, unqueued;
 * the due time of one that would overtake it (its own has passed) is
 * catch_up_days after it went (its sent_at; else its due_at), so that a
 * backlog behind a Thing that went late, was released or was retried
 * follows it in order, paced like a catch-up, and is not late itself.
 * A Thing an organiser skipped (store_delivery_skip_held: failed, due_at
 * the skip) reached nobody: the later ones are due no earlier than the
 * skip, the first of them then (the next run) with no gap for it, the rest
 * paced from there.  Those waiting only for a Thing this run sends go in the same run
 * (mailer_send_and_follow).
 *
 * A Thing is queued by the first run at or after its due time, never ahead,
 * with due_at = that due time.  If that run is more than
 * cfg.max_lateness_hours after the due time (runs stopped: downtime), the
 * delivery is queued held (DS_HELD: never sent until released with
 * store_delivery_release_held) unless cfg.send_late, and the participant's
 * later Things wait behind it; lateness is always measured from the
 * participant's own due time, so a back-catalogue Thing queued when they
 * join is not late.  Each Thing that gets held deliveries in a run also
 * gets one DK_HELD_NOTICE per organiser (key "N-ID", ID the first delivery
 * this run held), due now: a hold begins in one run (the first after the
 * downtime or the config change), so an ongoing hold is told once however
 * many runs see it (the Things that come due behind it are not held
 * themselves and tell nobody), and a separate, later hold of the same Thing
 * is told anew, whether or not the earlier one was released.  That run
 * also logs a warning per Thing held, with the number of later deliveries
 * due that wait behind it.  A hold left as it is stops those participants
 * there, so it is told again: a Thing that active participants have held
 * from before the run, with no late-notice about it (the first, or a
 * reminder) for 7 days, gets one reminder per organiser (DK_HELD_NOTICE,
 * key "N-rDAYS-NOW", DAYS since the oldest was held) and a warning in the
 * log: once a week per Thing while it lasts.  max_lateness_hours <= 0 (a programme built by
 * hand; the config's minimum is 1) holds nothing.  Deliveries already
 * queued are never held here: one that is late because sending failed is
 * the retry policy's.
 *
 * Idempotent: a delivery once made is never moved, remade or duplicated
 * (one per participant and Thing), and due times depend only on the config,
 * the participant and their deliveries so far.  A config change (dates,
 * interval_days, catch_up_days, mode) therefore changes only what is not
 * queued yet, computed anew; if that puts a due time more than
 * max_lateness_hours in the past, it is held and the organisers are told,
 * as after downtime.
 *
 * One transaction.  stats->enqueued counts the new queued deliveries
 * (notices included), stats->held the new held ones.  Only Things and
 * notices are scheduled: the other kinds are queued by whoever decides on
 * them (the inbox). */
int mailer_schedule(struct mailer *m, int64_t now, struct mailer_stats *stats,
    struct err *e);

/* Deliveries are keyed by the Thing's number.  Checks that each Thing
 * that went out is still the same file: a Thing whose slug and title both
 * differ from what the store recorded when it first went out has been
 * renumbered (a file inserted or removed), which would send one Thing
 * twice and skip another.  Returns 0, or -1 naming the first such Thing
 * (mailer_schedule then queues no Thing).  With record set (inside the
 * caller's transaction), notes Things queued for the first time and
 * follows a change of only the slug or only the title (a typo fixed);
 * without, changes nothing. */
int mailer_check_things(struct mailer *m, int64_t now, int record, struct err *e);

/* What the schedule has yet to queue for one Thing. */
struct mailer_pending {
	int64_t waiting;   /* active participants who will get it but have not been
	                      queued it (due later, or due and the next run queues it,
	                      or kept back behind an earlier Thing of theirs) */
	int64_t next_at;   /* the earliest due time of those not blocked; 0 if none */
	int64_t blocked;   /* of waiting: behind an earlier Thing of theirs that is held
	                      (they follow it once an organiser releases it) */
	int64_t held_back; /* later Things (deliveries to be) kept back behind this
	                      Thing's held deliveries: the sum of their blocked */
	int64_t holding;   /* active participants whose delivery of it is held (they
	                      and the held_back behind them move once it is released
	                      or skipped) */
};

/* Fills out[0 .. nthings-1] for Things 1..nthings by the rules of
 * mailer_schedule, with the config as it is now; changes nothing. */
int mailer_schedule_pending(struct mailer *m, struct mailer_pending *out, struct err *e);

/* --- the weekly digest and feed notices (digest.c) ---------------------
 *
 * Once a week, at cfg.digest_weekday / digest_hour local time (from the
 * programme's start on), each active participant with something to read
 * gets one digest (kind DK_DIGEST, key = the ISO week "2027-W03") of the
 * blog posts first seen since the previous digest, other than their own:
 * grouped by Thing, each with its title (linked when http/https), author,
 * blog name and excerpt.  The window of an edition is fixed when it is
 * made (store: digest editions) and starts where the previous one ended:
 * after downtime one digest covers everything since the last, never a
 * post twice; a rerun in the same week makes nothing.  No posts by others:
 * no digest.  Bodies are built when each delivery is composed. */

/* The digest time of the week that now is in: the latest configured day
 * and hour at or before now (local time), and that day's ISO week ("%G-W%V",
 * n >= 9 bytes; week may be NULL).  0, or -1 if the local time cannot be
 * worked out. */
int mailer_digest_moment(const struct programme_config *c, int64_t now, int64_t *moment,
    char *week, size_t n);

/* 1 if this week's digest is due and not made yet (enabled, its day and
 * hour have come and are not before the programme's start), else 0; -1 on
 * a store error.  *moment gets this week's digest time either way. */
int mailer_digest_due(struct mailer *m, int64_t now, int64_t *moment, struct err *e);

/* Makes this week's edition when due, queueing its deliveries, all in one
 * transaction (due now); stats->digests and enqueued count them.  Call it
 * after fetching the feeds, holding the run lock. */
int mailer_schedule_digest(struct mailer *m, int64_t now, struct mailer_stats *stats,
    struct err *e);

/* Composes the digest participant p would get next (p need not be in the
 * store: a sample with id 0 sees every post), over the posts first seen
 * from the end of the last edition until now: raw gets the message, *text
 * and *html its parts (valid until the next call on m), week (n bytes) the
 * edition's ISO week.  Nothing is queued or recorded.  0 composed; 1
 * nothing new for p, so no digest would go out; -1 error. */
int mailer_preview_digest(struct mailer *m, const struct participant *p, int64_t now,
    struct buf *raw, const char **text, const char **html, char *week, size_t n,
    struct err *e);

/* Queues one DK_FEED_BROKEN message (key "<feed id>-<last_ok_at>") to the
 * owner of each feed that failed cfg.feeds_failures_notice times in a row
 * or is gone (store_feed_each_broken), and marks it told, in one
 * transaction: one message per breakage, however many runs see it (a
 * success in between resets it).  The message's advice follows the
 * failure (feeds_problem_of).  stats->feed_notices and enqueued count them. */
int mailer_schedule_feed_notices(struct mailer *m, int64_t now, struct mailer_stats *stats,
    struct err *e);

/* Sends every queued delivery due at now, until none is left.  Call it
 * holding the run lock: it first puts back deliveries a crashed run left
 * "sending" (stats->recovered), then works in rounds: one transaction
 * records the outcomes that came in and claims one delivery per free
 * connection; each is composed just before it goes.  An outcome is
 * recorded before its connection takes the next message, so a crash
 * duplicates at most one message per connection.  Commits use the store's
 * fast mode during the loop.  Memory does not grow with the queue.
 *
 * Outcomes: accepted -> sent.  Temporary failure (4xx, connection, TLS,
 * timeout, local I/O, a template that does not render) -> deferred 5 min,
 * then 10, 20 ... at most 12 h apart; failed once the delays add up to 3
 * days (13 attempts).  A 5xx to the recipient or the message -> failed.  A
 * 5xx to the connection, EHLO, AUTH or MAIL FROM concerns every message, so
 * it is temporary.  A Thing whose participant is no longer active -> failed
 * ("not sent: participant is unsubscribed").  When failures that concern
 * no message in particular come 2 x connections + 1 times in a row, the run
 * stops taking new work (the rest stays queued for the next run).
 *
 * Bounces: a 5xx to a participant's recipient or message counts a hard
 * bounce against them, unless its status is 5.7.x (a policy refusal); a
 * per-recipient 4xx given up after 3 days counts a soft one
 * (store_participant_bounce, with cfg.bounce_threshold/_stale_days).  A
 * participant suspended by it gets no more Things; the organisers' notices
 * go out in the same run.  stats->bounces and ->suspended count them.
 *
 * Pacing: at most cfg.smtp_max_per_minute messages start in any minute
 * (evenly spaced), and a connection is closed (QUIT) and replaced after
 * cfg.smtp_max_per_connection messages (0: no limit, for either).  While
 * it lasts more than a second, a send shows a progress bar on stderr if
 * stderr is a terminal; under cron nothing but warnings and errors.
 *
 * Only an error of the store (or an unusable smtp_url) makes it return -1;
 * deliveries then left "sending" are recovered by the next run. */
int mailer_send_due(struct mailer *m, int64_t now, struct mailer_stats *stats,
    struct err *e);

/* mailer_send_due, then, as long as the last mailer_schedule on m left due
 * Things waiting only for the Thing before them to be sent and this send
 * sent something, mailer_schedule and mailer_send_due again (at most
 * nthings more times): a backlog due at once (catch_up_days 0, send_late)
 * goes in this run, each Thing after the one before it was accepted.  The
 * run's sender uses this; stats adds up every round. */
int mailer_send_and_follow(struct mailer *m, int64_t now, struct mailer_stats *stats,
    struct err *e);

/* Composes delivery d (any kind) into out (reset first): a complete RFC
 * 5322 message with CRLF line ends, ready for SMTP DATA, exactly as
 * mailer_send_due would send it now (Date is time_now()).  Reads the
 * participant and the inbound message from the store; composes even when
 * the participant is no longer active.  For previews and tests too. */
int mailer_compose(struct mailer *m, const struct delivery *d, struct buf *out,
    struct err *e);

/* Composes Thing n as participant p would get it; p need not be in the
 * store (previews use a sample participant).  raw (reset first) gets the
 * whole message; *text and *html point at its two rendered parts, valid
 * until the next call on m.  Nothing is queued or recorded. */
int mailer_preview_thing(struct mailer *m, int n, const struct participant *p,
    struct buf *raw, const char **text, const char **html, struct err *e);

#endif
