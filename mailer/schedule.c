/*
 * schedule.c - which Thing is due to whom, and when (the rules are at
 * mailer_schedule in mailer.h).  A due time is computed, never stored
 * ahead: a Thing is queued by the first run at or after its due time, so
 * that a run after downtime sees how late it is and can hold it.  The
 * computation depends only on the programme, the participant and their
 * deliveries so far, so every run finds the same times and a rerun queues
 * nothing twice (the store keeps one delivery per participant and Thing
 * besides).
 *
 * Order: a participant's Thing is queued only once the Thing before it has
 * gone (sent, or failed for good), never beside it.  Held, retried or still
 * in the outbox, it keeps the later ones back, so that neither a hold, a
 * retry nor two connections sending at once can put Thing N+1 in their
 * mailbox before Thing N; mailer_send_and_follow sends those that wait only
 * for a Thing sent in the same run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define HOUR 3600
/* A hold left as it is is told again after this long without a notice. */
#define REMIND_AFTER (7 * 24 * HOUR)

/* Per Thing, what this run held, and what is still held from before. */
struct hold {
	size_t n;            /* deliveries of it this run held: the organisers are told */
	int64_t first;       /* the first of them (the notices' key) */
	size_t behind;       /* due deliveries of later Things waiting behind its held ones */
	size_t still;        /* active participants' deliveries of it held before this run */
	int64_t since;       /* the oldest of those: when it was held */
	int reminded;        /* this run reminded the organisers of it */
};

/* What a participant's later Things wait for: nothing; the Thing before
 * them to be sent (in the outbox now, maybe in this run); an organiser to
 * release it; or a time to come (a retry, a due time). */
enum wait { GOES, SENDING, HELD, LATER };

struct schedule_ctx {
	struct mailer *m;
	int64_t now;
	struct mailer_stats *stats;
	struct mailer_pending *pending; /* counting what is left (status), or NULL */
	struct thing_delivery *rows; /* per Thing, the participant at hand's delivery */
	int64_t *due;        /* per Thing: when it is due to them */
	struct hold *holds;  /* per Thing */
	size_t following;    /* due Things waiting for one in the outbox to be sent */
	struct err *e;
};

/* t plus days calendar days in local time, at the same time of day (as
 * content/ computes the cohort's releases, so that DST does not shift
 * 09:00 to 10:00). */
static int64_t
add_days(int64_t t, int64_t days)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (days == 0 || localtime_r(&tt, &tm) == NULL)
		return t + days * 24 * HOUR;
	tm.tm_mday += (int)days;
	tm.tm_isdst = -1;
	tt = mktime(&tm);
	return tt == (time_t)-1 ? t + days * 24 * HOUR : (int64_t)tt;
}

/* When a Thing that has a delivery went, or is to go: what the next is
 * paced from.  A held one released, or one retried for a day, went when
 * it was sent, not when it was due. */
static int64_t
went_at(const struct thing_delivery *r)
{
	return r->state == DS_SENT && r->sent_at > 0 ? r->sent_at : r->due_at;
}

/* The due time of each Thing for participant pt into due[], from their
 * deliveries so far (rows[]); mailer.h has the rules.  "Joined" is when
 * they last became active: their confirmation, or their return.  A Thing an
 * organiser skipped reached nobody: the ones after it are due from the
 * skip on (the next run), paced from there, with no gap for it. */
static void
due_times(const struct programme *p, const struct participant *pt,
    const struct thing_delivery *rows, int64_t *due)
{
	const struct programme_config *c = &p->cfg;
	int64_t joined = pt->status_at > pt->confirmed_at ? pt->status_at : pt->confirmed_at;
	int64_t clock, prev = 0, skipped_at = 0;
	int64_t k = 0;

	if (joined == 0)
		joined = pt->created_at;
	clock = pt->confirmed_at > 0 ? pt->confirmed_at : joined;
	for (size_t i = 0; i < p->nthings; i++) {
		int64_t natural = c->self_paced ? add_days(clock, (int64_t)i * c->interval_days) :
		    p->things[i].release_at;
		int theirs_before = rows[i].created_at != 0 && rows[i].created_at < joined;
		int64_t d = natural;

		/* out before they joined and not theirs by then: the back
		 * catalogue, one every catch_up_days from joining (so each is
		 * after its own release, which came before joining) */
		if (!theirs_before && natural < joined)
			d = add_days(joined, k++ * c->catch_up_days);
		/* one that would overtake the Thing before it (released while
		 * a slow catch-up runs; piled up behind a Thing that went late,
		 * held or retried) follows it by catch_up_days: in order, and
		 * paced like a catch-up (later ones are then on time again) */
		if (!theirs_before && prev > 0 && d < prev)
			d = add_days(prev, c->catch_up_days);
		if (d < skipped_at)
			d = skipped_at;
		due[i] = d;
		if (rows[i].skipped && rows[i].due_at > skipped_at)
			skipped_at = rows[i].due_at;
		if (theirs_before || rows[i].skipped)
			prev = 0;
		else
			prev = rows[i].created_at != 0 ? went_at(&rows[i]) : d;
	}
}

/* A Thing due this long ago waits for the organisers (max_lateness_hours
 * 0, possible only in a programme built by hand, holds nothing). */
static int
too_late(const struct programme_config *c, int64_t due, int64_t now)
{
	return !c->send_late && c->max_lateness_hours > 0 &&
	    now - due > (int64_t)c->max_lateness_hours * HOUR;
}

/* Queues Thing i for pt, held if too late; *why says what the Things
 * after it now wait for. */
static int
queue_thing(struct schedule_ctx *c, const struct participant *pt, size_t i, enum wait *why)
{
	const struct thing *t = &c->m->p->things[i];
	struct hold *h = &c->holds[i];
	struct delivery_request r = { 0 };
	char key[24];
	int64_t id;
	int rc;

	snprintf(key, sizeof(key), "%d", t->number);
	r.participant_id = pt->id;
	r.recipient = pt->address;
	r.kind = DK_THING;
	r.key = key;
	r.due_at = c->due[i];
	r.msgid_domain = mailer_domain(c->m);
	r.state = too_late(&c->m->p->cfg, c->due[i], c->now) ? DS_HELD : DS_QUEUED;
	*why = LATER; /* already there under another participant: not ours to judge */
	if ((rc = store_delivery_enqueue(c->m->st, &r, c->now, &id, c->e)) != 0)
		return rc == -1 ? -1 : 0;
	if (r.state == DS_QUEUED) {
		c->stats->enqueued++;
		*why = SENDING;
		return 0;
	}
	if (h->n++ == 0)
		h->first = id;
	c->stats->held++;
	*why = HELD;
	return 0;
}

/* What a Thing of theirs that has a delivery makes the later ones wait
 * for: GOES once it has gone. */
static enum wait
wait_for(const struct schedule_ctx *c, const struct thing_delivery *r)
{
	switch (r->state) {
	case DS_SENT:
	case DS_FAILED:
		return GOES;
	case DS_HELD:
		return HELD;
	case DS_SENDING:
		return SENDING;
	case DS_QUEUED:
		return r->due_at <= c->now ? SENDING : LATER;
	case DS_DEFERRED:
		break;
	}
	return LATER;
}

/* Notes that the participant at hand's Thing i, which has a delivery, is
 * held (why == HELD): for the reminder, or for status. */
static enum wait
still_held(struct schedule_ctx *c, size_t i, enum wait why)
{
	struct hold *h = &c->holds[i];

	if (why != HELD)
		return why;
	if (c->pending != NULL) {
		c->pending[i].holding++;
		return why;
	}
	if (h->still++ == 0 || c->rows[i].created_at < h->since)
		h->since = c->rows[i].created_at;
	return why;
}

/* Counts Thing i, not queued for the participant at hand, for status:
 * behind their Thing `first` if that is held, else waiting for its time. */
static void
count_pending(struct schedule_ctx *c, size_t i, enum wait why, size_t first)
{
	struct mailer_pending *w = &c->pending[i];

	w->waiting++;
	if (why == HELD) {
		w->blocked++;
		c->pending[first].held_back++;
	} else if (w->waiting - w->blocked == 1 || c->due[i] < w->next_at) {
		w->next_at = c->due[i];
	}
}

static int
schedule_participant(void *arg, const struct participant *pt)
{
	struct schedule_ctx *c = arg;
	const struct programme *p = c->m->p;
	enum wait why = GOES;   /* what their next Thing waits for */
	size_t first = 0;       /* the Thing it waits for (why != GOES) */

	if (store_thing_delivery_rows(c->m->st, pt->id, (int)p->nthings, c->rows, c->e) == -1)
		return -1;
	due_times(p, pt, c->rows, c->due);
	for (size_t i = 0; i < p->nthings; i++) {
		int due = c->pending == NULL && c->due[i] <= c->now;
		enum wait this = LATER; /* what Thing i makes the later ones wait for */

		if (c->rows[i].created_at != 0)
			this = still_held(c, i, wait_for(c, &c->rows[i]));
		else if (c->pending != NULL)
			count_pending(c, i, why, first);
		else if (why == GOES && due && queue_thing(c, pt, i, &this) == -1)
			return -1;
		else if (why == HELD && due)
			c->holds[first].behind++;
		else if (why == SENDING && due)
			c->following++;
		if (why == GOES && this != GOES) {
			why = this;
			first = i;
		}
	}
	return 0;
}

/* Queues a late-notice (key) to each organiser, due now. */
static int
notify(struct schedule_ctx *c, const char *key)
{
	const struct programme *p = c->m->p;

	for (size_t o = 0; o < p->cfg.norganisers; o++) {
		struct delivery_request r = { 0 };
		int64_t id;
		int rc;

		r.recipient = p->cfg.organisers[o];
		r.kind = DK_HELD_NOTICE;
		r.key = key;
		r.due_at = c->now;
		r.msgid_domain = mailer_domain(c->m);
		if ((rc = store_delivery_enqueue(c->m->st, &r, c->now, &id, c->e)) == -1)
			return -1;
		if (rc == 0)
			c->stats->enqueued++;
	}
	return 0;
}

/* One notice per organiser for each Thing this run held deliveries of.
 * Every hold begins in one run (the first after downtime, or after a
 * config change); later runs hold nothing more of it, however long it
 * lasts, and the Things kept back behind it are not held themselves: an
 * ongoing hold is told once (then reminded of weekly while it lasts:
 * remind_organisers), a separate one later (another downtime, another
 * participant's own clock in self-paced mode) anew, even if the first is
 * still held (left so, or its participant gone). */
static int
tell_organisers(struct schedule_ctx *c)
{
	const struct programme *p = c->m->p;

	for (size_t i = 0; i < p->nthings; i++) {
		const struct hold *h = &c->holds[i];
		char key[48];

		if (h->n == 0)
			continue;
		snprintf(key, sizeof(key), "%d-%lld", p->things[i].number, (long long)h->first);
		if (notify(c, key) == -1)
			return -1;
	}
	return 0;
}

/* A hold left as it is stops its participants there, so the organisers
 * are reminded of it: once REMIND_AFTER has passed with no late-notice
 * about that Thing (the first one, or the last reminder), and only while
 * participants who are still active have it held.  Key "N-rDAYS-NOW":
 * DAYS held (the oldest), NOW keeps each reminder a delivery of its own. */
static int
remind_organisers(struct schedule_ctx *c)
{
	const struct programme *p = c->m->p;

	for (size_t i = 0; i < p->nthings && p->cfg.norganisers > 0; i++) {
		struct hold *h = &c->holds[i];
		char prefix[24], key[64];
		int64_t last;

		if (h->n > 0 || h->still == 0)
			continue; /* told in this run already, or nothing held */
		snprintf(prefix, sizeof(prefix), "%d-", p->things[i].number);
		if (store_delivery_last_queued(c->m->st, DK_HELD_NOTICE, prefix, &last, c->e) == -1)
			return -1;
		if (c->now - (last > h->since ? last : h->since) < REMIND_AFTER)
			continue;
		snprintf(key, sizeof(key), "%d-r%lld-%lld", p->things[i].number,
		    (long long)((c->now - h->since) / (24 * HOUR)), (long long)c->now);
		if (notify(c, key) == -1)
			return -1;
		h->reminded = 1;
	}
	return 0;
}

static const char *
it_them(size_t n)
{
	return n == 1 ? "it" : "them";
}

/* Said on every run that holds something, and with each reminder: cron
 * mails it to whoever runs it. */
static void
warn_held(const struct schedule_ctx *c)
{
	const struct programme *p = c->m->p;

	for (size_t i = 0; i < p->nthings; i++) {
		const struct hold *h = &c->holds[i];
		int number = p->things[i].number;
		char behind[128] = "";

		if (h->behind > 0)
			snprintf(behind, sizeof(behind), " (%zu due now)", h->behind);
		if (h->reminded)
			log_msg(LV_WARN, "Thing %d: %zu %s still held, for %lld days; the later Things "
			    "of %s wait behind %s%s; `things release %d` sends %s, `things release %d "
			    "--skip` skips %s (reminded once a week)", number, h->still,
			    h->still == 1 ? "delivery" : "deliveries",
			    (long long)((c->now - h->since) / (24 * HOUR)),
			    h->still == 1 ? "its participant" : "those participants",
			    it_them(h->still), behind, number, it_them(h->still), number,
			    it_them(h->still));
		if (h->n > 0)
			log_msg(LV_WARN, "Thing %d: %zu %s held: due more than %d hours before this "
			    "run; the later Things of %s wait behind %s%s; `things release %d` sends "
			    "%s, then the later ones in order (`--skip`: never sends %s, the later ones "
			    "follow)", number, h->n, h->n == 1 ? "delivery" : "deliveries",
			    p->cfg.max_lateness_hours,
			    h->n == 1 ? "its participant" : "those participants", it_them(h->n),
			    behind, number, it_them(h->n), it_them(h->n));
	}
}

/* Runs the schedule over every active participant: queueing what is due
 * (c->pending NULL, in the caller's transaction) or counting what is left
 * to queue.  c->m, now, stats, pending and e are set; the rest is here. */
static int
walk(struct schedule_ctx *c)
{
	size_t n = c->m->p->nthings;
	int rc = -1;

	c->rows = calloc(n, sizeof(*c->rows));
	c->due = calloc(n, sizeof(*c->due));
	c->holds = calloc(n, sizeof(*c->holds));
	if (c->rows == NULL || c->due == NULL || c->holds == NULL) {
		err_set(c->e, "out of memory");
		goto out;
	}
	if (store_participant_each(c->m->st, PS_ACTIVE, schedule_participant, c, c->e) != 0)
		goto out;
	if (c->pending == NULL && (tell_organisers(c) == -1 || remind_organisers(c) == -1))
		goto out;
	rc = 0;
out:
	free(c->rows);
	free(c->due);
	c->rows = NULL;
	c->due = NULL;
	return rc;
}

int
mailer_check_things(struct mailer *m, int64_t now, int record, struct err *e)
{
	for (size_t i = 0; i < m->p->nthings; i++) {
		const struct thing *t = &m->p->things[i];
		char slug[STORE_NAME_MAX + 1], title[STORE_TITLE_MAX + 1];
		const char *file = strrchr(t->path, '/');
		int rc, same_slug, same_title, any;

		if ((rc = store_thing_sent_get(m->st, t->number, slug, sizeof(slug), title,
		    sizeof(title), e)) == -1)
			return -1;
		if (rc == 1) {
			if (!record)
				continue;
			if (store_thing_queued(m->st, t->number, &any, e) == -1)
				return -1;
			if (any && store_thing_sent_set(m->st, t->number, t->slug, t->title, now,
			    e) == -1)
				return -1;
			continue;
		}
		same_slug = strcmp(slug, t->slug) == 0;
		same_title = strncmp(title, t->title, sizeof(title) - 1) == 0;
		if (!same_slug && !same_title)
			return err_set(e, "%s: Thing %d went out as \"%s\" (%02d-%s.md) and is now "
			    "\"%s\": Things that went out keep their numbers (renumbering sends "
			    "one twice and skips another); put the files back and add new Things "
			    "at the end", file ? file + 1 : t->path, t->number, title, t->number,
			    slug, t->title);
		if (record && !(same_slug && same_title) &&
		    store_thing_sent_set(m->st, t->number, t->slug, t->title, now, e) == -1)
			return -1;
	}
	return 0;
}

int
mailer_schedule(struct mailer *m, int64_t now, struct mailer_stats *stats, struct err *e)
{
	struct schedule_ctx c = { .m = m, .now = now, .stats = stats, .e = e };
	struct mailer_stats before = *stats;
	size_t released = 0;
	int rc;

	m->following = 0;
	for (size_t i = 0; i < m->p->nthings; i++)
		released += m->p->things[i].release_at <= now;
	/* in a cohort, nobody has anything due before Thing 1 is out */
	if (m->p->nthings == 0 || (!m->p->cfg.self_paced && released == 0))
		return 0;
	if (store_begin(m->st, e) == -1)
		return -1;
	if ((rc = mailer_check_things(m, now, 1, e)) == 0 && (rc = walk(&c)) == 0 &&
	    (rc = mailer_check_things(m, now, 1, e)) == 0)
		rc = store_commit(m->st, e);
	else
		store_rollback(m->st);
	if (rc == 0) {
		warn_held(&c);
		m->following = c.following;
	} else {
		*stats = before;
	}
	free(c.holds);
	return rc;
}

int
mailer_schedule_pending(struct mailer *m, struct mailer_pending *out, struct err *e)
{
	struct mailer_stats unused = { 0 };
	struct schedule_ctx c = { .m = m, .stats = &unused, .pending = out, .e = e };
	int rc;

	for (size_t i = 0; i < m->p->nthings; i++)
		out[i] = (struct mailer_pending){ 0 };
	if (m->p->nthings == 0)
		return 0;
	rc = walk(&c);
	free(c.holds);
	return rc;
}

int
mailer_send_and_follow(struct mailer *m, int64_t now, struct mailer_stats *stats,
    struct err *e)
{
	for (size_t round = 0;; round++) {
		size_t sent = stats->sent;

		if (mailer_send_due(m, now, stats, e) == -1)
			return -1;
		/* each round takes every waiting participant one Thing further */
		if (m->following == 0 || stats->sent == sent || round >= m->p->nthings)
			return 0;
		if (mailer_schedule(m, now, stats, e) == -1)
			return -1;
	}
}
