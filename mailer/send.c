/*
 * send.c - the send loop: claim due deliveries, compose each just before it
 * goes, keep every transport slot busy, and write every outcome down before
 * its slot takes another message.
 *
 * The loop goes in rounds.  Each round is one store transaction: the
 * outcomes that came in together (marks, bounce scores) and the claims for
 * the slots they freed; then the claimed messages are composed and
 * submitted, and the loop waits for the next outcomes.  Memory is flat in
 * the number of recipients: at most one claimed delivery and one composed
 * message per slot.  A crash can duplicate at most the messages in flight
 * (one per slot), because an outcome is committed before its slot starts
 * another message.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compose.h"
#include "internal.h"
#include "progress.h"
#include "throttle.h"
#include "transport.h"

#define MAILER_HELO_MAX 253

struct inflight {
	int busy;
	int counts;          /* its bounce counts against its participant */
	struct delivery d;
	char sender[ADDR_MAX + 1];
	struct buf msg;
};

struct outcome {
	size_t slot;
	struct transport_result res;
};

/* A claimed delivery, with its participant looked up in the same
 * transaction. */
struct claimed {
	struct delivery d;
	struct participant p;
	int have_p;
	int go;              /* still to be sent (not settled while claiming) */
};

struct run {
	struct mailer *m;
	int64_t now;
	struct mailer_stats *stats;
	struct transport *t;
	const struct mailer_clock *clock;
	struct throttle throttle;
	struct progress progress;
	struct bounce_policy bounce;
	struct inflight slot[TRANSPORT_SLOTS_MAX];
	struct outcome done[TRANSPORT_SLOTS_MAX];
	size_t ndone;
	struct delivery claim_buf[TRANSPORT_SLOTS_MAX];
	struct claimed batch[TRANSPORT_SLOTS_MAX];
	size_t nbatch;
	int drained;              /* the store has nothing more due */
	int halted;               /* too many failures of the server: stop taking work */
	size_t server_failures;   /* in a row, not about one message */
	char server_error[STORE_REASON_MAX + 1]; /* the last of them */
	size_t settled;           /* outcomes recorded: the progress bar */
};

/* --- the clock ------------------------------------------------------------ */

static int64_t
real_now_us(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
real_sleep_us(void *arg, int64_t us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };

	(void)arg;
	while (nanosleep(&ts, &ts) == -1)
		;
}

static const struct mailer_clock real_clock = { real_now_us, real_sleep_us, NULL };

static int64_t
now_us(const struct run *r)
{
	return r->clock->now_us(r->clock->arg);
}

/* --- recording outcomes ------------------------------------------------- */

/* Counts a failure against the participant's address (see
 * store_participant_bounce).  Mail to organisers has no participant. */
static int
count_bounce(struct run *r, const struct delivery *d, enum bounce_severity sev,
    const char *reason, struct err *e)
{
	struct bounce_outcome out;

	if (d->participant_id <= 0 || sev == BOUNCE_NONE)
		return 0;
	if (store_participant_bounce(r->m->st, d->participant_id, sev, reason, r->now, &r->bounce,
	    &out, e) == -1)
		return -1;
	if (out.counted)
		r->stats->bounces++;
	if (out.suspended) {
		/* the organisers' notices are due now: go on claiming */
		r->drained = 0;
		r->stats->suspended++;
		log_warn("%s suspended after bounces (score %g): %s", d->recipient, out.score, reason);
	}
	return 0;
}

static int
record_failed(struct run *r, const struct delivery *d, const char *reason, struct err *e)
{
	log_info("delivery %lld to %s failed: %s", (long long)d->id, d->recipient, reason);
	if (store_delivery_mark_failed(r->m->st, d->id, reason, e) == -1)
		return -1;
	r->stats->failed++;
	r->settled++;
	return 0;
}

/* A temporary failure: deferred with backoff, or failed once retried for
 * about three days; a give-up counts as bounce sev. */
static int
record_temporary(struct run *r, const struct delivery *d, const char *reason,
    enum bounce_severity sev, struct err *e)
{
	char why[STORE_REASON_MAX + 1];

	if (mailer_retry_exhausted(d->attempts)) {
		snprintf(why, sizeof(why), "gave up after %d attempts: %s", d->attempts, reason);
		if (record_failed(r, d, why, e) == -1)
			return -1;
		return count_bounce(r, d, sev, why, e);
	}
	log_info("delivery %lld to %s deferred: %s", (long long)d->id, d->recipient, reason);
	if (store_delivery_mark_deferred(r->m->st, d->id, r->now + mailer_retry_delay(d->attempts),
		reason, e) == -1)
		return -1;
	r->stats->deferred++;
	r->settled++;
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
record(struct run *r, const struct outcome *o, struct err *e)
{
	const struct transport_result *res = &o->res;
	const struct delivery *d = &r->slot[o->slot].d;
	int counts = r->slot[o->slot].counts;

	switch (res->status) {
	case TR_SENT:
		r->server_failures = 0;
		if (store_delivery_mark_sent(r->m->st, d->id, r->now, e) == -1)
			return -1;
		r->stats->sent++;
		r->settled++;
		return 0;
	case TR_PERMANENT:
		r->server_failures = 0;
		if (record_failed(r, d, res->text, e) == -1)
			return -1;
		return count_bounce(r, d, counts ? bounce_severity_of(res->enhanced, res->code,
		    NULL) : BOUNCE_NONE, res->text, e);
	case TR_TEMPORARY:
		break;
	}
	if (!res->per_message)
		snprintf(r->server_error, sizeof(r->server_error), "%s", res->text);
	if (!res->per_message && ++r->server_failures >= 2 * r->t->slots + 1 && !r->halted) {
		/* the server (or disk) is failing everything: stop hammering it
		 * and leave the rest queued, unclaimed, for the next run */
		r->halted = 1;
		log_warn("%s: %zu failures in a row, sending stops for this run: %s", r->t->name,
		    r->server_failures, res->text);
	}
	/* a recipient refused for days is a soft bounce; a server that
	 * refuses everyone says nothing about this address */
	return record_temporary(r, d, res->text, res->per_message && counts ? BOUNCE_SOFT :
	    BOUNCE_NONE, e);
}

/* --- taking work -------------------------------------------------------- */

/* Settles a claimed delivery that must not go: 0 if it may go. */
static int
check_claimed(struct run *r, struct claimed *c, struct err *e)
{
	char why[STORE_REASON_MAX + 1];
	int rc;

	c->go = 0;
	c->have_p = 0;
	if (c->d.participant_id > 0) {
		if ((rc = store_participant_by_id(r->m->st, c->d.participant_id, &c->p, e)) == -1)
			return -1;
		if (rc == 1)
			return record_failed(r, &c->d, "participant no longer exists", e);
		c->have_p = 1;
	}
	/* unsubscribed (or suspended) between enqueue and now */
	if (message_active_only(c->d.kind) && (!c->have_p || c->p.status != PS_ACTIVE)) {
		snprintf(why, sizeof(why), "not sent: participant is %s",
		    c->have_p ? participant_status_name(c->p.status) : "unknown");
		return record_failed(r, &c->d, why, e);
	}
	c->go = 1;
	return 0;
}

/* How many deliveries this round may claim. */
static size_t
wanted(const struct run *r)
{
	size_t free_slots = r->t->slots - r->t->busy;

	if (r->drained || r->halted || free_slots == 0)
		return 0;
	if (r->throttle.interval_us > 0)
		return throttle_wait_us(&r->throttle, now_us(r)) == 0 ? 1 : 0;
	return free_slots;
}

/* One round's transaction: records the outcomes collected, then claims up
 * to want deliveries for the free slots.  Claims no more than the slots
 * can start at once: a claim counts as an attempt, so nothing may sit
 * claimed and untried when the run stops. */
static int
settle_and_claim(struct run *r, struct err *e)
{
	size_t n = 0, want;

	r->nbatch = 0;
	if (r->ndone == 0 && wanted(r) == 0)
		return 0;
	for (size_t i = 0; i < r->ndone; i++)
		if (r->done[i].res.status == TR_SENT)
			maybe_stop(r->m);
	if (store_begin(r->m->st, e) == -1)
		return -1;
	for (size_t i = 0; i < r->ndone; i++)
		if (record(r, &r->done[i], e) == -1)
			goto fail;
	r->ndone = 0;
	/* after the outcomes: one of them may have halted the run */
	if ((want = wanted(r)) > 0) {
		if (store_delivery_claim(r->m->st, r->now, want, r->claim_buf, &n, e) == -1)
			goto fail;
		if (n < want)
			r->drained = 1;
		for (size_t i = 0; i < n; i++) {
			r->batch[i].d = r->claim_buf[i];
			if (check_claimed(r, &r->batch[i], e) == -1)
				goto fail;
		}
	}
	if (store_commit(r->m->st, e) == -1)
		goto fail;
	r->nbatch = n;
	return 0;
fail:
	store_rollback(r->m->st);
	return -1;
}

/* Composes c into free slot i and submits it; a delivery that cannot be
 * composed or submitted is settled on its own (a transaction of its own). */
/* Composes a delivery that a run died with in hand (STORE_RECOVERED) under
 * a crash crumb: one whose composing crashes Things (untrusted text in a
 * forward or a digest) is set aside after two more deaths, not composed
 * at the head of every run forever.  Others pay nothing.  0 composed, 1
 * failed (why set), 2 set aside, -1 the crumb failed. */
static int
compose(struct run *r, struct inflight *s, const struct claimed *c,
    const struct participant *who, struct err *why, struct err *e)
{
	int suspect = strcmp(c->d.last_error, STORE_RECOVERED) == 0, rc;
	char crumb[48];

	if (suspect) {
		snprintf(crumb, sizeof(crumb), "delivery %lld", (long long)c->d.id);
		if ((rc = store_crumb_enter(r->m->st, crumb, 2, e)) != 0)
			return rc == 1 ? 2 : -1;
	}
	rc = message_sender(r->m, &c->d, who, s->sender, sizeof(s->sender), why) == -1 ||
	    message_build(r->m, &c->d, who, &s->msg, why) == -1;
	if (rc == 0)
		fault_point("compose", s->msg.data, s->msg.len);
	if (suspect && store_crumb_leave(r->m->st, e) == -1)
		return -1;
	return rc;
}

static int
start(struct run *r, size_t i, const struct claimed *c, struct err *e)
{
	struct inflight *s = &r->slot[i];
	const struct participant *who = c->have_p ? &c->p : NULL;
	struct transport_msg msg;
	struct err why;
	int rc = compose(r, s, c, who, &why, e);

	if (rc == -1)
		return -1;
	if (rc == 2)
		return record_failed(r, &c->d, "set aside: Things crashed twice in a row while "
		    "composing it (a bug: please report it)", e);
	if (rc == 1) {
		/* a template or data problem: retried, so that fixing the
		 * programme sends it */
		log_error("%s", why.msg);
		return record_temporary(r, &c->d, why.msg, BOUNCE_NONE, e);
	}
	s->d = c->d;
	s->counts = message_to_participant(&c->d, who);
	msg.sender = s->sender;
	msg.recipient = s->d.recipient;
	msg.data = s->msg.data;
	msg.len = s->msg.len;
	if (transport_submit(r->t, i, &msg, &why) == -1)
		return record_failed(r, &c->d, why.msg, e);
	s->busy = 1;
	throttle_take(&r->throttle, now_us(r));
	return 0;
}

static int
start_batch(struct run *r, struct err *e)
{
	size_t i = 0;

	for (size_t k = 0; k < r->nbatch; k++) {
		if (!r->batch[k].go)
			continue;
		while (r->slot[i].busy)
			i++; /* there are as many free slots as claims */
		if (start(r, i, &r->batch[k], e) == -1)
			return -1;
	}
	r->nbatch = 0;
	return 0;
}

/* Waits for outcomes: the first one (or the throttle's next start, if a
 * slot is free for it), then every other one that is ready too. */
static int
collect(struct run *r, struct err *e)
{
	long timeout_ms = -1;
	int rc;

	if (wanted(r) > 0)
		timeout_ms = 0; /* claims settled without sending left a slot free */
	else if (!r->drained && !r->halted && r->t->busy < r->t->slots &&
	    r->throttle.interval_us > 0)
		timeout_ms = (long)((throttle_wait_us(&r->throttle, now_us(r)) + 999) / 1000);
	for (;;) {
		struct outcome *o = &r->done[r->ndone];

		rc = transport_wait_for(r->t, &o->slot, &o->res, timeout_ms, e);
		if (rc == -1)
			return -1;
		if (rc != 0)
			return 0;
		r->slot[o->slot].busy = 0;
		r->ndone++;
		timeout_ms = 0;
	}
}

static int
run_loop(struct run *r, struct err *e)
{
	for (;;) {
		int64_t wait;

		if (settle_and_claim(r, e) == -1 || start_batch(r, e) == -1)
			return -1;
		progress_update(&r->progress, r->settled, r->stats->deferred, r->stats->failed,
		    now_us(r));
		if (r->t->busy > 0) {
			if (collect(r, e) == -1)
				return -1;
			continue;
		}
		if (r->drained || r->halted)
			return 0;
		/* nothing in flight: only the throttle holds the next start,
		 * if there is one to hold */
		if ((wait = throttle_wait_us(&r->throttle, now_us(r))) > 0) {
			int64_t due;

			if (store_delivery_count_due(r->m->st, r->now, &due, e) == -1)
				return -1;
			if (due == 0)
				return 0;
			r->clock->sleep_us(r->clock->arg, wait);
		}
	}
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
	tc.max_per_connection = c->smtp_max_per_connection;
	/* the EHLO name goes into a URL path: only a plain host name may */
	tc.helo = strspn(helo, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") ==
		strlen(helo) && strlen(helo) <= MAILER_HELO_MAX ? helo : NULL;
	if (transport_open(&tc, t, e) == -1)
		return err_prefix(e, "mailer");
	return 0;
}

static void
run_init(struct run *r, struct mailer *m, int64_t now, struct mailer_stats *stats)
{
	const struct programme_config *c = &m->p->cfg;

	r->m = m;
	r->now = now;
	r->stats = stats;
	r->clock = m->clock ? m->clock : &real_clock;
	throttle_init(&r->throttle, c->smtp_max_per_minute);
	r->bounce.threshold = c->bounce_threshold > 0 ? c->bounce_threshold : 5;
	r->bounce.stale_days = c->bounce_stale_days > 0 ? c->bounce_stale_days : 7;
	r->bounce.organisers = (const char *const *)c->organisers;
	r->bounce.norganisers = c->norganisers;
	r->bounce.msgid_domain = mailer_domain(m);
	for (size_t i = 0; i < TRANSPORT_SLOTS_MAX; i++)
		buf_init(&r->slot[i].msg, COMPOSE_MESSAGE_MAX);
}

/* glibc gives memory at the top of the heap back to the kernel whenever
 * more than 128 KB is free there.  A send allocates and frees about that
 * much for every message (SQLite builds a temporary index to check each
 * "state IN (...)" update against the schema; libcurl takes a 64 KB upload
 * buffer per transfer), which made every message cost a brk(2) and a
 * dozen page faults.  Keeping 8 MB at the top avoids that; larger
 * allocations are still mapped and unmapped on their own. */
static void
keep_heap(void)
{
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	mallopt(M_TRIM_THRESHOLD, 8 << 20);
}

int
mailer_send_due(struct mailer *m, int64_t now, struct mailer_stats *stats, struct err *e)
{
	struct run *r;
	int64_t recovered, due = 0;
	int rc = -1;

	if (store_delivery_recover(m->st, &recovered, e) == -1)
		return -1;
	stats->recovered += (size_t)recovered;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return err_set(e, "out of memory");
	keep_heap();
	run_init(r, m, now, stats);
	read_stop_after(m);
	if (store_delivery_count_due(m->st, now, &due, e) == -1 ||
	    open_transport(m, &r->t, e) == -1 || store_set_fast(m->st, 1, e) == -1)
		goto out;
	progress_start(&r->progress, m->progress_fd, (size_t)due, now_us(r));
	rc = run_loop(r, e);
	progress_end(&r->progress, r->settled, stats->deferred, stats->failed, now_us(r));
	/* A run that ends with the server failing (a refused login, a wrong
	 * port) says so on stderr, for cron to mail, however few messages
	 * were due: not only when there were enough to halt the run. */
	if (rc == 0 && r->server_failures > 0 && !r->halted)
		log_warn("%s: the server failed %zu time%s in a row; what is due waits "
		    "for the next run: %s", r->t->name, r->server_failures,
		    r->server_failures == 1 ? "" : "s", r->server_error);
	if (store_set_fast(m->st, 0, rc == 0 ? e : NULL) == -1)
		rc = -1;
out:
	transport_close(r->t);
	for (size_t i = 0; i < TRANSPORT_SLOTS_MAX; i++)
		buf_free(&r->slot[i].msg);
	free(r);
	return rc;
}
