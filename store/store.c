/* store.c - opening the database, statements, transactions, the run lock. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "internal.h"

static int
exec_sql(struct store *st, const char *sql, struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, "%s: %s", sql, msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* SQLite counts every allocation under a global mutex for sqlite3_status(),
 * which Things never asks for: 3 % of the instructions of a big send.  It
 * can only be turned off before SQLite initialises, so before the first
 * open; refused later (SQLITE_MISUSE), it costs speed, nothing else. */
static void
configure_sqlite(void)
{
	static int done;

	if (!done)
		(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	done = 1;
}

int
store_open(const char *path, struct store **out, struct err *e)
{
	struct store *st;

	*out = NULL;
	configure_sqlite();
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return err_set(e, "out of memory");
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		err_set(e, "cannot open store %s: %s", path,
		    st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	/* Long enough to ride out a cron run writing a batch, short enough
	 * that a wedged writer is reported rather than waited on forever. */
	sqlite3_busy_timeout(st->db, 30000);
	/* temp_store: the sub-journals of savepoints (one per message of an
	 * inbox batch) stay in memory; in a temporary file they cost a write
	 * per page touched, four times the writes of the commits. */
	if (exec_sql(st, "PRAGMA journal_mode=WAL", e) == -1 ||
	    exec_sql(st, "PRAGMA foreign_keys=ON", e) == -1 ||
	    exec_sql(st, "PRAGMA synchronous=FULL", e) == -1 ||
	    exec_sql(st, "PRAGMA temp_store=MEMORY", e) == -1)
		goto fail;
	if (store_migrate(st, e) == -1)
		goto fail;
	*out = st;
	return 0;
fail:
	err_prefix(e, "store %s", path);
	store_close(st);
	return -1;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->ncache; i++)
		sqlite3_finalize(st->cache[i].stmt);
	if (st->db)
		sqlite3_close(st->db);
	if (st->crumb_open && st->crumb_fd >= 0)
		close(st->crumb_fd);
	free(st);
}

sqlite3_stmt *
store_stmt(struct store *st, const char *sql, struct err *e)
{
	sqlite3_stmt *s;

	for (size_t i = 0; i < st->ncache; i++) {
		if (st->cache[i].sql == sql) {
			s = st->cache[i].stmt;
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			return s;
		}
	}
	if (st->ncache == STORE_MAX_STMTS) {
		err_set(e, "store: statement cache full (raise STORE_MAX_STMTS)");
		return NULL;
	}
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
		store_db_err(st, e, "prepare");
		return NULL;
	}
	st->cache[st->ncache].sql = sql;
	st->cache[st->ncache].stmt = s;
	st->ncache++;
	return s;
}

int
store_db_err(struct store *st, struct err *e, const char *what)
{
	return err_set(e, "store: %s: %s", what, sqlite3_errmsg(st->db));
}

int
store_step_done(struct store *st, sqlite3_stmt *s, struct err *e, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_db_err(st, e, what);
	return 0;
}

int
store_step_int64(struct store *st, sqlite3_stmt *s, int64_t *out, struct err *e,
    const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : store_db_err(st, e, what);
}

static const char begin_sql[] = "BEGIN IMMEDIATE", commit_sql[] = "COMMIT";

/* BEGIN and COMMIT from the statement cache: the send loop runs one
 * transaction per round, thousands a run, and sqlite3_exec would parse
 * each of them again. */
static int
tx_sql(struct store *st, const char *sql, struct err *e)
{
	sqlite3_stmt *s = store_stmt(st, sql, e);
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return err_set(e, "%s: %s", sql, sqlite3_errmsg(st->db));
	return 0;
}

int
store_begin(struct store *st, struct err *e)
{
	if (st->in_tx)
		return err_set(e, "store: transaction already open");
	if (tx_sql(st, begin_sql, e) == -1)
		return -1;
	st->in_tx = 1;
	return 0;
}

int
store_commit(struct store *st, struct err *e)
{
	if (!st->in_tx)
		return err_set(e, "store: commit without a transaction");
	if (tx_sql(st, commit_sql, e) == -1) {
		store_rollback(st);
		return -1;
	}
	st->in_tx = 0;
	return 0;
}

void
store_rollback(struct store *st)
{
	if (!st->in_tx)
		return;
	/* Statements still mid-step would make ROLLBACK fail: reset them all. */
	for (size_t i = 0; i < st->ncache; i++)
		sqlite3_reset(st->cache[i].stmt);
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_tx = 0;
}

int
store_auto_begin(struct store *st, int *own, struct err *e)
{
	*own = 0;
	if (st->in_tx)
		return 0;
	if (store_begin(st, e) == -1)
		return -1;
	*own = 1;
	return 0;
}

int
store_auto_end(struct store *st, int own, int rc, struct err *e)
{
	if (!own)
		return rc;
	if (rc < 0) {
		store_rollback(st);
		return rc;
	}
	if (store_commit(st, e) == -1)
		return -1;
	return rc;
}

int
store_set_fast(struct store *st, int fast, struct err *e)
{
	return exec_sql(st, fast ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL", e);
}

int
store_run_lock(const char *path, int *fd, struct err *e)
{
	char lockpath[4096];
	int f;

	if ((size_t)snprintf(lockpath, sizeof(lockpath), "%s.lock", path) >= sizeof(lockpath))
		return err_set(e, "store path too long");
	f = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f == -1)
		return err_set(e, "cannot open %s: %s", lockpath, strerror(errno));
	if (flock(f, LOCK_EX | LOCK_NB) == -1) {
		int saved = errno;

		close(f);
		if (saved == EWOULDBLOCK)
			return 1;
		return err_set(e, "cannot lock %s: %s", lockpath, strerror(saved));
	}
	*fd = f;
	return 0;
}

void
store_run_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int
store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

/* snprintf(out, n, "%s", s) without the printf machinery (a dozen
 * columns are copied per delivery sent): returns the length copied. */
static size_t
copy_clipped(char *out, size_t n, const char *s)
{
	size_t len;

	if (n == 0)
		return 0;
	len = strnlen(s, n - 1);
	memcpy(out, s, len);
	out[len] = '\0';
	return len;
}

void
store_col_copy(sqlite3_stmt *s, int i, char *out, size_t n)
{
	const char *v = (const char *)sqlite3_column_text(s, i);

	copy_clipped(out, n, v ? v : "");
}

char *
store_col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *v = sqlite3_column_text(s, i);

	return strdup(v ? (const char *)v : "");
}

void
store_clip_utf8(const char *s, char *out, size_t n)
{
	size_t len, i, need;
	unsigned char lead;

	len = copy_clipped(out, n, s ? s : "");
	if (s != NULL && strlen(s) > len) {
		/* Truncated: drop a last character whose bytes were cut off. */
		i = len;
		while (i > 0 && ((unsigned char)out[i - 1] & 0xc0) == 0x80)
			i--;
		if (i > 0) {
			lead = (unsigned char)out[i - 1];
			need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
			if (len - (i - 1) < need)
				out[i - 1] = '\0';
		}
	}
	str_squash_space(out);
}
