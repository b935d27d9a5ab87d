/* test_feeds_httpd.h - runs tests/tools/httpd.py on loopback for the feeds
 * tests (test-only; included by test_feeds_fetch.c and test_feeds_poll.c).
 * Functions are static inline so that a test using some of them builds
 * under -Werror. */
#ifndef TEST_FEEDS_HTTPD_H
#define TEST_FEEDS_HTTPD_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_feeds_common.h"

#define HTTPD_SCRIPT "tests/tools/httpd.py"

struct httpd {
	char dir[64];       /* temporary directory: www/, port, requests.log, maps */
	char www[96];
	char log[96];
	char redirects[96];
	char gone[96];
	char base[64];      /* "http://127.0.0.1:PORT" */
	int port;
	pid_t pid;
};

static inline void
httpd_write(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		abort();
	}
}

/* Writes www/<name> (subdirectories created), with @BASE@ replaced. */
static inline void
httpd_put(struct httpd *h, const char *name, const char *data)
{
	char path[512], *slash;
	struct buf b;
	const char *p, *at;

	snprintf(path, sizeof(path), "%s/%s", h->www, name);
	for (slash = strchr(path + strlen(h->www) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0700);
		*slash = '/';
	}
	buf_init(&b, 0);
	for (p = data; (at = strstr(p, "@BASE@")) != NULL; p = at + 6) {
		buf_append(&b, p, (size_t)(at - p));
		buf_puts(&b, h->base);
	}
	buf_puts(&b, p);
	httpd_write(path, buf_str(&b), b.len);
	buf_free(&b);
}

/* Copies a fixture into www/<name>, with @BASE@ replaced. */
static inline void
httpd_put_fixture(struct httpd *h, const char *name, const char *fixture)
{
	size_t len;
	char *data = fixture_read(fixture, NULL, NULL, &len);

	httpd_put(h, name, data);
	free(data);
}

/* Starts the server on host ("127.0.0.1", or "0.0.0.0" to answer on
 * 127.0.0.2 as well) with extra arguments (NULL-terminated, may be NULL).
 * The redirect and gone maps are files the test may write at any time.
 * 0 or -1. */
static inline int
httpd_start(struct httpd *h, const char *host, const char *const *extra)
{
	char portfile[96];
	const char *argv[40];
	int argc = 0;

	memset(h, 0, sizeof(*h));
	snprintf(h->dir, sizeof(h->dir), "/tmp/things-httpd-XXXXXX");
	if (mkdtemp(h->dir) == NULL)
		return -1;
	snprintf(h->www, sizeof(h->www), "%s/www", h->dir);
	snprintf(h->log, sizeof(h->log), "%s/requests.log", h->dir);
	snprintf(h->redirects, sizeof(h->redirects), "%s/redirects", h->dir);
	snprintf(h->gone, sizeof(h->gone), "%s/gone", h->dir);
	snprintf(portfile, sizeof(portfile), "%s/port", h->dir);
	mkdir(h->www, 0700);
	httpd_write(h->log, "", 0);
	argv[argc++] = "python3";
	argv[argc++] = HTTPD_SCRIPT;
	argv[argc++] = "--root";
	argv[argc++] = h->www;
	argv[argc++] = "--host";
	argv[argc++] = host;
	argv[argc++] = "--port-file";
	argv[argc++] = portfile;
	argv[argc++] = "--log";
	argv[argc++] = h->log;
	argv[argc++] = "--redirects";
	argv[argc++] = h->redirects;
	argv[argc++] = "--gone-file";
	argv[argc++] = h->gone;
	for (size_t i = 0; extra && extra[i] && argc < 38; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	if ((h->pid = fork()) == -1)
		return -1;
	if (h->pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		if (devnull >= 0)
			dup2(devnull, STDOUT_FILENO);
		execvp("python3", (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		FILE *f = fopen(portfile, "r");

		if (f != NULL) {
			int ok = fscanf(f, "%d", &h->port) == 1;

			fclose(f);
			if (ok) {
				snprintf(h->base, sizeof(h->base), "http://%s:%d",
				    strcmp(host, "0.0.0.0") == 0 ? "127.0.0.1" : host, h->port);
				return 0;
			}
		}
		usleep(50000);
	}
	kill(h->pid, SIGTERM);
	waitpid(h->pid, NULL, 0);
	return -1;
}

static inline void
httpd_stop(struct httpd *h)
{
	char cmd[128];

	if (h->pid > 0) {
		kill(h->pid, SIGTERM);
		waitpid(h->pid, NULL, 0);
		h->pid = 0;
	}
	if (h->dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", h->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", h->dir);
	}
}

/* How many request-log lines contain every one of the given substrings
 * (NULL-terminated).  The log is written before the response ends, but
 * give the server a moment for lines of aborted transfers. */
static inline int
httpd_count(const struct httpd *h, const char *const *subs)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen(h->log, "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		int all = 1;

		for (size_t i = 0; subs[i] != NULL; i++)
			if (strstr(line, subs[i]) == NULL)
				all = 0;
		n += all;
	}
	fclose(f);
	return n;
}

/* httpd_count once the log holds want such lines (the server logs a
 * request after sending its answer, so a client may be done before the
 * line is written), or after 3 seconds.  For want 0, after 0.2 s. */
static inline int
httpd_expect(const struct httpd *h, const char *const *subs, int want)
{
	int n = httpd_count(h, subs);

	for (int i = 0; i < (want == 0 ? 4 : 60) && (want == 0 || n < want); i++) {
		usleep(50000);
		n = httpd_count(h, subs);
	}
	return n;
}

/* All request-log lines (for failure messages); the caller frees. */
static inline char *
httpd_log_text(const struct httpd *h)
{
	struct buf b;
	char chunk[512];
	size_t n;
	FILE *f = fopen(h->log, "r");

	buf_init(&b, 1 << 20);
	while (f != NULL && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	if (f != NULL)
		fclose(f);
	return buf_steal(&b);
}

#endif
