/* release.c - `things release N | --all`: an organiser lets held Things go. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int
usage(void)
{
	fprintf(stderr, "usage: things -c FILE release N|--all [--now TIMESTAMP]\n");
	return EXIT_USAGE;
}

int
cmd_release(struct cli *c)
{
	struct programme *p = NULL;
	struct store *st = NULL;
	int64_t now = time_now(), thing = 0, n = 0;
	int all = 0, rc, status = EXIT_FAIL;
	char key[24];
	struct err e;

	for (int i = 0; i < c->argc; i++) {
		if ((rc = cli_now_option(c, &i, &now)) == 1)
			continue;
		if (rc == -1)
			return EXIT_USAGE;
		if (strcmp(c->argv[i], "--all") == 0 && !all && thing == 0)
			all = 1;
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
	snprintf(key, sizeof(key), "%lld", (long long)thing);
	if (store_delivery_release_held(st, all ? NULL : DK_THING, all ? NULL : key, now, &n,
	    &e) == -1) {
		fprintf(stderr, "things: %s\n", e.msg);
		goto out;
	}
	if (!all)
		printf("Thing %lld: ", (long long)thing);
	printf("released %lld held %s", (long long)n, n == 1 ? "delivery" : "deliveries");
	printf(n > 0 ? "; the next run sends them\n" : "\n");
	status = EXIT_OK;
out:
	store_close(st);
	programme_free(p);
	return status;
}
