/*
 * feed_notice.c - "your blog's feed has stopped working": one message to
 * the owner of a feed that keeps failing (or is gone), queued once per
 * breakage, with the advice its kind of failure calls for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../feeds/feeds.h"
#include "internal.h"

#define NOTICES_MAX 10000        /* broken-feed notices queued by one run */

struct broken {
	int64_t feed_id, participant_id, last_ok_at;
};

struct broken_list {
	struct broken *v;
	size_t n, cap;
	struct err *e;
};

static int
collect_broken(void *arg, const struct feed *f)
{
	struct broken_list *l = arg;
	struct broken *v;

	if (l->n == NOTICES_MAX)
		return 1; /* the rest next run */
	if ((v = mailer_grow(l->v, l->n, &l->cap, sizeof(*v))) == NULL)
		return err_set(l->e, "out of memory");
	l->v = v;
	l->v[l->n].feed_id = f->id;
	l->v[l->n].participant_id = f->participant_id;
	l->v[l->n].last_ok_at = f->last_ok_at;
	l->n++;
	return 0;
}

static int
queue_notice(struct mailer *m, const struct broken *b, int64_t now, int *queued,
    struct err *e)
{
	struct delivery_request r = { 0 };
	struct participant p;
	char key[STORE_KEY_MAX + 1];
	int64_t id;
	int rc;

	if ((rc = store_participant_by_id(m->st, b->participant_id, &p, e)) != 0)
		return rc == 1 ? 0 : -1;
	/* One notice per breakage: the key names the last success before it
	 * (a feed that works again and breaks again gets a new one). */
	snprintf(key, sizeof(key), "%lld-%lld", (long long)b->feed_id, (long long)b->last_ok_at);
	r.participant_id = p.id;
	r.recipient = p.address;
	r.kind = DK_FEED_BROKEN;
	r.key = key;
	r.due_at = now;
	r.msgid_domain = mailer_domain(m);
	if ((rc = store_delivery_enqueue(m->st, &r, now, &id, e)) == -1)
		return -1;
	*queued += rc == 0;
	return store_feed_mark_told(m->st, b->feed_id, now, e);
}

int
mailer_schedule_feed_notices(struct mailer *m, int64_t now, struct mailer_stats *stats,
    struct err *e)
{
	struct broken_list l = { .e = e };
	int queued = 0, rc = -1;

	if (store_begin(m->st, e) == -1)
		return -1;
	/* Collected first: the notices change the rows the query walks. */
	if (store_feed_each_broken(m->st, m->p->cfg.feeds_failures_notice, collect_broken, &l,
	    e) == -1)
		goto out;
	for (size_t i = 0; i < l.n; i++)
		if (queue_notice(m, &l.v[i], now, &queued, e) == -1)
			goto out;
	rc = store_commit(m->st, e);
out:
	if (rc == -1)
		store_rollback(m->st);
	free(l.v);
	if (rc == 0 && queued > 0) {
		log_info("feeds: told %d participant%s that their feed stopped working", queued,
		    queued == 1 ? "" : "s");
		stats->feed_notices += (size_t)queued;
		stats->enqueued += (size_t)queued;
	}
	return rc;
}

int
notice_feed_of(struct mailer *m, const struct delivery *d, struct feed *f, int *problem,
    struct err *e)
{
	int64_t id;
	char num[24];
	int rc;

	snprintf(num, sizeof(num), "%.*s", (int)strcspn(d->key, "-"), d->key);
	if (str_to_int64(num, 1, INT64_MAX, &id) == -1)
		return err_set(e, "delivery %lld: key '%.30s' names no feed", (long long)d->id,
		    d->key);
	if ((rc = store_feed_get(m->st, id, f, e)) == -1)
		return -1;
	if (rc == 1)
		return err_set(e, "delivery %lld: feed %lld is gone from the store",
		    (long long)d->id, (long long)id);
	*problem = (int)feeds_problem_of(f->status == FS_GONE, f->last_error);
	return 0;
}
