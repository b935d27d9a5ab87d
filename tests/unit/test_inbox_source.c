/* Unit tests for the inbox's message sources: the Maildir source and the
 * IMAP URL parser (the IMAP source itself: test_inbox_imap.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../inbox/source.h"
#include "inbox_test_helpers.h"


/* Files item i at once: source_file, then source_flush. */
static int
move_now(struct source *s, size_t i, enum source_outcome o, struct err *e)
{
	int r = source_file(s, i, o, e);

	return r != 0 ? r : source_flush(s, e);
}

static const char msg_a[] =
    "From: Ann <ann@example.org>\r\nSubject: a\r\nMessage-ID: <a@example.org>\r\n"
    "\r\nHello from Ann.\r\n";
static const char msg_b[] =
    "From: bob@example.org\nSubject: b\n\nBody of b,\nwith LF line ends.\n";

struct md_fixture {
	char *dir;
	char url[PATH_MAX + 16];
};

static int
md_setup(void **state)
{
	struct md_fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || (f->dir = th_tmpdir("maildir")) == NULL || th_make_maildir(f->dir) == -1)
		return -1;
	snprintf(f->url, sizeof(f->url), "maildir:%s", f->dir);
	*state = f;
	return 0;
}

static int
md_teardown(void **state)
{
	struct md_fixture *f = *state;

	th_rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void
test_maildir_lists_new_and_cur_in_name_order(void **state)
{
	struct md_fixture *f = *state;
	struct source *s;
	struct err e;
	char name[PATH_MAX + 16];

	assert_int_equal(th_deliver(f->dir, "new", "1700000002.M2P1.host", msg_b), 0);
	assert_int_equal(th_deliver(f->dir, "cur", "1700000001.M1P1.host:2,S", msg_a), 0);
	assert_int_equal(th_deliver(f->dir, "new", ".hidden", msg_a), 0);
	assert_int_equal(source_open(f->url, NULL, &s, &e), 0);
	snprintf(name, sizeof(name), "maildir:%s", f->dir);
	assert_string_equal(s->name, name);
	assert_int_equal(source_list(s, 0, 0, &e), 0);
	assert_int_equal(s->nitems, 2);
	assert_string_equal(s->items[0].key, "1700000001.M1P1.host");
	assert_int_equal(s->items[0].size, strlen(msg_a));
	assert_string_equal(s->items[1].key, "1700000002.M2P1.host");
	assert_int_equal(s->items[1].uid, 0);
	source_close(s);
}

static void
test_maildir_fetch_and_header(void **state)
{
	struct md_fixture *f = *state;
	struct source *s;
	struct buf raw;
	struct err e;

	buf_init(&raw, 0);
	assert_int_equal(th_deliver(f->dir, "new", "1.M1.h", msg_a), 0);
	assert_int_equal(th_deliver(f->dir, "new", "2.M1.h", msg_b), 0);
	assert_int_equal(source_open(f->url, NULL, &s, &e), 0);
	assert_int_equal(source_list(s, 0, 0, &e), 0);
	assert_int_equal(source_fetch(s, 0, 0, &raw, &e), 0);
	assert_int_equal(raw.len, strlen(msg_a));
	assert_memory_equal(raw.data, msg_a, raw.len);
	assert_int_equal(source_fetch_header(s, 0, &raw, &e), 0);
	assert_string_equal(buf_str(&raw),
	    "From: Ann <ann@example.org>\r\nSubject: a\r\nMessage-ID: <a@example.org>\r\n\r\n");
	assert_int_equal(source_fetch_header(s, 1, &raw, &e), 0);
	assert_string_equal(buf_str(&raw), "From: bob@example.org\nSubject: b\n\n");
	/* a per-call limit below the size: refused, nothing kept */
	assert_int_equal(source_fetch(s, 1, 10, &raw, &e), SOURCE_TOO_BIG);
	assert_int_equal(raw.len, 0);
	buf_free(&raw);
	source_close(s);
}

static void
test_maildir_oversize_refused_by_option(void **state)
{
	struct md_fixture *f = *state;
	struct source_options o = { .ca_file = NULL, .max_size = 20, .timeout = 0 };
	struct source *s;
	struct buf raw;
	struct err e;

	buf_init(&raw, 0);
	assert_int_equal(th_deliver(f->dir, "new", "1.M1.h", msg_a), 0);
	assert_int_equal(source_open(f->url, &o, &s, &e), 0);
	assert_int_equal(source_list(s, 0, 0, &e), 0);
	assert_int_equal(source_fetch(s, 0, 0, &raw, &e), SOURCE_TOO_BIG);
	assert_int_equal(raw.len, 0);
	buf_free(&raw);
	source_close(s);
}

static void
test_maildir_move_to_processed_and_failed(void **state)
{
	struct md_fixture *f = *state;
	struct source *s;
	struct buf raw;
	struct err e;
	char p[PATH_MAX + 64];

	buf_init(&raw, 0);
	assert_int_equal(th_deliver(f->dir, "new", "1.M1.h", msg_a), 0);
	assert_int_equal(th_deliver(f->dir, "cur", "2.M1.h:2,S", msg_b), 0);
	assert_int_equal(source_open(f->url, NULL, &s, &e), 0);
	assert_int_equal(source_list(s, 0, 0, &e), 0);
	assert_int_equal(move_now(s, 0, SOURCE_PROCESSED, &e), 0);
	assert_int_equal(move_now(s, 1, SOURCE_FAILED, &e), 0);
	/* moved away meanwhile: gone, not an error */
	assert_int_equal(move_now(s, 0, SOURCE_PROCESSED, &e), SOURCE_GONE);
	assert_int_equal(source_fetch(s, 0, 0, &raw, &e), SOURCE_GONE);
	source_close(s);

	snprintf(p, sizeof(p), "%s/.Processed/cur/1.M1.h:2,", f->dir);
	assert_true(th_exists(p));
	snprintf(p, sizeof(p), "%s/.Failed/cur/2.M1.h:2,S", f->dir);
	assert_true(th_exists(p));
	snprintf(p, sizeof(p), "%s/.Processed/maildirfolder", f->dir);
	assert_true(th_exists(p));
	snprintf(p, sizeof(p), "%s/new", f->dir);
	assert_int_equal(th_count_files(p), 0);

	/* a second run sees nothing: the subfolders are not the inbox */
	assert_int_equal(source_open(f->url, NULL, &s, &e), 0);
	assert_int_equal(source_list(s, 0, 0, &e), 0);
	assert_int_equal(s->nitems, 0);
	source_close(s);
	buf_free(&raw);
}

static void
test_maildir_long_unique_name_is_hashed(void **state)
{
	struct md_fixture *f = *state;
	struct source *s;
	struct err e;
	char name[200];

	memset(name, 'x', 150);
	snprintf(name + 150, sizeof(name) - 150, ":2,S");
	assert_int_equal(th_deliver(f->dir, "cur", name, msg_a), 0);
	assert_int_equal(source_open(f->url, NULL, &s, &e), 0);
	assert_int_equal(source_list(s, 0, 0, &e), 0);
	assert_int_equal(s->nitems, 1);
	assert_int_equal(strncmp(s->items[0].key, "sha256:", 7), 0);
	assert_int_equal(strlen(s->items[0].key), 7 + 64);
	source_close(s);
}

static void
test_maildir_open_errors(void **state)
{
	struct md_fixture *f = *state;
	struct source *s;
	struct err e;
	char url[PATH_MAX + 32];

	assert_int_equal(source_open("maildir:relative/path", NULL, &s, &e), -1);
	assert_non_null(strstr(e.msg, "absolute"));
	snprintf(url, sizeof(url), "maildir:%s/new", f->dir);
	assert_int_equal(source_open(url, NULL, &s, &e), -1);
	assert_non_null(strstr(e.msg, "not a Maildir"));
	assert_int_equal(source_open("pop3://x", NULL, &s, &e), -1);
	assert_int_equal(source_open("", NULL, &s, &e), -1);
	assert_null(s);
}

static void
test_imap_url_parse(void **state)
{
	static const struct {
		const char *url;
		enum imap_tls tls;
		const char *user, *password, *host;
		unsigned port;
		const char *mailbox, *name;
	} ok[] = {
		{ "imap://u:p@h", IMAP_TLS_NONE, "u", "p", "h", 143, "INBOX", "imap://u@h:143/INBOX" },
		{ "imaps://things%40example.org:p%40ss%3Aw@mail.example.org/",
		  IMAP_TLS_IMPLICIT, "things@example.org", "p@ss:w", "mail.example.org", 993,
		  "INBOX", "imap://things@example.org@mail.example.org:993/INBOX" },
		{ "imap+starttls://u:p@127.0.0.1:10143/Lists%2FThings", IMAP_TLS_STARTTLS, "u", "p",
		  "127.0.0.1", 10143, "Lists/Things", "imap://u@127.0.0.1:10143/Lists/Things" },
		{ "imaps://u:p:q@[::1]:993/INBOX", IMAP_TLS_IMPLICIT, "u", "p:q", "::1", 993, "INBOX",
		  "imap://u@[::1]:993/INBOX" },
		{ "imap://h:144", IMAP_TLS_NONE, "", "", "h", 144, "INBOX", "imap://h:144/INBOX" },
	};
	static const char *const bad[] = {
		"http://h", "imap://", "imap://u:p@", "imap://h:0", "imap://h:70000", "imap://h:1x",
		"imap://u:p%0d%0aA1 LOGOUT@h", "imap://h/INBOX%00x", "imap://u:p%2@h", "imap://h?x",
		"imap://[::1", "imap://h h", "imap://u%zz@h",
	};
	struct imap_url u;
	struct err e;
	char name[SOURCE_NAME_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(imap_url_parse(ok[i].url, &u, &e), 0);
		assert_int_equal(u.tls, ok[i].tls);
		assert_string_equal(u.user, ok[i].user);
		assert_string_equal(u.password, ok[i].password);
		assert_string_equal(u.host, ok[i].host);
		assert_int_equal(u.port, ok[i].port);
		assert_string_equal(u.mailbox, ok[i].mailbox);
		imap_url_name(&u, name, sizeof(name));
		assert_string_equal(name, ok[i].name);
		if (strlen(u.password) >= 4)
			assert_null(strstr(name, u.password)); /* never the password */
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (imap_url_parse(bad[i], &u, &e) != -1)
			fail_msg("accepted %s", bad[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_maildir_lists_new_and_cur_in_name_order,
		    md_setup, md_teardown),
		cmocka_unit_test_setup_teardown(test_maildir_fetch_and_header, md_setup,
		    md_teardown),
		cmocka_unit_test_setup_teardown(test_maildir_oversize_refused_by_option, md_setup,
		    md_teardown),
		cmocka_unit_test_setup_teardown(test_maildir_move_to_processed_and_failed,
		    md_setup, md_teardown),
		cmocka_unit_test_setup_teardown(test_maildir_long_unique_name_is_hashed, md_setup,
		    md_teardown),
		cmocka_unit_test_setup_teardown(test_maildir_open_errors, md_setup, md_teardown),
		cmocka_unit_test(test_imap_url_parse),
	};
	return cmocka_run_group_tests_name("inbox_source", tests, NULL, NULL);
}
