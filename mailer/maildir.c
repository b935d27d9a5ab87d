/*
 * maildir.c - the "maildir:PATH" transport: each message becomes a file in
 * PATH/new, delivered the way an MDA does it (write into tmp/, fsync,
 * rename into new/, fsync the directory), with Return-Path and
 * Delivered-To prepended and local (LF) line ends.  For the demo, tests,
 * and setups where another program picks the mail up.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "transport.h"

#define MAILDIR_PATH_MAX 3900

struct maildir {
	struct transport base;
	char path[MAILDIR_PATH_MAX + 1];
	char host[64];
	int newfd;                      /* PATH/new, for fsync after rename */
	unsigned long seq;
	int pending;                    /* the one slot holds a result */
	struct transport_result result;
};

/* mkdir -p, mode 0700 for what it creates. */
static int
mkdir_p(const char *path, struct err *e)
{
	char tmp[MAILDIR_PATH_MAX + 1];
	size_t n = strlen(path);

	if (n == 0 || n > MAILDIR_PATH_MAX)
		return err_set(e, "maildir: path empty or too long");
	memcpy(tmp, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0700) == -1 && errno != EEXIST)
			return err_set(e, "maildir: cannot create %s: %s", tmp, strerror(errno));
		tmp[i] = path[i];
	}
	return 0;
}

/* The host part of a unique name, with the characters Maildir gives a
 * meaning ('/', ':') and anything odd replaced. */
static void
host_part(char *out, size_t n)
{
	char host[256];

	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	for (char *p = host; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			*p = '_';
	snprintf(out, n, "%s", host);
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes data with CRLF turned into LF, through a bounded buffer. */
static int
write_lf(int fd, const char *data, size_t len)
{
	char chunk[65536];
	size_t used = 0;

	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
			continue;
		chunk[used++] = data[i];
		if (used == sizeof(chunk)) {
			if (write_all(fd, chunk, used) == -1)
				return -1;
			used = 0;
		}
	}
	return write_all(fd, chunk, used);
}

static void
fail(struct transport_result *res, const char *what, const char *path)
{
	res->status = TR_TEMPORARY;
	res->per_message = 0;
	snprintf(res->text, sizeof(res->text), "maildir: %s %s: %s", what, path,
	    strerror(errno));
}

/* Delivers one message; the outcome goes into res (never -1: a local
 * failure is a temporary one, like a full disk). */
static void
deliver(struct maildir *md, const struct transport_msg *msg, struct transport_result *res)
{
	char name[256], tmp[MAILDIR_PATH_MAX + 300], dst[MAILDIR_PATH_MAX + 300], rnd[TOKEN_HEX_LEN + 1];
	struct timeval tv;
	int fd = -1;

	gettimeofday(&tv, NULL);
	if (token_new(rnd, NULL) == -1)
		snprintf(rnd, sizeof(rnd), "%lx", (unsigned long)tv.tv_usec);
	rnd[8] = '\0';
	for (int tries = 0; fd == -1; tries++) {
		snprintf(name, sizeof(name), "%lld.M%ldP%ldQ%luR%s.%s", (long long)tv.tv_sec,
		    (long)tv.tv_usec, (long)getpid(), ++md->seq, rnd, md->host);
		snprintf(tmp, sizeof(tmp), "%s/tmp/%s", md->path, name);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd == -1 && (errno != EEXIST || tries == 3)) {
			fail(res, "cannot create", tmp);
			return;
		}
	}
	if (dprintf(fd, "Return-Path: <%s>\nDelivered-To: %s\n", msg->sender, msg->recipient) < 0 ||
	    write_lf(fd, msg->data, msg->len) == -1) {
		fail(res, "cannot write", tmp);
		goto undo;
	}
	if (fsync(fd) == -1) {
		fail(res, "cannot fsync", tmp);
		goto undo;
	}
	if (close(fd) == -1) {
		fd = -1;
		fail(res, "cannot close", tmp);
		goto undo;
	}
	fd = -1;
	snprintf(dst, sizeof(dst), "%s/new/%s", md->path, name);
	if (rename(tmp, dst) == -1) {
		fail(res, "cannot rename into", dst);
		goto undo;
	}
	if (fsync(md->newfd) == -1) {
		/* the file is there; only its durability is in doubt */
		log_warn("maildir: fsync %s/new: %s", md->path, strerror(errno));
	}
	res->status = TR_SENT;
	snprintf(res->text, sizeof(res->text), "delivered to %s", dst);
	return;
undo:
	if (fd != -1)
		close(fd);
	unlink(tmp);
}

static int
maildir_submit(struct transport *t, size_t slot, const struct transport_msg *msg,
    struct err *e)
{
	struct maildir *md = (struct maildir *)t;

	(void)slot;
	if (md->pending)
		return err_set(e, "maildir: slot busy");
	memset(&md->result, 0, sizeof(md->result));
	deliver(md, msg, &md->result);
	md->pending = 1;
	return 0;
}

static int
maildir_wait(struct transport *t, size_t *slot, struct transport_result *res, struct err *e)
{
	struct maildir *md = (struct maildir *)t;

	if (!md->pending)
		return err_set(e, "maildir: nothing in flight");
	*slot = 0;
	*res = md->result;
	md->pending = 0;
	return 0;
}

static void
maildir_close(struct transport *t)
{
	struct maildir *md = (struct maildir *)t;

	if (md->newfd != -1)
		close(md->newfd);
	free(md);
}

static const struct transport_ops maildir_ops = {
	.submit = maildir_submit,
	.wait = maildir_wait,
	.close = maildir_close,
};

int
maildir_open(const char *path, struct transport **out, struct err *e)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	char dir[MAILDIR_PATH_MAX + 8];
	struct maildir *md;

	if (path[0] == '\0' || strlen(path) > MAILDIR_PATH_MAX || str_has_ctl(path, 0))
		return err_set(e, "maildir: bad path '%.80s'", path);
	if (mkdir_p(path, e) == -1)
		return -1;
	for (size_t i = 0; i < 3; i++) {
		snprintf(dir, sizeof(dir), "%s/%s", path, sub[i]);
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			return err_set(e, "maildir: cannot create %s: %s", dir, strerror(errno));
	}
	md = calloc(1, sizeof(*md));
	if (md == NULL)
		return err_set(e, "out of memory");
	md->base.ops = &maildir_ops;
	md->base.slots = 1;
	md->base.name = "maildir";
	snprintf(md->path, sizeof(md->path), "%s", path);
	host_part(md->host, sizeof(md->host));
	snprintf(dir, sizeof(dir), "%s/new", path);
	md->newfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (md->newfd == -1) {
		err_set(e, "maildir: cannot open %s: %s", dir, strerror(errno));
		free(md);
		return -1;
	}
	*out = &md->base;
	return 0;
}
