/* poll.c - the weekly (or daily) round: fetch every feed, store new posts.
 *
 * The rules (first fetch, stale entries, the per-fetch cap, moves and
 * retirements) are stated in feeds.h; this file applies them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../store/store.h"
#include "internal.h"

#define UNCHANGED_BATCH 64    /* 304s recorded per transaction */
#define STORE_BATCH 32        /* documents read stored per transaction */
#define PENDING_MAX 64        /* documents fetched and not yet stored, */
#define PENDING_BYTES_MAX ((size_t)32 << 20) /* and their bytes (a feed may have 16 MiB) */

struct poll_feed {
	struct feed feed;
	char blog_url[STORE_URL_MAX + 1];
	char feed_url[STORE_URL_MAX + 1];   /* what the participant row says */
	int discovered;                     /* a page named this feed during this run */
};

/* A feed that answered 304, waiting to be recorded with others. */
struct unchanged {
	int64_t id;
	char etag[FEEDS_ETAG_MAX + 1];
	int64_t last_modified;
};

struct poll {
	struct store *st;
	const struct feeds_options *o;
	const struct feeds_thing *things;
	int nthings;
	int64_t now;
	struct feeds_stats *stats;
	struct poll_feed *feeds;
	size_t n, cap;
	int fatal;
	struct err *e;      /* store and run errors (points at err) */
	struct err err;
	struct unchanged unchanged[UNCHANGED_BATCH];
	size_t nunchanged;
	struct reader *rd;
	size_t pending_bytes;  /* of the documents the reader has, read or not */
};

/* A fetched document on its way through the reader to the store. */
struct pending {
	struct read_job job;      /* first: what the reader hands back */
	struct poll_feed *pf;
	char *base_url;
	size_t bytes;             /* the document's, counted in pending_bytes */
	char etag[FEEDS_ETAG_MAX + 1];
	int64_t last_modified;
};

static int store_ready(struct poll *p, int all);
static int set_aside(struct poll *p, struct poll_feed *pf, const char *etag,
    int64_t last_modified, const char *what);

/* Keeps the participant's feed_url in step with the feed row, so that the
 * next run finds the same row (and its validators and dedupe keys). */
static int
sync_participant(struct poll *p, struct poll_feed *pf)
{
	if (strcmp(pf->feed_url, pf->feed.url) == 0)
		return 0;
	if (store_participant_set_blog(p->st, pf->feed.participant_id, pf->blog_url,
	    pf->feed.url, p->e) == -1)
		return -1;
	snprintf(pf->feed_url, sizeof(pf->feed_url), "%s", pf->feed.url);
	return 0;
}

static int
move_feed(struct poll *p, struct poll_feed *pf, const char *url)
{
	int rc;

	if (strcmp(url, pf->feed.url) == 0)
		return 0;
	if (strlen(url) > STORE_URL_MAX)
		return 0; /* keep fetching the old address rather than fail */
	if (store_begin(p->st, p->e) == -1)
		return -1;
	rc = store_feed_set_url(p->st, pf->feed.id, url, p->e);
	if (rc == 0) {
		log_info("feeds: feed %lld moved from %s to %s", (long long)pf->feed.id,
		    pf->feed.url, url);
		snprintf(pf->feed.url, sizeof(pf->feed.url), "%s", url);
		pf->feed.etag[0] = '\0';
		pf->feed.last_modified = 0;
		rc = sync_participant(p, pf);
	}
	if (rc == 0)
		rc = store_commit(p->st, p->e);
	else
		store_rollback(p->st);
	if (rc == 0)
		p->stats->moved++;
	return rc;
}

static int
failed(struct poll *p, struct poll_feed *pf, const char *reason)
{
	log_info("feeds: %s (participant %lld): %s", pf->feed.url,
	    (long long)pf->feed.participant_id, reason);
	p->stats->failed++;
	return store_feed_fetch_failed(p->st, pf->feed.id, reason, p->now, p->e);
}

/* The host of an http(s) URL, lowercased, without a leading "www." and
 * without the port; "" if it is not one. */
static void
site_of(const char *url, char *out, size_t n)
{
	char norm[FEEDS_URL_MAX + 1];
	const char *h;

	out[0] = '\0';
	if (feeds_normalise_url(url, norm, sizeof(norm)) == -1 ||
	    (h = strstr(norm, "://")) == NULL)
		return;
	h += 3;
	if (strncmp(h, "www.", 4) == 0)
		h += 4;
	snprintf(out, n, "%.*s", (int)strcspn(h, ":/"), h);
}

/* Why a feed that has worked must not take the feed url that the page now
 * at its address announces, or NULL if it may.  Such a page may be the
 * blog (the feed moved) or anything else: a parked domain, a platform's
 * front page, another participant's blog.  Taking another participant's
 * feed would put their posts under this participant's name in every
 * digest; a feed on another site is not this blog's (a real move across
 * sites is a permanent redirect, which move_feed follows). */
static const char *
refused_move(const struct poll *p, const struct poll_feed *pf, const char *url)
{
	char a[FEEDS_URL_MAX + 1], b[FEEDS_URL_MAX + 1];

	if (pf->feed.last_ok_at == 0)
		return NULL; /* the blog's own page, read for its feed the first time */
	if (feeds_normalise_url(url, a, sizeof(a)) == -1)
		return NULL;
	for (size_t i = 0; i < p->n; i++) {
		const struct poll_feed *o = &p->feeds[i];

		if (o->feed.participant_id != pf->feed.participant_id &&
		    feeds_normalise_url(o->feed.url, b, sizeof(b)) == 0 && strcmp(a, b) == 0)
			return "the feed's address now shows a web page that names another "
			    "participant's feed: not followed";
	}
	site_of(url, a, sizeof(a));
	site_of(pf->feed.url, b, sizeof(b));
	if (strcmp(a, b) != 0)
		return "the feed's address now shows a web page that names a feed on another "
		    "site: not followed";
	return NULL;
}

/* feeds_find_alternate on a page, under the crash crumb like a feed's
 * parse.  The crumb is one per process: the reader is emptied first, so
 * that a crash here is not blamed on a feed the reader holds (pages are
 * rare: a blog's first fetch, or a feed that became its blog's page).
 * As feeds_find_alternate, or 2 when the page is set aside, -1 on a
 * store or crumb error (in p->e). */
static int
find_alternate(struct poll *p, struct poll_feed *pf, struct fetch_job *job, char **url,
    struct err *e)
{
	char crumb[64];
	struct err left;
	int rc;

	if (store_ready(p, 1) == -1)
		return -1;
	snprintf(crumb, sizeof(crumb), "page %lld", (long long)pf->feed.id);
	if ((rc = store_crumb_enter(p->st, crumb, 2, p->e)) != 0)
		return rc == 1 ? 2 : -1;
	fault_point("page", job->body.data, job->body.len);
	rc = feeds_find_alternate(buf_str(&job->body), job->body.len,
	    job->effective_url ? job->effective_url : pf->feed.url, url, e);
	if (store_crumb_leave(p->st, &left) == -1) {
		if (rc == 0)
			free(*url);
		*p->e = left;
		return -1;
	}
	return rc;
}

/* A page instead of a feed: the blog's address, or a feed URL that now
 * serves the blog.  Follows what it announces, once per run, unless
 * refused_move says no.  1 to fetch again, 0 done (failure recorded), -1
 * store error. */
static int
follow_page(struct poll *p, struct poll_feed *pf, struct fetch_job *job)
{
	struct err e;
	const char *refused;
	char *url = NULL;
	int rc;

	if (pf->discovered)
		return failed(p, pf, "the feed a page announced is a web page too");
	if ((rc = find_alternate(p, pf, job, &url, &e)) == -1)
		return -1;
	if (rc == 2)
		return set_aside(p, pf, job->new_etag, job->new_last_modified, "page");
	if (rc != 0)
		return failed(p, pf, e.msg);
	if (strcmp(url, pf->feed.url) == 0) {
		free(url);
		return failed(p, pf, "the page announces itself as its feed, but is a web page");
	}
	if ((refused = refused_move(p, pf, url)) != NULL) {
		log_info("feeds: %s now names %s", pf->feed.url, url);
		free(url);
		return failed(p, pf, refused);
	}
	pf->discovered = 1;
	if (move_feed(p, pf, url) == -1) {
		free(url);
		return -1;
	}
	free(job->url);
	job->url = url;
	job->etag[0] = '\0';
	job->last_modified = 0;
	return 1;
}

/* Records the 304s gathered so far in one transaction: most feeds answer
 * 304 most of the time, and a commit each would cost more than their
 * fetch.  A crash before it only means they are fetched again. */
static int
record_unchanged(struct poll *p)
{
	size_t n = p->nunchanged;

	p->nunchanged = 0;
	if (n == 0)
		return 0;
	if (store_begin(p->st, p->e) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (store_feed_fetch_ok(p->st, p->unchanged[i].id, p->unchanged[i].etag,
		    p->unchanged[i].last_modified, p->now, p->e) == -1) {
			store_rollback(p->st);
			return -1;
		}
	}
	return store_commit(p->st, p->e);
}

static int
unchanged(struct poll *p, struct poll_feed *pf, struct fetch_job *job)
{
	struct unchanged *u = &p->unchanged[p->nunchanged++];

	p->stats->not_modified++;
	u->id = pf->feed.id;
	snprintf(u->etag, sizeof(u->etag), "%s", job->new_etag);
	u->last_modified = job->new_last_modified;
	return p->nunchanged == UNCHANGED_BATCH ? record_unchanged(p) : 0;
}

static void
pending_free(struct pending *pd)
{
	buf_free(&pd->job.body);
	feeds_read_free(&pd->job.read);
	free(pd->base_url);
	free(pd);
}

/* A document whose crumb says it crashed Things twice: counted as a
 * failure, so that its owner hears of it like of any broken feed, and with
 * the response's validators kept, so that it is read again only once it
 * has changed.  Recorded at once, outside any batch: its crumb is already
 * cleared, so a batch rolled back would cost two more dead runs. */
static int
set_aside(struct poll *p, struct poll_feed *pf, const char *etag, int64_t last_modified,
    const char *what)
{
	char reason[160];

	log_info("feeds: %s (participant %lld): set aside", pf->feed.url,
	    (long long)pf->feed.participant_id);
	p->stats->failed++;
	snprintf(reason, sizeof(reason), "set aside: Things crashed twice in a row while "
	    "reading this %s (a bug: please report it)", what);
	return store_feed_set_aside(p->st, pf->feed.id, etag, last_modified, reason, p->now,
	    p->e);
}

/* Stores one document the reader has read, inside the batch's transaction. */
static int
store_read(struct poll *p, struct pending *pd)
{
	struct poll_feed *pf = pd->pf;

	if (pd->job.failed[0] != '\0')
		return err_set(p->e, "%s", pd->job.failed);
	if (pd->job.read.rc == 1)
		return failed(p, pf, pd->job.read.why);
	if (pd->job.read.rc != 0)
		return err_set(p->e, "%s: %s", pf->feed.url, pd->job.read.why);
	if (feeds_store_read(p->st, &pf->feed, &pd->job.read, p->now, p->stats, p->e) == -1 ||
	    store_feed_fetch_ok(p->st, pf->feed.id, pd->etag, pd->last_modified, p->now,
	    p->e) == -1)
		return -1;
	return sync_participant(p, pf);
}

/* Takes n documents from the reader (waiting for it as needed), records
 * those set aside at once, and puts the others in batch.  -1 if recording
 * failed (every document taken is freed then). */
static int
take_batch(struct poll *p, size_t n, struct pending **batch, size_t *got)
{
	int rc = 0;

	*got = 0;
	for (size_t i = 0; i < n; i++) {
		struct pending *pd = (struct pending *)(void *)reader_take(p->rd, 1);

		p->pending_bytes -= pd->bytes;
		if (rc == 0 && !pd->job.set_aside) {
			batch[(*got)++] = pd;
			continue;
		}
		if (rc == 0)
			rc = set_aside(p, pd->pf, pd->etag, pd->last_modified, "feed");
		pending_free(pd);
	}
	if (rc == -1) {
		while (*got > 0)
			pending_free(batch[--*got]);
	}
	return rc;
}

/* Stores what the reader has read, STORE_BATCH documents to a transaction
 * (with the feeds' new validators: a crash before the commit only means
 * they are fetched again).  Waits for the reader only when too many
 * documents or bytes are pending (memory stays bounded whatever the
 * feeds), or with all, until none is.  The documents are taken before the
 * transaction begins: waiting for the reader never holds the store's
 * write lock, and a transaction is never open across a network wait. */
static int
store_ready(struct poll *p, int all)
{
	struct pending *batch[PENDING_MAX];

	for (;;) {
		size_t pending, ready, n = STORE_BATCH, got;
		int rc = 0;

		reader_count(p->rd, &pending, &ready);
		if (pending == 0)
			return 0;
		if (!all && pending < PENDING_MAX && p->pending_bytes < PENDING_BYTES_MAX) {
			if (ready < STORE_BATCH)
				return 0;
			n = ready;
		}
		if (n > pending)
			n = pending;
		if (n > PENDING_MAX)
			n = PENDING_MAX;
		if (take_batch(p, n, batch, &got) == -1)
			return -1;
		if (got > 0 && (rc = store_begin(p->st, p->e)) == 0) {
			for (size_t i = 0; i < got && rc == 0; i++)
				rc = store_read(p, batch[i]);
			if (rc == 0)
				rc = store_commit(p->st, p->e);
			else
				store_rollback(p->st);
		}
		for (size_t i = 0; i < got; i++)
			pending_free(batch[i]);
		if (rc == -1)
			return -1;
	}
}

/* Hands a fetched document to the reader. */
static int
read_feed(struct poll *p, struct poll_feed *pf, struct fetch_job *job)
{
	struct pending *pd = calloc(1, sizeof(*pd));

	if (pd == NULL || (pd->base_url = strdup(job->effective_url ? job->effective_url :
	    pf->feed.url)) == NULL) {
		free(pd);
		return err_set(p->e, "out of memory");
	}
	pd->pf = pf;
	pd->bytes = job->body.len;
	p->pending_bytes += pd->bytes;
	pd->job.body = job->body;       /* the reader's now */
	memset(&job->body, 0, sizeof(job->body));
	pd->job.base_url = pd->base_url;
	snprintf(pd->job.crumb, sizeof(pd->job.crumb), "feed %lld", (long long)pf->feed.id);
	snprintf(pd->etag, sizeof(pd->etag), "%s", job->new_etag);
	pd->last_modified = job->new_last_modified;
	reader_put(p->rd, &pd->job);
	return store_ready(p, 0);
}

/* Takes back whatever the reader still has after a failure. */
static void
drop_pending(struct poll *p)
{
	struct read_job *job;

	while ((job = reader_take(p->rd, 1)) != NULL) {
		p->pending_bytes -= ((struct pending *)(void *)job)->bytes;
		pending_free((struct pending *)(void *)job);
	}
}

/* 0 done with the job, 1 fetch job->url again, -1 store error. */
static int
handle(struct poll *p, struct poll_feed *pf, struct fetch_job *job)
{
	char reason[FETCH_ERROR_MAX + 32];

	if (!job->ok)
		return failed(p, pf, job->error);
	if (job->status == 410) {
		log_info("feeds: %s is gone (410): retired", pf->feed.url);
		p->stats->retired++;
		return store_feed_retire(p->st, pf->feed.id, "the server says the feed is gone "
		    "(HTTP 410); it will not be fetched again", p->now, p->e);
	}
	if (!job->not_modified && (job->status < 200 || job->status > 299)) {
		snprintf(reason, sizeof(reason), "%s", job->error[0] ? job->error : "HTTP error");
		return failed(p, pf, reason);
	}
	/* Moved for good, to a place that answers (a 304 too: the validators
	 * travel with the redirect). */
	if (job->moved_url != NULL && move_feed(p, pf, job->moved_url) == -1)
		return -1;
	if (job->not_modified)
		return unchanged(p, pf, job);
	if (feeds_looks_like_html(job->content_type, buf_str(&job->body), job->body.len))
		return follow_page(p, pf, job);
	return read_feed(p, pf, job);
}

static int
on_done(void *arg, struct fetch_job *job)
{
	struct poll *p = arg;
	int rc;

	rc = p->fatal ? -1 : handle(p, job->user, job);
	/* Done with the body: memory stays bounded by the transfers in flight,
	 * not by the number of participants. */
	if (rc != 1)
		buf_free(&job->body);
	if (rc == -1)
		p->fatal = 1;   /* and the round stops: nothing more can be stored */
	return rc;
}

static int
collect(void *arg, const struct participant *pt)
{
	struct poll *p = arg;
	struct poll_feed *pf;

	if (pt->feed_url[0] == '\0' && pt->blog_url[0] == '\0')
		return 0;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct poll_feed *more = realloc(p->feeds, cap * sizeof(*more));

		if (more == NULL)
			return err_set(p->e, "out of memory");
		p->feeds = more;
		p->cap = cap;
	}
	pf = &p->feeds[p->n++];
	memset(pf, 0, sizeof(*pf));
	pf->feed.participant_id = pt->id;
	snprintf(pf->blog_url, sizeof(pf->blog_url), "%s", pt->blog_url);
	snprintf(pf->feed_url, sizeof(pf->feed_url), "%s", pt->feed_url);
	return 0;
}

/* Finds or creates each participant's feed row; drops those not fetched
 * (gone, or a URL that is not http(s)). */
static int
ensure_rows(struct poll *p)
{
	size_t kept = 0;

	for (size_t i = 0; i < p->n; i++) {
		struct poll_feed *pf = &p->feeds[i];
		const char *url = pf->feed_url[0] ? pf->feed_url : pf->blog_url;
		/* The form a fetch needs (a host in another script in ASCII);
		 * sync_participant then keeps it as the participant's feed. */
		char *checked = feeds_resolve_url(NULL, url);
		int rc;

		if (checked == NULL || strlen(checked) > STORE_URL_MAX) {
			log_info("feeds: participant %lld: %s is not an http(s) URL; not fetched",
			    (long long)pf->feed.participant_id, url);
			free(checked);
			continue;
		}
		rc = store_feed_ensure(p->st, pf->feed.participant_id, checked, p->now, &pf->feed,
		    p->e);
		free(checked);
		if (rc == -1)
			return -1;
		if (pf->feed.status == FS_ACTIVE)
			p->feeds[kept++] = *pf;
	}
	p->n = kept;
	return 0;
}

int
feeds_poll(struct store *st, const struct feeds_options *o, const struct feeds_thing *things,
    int nthings, int64_t now, struct feeds_stats *stats, struct err *e)
{
	struct poll p = { .st = st, .o = o, .things = things, .nthings = nthings, .now = now,
		.stats = stats };
	struct fetch_job *jobs = NULL;
	int rc = -1;

	p.e = &p.err;
	p.err.msg[0] = '\0';
	memset(stats, 0, sizeof(*stats));
	/* A commit lost to a power cut costs a fetch again (validators and
	 * posts go together), so a round need not wait for the disk at each
	 * of its hundreds of small commits. */
	if (store_set_fast(st, 1, p.e) == -1)
		goto out;
	if (store_participant_each(st, PS_ACTIVE, collect, &p, p.e) != 0)
		goto out;
	/* One transaction for the rows, not one each. */
	if (store_begin(st, p.e) == -1)
		goto out;
	if (ensure_rows(&p) == -1) {
		store_rollback(st);
		goto out;
	}
	if (store_commit(st, p.e) == -1)
		goto out;
	if (p.n == 0) {
		rc = 0;
		goto out;
	}
	if ((jobs = calloc(p.n, sizeof(*jobs))) == NULL) {
		err_set(p.e, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < p.n; i++) {
		if ((jobs[i].url = strdup(p.feeds[i].feed.url)) == NULL) {
			err_set(p.e, "out of memory");
			goto out;
		}
		snprintf(jobs[i].etag, sizeof(jobs[i].etag), "%s", p.feeds[i].feed.etag);
		jobs[i].last_modified = p.feeds[i].feed.last_modified;
		jobs[i].user = &p.feeds[i];
	}
	stats->feeds = (int)p.n;
	/* Reading on a thread of its own pays only with a CPU to run it. */
	if (reader_start(&p.rd, st, things, nthings, sysconf(_SC_NPROCESSORS_ONLN) > 1,
	    p.e) == -1)
		goto out;
	rc = fetch_run(o, jobs, p.n, on_done, &p, p.e);
	if (rc == 1 || p.fatal)
		rc = -1;
	if (rc == 0 && (store_ready(&p, 1) == -1 || record_unchanged(&p) == -1))
		rc = -1;
out:
	if (p.rd != NULL) {
		drop_pending(&p);
		reader_stop(p.rd);
	}
	if (store_set_fast(st, 0, rc == -1 ? &(struct err){ { 0 } } : p.e) == -1)
		rc = -1;
	if (rc == -1)
		err_set(e, "feeds: %s", p.err.msg);
	for (size_t i = 0; jobs != NULL && i < p.n; i++)
		fetch_job_free(&jobs[i]);
	free(jobs);
	free(p.feeds);
	return rc;
}
