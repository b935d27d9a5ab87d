/* admin.c - the organisers' subcommands: init, check, subscribe, report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../mailer/mailer.h"
#include "cli.h"

static void
print_diag(void *arg, const char *file, int line, const char *msg)
{
	int *count = arg;

	(*count)++;
	if (line > 0)
		fprintf(stderr, "%s:%d: %s\n", file, line, msg);
	else
		fprintf(stderr, "%s: %s\n", file, msg);
}

struct programme *
cli_load(struct cli *c)
{
	struct programme *p;
	struct err e;
	int count = 0;

	if (programme_load(c->config, &p, print_diag, &count, &e) == -1) {
		/* Problems were printed one by one; the summary may be all there is. */
		if (count == 0)
			fprintf(stderr, "things: %s\n", e.msg);
		return NULL;
	}
	return p;
}

int
cli_open(struct cli *c, struct programme **p, struct store **st)
{
	struct err e;

	if ((*p = cli_load(c)) == NULL)
		return -1;
	if (store_open((*p)->cfg.store_path, st, &e) == -1) {
		fprintf(stderr, "things: %s\n", e.msg);
		programme_free(*p);
		*p = NULL;
		return -1;
	}
	return 0;
}

int
cmd_init(struct cli *c)
{
	const char *dir = NULL, *maildir = NULL;
	struct err e;

	for (int i = 0; i < c->argc; i++) {
		if (strcmp(c->argv[i], "--maildir") == 0 && i + 1 < c->argc)
			maildir = c->argv[++i];
		else if (c->argv[i][0] != '-' && dir == NULL)
			dir = c->argv[i];
		else
			goto usage;
	}
	if (dir == NULL)
		goto usage;
	if (content_scaffold(dir, maildir, &e) == -1) {
		fprintf(stderr, "things: %s\n", e.msg);
		return EXIT_FAIL;
	}
	printf("A sample programme is in %s:\n"
	    "  %s/things.conf     edit the name, addresses, dates and servers\n"
	    "  %s/things/*.md     the 12 Things, one Markdown file each\n"
	    "Then: things -c %s/things.conf check\n", dir, dir, dir, dir);
	return EXIT_OK;
usage:
	fprintf(stderr, "usage: things init DIR [--maildir BASE]\n");
	return EXIT_USAGE;
}

/* 1 if addr is at one of the domains the sample things.conf uses, which
 * take no mail (RFC 2606). */
static int
sample_address(const char *addr)
{
	static const char *const sample[] = { "example.org", "example.com", "example.net" };
	const char *d = addr_domain(addr);

	for (size_t i = 0; d != NULL && i < sizeof(sample) / sizeof(sample[0]); i++)
		if (strcmp(d, sample[i]) == 0)
			return 1;
	return 0;
}

/* A programme under way: the Things that went out must keep their numbers.
 * Only an existing store is read (check creates nothing). */
static int
check_against_store(const struct programme *p)
{
	struct store *st = NULL;
	struct mailer *m = NULL;
	struct err e;
	int status = EXIT_FAIL;

	if (access(p->cfg.store_path, F_OK) != 0)
		return EXIT_OK;
	if (store_open(p->cfg.store_path, &st, &e) == -1 || mailer_new(p, st, &m, &e) == -1 ||
	    mailer_check_things(m, time_now(), 0, &e) == -1)
		fprintf(stderr, "things: %s\n", e.msg);
	else
		status = EXIT_OK;
	mailer_free(m);
	store_close(st);
	return status;
}

int
cmd_check(struct cli *c)
{
	struct programme *p;
	int status;

	if (c->argc != 0) {
		fprintf(stderr, "usage: things -c FILE check\n");
		return EXIT_USAGE;
	}
	if ((p = cli_load(c)) == NULL)
		return EXIT_FAIL;
	printf("%s: ok: \"%s\", %zu Things, first release ", p->cfg.path, p->cfg.name, p->nthings);
	if (p->nthings > 0) {
		char when[32];

		time_format_local(p->things[0].release_at, when, sizeof(when));
		printf("%s", when);
	}
	printf("\n");
	/* Left from the sample: valid, but the mail would go nowhere (a trial
	 * into a Maildir needs no real addresses). */
	if (strncmp(p->cfg.smtp_url, "maildir:", 8) != 0 && sample_address(p->cfg.address))
		fprintf(stderr, "%s: warning: address %s is the sample's: participants cannot "
		    "write to it\n", p->cfg.path, p->cfg.address);
	for (size_t i = 0; i < p->cfg.norganisers; i++)
		if (strncmp(p->cfg.smtp_url, "maildir:", 8) != 0 &&
		    sample_address(p->cfg.organisers[i]))
			fprintf(stderr, "%s: warning: organiser %s is the sample's: help requests "
			    "sent there reach nobody\n", p->cfg.path, p->cfg.organisers[i]);
	/* The titles as Things reads them: a file whose "# Title" line went
	 * missing shows its first subheading here, not a surprise in the
	 * participants' inboxes. */
	for (size_t i = 0; i < p->nthings; i++) {
		const struct thing *t = &p->things[i];
		const char *file = strrchr(t->path, '/');
		char when[32] = "";

		if (!p->cfg.self_paced)
			time_format_local(t->release_at, when, sizeof(when));
		printf("  %2d  %-16s  %s  (%s)\n", t->number, when, t->title, file ? file + 1 : t->path);
	}
	status = check_against_store(p);
	programme_free(p);
	return status;
}

int
cmd_subscribe(struct cli *c)
{
	char addr[ADDR_MAX + 1];
	const char *pos[3] = { NULL }, *name, *alt = NULL;
	struct programme *p = NULL;
	struct store *st = NULL;
	struct participant part;
	struct err e;
	int64_t now;
	int rc, npos = 0, status = EXIT_FAIL;

	for (int i = 0; i < c->argc && npos < 3; i++) {
		/* --now: they join at the trial's time, not the machine's (a cohort
		 * trial run with `run --now` would otherwise see them as joining
		 * late, once the real date is past the programme's start) */
		if ((rc = cli_now_option(c, &i, &now)) == -1)
			return EXIT_USAGE;
		if (rc == 1)
			continue;
		if (strcmp(c->argv[i], "--alt") == 0 && i + 1 < c->argc && alt == NULL)
			alt = c->argv[++i];
		else if (strncmp(c->argv[i], "--", 2) == 0)
			npos = 3; /* an option we do not know */
		else
			pos[npos++] = c->argv[i];
	}
	if (npos < 1 || npos > 2) {
		fprintf(stderr, "usage: things -c FILE subscribe ADDRESS [NAME] [--alt ALT] "
		    "[--now TIMESTAMP]\n");
		return EXIT_USAGE;
	}
	name = pos[1];
	if (addr_normalize(pos[0], addr, sizeof(addr), &e) == -1) {
		fprintf(stderr, "things: %s\n", e.msg);
		return EXIT_USAGE;
	}
	if (cli_open(c, &p, &st) == -1)
		return EXIT_FAIL;
	if (store_begin(st, &e) == -1)
		goto out;
	rc = store_participant_add(st, addr, name ? name : "", PS_ACTIVE, time_now(), &part, &e);
	if (rc == 1 && part.status != PS_ACTIVE) {
		/* An organiser adding someone back is their consent on record. */
		rc = store_participant_activate(st, part.id, time_now(), &e);
		if (rc == 0 && name != NULL)
			rc = store_participant_set_name(st, part.id, name, &e);
		if (rc == 0)
			printf("%s: was %s, now active\n", addr, participant_status_name(part.status));
	} else if (rc == 1) {
		printf("%s: already active\n", addr);
		rc = 0;
	} else if (rc == 0) {
		printf("%s: subscribed\n", addr);
	}
	/* the organiser vouches for the alternate address: no confirmation */
	if (rc == 0 && alt != NULL && (rc = store_participant_set_alt(st, part.id, alt, &e)) == 0 &&
	    (rc = store_participant_by_id(st, part.id, &part, &e)) == 0)
		printf("%s: alternate address %s\n", addr, part.alt_address);
	if (rc == -1 || store_commit(st, &e) == -1)
		goto out;
	status = EXIT_OK;
out:
	if (status != EXIT_OK) {
		store_rollback(st);
		fprintf(stderr, "things: %s\n", e.msg);
	}
	store_close(st);
	programme_free(p);
	return status;
}

static int
print_progress(void *arg, const struct participant_progress *pp)
{
	const struct programme *p = arg;

	printf("%-40s %-12s %3d/%-3zu %6d\n", pp->p.address, participant_status_name(pp->p.status),
	    pp->things_sent, p->nthings, pp->reflections);
	if (pp->p.alt_address[0] != '\0')
		printf("  alternate: %s\n", pp->p.alt_address);
	if (pp->certificate > 0) {
		char when[32];

		time_format_local(pp->certified_at, when, sizeof(when));
		printf("  certificate no. %lld, %s\n", (long long)pp->certificate, when);
	}
	return 0;
}

int
cmd_report(struct cli *c)
{
	static const enum participant_status all[] = { PS_ACTIVE, PS_PENDING, PS_UNSUBSCRIBED,
		PS_SUSPENDED };
	struct programme *p = NULL;
	struct store *st = NULL;
	struct thing_stats *stats = NULL;
	char when[32];
	int64_t n, now = time_now();
	struct err e;
	int status = EXIT_FAIL;

	for (int i = 0; i < c->argc; i++) {
		int rc = cli_now_option(c, &i, &now);

		if (rc == 1)
			continue;
		if (rc == 0)
			fprintf(stderr, "usage: things -c FILE report [--now TIMESTAMP]\n");
		return EXIT_USAGE;
	}
	if (cli_open(c, &p, &st) == -1)
		return EXIT_FAIL;
	time_format_local(now, when, sizeof(when));
	printf("%s: report at %s\n\nParticipants:", p->cfg.name, when);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (store_participant_count(st, all[i], &n, &e) == -1)
			goto out;
		printf("%s %lld %s", i ? "," : "", (long long)n, participant_status_name(all[i]));
	}
	printf("\n\n");

	if ((stats = calloc(p->nthings ? p->nthings : 1, sizeof(*stats))) == NULL) {
		err_set(&e, "out of memory");
		goto out;
	}
	if (store_thing_stats(st, (int)p->nthings, stats, &e) == -1)
		goto out;
	printf("Thing  Release           Sent Queued Failed Skipped Held Reflections  Title\n");
	for (size_t i = 0; i < p->nthings; i++) {
		const struct thing_stats *t = &stats[i];

		cli_release_text(p, i, when, sizeof(when));
		printf("%5d  %-16s %5lld %6lld %6lld %7lld %4lld %11lld  %s\n", p->things[i].number,
		    when, (long long)t->sent, (long long)t->queued, (long long)(t->failed - t->skipped),
		    (long long)t->skipped, (long long)t->held, (long long)t->reflections,
		    p->things[i].title);
	}
	printf("\n%-40s %-12s %7s %6s\n", "Participant", "Status", "Things", "Reflections");
	if (store_progress_each(st, print_progress, p, &e) == -1)
		goto out;
	printf("\n");
	if (cli_feeds_report(st, 0, &e) == -1 || cli_digest_report(p, st, &e) == -1)
		goto out;
	status = EXIT_OK;
out:
	if (status != EXIT_OK)
		fprintf(stderr, "things: %s\n", e.msg);
	free(stats);
	store_close(st);
	programme_free(p);
	return status;
}

int
cmd_preview(struct cli *c)
{
	enum { RAW, TEXT, HTML } what = TEXT;
	struct programme *p = NULL;
	struct store *st = NULL;
	struct mailer *m = NULL;
	struct participant sample;
	const char *text, *html;
	struct buf raw;
	int64_t n = 0;
	int status = EXIT_FAIL, numbers = 0, bad = 0;
	struct err e;

	for (int i = 0; i < c->argc; i++) {
		if (strcmp(c->argv[i], "--html") == 0)
			what = HTML;
		else if (strcmp(c->argv[i], "--text") == 0)
			what = TEXT;
		else if (strcmp(c->argv[i], "--raw") == 0)
			what = RAW;
		else if (numbers++ == 0 && str_to_int64(c->argv[i], 0, 9999, &n) == 0)
			continue;
		else
			bad = 1;
	}
	/* a number that names no Thing (0, 13 of 12) is not a usage error */
	if (bad || numbers != 1) {
		fprintf(stderr, "usage: things -c FILE preview N [--text|--html|--raw]\n");
		return EXIT_USAGE;
	}
	if (cli_open(c, &p, &st) == -1)
		return EXIT_FAIL;
	if (programme_thing(p, (int)n) == NULL) {
		fprintf(stderr, "things: there is no Thing %lld (the programme has %zu)\n",
		    (long long)n, p->nthings);
		goto out;
	}
	/* A sample participant, not stored: previews change nothing. */
	memset(&sample, 0, sizeof(sample));
	snprintf(sample.address, sizeof(sample.address), "participant@%s",
	    addr_domain(p->cfg.address));
	snprintf(sample.name, sizeof(sample.name), "Sam Sample");
	snprintf(sample.token, sizeof(sample.token), "%0*d", TOKEN_HEX_LEN, 0);
	sample.status = PS_ACTIVE;
	buf_init(&raw, 0);
	if (mailer_new(p, st, &m, &e) == -1 ||
	    mailer_preview_thing(m, (int)n, &sample, &raw, &text, &html, &e) == -1) {
		fprintf(stderr, "things: %s\n", e.msg);
	} else {
		fputs(what == RAW ? buf_str(&raw) : what == HTML ? html : text, stdout);
		status = EXIT_OK;
	}
	buf_free(&raw);
out:
	mailer_free(m);
	store_close(st);
	programme_free(p);
	return status;
}
