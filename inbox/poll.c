/*
 * poll.c - inbox_poll: one pass over the programme's inbox.
 *
 * For each waiting message, oldest first:
 *   known to the store already       -> move to Processed (a crash came
 *                                       between commit and move)
 *   larger than the limit            -> record "oversize", tell sender and
 *                                       organisers, move to Failed
 *   otherwise fetch, parse, classify, then in ONE transaction record it,
 *   act on it and advance the mailbox position; commit; move to Processed.
 *   Parse or act failure             -> roll back, record "failed" (own
 *                                       transaction), forward to organisers,
 *                                       move to Failed
 * The move comes after the commit: a crash in between leaves a message the
 * next run recognises (by source key or Message-ID) and only moves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "source.h"

struct poll {
	const struct programme *p;
	struct store *st;
	struct source *src;
	int64_t now;
	struct inbox_stats *stats;
	uint32_t last_uid;        /* IMAP: highest UID done, as stored */
	struct buf raw;
	struct err *e;
};

/* Remembers that item i is done (IMAP: the store's last UID).  Inside the
 * message's own transaction when there is one. */
static int
poll_advance(struct poll *pl, size_t i)
{
	uint32_t uid = pl->src->items[i].uid;

	if (pl->src->uidvalidity == 0 || uid <= pl->last_uid)
		return 0;
	if (store_mailbox_set(pl->st, pl->src->name, pl->src->uidvalidity, uid, pl->e) == -1)
		return -1;
	pl->last_uid = uid;
	return 0;
}

/* Moves item i; a message that vanished meanwhile is not an error. */
static int
poll_move(struct poll *pl, size_t i, const char *folder)
{
	int r = source_move(pl->src, i, folder, pl->e);

	if (r == SOURCE_GONE)
		log_info("inbox: %s %s vanished before it could be moved", pl->src->name,
		    pl->src->items[i].key);
	return r == -1 ? -1 : 0;
}

static int
poll_duplicate(struct poll *pl, size_t i)
{
	log_info("inbox: %s %s is known already: moving it", pl->src->name,
	    pl->src->items[i].key);
	if (poll_move(pl, i, SOURCE_FOLDER_PROCESSED) == -1 || poll_advance(pl, i) == -1)
		return -1;
	pl->stats->duplicates++;
	return 0;
}

/* The Message-ID of a message without one: stable for the same bytes, so
 * that the same message delivered twice is still recognised. */
static int
synth_message_id(const void *data, size_t len, char *out, size_t n, struct err *e)
{
	char hex[65];

	if (source_sha256_hex(data, len, hex, e) == -1)
		return -1;
	snprintf(out, n, "things-sha256-%s@invalid", hex);
	return 0;
}

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

static void
base_record(struct poll *pl, size_t i, const char *message_id, struct inbound_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->source = pl->src->name;
	rec->source_key = pl->src->items[i].key;
	rec->message_id = message_id;
	rec->sender = "";
	rec->subject = "";
	rec->received_at = pl->now;
}

/* Records an unreadable message in its own transaction and moves it to
 * Failed.  m may be NULL (nothing parsed). */
static int
poll_unreadable(struct poll *pl, size_t i, const struct inbox_message *m,
    const char *message_id, const char *intent, const char *reason, const char *answer_to,
    const char *body)
{
	struct act_request r;
	int64_t id;
	int rc;

	memset(&r, 0, sizeof(r));
	r.st = pl->st;
	r.p = pl->p;
	r.now = pl->now;
	base_record(pl, i, message_id, &r.rec);
	r.rec.intent = intent;
	r.rec.detail = reason;
	r.rec.body_text = body;
	if (m != NULL) {
		r.rec.sender = m->from_addr;
		r.rec.subject = m->subject;
	}
	log_warn("inbox: %s %s: %s", pl->src->name, pl->src->items[i].key, reason);
	/* If even this cannot be stored, the store is in trouble: stop. */
	if (store_begin(pl->st, pl->e) == -1)
		return -1;
	rc = act_unreadable(&r, answer_to, &id, pl->e);
	if (rc == 0 && poll_advance(pl, i) == -1)
		rc = -1;
	if (rc == 0 && store_commit(pl->st, pl->e) == -1)
		rc = -1;
	if (rc != 0)
		store_rollback(pl->st);
	if (rc == 1)
		return poll_duplicate(pl, i);
	if (rc == -1)
		return -1;
	if (poll_move(pl, i, SOURCE_FOLDER_FAILED) == -1)
		return -1;
	if (strcmp(intent, INTENT_OVERSIZE) == 0)
		pl->stats->oversize++;
	else
		pl->stats->failed++;
	return 0;
}

/* Too large to download: answer from the header alone. */
static int
poll_oversize(struct poll *pl, size_t i)
{
	struct inbox_message m;
	const struct source_item *it = &pl->src->items[i];
	char reason[160], msgid[STORE_MSGID_MAX + 1], keyed[SOURCE_NAME_MAX + STORE_KEY_MAX + 2];
	const char *answer_to = NULL;
	struct err pe;
	int r, parsed = 0, rc;

	snprintf(reason, sizeof(reason), "message of %zu bytes is over the limit of %zu bytes",
	    it->size, pl->src->max_size);
	if ((r = source_fetch_header(pl->src, i, &pl->raw, pl->e)) == -1)
		return -1;
	if (r == SOURCE_GONE)
		return 0;
	memset(&m, 0, sizeof(m));
	if (inbox_parse(pl->raw.data ? pl->raw.data : "", pl->raw.len, &m, &pe) == 0)
		parsed = 1;
	if (parsed && m.message_id[0] != '\0' && strlen(m.message_id) <= STORE_MSGID_MAX) {
		snprintf(msgid, sizeof(msgid), "%s", m.message_id);
	} else {
		/* no Message-ID: the message is named by where it is */
		snprintf(keyed, sizeof(keyed), "%s\n%s", pl->src->name, it->key);
		if (synth_message_id(keyed, strlen(keyed), msgid, sizeof(msgid), pl->e) == -1) {
			if (parsed)
				inbox_message_free(&m);
			return -1;
		}
	}
	if (parsed && !act_is_automatic(&m, pl->p))
		answer_to = m.from_addr;
	rc = store_inbound_known(pl->st, pl->src->name, it->key, msgid, pl->e);
	if (rc == 0)
		rc = poll_unreadable(pl, i, parsed ? &m : NULL, msgid, INTENT_OVERSIZE, reason,
		    answer_to, NULL);
	else if (rc == 1)
		rc = poll_duplicate(pl, i);
	if (parsed)
		inbox_message_free(&m);
	return rc;
}

/* What the classifier needs from the store: is this an answer to a Thing
 * we sent, is the sender an active participant.  *answered is set to the
 * first of our messages this one replies to (kind "" if none). */
static int
poll_context(struct poll *pl, const struct inbox_message *m, struct inbox_context *ctx,
    struct delivery *answered)
{
	const char *ids[INBOX_MAX_REFS + 1];
	struct participant part;
	size_t n = 0;
	int r;

	memset(ctx, 0, sizeof(*ctx));
	memset(answered, 0, sizeof(*answered));
	ctx->address = pl->p->cfg.address;
	ctx->delimiter = pl->p->cfg.delimiter;
	ctx->nthings = (int)pl->p->nthings;
	/* In-Reply-To first, then References from the most recent. */
	ids[n++] = m->in_reply_to;
	for (size_t k = m->nreferences; k > 0; k--)
		ids[n++] = m->references[k - 1];
	for (size_t k = 0; k < n; k++) {
		struct delivery d;

		if (ids[k] == NULL || ids[k][0] == '\0')
			continue;
		if ((r = store_delivery_by_message_id(pl->st, ids[k], &d, pl->e)) == -1)
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
		if ((r = store_participant_by_address(pl->st, m->from_addr, &part, pl->e)) == -1)
			return -1;
		ctx->from_participant = r == 0 && part.status == PS_ACTIVE;
	}
	return 0;
}

/* An answer to our own confirmation request confirms (or unsubscribes),
 * whatever its words: the token is the one we sent to that address. */
static void
poll_reply_to_request(const struct delivery *answered, struct inbox_intent *in)
{
	if (strcmp(answered->kind, DK_CONFIRM) == 0 &&
	    (in->kind == II_SUBSCRIBE || in->kind == II_UNKNOWN ||
	    (in->kind == II_CONFIRM && in->token[0] == '\0'))) {
		in->kind = II_CONFIRM;
		snprintf(in->token, sizeof(in->token), "%s", answered->key);
		in->reason = "reply to our confirmation request";
	} else if (strcmp(answered->kind, DK_UNSUB_CONFIRM) == 0 &&
	    in->kind == II_UNSUBSCRIBE && in->token[0] == '\0') {
		snprintf(in->token, sizeof(in->token), "%s", answered->key);
		in->reason = "reply to our unsubscribe confirmation";
	}
}

/* Classifies and acts in one transaction.  0 done, 1 duplicate, -1 the
 * message failed (reason in why), -2 the store failed (stop). */
static int
poll_act(struct poll *pl, size_t i, const struct inbox_message *m, const char *msgid,
    struct inbox_intent *in, struct err *why)
{
	struct act_request r;
	struct inbox_context ctx;
	struct delivery answered;
	char *body;
	int64_t id;
	int rc;

	if (poll_context(pl, m, &ctx, &answered) == -1)
		return -2;
	inbox_classify(m, &ctx, in);
	poll_reply_to_request(&answered, in);
	memset(&r, 0, sizeof(r));
	r.st = pl->st;
	r.p = pl->p;
	r.m = m;
	r.in = in;
	r.now = pl->now;
	base_record(pl, i, msgid, &r.rec);
	r.rec.sender = m->from_addr;
	r.rec.subject = m->subject;
	r.rec.intent = inbox_intent_name(in->kind);
	r.rec.thing = in->kind == II_REFLECTION ? in->thing : ctx.reply_to_thing;
	if ((body = bounded_text(m->fresh_text[0] ? m->fresh_text : m->text)) == NULL)
		return err_set(why, "out of memory");
	r.rec.body_text = body;
	if (store_begin(pl->st, pl->e) == -1) {
		free(body);
		return -2;
	}
	rc = act_on_message(&r, &id, why);
	if (rc == 0 && poll_advance(pl, i) == -1)
		rc = -2;
	if (rc == 0 && store_commit(pl->st, why) == -1)
		rc = -1;
	if (rc != 0)
		store_rollback(pl->st);
	free(body);
	return rc;
}

static int
poll_one(struct poll *pl, size_t i)
{
	const struct source_item *it = &pl->src->items[i];
	char synth[STORE_MSGID_MAX + 1], reason[ERR_MSG_MAX + 32];
	const char *msgid;
	struct inbox_message m;
	struct inbox_intent in;
	struct err why;
	int r;

	if ((r = store_inbound_known(pl->st, pl->src->name, it->key, "", pl->e)) != 0)
		return r == 1 ? poll_duplicate(pl, i) : -1;
	if (it->size > pl->src->max_size)
		return poll_oversize(pl, i);
	r = source_fetch(pl->src, i, 0, &pl->raw, pl->e);
	if (r == -1)
		return -1;
	if (r == SOURCE_GONE)
		return poll_advance(pl, i);
	if (r == SOURCE_TOO_BIG)
		return poll_oversize(pl, i);
	pl->stats->fetched++;
	if (synth_message_id(pl->raw.data, pl->raw.len, synth, sizeof(synth), pl->e) == -1)
		return -1;
	memset(&m, 0, sizeof(m));
	if (inbox_parse(pl->raw.data ? pl->raw.data : "", pl->raw.len, &m, &why) == -1) {
		snprintf(reason, sizeof(reason), "cannot parse: %s", why.msg);
		return poll_unreadable(pl, i, NULL, synth, INTENT_FAILED, reason, NULL, NULL);
	}
	msgid = m.message_id[0] != '\0' && strlen(m.message_id) <= STORE_MSGID_MAX ?
	    m.message_id : synth;
	if ((r = store_inbound_known(pl->st, pl->src->name, it->key, msgid, pl->e)) != 0) {
		inbox_message_free(&m);
		return r == 1 ? poll_duplicate(pl, i) : -1;
	}
	r = poll_act(pl, i, &m, msgid, &in, &why);
	if (r == -1) {
		char *body = bounded_text(m.text);

		snprintf(reason, sizeof(reason), "could not be handled: %s", why.msg);
		r = poll_unreadable(pl, i, &m, msgid, INTENT_FAILED, reason, NULL, body);
		free(body);
		inbox_message_free(&m);
		return r;
	}
	inbox_message_free(&m);
	if (r == -2)
		return -1;
	if (r == 1)
		return poll_duplicate(pl, i);
	if (poll_move(pl, i, SOURCE_FOLDER_PROCESSED) == -1)
		return -1;
	pl->stats->processed++;
	pl->stats->intents[in.kind]++;
	return 0;
}

int
inbox_poll(const struct programme *p, struct store *st, int64_t now,
    struct inbox_stats *stats, struct err *e)
{
	struct source_options o = { p->cfg.imap_ca_file, INBOX_MAX_MESSAGE_DEFAULT, 0 };
	struct poll pl;
	uint32_t uidvalidity = 0;
	size_t i;
	int r, rc = -1;

	memset(stats, 0, sizeof(*stats));
	memset(&pl, 0, sizeof(pl));
	pl.p = p;
	pl.st = st;
	pl.now = now;
	pl.stats = stats;
	pl.e = e;
	buf_init(&pl.raw, INBOX_MAX_MESSAGE_DEFAULT + 1);
	if (source_open(p->cfg.imap_url, &o, &pl.src, e) == -1)
		return err_prefix(e, "inbox");
	if ((r = store_mailbox_get(st, pl.src->name, &uidvalidity, &pl.last_uid, e)) == -1)
		goto out;
	if (r == 0 && uidvalidity != pl.src->uidvalidity) {
		/* A new UIDVALIDITY: the old last UID means nothing; what was
		 * recorded before is still recognised by Message-ID. */
		pl.last_uid = 0;
		if (store_mailbox_set(st, pl.src->name, pl.src->uidvalidity, 0, e) == -1)
			goto out;
	}
	if (r == 1)
		pl.last_uid = 0;
	if (source_list(pl.src, r == 0 ? uidvalidity : pl.src->uidvalidity, pl.last_uid, e) == -1)
		goto out;
	stats->listed = pl.src->nitems;
	for (i = 0; i < pl.src->nitems; i++) {
		if (poll_one(&pl, i) == -1) {
			err_prefix(e, "inbox: stopped after %zu of %zu messages", i, pl.src->nitems);
			goto out_keep;
		}
	}
	rc = 0;
	goto out_keep;
out:
	err_prefix(e, "inbox");
out_keep:
	source_close(pl.src);
	buf_free(&pl.raw);
	return rc;
}
