/* reader.c - a thread that reads (parses) fetched feeds while the round goes
 * on fetching and storing.  In a round where many feeds have new posts,
 * reading them is most of the work; on its own thread it overlaps with the
 * transfers and the commits instead of stalling them.
 *
 * One thread, first in first out: jobs come back in the order they were
 * put, so the round stores feeds in the order they arrived.  Without the
 * thread (one CPU, or it cannot be started), jobs are read on the caller's
 * thread as they are put.
 *
 * The reader writes the crash crumb around each document it reads (the
 * store's crumb touches no database: see store_crumb_prepare), so that a
 * feed that crashes the parser is set aside after two dead runs, as when
 * it was read inline. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "../store/store.h"
#include "internal.h"

#define CRUMB_DEATHS 2   /* dead runs with a feed in hand before it is set aside */

struct reader {
	struct store *st;
	const struct feeds_thing *things;
	int nthings;
	int threaded;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work;     /* a job was put, or stop */
	pthread_cond_t done;     /* a job was read */
	struct read_job *todo, **todo_tail;
	struct read_job *out, **out_tail;
	size_t pending;          /* put and not yet taken */
	size_t nout;             /* read and not yet taken */
	int stop;
};

static void
read_one(struct reader *rd, struct read_job *job)
{
	struct err e;
	int rc;

	job->set_aside = 0;
	job->failed[0] = '\0';
	if ((rc = store_crumb_enter(rd->st, job->crumb, CRUMB_DEATHS, &e)) != 0) {
		if (rc == -1)
			snprintf(job->failed, sizeof(job->failed), "%s", e.msg);
		else
			job->set_aside = 1;
		memset(&job->read, 0, sizeof(job->read));
		goto out;
	}
	fault_point("feed", job->body.data, job->body.len);
	(void)feeds_read(buf_str(&job->body), job->body.len, job->base_url, rd->things,
	    rd->nthings, &job->read);
	if (store_crumb_leave(rd->st, &e) == -1)
		snprintf(job->failed, sizeof(job->failed), "%s", e.msg);
out:
	buf_free(&job->body);   /* memory stays bounded by the jobs in the queue */
}

static void
push(struct read_job ***tail, struct read_job *job)
{
	job->next = NULL;
	**tail = job;
	*tail = &job->next;
}

static struct read_job *
pop(struct read_job **head, struct read_job ***tail)
{
	struct read_job *job = *head;

	if (job != NULL && (*head = job->next) == NULL)
		*tail = head;
	return job;
}

static void *
reader_main(void *arg)
{
	struct reader *rd = arg;
	struct read_job *job;

	pthread_mutex_lock(&rd->lock);
	for (;;) {
		while (rd->todo == NULL && !rd->stop)
			pthread_cond_wait(&rd->work, &rd->lock);
		if ((job = pop(&rd->todo, &rd->todo_tail)) == NULL)
			break;   /* stopping, and nothing left */
		pthread_mutex_unlock(&rd->lock);
		read_one(rd, job);
		pthread_mutex_lock(&rd->lock);
		push(&rd->out_tail, job);
		rd->nout++;
		pthread_cond_signal(&rd->done);
	}
	pthread_mutex_unlock(&rd->lock);
	return NULL;
}

int
reader_start(struct reader **out, struct store *st, const struct feeds_thing *things,
    int nthings, int thread, struct err *e)
{
	struct reader *rd = calloc(1, sizeof(*rd));

	*out = NULL;
	if (rd == NULL)
		return err_set(e, "out of memory");
	/* Reads what the last run left now, on this thread: from here on the
	 * crumb is the reader's alone and never touches the database. */
	if (store_crumb_prepare(st, e) == -1) {
		free(rd);
		return -1;
	}
	/* libxml2 sets up its globals on first use: here, not from two
	 * threads at once (the CLI has done it already; other callers may not). */
	xmlInitParser();
	rd->st = st;
	rd->things = things;
	rd->nthings = nthings;
	rd->todo_tail = &rd->todo;
	rd->out_tail = &rd->out;
	if (pthread_mutex_init(&rd->lock, NULL) != 0) {
		free(rd);
		return err_set(e, "cannot create a mutex");
	}
	if (thread && pthread_cond_init(&rd->work, NULL) == 0) {
		if (pthread_cond_init(&rd->done, NULL) == 0) {
			/* A death on the round's thread (libcurl, SQLite) must not
			 * count against the feed the reader has in hand. */
			store_crumb_guard(st);
			rd->threaded = pthread_create(&rd->thread, NULL, reader_main, rd) == 0;
			if (!rd->threaded)
				store_crumb_unguard();
			if (!rd->threaded)
				pthread_cond_destroy(&rd->done);
		}
		if (!rd->threaded)
			pthread_cond_destroy(&rd->work);
	}
	if (thread && !rd->threaded)
		log_info("feeds: no reader thread; feeds are read as they arrive");
	*out = rd;
	return 0;
}

void
reader_put(struct reader *rd, struct read_job *job)
{
	if (!rd->threaded) {
		read_one(rd, job);
		push(&rd->out_tail, job);
		rd->pending++;
		rd->nout++;
		return;
	}
	pthread_mutex_lock(&rd->lock);
	push(&rd->todo_tail, job);
	rd->pending++;
	pthread_cond_signal(&rd->work);
	pthread_mutex_unlock(&rd->lock);
}

struct read_job *
reader_take(struct reader *rd, int wait)
{
	struct read_job *job;

	if (!rd->threaded) {
		if ((job = pop(&rd->out, &rd->out_tail)) != NULL) {
			rd->pending--;
			rd->nout--;
		}
		return job;
	}
	pthread_mutex_lock(&rd->lock);
	while (wait && rd->out == NULL && rd->pending > 0)
		pthread_cond_wait(&rd->done, &rd->lock);
	if ((job = pop(&rd->out, &rd->out_tail)) != NULL) {
		rd->pending--;
		rd->nout--;
	}
	pthread_mutex_unlock(&rd->lock);
	return job;
}

void
reader_count(struct reader *rd, size_t *pending, size_t *ready)
{
	if (rd->threaded)
		pthread_mutex_lock(&rd->lock);
	*pending = rd->pending;
	*ready = rd->nout;
	if (rd->threaded)
		pthread_mutex_unlock(&rd->lock);
}

void
reader_stop(struct reader *rd)
{
	if (rd == NULL)
		return;
	if (rd->threaded) {
		pthread_mutex_lock(&rd->lock);
		rd->stop = 1;
		pthread_cond_signal(&rd->work);
		pthread_mutex_unlock(&rd->lock);
		pthread_join(rd->thread, NULL);
		store_crumb_unguard();
		pthread_cond_destroy(&rd->work);
		pthread_cond_destroy(&rd->done);
	}
	pthread_mutex_destroy(&rd->lock);
	free(rd);
}
