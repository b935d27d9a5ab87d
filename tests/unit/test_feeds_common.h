/* test_feeds_common.h - what the feeds tests share: library set-up and
 * tear-down, and reading fixtures from tests/fixtures/feeds (test-only). */
#ifndef TEST_FEEDS_COMMON_H
#define TEST_FEEDS_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <libxml/parser.h>

#include "../../store/store.h"
#include "../../util/util.h"

#define FIXTURES "tests/fixtures/feeds/"

/* Reads fixture name (relative to FIXTURES) with every occurrence of
 * placeholder (NULL: none) replaced by value; *len gets the length.
 * Aborts the test binary if the file cannot be read.  The caller frees. */
static inline char *
fixture_read(const char *name, const char *placeholder, const char *value, size_t *len)
{
	char path[256], chunk[4096];
	struct buf raw, out;
	const char *p, *at;
	size_t n, plen = placeholder ? strlen(placeholder) : 0;
	FILE *f;

	snprintf(path, sizeof(path), FIXTURES "%s", name);
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "cannot read %s\n", path);
		abort();
	}
	buf_init(&raw, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&raw, chunk, n);
	fclose(f);
	buf_init(&out, 0);
	for (p = buf_str(&raw); plen > 0 && (at = strstr(p, placeholder)) != NULL; p = at + plen) {
		buf_append(&out, p, (size_t)(at - p));
		buf_puts(&out, value);
	}
	buf_append(&out, p, raw.len - (size_t)(p - buf_str(&raw)));
	buf_free(&raw);
	*len = out.len;
	return buf_steal(&out);
}

/* Once per test binary, before and after cmocka_run_group_tests; the
 * group teardown releases libxml2's globals so LeakSanitizer sees none. */
static inline void
feeds_test_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	xmlInitParser();
}

static inline int
feeds_test_cleanup(void **state)
{
	(void)state;
	xmlCleanupParser();
	return 0;
}

static inline int
feeds_test_done(int rc)
{
	curl_global_cleanup();
	return rc;
}

/* A store in a fresh temporary directory, removed by test_store_close. */
struct test_store {
	char dir[64];
	char path[128];
	struct store *st;
};

static inline int
test_store_open(struct test_store *ts)
{
	struct err e;

	snprintf(ts->dir, sizeof(ts->dir), "/tmp/things-feeds-XXXXXX");
	if (mkdtemp(ts->dir) == NULL)
		return -1;
	snprintf(ts->path, sizeof(ts->path), "%s/things.db", ts->dir);
	if (store_open(ts->path, &ts->st, &e) == -1) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	return 0;
}

static inline int
test_store_close(struct test_store *ts)
{
	char cmd[160];

	store_close(ts->st);
	ts->st = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", ts->dir);
	return system(cmd) == 0 ? 0 : -1;
}

static inline int64_t
test_participant(struct store *st, const char *addr, enum participant_status status)
{
	struct participant p;
	struct err e;

	if (store_participant_add(st, addr, "", status, 100, &p, &e) != 0) {
		fprintf(stderr, "%s: %s\n", addr, e.msg);
		abort();
	}
	return p.id;
}

#endif
