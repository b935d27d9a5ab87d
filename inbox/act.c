/*
 * act.c - the handlers: what each intent changes in the store and which
 * answers it queues.  Everything runs inside inbox_poll's transaction.
 *
 * Answers are keyed as store.h says (the inbound id for acknowledgements
 * and forwards, the token for confirmations), so that a handler that runs
 * twice can never queue a message twice.
 */
#include <stdio.h>
#include <string.h>

#include "act.h"

#define CONFIRM_INTERVAL 3600 /* at most one confirmation per address per hour */
#define ANSWER_WINDOW 3600    /* answers_per_hour counts this far back */

/* Records the message with its outcome; 0, 1 (known already) or -1. */
static int
record(struct act *a, int64_t participant_id, const char *detail)
{
	int rc;

	a->r->rec.participant_id = participant_id;
	a->r->rec.detail = detail;
	rc = store_inbound_add(a->r->st, &a->r->rec, &a->inbound_id, a->e);
	if (rc == 0)
		snprintf(a->idkey, sizeof(a->idkey), "%lld", (long long)a->inbound_id);
	return rc;
}

int
act_record(struct act *a, int64_t participant_id, const char *detail)
{
	return record(a, participant_id, detail);
}

/* Queues one message; 0 new, 1 it was queued before (*id: that one). */
static int
enqueue(struct act *a, int64_t pid, const char *to, const char *kind, const char *key,
    int64_t *id)
{
	struct delivery_request d = {
		.participant_id = pid,
		.recipient = to,
		.kind = kind,
		.key = key,
		.due_at = a->r->now,
		.inbound_id = a->inbound_id,
		.msgid_domain = a->domain,
	};
	int64_t ignored;

	return store_delivery_enqueue(a->r->st, &d, a->r->now, id ? id : &ignored, a->e);
}

int
act_tell_organisers(struct act *a, const char *kind)
{
	const struct programme_config *c = &a->r->p->cfg;

	for (size_t i = 0; i < c->norganisers; i++)
		if (enqueue(a, 0, c->organisers[i], kind, a->idkey, NULL) == -1)
			return -1;
	return 0;
}

/* Whatever starts it, an answer loop (two robots answering each other, a
 * forged sender flooding someone) meets this limit: the message is still
 * recorded, and the record says what was not sent. */
int
act_answer(struct act *a, int64_t pid, const char *to, const char *kind, const char *key)
{
	int limit = a->r->p->cfg.answers_per_hour > 0 ? a->r->p->cfg.answers_per_hour :
	    ANSWERS_PER_HOUR_DEFAULT;
	char note[STORE_REASON_MAX + 1];
	int64_t n;

	if (store_answer_count(a->r->st, to, a->r->now - ANSWER_WINDOW, &n, a->e) == -1)
		return -1;
	if (n < limit)
		return enqueue(a, pid, to, kind, key, NULL) == -1 ? -1 : 0;
	snprintf(note, sizeof(note), "not answered (%s): %lld answers to this address in the "
	    "last hour, the limit is %d", kind, (long long)n, limit);
	log_info("inbox: %s: %s", to, note);
	return store_inbound_note(a->r->st, a->inbound_id, note, a->e);
}

/* Records and forwards: what happens to anything nobody else handles. */
static int
record_and_forward(struct act *a, int64_t pid, const char *detail)
{
	int rc = record(a, pid, detail);

	if (rc != 0)
		return rc;
	return act_tell_organisers(a, DK_UNKNOWN_FORWARD);
}

static int64_t
sender_id(const struct act *a)
{
	return a->have_sender ? a->sender.id : 0;
}

static int
sender_active(const struct act *a)
{
	return a->have_sender && a->sender.status == PS_ACTIVE;
}

/* Whether p gets a confirmation request now: at most one per
 * CONFIRM_INTERVAL, because the address may be forged and its owner must
 * not be flooded.  Renewing an older request gives p a new token.  Returns
 * 1 (send one, with p->confirm_token), 0 (not now) or -1; *detail says
 * which.  Decided before the message is recorded, queued after, so that
 * the request answers (In-Reply-To) the message that caused it. */
static int
confirm_due(struct act *a, struct participant *p, const char **detail)
{
	struct delivery d;
	int rc = 1;

	*detail = "confirmation requested";
	if (p->confirm_token[0] != '\0' &&
	    (rc = store_delivery_find(a->r->st, p->address, DK_CONFIRM, p->confirm_token, &d,
	    a->e)) == -1)
		return -1;
	if (rc == 1 && p->confirm_token[0] != '\0')
		return 1; /* a token nobody was sent yet */
	if (rc == 0) {
		if (d.due_at > a->r->now - CONFIRM_INTERVAL) {
			*detail = "confirmation already requested within the hour: not sent again";
			return 0;
		}
		*detail = "confirmation requested again";
	}
	if (store_participant_new_confirm_token(a->r->st, p->id, p->confirm_token, a->e) == -1)
		return -1;
	return 1;
}

/* A link we may store and later show: fits, and no user information
 * ("https://bank.example@evil.example/" is a phishing trick). */
static int
url_usable(const char *url)
{
	return url != NULL && url[0] != '\0' && strlen(url) <= STORE_URL_MAX &&
	    !inbox_url_has_userinfo(url);
}

/* The first link of a subscription or blog message is the blog. */
const char *
act_blog_url(const struct inbox_message *m, const struct inbox_intent *in)
{
	const char *url = in->url;

	if (url == NULL || url[0] == '\0')
		url = m->nlinks > 0 ? m->links[0] : NULL;
	return url_usable(url) ? url : NULL;
}

static const char *
message_url(const struct act *a)
{
	return act_blog_url(a->r->m, a->r->in);
}

static int
act_subscribe(struct act *a)
{
	const struct inbox_message *m = a->r->m;
	const char *detail = "already subscribed";
	const char *url = message_url(a);
	struct participant p;
	int rc, due = 0;

	if (a->have_sender) {
		p = a->sender;
	} else {
		rc = store_participant_add(a->r->st, m->from_addr, m->from_name, PS_PENDING,
		    a->r->now, &p, a->e);
		if (rc == -1)
			return -1;
	}
	/* Pending, unsubscribed or suspended: asking again means "confirm". */
	if (p.status != PS_ACTIVE && (due = confirm_due(a, &p, &detail)) == -1)
		return -1;
	if (url != NULL && store_participant_set_blog(a->r->st, p.id, url, "", a->e) == -1)
		return -1;
	if ((rc = record(a, p.id, detail)) != 0 || due == 0)
		return rc;
	return act_answer(a, p.id, p.address, DK_CONFIRM, p.confirm_token);
}

static int
act_confirm(struct act *a)
{
	const char *token = a->r->in->token;
	struct participant p;
	int rc;

	if (!token_valid(token))
		return record(a, sender_id(a), "confirmation without a valid token: ignored");
	if ((rc = store_participant_by_confirm_token(a->r->st, token, &p, a->e)) == -1)
		return -1;
	if (rc == 1 && (rc = store_participant_by_alt_token(a->r->st, token, &p, a->e)) == 0)
		return act_confirm_alternate(a, &p);
	if (rc == -1)
		return -1;
	if (rc == 1)
		return record(a, sender_id(a), "unknown or already used confirmation token");
	/* The token proves the mailbox received our request only if the
	 * answer comes from that same address. */
	if (strcmp(p.address, a->r->m->from_addr) != 0)
		return record_and_forward(a, sender_id(a), "confirmation of another address "
		    "(answered from a second address of the same person?): not confirmed; "
		    "forwarded");
	if (store_participant_activate(a->r->st, p.id, a->r->now, a->e) == -1)
		return -1;
	if ((rc = record(a, p.id, "subscription confirmed")) != 0)
		return rc;
	/* keyed by this confirmation: someone who leaves and joins again is
	 * welcomed again */
	return act_answer(a, p.id, p.address, DK_WELCOME, a->idkey);
}

/* Whoever has reflected on every Thing gets their certificate, once ever
 * (not limited like answers: it is what they worked for). */
static int
certify(struct act *a, const struct participant *p)
{
	const struct programme *prog = a->r->p;
	struct certificate c;
	char key[24], note[64];
	int done, rc;

	if (!prog->cfg.certificate || prog->nthings == 0)
		return 0;
	if (store_reflection_things(a->r->st, p->id, &done, a->e) == -1)
		return -1;
	if (done < (int)prog->nthings)
		return 0;
	rc = store_certificate_issue(a->r->st, p->id, (int)prog->nthings, a->r->now, &c, a->e);
	if (rc != 0)
		return rc == 1 ? 0 : -1;
	snprintf(key, sizeof(key), "%lld", (long long)c.number);
	snprintf(note, sizeof(note), "every Thing done: certificate %lld", (long long)c.number);
	if (store_inbound_note(a->r->st, a->inbound_id, note, a->e) == -1)
		return -1;
	return enqueue(a, p->id, p->address, DK_CERTIFICATE, key, NULL) == -1 ? -1 : 0;
}

static int
act_reflection(struct act *a)
{
	const struct inbox_intent *in = a->r->in;
	char mid[STORE_MSGID_MAX + 8];
	const char *url = in->url;
	int rc;

	if (!sender_active(a) || in->thing < 1 || in->thing > (int)a->r->p->nthings)
		return record_and_forward(a, sender_id(a),
		    "reflection not from an active participant, or for no Thing: forwarded");
	if (url != NULL && url[0] != '\0' && !url_usable(url))
		return record_and_forward(a, a->sender.id,
		    "reflection with a link too long or with user information: forwarded");
	/* A reflection written in the mail itself is identified by the mail. */
	if (url == NULL || url[0] == '\0') {
		snprintf(mid, sizeof(mid), "mid:%s", a->r->rec.message_id);
		url = mid;
	}
	if ((rc = record(a, a->sender.id, url)) != 0)
		return rc;
	if (store_reflection_add(a->r->st, a->sender.id, in->thing, url, a->inbound_id,
	    a->r->now, a->e) == -1 || certify(a, &a->sender) == -1)
		return -1;
	return act_answer(a, a->sender.id, a->sender.address, DK_REFLECTION_ACK, a->idkey);
}

/* The feed found (or not) for url before the transaction; the blog is
 * registered either way (feeds/ looks again when it polls). */
static const char *
blog_feed(const struct act *a, const char *url, char *detail, size_t n)
{
	const struct act_discovery *d = a->r->discovery;

	if (d == NULL || !d->done || strcmp(d->url, url) != 0) {
		snprintf(detail, n, "%s; feed not looked up yet", url);
		return "";
	}
	if (d->found) {
		snprintf(detail, n, "%s; feed %s", url, d->feed);
		return d->feed;
	}
	snprintf(detail, n, "%s; no feed found: %s", url, d->note);
	return "";
}

static int
act_blog(struct act *a)
{
	const char *url = message_url(a), *feed;
	char detail[2 * STORE_URL_MAX + STORE_REASON_MAX];
	int rc;

	if (!a->have_sender || a->sender.status == PS_UNSUBSCRIBED || url == NULL)
		return record_and_forward(a, sender_id(a),
		    "blog address not from a participant, or without a usable URL: forwarded");
	feed = blog_feed(a, url, detail, sizeof(detail));
	if (store_participant_set_blog(a->r->st, a->sender.id, url, feed, a->e) == -1)
		return -1;
	if ((rc = record(a, a->sender.id, detail)) != 0)
		return rc;
	return act_answer(a, a->sender.id, a->sender.address, DK_BLOG_ACK, a->idkey);
}

/* A help request becomes a ticket, open until an organiser answers it or
 * closes it; the organisers' forward names it. */
static int
act_help(struct act *a)
{
	int64_t ticket;
	char detail[64];
	int rc = record(a, sender_id(a), "forwarded to the organisers");

	if (rc != 0)
		return rc;
	if (store_ticket_open(a->r->st, a->inbound_id, sender_id(a), a->r->m->from_addr,
	    a->r->m->subject, a->r->rec.thing, a->r->now, &ticket, a->e) == -1)
		return -1;
	snprintf(detail, sizeof(detail), "ticket %lld", (long long)ticket);
	if (store_inbound_note(a->r->st, a->inbound_id, detail, a->e) == -1 ||
	    act_tell_organisers(a, DK_HELP_FORWARD) == -1)
		return -1;
	return act_answer(a, sender_id(a), a->r->m->from_addr, DK_HELP_ACK, a->idkey);
}

/* Unsubscribing needs proof of the mailbox: the participant's secret
 * token (in the +unsubscribe-TOKEN address of every mail we send), or a
 * confirmation sent to the address on file.  A forged From cannot remove
 * anyone. */
static int
act_unsubscribe(struct act *a)
{
	const char *token = a->r->in->token;
	struct participant p;
	struct delivery d;
	int rc = 1;

	if (token_valid(token) &&
	    (rc = store_participant_by_token(a->r->st, token, &p, a->e)) == -1)
		return -1;
	if (rc == 0) {
		if (p.status == PS_UNSUBSCRIBED)
			return record(a, p.id, "already unsubscribed");
		if (store_participant_set_status(a->r->st, p.id, PS_UNSUBSCRIBED, a->r->now,
		    a->e) == -1)
			return -1;
		if ((rc = record(a, p.id, a->quiet ? "unsubscribed (token, automatic message: "
		    "no goodbye)" : "unsubscribed (token)")) != 0 || a->quiet)
			return rc;
		return act_answer(a, p.id, p.address, DK_GOODBYE, a->idkey);
	}
	if (a->quiet && a->r->m->is_feedback_report)
		return record_and_forward(a, sender_id(a), "abuse report (feedback loop) whose "
		    "token names no participant: forwarded");
	if (a->quiet)
		return record(a, sender_id(a),
		    "automatic unsubscribe without a valid token: not answered");
	if (!a->have_sender || a->sender.status == PS_UNSUBSCRIBED)
		return record(a, sender_id(a), "unsubscribe from a non-participant: nothing to do");
	/* Keyed by the participant's token, which the confirmation address
	 * carries: asked once, answered once. */
	if ((rc = store_delivery_find(a->r->st, a->sender.address, DK_UNSUB_CONFIRM,
	    a->sender.token, &d, a->e)) == -1)
		return -1;
	if (rc == 0)
		return record(a, a->sender.id,
		    "unsubscribe confirmation requested before: not sent again");
	if ((rc = record(a, a->sender.id, "unsubscribe confirmation requested")) != 0)
		return rc;
	return act_answer(a, a->sender.id, a->sender.address, DK_UNSUB_CONFIRM, a->sender.token);
}

/* The length of s cut to at most max bytes on a character boundary. */
static int
utf8_prefix(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return (int)n;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return (int)max;
}

/* Counts a bounce to a participant's VERP address against them (hard for
 * 5.x.x, soft for 4.x.x or no status, not at all for a 5.7.x policy
 * refusal or a "delayed" warning): the score may suspend them, and the
 * organisers are then told.  Only the VERP token names the participant: a
 * bounce anyone can forge must not suspend anyone. */
static int
act_bounce(struct act *a)
{
	const struct inbox_message *m = a->r->m;
	const struct programme_config *c = &a->r->p->cfg;
	struct bounce_policy pol = {
		.threshold = c->bounce_threshold > 0 ? c->bounce_threshold : 5,
		.stale_days = c->bounce_stale_days > 0 ? c->bounce_stale_days : 7,
		.organisers = (const char *const *)c->organisers,
		.norganisers = c->norganisers,
		.msgid_domain = a->domain,
	};
	struct bounce_outcome out = { 0 };
	struct participant p;
	char detail[STORE_REASON_MAX + 1];
	enum bounce_severity sev = bounce_severity_of(m->dsn_status, 0, m->dsn_action);
	int64_t pid = 0;
	int rc;

	if (token_valid(a->r->in->token)) {
		rc = store_participant_by_token(a->r->st, a->r->in->token, &p, a->e);
		if (rc == -1)
			return -1;
		if (rc == 0)
			pid = p.id;
	}
	if (m->dsn_status[0] != '\0' || m->dsn_recipient[0] != '\0')
		snprintf(detail, sizeof(detail), "bounce: status %s for %s",
		    m->dsn_status[0] ? m->dsn_status : "?",
		    m->dsn_recipient[0] ? m->dsn_recipient : "?");
	else /* qmail's, Exchange's "Undeliverable:": the subject is all we can show */
		snprintf(detail, sizeof(detail), "bounce without a delivery status report: \"%.*s\" "
		    "from %.*s", utf8_prefix(m->subject, 120), m->subject,
		    utf8_prefix(m->from_addr[0] ? m->from_addr : "<>", 100),
		    m->from_addr[0] ? m->from_addr : "<>");
	if (pid > 0 && store_participant_bounce(a->r->st, pid, sev, detail, a->r->now, &pol, &out,
	    a->e) == -1)
		return -1;
	snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), "%s",
	    pid == 0 ? "" : sev == BOUNCE_NONE ? " (not counted: no sign of a dead address)" :
	    !out.counted ? " (not counted: one was counted within the day)" :
	    out.suspended ? " (counted; participant suspended)" : " (counted)");
	log_info("inbox: %s (participant %lld, score %g)", detail, (long long)pid, out.score);
	return record(a, pid, detail);
}

int
act_is_automatic(const struct inbox_message *m, const struct programme *p)
{
	const char *own = p->cfg.address;
	const char *at = strrchr(own, '@');
	size_t local = at ? (size_t)(at - own) : 0;
	const char *from = m->from_addr;

	if (m->auto_submitted || m->bulk || m->null_sender || m->is_feedback_report ||
	    from[0] == '\0')
		return 1;
	/* our own address, or one of its +tag forms: a loop */
	if (strcmp(from, own) == 0)
		return 1;
	if (at != NULL && strncmp(from, own, local) == 0 && from[local] == p->cfg.delimiter) {
		const char *fat = strrchr(from, '@');

		if (fat != NULL && strcmp(fat, at) == 0)
			return 1;
	}
	return 0;
}

const char *
act_domain(const struct programme *p)
{
	const char *d = addr_domain(p->cfg.address);

	return d && *d ? d : "invalid";
}

int
act_on_message(struct act_request *r, int64_t *id, struct err *e)
{
	struct act a;
	int rc = 0;

	memset(&a, 0, sizeof(a));
	a.r = r;
	a.e = e;
	a.domain = act_domain(r->p);
	if (r->m->from_addr[0] != '\0') {
		rc = store_participant_by_address(r->st, r->m->from_addr, &a.sender, e);
		if (rc == -1)
			return -1;
		a.have_sender = rc == 0;
	}
	if (r->in->kind == II_BOUNCE) {
		rc = act_bounce(&a);
	} else if (r->in->kind == II_AUTOREPLY) {
		rc = record(&a, sender_id(&a), r->in->reason ? r->in->reason : "automatic reply");
	} else if (r->in->kind == II_UNSUBSCRIBE && act_is_automatic(r->m, r->p)) {
		/* A mail client answering our List-Unsubscribe mailto may mark
		 * its mail automatic: the unsubscribe counts, nothing is sent. */
		a.quiet = 1;
		rc = act_unsubscribe(&a);
	} else if (r->in->kind == II_UNKNOWN && r->m->is_feedback_report) {
		/* automatic, but someone complained of our mail: a person must
		 * stop it (never answered: it goes back to the provider) */
		rc = record_and_forward(&a, sender_id(&a), r->in->reason);
	} else if (act_is_automatic(r->m, r->p)) {
		rc = record(&a, sender_id(&a), "automatic, bulk or own message: not answered");
	} else {
		switch (r->in->kind) {
		case II_SUBSCRIBE: rc = act_subscribe(&a); break;
		case II_CONFIRM: rc = act_confirm(&a); break;
		case II_REFLECTION: rc = act_reflection(&a); break;
		case II_BLOG: rc = act_blog(&a); break;
		case II_HELP: rc = act_help(&a); break;
		case II_UNSUBSCRIBE: rc = act_unsubscribe(&a); break;
		case II_COMMAND: rc = act_command(&a); break;
		case II_TICKET_REPLY: rc = act_ticket_reply(&a); break;
		case II_ALTERNATE: rc = act_alternate(&a); break;
		default:
			rc = record_and_forward(&a, sender_id(&a),
			    r->in->reason ? r->in->reason : "not understood: forwarded");
			break;
		}
	}
	if (rc == 0)
		*id = a.inbound_id;
	return rc;
}

int
act_unreadable(struct act_request *r, const char *answer_to, int64_t *id, struct err *e)
{
	struct act a;
	int rc;

	memset(&a, 0, sizeof(a));
	a.r = r;
	a.e = e;
	a.domain = act_domain(r->p);
	if ((rc = record(&a, 0, r->rec.detail)) != 0)
		return rc;
	if (act_tell_organisers(&a, DK_FAILED_NOTICE) == -1)
		return -1;
	if (answer_to != NULL && answer_to[0] != '\0' &&
	    act_answer(&a, 0, answer_to, DK_OVERSIZE, a.idkey) == -1)
		return -1;
	*id = a.inbound_id;
	return 0;
}
