/*
 * send.c - the send loop: claim due deliveries, compose each just before it
 * goes, keep every transport slot busy, record each outcome before that
 * slot takes its next message.
 *
 * Memory is flat in the number of recipients: a small claimed batch, and
 * one composed message per slot.  A crash can duplicate at most the
 * messages in flight (one per slot): each is marked sent as soon as its
 * transaction ends.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "internal.h"
#include "transport.h"

#define CLAIM_BATCH 16
#define MAILER_HELO_MAX 253

struct inflight {
	int busy;
	struct delivery d;
	char sender[ADDR_MAX + 1];
	struct buf msg;
};

struct run {
	struct mailer *m;
	int64_t now;
	struct mailer_stats *stats;
	struct transport *t;
	struct inflight slot[TRANSPORT_SLOTS_MAX];
	struct delivery batch[CLAIM_BATCH];
	size_t nbatch, next;
	int drained;              /* the store has nothing more due */
	int halted;               /* too many failures of the server: stop taking work */
	size_t server_failures;   /* in a row, not about one message */
};

/* --- recording outcomes ------------------------------------------------- */

static int
record_failed(struct run *r, const struct delivery *d, const char *reason, struct err *e)
{
	log_info("delivery %lld to %s failed: %s", (long long)d->id, d->recipient, reason);
	if (store_delivery_mark_failed(r->m->st, d->id, reason, e) == -1)
		return -1;
	r->stats->failed++;
	return 0;
}

/* A temporary failure: deferred with backoff, or failed once retried for
 * about three days. */
static int
record_temporary(struct run *r, const struct delivery *d, const char *reason, struct err *e)
{
	char why[STORE_REASON_MAX + 1];

	if (mailer_retry_exhausted(d->attempts)) {
		snprintf(why, sizeof(why), "gave up after %d attempts: %s", d->attempts, reason);
		return record_failed(r, d, why, e);
	}
	log_info("delivery %lld to %s deferred: %s", (long long)d->id, d->recipient, reason);
	if (store_delivery_mark_deferred(r->m->st, d->id, r->now + mailer_retry_delay(d->attempts),
		reason, e) == -1)
		return -1;
	r->stats->deferred++;
	return 0;
}

/* The test switch: THINGS_TEST_STOP_AFTER=N kills the process right after
 * the Nth successful transaction, before it is recorded. */
static void
maybe_stop(struct mailer *m)
{
	if (m->stop_after > 0 && ++m->successes == m->stop_after)
		raise(SIGKILL);
}

static int
record(struct run *r, size_t i, const struct transport_result *res, struct err *e)
{
	struct inflight *s = &r->slot[i];
	int rc;

	s->busy = 0;
	switch (res->status) {
	case TR_SENT:
		maybe_stop(r->m);
		r->server_failures = 0;
		rc = store_delivery_mark_sent(r->m->st, s->d.id, r->now, e);
		if (rc == 0)
			r->stats->sent++;
		return rc;
	case TR_PERMANENT:
		r->server_failures = 0;
		return record_failed(r, &s->d, res->text, e);
	case TR_TEMPORARY:
		break;
	}
	if (!res->per_message && ++r->server_failures >= 2 * r->t->slots + 1 && !r->halted) {
		/* the server (or disk) is failing everything: stop hammering it
		 * and leave the rest queued, unclaimed, for the next run */
		r->halted = 1;
		log_warn("%s: %zu failures in a row, sending stops for this run: %s", r->t->name,
		    r->server_failures, res->text);
	}
	return record_temporary(r, &s->d, res->text, e);
}

/* --- taking work -------------------------------------------------------- */

/* The next claimed delivery: 0 with *d set, 1 when nothing is due.
 * Claims no more than the free slots can start at once: a claim counts as
 * an attempt, so nothing may sit claimed and untried when the run stops. */
static int
next_delivery(struct run *r, size_t free_slots, struct delivery **d, struct err *e)
{
	if (r->next == r->nbatch) {
		size_t want = free_slots < CLAIM_BATCH ? free_slots : CLAIM_BATCH;

		if (r->drained || r->halted)
			return 1;
		r->next = r->nbatch = 0;
		if (store_delivery_claim(r->m->st, r->now, want, r->batch, &r->nbatch, e) == -1)
			return -1;
		if (r->nbatch == 0) {
			r->drained = 1;
			return 1;
		}
	}
	*d = &r->batch[r->next++];
	return 0;
}

/* Composes d into slot i and submits it.  0 submitted, 1 settled without
 * sending (not allowed any more, cannot be composed), -1 store error. */
static int
start(struct run *r, size_t i, const struct delivery *d, struct err *e)
{
	struct inflight *s = &r->slot[i];
	const struct participant *who;
	struct participant p;
	struct transport_msg msg;
	struct err why;
	int rc = 1;

	if (d->participant_id > 0 &&
	    (rc = store_participant_by_id(r->m->st, d->participant_id, &p, e)) == -1)
		return -1;
	if (d->participant_id > 0 && rc == 1)
		return record_failed(r, d, "participant no longer exists", e) == -1 ? -1 : 1;
	who = rc == 0 ? &p : NULL;
	/* unsubscribed (or suspended) between enqueue and now */
	if (strcmp(d->kind, DK_THING) == 0 && (rc != 0 || p.status != PS_ACTIVE)) {
		snprintf(why.msg, sizeof(why.msg), "not sent: participant is %s",
		    rc == 0 ? participant_status_name(p.status) : "unknown");
		return record_failed(r, d, why.msg, e) == -1 ? -1 : 1;
	}
	if (message_sender(r->m, d, who, s->sender, sizeof(s->sender), &why) == -1 ||
	    message_build(r->m, d, who, &s->msg, &why) == -1) {
		/* a template or data problem: retried, so that fixing the
		 * programme sends it */
		log_error("%s", why.msg);
		return record_temporary(r, d, why.msg, e) == -1 ? -1 : 1;
	}
	s->d = *d;
	msg.sender = s->sender;
	msg.recipient = s->d.recipient;
	msg.data = s->msg.data;
	msg.len = s->msg.len;
	if (transport_submit(r->t, i, &msg, &why) == -1)
		return record_failed(r, d, why.msg, e) == -1 ? -1 : 1;
	s->busy = 1;
	return 0;
}

/* Gives every free slot a message while there is work. */
static int
fill(struct run *r, struct err *e)
{
	for (size_t i = 0; i < r->t->slots; i++) {
		while (!r->slot[i].busy) {
			size_t free_slots = r->t->slots - r->t->busy;
			struct delivery *d;
			int rc = next_delivery(r, free_slots, &d, e);

			if (rc != 0)
				return rc == -1 ? -1 : 0;
			if (start(r, i, d, e) == -1)
				return -1;
		}
	}
	return 0;
}

static int
run_loop(struct run *r, struct err *e)
{
	for (;;) {
		struct transport_result res;
		size_t i;
		int rc;

		if (fill(r, e) == -1)
			return -1;
		rc = transport_wait(r->t, &i, &res, e);
		if (rc == 1)
			break;
		if (rc == -1 || record(r, i, &res, e) == -1)
			return -1;
	}
	return 0;
}

/* --- the run ------------------------------------------------------------- */

static void
read_stop_after(struct mailer *m)
{
	const char *s = getenv("THINGS_TEST_STOP_AFTER");
	int64_t n;

	m->stop_after = 0;
	if (s == NULL || s[0] == '\0')
		return;
	if (str_to_int64(s, 1, 1000000000, &n) == -1) {
		log_warn("ignoring THINGS_TEST_STOP_AFTER='%.20s' (not a count)", s);
		return;
	}
	m->stop_after = (long)n;
}

static int
open_transport(struct mailer *m, struct transport **t, struct err *e)
{
	const struct programme_config *c = &m->p->cfg;
	struct transport_config tc = { 0 };
	const char *helo = mailer_domain(m);

	tc.url = c->smtp_url;
	tc.connections = c->smtp_connections > 0 ? (size_t)c->smtp_connections : 4;
	tc.ca_file = c->smtp_ca_file;
	/* the EHLO name goes into a URL path: only a plain host name may */
	tc.helo = strspn(helo, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") ==
		strlen(helo) && strlen(helo) <= MAILER_HELO_MAX ? helo : NULL;
	if (transport_open(&tc, t, e) == -1)
		return err_prefix(e, "mailer");
	return 0;
}

int
mailer_send_due(struct mailer *m, int64_t now, struct mailer_stats *stats, struct err *e)
{
	struct run *r;
	int64_t recovered;
	int rc = -1;

	if (store_delivery_recover(m->st, &recovered, e) == -1)
		return -1;
	stats->recovered += (size_t)recovered;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return err_set(e, "out of memory");
	r->m = m;
	r->now = now;
	r->stats = stats;
	for (size_t i = 0; i < TRANSPORT_SLOTS_MAX; i++)
		buf_init(&r->slot[i].msg, COMPOSE_MESSAGE_MAX);
	read_stop_after(m);
	if (open_transport(m, &r->t, e) == -1)
		goto out;
	if (store_set_fast(m->st, 1, e) == -1)
		goto out;
	rc = run_loop(r, e);
	if (store_set_fast(m->st, 0, rc == 0 ? e : NULL) == -1)
		rc = -1;
out:
	transport_close(r->t);
	for (size_t i = 0; i < TRANSPORT_SLOTS_MAX; i++)
		buf_free(&r->slot[i].msg);
	free(r);
	return rc;
}
