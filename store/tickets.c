/* tickets.c - help requests that wait for an organiser. */
#include <string.h>

#include "internal.h"

static const char *const state_names[] = { "open", "answered", "closed" };

const char *
ticket_state_name(enum ticket_state s)
{
	if ((unsigned)s >= sizeof(state_names) / sizeof(state_names[0]))
		return "?";
	return state_names[s];
}

static enum ticket_state
state_from_name(const unsigned char *name)
{
	for (size_t i = 0; name != NULL && i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (strcmp((const char *)name, state_names[i]) == 0)
			return (enum ticket_state)i;
	return TS_CLOSED;
}

#define TICKET_COLUMNS \
	"t.id, t.inbound_id, t.participant_id, t.sender, t.subject, t.thing, t.state," \
	" t.opened_at, t.closed_at, t.closed_by, t.reminders, t.reminded_at"

static void
read_ticket(sqlite3_stmt *s, struct ticket *t)
{
	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(s, 0);
	t->inbound_id = sqlite3_column_int64(s, 1);
	t->participant_id = sqlite3_column_int64(s, 2);
	store_col_copy(s, 3, t->sender, sizeof(t->sender));
	store_col_copy(s, 4, t->subject, sizeof(t->subject));
	t->thing = sqlite3_column_int(s, 5);
	t->state = state_from_name(sqlite3_column_text(s, 6));
	t->opened_at = sqlite3_column_int64(s, 7);
	t->closed_at = sqlite3_column_int64(s, 8);
	store_col_copy(s, 9, t->closed_by, sizeof(t->closed_by));
	t->reminders = sqlite3_column_int(s, 10);
	t->reminded_at = sqlite3_column_int64(s, 11);
}

/* Runs a lookup whose parameter is bound: 0 found, 1 not found. */
static int
ticket_lookup(struct store *st, sqlite3_stmt *s, struct ticket *out, struct err *e)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		read_ticket(s, out);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : store_db_err(st, e, "ticket lookup");
}

static int
lookup_int(struct store *st, const char *sql, int64_t v, struct ticket *out, struct err *e)
{
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, v);
	return ticket_lookup(st, s, out, e);
}

int
store_ticket_open(struct store *st, int64_t inbound_id, int64_t participant_id,
    const char *sender, const char *subject, int thing, int64_t now, int64_t *id,
    struct err *e)
{
	static const char sql[] =
	    "INSERT INTO tickets (inbound_id, participant_id, sender, subject, thing, opened_at)"
	    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (inbound_id) DO NOTHING RETURNING id";
	char clipped[STORE_TITLE_MAX + 1];
	struct ticket t;
	sqlite3_stmt *s;
	int rc;

	if (inbound_id <= 0 || sender == NULL || str_has_ctl(sender, 0))
		return err_set(e, "store: ticket without a request or with a malformed sender");
	if ((s = store_stmt(st, sql, e)) == NULL)
		return -1;
	store_clip_utf8(subject, clipped, sizeof(clipped));
	sqlite3_bind_int64(s, 1, inbound_id);
	if (participant_id > 0)
		sqlite3_bind_int64(s, 2, participant_id);
	store_bind_text(s, 3, sender);
	store_bind_text(s, 4, clipped);
	sqlite3_bind_int(s, 5, thing);
	sqlite3_bind_int64(s, 6, now);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return store_db_err(st, e, "open ticket");
	if ((rc = store_ticket_by_inbound(st, inbound_id, &t, e)) != 0)
		return rc == 1 ? err_set(e, "store: ticket of inbound %lld vanished",
		    (long long)inbound_id) : -1;
	*id = t.id;
	return 1;
}

int
store_ticket_get(struct store *st, int64_t id, struct ticket *out, struct err *e)
{
	static const char sql[] = "SELECT " TICKET_COLUMNS " FROM tickets t WHERE t.id = ?";

	return lookup_int(st, sql, id, out, e);
}

int
store_ticket_by_inbound(struct store *st, int64_t inbound_id, struct ticket *out,
    struct err *e)
{
	static const char sql[] = "SELECT " TICKET_COLUMNS " FROM tickets t WHERE t.inbound_id = ?";

	return lookup_int(st, sql, inbound_id, out, e);
}

int
store_ticket_by_message_id(struct store *st, const char *message_id, struct ticket *out,
    struct err *e)
{
	static const char sql[] = "SELECT " TICKET_COLUMNS " FROM tickets t"
	    " JOIN inbound i ON i.id = t.inbound_id WHERE i.message_id = ?";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, message_id);
	return ticket_lookup(st, s, out, e);
}

int
store_ticket_close(struct store *st, int64_t id, enum ticket_state state, const char *by,
    int64_t now, struct err *e)
{
	static const char sql[] = "UPDATE tickets SET state = ?, closed_by = ?, closed_at = ?"
	    " WHERE id = ? AND state = 'open'";
	char who[ADDR_MAX + 1];
	sqlite3_stmt *s;

	if (state != TS_ANSWERED && state != TS_CLOSED)
		return err_set(e, "store: a ticket ends answered or closed");
	if ((s = store_stmt(st, sql, e)) == NULL)
		return -1;
	store_clip_utf8(by, who, sizeof(who));
	store_bind_text(s, 1, ticket_state_name(state));
	store_bind_text(s, 2, who);
	sqlite3_bind_int64(s, 3, now);
	sqlite3_bind_int64(s, 4, id);
	if (store_step_done(st, s, e, "close ticket") == -1)
		return -1;
	return sqlite3_changes(st->db) == 1 ? 0 : 1;
}

int
store_ticket_reminded(struct store *st, int64_t id, int64_t now, struct err *e)
{
	static const char sql[] =
	    "UPDATE tickets SET reminders = reminders + 1, reminded_at = ? WHERE id = ?";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, id);
	return store_step_done(st, s, e, "count ticket reminder");
}

int
store_ticket_each(struct store *st, int state, ticket_fn fn, void *arg, struct err *e)
{
	static const char sql[] = "SELECT " TICKET_COLUMNS " FROM tickets t"
	    " WHERE ?1 IS NULL OR t.state = ?1 ORDER BY t.opened_at, t.id";
	struct ticket t;
	sqlite3_stmt *s;
	int rc, stop;

	/* Not cached: fn may use the store (and its cached statements). */
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_db_err(st, e, "tickets");
	if (state >= 0)
		store_bind_text(s, 1, ticket_state_name((enum ticket_state)state));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_ticket(s, &t);
		if ((stop = fn(arg, &t)) != 0) {
			sqlite3_finalize(s);
			return stop;
		}
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : store_db_err(st, e, "tickets");
}

int
store_ticket_count(struct store *st, int state, int64_t *n, struct err *e)
{
	static const char sql[] = "SELECT count(*) FROM tickets WHERE ?1 IS NULL OR state = ?1";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	if (state >= 0)
		store_bind_text(s, 1, ticket_state_name((enum ticket_state)state));
	return store_step_int64(st, s, n, e, "count tickets");
}
