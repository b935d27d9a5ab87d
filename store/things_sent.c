/* things_sent.c - what each Thing was (file slug, title) when it went out:
 * deliveries are keyed by the Thing's number, so a renumbered file would
 * otherwise send one Thing twice and skip another (mailer/ checks). */
#include <stdio.h>
#include <string.h>

#include "internal.h"

int
store_thing_sent_get(struct store *st, int number, char *slug, size_t slug_n, char *title,
    size_t title_n, struct err *e)
{
	static const char sql[] = "SELECT slug, title FROM things_sent WHERE number = ?";
	sqlite3_stmt *s = store_stmt(st, sql, e);
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int(s, 1, number);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		store_col_copy(s, 0, slug, slug_n);
		store_col_copy(s, 1, title, title_n);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : store_db_err(st, e, "read Thing record");
}

int
store_thing_sent_set(struct store *st, int number, const char *slug, const char *title,
    int64_t now, struct err *e)
{
	static const char sql[] =
	    "INSERT INTO things_sent (number, slug, title, recorded_at) VALUES (?, ?, ?, ?)"
	    " ON CONFLICT (number) DO UPDATE SET slug = excluded.slug, title = excluded.title,"
	    " recorded_at = excluded.recorded_at";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int(s, 1, number);
	store_bind_text(s, 2, slug);
	store_bind_text(s, 3, title);
	sqlite3_bind_int64(s, 4, now);
	return store_step_done(st, s, e, "record Thing");
}

int
store_thing_queued(struct store *st, int number, int *any, struct err *e)
{
	static const char sql[] =
	    "SELECT EXISTS (SELECT 1 FROM deliveries WHERE kind = 'thing' AND key = ?)";
	sqlite3_stmt *s = store_stmt(st, sql, e);
	char key[16];
	int64_t v;

	if (s == NULL)
		return -1;
	snprintf(key, sizeof(key), "%d", number);
	store_bind_text(s, 1, key);
	if (store_step_int64(st, s, &v, e, "Thing queued") == -1)
		return -1;
	*any = v != 0;
	return 0;
}
