/* feeds.c - the feeds stage of `things run`, and `things feeds`: fetching
 * the participants' blog feeds, and what the organisers see of them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../feeds/feeds.h"
#include "../mailer/mailer.h"
#include "cli.h"

int
cli_feeds_due(const struct programme *p, struct store *st, struct mailer *m, int64_t now,
    struct err *e)
{
	struct feed_round last;
	int64_t moment;
	int rc, digest;

	if ((rc = store_feed_round_last(st, &last, e)) == -1)
		return -1;
	if (rc == 1 || now < last.started_at ||
	    now - last.started_at >= (int64_t)p->cfg.feeds_every_hours * 3600)
		return 1;
	/* A digest about to be made gets the posts of the last minutes. */
	if ((digest = mailer_digest_due(m, now, &moment, e)) == -1)
		return -1;
	return digest == 1 && last.started_at < moment;
}

int
cli_feeds_poll(const struct programme *p, struct store *st, int64_t now,
    struct feeds_stats *fs, struct err *e)
{
	struct feeds_thing *things = NULL;
	struct feeds_options o;
	struct feed_round r;
	char ua[FEEDS_USER_AGENT_MAX];
	int rc;

	feeds_options_from_config(&p->cfg, &o, ua);
	if (p->nthings > 0 && (things = calloc(p->nthings, sizeof(*things))) == NULL)
		return err_set(e, "out of memory");
	for (size_t i = 0; i < p->nthings; i++)
		things[i].title = p->things[i].title;
	rc = feeds_poll(st, &o, things, (int)p->nthings, now, fs, e);
	free(things);
	if (rc == -1)
		return -1;
	memset(&r, 0, sizeof(r));
	r.started_at = now;
	r.finished_at = now > time_now() ? now : time_now();
	r.feeds = fs->feeds;
	r.not_modified = fs->not_modified;
	r.failed = fs->failed;
	r.new_posts = fs->new_posts;
	return store_feed_round_add(st, &r, e);
}

void
cli_feeds_summary(const struct feeds_stats *fs)
{
	printf("feeds: %d polled, %d not modified, %d failed, %d gone, %d moved,"
	    " %d new posts (%d for the digest)\n", fs->feeds, fs->not_modified, fs->failed,
	    fs->retired, fs->moved, fs->new_posts, fs->digest_posts);
}

struct listing {
	struct store *st;
	int all;      /* every feed, not only the broken ones */
	int shown;
	struct err *e;
};

static int
print_feed(void *arg, const struct feed *f)
{
	struct listing *l = arg;
	struct participant p;
	char when[32] = "never";
	int rc;

	if (!l->all && f->status == FS_REPLACED)
		return 0;
	if (!l->all && f->status == FS_ACTIVE && f->failures == 0)
		return 0;
	if ((rc = store_participant_by_id(l->st, f->participant_id, &p, l->e)) == -1)
		return -1;
	if (rc == 1 || (!l->all && p.status != PS_ACTIVE))
		return 0;
	if (l->shown++ == 0)
		printf("%-32s %-8s %-11s %4s %-16s %-6s  %s\n", "Participant", "Status", "Problem",
		    "Fail", "Last good fetch", "Told", "Feed, last error");
	if (f->last_ok_at > 0)
		time_format_local(f->last_ok_at, when, sizeof(when));
	printf("%-32s %-8s %-11s %4d %-16s %-6s  %s%s%s\n", p.address, feed_status_name(f->status),
	    feeds_problem_name(feeds_problem_of(f->status == FS_GONE, f->last_error)),
	    f->failures, when, f->told_at ? "yes" : "no", f->url, f->last_error[0] ? ": " : "",
	    f->last_error);
	return 0;
}

int
cli_feeds_report(struct store *st, int all, struct err *e)
{
	struct listing l = { .st = st, .all = all, .e = e };
	struct feed_round r;
	char when[32];
	int rc;

	if ((rc = store_feed_round_last(st, &r, e)) == -1)
		return -1;
	if (rc == 1) {
		printf("Feeds: not fetched yet.\n");
	} else {
		time_format_local(r.started_at, when, sizeof(when));
		printf("Feeds: last fetched %s: %d feeds, %d not modified, %d failed, %d new posts.\n",
		    when, r.feeds, r.not_modified, r.failed, r.new_posts);
	}
	if (store_feed_each(st, print_feed, &l, e) == -1)
		return -1;
	if (l.shown == 0 && !all)
		printf("No broken feeds.\n");
	return 0;
}

int
cmd_feeds(struct cli *c)
{
	struct feeds_stats fs;
	struct programme *p = NULL;
	struct store *st = NULL;
	int64_t now = time_now();
	int fetch = 0, lockfd = -1, rc, status = EXIT_FAIL;
	struct err e;

	for (int i = 0; i < c->argc; i++) {
		int now_rc = cli_now_option(c, &i, &now);

		if (now_rc == -1)
			return EXIT_USAGE;
		if (now_rc == 1)
			continue;
		if (strcmp(c->argv[i], "--fetch") == 0) {
			fetch = 1;
		} else {
			fprintf(stderr, "usage: things -c FILE feeds [--fetch] [--now TIMESTAMP]\n");
			return EXIT_USAGE;
		}
	}
	if (cli_open(c, &p, &st) == -1)
		return EXIT_FAIL;
	if (fetch) {
		/* Fetching writes what `things run` writes: not both at once. */
		if ((rc = store_run_lock(p->cfg.store_path, &lockfd, &e)) != 0) {
			if (rc == 1)
				err_set(&e, "a run is under way; try again in a moment");
			goto out;
		}
		if (cli_feeds_poll(p, st, now, &fs, &e) == -1)
			goto out;
		cli_feeds_summary(&fs);
	}
	if (cli_feeds_report(st, 1, &e) == -1)
		goto out;
	status = EXIT_OK;
out:
	if (status != EXIT_OK)
		fprintf(stderr, "things: %s\n", e.msg);
	store_run_unlock(lockfd);
	store_close(st);
	programme_free(p);
	return status;
}
