/*
 * schedule.c - what is due: every released Thing, for every active
 * participant.  The store's uniqueness on (recipient, kind, key) makes
 * this idempotent, so each run simply enqueues everything released and
 * the store drops what is already there.
 */
#include <stdio.h>

#include "internal.h"

struct schedule_ctx {
	struct mailer *m;
	int64_t now;
	struct mailer_stats *stats;
	struct err *e;
};

static int
enqueue_released(void *arg, const struct participant *p)
{
	struct schedule_ctx *c = arg;

	for (size_t i = 0; i < c->m->p->nthings; i++) {
		const struct thing *t = &c->m->p->things[i];
		struct delivery_request r = { 0 };
		char key[24];
		int64_t id;
		int rc;

		/* each on its own: an override may hold back Thing 4 after 5 */
		if (t->release_at > c->now)
			continue;
		snprintf(key, sizeof(key), "%d", t->number);
		r.participant_id = p->id;
		r.recipient = p->address;
		r.kind = DK_THING;
		r.key = key;
		/* someone who joined after a release gets that Thing now */
		r.due_at = p->confirmed_at > t->release_at ? c->now : t->release_at;
		r.msgid_domain = mailer_domain(c->m);
		rc = store_delivery_enqueue(c->m->st, &r, c->now, &id, c->e);
		if (rc == -1)
			return -1;
		if (rc == 0)
			c->stats->enqueued++;
	}
	return 0;
}

int
mailer_schedule(struct mailer *m, int64_t now, struct mailer_stats *stats, struct err *e)
{
	struct schedule_ctx c = { m, now, stats, e };
	size_t before = stats->enqueued, released = 0;

	for (size_t i = 0; i < m->p->nthings; i++)
		released += m->p->things[i].release_at <= now;
	if (released == 0)
		return 0;
	if (store_begin(m->st, e) == -1)
		return -1;
	if (store_participant_each(m->st, PS_ACTIVE, enqueue_released, &c, e) != 0) {
		store_rollback(m->st);
		stats->enqueued = before;
		return -1;
	}
	return store_commit(m->st, e);
}
