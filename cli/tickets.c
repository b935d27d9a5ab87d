/* tickets.c - `things tickets`: help requests and whether anyone answered. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct listing {
	int64_t now;
	int rows;
};

/* The table's header comes with its first row: "0 open tickets" alone
 * says it all. */
static int
print_ticket(void *arg, const struct ticket *t)
{
	struct listing *l = arg;
	char opened[32], thing[16] = "-";
	int64_t hours = (l->now - t->opened_at) / 3600;

	if (l->rows++ == 0)
		printf("\n%6s  %-8s %-16s %6s %5s %3s  %-32s %s\n", "Ticket", "State", "Opened",
		    "Age", "Thing", "Rem", "From", "Subject");
	time_format_local(t->opened_at, opened, sizeof(opened));
	if (t->thing > 0)
		snprintf(thing, sizeof(thing), "%d", t->thing);
	printf("%6lld  %-8s %-16s %5lldh %5s %3d  %-32s %s", (long long)t->id,
	    ticket_state_name(t->state), opened, (long long)(hours > 0 ? hours : 0), thing,
	    t->reminders, t->sender, t->subject);
	if (t->state != TS_OPEN)
		printf("  [%s]", t->closed_by);
	printf("\n");
	return 0;
}

static int
close_ticket(struct store *st, const char *arg, int64_t now)
{
	struct err e;
	int64_t id;
	int rc;

	if (str_to_int64(arg[0] == '#' ? arg + 1 : arg, 1, INT64_MAX, &id) == -1) {
		fprintf(stderr, "things: '%s' is not a ticket number\n", arg);
		return EXIT_USAGE;
	}
	if ((rc = store_ticket_close(st, id, TS_CLOSED, "cli", now, &e)) == -1) {
		fprintf(stderr, "things: %s\n", e.msg);
		return EXIT_FAIL;
	}
	if (rc == 1) {
		fprintf(stderr, "things: there is no open ticket %lld\n", (long long)id);
		return EXIT_FAIL;
	}
	printf("ticket %lld closed\n", (long long)id);
	return EXIT_OK;
}

int
cmd_tickets(struct cli *c)
{
	struct programme *p = NULL;
	struct store *st = NULL;
	int64_t now = time_now(), open;
	struct listing l = { now, 0 };
	int all = 0, status = EXIT_FAIL;
	struct err e;

	if (c->argc == 1 && strcmp(c->argv[0], "--all") == 0)
		all = 1;
	else if (!(c->argc == 0 || (c->argc == 2 && strcmp(c->argv[0], "close") == 0))) {
		fprintf(stderr, "usage: things -c FILE tickets [--all]\n"
		    "       things -c FILE tickets close N\n");
		return EXIT_USAGE;
	}
	if (cli_open(c, &p, &st) == -1)
		return EXIT_FAIL;
	if (c->argc == 2) {
		status = close_ticket(st, c->argv[1], now);
		goto out;
	}
	if (store_ticket_count(st, TS_OPEN, &open, &e) == -1)
		goto fail;
	printf("%lld open ticket%s\n", (long long)open, open == 1 ? "" : "s");
	if (store_ticket_each(st, all ? -1 : TS_OPEN, print_ticket, &l, &e) < 0)
		goto fail;
	status = EXIT_OK;
	goto out;
fail:
	fprintf(stderr, "things: %s\n", e.msg);
out:
	store_close(st);
	programme_free(p);
	return status;
}
