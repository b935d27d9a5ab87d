/* answers.c - what the inbox needs to limit and explain its answers, and
 * savepoints for handling a batch of messages in one transaction. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

int
store_answer_count(struct store *st, const char *address, int64_t since, int64_t *n,
    struct err *e)
{
	/* The UNIQUE (recipient, kind, key) index finds the recipient's rows. */
	static const char sql[] = "SELECT count(*) FROM deliveries d JOIN inbound i"
	    " ON i.id = d.inbound_id WHERE d.recipient = ?1 AND i.sender = ?1"
	    " AND d.created_at >= ?2";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, address);
	sqlite3_bind_int64(s, 2, since);
	return store_step_int64(st, s, n, e, "count answers");
}

int
store_inbound_note(struct store *st, int64_t id, const char *note, struct err *e)
{
	static const char sql[] = "UPDATE inbound SET detail ="
	    " CASE WHEN coalesce(detail, '') = '' THEN ?1 ELSE detail || '; ' || ?1 END"
	    " WHERE id = ?2";
	char line[STORE_REASON_MAX + 1];
	sqlite3_stmt *s;

	if ((s = store_stmt(st, sql, e)) == NULL)
		return -1;
	store_clip_utf8(note, line, sizeof(line));
	store_bind_text(s, 1, line);
	sqlite3_bind_int64(s, 2, id);
	return store_step_done(st, s, e, "note on inbound message");
}

static int
savepoint_sql(struct store *st, const char *sql, struct err *e)
{
	char *msg = NULL;

	if (!st->in_tx)
		return err_set(e, "store: savepoint outside a transaction");
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, "store: %s: %s", sql, msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int
store_savepoint(struct store *st, struct err *e)
{
	return savepoint_sql(st, "SAVEPOINT one", e);
}

int
store_release(struct store *st, struct err *e)
{
	return savepoint_sql(st, "RELEASE one", e);
}

int
store_rollback_to(struct store *st, struct err *e)
{
	/* Statements still mid-step would keep rows alive: reset them. */
	for (size_t i = 0; i < st->ncache; i++)
		sqlite3_reset(st->cache[i].stmt);
	/* ROLLBACK TO keeps the savepoint open: release it too. */
	return savepoint_sql(st, "ROLLBACK TO one; RELEASE one", e);
}
