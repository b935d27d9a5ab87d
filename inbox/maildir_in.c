/*
 * maildir_in.c - a Maildir as a message source.
 *
 * Waiting messages are the files in new/ and cur/; a processed one is
 * renamed into the Maildir++ subfolder .Processed/cur (or .Failed/cur),
 * keeping its unique name, so that its key never changes.  Renames within
 * one file system are atomic: a message is in exactly one place.
 *
 * In flag mode a handled message stays: it goes to cur/ with the info flag
 * S (processed) or F (failed).  Readers set those flags too, so a flagged
 * file is skipped only when the store also knows it (options.known).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source.h"

#define MAILDIR_SCAN_MAX 200000 /* directory entries looked at per run */

struct maildir_entry {
	char sub[4];          /* "new" or "cur" */
	char *name;           /* the file name */
};

struct maildir_source {
	struct source base;
	char *path;                   /* absolute, no trailing slash */
	struct maildir_entry *entries; /* parallel to base.items */
};

static int
maildir_file_path(const struct maildir_source *md, size_t i, char *out, size_t n)
{
	const struct maildir_entry *en = &md->entries[i];
	int w = snprintf(out, n, "%s/%s/%s", md->path, en->sub, en->name);

	return (w < 0 || (size_t)w >= n) ? -1 : 0;
}

/* The key of a Maildir file: its unique part, before the ":2," info.  A
 * unique part too long for the store (or odd) is replaced by its hash. */
static int
maildir_key(const char *name, char *key, size_t n, struct err *e)
{
	const char *colon = strchr(name, ':');
	size_t len = colon ? (size_t)(colon - name) : strlen(name);
	char hex[65];

	if (len > 0 && len < n) {
		memcpy(key, name, len);
		key[len] = '\0';
		if (!str_has_ctl(key, 0))
			return 0;
	}
	if (source_sha256_hex(name, len, hex, e) == -1)
		return -1;
	snprintf(key, n, "sha256:%s", hex);
	return 0;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct maildir_entry *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static void
maildir_clear(struct maildir_source *md)
{
	for (size_t i = 0; i < md->base.nitems; i++)
		free(md->entries[i].name);
	free(md->entries);
	free(md->base.items);
	md->entries = NULL;
	md->base.items = NULL;
	md->base.nitems = 0;
}

/* 1 if a file name's info (":2,FLAGS") holds flag. */
static int
has_flag(const char *name, char flag)
{
	const char *info = strstr(name, ":2,");

	return info != NULL && strchr(info + 3, flag) != NULL;
}

/* Flag mode: a file in cur/ that carries one of our flags and that the
 * store knows is done.  1 skip, 0 list it, -1 error. */
static int
maildir_done(struct maildir_source *md, const char *sub, const char *name, struct err *e)
{
	char key[STORE_KEY_MAX + 1];

	if (!md->base.flag_only || md->base.known == NULL || strcmp(sub, "cur") != 0 ||
	    (!has_flag(name, 'S') && !has_flag(name, 'F')))
		return 0;
	if (maildir_key(name, key, sizeof(key), e) == -1)
		return -1;
	return md->base.known(md->base.known_arg, key, e);
}

/* Appends the regular files of one subdirectory to *v (*n used, *cap
 * allocated).  Names starting with '.' are Maildir's own or other tools'. */
static int
maildir_scan(struct maildir_source *md, const char *sub, struct maildir_entry **v,
    size_t *n, size_t *cap, size_t *seen, struct err *e)
{
	char dir[PATH_MAX];
	struct dirent *d;
	DIR *dp;
	int rc = 0;

	snprintf(dir, sizeof(dir), "%s/%s", md->path, sub);
	if ((dp = opendir(dir)) == NULL)
		return err_set(e, "maildir %s: %s", dir, strerror(errno));
	while ((d = readdir(dp)) != NULL && *seen < MAILDIR_SCAN_MAX) {
		(*seen)++;
		if (d->d_name[0] == '.')
			continue;
		if (d->d_type != DT_REG && d->d_type != DT_UNKNOWN)
			continue;
		if ((rc = maildir_done(md, sub, d->d_name, e)) != 0) {
			if (rc == -1)
				break;
			rc = 0;
			continue;
		}
		if (*n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 64;
			struct maildir_entry *nv = realloc(*v, ncap * sizeof(*nv));

			if (nv == NULL) {
				rc = err_set(e, "out of memory");
				break;
			}
			*v = nv;
			*cap = ncap;
		}
		snprintf((*v)[*n].sub, sizeof((*v)[*n].sub), "%s", sub);
		if (((*v)[*n].name = strdup(d->d_name)) == NULL) {
			rc = err_set(e, "out of memory");
			break;
		}
		(*n)++;
	}
	closedir(dp);
	return rc;
}

static int
maildir_list(struct source *s, uint32_t uidvalidity, uint32_t last_uid, struct err *e)
{
	struct maildir_source *md = (struct maildir_source *)s;
	struct maildir_entry *v = NULL;
	size_t n = 0, cap = 0, seen = 0, keep;
	int rc = -1;

	(void)uidvalidity;
	(void)last_uid;
	maildir_clear(md);
	if (maildir_scan(md, "new", &v, &n, &cap, &seen, e) == -1 ||
	    maildir_scan(md, "cur", &v, &n, &cap, &seen, e) == -1)
		goto out;
	/* Unique names start with the delivery time: name order is arrival
	 * order, near enough, and the same on every run. */
	if (n > 1)
		qsort(v, n, sizeof(*v), entry_cmp);
	keep = n < SOURCE_MAX_ITEMS ? n : SOURCE_MAX_ITEMS;
	if (keep > 0 && (s->items = calloc(keep, sizeof(*s->items))) == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < keep; i++) {
		if (maildir_key(v[i].name, s->items[i].key, sizeof(s->items[i].key), e) == -1)
			goto out;
	}
	for (size_t i = keep; i < n; i++)
		free(v[i].name);
	md->entries = v;
	s->nitems = keep;
	v = NULL;
	n = 0;
	for (size_t i = 0; i < keep; i++) {
		struct stat sb;
		char p[PATH_MAX];

		if (maildir_file_path(md, i, p, sizeof(p)) == 0 && stat(p, &sb) == 0)
			s->items[i].size = (size_t)sb.st_size;
	}
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	if (rc == -1) {
		free(s->items);
		s->items = NULL;
		s->nitems = 0;
		md->entries = NULL;
	}
	return rc;
}

/* Opens item i for reading; SOURCE_GONE if it was moved away meanwhile. */
static int
maildir_open_item(struct maildir_source *md, size_t i, int *fd, struct stat *sb,
    struct err *e)
{
	char p[PATH_MAX];

	if (maildir_file_path(md, i, p, sizeof(p)) == -1)
		return err_set(e, "maildir: path too long");
	if ((*fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return SOURCE_GONE;
		return err_set(e, "maildir %s: %s", p, strerror(errno));
	}
	if (fstat(*fd, sb) == -1 || !S_ISREG(sb->st_mode)) {
		close(*fd);
		return err_set(e, "maildir %s: not a regular file", p);
	}
	return 0;
}

/* Reads up to max bytes; 1 if the file holds more. */
static int
read_bounded(int fd, size_t max, struct buf *raw, struct err *e)
{
	char chunk[65536];

	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r == -1) {
			if (errno == EINTR)
				continue;
			return err_set(e, "maildir read: %s", strerror(errno));
		}
		if (r == 0)
			return 0;
		if ((size_t)r > max - raw->len)
			return 1;
		if (buf_append(raw, chunk, (size_t)r) == -1)
			return err_set(e, "out of memory");
	}
}

static int
maildir_fetch(struct source *s, size_t i, size_t max, struct buf *raw, struct err *e)
{
	struct maildir_source *md = (struct maildir_source *)s;
	struct stat sb;
	int fd, r;

	if ((r = maildir_open_item(md, i, &fd, &sb, e)) != 0)
		return r;
	s->items[i].size = (size_t)sb.st_size;
	if ((size_t)sb.st_size > max) {
		close(fd);
		return SOURCE_TOO_BIG;
	}
	r = read_bounded(fd, max, raw, e);
	close(fd);
	if (r == 1) {
		buf_reset(raw);
		return SOURCE_TOO_BIG;
	}
	return r;
}

/* The header ends at the first empty line (LF LF or CRLF CRLF). */
static const char *
header_end(const char *s, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] != '\n')
			continue;
		if (s[i + 1] == '\n')
			return s + i + 2;
		if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n')
			return s + i + 3;
	}
	return NULL;
}

static int
maildir_fetch_header(struct source *s, size_t i, struct buf *raw, struct err *e)
{
	struct maildir_source *md = (struct maildir_source *)s;
	struct stat sb;
	const char *end;
	int fd, r;

	if ((r = maildir_open_item(md, i, &fd, &sb, e)) != 0)
		return r;
	r = read_bounded(fd, SOURCE_HEADER_MAX, raw, e);
	close(fd);
	if (r == -1)
		return -1;
	if ((end = header_end(buf_str(raw), raw->len)) != NULL) {
		raw->len = (size_t)(end - raw->data);
		raw->data[raw->len] = '\0';
	}
	return 0;
}

static int
mkdir_if_missing(const char *p, struct err *e)
{
	if (mkdir(p, 0700) == -1 && errno != EEXIST)
		return err_set(e, "maildir mkdir %s: %s", p, strerror(errno));
	return 0;
}

/* Creates the Maildir++ folder .NAME (cur, new, tmp and the
 * maildirfolder marker) when it is not there yet. */
static int
maildir_make_folder(const struct maildir_source *md, const char *folder, struct err *e)
{
	static const char *const subs[] = { "", "/cur", "/new", "/tmp" };
	char p[PATH_MAX];
	int fd;

	for (size_t k = 0; k < sizeof(subs) / sizeof(subs[0]); k++) {
		snprintf(p, sizeof(p), "%s/.%s%s", md->path, folder, subs[k]);
		if (mkdir_if_missing(p, e) == -1)
			return -1;
	}
	snprintf(p, sizeof(p), "%s/.%s/maildirfolder", md->path, folder);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return err_set(e, "maildir %s: %s", p, strerror(errno));
	close(fd);
	return 0;
}

/* Creates path and its parents (like mkdir -p), then cur/ new/ tmp/: a
 * programme's inbox Maildir that no mail has reached yet is empty, not an
 * error (the mailer's outbox is created the same way). */
static int
maildir_create(const char *path, struct err *e)
{
	static const char *const subs[] = { "/cur", "/new", "/tmp" };
	char p[PATH_MAX];
	size_t len = strlen(path);

	if (len + 5 > sizeof(p))
		return err_set(e, "maildir %s: path too long", path);
	memcpy(p, path, len + 1);
	for (char *slash = p + 1; (slash = strchr(slash, '/')) != NULL; slash++) {
		*slash = '\0';
		if (mkdir_if_missing(p, e) == -1)
			return -1;
		*slash = '/';
	}
	if (mkdir_if_missing(p, e) == -1)
		return -1;
	for (size_t k = 0; k < sizeof(subs) / sizeof(subs[0]); k++) {
		memcpy(p + len, subs[k], strlen(subs[k]) + 1);
		if (mkdir_if_missing(p, e) == -1)
			return -1;
	}
	return 0;
}

/* The name a file gets in cur/ with flag added to its info, flags kept in
 * ASCII order as the Maildir convention asks. */
static int
flagged_name(const char *name, char flag, char *out, size_t n)
{
	const char *info = strstr(name, ":2,");
	size_t base = info ? (size_t)(info - name) : strcspn(name, ":");
	char flags[64];
	size_t nf = 0;
	int w;

	if (info != NULL) {
		for (const char *f = info + 3; *f && nf + 2 < sizeof(flags); f++)
			if (*f != flag)
				flags[nf++] = *f;
	}
	flags[nf++] = flag;
	flags[nf] = '\0';
	for (size_t a = 1; a < nf; a++)
		for (size_t b = a; b > 0 && flags[b - 1] > flags[b]; b--) {
			char t = flags[b];

			flags[b] = flags[b - 1];
			flags[b - 1] = t;
		}
	w = snprintf(out, n, "%.*s:2,%s", (int)base, name, flags);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

static int
maildir_rename(const char *from, const char *to, struct err *e)
{
	if (rename(from, to) == -1) {
		if (errno == ENOENT)
			return SOURCE_GONE;
		return err_set(e, "maildir rename %s: %s", from, strerror(errno));
	}
	return 0;
}

/* Flag mode: into cur/ with the outcome's flag, the entry following. */
static int
maildir_flag(struct maildir_source *md, size_t i, enum source_outcome o, struct err *e)
{
	struct maildir_entry *en = &md->entries[i];
	char from[PATH_MAX], name[NAME_MAX + 1], to[PATH_MAX], *copy;
	int w, r;

	if (maildir_file_path(md, i, from, sizeof(from)) == -1 ||
	    flagged_name(en->name, o == SOURCE_FAILED ? 'F' : 'S', name, sizeof(name)) == -1)
		return err_set(e, "maildir: path too long");
	w = snprintf(to, sizeof(to), "%s/cur/%s", md->path, name);
	if (w < 0 || (size_t)w >= sizeof(to))
		return err_set(e, "maildir: path too long");
	if ((copy = strdup(name)) == NULL)
		return err_set(e, "out of memory");
	if ((r = maildir_rename(from, to, e)) != 0) {
		free(copy);
		return r;
	}
	free(en->name);
	en->name = copy;
	snprintf(en->sub, sizeof(en->sub), "cur");
	return 0;
}

static int
maildir_file(struct source *s, size_t i, enum source_outcome o, struct err *e)
{
	struct maildir_source *md = (struct maildir_source *)s;
	const char *name = md->entries[i].name, *folder = s->folders[o];
	char from[PATH_MAX], to[PATH_MAX];
	int w;

	if (s->flag_only)
		return maildir_flag(md, i, o, e);
	if (maildir_make_folder(md, folder, e) == -1)
		return -1;
	if (maildir_file_path(md, i, from, sizeof(from)) == -1)
		return err_set(e, "maildir: path too long");
	/* A file in cur/ carries the ":2,<flags>" info; one from new/ gets it. */
	w = snprintf(to, sizeof(to), "%s/.%s/cur/%s%s", md->path, folder, name,
	    strchr(name, ':') ? "" : ":2,");
	if (w < 0 || (size_t)w >= sizeof(to))
		return err_set(e, "maildir: path too long");
	return maildir_rename(from, to, e);
}

/* Renames are done at once: nothing waits. */
static int
maildir_flush(struct source *s, struct err *e)
{
	(void)s;
	(void)e;
	return 0;
}

static void
maildir_close(struct source *s)
{
	struct maildir_source *md = (struct maildir_source *)s;

	maildir_clear(md);
	free(md->path);
	free(md);
}

static const struct source_ops maildir_ops = {
	maildir_list, maildir_fetch, maildir_fetch_header, maildir_file, maildir_flush,
	maildir_close,
};

int
maildir_source_open(const char *path, const struct source_options *o, struct source **out,
    struct err *e)
{
	struct maildir_source *md;
	char abs[PATH_MAX], sub[PATH_MAX];
	struct stat sb;

	*out = NULL;
	if (path[0] != '/')
		return err_set(e, "maildir: %s is not an absolute path", path);
	if (realpath(path, abs) == NULL) {
		if (errno != ENOENT || maildir_create(path, e) == -1 || realpath(path, abs) == NULL)
			return err_set(e, "maildir %s: %s", path, strerror(errno));
	}
	for (size_t k = 0; k < 3; k++) {
		static const char *const subs[] = { "cur", "new", "tmp" };

		snprintf(sub, sizeof(sub), "%s/%s", abs, subs[k]);
		if (stat(sub, &sb) == -1 || !S_ISDIR(sb.st_mode))
			return err_set(e, "maildir %s: no %s/ directory: not a Maildir", abs,
			    subs[k]);
	}
	if ((md = calloc(1, sizeof(*md))) == NULL || (md->path = strdup(abs)) == NULL) {
		free(md);
		return err_set(e, "out of memory");
	}
	md->base.ops = &maildir_ops;
	snprintf(md->base.name, sizeof(md->base.name), "maildir:%s", abs);
	md->base.max_size = o && o->max_size ? o->max_size : SOURCE_MAX_SIZE_DEFAULT;
	if (source_setup(&md->base, o, e) == -1) {
		maildir_close(&md->base);
		return -1;
	}
	*out = &md->base;
	return 0;
}
