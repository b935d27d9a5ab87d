/*
 * context.c - what the classifier needs to know from the store about a
 * message (is it an answer to a Thing, to a confirmation request, to a
 * help request; who sent it), looked up before inbox_classify so that
 * classifying stays pure.  Private to inbox/ (act.h).
 */
#include <stdio.h>
#include <string.h>

#include "act.h"

static int
is_organiser(const struct programme *p, const char *addr)
{
	for (size_t i = 0; i < p->cfg.norganisers; i++)
		if (strcmp(p->cfg.organisers[i], addr) == 0)
			return 1;
	return 0;
}

/* The ticket a message refers to by one of its ids: the help request
 * itself, or our forward of it or reminder about it.  0 if none. */
static int
ticket_of(struct store *st, const char *id, const struct delivery *d, int found,
    int64_t *ticket, struct err *e)
{
	struct ticket t;
	int r;

	if (found && (strcmp(d->kind, DK_HELP_FORWARD) == 0 ||
	    strcmp(d->kind, DK_TICKET_REMINDER) == 0))
		r = store_ticket_by_inbound(st, d->inbound_id, &t, e);
	else
		r = store_ticket_by_message_id(st, id, &t, e);
	if (r == 0)
		*ticket = t.id;
	return r == -1 ? -1 : 0;
}

/* What the classifier needs from the store: is this an answer to a Thing
 * we sent (or, from an organiser, to a help request), is the sender a
 * participant or an organiser.  *answered is set to the first of our
 * messages this one replies to (kind "" if none). */
static int
lookup_context(const struct programme *p, struct store *st, const struct inbox_message *m,
    struct inbox_context *ctx, struct delivery *answered, struct err *e)
{
	const char *ids[INBOX_MAX_REFS + 1];
	struct participant part;
	size_t n = 0;
	int r;

	memset(ctx, 0, sizeof(*ctx));
	memset(answered, 0, sizeof(*answered));
	ctx->address = p->cfg.address;
	ctx->delimiter = p->cfg.delimiter;
	ctx->nthings = (int)p->nthings;
	ctx->from_organiser = m->from_addr[0] != '\0' && is_organiser(p, m->from_addr);
	ctx->organiser_secret = p->cfg.organiser_secret;
	/* In-Reply-To first, then References from the most recent. */
	ids[n++] = m->in_reply_to;
	for (size_t k = m->nreferences; k > 0; k--)
		ids[n++] = m->references[k - 1];
	for (size_t k = 0; k < n; k++) {
		struct delivery d;

		if (ids[k] == NULL || ids[k][0] == '\0')
			continue;
		if ((r = store_delivery_by_message_id(st, ids[k], &d, e)) == -1)
			return -1;
		if (ctx->from_organiser && ctx->ticket == 0 &&
		    ticket_of(st, ids[k], &d, r == 0, &ctx->ticket, e) == -1)
			return -1;
		if (r == 1)
			continue;
		if (answered->kind[0] == '\0')
			*answered = d;
		if (ctx->reply_to_thing == 0 && strcmp(d.kind, DK_THING) == 0) {
			int64_t t;

			if (str_to_int64(d.key, 1, 10000, &t) == 0)
				ctx->reply_to_thing = (int)t;
		}
	}
	if (m->from_addr[0] != '\0') {
		if ((r = store_participant_by_address(st, m->from_addr, &part, e)) == -1)
			return -1;
		ctx->from_participant = r == 0 && part.status == PS_ACTIVE;
	}
	return 0;
}

/* An answer to our own confirmation request (to join, or of an alternate
 * address) confirms (or unsubscribes),
 * whatever its words (bar a help request or a reflection): the token is
 * the one we sent to that address. */
static void
reply_to_request(const struct delivery *answered, struct inbox_intent *in)
{
	if ((strcmp(answered->kind, DK_CONFIRM) == 0 ||
	    strcmp(answered->kind, DK_ALT_CONFIRM) == 0) &&
	    (in->kind == II_SUBSCRIBE || in->kind == II_UNKNOWN ||
	    (in->kind == II_CONFIRM && in->token[0] == '\0'))) {
		in->kind = II_CONFIRM;
		snprintf(in->token, sizeof(in->token), "%s", answered->key);
		in->reason = "reply to our confirmation request";
	} else if (strcmp(answered->kind, DK_UNSUB_CONFIRM) == 0 &&
	    (in->kind == II_UNKNOWN || ((in->kind == II_UNSUBSCRIBE || in->kind == II_CONFIRM) &&
	    in->token[0] == '\0'))) {
		/* "reply to this message (an empty reply will do)", the request
		 * says; its subject "Please confirm: leaving" reads as confirm */
		in->kind = II_UNSUBSCRIBE;
		snprintf(in->token, sizeof(in->token), "%s", answered->key);
		in->reason = "reply to our unsubscribe confirmation";
	}
}

int
context_classify(const struct programme *p, struct store *st, const struct inbox_message *m,
    struct inbox_context *ctx, struct inbox_intent *in, struct err *e)
{
	struct delivery answered;

	if (lookup_context(p, st, m, ctx, &answered, e) == -1)
		return -1;
	inbox_classify(m, ctx, in);
	reply_to_request(&answered, in);
	return 0;
}
