/* report.c - progress per Thing and per participant, for `things report`. */
#include <string.h>

#include "internal.h"

int
store_thing_stats(struct store *st, int nthings, struct thing_stats *stats, struct err *e)
{
	static const char deliveries[] =
	    "SELECT CAST(key AS INTEGER) AS n, state, count(*),"
	    " sum(last_error = '" STORE_SKIPPED "') FROM deliveries"
	    " WHERE kind = 'thing' GROUP BY n, state";
	static const char reflections[] =
	    "SELECT thing, count(DISTINCT participant_id) FROM reflections GROUP BY thing";
	sqlite3_stmt *s;
	int rc;

	for (int i = 0; i < nthings; i++) {
		memset(&stats[i], 0, sizeof(stats[i]));
		stats[i].thing = i + 1;
	}
	if ((s = store_stmt(st, deliveries, e)) == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int n = sqlite3_column_int(s, 0);
		const char *state = (const char *)sqlite3_column_text(s, 1);
		int64_t count = sqlite3_column_int64(s, 2);
		struct thing_stats *t;

		if (n < 1 || n > nthings || state == NULL)
			continue; /* a Thing since removed from the programme */
		t = &stats[n - 1];
		if (strcmp(state, "failed") == 0)
			t->skipped += sqlite3_column_int64(s, 3);
		if (strcmp(state, "sent") == 0)
			t->sent += count;
		else if (strcmp(state, "failed") == 0)
			t->failed += count;
		else if (strcmp(state, "held") == 0)
			t->held += count;
		else
			t->queued += count;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_db_err(st, e, "Thing statistics");
	if ((s = store_stmt(st, reflections, e)) == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int n = sqlite3_column_int(s, 0);

		if (n >= 1 && n <= nthings)
			stats[n - 1].reflections = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_db_err(st, e, "reflection statistics");
	return 0;
}

int
store_progress_each(struct store *st, progress_fn fn, void *arg, struct err *e)
{
	static const char sql[] =
	    "SELECT p.id,"
	    " (SELECT count(*) FROM deliveries d WHERE d.participant_id = p.id"
	    "   AND d.kind = 'thing' AND d.state = 'sent'),"
	    " (SELECT count(DISTINCT r.thing) FROM reflections r WHERE r.participant_id = p.id),"
	    " c.id, c.issued_at"
	    " FROM participants p LEFT JOIN certificates c ON c.participant_id = p.id"
	    " ORDER BY p.id";
	struct participant_progress pp;
	sqlite3_stmt *s;
	int rc, stop;

	/* Not cached: fn may use the store (and its cached statements). */
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_db_err(st, e, "progress");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&pp, 0, sizeof(pp));
		if (store_participant_by_id(st, sqlite3_column_int64(s, 0), &pp.p, e) != 0) {
			sqlite3_finalize(s);
			return -1;
		}
		pp.things_sent = sqlite3_column_int(s, 1);
		pp.reflections = sqlite3_column_int(s, 2);
		pp.certificate = sqlite3_column_int64(s, 3);
		pp.certified_at = sqlite3_column_int64(s, 4);
		if ((stop = fn(arg, &pp)) != 0) {
			sqlite3_finalize(s);
			return stop;
		}
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : store_db_err(st, e, "progress");
}
