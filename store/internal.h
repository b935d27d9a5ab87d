/* internal.h - shared by the files of store/ only. */
#ifndef THINGS_STORE_INTERNAL_H
#define THINGS_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store.h"

#define STORE_MAX_STMTS 128

struct store {
	sqlite3 *db;
	int in_tx;   /* an explicit store_begin is open */
	struct {
		const char *sql;   /* identity: the address of a static string */
		sqlite3_stmt *stmt;
	} cache[STORE_MAX_STMTS];
	size_t ncache;
	/* crumb.c */
	int crumb_open;                      /* crumb_fd and crumb_left are set */
	int crumb_fd;                        /* -1: no file, crumb_mem instead */
	char crumb_mem[STORE_CRUMB_MAX + 32];
	char crumb_left[STORE_CRUMB_MAX];    /* what the last run died with */
	int crumb_deaths;                    /* how many runs in a row did */
};

/* Returns the prepared statement for sql (a string with static storage:
 * statements are cached by its address), reset and with bindings cleared.
 * NULL on error, with the reason in e. */
sqlite3_stmt *store_stmt(struct store *st, const char *sql, struct err *e);

/* Formats SQLite's error for the current connection; returns -1. */
int store_db_err(struct store *st, struct err *e, const char *what);

/* Runs one prepared statement that returns no rows; 0 or -1. */
int store_step_done(struct store *st, sqlite3_stmt *s, struct err *e, const char *what);

/* Opens a transaction unless the caller has one: *own says whether this
 * call opened it.  store_auto_end commits (rc == 0) or rolls back what it
 * owns and returns rc, or -1 if the commit failed. */
int store_auto_begin(struct store *st, int *own, struct err *e);
int store_auto_end(struct store *st, int own, int rc, struct err *e);

/* Steps a bound statement that returns one row of one integer (a count)
 * into *out, and resets it; 0 or -1 (with what in the reason). */
int store_step_int64(struct store *st, sqlite3_stmt *s, int64_t *out, struct err *e,
    const char *what);

/* Binds text, or NULL for a NULL pointer. */
int store_bind_text(sqlite3_stmt *s, int i, const char *v);
/* Copies column i into out (n bytes), "" for NULL, truncated to fit. */
void store_col_copy(sqlite3_stmt *s, int i, char *out, size_t n);
/* strdup of column i ("" for NULL); NULL only when out of memory. */
char *store_col_dup(sqlite3_stmt *s, int i);

/* Copies s into out (n bytes) as one line, cut at a UTF-8 boundary. */
void store_clip_utf8(const char *s, char *out, size_t n);

int store_migrate(struct store *st, struct err *e);

/* A delivery's state from its name in the table (unknown: DS_FAILED). */
enum delivery_state store_delivery_state(const unsigned char *name);

/* crumb_guard.c: the crumb was just entered on this thread. */
void crumb_guard_entered(void);

#endif
