/* feeds.c - participants' blog feeds and the posts found in them. */
#include <string.h>

#include "internal.h"

static const char *const feed_status_names[] = { "active", "gone", "replaced" };

const char *
feed_status_name(enum feed_status s)
{
	if ((unsigned)s >= sizeof(feed_status_names) / sizeof(feed_status_names[0]))
		return "?";
	return feed_status_names[s];
}

static enum feed_status
feed_status_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(feed_status_names) / sizeof(feed_status_names[0]); i++)
		if (strcmp(name, feed_status_names[i]) == 0)
			return (enum feed_status)i;
	return FS_GONE; /* unknown: never fetch it */
}

#define FEED_COLUMNS \
	"id, participant_id, url, etag, last_modified, status, failures, last_error, " \
	"last_ok_at, last_fetch_at, told_at, created_at, title, site_url"

static void
read_feed(sqlite3_stmt *s, struct feed *f)
{
	const unsigned char *status = sqlite3_column_text(s, 5);

	memset(f, 0, sizeof(*f));
	f->id = sqlite3_column_int64(s, 0);
	f->participant_id = sqlite3_column_int64(s, 1);
	store_col_copy(s, 2, f->url, sizeof(f->url));
	store_col_copy(s, 3, f->etag, sizeof(f->etag));
	f->last_modified = sqlite3_column_int64(s, 4);
	f->status = feed_status_from_name(status ? (const char *)status : "");
	f->failures = sqlite3_column_int(s, 6);
	store_col_copy(s, 7, f->last_error, sizeof(f->last_error));
	f->last_ok_at = sqlite3_column_int64(s, 8);
	f->last_fetch_at = sqlite3_column_int64(s, 9);
	f->told_at = sqlite3_column_int64(s, 10);
	f->created_at = sqlite3_column_int64(s, 11);
	store_col_copy(s, 12, f->title, sizeof(f->title));
	store_col_copy(s, 13, f->site_url, sizeof(f->site_url));
}

/* Steps a lookup whose parameters are bound: 0 found, 1 not found. */
static int
feed_lookup(struct store *st, sqlite3_stmt *s, struct feed *out, struct err *e)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		read_feed(s, out);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : store_db_err(st, e, "feed lookup");
}

int
store_feed_get(struct store *st, int64_t id, struct feed *out, struct err *e)
{
	static const char sql[] = "SELECT " FEED_COLUMNS " FROM feeds WHERE id = ?";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	return feed_lookup(st, s, out, e);
}

static int
check_url(const char *url, struct err *e)
{
	if (url == NULL || url[0] == '\0' || strlen(url) > STORE_URL_MAX || str_has_ctl(url, 0))
		return err_set(e, "store: feed URL empty, too long or malformed");
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return err_set(e, "store: feed URL is not http(s)");
	return 0;
}

/* Demotes the participant's active feeds other than keep to "replaced". */
static int
replace_others(struct store *st, int64_t participant_id, int64_t keep, struct err *e)
{
	static const char sql[] = "UPDATE feeds SET status = 'replaced'"
	    " WHERE participant_id = ? AND status = 'active' AND id != ?";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, participant_id);
	sqlite3_bind_int64(s, 2, keep);
	return store_step_done(st, s, e, "replace feeds");
}

static int
set_status(struct store *st, int64_t id, enum feed_status status, struct err *e)
{
	static const char sql[] = "UPDATE feeds SET status = ? WHERE id = ?";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, feed_status_name(status));
	sqlite3_bind_int64(s, 2, id);
	return store_step_done(st, s, e, "set feed status");
}

static int
insert_feed(struct store *st, int64_t participant_id, const char *url, int64_t now,
    int64_t *id, struct err *e)
{
	static const char sql[] =
	    "INSERT INTO feeds (participant_id, url, created_at) VALUES (?, ?, ?)";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, participant_id);
	store_bind_text(s, 2, url);
	sqlite3_bind_int64(s, 3, now);
	if (store_step_done(st, s, e, "add feed") == -1)
		return -1;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_feed_ensure(struct store *st, int64_t participant_id, const char *url, int64_t now,
    struct feed *out, struct err *e)
{
	/* The active row first, else the newest: a url can have an old
	 * replaced row and, after a move, a newer one. */
	static const char sql[] = "SELECT " FEED_COLUMNS " FROM feeds"
	    " WHERE participant_id = ? AND url = ?"
	    " ORDER BY status = 'active' DESC, id DESC LIMIT 1";
	sqlite3_stmt *s;
	int64_t id;
	int own, rc;

	if (check_url(url, e) == -1)
		return -1;
	if (store_auto_begin(st, &own, e) == -1)
		return -1;
	if ((s = store_stmt(st, sql, e)) == NULL) {
		rc = -1;
		goto out;
	}
	sqlite3_bind_int64(s, 1, participant_id);
	store_bind_text(s, 2, url);
	rc = feed_lookup(st, s, out, e);
	if (rc == -1)
		goto out;
	if (rc == 0) {
		rc = 1;
		if (out->status != FS_REPLACED)
			goto out;
		/* The participant went back to a blog registered before. */
		if (replace_others(st, participant_id, out->id, e) == -1 ||
		    set_status(st, out->id, FS_ACTIVE, e) == -1) {
			rc = -1;
			goto out;
		}
		id = out->id;
	} else {
		if (replace_others(st, participant_id, 0, e) == -1 ||
		    insert_feed(st, participant_id, url, now, &id, e) == -1) {
			rc = -1;
			goto out;
		}
		rc = 0;
	}
	if (store_feed_get(st, id, out, e) != 0)
		rc = -1;
out:
	return store_auto_end(st, own, rc, e);
}

static int
update_feed(struct store *st, sqlite3_stmt *s, struct err *e, const char *what)
{
	if (store_step_done(st, s, e, what) == -1)
		return -1;
	if (sqlite3_changes(st->db) == 0)
		return err_set(e, "store: %s: no such feed", what);
	return 0;
}

/* A validator we could not send back verbatim is worth nothing. */
static const char *
usable_etag(const char *etag)
{
	return etag == NULL || strlen(etag) > STORE_ETAG_MAX || str_has_ctl(etag, 0) ? "" : etag;
}

int
store_feed_fetch_ok(struct store *st, int64_t id, const char *etag, int64_t last_modified,
    int64_t now, struct err *e)
{
	static const char sql[] = "UPDATE feeds SET etag = ?, last_modified = ?, failures = 0,"
	    " last_error = '', last_ok_at = ?3, last_fetch_at = ?3, told_at = 0 WHERE id = ?4";
	sqlite3_stmt *s;

	if ((s = store_stmt(st, sql, e)) == NULL)
		return -1;
	store_bind_text(s, 1, usable_etag(etag));
	sqlite3_bind_int64(s, 2, last_modified > 0 ? last_modified : 0);
	sqlite3_bind_int64(s, 3, now);
	sqlite3_bind_int64(s, 4, id);
	return update_feed(st, s, e, "record feed fetch");
}

static int
record_failure(struct store *st, const char *sql, int64_t id, const char *reason, int64_t now,
    struct err *e)
{
	char clipped[STORE_REASON_MAX + 1];
	sqlite3_stmt *s;

	store_clip_utf8(reason, clipped, sizeof(clipped));
	if ((s = store_stmt(st, sql, e)) == NULL)
		return -1;
	store_bind_text(s, 1, clipped);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int64(s, 3, id);
	return update_feed(st, s, e, "record feed failure");
}

int
store_feed_fetch_failed(struct store *st, int64_t id, const char *reason, int64_t now,
    struct err *e)
{
	static const char sql[] = "UPDATE feeds SET failures = failures + 1, last_error = ?,"
	    " last_fetch_at = ? WHERE id = ?";

	return record_failure(st, sql, id, reason, now, e);
}

int
store_feed_set_aside(struct store *st, int64_t id, const char *etag, int64_t last_modified,
    const char *reason, int64_t now, struct err *e)
{
	static const char sql[] = "UPDATE feeds SET etag = ?, last_modified = ?,"
	    " failures = failures + 1, last_error = ?, last_fetch_at = ? WHERE id = ?";
	char clipped[STORE_REASON_MAX + 1];
	sqlite3_stmt *s;

	store_clip_utf8(reason, clipped, sizeof(clipped));
	if ((s = store_stmt(st, sql, e)) == NULL)
		return -1;
	store_bind_text(s, 1, usable_etag(etag));
	sqlite3_bind_int64(s, 2, last_modified > 0 ? last_modified : 0);
	store_bind_text(s, 3, clipped);
	sqlite3_bind_int64(s, 4, now);
	sqlite3_bind_int64(s, 5, id);
	return update_feed(st, s, e, "set feed aside");
}

int
store_feed_retire(struct store *st, int64_t id, const char *reason, int64_t now, struct err *e)
{
	static const char sql[] = "UPDATE feeds SET status = 'gone', failures = failures + 1,"
	    " last_error = ?, last_fetch_at = ? WHERE id = ?";

	return record_failure(st, sql, id, reason, now, e);
}

int
store_feed_set_url(struct store *st, int64_t id, const char *url, struct err *e)
{
	static const char sql[] =
	    "UPDATE feeds SET url = ?, etag = '', last_modified = 0 WHERE id = ?";
	sqlite3_stmt *s;

	if (check_url(url, e) == -1)
		return -1;
	if ((s = store_stmt(st, sql, e)) == NULL)
		return -1;
	store_bind_text(s, 1, url);
	sqlite3_bind_int64(s, 2, id);
	return update_feed(st, s, e, "move feed");
}

int
store_feed_mark_told(struct store *st, int64_t id, int64_t now, struct err *e)
{
	static const char sql[] = "UPDATE feeds SET told_at = ? WHERE id = ?";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, now > 0 ? now : 1);
	sqlite3_bind_int64(s, 2, id);
	return update_feed(st, s, e, "mark feed told");
}

int
store_feed_set_title(struct store *st, int64_t id, const char *title, struct err *e)
{
	static const char sql[] = "UPDATE feeds SET title = ? WHERE id = ?";
	char clipped[STORE_TITLE_MAX + 1];
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	store_clip_utf8(title ? title : "", clipped, sizeof(clipped));
	store_bind_text(s, 1, clipped);
	sqlite3_bind_int64(s, 2, id);
	return update_feed(st, s, e, "set feed title");
}

int
store_feed_set_site(struct store *st, int64_t id, const char *url, struct err *e)
{
	static const char sql[] = "UPDATE feeds SET site_url = ? WHERE id = ?";
	sqlite3_stmt *s;

	if (url == NULL)
		url = "";
	if (url[0] != '\0' && check_url(url, e) == -1)
		return -1;
	if ((s = store_stmt(st, sql, e)) == NULL)
		return -1;
	store_bind_text(s, 1, url);
	sqlite3_bind_int64(s, 2, id);
	return update_feed(st, s, e, "set feed site");
}

/* Runs an uncached query (fn may call back into the store) whose only
 * parameter, if any, is the integer arg. */
static int
feed_each(struct store *st, const char *sql, int64_t arg, feed_fn fn, void *fnarg,
    struct err *e)
{
	struct feed f;
	sqlite3_stmt *s;
	int rc, stop;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_db_err(st, e, "list feeds");
	if (sqlite3_bind_parameter_count(s) > 0)
		sqlite3_bind_int64(s, 1, arg);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_feed(s, &f);
		if ((stop = fn(fnarg, &f)) != 0) {
			sqlite3_finalize(s);
			return stop;
		}
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : store_db_err(st, e, "list feeds");
}

int
store_feed_each_broken(struct store *st, int min_failures, feed_fn fn, void *arg,
    struct err *e)
{
	/* "Current": the participant still names this URL as blog or feed. */
	static const char sql[] = "SELECT f.id, f.participant_id, f.url, f.etag,"
	    " f.last_modified, f.status, f.failures, f.last_error, f.last_ok_at,"
	    " f.last_fetch_at, f.told_at, f.created_at, f.title"
	    " FROM feeds f JOIN participants p ON p.id = f.participant_id"
	    " WHERE f.told_at = 0 AND p.status = 'active'"
	    " AND (p.feed_url = f.url OR (p.feed_url = '' AND p.blog_url = f.url))"
	    " AND ((f.status = 'active' AND f.failures >= ?1) OR f.status = 'gone')"
	    " ORDER BY f.id";

	return feed_each(st, sql, min_failures > 0 ? min_failures : 1, fn, arg, e);
}

int
store_feed_each(struct store *st, feed_fn fn, void *arg, struct err *e)
{
	static const char sql[] = "SELECT " FEED_COLUMNS " FROM feeds ORDER BY id";

	return feed_each(st, sql, 0, fn, arg, e);
}

/* --- posts ------------------------------------------------------------- */

#define POST_COLUMNS \
	"id, participant_id, feed_id, title, link, excerpt, published_at, first_seen_at, " \
	"thing, for_digest"

static void
read_post(sqlite3_stmt *s, struct post *p)
{
	memset(p, 0, sizeof(*p));
	p->id = sqlite3_column_int64(s, 0);
	p->participant_id = sqlite3_column_int64(s, 1);
	p->feed_id = sqlite3_column_int64(s, 2);
	store_col_copy(s, 3, p->title, sizeof(p->title));
	store_col_copy(s, 4, p->link, sizeof(p->link));
	store_col_copy(s, 5, p->excerpt, sizeof(p->excerpt));
	p->published_at = sqlite3_column_int64(s, 6);
	p->first_seen_at = sqlite3_column_int64(s, 7);
	p->thing = sqlite3_column_int(s, 8);
	p->for_digest = sqlite3_column_int(s, 9);
}

int
store_post_add(struct store *st, const struct post_record *r, int64_t now, int64_t *id,
    struct err *e)
{
	static const char sql[] = "INSERT INTO posts (participant_id, feed_id, entry_key, title,"
	    " link, excerpt, published_at, first_seen_at, thing, for_digest)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	    " ON CONFLICT (feed_id, entry_key) DO NOTHING";
	char title[STORE_TITLE_MAX + 1], excerpt[STORE_EXCERPT_MAX + 1];
	const char *link = r->link ? r->link : "";
	sqlite3_stmt *s;

	if (r->key == NULL || r->key[0] == '\0' || strlen(r->key) > STORE_ENTRY_KEY_MAX)
		return err_set(e, "store: post key empty or longer than %d bytes",
		    STORE_ENTRY_KEY_MAX);
	if (strlen(link) > STORE_URL_MAX || str_has_ctl(link, 0))
		return err_set(e, "store: post link too long or malformed");
	store_clip_utf8(r->title, title, sizeof(title));
	store_clip_utf8(r->excerpt, excerpt, sizeof(excerpt));
	if ((s = store_stmt(st, sql, e)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, r->participant_id);
	sqlite3_bind_int64(s, 2, r->feed_id);
	store_bind_text(s, 3, r->key);
	store_bind_text(s, 4, title);
	store_bind_text(s, 5, link);
	store_bind_text(s, 6, excerpt);
	sqlite3_bind_int64(s, 7, r->published_at);
	sqlite3_bind_int64(s, 8, now);
	sqlite3_bind_int(s, 9, r->thing > 0 ? r->thing : 0);
	sqlite3_bind_int(s, 10, r->for_digest ? 1 : 0);
	if (store_step_done(st, s, e, "add post") == -1)
		return -1;
	if (sqlite3_changes(st->db) == 0)
		return 1;
	if (id)
		*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_post_seen(struct store *st, int64_t feed_id, const char *link, const char *title,
    struct err *e)
{
	/* The feed's posts through the (feed_id, entry_key) index: a few
	 * hundred at most, read only for an entry not seen by its key. */
	static const char sql[] =
	    "SELECT 1 FROM posts WHERE feed_id = ? AND link = ? AND title = ? LIMIT 1";
	char clipped[STORE_TITLE_MAX + 1];
	sqlite3_stmt *s = store_stmt(st, sql, e);
	int rc;

	if (s == NULL)
		return -1;
	store_clip_utf8(title, clipped, sizeof(clipped));
	sqlite3_bind_int64(s, 1, feed_id);
	store_bind_text(s, 2, link);
	store_bind_text(s, 3, clipped);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_db_err(st, e, "post lookup");
}

int
store_post_by_key(struct store *st, int64_t feed_id, const char *key, struct post *out,
    struct err *e)
{
	static const char sql[] =
	    "SELECT " POST_COLUMNS " FROM posts WHERE feed_id = ? AND entry_key = ?";
	sqlite3_stmt *s = store_stmt(st, sql, e);
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, feed_id);
	store_bind_text(s, 2, key);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		read_post(s, out);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : store_db_err(st, e, "post lookup");
}

int
store_post_each_digest(struct store *st, int64_t from, int64_t to, int64_t exclude_participant,
    post_fn fn, void *arg, struct err *e)
{
	static const char sql[] = "SELECT po.id, po.participant_id, po.feed_id, po.title,"
	    " po.link, po.excerpt, po.published_at, po.first_seen_at, po.thing, po.for_digest"
	    " FROM posts po JOIN participants p ON p.id = po.participant_id"
	    " WHERE po.for_digest = 1 AND po.first_seen_at >= ? AND po.first_seen_at < ?"
	    " AND po.participant_id != ? AND p.status = 'active'"
	    " ORDER BY po.first_seen_at, po.id";
	struct post p;
	sqlite3_stmt *s;
	int rc, stop;

	/* Not cached: fn may call back into the store. */
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_db_err(st, e, "list posts");
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	sqlite3_bind_int64(s, 3, exclude_participant);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_post(s, &p);
		if ((stop = fn(arg, &p)) != 0) {
			sqlite3_finalize(s);
			return stop;
		}
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : store_db_err(st, e, "list posts");
}

int
store_post_count(struct store *st, int64_t feed_id, int for_digest, int64_t *n, struct err *e)
{
	static const char sql[] = "SELECT count(*) FROM posts"
	    " WHERE (?1 = 0 OR feed_id = ?1) AND (?2 < 0 OR for_digest = ?2)";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, feed_id);
	sqlite3_bind_int(s, 2, for_digest);
	return store_step_int64(st, s, n, e, "count posts");
}

int
store_reflection_each_url(struct store *st, int64_t participant_id, reflection_url_fn fn,
    void *arg, struct err *e)
{
	static const char sql[] =
	    "SELECT thing, url FROM reflections WHERE participant_id = ? ORDER BY id";
	sqlite3_stmt *s;
	int rc, stop;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_db_err(st, e, "list reflections");
	sqlite3_bind_int64(s, 1, participant_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *url = sqlite3_column_text(s, 1);

		if ((stop = fn(arg, sqlite3_column_int(s, 0), url ? (const char *)url : "")) != 0) {
			sqlite3_finalize(s);
			return stop;
		}
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : store_db_err(st, e, "list reflections");
}
