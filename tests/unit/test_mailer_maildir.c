/* Unit tests for mailer/maildir.c: the maildir: transport writes each
 * message as a unique file in new/ (through tmp/), creates the Maildir,
 * prepends Return-Path and Delivered-To, and reports local failures as
 * temporary ones. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../mailer/transport.h"
#include "../../util/util.h"

static char base[] = "/tmp/things-maildir-XXXXXX";

static int
setup(void **state)
{
	(void)state;
	strcpy(base, "/tmp/things-maildir-XXXXXX");
	return mkdtemp(base) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

/* Names of the regular files in dir (at most max), sorted; returns how many. */
static size_t
list_files(const char *dir, char names[][256], size_t max)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		assert_true(n < max);
		snprintf(names[n++], 256, "%s", de->d_name);
	}
	closedir(d);
	qsort(names, n, 256, (int (*)(const void *, const void *))strcmp);
	return n;
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[4096];
	size_t n;

	assert_non_null(f);
	buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(buf_append(&b, chunk, n), 0);
	fclose(f);
	return buf_steal(&b);
}

static struct transport *
open_maildir(const char *dir)
{
	struct transport_config cfg = { 0 };
	struct transport *t = NULL;
	char url[512];
	struct err e;

	snprintf(url, sizeof(url), "maildir:%s", dir);
	cfg.url = url;
	if (transport_open(&cfg, &t, &e) == -1)
		fail_msg("%s", e.msg);
	assert_int_equal(t->slots, 1);
	return t;
}

static void
send_one(struct transport *t, const char *rcpt, const char *data, struct transport_result *res)
{
	struct transport_msg msg = { "things+bounce-abc@example.org", rcpt, data, strlen(data) };
	struct err e;
	size_t slot = 99;

	assert_int_equal(transport_submit(t, 0, &msg, &e), 0);
	assert_int_equal(transport_wait(t, &slot, res, &e), 0);
	assert_int_equal(slot, 0);
	assert_int_equal(transport_wait(t, &slot, res, &e), 1); /* nothing left */
}

static void
test_files_appear_in_new(void **state)
{
	static const char msg[] = "Subject: hi\r\n\r\nline one\r\nline two\r\n";
	char dir[512], sub[600], names[8][256], path[1024];
	struct transport_result res;
	struct transport *t;

	(void)state;
	/* nested: the Maildir and its parents are created */
	snprintf(dir, sizeof(dir), "%s/a/b/outbox", base);
	t = open_maildir(dir);
	for (int i = 0; i < 5; i++) {
		send_one(t, "alice@example.org", msg, &res);
		assert_int_equal(res.status, TR_SENT);
	}
	transport_close(t);

	snprintf(sub, sizeof(sub), "%s/tmp", dir);
	assert_int_equal(list_files(sub, names, 8), 0);
	snprintf(sub, sizeof(sub), "%s/cur", dir);
	assert_int_equal(list_files(sub, names, 8), 0);
	snprintf(sub, sizeof(sub), "%s/new", dir);
	assert_int_equal(list_files(sub, names, 8), 5);
	for (int i = 0; i < 5; i++) {
		char *got;

		/* unique names, none with the ':' Maildir reserves for flags */
		if (i > 0)
			assert_string_not_equal(names[i - 1], names[i]);
		assert_null(strchr(names[i], ':'));
		snprintf(path, sizeof(path), "%s/%s", sub, names[i]);
		got = slurp(path);
		assert_string_equal(got, "Return-Path: <things+bounce-abc@example.org>\n"
					 "Delivered-To: alice@example.org\n"
					 "Subject: hi\n\nline one\nline two\n");
		free(got);
	}
}

static void
test_reopen_existing_and_refusals(void **state)
{
	struct transport_msg bad = { "things@example.org", "a@b\r\nX: y", "x", 1 };
	struct transport_config cfg = { 0 };
	struct transport_result res;
	struct transport *t;
	char dir[512], file[600];
	struct err e;
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/box", base);
	t = open_maildir(dir);
	transport_close(t);
	t = open_maildir(dir); /* already there: fine */
	assert_int_equal(transport_submit(t, 0, &bad, &e), -1);
	assert_int_equal(transport_submit(t, 1, &bad, &e), -1); /* no such slot */
	transport_close(t);

	/* a file where the Maildir should be */
	snprintf(file, sizeof(file), "%s/plainfile", base);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(dir, sizeof(dir), "maildir:%s/plainfile", base);
	cfg.url = dir;
	assert_int_equal(transport_open(&cfg, &t, &e), -1);
	cfg.url = "maildir:";
	assert_int_equal(transport_open(&cfg, &t, &e), -1);
	cfg.url = "ftp://example.org";
	assert_int_equal(transport_open(&cfg, &t, &e), -1);
	(void)res;
}

static void
test_local_failure_is_temporary(void **state)
{
	struct transport_result res;
	struct transport *t;
	char dir[512], tmp[600];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/broken", base);
	t = open_maildir(dir);
	snprintf(tmp, sizeof(tmp), "%s/tmp", dir);
	assert_int_equal(rmdir(tmp), 0);
	send_one(t, "alice@example.org", "Subject: x\r\n\r\nx\r\n", &res);
	assert_int_equal(res.status, TR_TEMPORARY);
	assert_int_equal(res.per_message, 0);
	assert_non_null(strstr(res.text, "cannot create"));
	transport_close(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_files_appear_in_new, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_existing_and_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_failure_is_temporary, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
