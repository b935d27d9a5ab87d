/* outbox.c - the outbox as the schedule and the organisers see it: counts,
 * held deliveries released, what each participant has been queued. */
#include <string.h>

#include "internal.h"

/* A Thing's key is its number in decimal; CAST alone would read "3x" as 3. */
#define THING_KEY "key = CAST(CAST(key AS INTEGER) AS TEXT)"

int
store_delivery_count_key(struct store *st, const char *kind, const char *key, int state,
    int64_t *n, struct err *e)
{
	static const char sql[] = "SELECT count(*) FROM deliveries"
	    " WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR key = ?2)"
	    " AND (?3 IS NULL OR state = ?3)";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, kind);
	store_bind_text(s, 2, key);
	store_bind_text(s, 3, state < 0 ? NULL : delivery_state_name(state));
	return store_step_int64(st, s, n, e, "count deliveries");
}

/* Runs sql (an UPDATE of held deliveries, ?1 kind, ?2 key, ?3 now) for
 * an organiser's decision; *n: how many changed. */
static int
decide_held(struct store *st, const char *sql, const char *kind, const char *key, int64_t now,
    int64_t *n, struct err *e)
{
	sqlite3_stmt *s = store_stmt(st, sql, e);

	*n = 0;
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, kind);
	store_bind_text(s, 2, key);
	sqlite3_bind_int64(s, 3, now);
	if (store_step_done(st, s, e, "decide on held deliveries") == -1)
		return -1;
	*n = sqlite3_changes(st->db);
	return 0;
}

int
store_delivery_release_held(struct store *st, const char *kind, const char *key, int64_t now,
    int64_t *n, struct err *e)
{
	static const char sql[] = "UPDATE deliveries SET state = 'queued', due_at = ?3,"
	    " last_error = 'held: released by an organiser'"
	    " WHERE state = 'held' AND (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR key = ?2)";

	return decide_held(st, sql, kind, key, now, n, e);
}

int
store_delivery_skip_held(struct store *st, const char *kind, const char *key, int64_t now,
    int64_t *n, struct err *e)
{
	static const char sql[] = "UPDATE deliveries SET state = 'failed', due_at = ?3,"
	    " last_error = '" STORE_SKIPPED "'"
	    " WHERE state = 'held' AND (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR key = ?2)";

	return decide_held(st, sql, kind, key, now, n, e);
}

int
store_delivery_last_queued(struct store *st, const char *kind, const char *prefix, int64_t *at,
    struct err *e)
{
	static const char sql[] = "SELECT coalesce(max(created_at), 0) FROM deliveries"
	    " WHERE kind = ?1 AND substr(key, 1, length(?2)) = ?2";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	*at = 0;
	if (s == NULL)
		return -1;
	store_bind_text(s, 1, kind);
	store_bind_text(s, 2, prefix);
	return store_step_int64(st, s, at, e, "the last delivery of a kind");
}

/* Steps through a participant's Things: fn(arg, n, row) for each of
 * Things 1..nthings they have a delivery of. */
static int
each_thing_row(struct store *st, int64_t participant_id, int nthings,
    void (*fn)(void *arg, int n, const struct thing_delivery *row), void *arg, struct err *e)
{
	static const char sql[] = "SELECT CAST(key AS INTEGER), created_at, state, due_at,"
	    " sent_at, state = 'failed' AND last_error = '" STORE_SKIPPED "' FROM deliveries"
	    " WHERE participant_id = ? AND kind = 'thing' AND " THING_KEY;
	sqlite3_stmt *s;
	int rc;

	if ((s = store_stmt(st, sql, e)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, participant_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int n = sqlite3_column_int(s, 0);
		int64_t at = sqlite3_column_int64(s, 1);
		struct thing_delivery row = {
			/* created_at is never 0 in practice; 1 keeps "queued" distinct from "none" */
			.created_at = at > 0 ? at : 1,
			.state = store_delivery_state(sqlite3_column_text(s, 2)),
			.due_at = sqlite3_column_int64(s, 3),
			.sent_at = sqlite3_column_int64(s, 4),
			.skipped = sqlite3_column_int(s, 5),
		};

		if (n >= 1 && n <= nthings)
			fn(arg, n, &row);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_db_err(st, e, "a participant's Things");
}

static void
note_created(void *arg, int n, const struct thing_delivery *row)
{
	((int64_t *)arg)[n - 1] = row->created_at;
}

int
store_thing_deliveries(struct store *st, int64_t participant_id, int nthings, int64_t *created,
    struct err *e)
{
	for (int i = 0; i < nthings; i++)
		created[i] = 0;
	return each_thing_row(st, participant_id, nthings, note_created, created, e);
}

static void
note_row(void *arg, int n, const struct thing_delivery *row)
{
	((struct thing_delivery *)arg)[n - 1] = *row;
}

int
store_thing_delivery_rows(struct store *st, int64_t participant_id, int nthings,
    struct thing_delivery *out, struct err *e)
{
	for (int i = 0; i < nthings; i++)
		memset(&out[i], 0, sizeof(out[i]));
	return each_thing_row(st, participant_id, nthings, note_row, out, e);
}

int
store_thing_outbox(struct store *st, int64_t now, int nthings, struct thing_outbox *out,
    struct err *e)
{
	static const char sql[] =
	    "SELECT CAST(key AS INTEGER) AS n, state, due_at <= ?1 AS due, count(*),"
	    " sum(last_error = '" STORE_SKIPPED "')"
	    " FROM deliveries WHERE kind = 'thing' AND " THING_KEY " GROUP BY n, state, due";
	sqlite3_stmt *s;
	int rc;

	for (int i = 0; i < nthings; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].thing = i + 1;
	}
	if ((s = store_stmt(st, sql, e)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int n = sqlite3_column_int(s, 0);
		const char *state = (const char *)sqlite3_column_text(s, 1);
		int due = sqlite3_column_int(s, 2);
		int64_t count = sqlite3_column_int64(s, 3), *slot;
		struct thing_outbox *t;

		if (n < 1 || n > nthings || state == NULL)
			continue; /* a Thing since removed from the programme */
		t = &out[n - 1];
		if (strcmp(state, "queued") == 0)
			slot = due ? &t->due : &t->later;
		else if (strcmp(state, "sending") == 0)
			slot = &t->sending;
		else if (strcmp(state, "sent") == 0)
			slot = &t->sent;
		else if (strcmp(state, "deferred") == 0)
			slot = &t->deferred;
		else if (strcmp(state, "held") == 0)
			slot = &t->held;
		else
			slot = &t->failed;
		*slot += count;
		if (slot == &t->failed)
			t->skipped += sqlite3_column_int64(s, 4);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_db_err(st, e, "Thing outbox");
}
