/* alt.c - `things alt ADDRESS [ALT|--clear]`: a participant's alternate
 * address, where Things tells them if their own address is suspended for
 * bounces.  An organiser's word needs no confirmation mail; a participant
 * asks by mail ("alternate ADDRESS") and confirms from the alternate. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void
show(const struct participant *p)
{
	printf("%s: alternate address %s", p->address,
	    p->alt_address[0] ? p->alt_address : "(none)");
	if (p->alt_pending[0] != '\0') {
		char when[32];

		time_format_local(p->alt_requested_at, when, sizeof(when));
		printf("; %s asked for %s, not confirmed yet", when, p->alt_pending);
	}
	printf("\n");
}

int
cmd_alt(struct cli *c)
{
	char addr[ADDR_MAX + 1];
	struct programme *p = NULL;
	struct store *st = NULL;
	struct participant part;
	struct err e;
	int rc, status = EXIT_FAIL;

	if (c->argc < 1 || c->argc > 2 || c->argv[0][0] == '-' ||
	    (c->argc == 2 && c->argv[1][0] == '-' && strcmp(c->argv[1], "--clear") != 0)) {
		fprintf(stderr, "usage: things -c FILE alt ADDRESS [ALT|--clear]\n");
		return EXIT_USAGE;
	}
	if (addr_normalize(c->argv[0], addr, sizeof(addr), &e) == -1) {
		fprintf(stderr, "things: %s\n", e.msg);
		return EXIT_USAGE;
	}
	if (cli_open(c, &p, &st) == -1)
		return EXIT_FAIL;
	if ((rc = store_participant_by_address(st, addr, &part, &e)) == 1)
		err_set(&e, "%s is not a participant", addr);
	if (rc != 0)
		goto out;
	if (c->argc == 2) {
		const char *alt = strcmp(c->argv[1], "--clear") == 0 ? "" : c->argv[1];

		if (store_participant_set_alt(st, part.id, alt, &e) == -1 ||
		    store_participant_by_id(st, part.id, &part, &e) != 0)
			goto out;
	}
	show(&part);
	status = EXIT_OK;
out:
	if (status != EXIT_OK)
		fprintf(stderr, "things: %s\n", e.msg);
	store_close(st);
	programme_free(p);
	return status;
}
