/*
 * test_content_helpers.h - scratch directories, files and a diagnostics
 * collector for the content/ unit tests (each test binary includes it).
 */
#ifndef TEST_CONTENT_HELPERS_H
#define TEST_CONTENT_HELPERS_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../content/content.h"

#define DIAGS_MAX 32

struct diags {
	int n;
	char file[DIAGS_MAX][512];
	int line[DIAGS_MAX];
	char msg[DIAGS_MAX][512];
};

static inline void
diags_collect(void *arg, const char *file, int line, const char *msg)
{
	struct diags *d = arg;

	if (d->n < DIAGS_MAX) {
		snprintf(d->file[d->n], sizeof(d->file[0]), "%s", file);
		d->line[d->n] = line;
		snprintf(d->msg[d->n], sizeof(d->msg[0]), "%s", msg);
	}
	d->n++;
}

/* Index of the first diagnostic whose message holds needle, or -1. */
static inline int
diags_find(const struct diags *d, const char *needle)
{
	for (int i = 0; i < d->n && i < DIAGS_MAX; i++)
		if (strstr(d->msg[i], needle))
			return i;
	return -1;
}

static inline void
diags_print(const struct diags *d)
{
	for (int i = 0; i < d->n && i < DIAGS_MAX; i++)
		fprintf(stderr, "  diag %s:%d: %s\n", d->file[i], d->line[i], d->msg[i]);
}

static inline char *
scratch_dir(void)
{
	char tmpl[] = "/tmp/things-content-test-XXXXXX";
	char *d = mkdtemp(tmpl);

	if (d == NULL) {
		perror("mkdtemp");
		abort();
	}
	return strdup(d);
}

static inline int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void
scratch_remove(char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* Writes dir/name (name may hold one level of folder, created if needed). */
static inline void
put_file(const char *dir, const char *name, const char *content, size_t len)
{
	char path[1024], sub[1024];
	const char *slash = strchr(name, '/');
	FILE *f;

	if (slash) {
		snprintf(sub, sizeof(sub), "%s/%.*s", dir, (int)(slash - name), name);
		mkdir(sub, 0755);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(content, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		abort();
	}
}

static inline void
put_text(const char *dir, const char *name, const char *content)
{
	put_file(dir, name, content, strlen(content));
}

/* n Things numbered 01..n, each "# Thing i\n\nBody i.\n". */
static inline void
put_things(const char *dir, int n)
{
	for (int i = 1; i <= n; i++) {
		char name[64], text[128];

		snprintf(name, sizeof(name), "things/%02d-thing-%d.md", i, i);
		snprintf(text, sizeof(text), "# Thing %d\n\nBody %d.\n", i, i);
		put_text(dir, name, text);
	}
}

static const char minimal_conf[] =
    "[programme]\n"
    "name = Test Programme\n"
    "address = things@example.org\n"
    "organisers = boss@example.org\n"
    "start = 2027-01-11 09:00\n"
    "[smtp]\n"
    "url = smtp://localhost:25\n"
    "[imap]\n"
    "url = imap://things:secret@localhost/INBOX\n";

static inline void
use_utc(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
}

#endif
