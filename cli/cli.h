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
int cmd_run(struct cli *c);
int cmd_report(struct cli *c);
int cmd_tickets(struct cli *c);

/* Loads the programme named by -c, printing every problem as
 * file:line: message; NULL on failure. */
struct programme *cli_load(struct cli *c);
/* Loads the programme and opens its store; 0 or -1 (reported). */
int cli_open(struct cli *c, struct programme **p, struct store **st);

#endif
