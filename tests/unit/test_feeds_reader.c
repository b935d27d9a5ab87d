/* Unit tests for feeds/reader.c: documents read on the reader's thread (and
 * without one) come back in order, read as feeds_parse reads them, bodies
 * freed; a document whose crumb says it crashed Things twice is set aside
 * unread; the crumb is left empty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../feeds/internal.h"
#include "test_feeds_common.h"

static const char *const docs[] = { "rss2.xml", "atom.xml", "broken.xml", "rss1.rdf",
	"not-a-feed.xml", "blogger.xml", "wordpress.xml", "bomb.xml" };
#define NDOCS (sizeof(docs) / sizeof(docs[0]))

struct fixture {
	struct test_store ts;
	int thread;
};

static int
setup(void **state, int thread)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || test_store_open(&f->ts) == -1)
		return -1;
	f->thread = thread;
	*state = f;
	return 0;
}

static int
setup_thread(void **state)
{
	return setup(state, 1);
}

static int
setup_inline(void **state)
{
	return setup(state, 0);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc = test_store_close(&f->ts);

	free(f);
	return rc;
}

static int
count_entry(void *arg, const struct feeds_entry *entry)
{
	(void)entry;
	(*(size_t *)arg)++;
	return 0;
}

/* What feeds_parse says of a fixture: -1 not a feed, else its entries. */
static long
parsed_entries(const char *name)
{
	size_t len, n = 0;
	char *doc = fixture_read(name, NULL, NULL, &len);
	struct err e;
	int rc = feeds_parse(doc, len, "https://example.org/feed", count_entry, &n, NULL, &e);

	free(doc);
	return rc == 0 ? (long)n : -1;
}

static struct read_job *
job_for(size_t i)
{
	struct read_job *job = calloc(1, sizeof(*job));
	size_t len;
	char *doc;

	assert_non_null(job);
	doc = fixture_read(docs[i % NDOCS], NULL, NULL, &len);
	buf_init(&job->body, 0);
	assert_int_equal(buf_append(&job->body, doc, len), 0);
	free(doc);
	job->base_url = "https://example.org/feed";
	snprintf(job->crumb, sizeof(job->crumb), "feed %zu", i);
	return job;
}

static void
check_and_free(struct read_job *job, size_t i, const long *want)
{
	char crumb[64];

	snprintf(crumb, sizeof(crumb), "feed %zu", i);
	assert_string_equal(job->crumb, crumb);       /* in the order put */
	assert_null(job->body.data);                  /* freed once read */
	assert_int_equal(job->set_aside, 0);
	assert_string_equal(job->failed, "");
	if (want[i % NDOCS] < 0) {
		assert_int_equal(job->read.rc, 1);
		assert_string_not_equal(job->read.why, "");
		assert_int_equal(job->read.n, 0);
	} else {
		assert_int_equal(job->read.rc, 0);
		assert_int_equal(job->read.n, (size_t)want[i % NDOCS]);
	}
	feeds_read_free(&job->read);
	free(job);
}

static void
test_jobs_come_back_in_order(void **state)
{
	enum { N = 100 };
	struct fixture *f = *state;
	struct reader *rd;
	struct read_job *job;
	long want[NDOCS];
	size_t next = 0, pending, ready;
	struct err e;

	for (size_t i = 0; i < NDOCS; i++)
		want[i] = parsed_entries(docs[i]);
	assert_true(want[0] > 0 && want[2] == -1);      /* the fixtures are what we think */
	assert_int_equal(reader_start(&rd, f->ts.st, NULL, 0, f->thread, &e), 0);
	for (size_t i = 0; i < N; i++) {
		reader_put(rd, job_for(i));
		/* take some as they come, without waiting */
		while (i % 3 == 0 && (job = reader_take(rd, 0)) != NULL)
			check_and_free(job, next++, want);
	}
	reader_count(rd, &pending, &ready);
	assert_int_equal(pending, N - next);
	assert_true(ready <= pending);
	while ((job = reader_take(rd, 1)) != NULL)
		check_and_free(job, next++, want);
	assert_int_equal(next, N);
	reader_count(rd, &pending, &ready);
	assert_int_equal(pending, 0);
	assert_int_equal(ready, 0);
	reader_stop(rd);
}

static void
test_crumb_sets_aside(void **state)
{
	struct fixture *f = *state;
	char path[160], line[64] = "";
	struct reader *rd;
	struct read_job *job;
	struct err e;
	FILE *fp;

	/* the last two runs died reading feed 1 */
	store_close(f->ts.st);
	snprintf(path, sizeof(path), "%s.crumb", f->ts.path);
	assert_non_null(fp = fopen(path, "w"));
	fputs("2 feed 1\n", fp);
	fclose(fp);
	assert_int_equal(store_open(f->ts.path, &f->ts.st, &e), 0);

	assert_int_equal(reader_start(&rd, f->ts.st, NULL, 0, f->thread, &e), 0);
	reader_put(rd, job_for(0));
	reader_put(rd, job_for(1));
	assert_non_null(job = reader_take(rd, 1));
	assert_string_equal(job->crumb, "feed 0");
	assert_int_equal(job->set_aside, 0);
	assert_int_equal(job->read.rc, 0);
	feeds_read_free(&job->read);
	free(job);
	assert_non_null(job = reader_take(rd, 1));
	assert_string_equal(job->crumb, "feed 1");
	assert_int_equal(job->set_aside, 1);
	assert_int_equal(job->read.n, 0);
	assert_null(job->body.data);
	feeds_read_free(&job->read);
	free(job);
	assert_null(reader_take(rd, 1));
	reader_stop(rd);

	/* nothing is in hand after the reader */
	assert_non_null(fp = fopen(path, "r"));
	assert_non_null(fgets(line, sizeof(line), fp));
	fclose(fp);
	assert_string_equal(line, "\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_jobs_come_back_in_order, setup_thread, teardown),
		cmocka_unit_test_setup_teardown(test_jobs_come_back_in_order, setup_inline, teardown),
		cmocka_unit_test_setup_teardown(test_crumb_sets_aside, setup_thread, teardown),
		cmocka_unit_test_setup_teardown(test_crumb_sets_aside, setup_inline, teardown),
	};

	feeds_test_init();
	return feeds_test_done(cmocka_run_group_tests(tests, NULL, feeds_test_cleanup));
}
