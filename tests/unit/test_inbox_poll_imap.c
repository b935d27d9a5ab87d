/* Tests of inbox_poll over IMAP against a private Dovecot
 * (tests/unit/imap_testbed.sh): a full run, a connection dropped between a
 * commit and its move (the next run recovers), a UIDVALIDITY change (what
 * was recorded is recognised by Message-ID). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../inbox/inbox.h"
#include "inbox_test_helpers.h"

#define NOW 1800000000

#define dc th_dc

static void
use_mailbox(struct th_fixture *f, const char *mailbox)
{
	snprintf(f->url, sizeof(f->url), "imap://%s:s3cret%%20pw@127.0.0.1:%d/%s", dc.user,
	    dc.imap_port, mailbox);
}

static void
deliver(const char *mailbox, const char *from, const char *msgid, const char *body)
{
	char msg[2048];

	snprintf(msg, sizeof(msg), "From: %s\r\nTo: things@example.org\r\nMessage-ID: <%s>\r\n"
	    "Subject: hello\r\n\r\n%s\r\n", from, msgid, body);
	assert_int_equal(th_dovecot_deliver(&dc, mailbox, msg), 0);
}

static void
test_full_run_over_imap(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_stats s;
	struct err e;
	int processed_before = th_dovecot_count(&dc, "Processed");

	if (th_no_dovecot)
		skip();
	use_mailbox(f, "PollA");
	deliver("PollA", "ann@example.net", "pa1@example.net", "First.");
	deliver("PollA", "bob@example.net", "pa2@example.net", "Second.");
	deliver("PollA", "cy@example.net", "pa3@example.net", "Third.");
	if (inbox_poll(&f->prog, f->st, NOW, &s, &e) == -1)
		fail_msg("%s", e.msg);
	assert_int_equal(s.processed, 3);
	assert_int_equal(th_dovecot_count(&dc, "PollA"), 0);
	assert_int_equal(th_dovecot_count(&dc, "Processed"),
	    (processed_before < 0 ? 0 : processed_before) + 3);
	assert_int_equal(q(f, "SELECT last_uid FROM mailboxes WHERE source = "
	    "'imap://things@127.0.0.1:%d/PollA'", dc.imap_port), 3);
	assert_int_equal(q(f, "SELECT uidvalidity FROM mailboxes"),
	    th_dovecot_uidvalidity(&dc, "PollA"));
	assert_int_equal(q(f, "SELECT count(*) FROM inbound WHERE source_key = '%u:2'",
	    th_dovecot_uidvalidity(&dc, "PollA")), 1);
	assert_false(th_dovecot_any_seen(&dc, "Processed"));
	assert_int_equal(inbox_poll(&f->prog, f->st, NOW, &s, &e), 0);
	assert_int_equal(s.listed, 0);
}

static void
test_drop_between_commit_and_move_recovers(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_stats s;
	struct err e;
	int processed_before = th_dovecot_count(&dc, "Processed");
	int64_t deliveries_before;

	if (th_no_dovecot)
		skip();
	use_mailbox(f, "PollB");
	deliver("PollB", "ann@example.net", "pb1@example.net", "First.");
	deliver("PollB", "bob@example.net", "pb2@example.net", "Second.");
	deliver("PollB", "cy@example.net", "pb3@example.net", "Third.");
	/* the connection hangs up at the batch's first filing command: all
	 * three are committed, none is moved */
	setenv("THINGS_TEST_IMAP_DROP_AFTER_MOVES", "0", 1);
	assert_int_equal(inbox_poll(&f->prog, f->st, NOW, &s, &e), -1);
	unsetenv("THINGS_TEST_IMAP_DROP_AFTER_MOVES");
	if (strstr(e.msg, "stopped after 3 of 3 messages") == NULL)
		fail_msg("unexpected error: %s", e.msg);
	assert_int_equal(s.processed, 3);
	assert_int_equal(q(f, "SELECT count(*) FROM inbound"), 3);
	assert_int_equal(q(f, "SELECT last_uid FROM mailboxes"), 3);
	assert_int_equal(th_dovecot_count(&dc, "PollB"), 3);
	deliveries_before = q(f, "SELECT count(*) FROM deliveries");

	if (inbox_poll(&f->prog, f->st, NOW, &s, &e) == -1)
		fail_msg("%s", e.msg);
	assert_int_equal(s.listed, 3);
	assert_int_equal(s.duplicates, 3);  /* moved, not processed again */
	assert_int_equal(s.processed + s.fetched, 0);
	assert_int_equal(q(f, "SELECT count(*) FROM inbound"), 3);
	assert_int_equal(q(f, "SELECT count(*) FROM deliveries"), deliveries_before);
	assert_int_equal(th_dovecot_count(&dc, "PollB"), 0);
	assert_int_equal(th_dovecot_count(&dc, "Processed"),
	    (processed_before < 0 ? 0 : processed_before) + 3);
}

/* More than a batch: the first batch is committed and moved (one UID MOVE),
 * the connection drops when the second is filed; the next run only moves
 * the second batch. */
static void
test_batches_and_a_drop_in_the_second(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_stats s;
	struct err e;
	int n = INBOX_BATCH + 7;

	if (th_no_dovecot)
		skip();
	use_mailbox(f, "PollE");
	f->prog.cfg.inbox_processed = "DoneE";
	assert_int_equal(th_sh("%s fill '%s' PollE %d pe", th_testbed_script(), dc.dir, n), 0);
	assert_int_equal(th_dovecot_count(&dc, "PollE"), n);
	setenv("THINGS_TEST_IMAP_DROP_AFTER_MOVES", "1", 1);
	assert_int_equal(inbox_poll(&f->prog, f->st, NOW, &s, &e), -1);
	unsetenv("THINGS_TEST_IMAP_DROP_AFTER_MOVES");
	assert_int_equal(s.processed, n);
	assert_int_equal(q(f, "SELECT count(*) FROM inbound"), n);
	assert_int_equal(th_dovecot_count(&dc, "DoneE"), INBOX_BATCH);
	assert_int_equal(th_dovecot_count(&dc, "PollE"), 7);

	if (inbox_poll(&f->prog, f->st, NOW, &s, &e) == -1)
		fail_msg("%s", e.msg);
	assert_int_equal(s.duplicates, 7);
	assert_int_equal(s.processed, 0);
	assert_int_equal(th_dovecot_count(&dc, "PollE"), 0);
	assert_int_equal(th_dovecot_count(&dc, "DoneE"), n);
}

/* How many messages of mailbox match a doveadm search query. */
static int
flagged(const char *mailbox, const char *query)
{
	char line[64];

	if (th_sh_line(line, sizeof(line), "doveadm -c '%s/etc/dovecot.conf' search -u things "
	    "mailbox %s %s | wc -l", dc.dir, mailbox, query) == -1)
		return -1;
	return atoi(line);
}

/* after = flag: messages stay where they are with our keyword; the next
 * run lists only what is new or was committed but not flagged. */
static void
test_flag_mode(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_stats s;
	struct err e;
	int processed_before;

	if (th_no_dovecot)
		skip();
	use_mailbox(f, "PollF");
	processed_before = th_dovecot_count(&dc, "Processed");
	f->prog.cfg.inbox_flag_only = 1;
	deliver("PollF", "ann@example.net", "pf1@example.net", "First.");
	deliver("PollF", "cy@example.net", "pf2@example.net", "Second.");
	if (inbox_poll(&f->prog, f->st, NOW, &s, &e) == -1)
		fail_msg("%s", e.msg);
	assert_int_equal(s.processed, 2);
	assert_int_equal(th_dovecot_count(&dc, "PollF"), 2);
	assert_int_equal(flagged("PollF", "KEYWORD '$ThingsProcessed' SEEN"), 2);
	assert_int_equal(th_dovecot_count(&dc, "Processed"), processed_before); /* nothing moved */

	if (inbox_poll(&f->prog, f->st, NOW, &s, &e) == -1)
		fail_msg("%s", e.msg);
	assert_int_equal(s.listed, 0);

	/* a crash between commit and flag: the keyword is missing */
	assert_int_equal(th_sh("doveadm -c '%s/etc/dovecot.conf' flags remove -u things "
	    "'$ThingsProcessed \\Seen' mailbox PollF UID 1", dc.dir), 0);
	deliver("PollF", "bob@example.net", "pf3@example.net", "Third.");
	if (inbox_poll(&f->prog, f->st, NOW, &s, &e) == -1)
		fail_msg("%s", e.msg);
	assert_int_equal(s.listed, 2);
	assert_int_equal(s.duplicates, 1);
	assert_int_equal(s.processed, 1);
	assert_int_equal(th_dovecot_count(&dc, "PollF"), 3);
	if (inbox_poll(&f->prog, f->st, NOW, &s, &e) == -1)
		fail_msg("%s", e.msg);
	assert_int_equal(s.listed, 0);
}

static void
test_uidvalidity_change_dedupes_by_message_id(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_stats s;
	struct err e;
	uint32_t uidv;

	if (th_no_dovecot)
		skip();
	use_mailbox(f, "PollC");
	deliver("PollC", "ann@example.net", "pc1@example.net", "First.");
	assert_int_equal(inbox_poll(&f->prog, f->st, NOW, &s, &e), 0);
	assert_int_equal(s.processed, 1);
	/* the same message appears again (restored from a backup), and a new one */
	deliver("PollC", "ann@example.net", "pc1@example.net", "First.");
	deliver("PollC", "bob@example.net", "pc2@example.net", "Second.");
	uidv = th_dovecot_uidvalidity(&dc, "PollC");
	assert_int_equal(th_sh("%s uidvalidity '%s' PollC %u", th_testbed_script(), dc.dir,
	    uidv + 100), 0);
	assert_int_equal(inbox_poll(&f->prog, f->st, NOW, &s, &e), 0);
	assert_int_equal(s.listed, 2);
	assert_int_equal(s.duplicates, 1);
	assert_int_equal(s.processed, 1);
	assert_int_equal(q(f, "SELECT count(*) FROM inbound"), 2);
	assert_int_equal(q(f, "SELECT uidvalidity FROM mailboxes"), uidv + 100);
	assert_int_equal(th_dovecot_count(&dc, "PollC"), 0);
}

static void
test_imaps_with_the_configured_ca(void **state)
{
	struct th_fixture *f = *state;
	struct inbox_stats s;
	struct err e;

	if (th_no_dovecot)
		skip();
	snprintf(f->url, sizeof(f->url), "imaps://%s:s3cret%%20pw@localhost:%d/PollD", dc.user,
	    dc.imaps_port);
	deliver("PollD", "ann@example.net", "pd1@example.net", "First.");
	/* without the CA: refused before logging in, nothing touched */
	assert_int_equal(inbox_poll(&f->prog, f->st, NOW, &s, &e), -1);
	if (strstr(e.msg, "unknown CA") == NULL)
		fail_msg("unexpected error: %s", e.msg);
	assert_int_equal(th_dovecot_count(&dc, "PollD"), 1);
	f->prog.cfg.imap_ca_file = dc.ca_file;
	if (inbox_poll(&f->prog, f->st, NOW, &s, &e) == -1)
		fail_msg("%s", e.msg);
	assert_int_equal(s.processed, 1);
	assert_int_equal(th_dovecot_count(&dc, "PollD"), 0);
}

int
main(void)
{
#define T(name) \
	cmocka_unit_test_setup_teardown(name, th_fixture_setup, th_fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_full_run_over_imap),
		T(test_drop_between_commit_and_move_recovers),
		T(test_batches_and_a_drop_in_the_second),
		T(test_flag_mode),
		T(test_uidvalidity_change_dedupes_by_message_id),
		T(test_imaps_with_the_configured_ca),
	};
	return cmocka_run_group_tests_name("inbox_poll_imap", tests,
	    th_dovecot_group_setup, th_dovecot_group_teardown);
}
