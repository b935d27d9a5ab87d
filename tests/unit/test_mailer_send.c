/* Unit tests for the mailer's schedule and send loop, against a real store
 * in a temporary directory and the maildir: transport (and smtp-sink for
 * the SMTP path): enqueue -> send -> sent, reruns send nothing, a crashed
 * run is recovered and each message sent once more at most, unsubscribed
 * participants get no Thing, temporary failures back off and give up. */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../mailer/internal.h"
#include "test_mailer_check.h"
#include "test_mailer_fixture.h"
#include "test_mailer_sink.h"

/* --- the outbox ----------------------------------------------------------- */

struct outbox_file {
	char *data;     /* CRLF line ends again, as sent */
	size_t len;
};

static size_t
read_outbox(struct fixture *f, struct outbox_file *files, size_t max)
{
	char dir[192];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/new", f->outbox);
	d = opendir(dir);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char path[512], chunk[4096];
		struct buf b;
		FILE *fp;
		size_t got;

		if (de->d_name[0] == '.')
			continue;
		assert_true(n < max);
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fp = fopen(path, "rb");
		assert_non_null(fp);
		buf_init(&b, 0);
		while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0)
			for (size_t i = 0; i < got; i++) {
				if (chunk[i] == '\n')
					assert_int_equal(buf_putc(&b, '\r'), 0);
				assert_int_equal(buf_putc(&b, chunk[i]), 0);
			}
		fclose(fp);
		files[n].len = b.len;
		files[n].data = buf_steal(&b);
		n++;
	}
	closedir(d);
	return n;
}

static void
free_outbox(struct outbox_file *files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(files[i].data);
}

static size_t
files_with(struct outbox_file *files, size_t n, const char *needle)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += strstr(files[i].data, needle) != NULL;
	return k;
}

/* --- tests ------------------------------------------------------------------ */

static void
test_schedule_send_and_rerun(void **state)
{
	struct fixture *f = *state;
	struct outbox_file files[32];
	struct participant p;
	struct mailer_stats st;
	struct delivery d;
	char want[320];
	struct err e;
	size_t n;

	add_active(f, "alice@example.net", "Alice Smith", T0 - DAY);
	add_active(f, "bob@example.net", "", T0 - DAY);
	add_active(f, "eve@example.net", "Eve\r\nBcc: mallory@evil.example", T0 - DAY);

	schedule(f, T0 - 1, 0);           /* nothing released yet */
	schedule(f, T0 + 3600, 3);        /* Thing 1 for three */
	schedule(f, T0 + 7200, 0);        /* idempotent */
	st = send_due(f, T0 + 7200);
	assert_int_equal(st.sent, 3);
	assert_int_equal(st.failed + st.deferred + st.recovered, 0);
	assert_int_equal(count(f, DK_THING, DS_SENT), 3);

	st = send_due(f, T0 + 7300);      /* nothing left */
	assert_int_equal(st.sent, 0);
	n = read_outbox(f, files, 32);
	assert_int_equal(n, 3);

	/* each file: the stored Message-ID, VERP, parseable, no injection */
	assert_int_equal(store_participant_by_address(f->st, "alice@example.net", &p, &e), 0);
	d = lookup(f, p.id, "alice@example.net", DK_THING, "1");
	assert_int_equal(d.state, DS_SENT);
	assert_int_equal(d.sent_at, T0 + 7200);
	snprintf(want, sizeof(want), "Message-ID: <%s>\r\n", d.message_id);
	assert_int_equal(files_with(files, n, want), 1);
	snprintf(want, sizeof(want), "Return-Path: <things+bounce-%s@example.org>\r\n", p.token);
	assert_int_equal(files_with(files, n, want), 1);
	snprintf(want, sizeof(want), "<mailto:things+unsubscribe-%s@example.org>", p.token);
	assert_int_equal(files_with(files, n, want), 1);
	assert_int_equal(files_with(files, n, "To: Alice Smith <alice@example.net>\r\n"), 1);
	assert_int_equal(files_with(files, n, "To: \"Eve Bcc: mallory@evil.example\" <eve@"), 1);
	assert_int_equal(files_with(files, n, "\r\nBcc:"), 0);
	assert_int_equal(files_with(files, n, "Precedence: bulk\r\n"), 3);
	for (size_t i = 0; i < n; i++) {
		struct header_scan hs;
		char *text, *html;
		int te, he;

		check_scan(files[i].data, files[i].len, &hs);
		assert_int_equal(check_count(&hs, "Message-ID"), 1);
		assert_int_equal(check_count(&hs, "Subject"), 1);
		check_alternative(files[i].data, files[i].len, &text, &html, &te, &he);
		assert_non_null(strstr(text, "Write about"));
		assert_non_null(strstr(html, "<em>this</em>"));
		free(text);
		free(html);
	}
	free_outbox(files, n);

	/* two weeks on: Thing 2 */
	schedule(f, T0 + 14 * DAY, 3);
	st = send_due(f, T0 + 14 * DAY);
	assert_int_equal(st.sent, 3);
	assert_int_equal(count(f, DK_THING, DS_SENT), 6);
}

static void
test_late_joiner_gets_released_things_now(void **state)
{
	struct fixture *f = *state;
	int64_t early, late, now = T0 + 20 * DAY;
	struct mailer_stats st;
	struct participant p;
	struct delivery d;
	struct err e;

	early = add_active(f, "early@example.net", "Early", T0 - DAY);
	assert_int_equal(store_participant_add(f->st, "late@example.net", "Late", PS_PENDING, now,
			     &p, &e), 0);
	late = p.id;
	assert_int_equal(store_participant_activate(f->st, late, now, &e), 0);
	schedule(f, now, 2); /* Thing 1 for both; 2 waits until 1 has gone */
	assert_int_equal(count(f, DK_THING, -1), 2);
	st = send_and_follow(f, now); /* 1 goes, then 2 behind it; 3 is not out */
	assert_int_equal(st.enqueued, 2);
	assert_int_equal(st.sent, 4);

	/* runs stopped (nothing is held in this programme): Thing 2, overdue,
	 * follows 1 by catch_up_days (0) instead of going beside it */
	d = lookup(f, early, "early@example.net", DK_THING, "2");
	assert_int_equal(d.due_at, now);
	d = lookup(f, late, "late@example.net", DK_THING, "1");
	assert_int_equal(d.due_at, now);
	d = lookup(f, late, "late@example.net", DK_THING, "2");
	assert_int_equal(d.due_at, now);
	assert_int_equal(count(f, DK_THING, -1), 4);
}

static void
test_unsubscribed_before_send_gets_nothing(void **state)
{
	struct fixture *f = *state;
	struct outbox_file files[4];
	struct mailer_stats st;
	struct delivery d;
	struct err e;
	int64_t id;

	id = add_active(f, "carol@example.net", "Carol", T0 - DAY);
	add_active(f, "dan@example.net", "Dan", T0 - DAY);
	schedule(f, T0, 2);
	assert_int_equal(store_participant_set_status(f->st, id, PS_UNSUBSCRIBED, T0 + 1, &e), 0);
	st = send_due(f, T0 + 2);
	assert_int_equal(st.sent, 1);
	assert_int_equal(st.failed, 1);
	d = lookup(f, id, "carol@example.net", DK_THING, "1");
	assert_int_equal(d.state, DS_FAILED);
	assert_string_equal(d.last_error, "not sent: participant is unsubscribed");
	assert_int_equal(read_outbox(f, files, 4), 1);
	assert_int_equal(files_with(files, 1, "Delivered-To: dan@example.net\r\n"), 1);
	free_outbox(files, 1);
}

/* Deliveries a crashed run left in "sending" are sent by the next run,
 * once each. */
/* Programme mail (a digest, a broken-feed notice) queued before someone
 * left is not sent; an answer to their own mail (goodbye) still is. */
static void
test_programme_mail_needs_an_active_participant(void **state)
{
	static const char *const kinds[] = { DK_DIGEST, DK_FEED_BROKEN, DK_GOODBYE };
	struct fixture *f = *state;
	struct mailer_stats st;
	struct delivery d;
	struct err e;
	int64_t id;

	id = add_active(f, "erin@example.net", "Erin", T0 - DAY);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct delivery_request r = { .participant_id = id, .recipient = "erin@example.net",
			.kind = kinds[i], .key = "1", .due_at = T0, .msgid_domain = "example.org" };

		assert_int_equal(store_delivery_enqueue(f->st, &r, T0, NULL, &e), 0);
	}
	assert_int_equal(store_participant_set_status(f->st, id, PS_UNSUBSCRIBED, T0 + 1, &e), 0);
	st = send_due(f, T0 + 2);
	assert_int_equal(st.failed, 2);
	assert_int_equal(st.sent, 1);
	d = lookup(f, id, "erin@example.net", DK_DIGEST, "1");
	assert_int_equal(d.state, DS_FAILED);
	assert_string_equal(d.last_error, "not sent: participant is unsubscribed");
	d = lookup(f, id, "erin@example.net", DK_FEED_BROKEN, "1");
	assert_int_equal(d.state, DS_FAILED);
	d = lookup(f, id, "erin@example.net", DK_GOODBYE, "1");
	assert_int_equal(d.state, DS_SENT);
}

static void
test_crashed_claims_are_recovered(void **state)
{
	struct fixture *f = *state;
	struct outbox_file files[8];
	struct delivery claimed[2];
	struct mailer_stats st;
	struct err e;
	size_t n;

	add_active(f, "a@example.net", "A", T0 - DAY);
	add_active(f, "b@example.net", "B", T0 - DAY);
	add_active(f, "c@example.net", "C", T0 - DAY);
	schedule(f, T0, 3);
	assert_int_equal(store_delivery_claim(f->st, T0, 2, claimed, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(count(f, NULL, DS_SENDING), 2);

	st = send_due(f, T0 + 60);
	assert_int_equal(st.recovered, 2);
	assert_int_equal(st.sent, 3);
	n = read_outbox(f, files, 8);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < 2; i++) {
		char want[300];

		snprintf(want, sizeof(want), "Message-ID: <%s>\r\n", claimed[i].message_id);
		assert_int_equal(files_with(files, n, want), 1);
	}
	free_outbox(files, n);
}

/* THINGS_TEST_STOP_AFTER=3: the child dies right after the third message
 * reached the Maildir, before recording it; the next run recovers, and
 * exactly that one message goes out twice. */
static void
test_stop_after_and_recovery(void **state)
{
	enum { N = 6 };
	struct fixture *f = *state;
	struct outbox_file files[N + 2];
	struct mailer_stats st;
	int status, dup = 0;
	size_t n;
	pid_t pid;

	for (int i = 0; i < N; i++) {
		char addr[64];

		snprintf(addr, sizeof(addr), "p%d@example.net", i);
		add_active(f, addr, "", T0 - DAY);
	}
	schedule(f, T0, N);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* the child's own connection and mailer, as a separate run */
		struct store *st2;
		struct mailer *m2;
		struct mailer_stats s2 = { 0 };
		struct err e2;
		char db[128];

		setenv("THINGS_TEST_STOP_AFTER", "3", 1);
		snprintf(db, sizeof(db), "%s/things.db", f->dir);
		if (store_open(db, &st2, &e2) == -1 || mailer_new(&f->p, st2, &m2, &e2) == -1)
			_exit(2);
		mailer_send_due(m2, T0, &s2, &e2);
		_exit(3); /* not reached: SIGKILL first */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_int_equal(count(f, DK_THING, DS_SENT), 2);
	n = read_outbox(f, files, N + 2);
	assert_int_equal(n, 3);
	free_outbox(files, n);

	st = send_due(f, T0 + 60);
	assert_true(st.recovered >= 1);
	assert_int_equal(st.sent, N - 2);
	assert_int_equal(count(f, DK_THING, DS_SENT), N);
	n = read_outbox(f, files, N + 2);
	assert_int_equal(n, N + 1);
	for (int i = 0; i < N; i++) {
		char want[64];
		size_t k;

		snprintf(want, sizeof(want), "Delivered-To: p%d@example.net\r\n", i);
		k = files_with(files, n, want);
		assert_true(k == 1 || k == 2);
		dup += k == 2;
	}
	assert_int_equal(dup, 1);
	free_outbox(files, n);
}

/* A Maildir whose tmp/ is a file: every delivery fails temporarily. */
static void
break_outbox(struct fixture *f)
{
	char path[192];
	FILE *fp;

	assert_int_equal(mkdir(f->outbox, 0700), 0);
	snprintf(path, sizeof(path), "%s/tmp", f->outbox);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
}

/* Three failures in a row (one slot) stop the run: the rest stays queued,
 * unclaimed, its attempts untouched. */
static void
test_failing_transport_stops_the_run(void **state)
{
	struct fixture *f = *state;
	struct mailer_stats st;
	struct delivery d;
	char path[192];

	for (int i = 1; i <= 5; i++) {
		char addr[64];

		snprintf(addr, sizeof(addr), "x%d@example.net", i);
		add_active(f, addr, "", T0 - DAY);
	}
	break_outbox(f);
	schedule(f, T0, 5);
	st = send_due(f, T0);
	assert_int_equal(st.sent + st.failed, 0);
	assert_int_equal(st.deferred, 3);
	d = lookup(f, 0, "x1@example.net", DK_THING, "1");
	assert_int_equal(d.state, DS_DEFERRED);
	assert_int_equal(d.attempts, 1);
	assert_int_equal(d.due_at, T0 + 300);
	assert_non_null(strstr(d.last_error, "maildir: cannot create"));
	d = lookup(f, 0, "x4@example.net", DK_THING, "1");
	assert_int_equal(d.state, DS_QUEUED);
	assert_int_equal(d.attempts, 0);
	assert_int_equal(count(f, NULL, DS_SENDING), 0);

	/* repaired: everything goes, the deferred ones when due */
	snprintf(path, sizeof(path), "%s/tmp", f->outbox);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	st = send_due(f, T0 + 1);
	assert_int_equal(st.sent, 2);
	st = send_due(f, T0 + 300);
	assert_int_equal(st.sent, 3);
	assert_int_equal(count(f, DK_THING, DS_SENT), 5);
}

/* A delivery that keeps failing is deferred with growing delays and
 * failed after about three days. */
static void
test_temporary_failures_give_up(void **state)
{
	struct fixture *f = *state;
	int64_t id, now = T0, last_delay = 0;
	struct delivery d;
	int runs = 0;

	id = add_active(f, "x1@example.net", "", T0 - DAY);
	break_outbox(f);
	schedule(f, T0, 1);
	do {
		struct mailer_stats st = send_due(f, now);

		assert_int_equal(st.sent, 0);
		runs++;
		d = lookup(f, id, "x1@example.net", DK_THING, "1");
		if (d.state == DS_DEFERRED) {
			assert_true(d.due_at - now >= last_delay); /* never shorter */
			assert_true(d.due_at - now <= 12 * 3600);
			last_delay = d.due_at - now;
			now = d.due_at;
		}
	} while (d.state == DS_DEFERRED && runs < 50);
	assert_int_equal(d.state, DS_FAILED);
	assert_int_equal(d.attempts, 13);
	assert_int_equal(runs, 13);
	assert_true(now - T0 >= 2 * DAY && now - T0 <= 4 * DAY);
	assert_int_equal(strncmp(d.last_error, "gave up after 13 attempts: maildir: ", 36), 0);
}

static void
test_retry_policy(void **state)
{
	static const struct {
		int attempts;
		int64_t delay;
		int exhausted;
	} table[] = {
		{ 1, 300, 0 }, { 2, 600, 0 }, { 3, 1200, 0 }, { 8, 38400, 0 }, { 9, 43200, 0 },
		{ 12, 43200, 0 }, { 13, 43200, 1 }, { 40, 43200, 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		assert_int_equal(mailer_retry_delay(table[i].attempts), table[i].delay);
		assert_int_equal(mailer_retry_exhausted(table[i].attempts), table[i].exhausted);
	}
}

/* The whole loop over SMTP: four connections to smtp-sink. */
static void
test_send_over_smtp(void **state)
{
	enum { N = 12 };
	struct fixture *f = *state;
	int port = free_port();
	pid_t sink = start_sink(port);
	struct mailer_stats st;
	char *dumps;

	snprintf(f->url, sizeof(f->url), "smtp://127.0.0.1:%d", port);
	f->p.cfg.smtp_connections = 4;
	for (int i = 0; i < N; i++) {
		char addr[64];

		snprintf(addr, sizeof(addr), "s%d@example.net", i);
		add_active(f, addr, "", T0 - DAY);
	}
	schedule(f, T0, N);
	st = send_due(f, T0);
	assert_int_equal(st.sent, N);
	assert_int_equal(count(f, DK_THING, DS_SENT), N);
	for (int i = 0; i < 100 && count_dumps() < N; i++)
		usleep(20000);
	assert_int_equal(count_dumps(), N);
	dumps = all_dumps();
	assert_non_null(strstr(dumps, "X-Mail-Args: <things+bounce-"));
	assert_non_null(strstr(dumps, "X-Helo-Args: example.org\n"));
	free(dumps);
	stop_sink(sink);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schedule_send_and_rerun, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_joiner_gets_released_things_now, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unsubscribed_before_send_gets_nothing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_programme_mail_needs_an_active_participant, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crashed_claims_are_recovered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_after_and_recovery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failing_transport_stops_the_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_temporary_failures_give_up, setup, teardown),
		cmocka_unit_test(test_retry_policy),
		cmocka_unit_test_setup_teardown(test_send_over_smtp, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
