/* certificate.c - certificates of completion: one per participant, ever. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

int
store_certificate_get(struct store *st, int64_t participant_id, struct certificate *out,
    struct err *e)
{
	static const char sql[] =
	    "SELECT id, things, issued_at FROM certificates WHERE participant_id = ?";
	sqlite3_stmt *s = store_stmt(st, sql, e);
	int rc;

	if (s == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	sqlite3_bind_int64(s, 1, participant_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->number = sqlite3_column_int64(s, 0);
		out->participant_id = participant_id;
		out->things = sqlite3_column_int(s, 1);
		out->issued_at = sqlite3_column_int64(s, 2);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : store_db_err(st, e, "read certificate");
}

int
store_certificate_issue(struct store *st, int64_t participant_id, int things, int64_t now,
    struct certificate *out, struct err *e)
{
	static const char sql[] =
	    "INSERT INTO certificates (participant_id, things, issued_at) VALUES (?, ?, ?)"
	    " ON CONFLICT (participant_id) DO NOTHING";
	sqlite3_stmt *s;
	int added, rc;

	if (things < 1)
		return err_set(e, "store: a certificate for %d Things", things);
	if ((s = store_stmt(st, sql, e)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, participant_id);
	sqlite3_bind_int(s, 2, things);
	sqlite3_bind_int64(s, 3, now);
	if (store_step_done(st, s, e, "issue certificate") == -1)
		return -1;
	added = sqlite3_changes(st->db) == 1;
	if ((rc = store_certificate_get(st, participant_id, out, e)) != 0)
		return rc == 1 ? err_set(e, "store: certificate of participant %lld vanished",
		    (long long)participant_id) : -1;
	return added ? 0 : 1;
}
