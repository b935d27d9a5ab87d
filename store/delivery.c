/* delivery.c - the outbox: queued -> sending -> sent / deferred / failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const state_names[] = {
	"queued", "sending", "sent", "deferred", "failed", "held"
};

const char *
delivery_state_name(enum delivery_state s)
{
	if ((unsigned)s >= sizeof(state_names) / sizeof(state_names[0]))
		return "?";
	return state_names[s];
}

enum delivery_state
store_delivery_state(const unsigned char *name)
{
	for (size_t i = 0; name && i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (strcmp((const char *)name, state_names[i]) == 0)
			return (enum delivery_state)i;
	return DS_FAILED;
}

#define DELIVERY_COLUMNS \
	"id, participant_id, inbound_id, recipient, kind, key, message_id, state, attempts," \
	" due_at, sent_at, last_error"

static void
read_delivery(sqlite3_stmt *s, struct delivery *d)
{
	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(s, 0);
	d->participant_id = sqlite3_column_int64(s, 1);
	d->inbound_id = sqlite3_column_int64(s, 2);
	store_col_copy(s, 3, d->recipient, sizeof(d->recipient));
	store_col_copy(s, 4, d->kind, sizeof(d->kind));
	store_col_copy(s, 5, d->key, sizeof(d->key));
	store_col_copy(s, 6, d->message_id, sizeof(d->message_id));
	d->state = store_delivery_state(sqlite3_column_text(s, 7));
	d->attempts = sqlite3_column_int(s, 8);
	d->due_at = sqlite3_column_int64(s, 9);
	d->sent_at = sqlite3_column_int64(s, 10);
	store_col_copy(s, 11, d->last_error, sizeof(d->last_error));
}

static int
valid_request(const struct delivery_request *r, struct err *e)
{
	if (r->recipient == NULL || strchr(r->recipient, '@') == NULL ||
	    str_has_ctl(r->recipient, 0) || strlen(r->recipient) > ADDR_MAX)
		return err_set(e, "store: delivery to a malformed address");
	if (r->kind == NULL || r->kind[0] == '\0' || strlen(r->kind) > STORE_KIND_MAX)
		return err_set(e, "store: delivery without a kind");
	if (r->key == NULL || strlen(r->key) > STORE_KEY_MAX)
		return err_set(e, "store: delivery key missing or too long");
	if (r->msgid_domain == NULL || r->msgid_domain[0] == '\0' ||
	    str_has_ctl(r->msgid_domain, 0) || strlen(r->msgid_domain) > 200)
		return err_set(e, "store: delivery without a Message-ID domain");
	if (r->state != DS_QUEUED && r->state != DS_HELD)
		return err_set(e, "store: a delivery starts queued or held, not %s",
		    delivery_state_name(r->state));
	return 0;
}

int
store_delivery_enqueue(struct store *st, const struct delivery_request *r, int64_t now,
    int64_t *id, struct err *e)
{
	static const char ins[] =
	    "INSERT INTO deliveries (participant_id, recipient, kind, key, message_id,"
	    " inbound_id, due_at, created_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
	    " ON CONFLICT (recipient, kind, key) DO NOTHING";
	static const char sel[] =
	    "SELECT id FROM deliveries WHERE recipient = ? AND kind = ? AND key = ?";
	char token[TOKEN_HEX_LEN + 1], msgid[STORE_MSGID_MAX + 1];
	sqlite3_stmt *s;
	int rc;

	if (valid_request(r, e) == -1 || token_new(token, e) == -1)
		return -1;
	/* The kind in the id makes a thread readable in a raw mailbox; the
	 * random part makes it unguessable and unique. */
	snprintf(msgid, sizeof(msgid), "%s.%s@%s", token, r->kind, r->msgid_domain);
	if ((s = store_stmt(st, ins, e)) == NULL)
		return -1;
	if (r->participant_id > 0)
		sqlite3_bind_int64(s, 1, r->participant_id);
	store_bind_text(s, 2, r->recipient);
	store_bind_text(s, 3, r->kind);
	store_bind_text(s, 4, r->key);
	store_bind_text(s, 5, msgid);
	if (r->inbound_id > 0)
		sqlite3_bind_int64(s, 6, r->inbound_id);
	sqlite3_bind_int64(s, 7, r->due_at);
	sqlite3_bind_int64(s, 8, now);
	store_bind_text(s, 9, delivery_state_name(r->state));
	/* No RETURNING: it buffers the row in an ephemeral table, a third of
	 * the insert's cost when the schedule queues thousands. */
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_db_err(st, e, "enqueue delivery");
	if (sqlite3_changes(st->db) == 1) {
		if (id)
			*id = sqlite3_last_insert_rowid(st->db);
		return 0;
	}

	if ((s = store_stmt(st, sel, e)) == NULL)
		return -1;
	store_bind_text(s, 1, r->recipient);
	store_bind_text(s, 2, r->kind);
	store_bind_text(s, 3, r->key);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && id)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return store_db_err(st, e, "enqueue delivery (existing row)");
	return 1;
}

/* The oldest due first, read with one ordered index range per state,
 * merged: "state IN (...) ORDER BY" would sort every due row on each
 * claim, O(queue) per message.  Rows are read, then updated one by one by
 * id: an UPDATE ... RETURNING would build a temporary table per claim. */
int
store_delivery_claim(struct store *st, int64_t now, size_t max, struct delivery *out,
    size_t *n, struct err *e)
{
	static const char sel[] =
	    "SELECT " DELIVERY_COLUMNS " FROM deliveries WHERE state = 'queued' AND due_at <= ?1"
	    " UNION ALL"
	    " SELECT " DELIVERY_COLUMNS " FROM deliveries WHERE state = 'deferred' AND due_at <= ?1"
	    " ORDER BY due_at, id LIMIT ?2";
	static const char upd[] =
	    "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, claimed_at = ?2"
	    " WHERE id = ?1";
	sqlite3_stmt *s;
	int own, rc = SQLITE_DONE;

	*n = 0;
	if (max == 0)
		return 0;
	if (store_auto_begin(st, &own, e) == -1)
		return -1;
	if ((s = store_stmt(st, sel, e)) == NULL)
		return store_auto_end(st, own, -1, e);
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
		read_delivery(s, &out[(*n)++]);
	sqlite3_reset(s);
	if (*n < max && rc != SQLITE_DONE) {
		store_db_err(st, e, "claim deliveries");
		goto fail;
	}
	for (size_t i = 0; i < *n; i++) {
		if ((s = store_stmt(st, upd, e)) == NULL)
			goto fail;
		sqlite3_bind_int64(s, 1, out[i].id);
		sqlite3_bind_int64(s, 2, now);
		if (store_step_done(st, s, e, "claim delivery") == -1)
			goto fail;
		out[i].state = DS_SENDING;
		out[i].attempts++;
	}
	return store_auto_end(st, own, 0, e);
fail:
	*n = 0;
	return store_auto_end(st, own, -1, e);
}

static int
mark(struct store *st, const char *sql, int64_t id, int64_t t, const char *reason,
    struct err *e)
{
	char clipped[STORE_REASON_MAX + 1];
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	store_clip_utf8(reason ? reason : "", clipped, sizeof(clipped));
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, t);
	store_bind_text(s, 3, clipped);
	if (store_step_done(st, s, e, "mark delivery") == -1)
		return -1;
	if (sqlite3_changes(st->db) != 1)
		return err_set(e, "store: delivery %lld is not being sent", (long long)id);
	return 0;
}

int
store_delivery_mark_sent(struct store *st, int64_t id, int64_t now, struct err *e)
{
	static const char sql[] =
	    "UPDATE deliveries SET state = 'sent', sent_at = ?2, last_error = ?3"
	    " WHERE id = ?1 AND state = 'sending'";

	return mark(st, sql, id, now, "", e);
}

int
store_delivery_mark_deferred(struct store *st, int64_t id, int64_t retry_at,
    const char *reason, struct err *e)
{
	static const char sql[] =
	    "UPDATE deliveries SET state = 'deferred', due_at = ?2, last_error = ?3"
	    " WHERE id = ?1 AND state = 'sending'";

	return mark(st, sql, id, retry_at, reason, e);
}

int
store_delivery_mark_failed(struct store *st, int64_t id, const char *reason, struct err *e)
{
	static const char sql[] =
	    "UPDATE deliveries SET state = 'failed', last_error = ?3"
	    " WHERE id = ?1 AND state = 'sending'"; /* ?2 unused */

	return mark(st, sql, id, 0, reason, e);
}

int
store_delivery_recover(struct store *st, int64_t *n, struct err *e)
{
	static const char sql[] =
	    "UPDATE deliveries SET state = 'queued',"
	    " last_error = '" STORE_RECOVERED "' WHERE state = 'sending'";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL || store_step_done(st, s, e, "recover deliveries") == -1)
		return -1;
	*n = sqlite3_changes(st->db);
	return 0;
}

static int
get_one(struct store *st, sqlite3_stmt *s, struct delivery *out, struct err *e)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		read_delivery(s, out);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : store_db_err(st, e, "delivery lookup");
}

int
store_delivery_by_message_id(struct store *st, const char *message_id, struct delivery *out,
    struct err *e)
{
	static const char sql[] = "SELECT " DELIVERY_COLUMNS " FROM deliveries WHERE message_id = ?";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, message_id);
	return get_one(st, s, out, e);
}

int
store_delivery_get(struct store *st, int64_t id, struct delivery *out, struct err *e)
{
	static const char sql[] = "SELECT " DELIVERY_COLUMNS " FROM deliveries WHERE id = ?";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	return get_one(st, s, out, e);
}

int
store_delivery_find(struct store *st, const char *recipient, const char *kind, const char *key,
    struct delivery *out, struct err *e)
{
	static const char sql[] = "SELECT " DELIVERY_COLUMNS " FROM deliveries"
	    " WHERE recipient = ? AND kind = ? AND key = ?";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, recipient);
	store_bind_text(s, 2, kind);
	store_bind_text(s, 3, key);
	return get_one(st, s, out, e);
}

int
store_delivery_count(struct store *st, const char *kind, int state, int64_t *n, struct err *e)
{
	return store_delivery_count_key(st, kind, NULL, state, n, e);
}

int
store_delivery_count_due(struct store *st, int64_t now, int64_t *n, struct err *e)
{
	static const char sql[] = "SELECT"
	    " (SELECT count(*) FROM deliveries WHERE state = 'queued' AND due_at <= ?1) +"
	    " (SELECT count(*) FROM deliveries WHERE state = 'deferred' AND due_at <= ?1)";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	return store_step_int64(st, s, n, e, "count due deliveries");
}
