/*
 * crumb.c - crash breadcrumbs: which untrusted input a run had in hand
 * when it died.  A message or feed that makes a library crash would
 * otherwise kill every cron run at the same place, forever, and nothing
 * after it (the Things, the answers) would go out again.  With the crumb,
 * the next run knows what it was, and after a few deaths sets it aside.
 *
 * A small file beside the database rather than a row in it: the crumb
 * changes twice per input, and a commit per change would cost more than
 * handling the input.  No fsync: the crumb must outlive the process, not
 * the machine (a power cut is no evidence against a message).
 *
 * The file's first line holds "DEATHS KEY": the input in hand, and how many
 * runs in a row (this one included) have had it in hand; an empty first
 * line, nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define CRUMB_TEXT_MAX (STORE_CRUMB_MAX + 32)

/* Reads what the last run left: "" and 0 for nothing, or for a torn or
 * foreign file (which can only cost one more death). */
static void
crumb_parse(struct store *st, char *text)
{
	int used = 0;
	long n;

	st->crumb_left[0] = '\0';
	st->crumb_deaths = 0;
	text[strcspn(text, "\n")] = '\0';
	if (sscanf(text, "%ld %n", &n, &used) != 1 || used == 0 || n < 1 || n > 1000 ||
	    text[used] == '\0' || strlen(text + used) >= sizeof(st->crumb_left))
		return;
	snprintf(st->crumb_left, sizeof(st->crumb_left), "%s", text + used);
	st->crumb_deaths = (int)n;
}

/* Opens the crumb on first use and reads what the last run left. */
static int
crumb_load(struct store *st, struct err *e)
{
	char path[4096], text[CRUMB_TEXT_MAX];
	const char *db;
	ssize_t got = 0;

	if (st->crumb_open)
		return 0;
	st->crumb_fd = -1;
	db = sqlite3_db_filename(st->db, "main");
	if (db != NULL && db[0] != '\0') {
		if ((size_t)snprintf(path, sizeof(path), "%s.crumb", db) >= sizeof(path))
			return err_set(e, "store path too long");
		if ((st->crumb_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
			return err_set(e, "cannot open %s: %s", path, strerror(errno));
		if ((got = pread(st->crumb_fd, text, sizeof(text) - 1, 0)) == -1) {
			err_set(e, "cannot read %s: %s", path, strerror(errno));
			close(st->crumb_fd);
			return -1;
		}
	}
	text[got] = '\0';
	crumb_parse(st, text);
	st->crumb_open = 1;
	return 0;
}

static int
crumb_write(struct store *st, const char *text, struct err *e)
{
	size_t len = strlen(text);

	if (st->crumb_fd == -1) {
		snprintf(st->crumb_mem, sizeof(st->crumb_mem), "%s", text);
		return 0;
	}
	/* Only the first line counts: "nothing in hand" is an empty first
	 * line, and what follows the newline (a longer crumb of before) is
	 * never read.  One small pwrite, no ftruncate: it is done twice per
	 * message and per feed, and truncating cost more than the write. */
	if (pwrite(st->crumb_fd, len > 0 ? text : "\n", len > 0 ? len : 1, 0) !=
	    (ssize_t)(len > 0 ? len : 1))
		return err_set(e, "cannot write the crash crumb: %s", strerror(errno));
	return 0;
}

int
store_crumb_enter(struct store *st, const char *key, int limit, struct err *e)
{
	char text[CRUMB_TEXT_MAX];
	int same;

	if (key[0] == '\0' || strlen(key) >= STORE_CRUMB_MAX || strpbrk(key, "\r\n") != NULL)
		return err_set(e, "crash crumb: key empty, too long or not one line");
	if (crumb_load(st, e) == -1)
		return -1;
	same = strcmp(key, st->crumb_left) == 0;
	if (same && st->crumb_deaths >= limit)
		return store_crumb_leave(st, e) == -1 ? -1 : 1;
	snprintf(text, sizeof(text), "%d %s\n", same ? st->crumb_deaths + 1 : 1, key);
	crumb_guard_entered();
	return crumb_write(st, text, e);
}

int
store_crumb_leave(struct store *st, struct err *e)
{
	if (crumb_load(st, e) == -1)
		return -1;
	return crumb_write(st, "", e);
}

int
store_crumb_prepare(struct store *st, struct err *e)
{
	return crumb_load(st, e);
}
