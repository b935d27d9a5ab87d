/* Unit tests for things.conf: values, defaults, relative paths, and every
 * kind of error with its line number. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_content_helpers.h"

/* Loads conf (with two Things beside it); returns programme_load's result. */
static int
load_conf(const char *conf, struct programme **p, struct diags *d, struct err *e, char **dirp)
{
	char *dir = scratch_dir(), path[1024];
	int rc;

	put_text(dir, "things.conf", conf);
	put_things(dir, 2);
	snprintf(path, sizeof(path), "%s/things.conf", dir);
	memset(d, 0, sizeof(*d));
	rc = programme_load(path, p, diags_collect, d, e);
	if (dirp)
		*dirp = dir;
	else
		scratch_remove(dir);
	return rc;
}

static void
test_good_config(void **state)
{
	static const char conf[] =
	    "; a comment\n"
	    "# another\n"
	    "[programme]\n"
	    "name = 12 Things for Health Libraries\n"
	    "address = Things@Example.ORG\n"
	    "organisers = a@example.org, B@example.org c@example.org\n"
	    "  d@example.org, a@example.org\n"
	    "start = 2027-01-11 09:00\n"
	    "interval_days = 7\n"
	    "delimiter = -\n"
	    "list_id = twelve.example.org\n"
	    "unsubscribe_url = https://example.org/unsub\n"
	    "allow_raw_html = yes\n"
	    "[smtp]\n"
	    "url = smtps://user:p%40ss@mail.example.org:465\n"
	    "connections = 8\n"
	    "ca_file = ca.pem\n"
	    "[imap]\n"
	    "url = maildir:mail/inbox\n"
	    "ca_file = /etc/hostname\n"
	    "[store]\n"
	    "path = data/things.db\n"
	    "[schedule]\n"
	    "thing2 = 2027-02-01 10:00\n";
	struct programme *p = NULL;
	struct diags d;
	struct err e;
	char *dir, *real, want[2048];

	(void)state;
	use_utc();
	dir = scratch_dir();
	put_text(dir, "things.conf", conf);
	put_text(dir, "ca.pem", "not really a certificate\n");
	put_things(dir, 2);
	snprintf(want, sizeof(want), "%s/things.conf", dir);
	memset(&d, 0, sizeof(d));
	if (programme_load(want, &p, diags_collect, &d, &e) != 0) {
		diags_print(&d);
		fail_msg("load failed: %s", e.msg);
	}
	real = realpath(dir, NULL);
	assert_string_equal(p->cfg.dir, real);
	snprintf(want, sizeof(want), "%s/things.conf", real);
	assert_string_equal(p->cfg.path, want);
	assert_string_equal(p->cfg.name, "12 Things for Health Libraries");
	assert_string_equal(p->cfg.address, "things@example.org");
	assert_int_equal(p->cfg.norganisers, 4);
	assert_string_equal(p->cfg.organisers[0], "a@example.org");
	assert_string_equal(p->cfg.organisers[1], "b@example.org");
	assert_string_equal(p->cfg.organisers[2], "c@example.org");
	assert_string_equal(p->cfg.organisers[3], "d@example.org");
	assert_int_equal(p->cfg.start, 1799658000); /* 2027-01-11 09:00 UTC */
	assert_int_equal(p->cfg.interval_days, 7);
	assert_int_equal(p->cfg.delimiter, '-');
	assert_string_equal(p->cfg.list_id, "twelve.example.org");
	assert_string_equal(p->cfg.unsubscribe_url, "https://example.org/unsub");
	assert_int_equal(p->cfg.allow_raw_html, 1);
	assert_string_equal(p->cfg.smtp_url, "smtps://user:p%40ss@mail.example.org:465");
	assert_int_equal(p->cfg.smtp_connections, 8);
	snprintf(want, sizeof(want), "%s/ca.pem", real);
	assert_string_equal(p->cfg.smtp_ca_file, want);
	snprintf(want, sizeof(want), "maildir:%s/mail/inbox", real);
	assert_string_equal(p->cfg.imap_url, want);
	assert_string_equal(p->cfg.imap_ca_file, "/etc/hostname");
	snprintf(want, sizeof(want), "%s/data/things.db", real);
	assert_string_equal(p->cfg.store_path, want);
	assert_int_equal(p->cfg.noverrides, 1);
	assert_int_equal(p->things[0].release_at, 1799658000);
	assert_int_equal(p->things[1].release_at, 1801476000); /* 2027-02-01 10:00 UTC */
	free(real);
	programme_free(p);
	scratch_remove(dir);
}

static void
test_defaults(void **state)
{
	struct programme *p = NULL;
	struct diags d;
	struct err e;
	char *dir, *real, want[1024];

	(void)state;
	use_utc();
	assert_int_equal(load_conf(minimal_conf, &p, &d, &e, &dir), 0);
	real = realpath(dir, NULL);
	assert_int_equal(p->cfg.delimiter, '+');
	assert_int_equal(p->cfg.interval_days, 14);
	assert_int_equal(p->cfg.smtp_connections, 4);
	assert_int_equal(p->cfg.allow_raw_html, 0);
	assert_null(p->cfg.unsubscribe_url);
	assert_null(p->cfg.smtp_ca_file);
	assert_null(p->cfg.imap_ca_file);
	assert_int_equal(p->cfg.noverrides, 0);
	assert_string_equal(p->cfg.list_id, "test-programme.example.org");
	snprintf(want, sizeof(want), "%s/things.db", real);
	assert_string_equal(p->cfg.store_path, want);
	assert_int_equal(p->things[1].release_at - p->things[0].release_at, 14 * 86400);
	assert_int_equal(p->cfg.self_paced, 0);
	assert_int_equal(p->cfg.catch_up_days, 2);
	assert_int_equal(p->cfg.max_lateness_hours, 72);
	assert_int_equal(p->cfg.send_late, 0);
	assert_int_equal(p->cfg.certificate, 1);
	assert_int_equal(p->cfg.smtp_max_per_minute, 0);
	assert_int_equal(p->cfg.bounce_threshold, 5);
	assert_int_equal(p->cfg.bounce_stale_days, 29); /* two fortnights and a day */
	assert_int_equal(p->cfg.inbox_max_kib, 10 * 1024);
	assert_string_equal(p->cfg.inbox_processed, "Processed");
	assert_string_equal(p->cfg.inbox_failed, "Failed");
	assert_int_equal(p->cfg.answers_per_hour, 5);
	assert_null(p->cfg.organiser_secret);
	assert_int_equal(p->cfg.feeds_allow_private, 0);
	assert_int_equal(p->cfg.feeds_parallel, 8);
	assert_int_equal(p->cfg.feeds_every_hours, 6);
	assert_int_equal(p->cfg.digest_enabled, 1);
	assert_int_equal(p->cfg.digest_weekday, 1);
	assert_int_equal(p->cfg.digest_hour, 8);
	free(real);
	programme_free(p);
	scratch_remove(dir);
}

/* Values as organisers type them: "Yes", "No", "Flag" are what they mean. */
static void
test_operational_keys(void **state)
{
	static const char conf[] =
	    "[programme]\nname = T\naddress = things@example.org\norganisers = b@example.org\n"
	    "start = 2027-01-11 09:00\nmode = Self-paced\ncatch_up_days = 0\n"
	    "max_lateness_hours = 24\nsend_late = Yes\ncertificate = No\n"
	    "[smtp]\nurl = smtp://h\nmax_per_minute = 600\nmax_per_connection = 100\n"
	    "[bounces]\nthreshold = 3\nstale_days = 10\n"
	    "[imap]\nurl = imap://u:p@h/INBOX\n"
	    "[inbox]\nmax_message_kib = 512\nprocessed_folder = Done\nfailed_folder = Trouble\n"
	    "after = Flag\nanswers_per_hour = 2\nticket_reminder_hours = 24\n"
	    "organiser_secret = correct-horse-battery\n"
	    "[feeds]\nallow_private_addresses = YES\nparallel = 16\nper_host = 4\n"
	    "timeout_seconds = 5\nmax_kib = 100\nfailures_before_notice = 5\n"
	    "every_hours = 24\n"
	    "[digest]\nenabled = No\nday = Friday\nhour = 14\n"
	    /* out of order, but [schedule] does not apply to self-paced */
	    "[schedule]\nthing2 = 2026-01-01 09:00\n";
	struct programme *p = NULL;
	struct diags d;
	struct err e;

	(void)state;
	use_utc();
	assert_int_equal(load_conf(conf, &p, &d, &e, NULL), 0);
	assert_int_equal(p->cfg.self_paced, 1);
	assert_int_equal(p->cfg.catch_up_days, 0);
	assert_int_equal(p->cfg.max_lateness_hours, 24);
	assert_int_equal(p->cfg.send_late, 1);
	assert_int_equal(p->cfg.certificate, 0);
	assert_int_equal(p->cfg.smtp_max_per_minute, 600);
	assert_int_equal(p->cfg.smtp_max_per_connection, 100);
	assert_int_equal(p->cfg.bounce_threshold, 3);
	assert_int_equal(p->cfg.bounce_stale_days, 10);
	assert_int_equal(p->cfg.inbox_max_kib, 512);
	assert_string_equal(p->cfg.inbox_processed, "Done");
	assert_string_equal(p->cfg.inbox_failed, "Trouble");
	assert_int_equal(p->cfg.inbox_flag_only, 1);
	assert_int_equal(p->cfg.answers_per_hour, 2);
	assert_int_equal(p->cfg.ticket_reminder_hours, 24);
	assert_string_equal(p->cfg.organiser_secret, "correct-horse-battery");
	assert_int_equal(p->cfg.feeds_allow_private, 1);
	assert_int_equal(p->cfg.feeds_parallel, 16);
	assert_int_equal(p->cfg.feeds_per_host, 4);
	assert_int_equal(p->cfg.feeds_timeout_s, 5);
	assert_int_equal(p->cfg.feeds_max_kib, 100);
	assert_int_equal(p->cfg.feeds_failures_notice, 5);
	assert_int_equal(p->cfg.feeds_every_hours, 24);
	assert_int_equal(p->cfg.digest_enabled, 0);
	assert_int_equal(p->cfg.digest_weekday, 5);
	assert_int_equal(p->cfg.digest_hour, 14);
	programme_free(p);
}

static void
test_relative_config_path(void **state)
{
	struct programme *p = NULL;
	struct diags d = { 0 };
	struct err e;
	char *dir = scratch_dir(), *real, old[1024], want[1200];

	(void)state;
	put_text(dir, "things.conf", minimal_conf);
	put_things(dir, 1);
	assert_non_null(getcwd(old, sizeof(old)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(programme_load("things.conf", &p, diags_collect, &d, &e), 0);
	assert_int_equal(chdir(old), 0);
	real = realpath(dir, NULL);
	snprintf(want, sizeof(want), "%s/things.db", real);
	assert_string_equal(p->cfg.store_path, want);
	free(real);
	programme_free(p);
	scratch_remove(dir);
}

/* The minimal config, with line `line` (1-based) replaced by `text`
 * (NULL: removed; a text with a trailing "+" is inserted before it). */
static void
conf_with(char *out, size_t n, int line, const char *text)
{
	const char *p = minimal_conf;
	size_t used = 0;

	out[0] = '\0';
	for (int l = 1; *p; l++) {
		size_t len = strcspn(p, "\n") + 1;
		size_t tl = text ? strlen(text) : 0;

		if (l == line && text && tl > 0 && text[tl - 1] == '+')
			used += (size_t)snprintf(out + used, n - used, "%.*s\n%.*s", (int)tl - 1,
			    text, (int)len, p);
		else if (l == line && text)
			used += (size_t)snprintf(out + used, n - used, "%s\n", text);
		else if (l != line)
			used += (size_t)snprintf(out + used, n - used, "%.*s", (int)len, p);
		p += len;
	}
}

static void
test_errors_have_lines(void **state)
{
	static const struct {
		int line;            /* line of minimal_conf to replace */
		const char *text;    /* the new line(s) */
		int want_line;       /* where the error must be */
		const char *want;    /* in its message */
	} cases[] = {
		{ 2, "nmae = Test", 2, "unknown key 'nmae' in [programme]" },
		{ 6, "[smtpp]", 6, "unknown section [smtpp]" },
		{ 6, "[smtp", 6, "without ']'" },
		{ 3, "just some words+", 3, "expected 'key = value'" },
		{ 1, "name = x+", 1, "comes before any [section]" },
		{ 3, "address = not-an-address", 3, "not an address" },
		{ 3, "address = things+x@example.org", 3, "holds the delimiter '+'" },
		{ 4, "organisers = a@example.org, bad", 4, "not an address" },
		{ 4, "organisers = things@example.org", 4, "mail loop" },
		{ 5, "start = 2027-13-01", 5, "not a date" },
		{ 5, "interval_days = 0+", 5, "interval_days must be a whole number from 1 to 365" },
		{ 5, "interval_days = 366+", 5, "from 1 to 365" },
		{ 5, "interval_days = 7x+", 5, "from 1 to 365" },
		{ 5, "delimiter = x+", 5, "delimiter must be '+' or '-'" },
		{ 5, "list_id = nodot+", 5, "name.domain" },
		{ 5, "unsubscribe_url = http://example.org/u+", 5, "https://" },
		{ 5, "allow_raw_html = maybe+", 5, "yes or no" },
		{ 2, "name = Test\nname = Again", 3, "'name' is set twice in [programme] (first on line 2)" },
		{ 2, "name = Test\n  more name", 3, "only organisers may go on" },
		{ 2, "name =", 2, "'name' is empty" },
		{ 2, "name = caf\xe9", 2, "not valid UTF-8" },
		{ 7, "url = http://localhost", 7, "must start with smtp://, smtp+starttls://, smtps:// or maildir:" },
		{ 7, "url = smtp://", 7, "has no host" },
		{ 7, "url = smtp://host:99999", 7, "port must be 1..65535" },
		{ 7, "url = smtp://host:25 x", 7, "space or control character" },
		{ 7, "url = maildir:", 7, "needs a directory" },
		{ 7, "url = smtp://h\nconnections = 65", 8, "connections must be a whole number from 1 to 64" },
		{ 7, "url = smtp://h\nca_file = missing.pem", 8, "cannot read" },
		{ 7, "url = smtp://h\ncolour = blue", 8, "unknown key 'colour' in [smtp]" },
		{ 9, "url = imapx://things:secret@localhost/INBOX", 9, "'imapx://things:***@localhost/INBOX'" },
		{ 9, "url = imaps://h\n[schedule]\nthingX = 2027-01-01", 11, "'thing3' or '3'" },
		{ 9, "url = imaps://h\n[schedule]\n2 = 2027-13-01", 11, "not a date" },
		{ 9, "url = imaps://h\n[schedule]\n2 = 2027-02-01\nthing2 = 2027-02-02", 12,
		  "Thing 2 is scheduled twice (first on line 11)" },
		{ 9, "url = imaps://h\n[schedule]\nthing5 = 2027-02-01", 11,
		  "[schedule] names Thing 5, but there are 2 Things" },
		{ 9, "url = imaps://h\n[schedule]\nthing2 = 2026-01-01", 0,
		  "Thing 2 would come out (2026-01-01 00:00) before Thing 1" },
		{ 9, "url = imaps://h\n[store]\npath =\n[other]\nx = 1", 12, "unknown section [other]" },
		{ 2, NULL, 1, "[programme] lacks 'name'" },
		{ 7, NULL, 6, "[smtp] lacks 'url'" },
		{ 5, "mode = solo+", 5, "mode must be cohort or self-paced" },
		{ 5, "catch_up_days = 61+", 5, "catch_up_days must be a whole number from 0 to 60" },
		{ 5, "max_lateness_hours = 0+", 5, "from 1 to 8760" },
		{ 5, "send_late = sometimes+", 5, "send_late must be yes or no" },
		{ 7, "url = smtp://h\nmax_per_minute = -1", 8, "max_per_minute must be" },
		{ 9, "url = imaps://h\n[bounces]\nthreshold = 0", 11, "threshold must be" },
		{ 9, "url = imaps://h\n[inbox]\nprocessed_folder = a/b", 11, "letters, digits" },
		{ 9, "url = imaps://h\n[inbox]\nafter = delete", 11, "after must be move or flag" },
		{ 9, "url = imaps://h\n[inbox]\norganiser_secret = short", 11, "at least 16" },
		{ 9, "url = imaps://h\n[feeds]\nper_host = 0", 11, "per_host must be" },
		{ 9, "url = imaps://h\n[feeds]\nevery_hours = 0", 11, "every_hours must be" },
		{ 9, "url = imaps://h\n[digest]\nday = someday", 11, "a day of the week" },
		{ 9, "url = imaps://h\n[digest]\nhour = 24", 11, "hour must be a whole number from 0 to 23" },
	};
	char conf[4096];

	(void)state;
	use_utc();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct programme *p = (struct programme *)1;
		struct diags d;
		struct err e;
		int at;

		conf_with(conf, sizeof(conf), cases[i].line, cases[i].text);
		assert_int_equal(load_conf(conf, &p, &d, &e, NULL), -1);
		assert_null(p);
		at = diags_find(&d, cases[i].want);
		if (at < 0 || d.line[at] != cases[i].want_line) {
			fprintf(stderr, "case %zu: want line %d: %s; got:\n", i, cases[i].want_line,
			    cases[i].want);
			diags_print(&d);
			fail();
		}
		assert_non_null(strstr(d.file[at], "things.conf"));
	}
}

static void
test_password_never_shown(void **state)
{
	static const char *const bad[] = {
		"url = imapx://things:hunter2@localhost/INBOX",
		"url = imap://things:hunter2@/INBOX",
		"url = imap://things:hunter2@host:0/INBOX",
	};
	char conf[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct programme *p;
		struct diags d;
		struct err e;

		conf_with(conf, sizeof(conf), 9, bad[i]);
		assert_int_equal(load_conf(conf, &p, &d, &e, NULL), -1);
		assert_int_equal(d.n, 1);
		assert_null(strstr(d.msg[0], "hunter2"));
		assert_null(strstr(e.msg, "hunter2"));
		assert_non_null(strstr(d.msg[0], "***"));
	}
}

static void
test_missing_section_is_line_zero(void **state)
{
	static const char conf[] =
	    "[programme]\n"
	    "name = Test\n"
	    "address = things@example.org\n"
	    "organisers = boss@example.org\n"
	    "start = 2027-01-11\n"
	    "[smtp]\n"
	    "url = smtp://localhost\n";
	struct programme *p;
	struct diags d;
	struct err e;

	(void)state;
	assert_int_equal(load_conf(conf, &p, &d, &e, NULL), -1);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.line[0], 0);
	assert_string_equal(d.msg[0], "no [imap] section with 'url'");
	assert_non_null(strstr(e.msg, "things.conf: no [imap] section"));
}

/* Every problem is reported, in order; e holds the first as file:line. */
static void
test_every_problem_reported(void **state)
{
	static const char conf[] =
	    "[programme]\n"
	    "name = Test\n"
	    "address = things@example.org\n"
	    "organisers = boss@example.org\n"
	    "start = tomorrow\n"
	    "interval_days = 0\n"
	    "[smtp]\n"
	    "url = gopher://x\n"
	    "[imap]\n"
	    "url = imap://localhost\n"
	    "typo = 1\n";
	struct programme *p;
	struct diags d;
	struct err e;
	char want[1200];

	(void)state;
	assert_int_equal(load_conf(conf, &p, &d, &e, NULL), -1);
	assert_int_equal(d.n, 4);
	assert_int_equal(d.line[0], 5);
	assert_int_equal(d.line[1], 6);
	assert_int_equal(d.line[2], 8);
	assert_int_equal(d.line[3], 11);
	snprintf(want, sizeof(want), "%s:5: %s", d.file[0], d.msg[0]);
	assert_string_equal(e.msg, want);
}

static void
test_long_line_and_missing_file(void **state)
{
	char conf[4096], line[400];
	struct programme *p;
	struct diags d = { 0 };
	struct err e;

	(void)state;
	snprintf(line, sizeof(line), "name = %0250d", 7);
	conf_with(conf, sizeof(conf), 2, line);
	assert_int_equal(load_conf(conf, &p, &d, &e, NULL), -1);
	assert_int_equal(d.n, 2); /* the long line, and so no name */
	assert_int_equal(d.line[0], 2);
	assert_non_null(strstr(d.msg[0], "too long"));

	memset(&d, 0, sizeof(d));
	assert_int_equal(programme_load("/nonexistent/things.conf", &p, diags_collect, &d, &e), -1);
	assert_int_equal(d.n, 1);
	assert_string_equal(e.msg, "/nonexistent/things.conf: cannot open the configuration file: "
	    "No such file or directory");
}

static void
test_maildir_loop_refused(void **state)
{
	static const char conf[] =
	    "[programme]\n"
	    "name = Test\n"
	    "address = things@example.org\n"
	    "organisers = boss@example.org\n"
	    "start = 2027-01-11\n"
	    "[smtp]\n"
	    "url = maildir:box\n"
	    "[imap]\n"
	    "url = maildir:box\n";
	struct programme *p;
	struct diags d;
	struct err e;

	(void)state;
	assert_int_equal(load_conf(conf, &p, &d, &e, NULL), -1);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.line[0], 9);
	assert_non_null(strstr(d.msg[0], "read its own mail"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_config),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_relative_config_path),
		cmocka_unit_test(test_errors_have_lines),
		cmocka_unit_test(test_operational_keys),
		cmocka_unit_test(test_password_never_shown),
		cmocka_unit_test(test_missing_section_is_line_zero),
		cmocka_unit_test(test_every_problem_reported),
		cmocka_unit_test(test_long_line_and_missing_file),
		cmocka_unit_test(test_maildir_loop_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
