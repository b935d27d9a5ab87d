/*
 * internal.h (private to mailer/) - the mailer's state, shared by
 * mailer.c, message.c, send.c and schedule.c.
 */
#ifndef THINGS_MAILER_INTERNAL_H
#define THINGS_MAILER_INTERNAL_H

#include "mailer.h"

#define MAILER_NKINDS 22
#define DIGEST_BODY_MAX ((size_t)2 << 20) /* a digest's Markdown: 100 posts, escaped */

/* A template rendered once per run with the programme-wide variables; the
 * per-recipient placeholders are still in it (content_prepare). */
struct prepared {
	int ready;
	struct content_message msg;
};

/* The clock the send loop paces itself by (monotonic microseconds) and
 * sleeps on when a throttle holds it back with nothing in flight.  NULL in
 * struct mailer: the real one; tests inject their own. */
struct mailer_clock {
	int64_t (*now_us)(void *arg);
	void (*sleep_us)(void *arg, int64_t us);
	void *arg;
};

struct mailer {
	const struct programme *p;
	struct store *st;
	char delim;
	char help_addr[ADDR_MAX + 1];    /* things+help@domain */
	char blog_addr[ADDR_MAX + 1];    /* things+blog@domain */
	struct prepared kinds[MAILER_NKINDS]; /* by kind, except Things */
	struct prepared *things;         /* by Thing number - 1 */
	struct content_message personal; /* reused for every recipient */
	long stop_after;                 /* THINGS_TEST_STOP_AFTER, 0 if unset */
	long successes;                  /* transport successes in this process */
	const struct mailer_clock *clock; /* NULL: the real one */
	int progress_fd;                 /* the progress bar's terminal: stderr */
	struct buf digest;               /* the digest body being composed (digest.c) */
	const struct digest_edition *preview; /* mailer_preview_digest's edition, or NULL */
	size_t following;                /* the last schedule's due Things waiting for the
	                                    one before them to be sent (schedule.c) */
};

/* The domain of the programme's address (Message-IDs, VERP). */
const char *mailer_domain(const struct mailer *m);

/* "local<delim>tag@domain" from the programme address into out.  0 or -1. */
int mailer_tagged(const struct mailer *m, const char *tag, char *out, size_t n,
    struct err *e);

/* Composes d into out like mailer_compose, with its participant already
 * looked up (p is NULL when d->participant_id is 0). */
int message_build(struct mailer *m, const struct delivery *d, const struct participant *p,
    struct buf *out, struct err *e);

/* 1 if d goes to participant p's own address (p may be NULL): only then
 * does it carry their secret token (VERP, List-Unsubscribe), and only then
 * does its bounce count against them.  Mail to their alternate address
 * does neither. */
int message_to_participant(const struct delivery *d, const struct participant *p);

/* 1 if a delivery of this kind is programme mail that only an active
 * participant may get (a Thing, a digest...): one who left or was suspended
 * after it was queued does not get it. */
int message_active_only(const char *kind);

/* The envelope sender of d: things+bounce-TOKEN@domain for mail to
 * participant p's own address (VERP), things+bounce@domain for anything
 * else (p NULL, forwards to organisers, mail to an alternate address). */
int message_sender(struct mailer *m, const struct delivery *d, const struct participant *p,
    char *out, size_t n, struct err *e);

/* v itself if it has room for element n (of *cap elements of size bytes),
 * else v moved to twice the room (*cap updated); NULL when out of memory
 * (v is then left as it was, still the caller's). */
void *mailer_grow(void *v, size_t n, size_t *cap, size_t size);

/* digest.c: the edition a digest delivery shows (its key is the week),
 * or the preview's.  0, or -1 if there is no such edition. */
int digest_edition_of(struct mailer *m, const struct delivery *d, struct digest_edition *ed,
    struct err *e);
/* Builds into m->digest the Markdown list of the posts of ed's window, by
 * active participants other than exclude (0: none), grouped by Thing;
 * every string from a feed escaped, only http(s) links.  *nposts (may be
 * NULL) gets how many posts there were.  0 or -1. */
int digest_compose_body(struct mailer *m, const struct digest_edition *ed, int64_t exclude,
    int *nposts, struct err *e);
/* digest_bidi.c: s (a string from a feed, one line) as the digest shows
 * it, into out (n bytes, at least strlen(s) + 7 for all of it): blanks
 * around it and bidirectional isolate controls of its own dropped, and
 * between U+2068 FIRST STRONG ISOLATE and U+2069 POP DIRECTIONAL ISOLATE
 * when it holds a right-to-left character, so that it neither reorders
 * the English around it nor is reordered by it.  Returns out. */
const char *digest_isolated(const char *s, char *out, size_t n);
/* The HTML part of a digest: each FSI ... PDI pair within one run of text
 * becomes <bdi> ... </bdi>.  0, or -1 if html would be too large. */
int digest_html_isolates(struct buf *html);
/* feed_notice.c: the feed a feed-broken delivery is about (from its key)
 * and its problem (enum feeds_problem).  0 or -1. */
int notice_feed_of(struct mailer *m, const struct delivery *d, struct feed *f, int *problem,
    struct err *e);

/* Retry policy for temporary failures, from the attempts made so far
 * (attempts >= 1): 5 min after the first, doubling, at most 12 h apart. */
int64_t mailer_retry_delay(int attempts);
/* 1 once the delays of attempts 1..attempts add up to 3 days or more: the
 * delivery is then failed instead of deferred. */
int mailer_retry_exhausted(int attempts);

#endif
