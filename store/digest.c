/* digest.c - digest editions and feed rounds: when the weekly digest and
 * the feed fetching last happened, and what they covered. */
#include <string.h>

#include "internal.h"

#define EDITION_COLUMNS "week, window_from, window_to, created_at, recipients, posts"

static void
read_edition(sqlite3_stmt *s, void *out)
{
	struct digest_edition *d = out;

	memset(d, 0, sizeof(*d));
	store_col_copy(s, 0, d->week, sizeof(d->week));
	d->window_from = sqlite3_column_int64(s, 1);
	d->window_to = sqlite3_column_int64(s, 2);
	d->created_at = sqlite3_column_int64(s, 3);
	d->recipients = sqlite3_column_int(s, 4);
	d->posts = sqlite3_column_int(s, 5);
}

static void
read_round(sqlite3_stmt *s, void *out)
{
	struct feed_round *r = out;

	memset(r, 0, sizeof(*r));
	r->started_at = sqlite3_column_int64(s, 0);
	r->finished_at = sqlite3_column_int64(s, 1);
	r->feeds = sqlite3_column_int(s, 2);
	r->not_modified = sqlite3_column_int(s, 3);
	r->failed = sqlite3_column_int(s, 4);
	r->new_posts = sqlite3_column_int(s, 5);
}

/* Steps a lookup whose parameters are bound and reads its row into out:
 * 0 found, 1 not found. */
static int
lookup(struct store *st, sqlite3_stmt *s, void (*read)(sqlite3_stmt *, void *), void *out,
    struct err *e)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		read(s, out);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : store_db_err(st, e, "digest or feed round lookup");
}

int
store_digest_add(struct store *st, const struct digest_edition *d, struct err *e)
{
	static const char sql[] = "INSERT INTO digests (" EDITION_COLUMNS ")"
	    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (week) DO NOTHING";
	sqlite3_stmt *s;
	size_t len = strlen(d->week);

	if (len == 0 || len > STORE_WEEK_MAX || str_has_ctl(d->week, 0))
		return err_set(e, "store: digest week empty, too long or malformed");
	if (d->window_from > d->window_to)
		return err_set(e, "store: digest window ends before it starts");
	if ((s = store_stmt(st, sql, e)) == NULL)
		return -1;
	store_bind_text(s, 1, d->week);
	sqlite3_bind_int64(s, 2, d->window_from);
	sqlite3_bind_int64(s, 3, d->window_to);
	sqlite3_bind_int64(s, 4, d->created_at);
	sqlite3_bind_int(s, 5, d->recipients);
	sqlite3_bind_int(s, 6, d->posts);
	if (store_step_done(st, s, e, "add digest") == -1)
		return -1;
	return sqlite3_changes(st->db) == 0 ? 1 : 0;
}

int
store_digest_get(struct store *st, const char *week, struct digest_edition *out,
    struct err *e)
{
	static const char sql[] = "SELECT " EDITION_COLUMNS " FROM digests WHERE week = ?";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, week);
	return lookup(st, s, read_edition, out, e);
}

int
store_digest_last(struct store *st, struct digest_edition *out, struct err *e)
{
	static const char sql[] = "SELECT " EDITION_COLUMNS " FROM digests"
	    " ORDER BY window_to DESC, created_at DESC LIMIT 1";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	return lookup(st, s, read_edition, out, e);
}

int
store_feed_round_add(struct store *st, const struct feed_round *r, struct err *e)
{
	static const char sql[] = "INSERT INTO feed_rounds (started_at, finished_at, feeds,"
	    " not_modified, failed, new_posts) VALUES (?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, r->started_at);
	sqlite3_bind_int64(s, 2, r->finished_at);
	sqlite3_bind_int(s, 3, r->feeds);
	sqlite3_bind_int(s, 4, r->not_modified);
	sqlite3_bind_int(s, 5, r->failed);
	sqlite3_bind_int(s, 6, r->new_posts);
	return store_step_done(st, s, e, "record feed round");
}

int
store_feed_round_last(struct store *st, struct feed_round *out, struct err *e)
{
	static const char sql[] = "SELECT started_at, finished_at, feeds, not_modified, failed,"
	    " new_posts FROM feed_rounds ORDER BY started_at DESC, id DESC LIMIT 1";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	return lookup(st, s, read_round, out, e);
}
