/*
 * act_alt.c - a participant's alternate address, asked for by mail
 * (II_ALTERNATE) and confirmed from that address (II_CONFIRM with the
 * token of the request), like mailing lists confirm an address change.
 * The alternate address may be anyone's: it is only recorded once a reply
 * from it proves that its owner agrees, and a request sends at most one
 * confirmation per participant per hour.
 */
#include <stdio.h>
#include <string.h>

#include "act.h"

#define ALT_REQUEST_INTERVAL 3600       /* one confirmation per participant per hour */
#define ALT_CONFIRM_TTL (7 * 86400)     /* a request not confirmed in a week lapses */

/* Recorded and passed on to the organisers: what a person should see. */
static int
forward(struct act *a, int64_t pid, const char *detail)
{
	int rc = act_record(a, pid, detail);

	return rc != 0 ? rc : act_tell_organisers(a, DK_UNKNOWN_FORWARD);
}

/* The programme's own address or one of its +tag forms: mail to it is
 * ours. */
static int
programme_address(const struct programme *p, const char *addr)
{
	const char *own = p->cfg.address, *at = strrchr(own, '@'), *aat = strrchr(addr, '@');
	size_t local = at ? (size_t)(at - own) : 0;

	if (strcmp(addr, own) == 0)
		return 1;
	return at != NULL && aat != NULL && strcmp(at, aat) == 0 &&
	    strncmp(addr, own, local) == 0 && addr[local] == p->cfg.delimiter;
}

/* The ack's key: what happened, and the message it answers. */
static void
ack_key(const struct act *a, const char *what, char *key, size_t n)
{
	snprintf(key, n, "%s-%s", what, a->idkey);
}

int
act_alternate(struct act *a)
{
	const char *alt = a->r->in->address;
	const struct participant *p = &a->sender;
	char token[TOKEN_HEX_LEN + 1], key[STORE_KEY_MAX + 1], detail[ADDR_MAX + 80];
	int rc;

	if (!a->have_sender || p->status != PS_ACTIVE)
		return forward(a, a->have_sender ? p->id : 0,
		    "alternate address not from an active participant: forwarded");
	if (alt[0] == '\0') {
		if (store_participant_set_alt(a->r->st, p->id, "", a->e) == -1)
			return -1;
		if ((rc = act_record(a, p->id, "alternate address cleared")) != 0)
			return rc;
		ack_key(a, "cleared", key, sizeof(key));
		return act_answer(a, p->id, p->address, DK_ALT_ACK, key);
	}
	if (strcmp(alt, p->address) == 0 || programme_address(a->r->p, alt))
		return forward(a, p->id, "alternate address is their own or the programme's: "
		    "forwarded");
	if (strcmp(alt, p->alt_address) == 0)
		return act_record(a, p->id, "already their alternate address: nothing to do");
	/* by when it was last asked, not by whether a request is pending: a
	 * clearing in between must not let a sender spray confirmations */
	if (p->alt_requested_at > a->r->now - ALT_REQUEST_INTERVAL)
		return act_record(a, p->id, "an alternate address was requested within the hour: "
		    "no confirmation sent");
	if (store_participant_request_alt(a->r->st, p->id, alt, a->r->now, token, a->e) == -1)
		return -1;
	snprintf(detail, sizeof(detail), "alternate address %s requested: confirmation sent", alt);
	if ((rc = act_record(a, p->id, detail)) != 0)
		return rc;
	/* the confirmation first: its Message-ID is what a reply answers */
	if (act_answer(a, p->id, alt, DK_ALT_CONFIRM, token) == -1)
		return -1;
	ack_key(a, "requested", key, sizeof(key));
	return act_answer(a, p->id, p->address, DK_ALT_ACK, key);
}

int
act_confirm_alternate(struct act *a, const struct participant *p)
{
	const char *from = a->r->m->from_addr;
	int64_t sender = a->have_sender ? a->sender.id : 0;
	char key[STORE_KEY_MAX + 1], detail[ADDR_MAX + 80];
	int rc;

	/* the token proves the alternate mailbox got our request only if the
	 * answer comes from that same address */
	if (strcmp(p->alt_pending, from) != 0)
		return act_record(a, sender,
		    "alternate-address confirmation from another address: ignored");
	if (p->alt_requested_at < a->r->now - ALT_CONFIRM_TTL)
		return act_record(a, sender,
		    "alternate-address confirmation after a week: lapsed, ignored");
	if ((rc = store_participant_confirm_alt(a->r->st, p->id, a->e)) == -1)
		return -1;
	if (rc == 1)
		return act_record(a, sender, "alternate-address confirmation: nothing pending");
	snprintf(detail, sizeof(detail), "alternate address %s confirmed", from);
	if ((rc = act_record(a, p->id, detail)) != 0)
		return rc;
	ack_key(a, "confirmed", key, sizeof(key));
	return act_answer(a, p->id, p->address, DK_ALT_ACK, key);
}
