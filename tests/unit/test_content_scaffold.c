/* Unit tests for content_scaffold (`things init`): the sample programme
 * loads cleanly and every Thing renders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_content_helpers.h"
#include "../../content/content_int.h"

static struct programme *
load_dir(const char *dir, struct diags *d)
{
	struct programme *p = NULL;
	struct err e;
	char path[1024];

	snprintf(path, sizeof(path), "%s/things.conf", dir);
	memset(d, 0, sizeof(*d));
	if (programme_load(path, &p, diags_collect, d, &e) == -1) {
		diags_print(d);
		fail_msg("%s", e.msg);
	}
	return p;
}

static void
test_fresh_scaffold_loads(void **state)
{
	char *base = scratch_dir(), dir[1024], want[1200], *real;
	struct programme *p;
	struct diags d;
	struct stat st;
	struct err e;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/prog", base);
	assert_int_equal(content_scaffold(dir, "mail", &e), 0);
	p = load_dir(dir, &d);
	assert_int_equal(d.n, 0);
	assert_int_equal(p->nthings, 12);
	real = realpath(dir, NULL);
	snprintf(want, sizeof(want), "maildir:%s/mail/outbox", real);
	assert_string_equal(p->cfg.smtp_url, want);
	snprintf(want, sizeof(want), "maildir:%s/mail/inbox", real);
	assert_string_equal(p->cfg.imap_url, want);
	assert_string_equal(p->cfg.address, "things@example.org");
	assert_int_equal(p->cfg.norganisers, 1);
	assert_string_equal(p->cfg.organisers[0], "organisers@example.org");
	/* Thing 1 comes out on a Monday at 09:00, one to two weeks ahead */
	assert_true(p->cfg.start > time_now() + 6 * 86400);
	assert_true(p->cfg.start < time_now() + 15 * 86400);
	{
		time_t t = (time_t)p->cfg.start;
		struct tm tm;

		localtime_r(&t, &tm);
		assert_int_equal(tm.tm_wday, 1);
		assert_int_equal(tm.tm_hour, 9);
	}
	for (size_t i = 0; i < p->nthings; i++) {
		const struct thing *t = &p->things[i];
		const struct tvar vars[] = {
			{ "programme", p->cfg.name, 0 }, { "thing_number", "1", 0 },
			{ "thing_title", t->title, 0 }, { "thing_body", t->markdown, 1 },
		};
		struct content_message m;

		assert_int_equal(t->number, (int)i + 1);
		assert_true(strlen(t->title) > 3);
		assert_non_null(strstr(t->markdown, "## Why it matters\n"));
		assert_true(strstr(t->markdown, "## Write about it\n\nWrite a post") != NULL ||
		    i == 0);
		assert_non_null(strstr(strstr(t->markdown, "## Write about it"), "reply"));
		content_message_init(&m);
		assert_int_equal(content_prepare(p, "thing", vars, 4, &m, &e), 0);
		assert_non_null(strstr(buf_str(&m.html), "<h2>What to try</h2>"));
		content_message_free(&m);
	}
	assert_string_equal(p->things[0].title, "Start a blog");
	assert_string_equal(p->things[11].title, "Current-awareness alerts for health evidence");
	/* the config may hold passwords */
	snprintf(want, sizeof(want), "%s/things.conf", dir);
	assert_int_equal(stat(want, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(real);
	programme_free(p);
	scratch_remove(base);
}

static void
test_scaffold_without_maildir(void **state)
{
	char *dir = scratch_dir(); /* exists and is empty: accepted */
	struct programme *p;
	struct diags d;
	struct err e;

	(void)state;
	assert_int_equal(content_scaffold(dir, NULL, &e), 0);
	p = load_dir(dir, &d);
	assert_string_equal(p->cfg.smtp_url, "smtp://localhost:25");
	assert_string_equal(p->cfg.imap_url, "imap://things:secret@localhost/INBOX");
	assert_string_equal(p->cfg.list_id, "12-things-for-health-libraries.example.org");
	programme_free(p);
	scratch_remove(dir);
}

static void
test_scaffold_refuses(void **state)
{
	char *dir = scratch_dir(), sub[1024];
	struct err e;

	(void)state;
	put_text(dir, "notes.txt", "mine\n");
	assert_int_equal(content_scaffold(dir, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "is not empty"));
	/* nothing was written */
	snprintf(sub, sizeof(sub), "%s/things.conf", dir);
	assert_int_equal(access(sub, F_OK), -1);

	snprintf(sub, sizeof(sub), "%s/new", dir);
	assert_int_equal(content_scaffold(sub, "bad\nbase", &e), -1);
	assert_non_null(strstr(e.msg, "unusable maildir base"));
	assert_int_equal(access(sub, F_OK), -1);

	snprintf(sub, sizeof(sub), "%s/no/such/parent", dir);
	assert_int_equal(content_scaffold(sub, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "cannot create"));
	scratch_remove(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_scaffold_loads),
		cmocka_unit_test(test_scaffold_without_maildir),
		cmocka_unit_test(test_scaffold_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
