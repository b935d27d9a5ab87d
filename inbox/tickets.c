/*
 * tickets.c - inbox_remind: organisers are reminded of help requests
 * nobody has answered, once per period (cfg.ticket_reminder_hours) per
 * ticket, until an organiser answers (act_ticket_reply) or closes it (the
 * "close" command, `things tickets close`).
 */
#include <stdio.h>

#include "act.h"

#define TICKET_REMINDER_HOURS_DEFAULT 48

struct remind {
	const struct programme *p;
	struct store *st;
	int64_t now;
	int64_t period;
	size_t due;
	struct err *e;
};

static int
remind_one(void *arg, const struct ticket *t)
{
	struct remind *r = arg;
	const struct programme_config *c = &r->p->cfg;
	int64_t last = t->reminded_at > t->opened_at ? t->reminded_at : t->opened_at, id;
	char key[48];

	if (last > r->now - r->period)
		return 0;
	/* The key counts reminders: one per period, never twice the same. */
	snprintf(key, sizeof(key), "%lld-%d", (long long)t->id, t->reminders + 1);
	for (size_t i = 0; i < c->norganisers; i++) {
		struct delivery_request d = {
			.recipient = c->organisers[i],
			.kind = DK_TICKET_REMINDER,
			.key = key,
			.due_at = r->now,
			.inbound_id = t->inbound_id,
			.msgid_domain = act_domain(r->p),
		};

		if (store_delivery_enqueue(r->st, &d, r->now, &id, r->e) == -1)
			return -1;
	}
	if (store_ticket_reminded(r->st, t->id, r->now, r->e) == -1)
		return -1;
	r->due++;
	return 0;
}

int
inbox_remind(const struct programme *p, struct store *st, int64_t now, size_t *n,
    struct err *e)
{
	int hours = p->cfg.ticket_reminder_hours > 0 ? p->cfg.ticket_reminder_hours :
	    TICKET_REMINDER_HOURS_DEFAULT;
	struct remind r = { p, st, now, (int64_t)hours * 3600, 0, e };

	*n = 0;
	if (store_begin(st, e) == -1)
		return err_prefix(e, "tickets");
	if (store_ticket_each(st, TS_OPEN, remind_one, &r, e) != 0) {
		store_rollback(st);
		return err_prefix(e, "tickets");
	}
	if (store_commit(st, e) == -1)
		return err_prefix(e, "tickets");
	*n = r.due;
	if (r.due > 0)
		log_info("tickets: %zu unanswered for %d hours or more: organisers reminded",
		    r.due, hours);
	return 0;
}
