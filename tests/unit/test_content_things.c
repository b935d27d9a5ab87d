/* Unit tests for the discovery of things/NN-slug.md: titles, bodies,
 * numbering, and the files that must be refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_content_helpers.h"

struct fixture {
	char *dir;
	struct programme *p;
	struct diags d;
	struct err e;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	use_utc();
	f->dir = scratch_dir();
	put_text(f->dir, "things.conf", minimal_conf);
	{
		char path[1024];

		snprintf(path, sizeof(path), "%s/things", f->dir);
		mkdir(path, 0755);
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	programme_free(f->p);
	scratch_remove(f->dir);
	free(f);
	return 0;
}

static int
load(struct fixture *f)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/things.conf", f->dir);
	memset(&f->d, 0, sizeof(f->d));
	return programme_load(path, &f->p, diags_collect, &f->d, &f->e);
}

/* The diagnostic holding msg must exist, about a file ending in file_end,
 * at line. */
static void
expect_diag(struct fixture *f, const char *file_end, int line, const char *msg)
{
	int i = diags_find(&f->d, msg);

	if (i < 0) {
		diags_print(&f->d);
		fail_msg("no diagnostic with '%s'", msg);
	}
	assert_true(strlen(f->d.file[i]) >= strlen(file_end));
	assert_string_equal(f->d.file[i] + strlen(f->d.file[i]) - strlen(file_end), file_end);
	assert_int_equal(f->d.line[i], line);
}

static void
test_titles_and_bodies(void **state)
{
	struct fixture *f = *state;

	put_text(f->dir, "things/01-atx.md", "# Start a *blog*  #\n\nFirst body.\n\nMore.\n");
	put_text(f->dir, "things/02-setext.md", "Feeds and `RSS`\nreaders\n=======\n\nSecond body.\n");
	put_text(f->dir, "things/03-late-heading.md",
	    "\xef\xbb\xbfIntro first.\n\n## The real title\nAfter it.\n\n# Not the title\n");
	put_text(f->dir, "things/04-crlf.md", "Title four\r\n---\r\n\r\nBody four.\r\n");
	put_text(f->dir, "things/README.txt", "ignored\n");
	put_text(f->dir, "things/.01-draft.md.swp", "ignored\n");
	if (load(f) != 0) {
		diags_print(&f->d);
		fail_msg("%s", f->e.msg);
	}
	assert_int_equal(f->p->nthings, 4);
	assert_string_equal(f->p->things[0].title, "Start a blog");
	assert_string_equal(f->p->things[0].markdown, "First body.\n\nMore.\n");
	assert_string_equal(f->p->things[0].slug, "atx");
	assert_string_equal(f->p->things[1].title, "Feeds and RSS readers");
	assert_string_equal(f->p->things[1].markdown, "Second body.\n");
	assert_string_equal(f->p->things[2].title, "The real title");
	assert_string_equal(f->p->things[2].markdown, "Intro first.\n\nAfter it.\n\n# Not the title\n");
	assert_string_equal(f->p->things[3].title, "Title four");
	assert_string_equal(f->p->things[3].markdown, "Body four.\r\n");
	assert_non_null(strstr(f->p->things[3].path, "/things/04-crlf.md"));
	for (int i = 0; i < 4; i++) {
		assert_int_equal(f->p->things[i].number, i + 1);
		assert_int_equal(f->p->things[i].release_at, 1799658000 + i * 14 * 86400);
		assert_ptr_equal(programme_thing(f->p, i + 1), &f->p->things[i]);
	}
	assert_null(programme_thing(f->p, 0));
	assert_null(programme_thing(f->p, 5));
	assert_null(programme_thing(NULL, 1));
}

static void
test_three_digit_numbers(void **state)
{
	struct fixture *f = *state;

	put_text(f->dir, "things/001-one.md", "# One\n");
	put_text(f->dir, "things/002-two.md", "# Two\n\nHi {{name}}, literally \\{{x}}.\n");
	assert_int_equal(load(f), 0);
	assert_int_equal(f->p->nthings, 2);
	assert_string_equal(f->p->things[1].slug, "two");
	assert_string_equal(f->p->things[0].markdown, "");
}

static void
test_gap_is_named(void **state)
{
	struct fixture *f = *state;

	put_things(f->dir, 1);
	put_text(f->dir, "things/03-c.md", "# C\n");
	put_text(f->dir, "things/06-f.md", "# F\n");
	assert_int_equal(load(f), -1);
	assert_int_equal(f->d.n, 2);
	expect_diag(f, "/things", 0, "Thing 2 is missing (01-thing-1.md is followed by 03-c.md)");
	expect_diag(f, "/things", 0, "Things 4 to 5 are missing (03-c.md is followed by 06-f.md)");
	assert_non_null(strstr(f->e.msg, "/things: Thing 2 is missing"));
}

static void
test_first_missing(void **state)
{
	struct fixture *f = *state;

	put_text(f->dir, "things/02-b.md", "# B\n");
	assert_int_equal(load(f), -1);
	expect_diag(f, "/things", 0, "Thing 1 is missing (first file: 02-b.md)");
}

static void
test_duplicate_is_named(void **state)
{
	struct fixture *f = *state;

	put_text(f->dir, "things/01-a.md", "# A\n");
	put_text(f->dir, "things/01-b.md", "# B\n");
	put_text(f->dir, "things/02-c.md", "# C\n");
	assert_int_equal(load(f), -1);
	assert_int_equal(f->d.n, 1);
	expect_diag(f, "/things", 0, "01-a.md and 01-b.md are both Thing 1");
}

static void
test_bad_files(void **state)
{
	static const struct {
		const char *name, *content;
		int line;
		const char *msg;
	} cases[] = {
		{ "things/02-empty.md", " \n\n", 0, "is empty" },
		{ "things/03-no-heading.md", "Just text.\n\n- a list\n", 0, "has no heading" },
		{ "things/04-latin1.md", "# Caf\xc3\xa9\n\nok line\nna\xefve\n", 4, "not valid UTF-8" },
		{ "things/05-empty-title.md", "#\n\ntext\n", 1, "the title is empty" },
		{ "things/06-typo.md", "# T\n\nHello {{nmae}}!\n", 3, "unknown variable 'nmae'" },
		{ "things/07-brace.md", "# T\n\n{{ name }}\n", 3, "'{{' starts no placeholder" },
		{ "things/08-body.md", "# T\n\n{{thing_body}}\n", 3, "unknown variable 'thing_body'" },
	};
	struct fixture *f = *state;

	put_things(f->dir, 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		put_text(f->dir, cases[i].name, cases[i].content);
	put_file(f->dir, "things/09-nul.md", "# T\n\na\0b\n", 9);
	assert_int_equal(load(f), -1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_diag(f, cases[i].name + 6, cases[i].line, cases[i].msg);
	expect_diag(f, "09-nul.md", 3, "holds a NUL byte");
	assert_int_equal(f->d.n, 8);
}

static void
test_too_large(void **state)
{
	struct fixture *f = *state;
	size_t n = ((size_t)1 << 20) + 1;
	char *big = malloc(n);

	memset(big, 'a', n);
	memcpy(big, "# Big\n\n", 7);
	put_things(f->dir, 1);
	put_file(f->dir, "things/02-big.md", big, n);
	free(big);
	assert_int_equal(load(f), -1);
	assert_int_equal(f->d.n, 1);
	expect_diag(f, "02-big.md", 0, "larger than 1048576 bytes");
}

static void
test_bad_names(void **state)
{
	struct fixture *f = *state;

	put_things(f->dir, 1);
	put_text(f->dir, "things/2-short.md", "# X\n");
	put_text(f->dir, "things/02_underscore.md", "# X\n");
	put_text(f->dir, "things/02-.md", "# X\n");
	put_text(f->dir, "things/00-zero.md", "# X\n");
	put_text(f->dir, "things/02-sp ace.md", "# X\n");
	assert_int_equal(load(f), -1);
	assert_int_equal(f->d.n, 5);
	expect_diag(f, "/things", 0, "'2-short.md' is not named NN-slug.md");
	expect_diag(f, "/things", 0, "'00-zero.md' is not named NN-slug.md");
}

static void
test_no_things(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f), -1);
	expect_diag(f, "/things", 0, "no Things");
}

static void
test_too_deeply_nested(void **state)
{
	struct fixture *f = *state;
	char text[200] = "# Deep\n\n";

	for (int i = 0; i < 40; i++)
		strcat(text, ">");
	strcat(text, " deep\n");
	put_text(f->dir, "things/01-deep.md", text);
	assert_int_equal(load(f), -1);
	expect_diag(f, "01-deep.md", 0, "nested more than 32 levels deep");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_titles_and_bodies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_three_digit_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_things, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_deeply_nested, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
