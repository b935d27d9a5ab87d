/* Tests of the IMAP message source (inbox/imap.c) against a real Dovecot
 * on loopback that the test starts itself (tests/unit/imap_testbed.sh):
 * login, incremental listing by UID, fetching without \Seen, moving,
 * UIDVALIDITY changes, TLS (accepted with the test CA; refused for a wrong
 * host or an unknown CA, without ever attempting to log in). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../inbox/source.h"
#include "inbox_test_helpers.h"

#define dc th_dc

#define NEED_DOVECOT() do { if (th_no_dovecot) skip(); } while (0)

/* "imap://things:s3cret%20pw@HOST:PORT/MAILBOX" with the given scheme. */

/* Files item i at once: source_file, then source_flush. */
static int
move_now(struct source *s, size_t i, enum source_outcome o, struct err *e)
{
	int r = source_file(s, i, o, e);

	return r != 0 ? r : source_flush(s, e);
}

static void
url_for(char *out, size_t n, const char *scheme, const char *host, int port,
    const char *mailbox, const char *password)
{
	snprintf(out, n, "%s://%s:%s@%s:%d/%s", scheme, dc.user, password, host, port, mailbox);
}

static void
deliver_n(const char *mailbox, int first, int count, char msgs[][256])
{
	for (int i = 0; i < count; i++) {
		snprintf(msgs[i], 256, "From: p%d@example.org\r\nTo: things@example.org\r\n"
		    "Subject: message %d\r\nMessage-ID: <m%d-%s@example.org>\r\n\r\n"
		    "Body of message %d.\r\n", first + i, first + i, first + i, mailbox, first + i);
		assert_int_equal(th_dovecot_deliver(&dc, mailbox, msgs[i]), 0);
	}
}

static struct source *
open_plain(const char *mailbox, size_t max_size)
{
	struct source_options o = { .ca_file = NULL, .max_size = max_size, .timeout = 10 };
	struct source *s = NULL;
	char url[512];
	struct err e;

	url_for(url, sizeof(url), "imap", "127.0.0.1", dc.imap_port, mailbox, "s3cret%20pw");
	if (source_open(url, &o, &s, &e) == -1)
		fail_msg("open %s: %s", url, e.msg);
	return s;
}

static void
test_login_list_fetch_move(void **state)
{
	char msgs[3][256], name[512];
	struct source *s;
	struct buf raw;
	struct err e;
	uint32_t uidv;

	(void)state;
	NEED_DOVECOT();
	deliver_n("Basic", 1, 3, msgs);
	uidv = th_dovecot_uidvalidity(&dc, "Basic");
	s = open_plain("Basic", 0);
	snprintf(name, sizeof(name), "imap://things@127.0.0.1:%d/Basic", dc.imap_port);
	assert_string_equal(s->name, name);
	assert_int_equal(s->uidvalidity, uidv);
	assert_int_equal(source_list(s, 0, 0, &e), 0);
	assert_int_equal(s->nitems, 3);
	buf_init(&raw, 0);
	for (size_t i = 0; i < 3; i++) {
		char key[64];

		snprintf(key, sizeof(key), "%u:%zu", uidv, i + 1);
		assert_string_equal(s->items[i].key, key);
		assert_int_equal(s->items[i].uid, i + 1);
		assert_int_equal(s->items[i].size, strlen(msgs[i]));
		assert_int_equal(source_fetch(s, i, 0, &raw, &e), 0);
		assert_int_equal(raw.len, strlen(msgs[i]));
		assert_memory_equal(raw.data, msgs[i], raw.len);
	}
	assert_int_equal(source_fetch_header(s, 2, &raw, &e), 0);
	assert_non_null(strstr(buf_str(&raw), "Subject: message 3\r\n"));
	assert_null(strstr(buf_str(&raw), "Body of"));
	assert_false(th_dovecot_any_seen(&dc, "Basic")); /* BODY.PEEK: never \Seen */

	assert_int_equal(move_now(s, 0, SOURCE_PROCESSED, &e), 0);
	assert_int_equal(move_now(s, 1, SOURCE_FAILED, &e), 0);
	assert_int_equal(move_now(s, 2, SOURCE_PROCESSED, &e), 0);
	source_close(s);
	buf_free(&raw);
	assert_int_equal(th_dovecot_count(&dc, "Basic"), 0);
	assert_int_equal(th_dovecot_count(&dc, "Processed"), 2);
	assert_int_equal(th_dovecot_count(&dc, "Failed"), 1);
}

static void
test_incremental_by_uid(void **state)
{
	char msgs[4][256];
	struct source *s;
	struct err e;
	uint32_t uidv;

	(void)state;
	NEED_DOVECOT();
	deliver_n("Incr", 1, 2, msgs);
	s = open_plain("Incr", 0);
	uidv = s->uidvalidity;
	assert_int_equal(source_list(s, uidv, 0, &e), 0);
	assert_int_equal(s->nitems, 2);
	assert_int_equal(move_now(s, 0, SOURCE_PROCESSED, &e), 0);
	assert_int_equal(move_now(s, 1, SOURCE_PROCESSED, &e), 0);
	source_close(s);

	/* nothing above UID 2: "UID 3:*" would name the last message (UID 2
	 * is gone here, but the trap is tested again below) */
	s = open_plain("Incr", 0);
	assert_int_equal(source_list(s, uidv, 2, &e), 0);
	assert_int_equal(s->nitems, 0);
	source_close(s);

	deliver_n("Incr", 3, 2, msgs);
	s = open_plain("Incr", 0);
	assert_int_equal(source_list(s, uidv, 2, &e), 0);
	assert_int_equal(s->nitems, 2);
	assert_int_equal(s->items[0].uid, 3);
	assert_int_equal(s->items[1].uid, 4);
	/* UID 4 done, UID 3 committed but not moved (a crash) */
	assert_int_equal(move_now(s, 1, SOURCE_PROCESSED, &e), 0);
	source_close(s);

	s = open_plain("Incr", 0);
	assert_int_equal(source_list(s, uidv, 4, &e), 0);
	assert_int_equal(s->nitems, 1); /* "UID 5:*" answers UID 3: kept as a leftover only */
	assert_int_equal(s->items[0].uid, 3);
	assert_int_equal(move_now(s, 0, SOURCE_PROCESSED, &e), 0);
	source_close(s);

	s = open_plain("Incr", 0);
	assert_int_equal(source_list(s, uidv, 4, &e), 0);
	assert_int_equal(s->nitems, 0);
	source_close(s);
}

static void
test_uid_above_max_is_filtered(void **state)
{
	char msgs[1][256];
	struct source *s;
	struct err e;

	(void)state;
	NEED_DOVECOT();
	deliver_n("Trap", 1, 1, msgs);
	s = open_plain("Trap", 0);
	/* last_uid 1 while UID 1 is still there: "UID 2:*" returns UID 1 */
	assert_int_equal(source_list(s, s->uidvalidity, 1, &e), 0);
	assert_int_equal(s->nitems, 1);
	assert_int_equal(s->items[0].uid, 1);
	source_close(s);
	s = open_plain("Trap", 0);
	/* last_uid far above: still only the one leftover, no phantom */
	assert_int_equal(source_list(s, s->uidvalidity, 1000, &e), 0);
	assert_int_equal(s->nitems, 1);
	source_close(s);
}

static void
test_uidvalidity_change_lists_everything(void **state)
{
	char msgs[2][256], key[64];
	struct source *s;
	struct err e;
	uint32_t old;

	(void)state;
	NEED_DOVECOT();
	deliver_n("Valid", 1, 2, msgs);
	s = open_plain("Valid", 0);
	old = s->uidvalidity;
	source_close(s);
	assert_int_equal(th_sh("%s uidvalidity '%s' Valid %u", th_testbed_script(), dc.dir,
	    old + 7), 0);
	s = open_plain("Valid", 0);
	assert_int_equal(s->uidvalidity, old + 7);
	/* the store's last UID (2) belongs to the old UIDVALIDITY: ignored */
	assert_int_equal(source_list(s, old, 2, &e), 0);
	assert_int_equal(s->nitems, 2);
	snprintf(key, sizeof(key), "%u:1", old + 7);
	assert_string_equal(s->items[0].key, key);
	source_close(s);
}

static void
test_oversize_not_downloaded(void **state)
{
	char msgs[1][256];
	struct source *s;
	struct buf raw;
	struct err e;

	(void)state;
	NEED_DOVECOT();
	deliver_n("Big", 1, 1, msgs);
	s = open_plain("Big", 40);
	buf_init(&raw, 0);
	assert_int_equal(source_list(s, 0, 0, &e), 0);
	assert_int_equal(s->items[0].size, strlen(msgs[0]));
	assert_int_equal(source_fetch(s, 0, 0, &raw, &e), SOURCE_TOO_BIG);
	assert_int_equal(raw.len, 0);
	/* even if the declared size were wrong, the body stops at the cap */
	s->items[0].size = 10;
	assert_int_equal(source_fetch(s, 0, 0, &raw, &e), SOURCE_TOO_BIG);
	assert_int_equal(raw.len, 0);
	/* the header is what an answer is made from */
	assert_int_equal(source_fetch_header(s, 0, &raw, &e), 0);
	assert_non_null(strstr(buf_str(&raw), "From: p1@example.org"));
	/* and the session is still usable */
	assert_int_equal(move_now(s, 0, SOURCE_FAILED, &e), 0);
	source_close(s);
	buf_free(&raw);
}

static void
test_wrong_password_refused(void **state)
{
	struct source *s;
	char url[512];
	struct err e;

	(void)state;
	NEED_DOVECOT();
	url_for(url, sizeof(url), "imap", "127.0.0.1", dc.imap_port, "INBOX", "wrong");
	assert_int_equal(source_open(url, NULL, &s, &e), -1);
	assert_non_null(strstr(e.msg, "LOGIN"));
	assert_null(s);
}

static void
test_connection_drop_fails_cleanly(void **state)
{
	char msgs[2][256];
	struct source *s;
	struct buf raw;
	struct err e;

	(void)state;
	NEED_DOVECOT();
	deliver_n("Drop", 1, 2, msgs);
	s = open_plain("Drop", 0);
	buf_init(&raw, 0);
	assert_int_equal(source_list(s, 0, 0, &e), 0);
	assert_int_equal(th_sh("doveadm -c '%s/etc/dovecot.conf' kick things >/dev/null",
	    dc.dir), 0);
	assert_int_equal(source_fetch(s, 0, 0, &raw, &e), -1);
	assert_non_null(strstr(e.msg, "UID FETCH"));
	assert_int_equal(move_now(s, 1, SOURCE_PROCESSED, &e), -1);
	assert_non_null(strstr(e.msg, "connection lost"));
	source_close(s);
	buf_free(&raw);
	assert_int_equal(th_dovecot_count(&dc, "Drop"), 2);
}

static void
test_tls_accepted_with_test_ca(void **state)
{
	struct source_options o = { .ca_file = NULL, .max_size = 0, .timeout = 10 };
	struct source *s;
	char url[512];
	struct err e;

	(void)state;
	NEED_DOVECOT();
	o.ca_file = dc.ca_file;
	url_for(url, sizeof(url), "imaps", "localhost", dc.imaps_port, "INBOX", "s3cret%20pw");
	if (source_open(url, &o, &s, &e) == -1)
		fail_msg("imaps: %s", e.msg);
	assert_int_equal(source_list(s, 0, 0, &e), 0);
	source_close(s);
	url_for(url, sizeof(url), "imap+starttls", "localhost", dc.imap_port, "INBOX",
	    "s3cret%20pw");
	if (source_open(url, &o, &s, &e) == -1)
		fail_msg("starttls: %s", e.msg);
	source_close(s);
	assert_true(th_log_wait(dc.log, "Login: user=<things>", "TLS"));
}

/* Opens url and expects a refusal naming why; then checks in Dovecot's
 * log that the connection to lip ended without any login attempt. */
static void
expect_refused(const char *scheme, const char *host, int port, const char *ca_file,
    const char *lip, const char *why)
{
	struct source_options o = { .ca_file = ca_file, .max_size = 0, .timeout = 10 };
	char url[512], tag[64];
	struct source *s;
	struct err e;
	int before, logins, failures;

	snprintf(tag, sizeof(tag), "lip=%s,", lip);
	before = th_log_count(dc.log, tag, "no auth attempts");
	logins = th_log_count(dc.log, tag, "user=<things>");
	failures = th_log_count(dc.log, tag, "auth failed");
	url_for(url, sizeof(url), scheme, host, port, "INBOX", "s3cret%20pw");
	assert_int_equal(source_open(url, &o, &s, &e), -1);
	assert_null(s);
	if (strstr(e.msg, why) == NULL)
		fail_msg("%s: expected \"%s\" in \"%s\"", url, why, e.msg);
	assert_non_null(strstr(e.msg, "refusing to log in"));
	for (int i = 0; i < 60 && th_log_count(dc.log, tag, "no auth attempts") == before; i++)
		usleep(50000);
	assert_int_equal(th_log_count(dc.log, tag, "no auth attempts"), before + 1);
	assert_int_equal(th_log_count(dc.log, tag, "user=<things>"), logins);
	assert_int_equal(th_log_count(dc.log, tag, "auth failed"), failures);
}

static void
test_tls_refused_for_wrong_host(void **state)
{
	(void)state;
	NEED_DOVECOT();
	expect_refused("imaps", "127.0.0.2", dc.imaps_port, dc.ca_file, "127.0.0.2",
	    "certificate for wrong.example does not match host 127.0.0.2");
	expect_refused("imap+starttls", "127.0.0.2", dc.imap_port, dc.ca_file, "127.0.0.2",
	    "certificate for wrong.example does not match host 127.0.0.2");
}

static void
test_tls_refused_for_unknown_ca(void **state)
{
	(void)state;
	NEED_DOVECOT();
	/* self-signed certificate, test CA trusted */
	expect_refused("imaps", "127.0.0.3", dc.imaps_port, dc.ca_file, "127.0.0.3",
	    "unknown CA");
	/* a good certificate from a CA the system does not trust */
	expect_refused("imaps", "localhost", dc.imaps_port, NULL, "127.0.0.1", "unknown CA");
}

/* Starts tests/unit/fake_imap.py with a scenario; returns its port. */
static int
fake_server(const char *scenario)
{
	char portfile[PATH_MAX], line[32];
	FILE *f;

	snprintf(portfile, sizeof(portfile), "/tmp/things-fake-imap-%d-%s", (int)getpid(),
	    scenario);
	unlink(portfile);
	assert_int_equal(th_sh("python3 '%s/tests/unit/fake_imap.py' %s '%s' </dev/null "
	    ">/dev/null 2>&1 &", getenv("THINGS_SRCDIR") ? getenv("THINGS_SRCDIR") : ".",
	    scenario, portfile), 0);
	for (int i = 0; i < 100 && !th_exists(portfile); i++)
		usleep(50000);
	assert_non_null(f = fopen(portfile, "r"));
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	unlink(portfile);
	return atoi(line);
}

static struct source *
open_fake(const char *scenario, size_t max_size)
{
	struct source_options o = { .ca_file = NULL, .max_size = max_size, .timeout = 10 };
	struct source *s = NULL;
	char url[128];
	struct err e;

	snprintf(url, sizeof(url), "imap://u:p@127.0.0.1:%d/INBOX", fake_server(scenario));
	if (source_open(url, &o, &s, &e) == -1)
		fail_msg("open %s: %s", url, e.msg);
	assert_int_equal(s->uidvalidity, 42);
	assert_int_equal(source_list(s, 0, 0, &e), 0);
	assert_int_equal(s->nitems, 1);
	assert_int_equal(s->items[0].size, 100);
	return s;
}

static void
test_server_sending_more_than_announced(void **state)
{
	struct source *s;
	struct buf raw;
	struct err e;

	(void)state;
	s = open_fake("liar", (size_t)1 << 20);
	buf_init(&raw, 0);
	/* announced 100 bytes, sent 5 MiB: kept at most 1 MiB, then refused */
	assert_int_equal(source_fetch(s, 0, 0, &raw, &e), SOURCE_TOO_BIG);
	assert_int_equal(raw.len, 0);
	assert_null(raw.data);
	buf_free(&raw);
	source_close(s);
}

static void
test_server_flooding_is_cut_off(void **state)
{
	struct source *s;
	struct buf raw;
	struct err e;

	(void)state;
	s = open_fake("flood", (size_t)1 << 20);
	buf_init(&raw, 0);
	/* a 2 GiB literal: the read stops past the batch budget, the session
	 * is dropped, nothing more is asked of it */
	assert_int_equal(source_fetch(s, 0, 0, &raw, &e), -1);
	assert_non_null(strstr(e.msg, "too large"));
	assert_int_equal(move_now(s, 0, SOURCE_PROCESSED, &e), -1);
	assert_non_null(strstr(e.msg, "connection lost"));
	buf_free(&raw);
	source_close(s);
}

static void
test_unparseable_answer_drops_the_session(void **state)
{
	struct source *s;
	struct buf raw;
	struct err e;

	(void)state;
	s = open_fake("garbage", 0);
	buf_init(&raw, 0);
	assert_int_equal(source_fetch(s, 0, 0, &raw, &e), -1);
	assert_non_null(strstr(e.msg, "unparseable"));
	assert_int_equal(source_fetch(s, 0, 0, &raw, &e), -1);
	assert_non_null(strstr(e.msg, "connection lost"));
	buf_free(&raw);
	source_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_list_fetch_move),
		cmocka_unit_test(test_incremental_by_uid),
		cmocka_unit_test(test_uid_above_max_is_filtered),
		cmocka_unit_test(test_uidvalidity_change_lists_everything),
		cmocka_unit_test(test_oversize_not_downloaded),
		cmocka_unit_test(test_wrong_password_refused),
		cmocka_unit_test(test_connection_drop_fails_cleanly),
		cmocka_unit_test(test_tls_accepted_with_test_ca),
		cmocka_unit_test(test_tls_refused_for_wrong_host),
		cmocka_unit_test(test_tls_refused_for_unknown_ca),
		cmocka_unit_test(test_server_sending_more_than_announced),
		cmocka_unit_test(test_server_flooding_is_cut_off),
		cmocka_unit_test(test_unparseable_answer_drops_the_session),
	};
	return cmocka_run_group_tests_name("inbox_imap", tests,
	    th_dovecot_group_setup, th_dovecot_group_teardown);
}
