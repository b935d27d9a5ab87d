/*
 * mailer.h - everything Things sends: deciding what is due (the schedule),
 * composing MIME messages from content templates, and submitting them over
 * SMTP (libcurl) or into a Maildir.
 *
 * The mailer reads the programme and the store and writes only delivery
 * states (and, through the schedule, new queued deliveries).
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
	size_t held;
};

/* A mailer for one run.  p and st must outlive it. */
int mailer_new(const struct programme *p, struct store *st, struct mailer **out,
    struct err *e);
void mailer_free(struct mailer *m);

/* Queues what is due at now: each released Thing for each active
 * participant who has not had it.  Idempotent. */
int mailer_schedule(struct mailer *m, int64_t now, struct mailer_stats *stats,
    struct err *e);

/* Claims and sends every queued delivery due at now, until none is left.
 * Temporary failures are deferred, permanent ones failed; only an error of
 * the store itself makes it return -1. */
int mailer_send_due(struct mailer *m, int64_t now, struct mailer_stats *stats,
    struct err *e);

/* Composes delivery d into out (reset first): a complete RFC 5322 message
 * with CRLF line ends, ready for SMTP DATA.  For previews and tests too. */
int mailer_compose(struct mailer *m, const struct delivery *d, struct buf *out,
    struct err *e);

#endif
