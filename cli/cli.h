/* cli.h - the subcommands of `things`; shared by the files of cli/ only. */
#ifndef THINGS_CLI_H
#define THINGS_CLI_H

#include "../content/content.h"
#include "../store/store.h"

/* Exit statuses. */
#define EXIT_OK 0
#define EXIT_FAIL 1   /* the command ran and something went wrong */
#define EXIT_USAGE 2  /* the command line or the config is wrong */

struct cli {
	const char *config;   /* -c FILE */
	int verbose;          /* -v given */
	int argc;             /* the subcommand's arguments, after its name */
	char **argv;
};

int cmd_init(struct cli *c);
int cmd_check(struct cli *c);
int cmd_preview(struct cli *c);
int cmd_subscribe(struct cli *c);
int cmd_alt(struct cli *c);
int cmd_import(struct cli *c);
int cmd_run(struct cli *c);
int cmd_report(struct cli *c);
int cmd_status(struct cli *c);
int cmd_tickets(struct cli *c);
int cmd_release(struct cli *c);
int cmd_feeds(struct cli *c);
int cmd_digest(struct cli *c);

/* If argv[*i] is "--now", takes the time after it (moving *i past it),
 * sets *now and the clock (time_set_now) and returns 1; 0 for any other
 * argument; -1 (reported) for a missing or bad time. */
int cli_now_option(struct cli *c, int *i, int64_t *now);

/* status.c: when Thing i (0-based) comes out, for the organisers' tables:
 * its release date, or "+N days" after confirming in a self-paced
 * programme (where the cohort's dates and [schedule] do not apply). */
void cli_release_text(const struct programme *p, size_t i, char *out, size_t n);

/* Loads the programme named by -c, printing every problem as
 * file:line: message; NULL on failure. */
struct programme *cli_load(struct cli *c);
/* Loads the programme and opens its store; 0 or -1 (reported). */
int cli_open(struct cli *c, struct programme **p, struct store **st);

struct mailer;
struct feeds_stats;

/* feeds.c: 1 if the feeds are due for fetching at now (never fetched,
 * cfg.feeds_every_hours since the last round began, or a digest is due and
 * the last round began before its time), 0 if not, -1 on error. */
int cli_feeds_due(const struct programme *p, struct store *st, struct mailer *m, int64_t now,
    struct err *e);
/* Fetches every feed now with the config's options and records the round
 * in the store.  -1 on a store or libcurl error (per-feed failures are
 * recorded on the feeds, not returned). */
int cli_feeds_poll(const struct programme *p, struct store *st, int64_t now,
    struct feeds_stats *fs, struct err *e);
void cli_feeds_summary(const struct feeds_stats *fs);
/* Prints the last round and the feeds that are broken (all: every feed). */
int cli_feeds_report(struct store *st, int all, struct err *e);
/* digest.c: prints when the digest goes out and what the last one did. */
int cli_digest_report(const struct programme *p, struct store *st, struct err *e);

#endif
