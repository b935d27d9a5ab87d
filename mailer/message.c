/*
 * message.c - from a queued delivery to a composed message: which template,
 * which variables, which header fields.  The rendering is content/'s, the
 * bytes are compose.c's; this file only decides.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../feeds/feeds.h"
#include "compose.h"
#include "internal.h"

#define NUM_MAX 24
#define WHERE_MAX 160

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
	{ DK_HELD_NOTICE, 0, 1, 0, 0, 0 },   /* about a held Thing */
	{ DK_DIGEST, 1, 0, 1, 1, 1 },     /* a body of its own for each */
	{ DK_FEED_BROKEN, 0, 0, 1, 1, 1 }, /* {{#problem_...}} */
	{ DK_OVERSIZE, 0, 0, 0, 0, 0 },      /* often to a non-participant */
	{ DK_FAILED_NOTICE, 0, 1, 0, 0, 0 },
	{ DK_TICKET_REMINDER, 0, 1, 0, 0, 0 },
	{ DK_COMMAND_ANSWER, 0, 0, 0, 0, 0 }, /* to an organiser */
	{ DK_ALT_CONFIRM, 0, 0, 0, 0, 0 },   /* to an address not (yet) theirs */
	{ DK_ALT_ACK, 0, 0, 1, 1, 0 },       /* {{#alt_requested}}... */
	{ DK_SUSPENDED_ALT, 0, 0, 0, 0, 0 }, /* suspended; not to their own address */
};

/* Template variables of one message: the programme-wide ones (given to
 * content_prepare) and the recipient's (content_personalise), with the
 * storage their values point into. */
struct vars {
	struct tvar stat[32], pers[24];
	size_t nstat, npers;
	char name[STORE_NAME_MAX + 1];
	char unsub_addr[ADDR_MAX + 1], unsub_mailto[ADDR_MAX + 8];
	char unsub_https[STORE_URL_MAX + 64];
	char tagged[ADDR_MAX + 1];        /* the kind's own address */
	char number[NUM_MAX], done[NUM_MAX], total[NUM_MAX], start[64];
	char from[STORE_NAME_MAX + ADDR_MAX + 8];
	char help_mailto[ADDR_MAX + 8];
	struct participant about;         /* DK_SUSPENDED: whom it is about */
	char command[2][PATH_MAX + 64];  /* things -c CONFIG release N, ... status */
	char since[64];
	char week[STORE_WEEK_MAX + 1];
	struct feed feed;                 /* feed-broken: the feed */
	char ticket[NUM_MAX], waiting[32], limit[32], where[WHERE_MAX];
};

static void
add(struct tvar *v, size_t *n, const char *name, const char *value, int markdown)
{
	v[*n].name = name;
	v[*n].value = value ? value : "";
	v[*n].markdown = markdown;
	(*n)++;
}

#define STAT(name, value) add(v->stat, &v->nstat, name, value, 0)
#define PERS(name, value) add(v->pers, &v->npers, name, value, 0)

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

/* The Thing a DK_THING delivery carries, from its key. */
static const struct thing *
thing_of(const struct mailer *m, const struct delivery *d, struct err *e)
{
	const struct thing *t = NULL;
	int64_t n;

	if (str_to_int64(d->key, 1, 10000, &n) == 0)
		t = programme_thing(m->p, (int)n);
	if (t == NULL)
		err_set(e, "delivery %lld: no Thing '%.20s' in the programme", (long long)d->id, d->key);
	return t;
}

/* The display name to greet: the participant's, else the local part. */
static void
greeting_name(char *out, size_t n, const struct participant *p, const char *address)
{
	if (p != NULL && p->name[0] != '\0')
		snprintf(out, n, "%s", p->name);
	else
		snprintf(out, n, "%.*s", (int)strcspn(address, "@"), address);
}

static void
date_text(char *out, size_t n, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL || strftime(out, n, "%A %-d %B %Y", &tm) == 0)
		snprintf(out, n, "?");
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
	greeting_name(v->name, sizeof(v->name), k->forward ? NULL : p, d->recipient);
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

/* A token-bearing address from the delivery key ("confirm-KEY"). */
static int
key_address(struct mailer *m, const struct delivery *d, const char *what, struct vars *v,
    struct err *e)
{
	char tag[32 + TOKEN_HEX_LEN];

	if (!token_valid(d->key))
		return err_set(e, "delivery %lld: key is not a token", (long long)d->id);
	snprintf(tag, sizeof(tag), "%s-%s", what, d->key);
	if (mailer_tagged(m, tag, v->tagged, sizeof(v->tagged), e) == -1)
		return -1;
	PERS("confirm_address", v->tagged);
	return 0;
}

/* DK_SUSPENDED: the participant named by the key "ID.TIME", as they are
 * now (score and last bounce). */
static int
suspended_vars(struct mailer *m, const struct delivery *d, struct vars *v, struct err *e)
{
	const struct programme_config *c = &m->p->cfg;
	struct participant *a = &v->about;
	char id_text[NUM_MAX];
	int64_t id;
	int rc;

	snprintf(id_text, sizeof(id_text), "%.*s", (int)strcspn(d->key, "."), d->key);
	if (str_to_int64(id_text, 1, INT64_MAX, &id) == -1)
		return err_set(e, "delivery %lld: key '%.40s' names no participant", (long long)d->id,
		    d->key);
	if ((rc = store_participant_by_id(m->st, id, a, e)) == -1)
		return -1;
	if (rc == 1)
		return err_set(e, "delivery %lld: participant %lld is gone", (long long)d->id,
		    (long long)id);
	if (a->name[0] != '\0')
		snprintf(v->from, sizeof(v->from), "%s <%s>", a->name, a->address);
	else
		snprintf(v->from, sizeof(v->from), "%s", a->address);
	snprintf(v->number, sizeof(v->number), "%g", a->bounce_score);
	snprintf(v->total, sizeof(v->total), "%d", c->bounce_threshold > 0 ? c->bounce_threshold : 5);
	PERS("participant", v->from);
	PERS("participant_address", a->address);
	PERS("bounce_score", v->number);
	PERS("bounce_threshold", v->total);
	PERS("bounce_reason", a->bounce_reason[0] ? a->bounce_reason : "(not recorded)");
	PERS("alt_address", a->alt_address);
	return 0;
}

/* The alternate address kinds: the participant's own address, and for
 * DK_ALT_ACK what happened to the alternate (its key "WHAT-INBOUND_ID"). */
static int
alt_vars(struct mailer *m, const struct delivery *d, const struct participant *p,
    struct vars *v, struct err *e)
{
	static const struct {
		const char *what, *var;
	} acks[] = {
		{ "requested", "alt_requested" }, { "confirmed", "alt_confirmed" },
		{ "cleared", "alt_cleared" },
	};
	size_t wl = strcspn(d->key, "-");
	int requested = 0;

	if (p == NULL)
		return err_set(e, "delivery %lld: no participant", (long long)d->id);
	if (strcmp(d->kind, DK_SUSPENDED_ALT) == 0) {
		if (mailer_tagged(m, "subscribe", v->tagged, sizeof(v->tagged), e) == -1)
			return -1;
		PERS("subscribe_address", v->tagged);
		return suspended_vars(m, d, v, e);
	}
	PERS("participant_address", p->address);
	if (strcmp(d->kind, DK_ALT_CONFIRM) == 0)
		return key_address(m, d, "confirm", v, e);
	for (size_t i = 0; i < sizeof(acks) / sizeof(acks[0]); i++) {
		int this = strlen(acks[i].what) == wl && strncmp(d->key, acks[i].what, wl) == 0;

		PERS(acks[i].var, this ? "yes" : "");
		requested |= this && i == 0;
	}
	PERS("alt_address", requested && p->alt_pending[0] ? p->alt_pending : p->alt_address);
	return 0;
}

/* A digest: its body is built now, for this recipient alone. */
static int
digest_vars(struct mailer *m, const struct delivery *d, const struct participant *p,
    struct vars *v, struct err *e)
{
	struct digest_edition ed;

	if (digest_edition_of(m, d, &ed, e) == -1 ||
	    digest_compose_body(m, &ed, p ? p->id : 0, NULL, e) == -1)
		return -1;
	snprintf(v->week, sizeof(v->week), "%s", ed.week);
	add(v->stat, &v->nstat, "digest_body", buf_str(&m->digest), 1);
	STAT("week", v->week);
	return 0;
}

/* A feed that stopped working: what we saw, and a flag per kind of
 * problem for the template's advice. */
static int
feed_broken_vars(struct mailer *m, const struct delivery *d, const struct participant *p,
    struct vars *v, struct err *e)
{
	static const struct {
		const char *var;
		enum feeds_problem problem;
	} flags[] = {
		{ "problem_gone", FP_GONE }, { "problem_private", FP_PRIVATE },
		{ "problem_missing", FP_MISSING }, { "problem_web_page", FP_WEB_PAGE },
		{ "problem_not_a_feed", FP_NOT_A_FEED }, { "problem_unreachable", FP_UNREACHABLE },
		{ "problem_other", FP_OTHER },
	};
	int problem;

	if (notice_feed_of(m, d, &v->feed, &problem, e) == -1)
		return -1;
	if (problem == FP_NONE)
		problem = FP_OTHER; /* fixed since it was queued: the advice still fits */
	snprintf(v->number, sizeof(v->number), "%d", v->feed.failures);
	if (v->feed.last_ok_at > 0)
		date_text(v->since, sizeof(v->since), v->feed.last_ok_at);
	PERS("blog_url", p && p->blog_url[0] ? p->blog_url : v->feed.url);
	PERS("blog_address", m->blog_addr);
	PERS("feed_url", v->feed.url);
	PERS("error", v->feed.last_error);
	PERS("failures", v->number);
	PERS("last_ok", v->since);
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		PERS(flags[i].var, (int)flags[i].problem == problem ? "yes" : "");
	return 0;
}

/* path as one shell word: as is when it is plain, else in single quotes
 * (a quote in it as '\'').  -1 if it does not fit. */
static int
shell_word(const char *path, char *out, size_t n)
{
	size_t o = 0;

	if (path[strspn(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789/._+-,:@=%")] == '\0')
		return (size_t)snprintf(out, n, "%s", path) < n ? 0 : -1;
	if (o + 1 < n)
		out[o++] = '\'';
	for (; *path && o + 5 < n; path++) {
		if (*path == '\'') {
			memcpy(out + o, "'\\''", 4);
			o += 4;
		} else {
			out[o++] = *path;
		}
	}
	if (*path != '\0' || o + 2 > n)
		return -1;
	out[o++] = '\'';
	out[o] = '\0';
	return 0;
}

/* A late-notice: Thing N (key "N-ID") is held; how many are now, and the
 * commands that show and release them. */
static int
held_notice_vars(struct mailer *m, const struct delivery *d, struct vars *v, struct err *e)
{
	const struct thing *t = NULL;
	char n[NUM_MAX], conf[PATH_MAX + 16];
	int64_t number, held;

	snprintf(n, sizeof(n), "%.*s", (int)strcspn(d->key, "-"), d->key);
	if (str_to_int64(n, 1, 10000, &number) == 0)
		t = programme_thing(m->p, (int)number);
	if (t == NULL)
		return err_set(e, "delivery %lld: no Thing '%.20s' in the programme", (long long)d->id,
		    d->key);
	if (store_delivery_count_key(m->st, DK_THING, n, DS_HELD, &held, e) == -1)
		return -1;
	snprintf(v->number, sizeof(v->number), "%d", t->number);
	snprintf(v->done, sizeof(v->done), "%lld", (long long)held);
	snprintf(v->total, sizeof(v->total), "%d", m->p->cfg.max_lateness_hours);
	/* without its config (a hand-built programme) the command finds ./things.conf */
	if (m->p->cfg.path == NULL || shell_word(m->p->cfg.path, conf, sizeof(conf)) == -1)
		snprintf(conf, sizeof(conf), "things.conf");
	snprintf(v->command[0], sizeof(v->command[0]), "things -c %s release %d", conf, t->number);
	snprintf(v->command[1], sizeof(v->command[1]), "things -c %s status", conf);
	STAT("late_hours", v->total);
	PERS("thing_number", v->number);
	PERS("thing_title", t->title);
	PERS("held", v->done);
	PERS("release_command", v->command[0]);
	PERS("status_command", v->command[1]);
	return 0;
}

/* What the organisers' notices add to a forward: the ticket of a help
 * request and how long it has waited, where a failed message was put. */
static int
forward_vars(struct mailer *m, const struct delivery *d, const struct inbound *in,
    struct vars *v, struct err *e)
{
	const struct programme_config *c = &m->p->cfg;
	struct ticket t;
	int64_t hours;
	int rc = 1;

	if (in != NULL && (strcmp(d->kind, DK_HELP_FORWARD) == 0 ||
	    strcmp(d->kind, DK_TICKET_REMINDER) == 0) &&
	    (rc = store_ticket_by_inbound(m->st, in->id, &t, e)) == -1)
		return -1;
	if (rc == 0) {
		snprintf(v->ticket, sizeof(v->ticket), "%lld", (long long)t.id);
		hours = (time_now() - t.opened_at) / 3600;
		if (hours >= 48)
			snprintf(v->waiting, sizeof(v->waiting), "%lld days", (long long)(hours / 24));
		else
			snprintf(v->waiting, sizeof(v->waiting), "%lld hours",
			    (long long)(hours > 0 ? hours : 0));
	}
	if (c->inbox_flag_only)
		snprintf(v->where, sizeof(v->where), "still in the programme's inbox, flagged");
	else
		snprintf(v->where, sizeof(v->where), "in the folder \"%s\" of the programme's "
		    "mailbox", c->inbox_failed ? c->inbox_failed : "Failed");
	PERS("ticket", v->ticket);
	PERS("waiting", v->waiting);
	PERS("where", v->where);
	return 0;
}

/* The variables of each kind.  in is the message answered or forwarded
 * (NULL if none). */
static int
kind_vars(struct mailer *m, const struct delivery *d, const struct participant *p,
    const struct inbound *in, struct vars *v, struct err *e)
{
	const char *kind = d->kind;
	const struct thing *t;
	char tag[8 + NUM_MAX];
	int done = 0;

	if (strcmp(kind, DK_THING) == 0) {
		if ((t = thing_of(m, d, e)) == NULL)
			return -1;
		snprintf(v->number, sizeof(v->number), "%d", t->number);
		snprintf(tag, sizeof(tag), "done-%d", t->number);
		if (mailer_tagged(m, tag, v->tagged, sizeof(v->tagged), e) == -1)
			return -1;
		STAT("thing_number", v->number);
		STAT("thing_title", t->title);
		add(v->stat, &v->nstat, "thing_body", t->markdown, 1);
		STAT("reflection_address", v->tagged);
	} else if (strcmp(kind, DK_CONFIRM) == 0) {
		return key_address(m, d, "confirm", v, e);
	} else if (strcmp(kind, DK_UNSUB_CONFIRM) == 0) {
		return key_address(m, d, "unsubscribe", v, e);
	} else if (strcmp(kind, DK_WELCOME) == 0) {
		snprintf(v->total, sizeof(v->total), "%zu", m->p->nthings);
		date_text(v->start, sizeof(v->start), m->p->cfg.start);
		STAT("things_count", v->total);
		STAT("blog_address", m->blog_addr);
		STAT("start_date", v->start);
	} else if (strcmp(kind, DK_REFLECTION_ACK) == 0) {
		t = in ? programme_thing(m->p, in->thing) : NULL;
		if (p != NULL && store_reflection_things(m->st, p->id, &done, e) == -1)
			return -1;
		snprintf(v->number, sizeof(v->number), "%d", in ? in->thing : 0);
		snprintf(v->done, sizeof(v->done), "%d", done);
		snprintf(v->total, sizeof(v->total), "%zu", m->p->nthings);
		STAT("total", v->total);
		PERS("thing_number", v->number);
		PERS("thing_title", t ? t->title : "");
		PERS("url", in ? in->detail : "");
		PERS("done", v->done);
	} else if (strcmp(kind, DK_HELP_ACK) == 0) {
		PERS("subject", in ? in->subject : "");
	} else if (strcmp(kind, DK_HELP_FORWARD) == 0 || strcmp(kind, DK_UNKNOWN_FORWARD) == 0 ||
	    strcmp(kind, DK_FAILED_NOTICE) == 0 || strcmp(kind, DK_TICKET_REMINDER) == 0) {
		snprintf(v->number, sizeof(v->number), "%d", in ? in->thing : 0);
		if (in && in->thing == 0)
			v->number[0] = '\0';
		PERS("from", v->from);
		PERS("subject", in ? in->subject : "");
		PERS("body", in ? in->body_text : "");
		PERS("thing_number", v->number);
		PERS("reason", in && in->detail && in->detail[0] ? in->detail : in ? in->intent : "");
		return forward_vars(m, d, in, v, e);
	} else if (strcmp(kind, DK_OVERSIZE) == 0) {
		int kib = m->p->cfg.inbox_max_kib > 0 ? m->p->cfg.inbox_max_kib : 10 * 1024;

		/* a no-break space: the number and its unit stay on one line */
		snprintf(v->limit, sizeof(v->limit), kib >= 1024 ? "%d\u00a0MB" : "%d\u00a0KB",
		    kib >= 1024 ? kib / 1024 : kib);
		STAT("limit", v->limit);
		PERS("subject", in ? in->subject : "");
	} else if (strcmp(kind, DK_COMMAND_ANSWER) == 0) {
		PERS("subject", in ? in->subject : "");
		PERS("result", in ? in->detail : "");
	} else if (strcmp(kind, DK_HELD_NOTICE) == 0) {
		return held_notice_vars(m, d, v, e);
	} else if (strcmp(kind, DK_BLOG_ACK) == 0) {
		PERS("blog_url", p ? p->blog_url : "");
		PERS("feed_url", p ? p->feed_url : "");
	} else if (strcmp(kind, DK_SUSPENDED) == 0) {
		return suspended_vars(m, d, v, e);
	} else if (strcmp(kind, DK_ALT_CONFIRM) == 0 || strcmp(kind, DK_ALT_ACK) == 0 ||
	    strcmp(kind, DK_SUSPENDED_ALT) == 0) {
		return alt_vars(m, d, p, v, e);
	} else if (strcmp(kind, DK_DIGEST) == 0) {
		return digest_vars(m, d, p, v, e);
	} else if (strcmp(kind, DK_FEED_BROKEN) == 0) {
		return feed_broken_vars(m, d, p, v, e);
	}
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
		const struct thing *t = thing_of(m, d, e);

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
	if (common_vars(m, d, p, k, &v, e) == -1 || kind_vars(m, d, p, in, &v, e) == -1)
		return -1;
	if (render(m, d, k, ki, &v, e) == -1)
		return err_prefix(e, "delivery %lld (%s)", (long long)d->id, d->kind);

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
