/* ingest.c - a fetched feed document to stored posts, in two steps:
 * reading it into memory (feeds_read: parsing, excerpts, Thing matching by
 * content; pure, so a worker thread can do it while the next feeds are
 * still arriving) and storing what was read by the rules of feeds.h
 * (feeds_store_read: the store's thread, inside its transaction). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/store.h"
#include "internal.h"

#define REFLECTIONS_MAX 200   /* reflection URLs compared per participant */
#define READ_NO_MEMORY 2      /* on_read_entry's "stop": not the document's fault */
#define FUTURE_SLACK 86400    /* a date this far ahead is a wrong date */
/* What one feed's entries may take in memory: every field at its largest,
 * for the most entries read.  A bound, not an allocation. */
#define READ_ARENA_MAX ((size_t)FEEDS_MAX_ENTRIES * \
	(FEEDS_KEY_MAX + FEEDS_TITLE_MAX + FEEDS_URL_MAX + FEEDS_EXCERPT_MAX + 4))

struct reflection_url {
	int thing;
	char url[FEEDS_URL_MAX + 1];        /* loose form (see loose_url) */
};

/* Per document stored: what the policy needs besides the entries. */
struct storing {
	struct store *st;
	const struct feed *f;
	int64_t now;
	int first;
	int64_t cutoff;
	int digest_left;
	struct feeds_stats *stats;
	struct err *e;
	struct reflection_url *refl;     /* grown as needed: most have a few */
	size_t nrefl, caprefl;
};

/* --- reading ------------------------------------------------------------ */

struct reading {
	struct feed_read *r;
	const struct feeds_thing *things;
	int nthings;
};

static int
arena_add(struct buf *arena, const char *s, size_t *off)
{
	*off = arena->len;
	return buf_append(arena, s, strlen(s) + 1);
}

static int
on_read_entry(void *arg, const struct feeds_entry *entry)
{
	struct reading *rd = arg;
	struct feed_read *r = rd->r;
	struct read_entry *re;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct read_entry *more = realloc(r->entries, cap * sizeof(*more));

		if (more == NULL)
			return READ_NO_MEMORY;
		r->entries = more;
		r->cap = cap;
	}
	if (entry->feed_title != NULL)
		snprintf(r->title, sizeof(r->title), "%s", entry->feed_title);
	if (entry->feed_link != NULL)
		snprintf(r->link, sizeof(r->link), "%s", entry->feed_link);
	re = &r->entries[r->n];
	re->published_at = entry->published_at;
	re->thing = feeds_match_thing(entry, rd->things, rd->nthings);
	if (arena_add(&r->arena, entry->key, &re->key) == -1 ||
	    arena_add(&r->arena, entry->title, &re->title) == -1 ||
	    arena_add(&r->arena, entry->link, &re->link) == -1 ||
	    arena_add(&r->arena, entry->excerpt, &re->excerpt) == -1)
		return READ_NO_MEMORY;
	r->n++;
	return 0;
}

int
feeds_read(const char *buf, size_t len, const char *base_url, const struct feeds_thing *things,
    int nthings, struct feed_read *r)
{
	struct reading rd = { .r = r, .things = things, .nthings = nthings };
	struct err perr;
	int rc;

	memset(r, 0, sizeof(*r));
	buf_init(&r->arena, READ_ARENA_MAX);
	rc = feeds_parse(buf, len, base_url, on_read_entry, &rd, NULL, &perr);
	if (rc == 0)
		return r->rc = 0;
	if (rc == -1)       /* the document, not us */
		snprintf(r->why, sizeof(r->why), "%s", perr.msg);
	else
		snprintf(r->why, sizeof(r->why), "out of memory reading the feed");
	r->rc = rc == -1 ? 1 : -1;
	r->n = 0;
	return r->rc;
}

void
feeds_read_free(struct feed_read *r)
{
	free(r->entries);
	buf_free(&r->arena);
	r->entries = NULL;
	r->n = r->cap = 0;
}

/* --- storing ------------------------------------------------------------ */

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
	struct storing *s = arg;

	if (s->nrefl == REFLECTIONS_MAX)
		return 1;
	if (s->nrefl == s->caprefl) {
		size_t cap = s->caprefl ? s->caprefl * 2 : 8;
		struct reflection_url *more = realloc(s->refl, cap * sizeof(*more));

		if (more == NULL)
			return err_set(s->e, "out of memory");
		s->refl = more;
		s->caprefl = cap;
	}
	s->refl[s->nrefl].thing = thing;
	loose_url(url, s->refl[s->nrefl].url, sizeof(s->refl[0].url));
	if (s->refl[s->nrefl].url[0] != '\0')
		s->nrefl++;
	return 0;
}

static int
reflected_thing(const struct storing *s, const char *link)
{
	char loose[FEEDS_URL_MAX + 1];

	if (s->nrefl == 0)
		return 0;
	loose_url(link, loose, sizeof(loose));
	for (size_t i = 0; loose[0] != '\0' && i < s->nrefl; i++)
		if (strcmp(s->refl[i].url, loose) == 0)
			return s->refl[i].thing;
	return 0;
}

static int
store_entry(struct storing *s, const struct feed_read *r, const struct read_entry *re)
{
	const char *a = r->arena.data;
	struct post_record rec;
	int rc;

	memset(&rec, 0, sizeof(rec));
	rec.participant_id = s->f->participant_id;
	rec.feed_id = s->f->id;
	rec.key = a + re->key;
	rec.title = a + re->title;
	rec.link = a + re->link;
	rec.excerpt = a + re->excerpt;
	rec.published_at = re->published_at;
	/* A date more than a day ahead is no date (an archive post dated
	 * 2099 is not news on a first fetch). */
	if (re->published_at > 0 && re->published_at <= s->now + FUTURE_SLACK)
		rec.for_digest = re->published_at >= s->cutoff;
	else
		rec.for_digest = !s->first;
	if (s->digest_left == 0)
		rec.for_digest = 0;
	/* A link the participant sent as a reflection says more than the
	 * words of the post. */
	rec.thing = reflected_thing(s, rec.link);
	if (rec.thing == 0)
		rec.thing = re->thing;
	/* A feed that gives its posts new guids at every fetch would add
	 * them again each time: a post of the same link and title is known.
	 * (Not by link alone: some feeds link every item to their home page;
	 * and not for untitled posts, which status feeds link alike.)
	 * A first fetch has nothing to compare with. */
	if (!s->first && rec.link[0] != '\0' && rec.title[0] != '\0' &&
	    (rc = store_post_seen(s->st, rec.feed_id, rec.link, rec.title, s->e)) != 0)
		return rc == 1 ? 0 : -1;
	if ((rc = store_post_add(s->st, &rec, s->now, NULL, s->e)) == -1)
		return -1;
	if (rc == 0) {
		s->stats->new_posts++;
		if (rec.for_digest) {
			s->stats->digest_posts++;
			s->digest_left--;
		}
	}
	return 0;
}

int
feeds_store_read(struct store *st, const struct feed *f, const struct feed_read *r,
    int64_t now, struct feeds_stats *stats, struct err *e)
{
	struct storing s = { .st = st, .f = f, .now = now, .stats = stats, .e = e,
		.digest_left = FEEDS_DIGEST_PER_FETCH };
	int rc = 0;

	s.first = f->last_ok_at == 0;
	s.cutoff = (s.first ? now : f->last_ok_at) - FEEDS_NEW_WINDOW;
	if (r->n > 0 && store_reflection_each_url(st, f->participant_id, add_reflection, &s,
	    e) < 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < r->n; i++)
		rc = store_entry(&s, r, &r->entries[i]);
	if (rc == 0 && r->title[0] != '\0' && strcmp(r->title, f->title) != 0)
		rc = store_feed_set_title(st, f->id, r->title, e);
	if (rc == 0 && r->link[0] != '\0' && strlen(r->link) <= STORE_URL_MAX &&
	    strcmp(r->link, f->site_url) != 0)
		rc = store_feed_set_site(st, f->id, r->link, e);
	free(s.refl);
	return rc;
}

int
feeds_ingest(struct store *st, const struct feed *f, const char *buf, size_t len,
    const char *base_url, const struct feeds_thing *things, int nthings, int64_t now,
    struct feeds_stats *stats, struct err *e)
{
	struct feed_read r;
	int rc;

	if ((rc = feeds_read(buf, len, base_url, things, nthings, &r)) != 0)
		err_set(e, "%s", r.why);
	else
		rc = feeds_store_read(st, f, &r, now, stats, e);
	feeds_read_free(&r);
	return rc;
}
