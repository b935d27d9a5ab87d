/* main.c - `things`: option parsing and subcommand dispatch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*fn)(struct cli *);
	const char *synopsis;
	const char *what;
} commands[] = {
	{ "init", cmd_init, "init DIR [--maildir BASE]", "scaffold a sample 12-Thing programme" },
	{ "check", cmd_check, "check", "validate config and content" },
	{ "preview", cmd_preview, "preview N [--text|--html|--raw]", "Thing N as participants get it" },
	{ "import", cmd_import, "import FILE", "add everyone in FILE (address[, name] a line)" },
	{ "subscribe", cmd_subscribe, "subscribe ADDR [NAME] [--alt ALT]", "add a participant (no opt-in mail)" },
	{ "alt", cmd_alt, "alt ADDRESS [ALT|--clear]", "show or set where a suspended participant is told" },
	{ "run", cmd_run, "run [--now TIMESTAMP]", "the cron tick: read mail, act, send" },
	{ "report", cmd_report, "report [--now TIMESTAMP]", "progress per Thing and participant" },
	{ "status", cmd_status, "status [--now TIMESTAMP]", "per Thing: waiting, queued, sent, failed, held" },
	{ "release", cmd_release, "release N|--all", "send the held deliveries of Thing N (or all)" },
	{ "feeds", cmd_feeds, "feeds [--fetch] [--now TIMESTAMP]", "blog feeds and their state (--fetch: now)" },
	{ "digest", cmd_digest, "digest [--preview [OPTIONS]]", "the weekly digest: when; --preview: the next, to a file" },
	{ "tickets", cmd_tickets, "tickets [--all] | close N", "help requests waiting for an answer" },
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: things [-v] [-c FILE] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  things %-34s %s\n", commands[i].synopsis, commands[i].what);
	fprintf(f, "\n-c FILE  the programme's things.conf (default $THINGS_CONFIG,"
	    " else ./things.conf)\n-v       say what happens (twice: debug)\n");
}

/* Runs the subcommand between the libraries' one-time set-up and clean-up
 * (libcurl and libxml2 want both called once, from the main thread). */
static int
run_command(int (*fn)(struct cli *), struct cli *c)
{
	int status;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "things: libcurl cannot be initialised\n");
		return EXIT_FAIL;
	}
	xmlInitParser();
	status = fn(c);
	xmlCleanupParser();
	curl_global_cleanup();
	return status;
}

int
main(int argc, char **argv)
{
	struct cli c = { 0 };
	int opt, verbosity = 0;

	c.config = getenv("THINGS_CONFIG");
	if (c.config == NULL || c.config[0] == '\0')
		c.config = "things.conf";
	/* "+": stop at the subcommand, whose options are its own. */
	while ((opt = getopt(argc, argv, "+c:vh")) != -1) {
		switch (opt) {
		case 'c':
			c.config = optarg;
			break;
		case 'v':
			verbosity++;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	c.verbose = verbosity > 0;
	log_set_level(verbosity >= 2 ? LV_DEBUG : verbosity == 1 ? LV_INFO : LV_WARN);
	c.argc = argc - optind - 1;
	c.argv = argv + optind + 1;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			return run_command(commands[i].fn, &c);
	fprintf(stderr, "things: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return EXIT_USAGE;
}
