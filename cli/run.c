/* run.c - `things run`, the cron tick: read mail, act on it, send what is due. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../inbox/inbox.h"
#include "../mailer/mailer.h"
#include "cli.h"

static int
parse_run_args(struct cli *c, int64_t *now)
{
	struct err e;

	for (int i = 0; i < c->argc; i++) {
		if (strcmp(c->argv[i], "--now") == 0 && i + 1 < c->argc) {
			if (time_parse_iso(c->argv[++i], now, &e) == -1) {
				fprintf(stderr, "things: --now: %s\n", e.msg);
				return -1;
			}
			time_set_now(*now);
		} else {
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

/* What the run did, and how long each half took (-v). */
static void
print_summary(const struct inbox_stats *in, size_t reminded, const struct mailer_stats *out,
    double in_s, double out_s)
{
	printf("inbox: %zu fetched, %zu processed, %zu duplicate, %zu failed, %zu oversize",
	    in->fetched, in->processed, in->duplicates, in->failed, in->oversize);
	for (int k = 0; k < II_COUNT; k++)
		if (in->intents[k])
			printf("; %s %zu", inbox_intent_name(k), in->intents[k]);
	if (reminded)
		printf("; %zu ticket reminder%s", reminded, reminded == 1 ? "" : "s");
	printf(" (%.2f s)\noutbox: %zu queued, %zu sent, %zu deferred, %zu failed, %zu held",
	    in_s, out->enqueued, out->sent, out->deferred, out->failed, out->held);
	if (out->recovered)
		printf(", %zu recovered from an interrupted run", out->recovered);
	printf(" (%.2f s)\n", out_s);
}

int
cmd_run(struct cli *c)
{
	struct inbox_stats in = { 0 };
	struct mailer_stats out = { 0 };
	struct programme *p = NULL;
	struct store *st = NULL;
	struct mailer *m = NULL;
	int64_t now = time_now();
	size_t reminded = 0;
	double t0, t1, t2;
	int lockfd = -1, rc, status = EXIT_FAIL;
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
		fprintf(stderr, "things: inbox: %s\n", e.msg);
		status = EXIT_FAIL;
	}
	if (inbox_remind(p, st, now, &reminded, &e) == -1) {
		fprintf(stderr, "things: %s\n", e.msg);
		status = EXIT_FAIL;
	}
	t1 = seconds();
	if (mailer_new(p, st, &m, &e) == -1 || mailer_schedule(m, now, &out, &e) == -1 ||
	    mailer_send_due(m, now, &out, &e) == -1) {
		fprintf(stderr, "things: outbox: %s\n", e.msg);
		status = EXIT_FAIL;
	}
	t2 = seconds();
	if (c->verbose)
		print_summary(&in, reminded, &out, t1 - t0, t2 - t1);
out:
	mailer_free(m);
	store_close(st);
	store_run_unlock(lockfd);
	programme_free(p);
	return status;
}
