/*
 * poll.c - inbox_poll: one pass over the programme's inbox, a batch at a
 * time (the durability argument is in inbox.h).
 *
 * For each batch of waiting messages, oldest first:
 *   1. prepare (network, no transaction; poll_prepare.c): for each message
 *        known to the store already   -> to be filed only (a crash came
 *                                        between commit and filing)
 *        larger than the limit        -> its header, to answer from
 *        otherwise                    -> fetched and parsed; a blog being
 *                                        registered has its feed looked up
 *   2. record (one transaction): each message classified and acted on
 *      under a savepoint; a message whose handling fails is undone alone
 *      and recorded as failed instead; the mailbox position advances;
 *      commit.
 *   3. file: processed or failed, one command per outcome.
 * Phases 1 and 2 handle each message's untrusted content with a crash
 * crumb naming it (store_crumb_enter): a message that crashes Things is
 * set aside by the next runs instead of stopping every run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "poll.h"

/* --- shared pieces --------------------------------------------------------- */

/* Copies at most INBOX_BODY_TEXT_MAX bytes of s, cut at a UTF-8 boundary. */
static char *
bounded_text(const char *s)
{
	size_t n = strlen(s);

	if (n <= INBOX_BODY_TEXT_MAX)
		return str_dup(s);
	n = INBOX_BODY_TEXT_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return str_ndup(s, n);
}

/* What a person is shown of a message (the forwards to the organisers):
 * what the sender wrote now, or all of it when they passed someone else's
 * message on, since that is what they write about; then the names of the
 * attachments, which the forward does not carry (the message itself is in
 * the processed folder).  At most INBOX_BODY_TEXT_MAX bytes. */
static char *
body_for_people(const struct inbox_message *m)
{
	const char *text = m->forwarded || m->fresh_text[0] == '\0' ? m->text : m->fresh_text;
	struct buf b;
	char *out;

	if (m->attachments[0] == '\0')
		return bounded_text(text);
	buf_init(&b, 0);
	if (buf_puts(&b, text) == -1 || buf_puts(&b, text[0] ? "\n\n[attached: " :
	    "[attached: ") == -1) {
		buf_free(&b);
		return NULL;
	}
	for (const char *p = m->attachments; *p; ) {
		size_t n = strcspn(p, "\n");

		if (buf_append(&b, p, n) == -1 || buf_puts(&b, p[n] && p[n + 1] ? ", " : "]") == -1) {
			buf_free(&b);
			return NULL;
		}
		p += n + (p[n] != '\0');
	}
	out = bounded_text(buf_str(&b));
	buf_free(&b);
	return out;
}

/* --- 2. record ------------------------------------------------------------- */

static void
base_request(struct poll *pl, const struct pending *pd, struct act_request *r)
{
	memset(r, 0, sizeof(*r));
	r->st = pl->st;
	r->p = pl->p;
	r->now = pl->now;
	r->rec.source = pl->src->name;
	r->rec.source_key = pl->src->items[pd->item].key;
	r->rec.message_id = pd->msgid;
	r->rec.sender = pd->parsed ? pd->m.from_addr : "";
	r->rec.subject = pd->parsed ? pd->m.subject : "";
	r->rec.received_at = pl->now;
}

/* Records a message that cannot be handled, with the reason, and tells
 * the organisers.  0 (result set) or -1 (store). */
static int
record_unreadable(struct poll *pl, struct pending *pd, const char *intent, const char *body)
{
	struct act_request r;
	int64_t id;
	int rc;

	base_request(pl, pd, &r);
	r.rec.intent = intent;
	r.rec.detail = pd->reason;
	r.rec.body_text = body;
	if (pd->kind == PK_MESSAGE && pd->intent == II_COMMAND)
		r.rec.subject = "(organiser command)"; /* may hold the secret */
	log_warn("inbox: %s %s: %s", pl->src->name, pl->src->items[pd->item].key, pd->reason);
	rc = act_unreadable(&r, pd->kind == PK_OVERSIZE && pd->answer ? pd->m.from_addr : NULL,
	    &id, pl->e);
	if (rc == -1)
		return -1;
	pd->result = rc == 1 ? PR_DUPLICATE : strcmp(intent, INTENT_OVERSIZE) == 0 ? PR_OVERSIZE :
	    PR_FAILED;
	return 0;
}

/* Classifies and acts.  0 done, 1 duplicate, -1 the message failed
 * (reason in why), -2 the store failed. */
static int
act_pending(struct poll *pl, struct pending *pd, struct err *why)
{
	struct act_request r;
	struct inbox_context ctx;
	struct inbox_intent in;
	char *body;
	int64_t id;
	int rc;

	if (context_classify(pl->p, pl->st, &pd->m, &ctx, &in, pl->e) == -1)
		return -2;
	pd->intent = in.kind;
	base_request(pl, pd, &r);
	r.m = &pd->m;
	r.in = &in;
	r.discovery = &pd->disc;
	r.rec.intent = inbox_intent_name(in.kind);
	r.rec.thing = in.thing > 0 ? in.thing : ctx.reply_to_thing;
	if ((body = body_for_people(&pd->m)) == NULL) {
		err_set(pl->e, "out of memory");
		return -2;
	}
	r.rec.body_text = body;
	rc = act_on_message(&r, &id, why);
	free(body);
	return rc;
}

/* Phase 2 for one message, inside the batch's transaction: 0 or -1 (the
 * store failed: the caller rolls the batch back). */
static int
record_one(struct poll *pl, struct pending *pd)
{
	char crumb[STORE_CRUMB_MAX];
	struct err why;
	char *body;
	int rc;

	switch (pd->kind) {
	case PK_GONE:
		return 0;
	case PK_KNOWN:
		log_info("inbox: %s %s is known already: filing it", pl->src->name,
		    pl->src->items[pd->item].key);
		pd->result = PR_DUPLICATE;
		return 0;
	case PK_UNPARSEABLE:
		return record_unreadable(pl, pd, INTENT_FAILED, NULL);
	case PK_OVERSIZE:
		return record_unreadable(pl, pd, INTENT_OVERSIZE, NULL);
	case PK_MESSAGE:
		break;
	}
	poll_crumb_key(pl, pd, crumb, sizeof(crumb));
	if ((rc = store_crumb_enter(pl->st, crumb, POLL_CRASHES_MAX, pl->e)) != 0) {
		if (rc == -1)
			return -1;
		snprintf(pd->reason, sizeof(pd->reason), "%s", POLL_SET_ASIDE);
		return record_unreadable(pl, pd, INTENT_FAILED, NULL);
	}
	if (store_savepoint(pl->st, pl->e) == -1)
		return -1;
	rc = act_pending(pl, pd, &why);
	if (store_crumb_leave(pl->st, rc == -2 ? &why : pl->e) == -1 && rc != -2)
		return -1;
	if (rc == -2)
		return -1;
	if (rc == 0) {
		pd->result = PR_PROCESSED;
		return store_release(pl->st, pl->e);
	}
	if (store_rollback_to(pl->st, pl->e) == -1)
		return -1;
	if (rc == 1) {
		pd->result = PR_DUPLICATE;
		return 0;
	}
	snprintf(pd->reason, sizeof(pd->reason), "could not be handled: %s", why.msg);
	/* organisers' commands hold the secret: their text is not kept */
	if ((body = bounded_text(pd->intent == II_COMMAND ? "" : pd->m.text)) == NULL)
		return err_set(pl->e, "out of memory");
	rc = record_unreadable(pl, pd, INTENT_FAILED, body);
	free(body);
	return rc;
}

static void
count(struct poll *pl, const struct pending *pd)
{
	struct inbox_stats *s = pl->stats;

	switch (pd->result) {
	case PR_PROCESSED: s->processed++; s->intents[pd->intent]++; break;
	case PR_DUPLICATE: s->duplicates++; break;
	case PR_FAILED: s->failed++; break;
	case PR_OVERSIZE: s->oversize++; break;
	case PR_NONE: break;
	}
}

/* Phase 2: the batch in one transaction, with the mailbox position. */
static int
record_batch(struct poll *pl, size_t n)
{
	uint32_t top = pl->last_uid;

	if (store_begin(pl->st, pl->e) == -1)
		return -1;
	for (size_t k = 0; k < n; k++) {
		if (record_one(pl, &pl->batch[k]) == -1)
			goto fail;
		if (pl->src->items[pl->batch[k].item].uid > top)
			top = pl->src->items[pl->batch[k].item].uid;
	}
	if (pl->src->uidvalidity != 0 && top > pl->last_uid &&
	    store_mailbox_set(pl->st, pl->src->name, pl->src->uidvalidity, top, pl->e) == -1)
		goto fail;
	if (store_commit(pl->st, pl->e) == -1)
		return -1;
	pl->last_uid = top;
	for (size_t k = 0; k < n; k++)
		count(pl, &pl->batch[k]);
	return 0;
fail:
	store_rollback(pl->st);
	return -1;
}

/* --- 3. file ---------------------------------------------------------------- */

static int
file_batch(struct poll *pl, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		const struct pending *pd = &pl->batch[k];
		int r;

		if (pd->result == PR_NONE)
			continue;
		r = source_file(pl->src, pd->item, pd->result == PR_FAILED ||
		    pd->result == PR_OVERSIZE ? SOURCE_FAILED : SOURCE_PROCESSED, pl->e);
		if (r == -1)
			return -1;
		if (r == SOURCE_GONE)
			log_info("inbox: %s %s vanished before it could be filed", pl->src->name,
			    pl->src->items[pd->item].key);
	}
	return source_flush(pl->src, pl->e);
}

/* --- the run ------------------------------------------------------------------ */

/* Maildir in flag mode: a flagged message the store knows is done. */
static int
poll_known_key(void *arg, const char *key, struct err *e)
{
	struct poll *pl = arg;

	return store_inbound_known(pl->st, pl->src->name, key, "", e);
}

static size_t
max_message(const struct programme *p)
{
	size_t max = p->cfg.inbox_max_kib > 0 ? (size_t)p->cfg.inbox_max_kib << 10 :
	    INBOX_MAX_MESSAGE_DEFAULT;

	return max < INBOX_MAX_RAW ? max : INBOX_MAX_RAW;
}

/* Where the store and the mailbox agree to start. */
static int
poll_position(struct poll *pl)
{
	uint32_t uidvalidity = 0;
	int r;

	if ((r = store_mailbox_get(pl->st, pl->src->name, &uidvalidity, &pl->last_uid,
	    pl->e)) == -1)
		return -1;
	if (r == 0 && uidvalidity != pl->src->uidvalidity) {
		/* A new UIDVALIDITY: the old last UID means nothing; what was
		 * recorded before is still recognised by Message-ID. */
		pl->last_uid = 0;
		if (store_mailbox_set(pl->st, pl->src->name, pl->src->uidvalidity, 0, pl->e) == -1)
			return -1;
	}
	if (r == 1)
		pl->last_uid = 0;
	return source_list(pl->src, r == 0 ? uidvalidity : pl->src->uidvalidity, pl->last_uid,
	    pl->e);
}

/* Prepares, records and files every listed message, a batch at a time. */
static int
poll_all(struct poll *pl)
{
	size_t i = 0, nitems = pl->src->nitems, done = 0;
	struct err stop;
	int stopped = 0;

	while (i < nitems && !stopped) {
		size_t n = 0, bytes = 0;

		while (i + n < nitems && n < INBOX_BATCH && bytes < POLL_BATCH_BYTES) {
			if (poll_prepare(pl, i + n, &pl->batch[n]) == -1) {
				poll_pending_free(&pl->batch[n]);
				stop = *pl->e;
				stopped = 1;
				break;
			}
			bytes += pl->src->items[i + n].size;
			n++;
		}
		/* What was prepared before a failure is still recorded. */
		if (n > 0 && record_batch(pl, n) == -1) {
			for (size_t k = 0; k < n; k++)
				poll_pending_free(&pl->batch[k]);
			return err_prefix(pl->e, "inbox: stopped after %zu of %zu messages", done,
			    nitems);
		}
		done += n;
		if (!stopped && file_batch(pl, n) == -1) {
			stop = *pl->e;
			stopped = 1;
		}
		for (size_t k = 0; k < n; k++)
			poll_pending_free(&pl->batch[k]);
		i += n;
	}
	if (stopped) {
		*pl->e = stop;
		return err_prefix(pl->e, "inbox: stopped after %zu of %zu messages (those "
		    "recorded but not filed are filed by the next run)", done, nitems);
	}
	return 0;
}

int
inbox_poll(const struct programme *p, struct store *st, int64_t now,
    struct inbox_stats *stats, struct err *e)
{
	struct source_options o = { 0 };
	struct poll *pl;
	int rc = -1;

	memset(stats, 0, sizeof(*stats));
	if ((pl = calloc(1, sizeof(*pl))) == NULL)
		return err_set(e, "inbox: out of memory");
	pl->p = p;
	pl->st = st;
	pl->now = now;
	pl->stats = stats;
	pl->e = e;
	pl->max_size = max_message(p);
	feeds_options_from_config(&pl->p->cfg, &pl->fo, pl->user_agent);
	/* room for a whole message, or for the header of one too large */
	buf_init(&pl->raw, (pl->max_size > SOURCE_HEADER_MAX ? pl->max_size : SOURCE_HEADER_MAX) + 1);
	o.ca_file = p->cfg.imap_ca_file;
	o.max_size = pl->max_size;
	o.folders[SOURCE_PROCESSED] = p->cfg.inbox_processed;
	o.folders[SOURCE_FAILED] = p->cfg.inbox_failed;
	o.flag_only = p->cfg.inbox_flag_only;
	o.known = poll_known_key;
	o.known_arg = pl;
	if (source_open(p->cfg.imap_url, &o, &pl->src, e) == -1) {
		err_prefix(e, "inbox");
		goto out;
	}
	if (poll_position(pl) == -1) {
		err_prefix(e, "inbox");
		goto out;
	}
	stats->listed = pl->src->nitems;
	rc = poll_all(pl);
out:
	source_close(pl->src);
	buf_free(&pl->raw);
	free(pl);
	return rc;
}
