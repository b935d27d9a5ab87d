/* inbound.c - messages received, mailbox positions, reflections. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Bodies kept for forwarding are bounded: the raw message stays in the
 * mailbox (Processed/Failed) for anything longer. */
#define INBOUND_BODY_MAX (256 * 1024)

int
store_inbound_known(struct store *st, const char *source, const char *source_key,
    const char *message_id, struct err *e)
{
	static const char sql[] =
	    "SELECT 1 FROM inbound WHERE (source = ? AND source_key = ?) OR message_id = ?";
	sqlite3_stmt *s = store_stmt(st, sql, e);
	int rc;

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, source);
	store_bind_text(s, 2, source_key);
	store_bind_text(s, 3, message_id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_db_err(st, e, "inbound lookup");
}

int
store_inbound_add(struct store *st, const struct inbound_record *r, int64_t *id, struct err *e)
{
	static const char sql[] =
	    "INSERT INTO inbound (source, source_key, message_id, sender, subject, intent,"
	    " participant_id, thing, detail, body_text, received_at)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id";
	char subject[1024];
	sqlite3_stmt *s;
	int rc;

	if (r->source == NULL || r->source_key == NULL || r->message_id == NULL ||
	    r->message_id[0] == '\0' || r->intent == NULL)
		return err_set(e, "store: inbound record without source, key, Message-ID or intent");
	if ((s = store_stmt(st, sql, e)) == NULL)
		return -1;
	store_clip_utf8(r->subject, subject, sizeof(subject));
	store_bind_text(s, 1, r->source);
	store_bind_text(s, 2, r->source_key);
	store_bind_text(s, 3, r->message_id);
	store_bind_text(s, 4, r->sender ? r->sender : "");
	store_bind_text(s, 5, subject);
	store_bind_text(s, 6, r->intent);
	if (r->participant_id > 0)
		sqlite3_bind_int64(s, 7, r->participant_id);
	sqlite3_bind_int(s, 8, r->thing);
	store_bind_text(s, 9, r->detail);
	if (r->body_text)
		sqlite3_bind_text(s, 10, r->body_text,
		    (int)strnlen(r->body_text, INBOUND_BODY_MAX), SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 11, r->received_at);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && id)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : store_db_err(st, e, "record inbound message");
}

int
store_inbound_get(struct store *st, int64_t id, struct inbound *out, struct err *e)
{
	static const char sql[] =
	    "SELECT id, message_id, sender, subject, intent, participant_id, thing, detail,"
	    " body_text, received_at FROM inbound WHERE id = ?";
	sqlite3_stmt *s = store_stmt(st, sql, e);
	int rc;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return rc == SQLITE_DONE ? 1 : store_db_err(st, e, "inbound lookup");
	}
	out->id = sqlite3_column_int64(s, 0);
	out->message_id = store_col_dup(s, 1);
	out->sender = store_col_dup(s, 2);
	out->subject = store_col_dup(s, 3);
	out->intent = store_col_dup(s, 4);
	out->participant_id = sqlite3_column_int64(s, 5);
	out->thing = sqlite3_column_int(s, 6);
	out->detail = store_col_dup(s, 7);
	out->body_text = store_col_dup(s, 8);
	out->received_at = sqlite3_column_int64(s, 9);
	sqlite3_reset(s);
	if (!out->message_id || !out->sender || !out->subject || !out->intent ||
	    !out->detail || !out->body_text) {
		store_inbound_free(out);
		return err_set(e, "out of memory");
	}
	return 0;
}

void
store_inbound_free(struct inbound *in)
{
	free(in->message_id);
	free(in->sender);
	free(in->subject);
	free(in->intent);
	free(in->detail);
	free(in->body_text);
	memset(in, 0, sizeof(*in));
}

int
store_inbound_count(struct store *st, const char *intent, int64_t *n, struct err *e)
{
	static const char sql[] = "SELECT count(*) FROM inbound WHERE ?1 IS NULL OR intent = ?1";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, intent);
	return store_step_int64(st, s, n, e, "count inbound");
}

int
store_mailbox_get(struct store *st, const char *source, uint32_t *uidvalidity,
    uint32_t *last_uid, struct err *e)
{
	static const char sql[] = "SELECT uidvalidity, last_uid FROM mailboxes WHERE source = ?";
	sqlite3_stmt *s = store_stmt(st, sql, e);
	int rc;

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, source);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*uidvalidity = (uint32_t)sqlite3_column_int64(s, 0);
		*last_uid = (uint32_t)sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : store_db_err(st, e, "mailbox lookup");
}

int
store_mailbox_set(struct store *st, const char *source, uint32_t uidvalidity,
    uint32_t last_uid, struct err *e)
{
	static const char sql[] =
	    "INSERT INTO mailboxes (source, uidvalidity, last_uid) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT (source) DO UPDATE SET uidvalidity = ?2, last_uid = ?3";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, source);
	sqlite3_bind_int64(s, 2, uidvalidity);
	sqlite3_bind_int64(s, 3, last_uid);
	return store_step_done(st, s, e, "record mailbox position");
}

int
store_reflection_add(struct store *st, int64_t participant_id, int thing, const char *url,
    int64_t inbound_id, int64_t now, struct err *e)
{
	static const char sql[] =
	    "INSERT INTO reflections (participant_id, thing, url, inbound_id, created_at)"
	    " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
	sqlite3_stmt *s;

	if (url == NULL || url[0] == '\0' || strlen(url) > STORE_URL_MAX || str_has_ctl(url, 0))
		return err_set(e, "store: reflection URL empty, too long or malformed");
	if (thing < 1)
		return err_set(e, "store: reflection for Thing %d", thing);
	if ((s = store_stmt(st, sql, e)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, participant_id);
	sqlite3_bind_int(s, 2, thing);
	store_bind_text(s, 3, url);
	if (inbound_id > 0)
		sqlite3_bind_int64(s, 4, inbound_id);
	sqlite3_bind_int64(s, 5, now);
	if (store_step_done(st, s, e, "record reflection") == -1)
		return -1;
	return sqlite3_changes(st->db) == 1 ? 0 : 1;
}

static int
count_query(struct store *st, const char *sql, int64_t arg, int64_t *n, struct err *e)
{
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	if (sqlite3_bind_parameter_count(s) > 0)
		sqlite3_bind_int64(s, 1, arg);
	return store_step_int64(st, s, n, e, "count");
}

int
store_reflection_things(struct store *st, int64_t participant_id, int *n, struct err *e)
{
	static const char sql[] =
	    "SELECT count(DISTINCT thing) FROM reflections WHERE participant_id = ?";
	int64_t v;

	if (count_query(st, sql, participant_id, &v, e) == -1)
		return -1;
	*n = (int)v;
	return 0;
}

int
store_reflection_count(struct store *st, int64_t *n, struct err *e)
{
	static const char sql[] = "SELECT count(*) FROM reflections";

	return count_query(st, sql, 0, n, e);
}
