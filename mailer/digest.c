/*
 * digest.c - the weekly digest of the participants' new blog posts.
 *
 * Editions: once the configured day and hour of an ISO week have come, the
 * first run makes that week's edition: a window [from, to) of posts by
 * first_seen_at, where from is where the previous edition's window ended
 * (a week before the day and hour for the very first one) and to is the
 * run's time.  In the same transaction it queues one delivery per active
 * participant who has something to read (someone else's post in the
 * window), keyed by the week.  So however many runs come, crash or
 * overlap, a week has one edition and a participant one digest of it, and
 * after downtime the next edition covers everything since the last one,
 * never a post twice.
 *
 * Bodies are built only when a delivery is composed, just before it is
 * sent: one participant's posts at a time, never the whole cohort's mail.
 * (The notice of a broken feed is in feed_notice.c.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "internal.h"

#define WEEK_SECONDS (7 * 86400)
#define DIGEST_POSTS_MAX 100     /* posts listed in one digest; the rest are counted */

/* --- when --------------------------------------------------------------- */

int
mailer_digest_moment(const struct programme_config *c, int64_t now, int64_t *moment,
    char *week, size_t n)
{
	time_t t = (time_t)now, m;
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return -1;
	tm.tm_mday -= (tm.tm_wday - c->digest_weekday + 7) % 7;
	tm.tm_hour = c->digest_hour;
	tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	if ((m = mktime(&tm)) == (time_t)-1)
		return -1;
	if ((int64_t)m > now) {
		/* today is the day, but not yet the hour: last week's */
		tm.tm_mday -= 7;
		tm.tm_isdst = -1;
		if ((m = mktime(&tm)) == (time_t)-1)
			return -1;
	}
	*moment = (int64_t)m;
	/* %G-W%V: the ISO 8601 week-based year and week of the local date */
	if (week != NULL && strftime(week, n, "%G-W%V", &tm) == 0)
		return -1;
	return 0;
}

int
mailer_digest_due(struct mailer *m, int64_t now, int64_t *moment, struct err *e)
{
	const struct programme_config *c = &m->p->cfg;
	struct digest_edition ed;
	char week[STORE_WEEK_MAX + 1];
	int rc;

	if (!c->digest_enabled)
		return 0;
	if (mailer_digest_moment(c, now, moment, week, sizeof(week)) == -1)
		return err_set(e, "digest: cannot work out the local date of %lld", (long long)now);
	/* The programme has not begun by this week's digest time. */
	if (*moment < c->start)
		return 0;
	if ((rc = store_digest_get(m->st, week, &ed, e)) == -1)
		return -1;
	return rc == 1;
}

/* The window the next edition starts with: where the last one ended. */
static int
window_start(struct mailer *m, int64_t moment, int64_t *from, struct err *e)
{
	struct digest_edition last;
	int rc = store_digest_last(m->st, &last, e);

	if (rc == -1)
		return -1;
	*from = rc == 0 ? last.window_to : moment - WEEK_SECONDS;
	return 0;
}

/* --- queueing an edition ------------------------------------------------ */

/* The distinct authors of the posts of a window. */
struct authors {
	int64_t *ids;
	size_t n, cap;
	int posts;
	struct err *e;
};

static int
add_author(void *arg, const struct post *p)
{
	struct authors *a = arg;
	int64_t *ids;

	a->posts++;
	for (size_t i = 0; i < a->n; i++)
		if (a->ids[i] == p->participant_id)
			return 0;
	if ((ids = mailer_grow(a->ids, a->n, &a->cap, sizeof(*ids))) == NULL)
		return err_set(a->e, "out of memory");
	a->ids = ids;
	a->ids[a->n++] = p->participant_id;
	return 0;
}

struct edition_ctx {
	struct mailer *m;
	const struct authors *authors;
	const char *week;
	int64_t now;
	int queued;
	struct err *e;
};

static int
queue_digest(void *arg, const struct participant *p)
{
	struct edition_ctx *c = arg;
	struct delivery_request r = { 0 };
	int64_t id;
	int rc;

	/* Something to read: a post by anyone but themselves. */
	if (c->authors->n == 0 || (c->authors->n == 1 && c->authors->ids[0] == p->id))
		return 0;
	r.participant_id = p->id;
	r.recipient = p->address;
	r.kind = DK_DIGEST;
	r.key = c->week;
	r.due_at = c->now;
	r.msgid_domain = mailer_domain(c->m);
	if ((rc = store_delivery_enqueue(c->m->st, &r, c->now, &id, c->e)) == -1)
		return -1;
	c->queued += rc == 0;
	return 0;
}

int
mailer_schedule_digest(struct mailer *m, int64_t now, struct mailer_stats *stats,
    struct err *e)
{
	struct authors a = { .e = e };
	struct digest_edition ed;
	struct edition_ctx c = { .m = m, .authors = &a, .now = now, .e = e };
	int64_t moment;
	int rc;

	if ((rc = mailer_digest_due(m, now, &moment, e)) != 1)
		return rc;
	if (store_begin(m->st, e) == -1)
		return -1;
	memset(&ed, 0, sizeof(ed));
	if (mailer_digest_moment(&m->p->cfg, now, &moment, ed.week, sizeof(ed.week)) == -1) {
		store_rollback(m->st);
		return err_set(e, "digest: cannot work out the local date of %lld", (long long)now);
	}
	/* Again under the write lock: an overlapping run may have made it. */
	if ((rc = store_digest_get(m->st, ed.week, &ed, e)) != 1) {
		store_rollback(m->st);
		return rc;
	}
	rc = -1;
	if (window_start(m, moment, &ed.window_from, e) == -1)
		goto out;
	/* Posts stored by this very run (first_seen_at == now) are in. */
	ed.window_to = now + 1;
	if (ed.window_from > ed.window_to)
		ed.window_from = ed.window_to; /* the clock went back: an empty window */
	ed.created_at = now;
	if (store_post_each_digest(m->st, ed.window_from, ed.window_to, 0, add_author, &a, e) != 0)
		goto out;
	c.week = ed.week;
	if (store_participant_each(m->st, PS_ACTIVE, queue_digest, &c, e) != 0)
		goto out;
	ed.recipients = c.queued;
	ed.posts = a.posts;
	if (store_digest_add(m->st, &ed, e) == -1)
		goto out;
	rc = store_commit(m->st, e);
out:
	free(a.ids);
	if (rc == -1) {
		store_rollback(m->st);
		return -1;
	}
	log_info("digest %s: %d posts, queued for %d participants", ed.week, ed.posts,
	    ed.recipients);
	stats->digests += (size_t)c.queued;
	stats->enqueued += (size_t)c.queued;
	return 0;
}

/* --- composing a digest ------------------------------------------------- */

/* Who wrote a post and where, as the digest names them.  Never an
 * address: participants see each other's names and blogs only. */
struct byline {
	int64_t participant_id;
	int64_t feed_id;
	char name[STORE_NAME_MAX + 1];
	char blog[STORE_TITLE_MAX + 1];
	char blog_url[STORE_URL_MAX + 1];
};

struct item {
	struct post post;
	const struct byline *by;   /* into gather.bylines, which never moves */
};

struct gather {
	struct mailer *m;
	struct item *items;
	size_t n;
	int more;                /* posts beyond DIGEST_POSTS_MAX */
	struct byline *bylines;
	size_t nbylines;
	struct err *e;
};

/* The host of an http(s) URL, for a blog without a title. */
static void
url_host(const char *url, char *out, size_t n)
{
	const char *h = strstr(url, "://");

	h = h ? h + 3 : url;
	snprintf(out, n, "%.*s", (int)strcspn(h, "/?#:"), h);
}

static int
byline_of(struct gather *g, const struct post *p, const struct byline **out)
{
	struct byline *b;
	struct participant pt;
	struct feed f;
	int rc;

	for (size_t i = 0; i < g->nbylines; i++) {
		if (g->bylines[i].participant_id == p->participant_id &&
		    g->bylines[i].feed_id == p->feed_id) {
			*out = &g->bylines[i];
			return 0;
		}
	}
	b = &g->bylines[g->nbylines];
	memset(b, 0, sizeof(*b));
	b->participant_id = p->participant_id;
	b->feed_id = p->feed_id;
	memset(&pt, 0, sizeof(pt));
	if ((rc = store_participant_by_id(g->m->st, p->participant_id, &pt, g->e)) == -1)
		return -1;
	if (rc == 0)
		snprintf(b->name, sizeof(b->name), "%s", pt.name);
	if ((rc = store_feed_get(g->m->st, p->feed_id, &f, g->e)) == -1)
		return -1;
	if (rc == 0) {
		snprintf(b->blog, sizeof(b->blog), "%s", f.title);
		/* the blog's page as its feed names it: what the participant
		 * sent may be a post's address, or the feed's */
		snprintf(b->blog_url, sizeof(b->blog_url), "%s", f.site_url[0] ? f.site_url :
		    pt.blog_url[0] ? pt.blog_url : f.url);
		if (b->blog[0] == '\0')
			url_host(b->blog_url, b->blog, sizeof(b->blog));
	}
	*out = &g->bylines[g->nbylines++];
	return 0;
}

/* 1 if the digest lists this post already: the same author's post at the
 * same address with the same title (without an address, the same text).  A feed that gives one
 * post a new guid (a template that makes them up at each build, a post
 * listed twice under two guids) stores it again; its readers should see
 * it once. */
static int
listed(const struct gather *g, const struct post *p)
{
	for (size_t i = 0; i < g->n; i++) {
		const struct post *q = &g->items[i].post;

		if (q->participant_id != p->participant_id)
			continue;
		/* the link alone says nothing: some feeds link every item to
		 * their home page */
		if (strcmp(q->link, p->link) == 0 && strcmp(q->title, p->title) == 0 &&
		    (p->link[0] != '\0' || strcmp(q->excerpt, p->excerpt) == 0))
			return 1;
	}
	return 0;
}

static int
gather_post(void *arg, const struct post *p)
{
	struct gather *g = arg;
	struct item *it;

	if (listed(g, p))
		return 0;
	if (g->n == DIGEST_POSTS_MAX) {
		g->more++;
		return 0;
	}
	it = &g->items[g->n];
	it->post = *p;
	if (byline_of(g, p, &it->by) == -1)
		return -1;
	g->n++;
	return 0;
}

/* By Thing (posts about no Thing last), then author, then first seen. */
static int
item_order(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int tx = x->post.thing > 0 ? x->post.thing : 1 << 30;
	int ty = y->post.thing > 0 ? y->post.thing : 1 << 30;
	int c;

	if (tx != ty)
		return tx < ty ? -1 : 1;
	c = strcasecmp(x->by->name, y->by->name);
	if (c != 0)
		return c;
	if (x->post.first_seen_at != y->post.first_seen_at)
		return x->post.first_seen_at < y->post.first_seen_at ? -1 : 1;
	return x->post.id < y->post.id ? -1 : x->post.id > y->post.id;
}

static int
is_web_url(const char *url)
{
	/* schemes are case-insensitive (RFC 3986 3.1) */
	return strncasecmp(url, "https://", 8) == 0 || strncasecmp(url, "http://", 7) == 0;
}

#define UNTITLED_CHARS 80   /* of an untitled post's text, standing for its title */

/* The first max_chars characters of UTF-8 text s, cut at a space when
 * one is in the second half, with "…" when cut, into out (n bytes).
 * 1 if it was cut. */
static int
first_words(const char *s, size_t max_chars, char *out, size_t n)
{
	size_t i = 0, chars = 0, cut;

	while (s[i] != '\0' && chars < max_chars && i + 4 < n) {
		i++;
		while ((s[i] & 0xc0) == 0x80)
			i++;
		chars++;
	}
	if (s[i] == '\0') {
		snprintf(out, n, "%s", s);
		return 0;
	}
	for (cut = i; cut > i / 2 && s[cut] != ' '; cut--)
		;
	if (cut == i / 2)
		cut = i;
	while (cut > 0 && (s[cut - 1] == ' ' || s[cut - 1] == ',' || s[cut - 1] == ':' ||
	    s[cut - 1] == '.'))
		cut--;
	snprintf(out, n, "%.*s\xe2\x80\xa6", (int)cut, s);
	return 1;
}

/* One post as a list item: linked title, byline, excerpt.  Everything
 * that came from a feed goes through content's escaping, isolated if it
 * is right-to-left (digest_bidi.c).  A post without a title (a Mastodon or
 * micro.blog post, a Tumblr photo) is named by its first words, as feed
 * readers do, and its text follows only if there is more of it. */
static int
write_item(struct buf *out, const struct item *it)
{
	const struct byline *b = it->by;
	const struct post *p = &it->post;
	const char *title = p->title, *excerpt = p->excerpt;
	char words[UNTITLED_CHARS * 4 + 8];
	/* each with room for the isolates */
	char title_s[sizeof(p->title) + sizeof(words) + 8], name_s[sizeof(b->name) + 8];
	char blog_s[sizeof(b->blog) + 8], excerpt_s[sizeof(p->excerpt) + 8];
	int rc;

	if (title[0] == '\0' && excerpt[0] != '\0') {
		if (!first_words(excerpt, UNTITLED_CHARS, words, sizeof(words)))
			excerpt = "";
		title = digest_isolated(words, title_s, sizeof(title_s));
	} else if (title[0] == '\0') {
		title = "(untitled)";
	} else {
		title = digest_isolated(title, title_s, sizeof(title_s));
	}

	rc = buf_puts(out, "- **");
	if (is_web_url(p->link))
		rc |= content_markdown_link(out, title, p->link);
	else
		rc |= content_markdown_escape(out, title);
	rc |= buf_puts(out, "**\\\n  by ");
	rc |= content_markdown_escape(out, b->name[0] ?
	    digest_isolated(b->name, name_s, sizeof(name_s)) : "a participant");
	if (b->blog[0] != '\0') {
		digest_isolated(b->blog, blog_s, sizeof(blog_s));
		rc |= buf_puts(out, ", on ");
		if (is_web_url(b->blog_url))
			rc |= content_markdown_link(out, blog_s, b->blog_url);
		else
			rc |= content_markdown_escape(out, blog_s);
	}
	if (excerpt[0] != '\0') {
		rc |= buf_puts(out, "\\\n  ");
		rc |= content_markdown_escape(out, digest_isolated(excerpt, excerpt_s,
		    sizeof(excerpt_s)));
	}
	rc |= buf_puts(out, "\n");
	return rc ? -1 : 0;
}

static int
write_heading(struct mailer *m, struct buf *out, int thing)
{
	const struct thing *t = thing > 0 ? programme_thing(m->p, thing) : NULL;
	int rc = buf_puts(out, "\n## ");

	if (t != NULL) {
		rc |= buf_printf(out, "Thing %d: ", t->number);
		rc |= content_markdown_escape(out, t->title);
	} else {
		rc |= buf_puts(out, "Other posts");
	}
	rc |= buf_puts(out, "\n\n");
	return rc ? -1 : 0;
}

static int
write_body(struct mailer *m, struct gather *g, struct buf *out)
{
	int group = -1, rc = 0;

	qsort(g->items, g->n, sizeof(*g->items), item_order);
	for (size_t i = 0; i < g->n && rc == 0; i++) {
		const struct thing *t = programme_thing(m->p, g->items[i].post.thing);
		int this = t ? t->number : 0;

		if (this != group && (rc = write_heading(m, out, this)) == -1)
			break;
		group = this;
		rc = write_item(out, &g->items[i]);
	}
	if (rc == 0 && g->n == 0)
		rc = buf_puts(out, "The posts this digest was made for are no longer available.\n");
	if (rc == 0 && g->more > 0)
		rc = buf_printf(out, "\nAnd %d more new post%s: too many to list here.\n", g->more,
		    g->more == 1 ? "" : "s");
	return rc;
}

int
digest_compose_body(struct mailer *m, const struct digest_edition *ed, int64_t exclude,
    int *nposts, struct err *e)
{
	struct gather g = { .m = m, .e = e };
	int rc = -1;

	buf_reset(&m->digest);
	g.items = calloc(DIGEST_POSTS_MAX, sizeof(*g.items));
	g.bylines = calloc(DIGEST_POSTS_MAX, sizeof(*g.bylines));
	if (g.items == NULL || g.bylines == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	if (store_post_each_digest(m->st, ed->window_from, ed->window_to, exclude, gather_post,
	    &g, e) != 0)
		goto out;
	if (write_body(m, &g, &m->digest) == -1) {
		err_set(e, "digest %s: the body is too large", ed->week);
		goto out;
	}
	if (nposts != NULL)
		*nposts = (int)g.n + g.more;
	rc = 0;
out:
	free(g.items);
	free(g.bylines);
	return rc;
}

int
digest_edition_of(struct mailer *m, const struct delivery *d, struct digest_edition *ed,
    struct err *e)
{
	int rc;

	if (m->preview != NULL) {
		*ed = *m->preview;
		return 0;
	}
	if ((rc = store_digest_get(m->st, d->key, ed, e)) == -1)
		return -1;
	if (rc == 1)
		return err_set(e, "delivery %lld: no digest edition '%.20s'", (long long)d->id,
		    d->key);
	return 0;
}

int
mailer_preview_digest(struct mailer *m, const struct participant *p, int64_t now,
    struct buf *raw, const char **text, const char **html, char *week, size_t n,
    struct err *e)
{
	struct digest_edition ed, this_week;
	struct delivery d;
	int64_t moment;
	int rc, nposts = 0;

	memset(&ed, 0, sizeof(ed));
	if (mailer_digest_moment(&m->p->cfg, now, &moment, ed.week, sizeof(ed.week)) == -1)
		return err_set(e, "digest: cannot work out the local date of %lld", (long long)now);
	/* This week's is made already: the next one is next week's. */
	if ((rc = store_digest_get(m->st, ed.week, &this_week, e)) == -1)
		return -1;
	if (rc == 0)
		mailer_digest_moment(&m->p->cfg, moment + WEEK_SECONDS + 3600, &moment, ed.week,
		    sizeof(ed.week));
	if (window_start(m, moment, &ed.window_from, e) == -1)
		return -1;
	ed.window_to = now + 1;
	if (ed.window_from > ed.window_to)
		ed.window_from = ed.window_to;
	snprintf(week, n, "%s", ed.week);
	if (digest_compose_body(m, &ed, p->id, &nposts, e) == -1)
		return -1;
	if (nposts == 0)
		return 1;
	memset(&d, 0, sizeof(d));
	d.participant_id = p->id;
	snprintf(d.recipient, sizeof(d.recipient), "%s", p->address);
	snprintf(d.kind, sizeof(d.kind), "%s", DK_DIGEST);
	snprintf(d.key, sizeof(d.key), "%s", ed.week);
	snprintf(d.message_id, sizeof(d.message_id), "preview.digest@%s", mailer_domain(m));
	m->preview = &ed;
	rc = message_build(m, &d, p, raw, e);
	m->preview = NULL;
	if (rc == -1)
		return -1;
	*text = buf_str(&m->personal.text);
	*html = buf_str(&m->personal.html);
	return 0;
}
