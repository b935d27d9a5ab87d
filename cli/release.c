/* release.c - `things release N | --all [--skip]`: an organiser lets held
 * Things go, or skips them (never sent; the later Things follow). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../mailer/mailer.h"
#include "cli.h"

static int
usage(void)
{
	fprintf(stderr, "usage: things -c FILE release N|--all [--skip] [--now TIMESTAMP]\n");
	return EXIT_USAGE;
}

/* What waits behind the held deliveries released (Thing `thing`, or all
 * for 0), as the schedule saw it before the release: they follow. */
static void
print_pace(const struct programme *p)
{
	if (p->cfg.catch_up_days > 1)
		printf("one every %d days", p->cfg.catch_up_days);
	else
		printf(p->cfg.catch_up_days == 1 ? "one a day" : "all at once");
}

static void
print_followers(const struct programme *p, const struct mailer_pending *pend, int thing,
    int64_t released)
{
	int64_t behind = 0;

	for (size_t i = 0; i < p->nthings; i++)
		if (thing == 0 || p->things[i].number == thing)
			behind += pend[i].held_back;
	printf("; the next run sends %s", released == 1 ? "it" : "them");
	if (behind > 0) {
		printf(", then the %lld %s of later Things that waited behind %s, in order, ",
		    (long long)behind, behind == 1 ? "delivery" : "deliveries",
		    released == 1 ? "it" : "them");
		print_pace(p);
	}
	printf("\n");
}

/* After a skip: what now follows, from the next run. */
static void
print_after_skip(const struct programme *p, const struct mailer_pending *pend, int thing,
    int64_t skipped)
{
	int64_t behind = 0, holding = 0;

	for (size_t i = 0; i < p->nthings; i++) {
		if (thing == 0 || p->things[i].number == thing) {
			behind += pend[i].held_back;
			holding += pend[i].holding;
		}
	}
	printf(": never sent (failed: " STORE_SKIPPED ")");
	if (behind == 0) {
		printf("; nothing waited behind %s\n", skipped == 1 ? "it" : "them");
		return;
	}
	printf("; the %lld %s later Things (%lld %s) follow from the next run, in order, ",
	    (long long)holding, holding == 1 ? "participant's" : "participants'", (long long)behind,
	    behind == 1 ? "delivery" : "deliveries");
	print_pace(p);
	printf("\n");
}

/* Thing `thing` has nothing held: say what it waits behind, if anything. */
static void
print_blockers(const struct programme *p, const struct mailer_pending *pend, int thing)
{
	const struct mailer_pending *w = NULL;
	int first = 1;

	for (size_t i = 0; i < p->nthings; i++)
		if (p->things[i].number == thing)
			w = &pend[i];
	if (w == NULL || w->blocked == 0) {
		printf("\n");
		return;
	}
	printf("; for %lld %s it waits behind an earlier Thing that is held: release",
	    (long long)w->blocked, w->blocked == 1 ? "participant" : "participants");
	for (size_t i = 0; i < p->nthings && p->things[i].number < thing; i++) {
		if (pend[i].held_back == 0)
			continue;
		printf("%s Thing %d", first ? "" : " or", p->things[i].number);
		first = 0;
	}
	printf(" (Thing %d follows it)\n", thing);
}

int
cmd_release(struct cli *c)
{
	struct programme *p = NULL;
	struct store *st = NULL;
	struct mailer *m = NULL;
	struct mailer_pending *pend = NULL;
	int64_t now = time_now(), thing = 0, n = 0;
	int all = 0, skip = 0, rc, status = EXIT_FAIL;
	char key[24];
	struct err e;

	for (int i = 0; i < c->argc; i++) {
		if ((rc = cli_now_option(c, &i, &now)) == 1)
			continue;
		if (rc == -1)
			return EXIT_USAGE;
		if (strcmp(c->argv[i], "--all") == 0 && !all && thing == 0)
			all = 1;
		else if (strcmp(c->argv[i], "--skip") == 0 && !skip)
			skip = 1;
		else if (!all && thing == 0 && str_to_int64(c->argv[i], 1, 9999, &thing) == 0)
			continue;
		else
			return usage();
	}
	if (!all && thing == 0)
		return usage();
	if (cli_open(c, &p, &st) == -1)
		return EXIT_FAIL;
	if (!all && programme_thing(p, (int)thing) == NULL) {
		fprintf(stderr, "things: there is no Thing %lld (the programme has %zu)\n",
		    (long long)thing, p->nthings);
		goto out;
	}
	/* before the release: what waits behind the held ones */
	if ((pend = calloc(p->nthings + 1, sizeof(*pend))) == NULL) {
		fprintf(stderr, "things: out of memory\n");
		goto out;
	}
	if (mailer_new(p, st, &m, &e) == -1 || mailer_schedule_pending(m, pend, &e) == -1) {
		fprintf(stderr, "things: %s\n", e.msg);
		goto out;
	}
	snprintf(key, sizeof(key), "%lld", (long long)thing);
	if ((skip ? store_delivery_skip_held : store_delivery_release_held)(st,
	    all ? NULL : DK_THING, all ? NULL : key, now, &n, &e) == -1) {
		fprintf(stderr, "things: %s\n", e.msg);
		goto out;
	}
	if (!all)
		printf("Thing %lld: ", (long long)thing);
	printf("%s %lld held %s", skip ? "skipped" : "released", (long long)n,
	    n == 1 ? "delivery" : "deliveries");
	if (n > 0 && skip)
		print_after_skip(p, pend, all ? 0 : (int)thing, n);
	else if (n > 0)
		print_followers(p, pend, all ? 0 : (int)thing, n);
	else if (!all)
		print_blockers(p, pend, (int)thing);
	else
		printf("\n");
	status = EXIT_OK;
out:
	free(pend);
	mailer_free(m);
	store_close(st);
	programme_free(p);
	return status;
}
