/* status.c - `things status`: per Thing, what the schedule has still to
 * queue, what is queued, sent, failed and held; the next release; what
 * waits for an organiser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../mailer/mailer.h"
#include "cli.h"

int
cli_now_option(struct cli *c, int *i, int64_t *now)
{
	struct err e;

	if (strcmp(c->argv[*i], "--now") != 0)
		return 0;
	if (*i + 1 >= c->argc) {
		fprintf(stderr, "things: --now needs a time (2027-01-11T09:00)\n");
		return -1;
	}
	if (time_parse_iso(c->argv[++*i], now, &e) == -1) {
		fprintf(stderr, "things: --now: %s\n", e.msg);
		return -1;
	}
	time_set_now(*now);
	return 1;
}

static void
print_header(const struct programme *p, int64_t now)
{
	const struct programme_config *c = &p->cfg;
	char when[32];

	time_format_local(now, when, sizeof(when));
	printf("%s: status at %s\n", c->name, when);
	if (c->self_paced)
		printf("mode: self-paced: Thing N goes to each participant (N - 1) * %d days after "
		    "they confirm ([schedule] dates do not apply)\n", c->interval_days);
	else
		printf("mode: cohort: Thing N goes out on its release date\n");
	printf("%s", c->self_paced ? "returning participants: the Things that fell due while "
	    "they were away, " : "late joiners: the Things already out, ");
	if (c->catch_up_days > 0)
		printf("one every %d days\n", c->catch_up_days);
	else
		printf("all at once\n");
	if (c->send_late)
		printf("late Things: sent however late (send_late = yes)\n");
	else
		printf("late Things: held when due over %d hours before a run\n",
		    c->max_lateness_hours);
}

void
cli_release_text(const struct programme *p, size_t i, char *out, size_t n)
{
	if (p->cfg.self_paced)
		snprintf(out, n, "+%lld days", (long long)i * p->cfg.interval_days);
	else
		time_format_local(p->things[i].release_at, out, n);
}

static void
print_table(const struct programme *p, const struct thing_outbox *box,
    const struct mailer_pending *pend)
{
	printf("\nThing  Release           Waiting    Due  Later Sending   Sent Deferred Failed"
	    " Skipped   Held  Title\n");
	for (size_t i = 0; i < p->nthings; i++) {
		const struct thing_outbox *b = &box[i];
		char when[32];

		cli_release_text(p, i, when, sizeof(when));
		/* skipped ones are failed ones an organiser chose: shown apart */
		printf("%5d  %-16s %8lld %6lld %6lld %7lld %6lld %8lld %6lld %7lld %6lld  %s\n",
		    p->things[i].number, when, (long long)pend[i].waiting, (long long)b->due,
		    (long long)b->later, (long long)b->sending, (long long)b->sent,
		    (long long)b->deferred, (long long)(b->failed - b->skipped),
		    (long long)b->skipped, (long long)b->held, p->things[i].title);
	}
}

static void
print_next(const struct programme *p, const struct mailer_pending *pend, int64_t now)
{
	const struct thing *next = NULL;
	size_t first = 0;
	char when[32];

	for (size_t i = 0; i < p->nthings && !p->cfg.self_paced; i++) {
		if (p->things[i].release_at > now) {
			next = &p->things[i];
			break;
		}
	}
	printf("\n");
	if (next != NULL) {
		time_format_local(next->release_at, when, sizeof(when));
		printf("next release: Thing %d on %s\n", next->number, when);
	} else if (!p->cfg.self_paced) {
		printf("next release: none (every Thing is out)\n");
	}
	/* what waits behind a held Thing has no time of its own: print_held */
	for (size_t i = 1; i < p->nthings; i++)
		if (pend[i].waiting > pend[i].blocked && (pend[first].waiting ==
		    pend[first].blocked || pend[i].next_at < pend[first].next_at))
			first = i;
	if (p->nthings == 0 || pend[first].waiting == pend[first].blocked) {
		int64_t blocked = 0;

		for (size_t i = 0; i < p->nthings; i++)
			blocked += pend[i].blocked;
		printf("next due: %s\n", blocked > 0 ?
		    "nothing until an organiser releases what is held" :
		    "nothing (every participant has been queued every Thing)");
		return;
	}
	time_format_local(pend[first].next_at, when, sizeof(when));
	printf("next due: Thing %d on %s%s\n", p->things[first].number, when,
	    pend[first].next_at <= now ? " (the next run queues it)" : "");
}

static void
print_held(const struct cli *c, const struct programme *p, const struct thing_outbox *box,
    const struct mailer_pending *pend)
{
	int64_t total = 0;

	for (size_t i = 0; i < p->nthings; i++) {
		char behind[96] = "";

		if (box[i].held == 0)
			continue;
		total += box[i].held;
		if (pend[i].held_back > 0)
			snprintf(behind, sizeof(behind), " (and %lld of later Things behind %s)",
			    (long long)pend[i].held_back, box[i].held == 1 ? "it" : "them");
		printf("held: Thing %d: %lld %s%s%s for an organiser; send with: "
		    "things -c %s release %d (or never send: --skip)\n", p->things[i].number,
		    (long long)box[i].held, box[i].held == 1 ? "delivery" : "deliveries", behind,
		    box[i].held == 1 ? " waits" : " wait", c->config, p->things[i].number);
	}
	if (total == 0)
		printf("held: nothing\n");
}

int
cmd_status(struct cli *c)
{
	struct programme *p = NULL;
	struct store *st = NULL;
	struct mailer *m = NULL;
	struct thing_outbox *box = NULL;
	struct mailer_pending *pend = NULL;
	int64_t now = time_now();
	int status = EXIT_FAIL;
	struct err e;

	for (int i = 0; i < c->argc; i++) {
		int rc = cli_now_option(c, &i, &now);

		if (rc == 1)
			continue;
		if (rc == 0)
			fprintf(stderr, "usage: things -c FILE status [--now TIMESTAMP]\n");
		return EXIT_USAGE;
	}
	if (cli_open(c, &p, &st) == -1)
		return EXIT_FAIL;
	box = calloc(p->nthings + 1, sizeof(*box));
	pend = calloc(p->nthings + 1, sizeof(*pend));
	if (box == NULL || pend == NULL) {
		err_set(&e, "out of memory");
		goto out;
	}
	if (store_thing_outbox(st, now, (int)p->nthings, box, &e) == -1 ||
	    mailer_new(p, st, &m, &e) == -1 || mailer_schedule_pending(m, pend, &e) == -1)
		goto out;
	print_header(p, now);
	print_table(p, box, pend);
	print_next(p, pend, now);
	print_held(c, p, box, pend);
	status = EXIT_OK;
out:
	if (status != EXIT_OK)
		fprintf(stderr, "things: %s\n", e.msg);
	free(box);
	free(pend);
	mailer_free(m);
	store_close(st);
	programme_free(p);
	return status;
}
