/* Unit tests for store/crumb.c: crash breadcrumbs.  A "run that dies" is a
 * store closed without store_crumb_leave, as a crashed process leaves it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "../../store/store.h"

struct fixture {
	char dir[64];
	char path[128];
	struct store *st;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/things-crumb-XXXXXX");
	if (f == NULL || mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/things.db", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];

	store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* A new run: the previous one (if any) ends without leaving its crumb. */
static struct store *
run(struct fixture *f)
{
	struct err e;

	store_close(f->st);
	f->st = NULL;
	assert_int_equal(store_open(f->path, &f->st, &e), 0);
	return f->st;
}

static int
enter(struct fixture *f, const char *key)
{
	struct err e;

	return store_crumb_enter(f->st, key, 2, &e);
}

static void
test_two_deaths_then_set_aside(void **state)
{
	struct fixture *f = *state;

	run(f);
	assert_int_equal(enter(f, "inbox m 7:1"), 0);   /* dies */
	run(f);
	assert_int_equal(enter(f, "inbox m 7:1"), 0);   /* dies again */
	run(f);
	assert_int_equal(enter(f, "inbox m 7:1"), 1);   /* set aside */
	run(f);
	/* setting aside left nothing in hand: counting starts again */
	assert_int_equal(enter(f, "inbox m 7:1"), 0);
}

static void
test_leave_counts_no_death(void **state)
{
	struct fixture *f = *state;
	struct err e;

	run(f);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(enter(f, "inbox m 7:2"), 0);
		assert_int_equal(store_crumb_leave(f->st, &e), 0);
		run(f);
	}
	assert_int_equal(enter(f, "inbox m 7:2"), 0);   /* dies: the first death */
	run(f);
	assert_int_equal(enter(f, "inbox m 7:2"), 0);
}

static void
test_another_key_resets(void **state)
{
	struct fixture *f = *state;

	run(f);
	assert_int_equal(enter(f, "K"), 0);   /* dies with K */
	run(f);
	assert_int_equal(enter(f, "J"), 0);   /* dies with J */
	run(f);
	assert_int_equal(enter(f, "K"), 0);   /* K's count started again: dies */
	run(f);
	assert_int_equal(enter(f, "K"), 0);   /* dies: the second in a row */
	run(f);
	assert_int_equal(enter(f, "K"), 1);
}

static void
test_same_key_twice_in_a_run_is_one_death(void **state)
{
	struct fixture *f = *state;
	struct err e;

	run(f);
	assert_int_equal(enter(f, "K"), 0);   /* parse */
	assert_int_equal(store_crumb_leave(f->st, &e), 0);
	assert_int_equal(enter(f, "K"), 0);   /* act: dies */
	run(f);
	assert_int_equal(enter(f, "K"), 0);
	assert_int_equal(enter(f, "K"), 0);   /* dies: the second death */
	run(f);
	assert_int_equal(enter(f, "K"), 1);
}

static void
test_torn_or_foreign_file_is_no_crumb(void **state)
{
	static const char *const junk[] = { "2 ", "x K\n", "0 K\n", "-3 K\n", "99999 K\n", "2" };
	struct fixture *f = *state;
	char crumb[160];

	snprintf(crumb, sizeof(crumb), "%s.crumb", f->path);
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		FILE *fp;

		run(f);
		store_close(f->st);
		f->st = NULL;
		assert_non_null(fp = fopen(crumb, "w"));
		fputs(junk[i], fp);
		fclose(fp);
		run(f);
		assert_int_equal(enter(f, "K"), 0);
		run(f);
		assert_int_equal(enter(f, "K"), 0);  /* one death counted, not more */
		run(f);
		assert_int_equal(enter(f, "K"), 1);
	}
	/* and a well-formed one written by hand is read */
	store_close(f->st);
	f->st = NULL;
	{
		FILE *fp = fopen(crumb, "w");

		assert_non_null(fp);
		fputs("2 inbox x 1:9\nleftover of a longer crumb\n", fp);
		fclose(fp);
	}
	run(f);
	assert_int_equal(enter(f, "inbox x 1:9"), 1);
}

/* The file is never truncated: a short crumb written over a longer one
 * must still be read as itself, and prepare reads what the last run left
 * before any enter. */
static void
test_short_crumb_over_long_one(void **state)
{
	struct fixture *f = *state;
	struct err e;

	run(f);
	assert_int_equal(enter(f, "feed 1234567890 with a long key"), 0);
	assert_int_equal(store_crumb_leave(f->st, &e), 0);
	assert_int_equal(enter(f, "feed 7"), 0);         /* dies */
	run(f);
	assert_int_equal(store_crumb_prepare(f->st, &e), 0);
	assert_int_equal(enter(f, "feed 7"), 0);         /* dies: the second death */
	run(f);
	assert_int_equal(store_crumb_prepare(f->st, &e), 0);
	assert_int_equal(enter(f, "feed 1234567890 with a long key"), 0);
	assert_int_equal(enter(f, "feed 7"), 1);
}

/* --- the guard: a crumb held by one thread while another dies --------- */

struct holder {
	struct store *st;
	const char *key;   /* NULL: enters nothing */
	int dies;
	int busy;          /* keeps entering other keys after the first */
	int fd[2];
};

static void *
hold(void *arg)
{
	struct holder *h = arg;
	struct err e;
	char c = 'x';

	if (h->key != NULL && store_crumb_enter(h->st, h->key, 2, &e) != 0)
		_exit(2);
	if (h->dies)
		abort();
	if (write(h->fd[1], &c, 1) != 1)
		_exit(2);
	/* a reader that goes on to its next feeds while the process dies */
	for (unsigned i = 0; h->busy; i++) {
		char key[32];

		snprintf(key, sizeof(key), "feed %u", 100 + i % 50);
		(void)store_crumb_enter(h->st, key, 2, &e);
		(void)store_crumb_leave(h->st, &e);
	}
	for (;;)
		pause();
	return NULL;
}

/* In a child process: the store's crumb guarded, a thread that enters
 * thread_key and then (if thread_dies) aborts, else waits while the main
 * thread enters main_key (if any) and aborts.  The parent sees the child
 * die of SIGABRT and reads the crumb's first line into line. */
static void
die_while_held(struct fixture *f, const char *thread_key, int thread_dies,
    const char *main_key, int busy, char *line, size_t n)
{
	char path[160];
	int status;
	FILE *fp;
	pid_t pid;

	store_close(f->st);
	f->st = NULL;
	if ((pid = fork()) == 0) {
		struct holder h = { .key = thread_key, .dies = thread_dies, .busy = busy };
		struct err e;
		pthread_t t;
		char c;

		if (store_open(f->path, &h.st, &e) != 0 || store_crumb_prepare(h.st, &e) != 0 ||
		    pipe(h.fd) != 0)
			_exit(2);
		store_crumb_guard(h.st);
		if (pthread_create(&t, NULL, hold, &h) != 0)
			_exit(2);
		if (!thread_dies) {
			if (read(h.fd[0], &c, 1) != 1)
				_exit(2);
			if (main_key != NULL && store_crumb_enter(h.st, main_key, 2, &e) != 0)
				_exit(2);
			abort();
		}
		pthread_join(t, NULL);
		_exit(3);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	snprintf(path, sizeof(path), "%s.crumb", f->path);
	assert_non_null(fp = fopen(path, "r"));
	line[0] = '\0';
	assert_non_null(fgets(line, (int)n, fp));
	fclose(fp);
}

static void
test_guard_death_elsewhere_clears(void **state)
{
	struct fixture *f = *state;
	char line[64];

	run(f);
	die_while_held(f, "feed 7", 0, NULL, 0, line, sizeof(line));
	assert_string_equal(line, "\n");          /* not counted against feed 7 */
	/* nor against the feeds the reader goes on to while the process dies */
	for (int i = 0; i < 20; i++) {
		die_while_held(f, "feed 7", 0, NULL, 1, line, sizeof(line));
		assert_string_equal(line, "\n");
	}
}

static void
test_guard_holder_death_counts(void **state)
{
	struct fixture *f = *state;
	char line[64];

	run(f);
	die_while_held(f, "feed 7", 1, NULL, 0, line, sizeof(line));
	assert_string_equal(line, "1 feed 7\n");
}

static void
test_guard_main_thread_own_crumb_counts(void **state)
{
	struct fixture *f = *state;
	char line[64];

	/* the other thread holds nothing; the main thread enters a page and dies */
	run(f);
	die_while_held(f, NULL, 0, "page 3", 0, line, sizeof(line));
	assert_string_equal(line, "1 page 3\n");
}

static void
test_bad_keys_refused(void **state)
{
	struct fixture *f = *state;
	char longkey[STORE_CRUMB_MAX + 1];

	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	run(f);
	assert_int_equal(enter(f, ""), -1);
	assert_int_equal(enter(f, "a\nb"), -1);
	assert_int_equal(enter(f, "a\rb"), -1);
	assert_int_equal(enter(f, longkey), -1);
	longkey[STORE_CRUMB_MAX - 1] = '\0';
	assert_int_equal(enter(f, longkey), 0);
	run(f);
	assert_int_equal(enter(f, longkey), 0);
	run(f);
	assert_int_equal(enter(f, longkey), 1);
}

static void
test_memory_store_keeps_crumb_in_memory(void **state)
{
	struct store *st;
	struct err e;

	(void)state;
	assert_int_equal(store_open(":memory:", &st, &e), 0);
	assert_int_equal(store_crumb_enter(st, "K", 1, &e), 0);
	assert_int_equal(store_crumb_leave(st, &e), 0);
	assert_int_equal(access(":memory:.crumb", F_OK), -1);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_deaths_then_set_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leave_counts_no_death, setup, teardown),
		cmocka_unit_test_setup_teardown(test_another_key_resets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_key_twice_in_a_run_is_one_death, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_torn_or_foreign_file_is_no_crumb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_crumb_over_long_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guard_death_elsewhere_clears, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guard_holder_death_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guard_main_thread_own_crumb_counts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_keys_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_store_keeps_crumb_in_memory, setup,
		    teardown),
	};
	return cmocka_run_group_tests_name("store_crumb", tests, NULL, NULL);
}
