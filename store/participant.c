/* participant.c - the people taking the programme. */
#include <string.h>

#include "internal.h"

static const char *const status_names[] = { "pending", "active", "unsubscribed", "suspended" };

const char *
participant_status_name(enum participant_status s)
{
	if ((unsigned)s >= sizeof(status_names) / sizeof(status_names[0]))
		return "?";
	return status_names[s];
}

static int
status_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (strcmp(name, status_names[i]) == 0)
			return (int)i;
	return -1;
}

#define PARTICIPANT_COLUMNS \
	"id, address, name, status, token, confirm_token, blog_url, feed_url, " \
	"created_at, confirmed_at, bounce_score, status_at, bounce_at, bounce_reason, " \
	"alt_address, alt_pending, alt_token, alt_requested_at"

static void
read_participant(sqlite3_stmt *s, struct participant *p)
{
	const unsigned char *status = sqlite3_column_text(s, 3);
	int st;

	memset(p, 0, sizeof(*p));
	p->id = sqlite3_column_int64(s, 0);
	store_col_copy(s, 1, p->address, sizeof(p->address));
	store_col_copy(s, 2, p->name, sizeof(p->name));
	st = status_from_name(status ? (const char *)status : "");
	p->status = st < 0 ? PS_SUSPENDED : (enum participant_status)st;
	store_col_copy(s, 4, p->token, sizeof(p->token));
	store_col_copy(s, 5, p->confirm_token, sizeof(p->confirm_token));
	store_col_copy(s, 6, p->blog_url, sizeof(p->blog_url));
	store_col_copy(s, 7, p->feed_url, sizeof(p->feed_url));
	p->created_at = sqlite3_column_int64(s, 8);
	p->confirmed_at = sqlite3_column_int64(s, 9);
	p->bounce_score = sqlite3_column_double(s, 10);
	p->status_at = sqlite3_column_int64(s, 11);
	p->bounce_at = sqlite3_column_int64(s, 12);
	store_col_copy(s, 13, p->bounce_reason, sizeof(p->bounce_reason));
	store_col_copy(s, 14, p->alt_address, sizeof(p->alt_address));
	store_col_copy(s, 15, p->alt_pending, sizeof(p->alt_pending));
	store_col_copy(s, 16, p->alt_token, sizeof(p->alt_token));
	p->alt_requested_at = sqlite3_column_int64(s, 17);
}

/* Runs a lookup statement whose first parameter is already bound. */
static int
lookup(struct store *st, sqlite3_stmt *s, struct participant *out, struct err *e)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW) {
		read_participant(s, out);
		sqlite3_reset(s);
		return 0;
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return 1;
	return store_db_err(st, e, "participant lookup");
}

static int
lookup_text(struct store *st, const char *sql, const char *v, struct participant *out,
    struct err *e)
{
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, v);
	return lookup(st, s, out, e);
}

int
store_participant_by_id(struct store *st, int64_t id, struct participant *out, struct err *e)
{
	static const char sql[] = "SELECT " PARTICIPANT_COLUMNS " FROM participants WHERE id = ?";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	return lookup(st, s, out, e);
}

int
store_participant_by_address(struct store *st, const char *address, struct participant *out,
    struct err *e)
{
	static const char sql[] =
	    "SELECT " PARTICIPANT_COLUMNS " FROM participants WHERE address = ?";

	return lookup_text(st, sql, address, out, e);
}

int
store_participant_by_token(struct store *st, const char *token, struct participant *out,
    struct err *e)
{
	static const char sql[] = "SELECT " PARTICIPANT_COLUMNS " FROM participants WHERE token = ?";

	return lookup_text(st, sql, token, out, e);
}

int
store_participant_by_confirm_token(struct store *st, const char *token,
    struct participant *out, struct err *e)
{
	static const char sql[] =
	    "SELECT " PARTICIPANT_COLUMNS " FROM participants WHERE confirm_token = ?";

	return lookup_text(st, sql, token, out, e);
}

int
store_participant_by_alt_token(struct store *st, const char *token, struct participant *out,
    struct err *e)
{
	static const char sql[] =
	    "SELECT " PARTICIPANT_COLUMNS " FROM participants WHERE alt_token = ?";

	return lookup_text(st, sql, token, out, e);
}

int
store_participant_add(struct store *st, const char *address, const char *name,
    enum participant_status status, int64_t now, struct participant *out, struct err *e)
{
	static const char sql[] =
	    "INSERT INTO participants (address, name, status, token, confirm_token, created_at,"
	    " confirmed_at, status_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
	    " ON CONFLICT (address) DO NOTHING";
	char token[TOKEN_HEX_LEN + 1], confirm[TOKEN_HEX_LEN + 1];
	char clipped[STORE_NAME_MAX + 1];
	sqlite3_stmt *s = NULL;
	int own, rc;

	if (strchr(address, '@') == NULL || str_has_ctl(address, 0))
		return err_set(e, "store: refusing malformed address");
	if (token_new(token, e) == -1 || token_new(confirm, e) == -1)
		return -1;
	store_clip_utf8(name, clipped, sizeof(clipped));
	if (store_auto_begin(st, &own, e) == -1)
		return -1;
	rc = store_participant_by_address(st, address, out, e);
	if (rc == 0) {
		rc = 1; /* already there: out holds it */
		goto out;
	}
	if (rc == -1 || (s = store_stmt(st, sql, e)) == NULL) {
		rc = -1;
		goto out;
	}
	store_bind_text(s, 1, address);
	store_bind_text(s, 2, clipped);
	store_bind_text(s, 3, participant_status_name(status));
	store_bind_text(s, 4, token);
	store_bind_text(s, 5, status == PS_PENDING ? confirm : NULL);
	sqlite3_bind_int64(s, 6, now);
	sqlite3_bind_int64(s, 7, status == PS_ACTIVE ? now : 0);
	sqlite3_bind_int64(s, 8, now);
	rc = store_step_done(st, s, e, "add participant");
	if (rc == 0)
		rc = store_participant_by_address(st, address, out, e) == 0 ? 0 : -1;
out:
	return store_auto_end(st, own, rc, e);
}

static int
update_one(struct store *st, sqlite3_stmt *s, struct err *e, const char *what)
{
	if (store_step_done(st, s, e, what) == -1)
		return -1;
	if (sqlite3_changes(st->db) == 0)
		return err_set(e, "store: %s: no such participant", what);
	return 0;
}

int
store_participant_activate(struct store *st, int64_t id, int64_t now, struct err *e)
{
	static const char sql[] =
	    "UPDATE participants SET status = 'active', confirm_token = NULL, status_at = ?1,"
	    " confirmed_at = CASE WHEN confirmed_at = 0 THEN ?1 ELSE confirmed_at END,"
	    " bounce_score = 0, bounce_at = 0, bounce_reason = ''"
	    " WHERE id = ?2";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, id);
	return update_one(st, s, e, "activate participant");
}

int
store_participant_new_confirm_token(struct store *st, int64_t id, char *token_out,
    struct err *e)
{
	static const char sql[] = "UPDATE participants SET confirm_token = ? WHERE id = ?";
	sqlite3_stmt *s;

	if (token_new(token_out, e) == -1)
		return -1;
	if ((s = store_stmt(st, sql, e)) == NULL)
		return -1;
	store_bind_text(s, 1, token_out);
	sqlite3_bind_int64(s, 2, id);
	return update_one(st, s, e, "new confirm token");
}

int
store_participant_set_status(struct store *st, int64_t id, enum participant_status status,
    int64_t now, struct err *e)
{
	static const char sql[] =
	    "UPDATE participants SET status = ?, status_at = ? WHERE id = ?";
	sqlite3_stmt *s;

	if (status == PS_ACTIVE)
		return store_participant_activate(st, id, now, e);
	if ((s = store_stmt(st, sql, e)) == NULL)
		return -1;
	store_bind_text(s, 1, participant_status_name(status));
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int64(s, 3, id);
	return update_one(st, s, e, "set participant status");
}

int
store_participant_set_name(struct store *st, int64_t id, const char *name, struct err *e)
{
	static const char sql[] = "UPDATE participants SET name = ? WHERE id = ?";
	char clipped[STORE_NAME_MAX + 1];
	sqlite3_stmt *s;

	store_clip_utf8(name, clipped, sizeof(clipped));
	if ((s = store_stmt(st, sql, e)) == NULL)
		return -1;
	store_bind_text(s, 1, clipped);
	sqlite3_bind_int64(s, 2, id);
	return update_one(st, s, e, "set participant name");
}

int
store_participant_set_blog(struct store *st, int64_t id, const char *blog_url,
    const char *feed_url, struct err *e)
{
	static const char sql[] = "UPDATE participants SET blog_url = ?, feed_url = ? WHERE id = ?";
	sqlite3_stmt *s;

	if (strlen(blog_url) > STORE_URL_MAX || strlen(feed_url) > STORE_URL_MAX)
		return err_set(e, "store: URL longer than %d bytes", STORE_URL_MAX);
	if (str_has_ctl(blog_url, 0) || str_has_ctl(feed_url, 0))
		return err_set(e, "store: URL with control characters");
	if ((s = store_stmt(st, sql, e)) == NULL)
		return -1;
	store_bind_text(s, 1, blog_url);
	store_bind_text(s, 2, feed_url);
	sqlite3_bind_int64(s, 3, id);
	return update_one(st, s, e, "set blog");
}

/* alt normalized into out ("" stays ""), unless it is the participant's
 * own address. */
static int
alt_normalize(struct store *st, int64_t id, const char *alt, int allow_empty, char *out,
    struct err *e)
{
	struct participant p;
	int rc;

	out[0] = '\0';
	if (alt[0] == '\0' && allow_empty)
		return 0;
	if (addr_normalize(alt, out, ADDR_MAX + 1, e) == -1)
		return err_prefix(e, "store: alternate address");
	if ((rc = store_participant_by_id(st, id, &p, e)) != 0)
		return rc == -1 ? -1 : err_set(e, "store: alternate address: no such participant");
	if (strcmp(p.address, out) == 0)
		return err_set(e, "store: the alternate address is the participant's own");
	return 0;
}

int
store_participant_set_alt(struct store *st, int64_t id, const char *alt, struct err *e)
{
	static const char sql[] =
	    "UPDATE participants SET alt_address = ?, alt_pending = '', alt_token = NULL"
	    " WHERE id = ?";
	char norm[ADDR_MAX + 1];
	sqlite3_stmt *s;

	if (alt_normalize(st, id, alt, 1, norm, e) == -1 || (s = store_stmt(st, sql, e)) == NULL)
		return -1;
	store_bind_text(s, 1, norm);
	sqlite3_bind_int64(s, 2, id);
	return update_one(st, s, e, "set alternate address");
}

int
store_participant_request_alt(struct store *st, int64_t id, const char *alt, int64_t now,
    char *token_out, struct err *e)
{
	static const char sql[] =
	    "UPDATE participants SET alt_pending = ?, alt_token = ?, alt_requested_at = ?"
	    " WHERE id = ?";
	char norm[ADDR_MAX + 1];
	sqlite3_stmt *s;

	if (alt_normalize(st, id, alt, 0, norm, e) == -1 || token_new(token_out, e) == -1 ||
	    (s = store_stmt(st, sql, e)) == NULL)
		return -1;
	store_bind_text(s, 1, norm);
	store_bind_text(s, 2, token_out);
	sqlite3_bind_int64(s, 3, now);
	sqlite3_bind_int64(s, 4, id);
	return update_one(st, s, e, "request alternate address");
}

int
store_participant_confirm_alt(struct store *st, int64_t id, struct err *e)
{
	static const char sql[] =
	    "UPDATE participants SET alt_address = alt_pending, alt_pending = '',"
	    " alt_token = NULL, alt_requested_at = 0 WHERE id = ? AND alt_pending <> ''";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (store_step_done(st, s, e, "confirm alternate address") == -1)
		return -1;
	return sqlite3_changes(st->db) == 0 ? 1 : 0;
}

int
store_participant_each(struct store *st, int status, participant_fn fn, void *arg,
    struct err *e)
{
	static const char sql[] = "SELECT " PARTICIPANT_COLUMNS " FROM participants"
	    " WHERE ?1 IS NULL OR status = ?1 ORDER BY id";
	struct participant p;
	sqlite3_stmt *s;
	int rc;

	/* The statement is not cached: fn may call back into the store. */
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_db_err(st, e, "list participants");
	store_bind_text(s, 1, status < 0 ? NULL : participant_status_name(status));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int stop;

		read_participant(s, &p);
		if ((stop = fn(arg, &p)) != 0) {
			sqlite3_finalize(s);
			return stop;
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_db_err(st, e, "list participants");
	return 0;
}

int
store_participant_count(struct store *st, int status, int64_t *n, struct err *e)
{
	static const char sql[] =
	    "SELECT count(*) FROM participants WHERE ?1 IS NULL OR status = ?1";
	sqlite3_stmt *s = store_stmt(st, sql, e);

	if (s == NULL)
		return -1;
	store_bind_text(s, 1, status < 0 ? NULL : participant_status_name(status));
	return store_step_int64(st, s, n, e, "count participants");
}
