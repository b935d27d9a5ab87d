/*
 * poll_prepare.c - phase 1 of inbox_poll (poll.c): for each message of a
 * batch, what needs the network or the untrusted bytes, outside any
 * transaction.  The parse runs with a crash crumb naming the message
 * (store_crumb_enter), so that a message which crashes Things is set
 * aside after POLL_CRASHES_MAX runs instead of stopping every run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "poll.h"

/* The Message-ID of a message without one: stable for the same bytes, so
 * that the same message delivered twice is still recognised. */
int
poll_synth_message_id(const void *data, size_t len, char *out, size_t n, struct err *e)
{
	char hex[65];

	if (source_sha256_hex(data, len, hex, e) == -1)
		return -1;
	snprintf(out, n, "things-sha256-%s@invalid", hex);
	return 0;
}

/* --- 1. prepare ------------------------------------------------------------ */

void
poll_crumb_key(const struct poll *pl, const struct pending *pd, char *out, size_t n)
{
	snprintf(out, n, "inbox %.300s %s", pl->src->name, pl->src->items[pd->item].key);
}

/* A message that crashed Things POLL_CRASHES_MAX runs in a row is not
 * parsed again: recorded as failed (the organisers are told), filed as
 * failed, and the runs go on. */
static int
prepare_set_aside(struct poll *pl, struct pending *pd)
{
	char keyed[SOURCE_NAME_MAX + STORE_KEY_MAX + 2];

	snprintf(keyed, sizeof(keyed), "%s\n%s", pl->src->name, pl->src->items[pd->item].key);
	if (poll_synth_message_id(keyed, strlen(keyed), pd->msgid, sizeof(pd->msgid), pl->e) == -1)
		return -1;
	pd->kind = PK_UNPARSEABLE;
	snprintf(pd->reason, sizeof(pd->reason), "%s", POLL_SET_ASIDE);
	return 0;
}

/* inbox_parse of pl->raw under the message's crash crumb: the untrusted
 * bytes, not the network waits around them (a run killed while a server
 * was slow proves nothing against the message).  0 parsed, 1 not a
 * message (reason in why), 2 set aside (it crashed Things before), -1. */
static int
guarded_parse(struct poll *pl, struct pending *pd, struct err *why)
{
	char crumb[STORE_CRUMB_MAX];
	struct err left;
	int r;

	poll_crumb_key(pl, pd, crumb, sizeof(crumb));
	if ((r = store_crumb_enter(pl->st, crumb, POLL_CRASHES_MAX, pl->e)) != 0)
		return r == 1 ? 2 : -1;
	fault_point("parse", pl->raw.data, pl->raw.len);
	r = inbox_parse(pl->raw.data ? pl->raw.data : "", pl->raw.len, &pd->m, why) == 0 ? 0 : 1;
	pd->parsed = r == 0;
	if (store_crumb_leave(pl->st, &left) == -1) {
		*pl->e = left;
		return -1;
	}
	return r;
}

/* Too large to download: what the header says, to answer from. */
static int
prepare_oversize(struct poll *pl, struct pending *pd)
{
	const struct source_item *it = &pl->src->items[pd->item];
	char keyed[SOURCE_NAME_MAX + STORE_KEY_MAX + 2];
	struct err pe;
	int r;

	snprintf(pd->reason, sizeof(pd->reason), "message of %zu bytes is over the limit of "
	    "%zu bytes", it->size, pl->max_size);
	if ((r = source_fetch_header(pl->src, pd->item, &pl->raw, pl->e)) == -1)
		return -1;
	if (r == SOURCE_GONE) {
		pd->kind = PK_GONE;
		return 0;
	}
	if ((r = guarded_parse(pl, pd, &pe)) == -1 || r == 2)
		return r == 2 ? prepare_set_aside(pl, pd) : -1;
	if (pd->parsed && pd->m.message_id[0] != '\0' &&
	    strlen(pd->m.message_id) <= STORE_MSGID_MAX) {
		snprintf(pd->msgid, sizeof(pd->msgid), "%s", pd->m.message_id);
	} else {
		/* no Message-ID: the message is named by where it is */
		snprintf(keyed, sizeof(keyed), "%s\n%s", pl->src->name, it->key);
		if (poll_synth_message_id(keyed, strlen(keyed), pd->msgid, sizeof(pd->msgid), pl->e) == -1)
			return -1;
	}
	pd->answer = pd->parsed && !act_is_automatic(&pd->m, pl->p);
	if ((r = store_inbound_known(pl->st, pl->src->name, it->key, pd->msgid, pl->e)) == -1)
		return -1;
	pd->kind = r == 1 ? PK_KNOWN : PK_OVERSIZE;
	return 0;
}

/* A blog being registered: its feed is looked up now, outside any
 * transaction (the classification is repeated inside it, and the result
 * is used only if it still names this URL). */
static int
prepare_discovery(struct poll *pl, struct pending *pd)
{
	struct inbox_context ctx;
	struct inbox_intent in;
	struct participant sender;
	const char *url;
	struct err why;
	int r;

	if (context_classify(pl->p, pl->st, &pd->m, &ctx, &in, pl->e) == -1)
		return -1;
	if (in.kind != II_BLOG || act_is_automatic(&pd->m, pl->p) ||
	    (url = act_blog_url(&pd->m, &in)) == NULL)
		return 0;
	/* Only for a blog act_blog will record: a stranger's URL is never
	 * fetched.  And within the run's budget: each look-up may take two
	 * fetches' time-outs, under the run lock. */
	if ((r = store_participant_by_address(pl->st, pd->m.from_addr, &sender, pl->e)) == -1)
		return -1;
	if (r == 1 || sender.status == PS_UNSUBSCRIBED)
		return 0;
	if (pl->discoveries >= INBOX_DISCOVERIES_MAX) {
		log_info("inbox: blog %s: feed not looked up (%d look-ups this run already)", url,
		    INBOX_DISCOVERIES_MAX);
		return 0;
	}
	pl->discoveries++;
	snprintf(pd->disc.url, sizeof(pd->disc.url), "%s", url);
	r = feeds_discover(&pl->fo, url, pd->disc.feed, sizeof(pd->disc.feed), &why);
	pd->disc.done = 1;
	pd->disc.found = r == 0;
	if (r != 0)
		snprintf(pd->disc.note, sizeof(pd->disc.note), "%s", why.msg);
	log_info("inbox: blog %s: %s%s", url, r == 0 ? "feed " : "no feed: ",
	    r == 0 ? pd->disc.feed : why.msg);
	return 0;
}

/* Fetches and parses item pd->item, which the store does not know. */
static int
prepare_fetched(struct poll *pl, struct pending *pd)
{
	const struct source_item *it = &pl->src->items[pd->item];
	char synth[STORE_MSGID_MAX + 1];
	struct err why;
	int r;

	if (it->size > pl->max_size)
		return prepare_oversize(pl, pd);
	if ((r = source_fetch(pl->src, pd->item, 0, &pl->raw, pl->e)) == -1)
		return -1;
	if (r == SOURCE_GONE) {
		pd->kind = PK_GONE;
		return 0;
	}
	if (r == SOURCE_TOO_BIG)
		return prepare_oversize(pl, pd);
	pl->stats->fetched++;
	if (poll_synth_message_id(pl->raw.data, pl->raw.len, synth, sizeof(synth), pl->e) == -1)
		return -1;
	if ((r = guarded_parse(pl, pd, &why)) == -1 || r == 2)
		return r == 2 ? prepare_set_aside(pl, pd) : -1;
	if (r == 1) {
		pd->kind = PK_UNPARSEABLE;
		snprintf(pd->msgid, sizeof(pd->msgid), "%s", synth);
		snprintf(pd->reason, sizeof(pd->reason), "cannot parse: %s", why.msg);
		return 0;
	}
	snprintf(pd->msgid, sizeof(pd->msgid), "%s", pd->m.message_id[0] != '\0' &&
	    strlen(pd->m.message_id) <= STORE_MSGID_MAX ? pd->m.message_id : synth);
	if ((r = store_inbound_known(pl->st, pl->src->name, it->key, pd->msgid, pl->e)) != 0) {
		pd->kind = PK_KNOWN;
		return r == 1 ? 0 : -1;
	}
	pd->kind = PK_MESSAGE;
	return prepare_discovery(pl, pd);
}

int
poll_prepare(struct poll *pl, size_t i, struct pending *pd)
{
	int r;

	memset(pd, 0, sizeof(*pd));
	pd->item = i;
	if ((r = store_inbound_known(pl->st, pl->src->name, pl->src->items[i].key, "",
	    pl->e)) != 0) {
		pd->kind = PK_KNOWN;
		return r == 1 ? 0 : -1;
	}
	return prepare_fetched(pl, pd);
}

void
poll_pending_free(struct pending *pd)
{
	if (pd->parsed)
		inbox_message_free(&pd->m);
	pd->parsed = 0;
}

