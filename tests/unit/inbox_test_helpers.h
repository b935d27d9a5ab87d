/*
 * inbox_test_helpers.h - small helpers shared by the inbox tests: temp
 * directories, Maildirs, files, and the Dovecot test bed
 * (tests/unit/imap_testbed.sh).  Included by each test program (one
 * binary per test file), hence static functions.
 */
#ifndef THINGS_INBOX_TEST_HELPERS_H
#define THINGS_INBOX_TEST_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../../content/content.h"
#include "../../store/store.h"

#define TH_UNUSED __attribute__((unused))

static int
th_rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static TH_UNUSED void
th_rm_rf(const char *dir)
{
	nftw(dir, th_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory under /tmp (world-searchable: Dovecot's users need it). */
static TH_UNUSED char *
th_tmpdir(const char *tag)
{
	char tmpl[PATH_MAX];
	char *d;

	snprintf(tmpl, sizeof(tmpl), "/tmp/things-%s-XXXXXX", tag);
	if ((d = mkdtemp(tmpl)) == NULL)
		return NULL;
	chmod(d, 0755);
	return strdup(d);
}

static TH_UNUSED int
th_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		return -1;
	if (len > 0 && fwrite(data, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

/* Reads a whole (small) file; the caller frees.  NULL if missing. */
static TH_UNUSED char *
th_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t n = 0, cap = 0, r;

	if (f == NULL)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			char *nd = realloc(data, cap = (cap ? cap * 2 : 8192));

			if (nd == NULL) {
				free(data);
				fclose(f);
				return NULL;
			}
			data = nd;
		}
		r = fread(data + n, 1, 4096, f);
		n += r;
	} while (r > 0);
	fclose(f);
	data[n] = '\0';
	if (len != NULL)
		*len = n;
	return data;
}

static TH_UNUSED int
th_exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/* Makes dir/{cur,new,tmp}. */
static TH_UNUSED int
th_make_maildir(const char *dir)
{
	static const char *const subs[] = { "", "/cur", "/new", "/tmp" };
	char p[PATH_MAX];

	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s%s", dir, subs[i]);
		if (mkdir(p, 0700) == -1 && errno != EEXIST)
			return -1;
	}
	return 0;
}

/* Delivers a message into dir/SUB/NAME. */
static TH_UNUSED int
th_deliver(const char *dir, const char *sub, const char *name, const char *msg)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s/%s", dir, sub, name);
	return th_write_file(p, msg, strlen(msg));
}

/* Counts the regular, non-dot files in a directory; -1 if it is missing. */
static TH_UNUSED int
th_count_files(const char *dir)
{
	char cmd[PATH_MAX + 64];
	FILE *p;
	int n = -1;

	if (!th_exists(dir))
		return -1;
	snprintf(cmd, sizeof(cmd), "find '%s' -maxdepth 1 -type f ! -name '.*' | wc -l", dir);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	if (fscanf(p, "%d", &n) != 1)
		n = -1;
	pclose(p);
	return n;
}

/* Runs a shell command; its exit status. */
static TH_UNUSED int
th_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The test bed script, found from the source tree (tests run from the top
 * of the tree; THINGS_SRCDIR overrides). */
static TH_UNUSED const char *
th_testbed_script(void)
{
	static char path[PATH_MAX];
	const char *top = getenv("THINGS_SRCDIR");

	snprintf(path, sizeof(path), "%s/tests/unit/imap_testbed.sh", top ? top : ".");
	return path;
}

struct th_dovecot {
	char *dir;
	int imap_port;
	int imaps_port;
	char ca_file[PATH_MAX];
	char log[PATH_MAX];
	char user[64];
	char pass[64];
};

/* Starts a private Dovecot; 0, or -1 with the reason printed.  *skip is
 * set when the machine cannot run one (not root, no dovecot). */
static TH_UNUSED int
th_dovecot_start(struct th_dovecot *d, int *skip)
{
	char cmd[PATH_MAX * 2], line[PATH_MAX + 32];
	FILE *p;

	memset(d, 0, sizeof(*d));
	*skip = 0;
	if (geteuid() != 0 || system("command -v dovecot >/dev/null 2>&1") != 0) {
		fprintf(stderr, "SKIP: the IMAP tests need root and dovecot (tools/deps.sh)\n");
		*skip = 1;
		return -1;
	}
	if ((d->dir = th_tmpdir("imap")) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s start '%s'", th_testbed_script(), d->dir);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), p) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "IMAP_PORT=", 10) == 0)
			d->imap_port = atoi(line + 10);
		else if (strncmp(line, "IMAPS_PORT=", 11) == 0)
			d->imaps_port = atoi(line + 11);
		else if (strncmp(line, "CA_FILE=", 8) == 0)
			snprintf(d->ca_file, sizeof(d->ca_file), "%s", line + 8);
		else if (strncmp(line, "LOG=", 4) == 0)
			snprintf(d->log, sizeof(d->log), "%s", line + 4);
		else if (strncmp(line, "USER=", 5) == 0)
			snprintf(d->user, sizeof(d->user), "%s", line + 5);
		else if (strncmp(line, "PASS=", 5) == 0)
			snprintf(d->pass, sizeof(d->pass), "%s", line + 5);
	}
	if (pclose(p) != 0 || d->imap_port == 0 || d->imaps_port == 0) {
		fprintf(stderr, "imap test bed failed to start (see %s)\n", d->dir);
		return -1;
	}
	return 0;
}

static TH_UNUSED void
th_dovecot_stop(struct th_dovecot *d)
{
	if (d->dir == NULL)
		return;
	th_sh("%s stop '%s'", th_testbed_script(), d->dir);
	if (getenv("THINGS_KEEP_TESTBED") == NULL)
		th_rm_rf(d->dir);
	free(d->dir);
	d->dir = NULL;
}

/* Stores a message (text) in a mailbox of the test user. */
static TH_UNUSED int
th_dovecot_deliver(const struct th_dovecot *d, const char *mailbox, const char *msg)
{
	char path[PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), "%s/msg.tmp", d->dir);
	if (th_write_file(path, msg, strlen(msg)) == -1)
		return -1;
	rc = th_sh("%s deliver '%s' '%s' '%s'", th_testbed_script(), d->dir, mailbox, path);
	unlink(path);
	return rc == 0 ? 0 : -1;
}

/* Runs a command and returns its first line of output (without the
 * newline) in out; -1 if it failed or printed nothing. */
static TH_UNUSED int
th_sh_line(char *out, size_t n, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	FILE *p;
	int ok;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	ok = fgets(out, (int)n, p) != NULL;
	if (pclose(p) != 0 || !ok)
		return -1;
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

/* A status field of a mailbox of the test user ("messages",
 * "uidvalidity"); -1 if the mailbox does not exist. */
static TH_UNUSED int64_t
th_dovecot_status(const struct th_dovecot *d, const char *mailbox, const char *field)
{
	char line[512], want[64];
	const char *m;

	snprintf(want, sizeof(want), "%s=", field);
	if (th_sh_line(line, sizeof(line), "doveadm -c '%s/etc/dovecot.conf' -f flow mailbox "
	    "status -u things %s '%s' 2>/dev/null", d->dir, field, mailbox) == -1 ||
	    (m = strstr(line, want)) == NULL)
		return -1;
	return strtoll(m + strlen(want), NULL, 10);
}

#define th_dovecot_count(d, mb) ((int)th_dovecot_status((d), (mb), "messages"))
#define th_dovecot_uidvalidity(d, mb) ((uint32_t)th_dovecot_status((d), (mb), "uidvalidity"))

/* 1 if some message of the mailbox carries the \Seen flag. */
static TH_UNUSED int
th_dovecot_any_seen(const struct th_dovecot *d, const char *mailbox)
{
	return th_sh("doveadm -c '%s/etc/dovecot.conf' fetch -u things flags mailbox '%s' "
	    "| grep -q 'Seen'", d->dir, mailbox) == 0;
}

/* How many lines of the Dovecot log hold both a and b (b may be NULL). */
static TH_UNUSED int
th_log_count(const char *log, const char *a, const char *b)
{
	char *text = th_read_file(log, NULL), *line, *save = NULL;
	int n = 0;

	if (text == NULL)
		return 0;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (strstr(line, a) != NULL && (b == NULL || strstr(line, b) != NULL))
			n++;
	free(text);
	return n;
}

/* Waits (up to 3 s) for a log line holding both a and b: Dovecot logs
 * through a separate process. */
static TH_UNUSED int
th_log_wait(const char *log, const char *a, const char *b)
{
	for (int i = 0; i < 60; i++) {
		if (th_log_count(log, a, b) > 0)
			return 1;
		usleep(50000);
	}
	return 0;
}

/* One integer from an SQL query (printf-style) on the database at path,
 * opened read-only beside the store's own connection; -1 on any error. */
static TH_UNUSED int64_t
th_sql_int(const char *path, const char *fmt, ...)
{
	char sql[2048];
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t v = -1;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
	else if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* What the store-backed inbox tests share: a temp directory with a store
 * (db) and an empty Maildir (maildir), and a programme as content/ would
 * load it: address things@example.org, '+' tags, 12 Things, two
 * organisers, inbox url (maildir:MAILDIR; tests may point it elsewhere). */
struct th_fixture {
	char *dir;
	char db[PATH_MAX];
	char maildir[PATH_MAX];
	char url[PATH_MAX + 16];
	struct store *st;
	struct programme prog;
};

static TH_UNUSED char *th_organisers[] = { "org1@example.org", "org2@example.org" };

/* The names th_deliverf gives its files count from 0 in each test. */
static TH_UNUSED int th_nfile;

static TH_UNUSED int
th_fixture_setup(void **state)
{
	struct th_fixture *f = calloc(1, sizeof(*f));
	struct err e;

	th_nfile = 0;
	if (f == NULL || (f->dir = th_tmpdir("inbox")) == NULL)
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/things.db", f->dir);
	snprintf(f->maildir, sizeof(f->maildir), "%s/inbox", f->dir);
	snprintf(f->url, sizeof(f->url), "maildir:%s", f->maildir);
	if (th_make_maildir(f->maildir) == -1)
		return -1;
	if (store_open(f->db, &f->st, &e) == -1) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	f->prog.cfg.address = "things@example.org";
	f->prog.cfg.delimiter = '+';
	f->prog.cfg.organisers = th_organisers;
	f->prog.cfg.norganisers = 2;
	f->prog.cfg.imap_url = f->url;
	f->prog.nthings = 12;
	*state = f;
	return 0;
}

static TH_UNUSED int
th_fixture_teardown(void **state)
{
	struct th_fixture *f = *state;

	store_close(f->st);
	th_rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* Delivers a message (printf-style; header lines end in CRLF) into the
 * fixture's Maildir, new/, under the next name ("1000.M0.test", ...,
 * oldest first); sub "cur" and a name: there instead.  0 or -1. */
static TH_UNUSED int __attribute__((format(printf, 4, 5)))
th_deliverf(struct th_fixture *f, const char *sub, const char *name, const char *fmt, ...)
{
	char *msg = NULL, fresh[64];
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if (name == NULL) {
		snprintf(fresh, sizeof(fresh), "%d.M%d.test", 1000 + th_nfile, th_nfile);
		th_nfile++;
		name = fresh;
	}
	rc = th_deliver(f->maildir, sub ? sub : "new", name, msg);
	free(msg);
	return rc;
}

/* q(f, "SELECT ...", ...): one integer from the fixture's database. */
#define q(f, ...) th_sql_int((f)->db, __VA_ARGS__)

/* One Dovecot per test program, started by the group set-up. */
static TH_UNUSED struct th_dovecot th_dc;
static TH_UNUSED int th_no_dovecot;

static TH_UNUSED int
th_dovecot_group_setup(void **state)
{
	(void)state;
	if (th_dovecot_start(&th_dc, &th_no_dovecot) == -1 && !th_no_dovecot)
		return -1;
	return 0;
}

static TH_UNUSED int
th_dovecot_group_teardown(void **state)
{
	(void)state;
	th_dovecot_stop(&th_dc);
	return 0;
}

#endif
