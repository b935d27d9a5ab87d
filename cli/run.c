/* run.c - `things run`, the cron tick: read mail, act on it, fetch the
 * blog feeds when due, queue what is due (Things, the weekly digest, notices
 * of broken feeds) and send it. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../feeds/feeds.h"
#include "../inbox/inbox.h"
#include "../mailer/mailer.h"
#include "cli.h"

static int
parse_run_args(struct cli *c, int64_t *now)
{
	for (int i = 0; i < c->argc; i++) {
		int rc = cli_now_option(c, &i, now);

		if (rc == -1)
			return -1;
		if (rc == 0) {
			fprintf(stderr, "usage: things -c FILE run [--now TIMESTAMP]\n");
			return -1;
		}
	}
	return 0;
}

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What the inbox did (-v), with its ticket reminders and its time. */
static void
print_inbox(const struct inbox_stats *in, size_t reminded, double secs)
{
	printf("inbox: %zu fetched, %zu processed, %zu duplicate, %zu failed, %zu oversize",
	    in->fetched, in->processed, in->duplicates, in->failed, in->oversize);
	for (int k = 0; k < II_COUNT; k++)
		if (in->intents[k])
			printf("; %s %zu", inbox_intent_name(k), in->intents[k]);
	if (reminded)
		printf("; %zu ticket reminder%s", reminded, reminded == 1 ? "" : "s");
	printf(" (%.2f s)\n", secs);
}

static void
print_summary(const struct feeds_stats *fs, int fetched, const struct mailer_stats *out,
    double secs)
{
	if (fetched)
		cli_feeds_summary(fs);
	else
		printf("feeds: not due\n");
	printf("outbox: %zu queued, %zu sent, %zu deferred, %zu failed, %zu held",
	    out->enqueued, out->sent, out->deferred, out->failed, out->held);
	if (out->recovered)
		printf(", %zu recovered from an interrupted run", out->recovered);
	if (out->bounces || out->suspended)
		printf(", %zu bounce%s counted, %zu suspended", out->bounces,
		    out->bounces == 1 ? "" : "s", out->suspended);
	printf(" (%.2f s)\ndigest: %zu queued; feed notices: %zu queued\n", secs, out->digests,
	    out->feed_notices);
}

/* Fetches the feeds when due (every feeds_every_hours, and before a
 * digest).  *fetched says whether it did.  -1 on a store or libcurl
 * error: the caller reports it and goes on with the mail. */
static int
feeds_stage(const struct programme *p, struct store *st, struct mailer *m, int64_t now,
    struct feeds_stats *fs, int *fetched, struct err *e)
{
	int due = cli_feeds_due(p, st, m, now, e);

	*fetched = 0;
	if (due != 1)
		return due;
	*fetched = 1;
	return cli_feeds_poll(p, st, now, fs, e);
}

int
cmd_run(struct cli *c)
{
	struct inbox_stats in = { 0 };
	struct feeds_stats fs = { 0 };
	struct mailer_stats out = { 0 };
	struct programme *p = NULL;
	struct store *st = NULL;
	struct mailer *m = NULL;
	int64_t now = time_now();
	int lockfd = -1, rc, fetched = 0, status = EXIT_FAIL;
	size_t reminded = 0;
	double t0, t1;
	struct err e;

	if (parse_run_args(c, &now) == -1)
		return EXIT_USAGE;
	if ((p = cli_load(c)) == NULL)
		return EXIT_FAIL;
	rc = store_run_lock(p->cfg.store_path, &lockfd, &e);
	if (rc != 0) {
		/* Overlapping cron runs are normal when a send is long: not an error. */
		if (rc == 1)
			log_info("another run holds the lock on %s; nothing to do", p->cfg.store_path);
		else
			fprintf(stderr, "things: %s\n", e.msg);
		programme_free(p);
		return rc == 1 ? EXIT_OK : EXIT_FAIL;
	}
	if (store_open(p->cfg.store_path, &st, &e) == -1) {
		fprintf(stderr, "things: %s\n", e.msg);
		goto out;
	}
	status = EXIT_OK;
	t0 = seconds();
	/* A broken inbox must not stop the Things going out: report, go on. */
	if (inbox_poll(p, st, now, &in, &e) == -1) {
		fprintf(stderr, "things: %s\n", e.msg); /* it says "inbox: ..." */
		status = EXIT_FAIL;
	}
	if (inbox_remind(p, st, now, &reminded, &e) == -1) {
		fprintf(stderr, "things: %s\n", e.msg);
		status = EXIT_FAIL;
	}
	t1 = seconds();
	if (c->verbose)
		print_inbox(&in, reminded, t1 - t0);
	if (mailer_new(p, st, &m, &e) == -1) {
		fprintf(stderr, "things: outbox: %s\n", e.msg);
		status = EXIT_FAIL;
		goto out;
	}
	/* Nor broken feeds: the digest then shows what was fetched before. */
	if (feeds_stage(p, st, m, now, &fs, &fetched, &e) == -1) {
		fprintf(stderr, "things: %s\n", e.msg);
		status = EXIT_FAIL;
	}
	if (mailer_schedule(m, now, &out, &e) == -1 ||
	    mailer_schedule_digest(m, now, &out, &e) == -1 ||
	    mailer_schedule_feed_notices(m, now, &out, &e) == -1) {
		fprintf(stderr, "things: outbox: %s\n", e.msg);
		status = EXIT_FAIL;
	}
	if (mailer_send_and_follow(m, now, &out, &e) == -1) {
		fprintf(stderr, "things: outbox: %s\n", e.msg);
		status = EXIT_FAIL;
	}
	if (c->verbose)
		print_summary(&fs, fetched, &out, seconds() - t1);
out:
	mailer_free(m);
	store_close(st);
	store_run_unlock(lockfd);
	programme_free(p);
	return status;
}
