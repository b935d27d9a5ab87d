/*
 * message.c - from a queued delivery to a composed message: which template,
 * which variables (each kind's own: message_vars.c), which header fields.
 * The rendering is content/'s, the bytes are compose.c's; this file only
 * decides.
 */
#include <stdio.h>
#include <string.h>

#include "compose.h"
#include "internal.h"
#include "message_vars.h"

/* What each kind of message is.  Every kind but forwards goes to a
 * participant; one with an inbound message answers it (Auto-Submitted:
 * auto-replied, threading). */
static const struct kind_policy {
	const char *kind;
	int bulk;             /* a Thing: Precedence bulk, auto-generated */
	int forward;          /* to an organiser (about someone's mail: Reply-To) */
	int unsubscribe;      /* carries List-Unsubscribe */
	int per_recipient;    /* the template needs recipient values at prepare
	                       * time (a section on them): rendered each time */
	int active_only;      /* programme mail: not sent to someone who has left
	                       * (or was suspended) since it was queued */
} policies[MAILER_NKINDS] = {
	{ DK_THING, 1, 0, 1, 0, 1 },
	{ DK_CONFIRM, 0, 0, 0, 0, 0 },       /* not subscribed yet */
	{ DK_WELCOME, 0, 0, 1, 0, 0 },
	{ DK_REFLECTION_ACK, 0, 0, 1, 0, 0 },
	{ DK_HELP_ACK, 0, 0, 1, 0, 0 },
	{ DK_HELP_FORWARD, 0, 1, 0, 0, 0 },
	{ DK_UNKNOWN_FORWARD, 0, 1, 0, 0, 0 },
	{ DK_UNSUB_CONFIRM, 0, 0, 0, 0, 0 }, /* its own link does it */
	{ DK_GOODBYE, 0, 0, 0, 0, 0 },       /* already gone */
	{ DK_BLOG_ACK, 0, 0, 1, 1, 0 },      /* {{#feed_url}}: rare, once each */
	{ DK_SUSPENDED, 0, 1, 0, 1, 0 },     /* to organisers, about a participant;
	                                        {{#alt_address}}: rare, once each */
	{ DK_HELD_NOTICE, 0, 1, 0, 1, 0 },   /* about a held Thing; {{#reminder}}:
	                                        rare, once each */
	{ DK_DIGEST, 1, 0, 1, 1, 1 },     /* a body of its own for each */
	{ DK_FEED_BROKEN, 0, 0, 1, 1, 1 }, /* {{#problem_...}} */
	{ DK_OVERSIZE, 0, 0, 0, 0, 0 },      /* often to a non-participant */
	{ DK_FAILED_NOTICE, 0, 1, 0, 0, 0 },
	{ DK_TICKET_REMINDER, 0, 1, 0, 0, 0 },
	{ DK_COMMAND_ANSWER, 0, 0, 0, 0, 0 }, /* to an organiser */
	{ DK_ALT_CONFIRM, 0, 0, 0, 0, 0 },   /* to an address not (yet) theirs */
	{ DK_ALT_ACK, 0, 0, 1, 1, 0 },       /* {{#alt_requested}}... */
	{ DK_SUSPENDED_ALT, 0, 0, 0, 0, 0 }, /* suspended; not to their own address */
	{ DK_CERTIFICATE, 0, 0, 1, 0, 0 },   /* earned: sent even if they left since */
};

static const struct kind_policy *
policy_of(const char *kind, size_t *index)
{
	for (size_t i = 0; i < MAILER_NKINDS; i++) {
		if (strcmp(policies[i].kind, kind) == 0) {
			*index = i;
			return &policies[i];
		}
	}
	return NULL;
}

int
message_to_participant(const struct delivery *d, const struct participant *p)
{
	return p != NULL && strcmp(p->address, d->recipient) == 0;
}

int
message_active_only(const char *kind)
{
	size_t i;
	const struct kind_policy *k = policy_of(kind, &i);

	return k != NULL && k->active_only;
}

/* Variables every message has. */
static int
common_vars(struct mailer *m, const struct delivery *d, const struct participant *p,
    const struct kind_policy *k, struct vars *v, struct err *e)
{
	const struct programme_config *c = &m->p->cfg;

	STAT("programme", c->name);
	STAT("programme_address", c->address);
	STAT("help_address", m->help_addr);
	message_greeting_name(v->name, sizeof(v->name), k->forward ? NULL : p, d->recipient);
	PERS("name", v->name);
	PERS("address", d->recipient);
	/* the token is a secret of the participant's own address: mail to
	 * their alternate address does not carry it */
	if (message_to_participant(d, p) && !k->forward) {
		char tag[16 + TOKEN_HEX_LEN];

		snprintf(tag, sizeof(tag), "unsubscribe-%s", p->token);
		if (mailer_tagged(m, tag, v->unsub_addr, sizeof(v->unsub_addr), e) == -1)
			return -1;
		snprintf(v->unsub_mailto, sizeof(v->unsub_mailto), "mailto:%s", v->unsub_addr);
		if (c->unsubscribe_url != NULL && c->unsubscribe_url[0] != '\0')
			snprintf(v->unsub_https, sizeof(v->unsub_https), "%s%ctoken=%s",
			    c->unsubscribe_url, strchr(c->unsubscribe_url, '?') ? '&' : '?', p->token);
	}
	PERS("unsubscribe_mailto", v->unsub_mailto);
	return 0;
}

/* Renders d's template into m->personal: prepared once per run (per
 * Thing) and personalised, or, for a template with sections on recipient
 * values, rendered whole each time. */
static int
render(struct mailer *m, const struct delivery *d, const struct kind_policy *k,
    size_t kind_index, struct vars *v, struct err *e)
{
	struct prepared *pr = &m->kinds[kind_index];
	struct content_message one;
	int rc;

	if (k->per_recipient) {
		for (size_t i = 0; i < v->npers; i++)
			v->stat[v->nstat++] = v->pers[i];
		content_message_init(&one);
		rc = content_prepare(m->p, d->kind, v->stat, v->nstat, &one, e) == -1 ||
		    content_personalise(&one, NULL, 0, &m->personal, e) == -1 ? -1 : 0;
		content_message_free(&one);
		return rc;
	}
	if (kind_index == 0) { /* DK_THING: one per Thing */
		const struct thing *t = message_thing_of(m, d, e);

		if (t == NULL)
			return -1;
		pr = &m->things[t->number - 1];
	}
	if (!pr->ready) {
		content_message_init(&pr->msg);
		if (content_prepare(m->p, d->kind, v->stat, v->nstat, &pr->msg, e) == -1) {
			content_message_free(&pr->msg);
			return -1;
		}
		pr->ready = 1;
	}
	return content_personalise(&pr->msg, v->pers, v->npers, &m->personal, e);
}

int
message_sender(struct mailer *m, const struct delivery *d, const struct participant *p,
    char *out, size_t n, struct err *e)
{
	char tag[16 + TOKEN_HEX_LEN];
	size_t ki;
	const struct kind_policy *k = policy_of(d->kind, &ki);

	/* a forward's bounce is the organiser's, whoever it is about; a
	 * bounce of mail to another address than the participant's own (their
	 * alternate address) says nothing about theirs */
	if (!message_to_participant(d, p) || (k != NULL && k->forward))
		return mailer_tagged(m, "bounce", out, n, e);
	snprintf(tag, sizeof(tag), "bounce-%s", p->token);
	return mailer_tagged(m, tag, out, n, e);
}

/* The person a forward is about, whom Reply-To names; fills v->from.
 * Returns 0 for a participant (about filled in), 2 for a sender who is no
 * participant, 1 when there is no sender, -1 on a store error. */
static int
forward_origin(struct mailer *m, const struct inbound *in, struct participant *about,
    struct vars *v, struct err *e)
{
	int rc = 1;

	if (in == NULL || in->sender == NULL || in->sender[0] == '\0')
		return 1;
	if (in->participant_id > 0 &&
	    (rc = store_participant_by_id(m->st, in->participant_id, about, e)) == -1)
		return -1;
	if (rc == 0 && about->name[0] != '\0')
		snprintf(v->from, sizeof(v->from), "%s <%s>", about->name, in->sender);
	else
		snprintf(v->from, sizeof(v->from), "%s", in->sender);
	return rc == 0 ? 0 : 2;
}

static int
build(struct mailer *m, const struct delivery *d, const struct participant *p,
    const struct inbound *in, struct buf *out, struct err *e)
{
	const struct programme_config *c = &m->p->cfg;
	const struct kind_policy *k;
	struct compose_spec s = { 0 };
	struct participant about;
	size_t ki;
	struct vars v;
	int origin = 1;

	memset(&v, 0, sizeof(v));
	if ((k = policy_of(d->kind, &ki)) == NULL)
		return err_set(e, "delivery %lld: unknown kind '%s'", (long long)d->id, d->kind);
	if (k->forward && (origin = forward_origin(m, in, &about, &v, e)) == -1)
		return -1;
	if (common_vars(m, d, p, k, &v, e) == -1 || message_kind_vars(m, d, p, in, &v, e) == -1)
		return -1;
	if (render(m, d, k, ki, &v, e) == -1)
		return err_prefix(e, "delivery %lld (%s)", (long long)d->id, d->kind);
	if (strcmp(d->kind, DK_DIGEST) == 0 && digest_html_isolates(&m->personal.html) == -1)
		return err_set(e, "delivery %lld (%s): the HTML part is too large", (long long)d->id,
		    d->kind);

	s.from_name = c->name;
	s.from_addr = c->address;
	s.to_addr = d->recipient;
	s.subject = buf_str(&m->personal.subject);
	s.date = time_now();
	s.message_id = d->message_id;
	s.bulk = k->bulk;
	if (k->forward) {
		/* to an organiser, about someone else's mail, threaded with it so
		 * that the organiser's answer (to Reply-To) is too */
		if (origin != 1) {
			s.reply_to_name = origin == 0 ? about.name : NULL;
			s.reply_to_addr = in->sender;
		}
		s.in_reply_to = in != NULL ? in->message_id : NULL;
		s.auto_submitted = COMPOSE_AUTO_GENERATED;
	} else {
		s.to_name = p ? p->name : NULL;
		s.list_name = c->name;
		s.list_id = c->list_id;
		snprintf(v.help_mailto, sizeof(v.help_mailto), "mailto:%s", m->help_addr);
		s.help_mailto = v.help_mailto;
		if (k->unsubscribe && v.unsub_mailto[0] != '\0') {
			s.unsubscribe_mailto = v.unsub_mailto;
			s.unsubscribe_https = v.unsub_https;
		}
		if (!k->bulk && in != NULL) {
			s.in_reply_to = in->message_id;
			s.auto_submitted = COMPOSE_AUTO_REPLIED;
		} else {
			s.auto_submitted = COMPOSE_AUTO_GENERATED;
		}
	}
	s.text = buf_str(&m->personal.text);
	s.text_len = m->personal.text.len;
	s.html = buf_str(&m->personal.html);
	s.html_len = m->personal.html.len;
	if (compose_message(&s, out, e) == -1)
		return err_prefix(e, "delivery %lld (%s)", (long long)d->id, d->kind);
	return 0;
}

int
message_build(struct mailer *m, const struct delivery *d, const struct participant *p,
    struct buf *out, struct err *e)
{
	struct inbound in;
	int rc, have_in = 0;

	buf_reset(out);
	if (d->inbound_id > 0) {
		rc = store_inbound_get(m->st, d->inbound_id, &in, e);
		if (rc == -1)
			return -1;
		have_in = rc == 0;
	}
	rc = build(m, d, p, have_in ? &in : NULL, out, e);
	if (have_in)
		store_inbound_free(&in);
	return rc;
}

int
mailer_compose(struct mailer *m, const struct delivery *d, struct buf *out, struct err *e)
{
	struct participant p;
	int rc = 1;

	if (d->participant_id > 0 &&
	    (rc = store_participant_by_id(m->st, d->participant_id, &p, e)) == -1)
		return -1;
	if (d->participant_id > 0 && rc == 1)
		return err_set(e, "delivery %lld: participant %lld is gone", (long long)d->id,
		    (long long)d->participant_id);
	return message_build(m, d, rc == 0 ? &p : NULL, out, e);
}

int
mailer_preview_thing(struct mailer *m, int n, const struct participant *p, struct buf *raw,
    const char **text, const char **html, struct err *e)
{
	struct delivery d;

	memset(&d, 0, sizeof(d));
	d.participant_id = p->id;
	snprintf(d.recipient, sizeof(d.recipient), "%s", p->address);
	snprintf(d.kind, sizeof(d.kind), "%s", DK_THING);
	snprintf(d.key, sizeof(d.key), "%d", n);
	snprintf(d.message_id, sizeof(d.message_id), "preview.thing@%s", mailer_domain(m));
	if (message_build(m, &d, p, raw, e) == -1)
		return -1;
	*text = buf_str(&m->personal.text);
	*html = buf_str(&m->personal.html);
	return 0;
}
