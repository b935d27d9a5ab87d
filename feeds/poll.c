/* poll.c - the weekly (or daily) round: fetch every feed, store new posts.
 *
 * The rules (first fetch, stale entries, the per-fetch cap, moves and
 * retirements) are stated in feeds.h; this file applies them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/store.h"
#include "internal.h"

#define REFLECTIONS_MAX 200   /* reflection URLs compared per participant */
#define UNCHANGED_BATCH 64    /* 304s recorded per transaction */
#define ENTRY_STORE_FAILED 2  /* on_entry's "stop": the store failed, not the feed */

struct poll_feed {
	struct feed feed;
	char blog_url[STORE_URL_MAX + 1];
	char feed_url[STORE_URL_MAX + 1];   /* what the participant row says */
	int discovered;                     /* a page named this feed during this run */
};

struct reflection_url {
	int thing;
	char url[FEEDS_URL_MAX + 1];        /* loose form (see loose_url) */
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
};

/* Per fetch: what the entry callback needs. */
struct entries {
	struct poll *p;
	struct poll_feed *pf;
	int first;
	int64_t cutoff;
	int digest_left;
	struct reflection_url *refl;     /* grown as needed: most have a few */
	size_t nrefl, caprefl;
	char feed_title[FEEDS_TITLE_MAX + 1];
	char feed_link[FEEDS_URL_MAX + 1];
};

/* A URL with what does not tell two pages apart removed: scheme, "www.",
 * a trailing slash.  "" when it is not an http(s) URL. */
static void
loose_url(const char *url, char *out, size_t n)
{
	char norm[FEEDS_URL_MAX + 1];
	const char *p = norm;
	size_t len;

	out[0] = '\0';
	if (feeds_normalise_url(url, norm, sizeof(norm)) == -1)
		return;
	p += strncmp(p, "https://", 8) == 0 ? 8 : 7;
	if (strncmp(p, "www.", 4) == 0)
		p += 4;
	snprintf(out, n, "%s", p);
	len = strlen(out);
	if (len > 0 && out[len - 1] == '/')
		out[len - 1] = '\0';
}

static int
add_reflection(void *arg, int thing, const char *url)
{
	struct entries *en = arg;

	if (en->nrefl == REFLECTIONS_MAX)
		return 1;
	if (en->nrefl == en->caprefl) {
		size_t cap = en->caprefl ? en->caprefl * 2 : 8;
		struct reflection_url *more = realloc(en->refl, cap * sizeof(*more));

		if (more == NULL)
			return err_set(en->p->e, "out of memory");
		en->refl = more;
		en->caprefl = cap;
	}
	en->refl[en->nrefl].thing = thing;
	loose_url(url, en->refl[en->nrefl].url, sizeof(en->refl[0].url));
	if (en->refl[en->nrefl].url[0] != '\0')
		en->nrefl++;
	return 0;
}

static int
reflected_thing(const struct entries *en, const char *link)
{
	char loose[FEEDS_URL_MAX + 1];

	loose_url(link, loose, sizeof(loose));
	for (size_t i = 0; loose[0] != '\0' && i < en->nrefl; i++)
		if (strcmp(en->refl[i].url, loose) == 0)
			return en->refl[i].thing;
	return 0;
}

static int
on_entry(void *arg, const struct feeds_entry *entry)
{
	struct entries *en = arg;
	struct post_record r;
	int rc;

	if (entry->feed_title != NULL)
		snprintf(en->feed_title, sizeof(en->feed_title), "%s", entry->feed_title);
	if (entry->feed_link != NULL)
		snprintf(en->feed_link, sizeof(en->feed_link), "%s", entry->feed_link);
	memset(&r, 0, sizeof(r));
	r.participant_id = en->pf->feed.participant_id;
	r.feed_id = en->pf->feed.id;
	r.key = entry->key;
	r.title = entry->title;
	r.link = entry->link;
	r.excerpt = entry->excerpt;
	r.published_at = entry->published_at;
	if (entry->published_at > 0)
		r.for_digest = entry->published_at >= en->cutoff;
	else
		r.for_digest = !en->first;
	if (en->digest_left == 0)
		r.for_digest = 0;
	r.thing = reflected_thing(en, entry->link);
	if (r.thing == 0)
		r.thing = feeds_match_thing(entry, en->p->things, en->p->nthings);
	rc = store_post_add(en->p->st, &r, en->p->now, NULL, en->p->e);
	if (rc == -1)
		return ENTRY_STORE_FAILED;
	if (rc == 0) {
		en->p->stats->new_posts++;
		if (r.for_digest) {
			en->p->stats->digest_posts++;
			en->digest_left--;
		}
	}
	return 0;
}

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

int
feeds_ingest(struct store *st, const struct feed *f, const char *buf, size_t len,
    const char *base_url, const struct feeds_thing *things, int nthings, int64_t now,
    struct feeds_stats *stats, struct err *e)
{
	struct poll p = { .st = st, .things = things, .nthings = nthings, .now = now,
		.stats = stats, .e = e };
	struct poll_feed pf;
	struct entries en = { .p = &p, .pf = &pf, .digest_left = FEEDS_DIGEST_PER_FETCH };
	struct err perr;
	int rc;

	memset(&pf, 0, sizeof(pf));
	pf.feed = *f;
	en.first = f->last_ok_at == 0;
	en.cutoff = (en.first ? now : f->last_ok_at) - FEEDS_NEW_WINDOW;
	rc = store_reflection_each_url(st, f->participant_id, add_reflection, &en, e);
	if (rc >= 0) {
		rc = feeds_parse(buf, len, base_url, on_entry, &en, NULL, &perr);
		if (rc == -1) {
			/* The feed is broken, not the store. */
			err_set(e, "%s", perr.msg);
			rc = 1;
		} else if (rc != 0) {
			rc = -1;
		} else if (en.feed_title[0] != '\0' && strcmp(en.feed_title, f->title) != 0) {
			rc = store_feed_set_title(st, f->id, en.feed_title, e);
		}
		if (rc == 0 && en.feed_link[0] != '\0' && strlen(en.feed_link) <= STORE_URL_MAX &&
		    strcmp(en.feed_link, f->site_url) != 0)
			rc = store_feed_set_site(st, f->id, en.feed_link, e);
	}
	free(en.refl);
	return rc;
}

/* Stores the entries of a fetched feed and its new validators, in one
 * transaction: a crash leaves the feed as if not fetched. */
static int
store_entries(struct poll *p, struct poll_feed *pf, struct fetch_job *job)
{
	char crumb[STORE_CRUMB_MAX];
	struct err perr, left;
	int rc;

	/* A feed that crashes the parser is set aside after two dead runs
	 * (store_crumb_enter): counted as a failure, so that its owner hears
	 * of it like of any broken feed, and with the response's validators
	 * kept, so that it is read again only once it has changed. */
	snprintf(crumb, sizeof(crumb), "feed %lld", (long long)pf->feed.id);
	if ((rc = store_crumb_enter(p->st, crumb, 2, p->e)) != 0) {
		if (rc == -1)
			return -1;
		log_info("feeds: %s (participant %lld): set aside", pf->feed.url,
		    (long long)pf->feed.participant_id);
		p->stats->failed++;
		return store_feed_set_aside(p->st, pf->feed.id, job->new_etag,
		    job->new_last_modified, "set aside: Things crashed twice in a row while "
		    "reading this feed (a bug: please report it)", p->now, p->e);
	}
	if (store_begin(p->st, p->e) == -1)
		return -1;
	fault_point("feed", job->body.data, job->body.len);
	rc = feeds_ingest(p->st, &pf->feed, buf_str(&job->body), job->body.len,
	    job->effective_url ? job->effective_url : pf->feed.url, p->things, p->nthings,
	    p->now, p->stats, &perr);
	if (store_crumb_leave(p->st, &left) == -1 && rc != -1) {
		*p->e = left;
		store_rollback(p->st);
		return -1;
	}
	if (rc == 1) {
		store_rollback(p->st);
		return failed(p, pf, perr.msg);
	}
	if (rc == -1 || store_feed_fetch_ok(p->st, pf->feed.id, job->new_etag,
	    job->new_last_modified, p->now, p->e) == -1 || sync_participant(p, pf) == -1 ||
	    store_commit(p->st, p->e) == -1) {
		if (rc == -1)
			err_set(p->e, "%s", perr.msg);
		store_rollback(p->st);
		return -1;
	}
	return 0;
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
	rc = feeds_find_alternate(buf_str(&job->body), job->body.len,
	    job->effective_url ? job->effective_url : pf->feed.url, &url, &e);
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
	return store_entries(p, pf, job);
}

static int
on_done(void *arg, struct fetch_job *job)
{
	struct poll *p = arg;
	int rc;

	if (p->fatal)
		return 0;
	rc = handle(p, job->user, job);
	if (rc == -1)
		p->fatal = 1;
	/* Done with the body: memory stays bounded by the transfers in flight,
	 * not by the number of participants. */
	if (rc != 1)
		buf_free(&job->body);
	return rc == 1 ? 1 : 0;
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
		char *checked = feeds_resolve_url(NULL, url);

		if (checked == NULL || strcmp(checked, url) != 0) {
			log_info("feeds: participant %lld: %s is not an http(s) URL; not fetched",
			    (long long)pf->feed.participant_id, url);
			free(checked);
			continue;
		}
		free(checked);
		if (store_feed_ensure(p->st, pf->feed.participant_id, url, p->now, &pf->feed,
		    p->e) == -1)
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
	rc = fetch_run(o, jobs, p.n, on_done, &p, p.e);
	if (rc == 0 && p.fatal)
		rc = -1;
	if (rc == 0 && record_unchanged(&p) == -1)
		rc = -1;
out:
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
