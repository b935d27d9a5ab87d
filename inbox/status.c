/*
 * status.c - the programme's state as a short text, for an organiser who
 * asks by mail ("status").  Short lines (the answer is read in a mail
 * client), counts first, then the open tickets, the Things, and the
 * participants (at most STATUS_PARTICIPANTS of them).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "act.h"

#define STATUS_PARTICIPANTS 100
#define STATUS_TICKETS 50

struct status {
	const struct programme *p;
	struct buf *out;
	int64_t now;
	size_t shown;
};

int
act_say(struct buf *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(out, fmt, ap);
	va_end(ap);
	return 0;
}

static int
status_counts(struct status *s, struct store *st, struct err *e)
{
	static const enum participant_status all[] = { PS_ACTIVE, PS_PENDING, PS_UNSUBSCRIBED,
		PS_SUSPENDED };
	int64_t n, failed, oversize, open;

	act_say(s->out, "Participants:");
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (store_participant_count(st, all[i], &n, e) == -1)
			return -1;
		act_say(s->out, "%s %lld %s", i ? "," : "", (long long)n, participant_status_name(all[i]));
	}
	if (store_inbound_count(st, NULL, &n, e) == -1 ||
	    store_inbound_count(st, INTENT_FAILED, &failed, e) == -1 ||
	    store_inbound_count(st, INTENT_OVERSIZE, &oversize, e) == -1 ||
	    store_ticket_count(st, TS_OPEN, &open, e) == -1)
		return -1;
	act_say(s->out, "\nMessages received: %lld (%lld could not be handled, %lld too large)\n",
	    (long long)n, (long long)failed, (long long)oversize);
	act_say(s->out, "Open help requests (tickets): %lld\n", (long long)open);
	return 0;
}

static int
status_ticket(void *arg, const struct ticket *t)
{
	struct status *s = arg;
	int64_t hours = (s->now - t->opened_at) / 3600;
	char thing[24] = "";

	if (s->shown++ == STATUS_TICKETS) {
		act_say(s->out, "  ...\n");
		return 1;
	}
	if (t->thing > 0)
		snprintf(thing, sizeof(thing), ", Thing %d", t->thing);
	act_say(s->out, "  #%lld from %s, open %lld h%s: %s\n", (long long)t->id, t->sender,
	    (long long)(hours > 0 ? hours : 0), thing, t->subject);
	return 0;
}

static int
status_things(struct status *s, struct store *st, struct err *e)
{
	const struct programme *p = s->p;
	struct thing_stats *stats;
	char when[32];

	if (p->nthings == 0 || p->things == NULL)
		return 0;
	if ((stats = calloc(p->nthings, sizeof(*stats))) == NULL)
		return err_set(e, "out of memory");
	if (store_thing_stats(st, (int)p->nthings, stats, e) == -1) {
		free(stats);
		return -1;
	}
	act_say(s->out, "\nThings:\n");
	for (size_t i = 0; i < p->nthings; i++) {
		time_format_local(p->things[i].release_at, when, sizeof(when));
		/* skipped ones are failed ones an organiser chose: shown apart,
		 * and only when there are some (the answer is read in a mail
		 * client: short lines) */
		act_say(s->out, "  %d (%s): %lld sent, %lld queued, %lld failed, ",
		    p->things[i].number, when, (long long)stats[i].sent, (long long)stats[i].queued,
		    (long long)(stats[i].failed - stats[i].skipped));
		if (stats[i].skipped > 0)
			act_say(s->out, "%lld skipped, ", (long long)stats[i].skipped);
		act_say(s->out, "%lld held, %lld reflections\n", (long long)stats[i].held,
		    (long long)stats[i].reflections);
	}
	free(stats);
	return 0;
}

static int
status_participant(void *arg, const struct participant_progress *pp)
{
	struct status *s = arg;

	if (s->shown++ == STATUS_PARTICIPANTS) {
		act_say(s->out, "  ... (the full list: things report)\n");
		return 1;
	}
	act_say(s->out, "  %s%s%s%s: %s, %d Thing%s sent, %d reflected on\n", pp->p.address,
	    pp->p.name[0] ? " (" : "", pp->p.name, pp->p.name[0] ? ")" : "",
	    participant_status_name(pp->p.status), pp->things_sent,
	    pp->things_sent == 1 ? "" : "s", pp->reflections);
	return 0;
}

int
act_status_text(const struct programme *p, struct store *st, int64_t now, struct buf *out,
    struct err *e)
{
	struct status s = { p, out, now, 0 };
	char when[32];

	time_format_local(now, when, sizeof(when));
	act_say(out, "%s, %s\n", p->cfg.name ? p->cfg.name : "Things", when);
	if (status_counts(&s, st, e) == -1 ||
	    store_ticket_each(st, TS_OPEN, status_ticket, &s, e) < 0 ||
	    status_things(&s, st, e) == -1)
		return -1;
	act_say(out, "\nParticipants:\n");
	s.shown = 0;
	if (store_progress_each(st, status_participant, &s, e) < 0)
		return -1;
	return 0;
}
