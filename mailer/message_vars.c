/*
 * message_vars.c - what each kind of message says: the template variables
 * of a delivery, from the store and the programme (message.c decides the
 * rest: which template, which header fields).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../feeds/feeds.h"
#include "message_vars.h"

void
message_vars_add(struct tvar *v, size_t *n, const char *name, const char *value, int markdown)
{
	v[*n].name = name;
	v[*n].value = value ? value : "";
	v[*n].markdown = markdown;
	(*n)++;
}


const struct thing *
message_thing_of(const struct mailer *m, const struct delivery *d, struct err *e)
{
	const struct thing *t = NULL;
	int64_t n;

	if (str_to_int64(d->key, 1, 10000, &n) == 0)
		t = programme_thing(m->p, (int)n);
	if (t == NULL)
		err_set(e, "delivery %lld: no Thing '%.20s' in the programme", (long long)d->id, d->key);
	return t;
}

void
message_greeting_name(char *out, size_t n, const struct participant *p, const char *address)
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
	message_vars_add(v->stat, &v->nstat, "digest_body", buf_str(&m->digest), 1);
	STAT("week", v->week);
	return 0;
}

/* A feed that stopped working: what we saw, and a flag per kind of
 * problem for the template's advice. */
/* DK_CERTIFICATE: the participant's certificate, as issued. */
static int
certificate_vars(struct mailer *m, const struct delivery *d, const struct participant *p,
    struct vars *v, struct err *e)
{
	struct certificate c;
	int rc;

	if (p == NULL)
		return err_set(e, "delivery %lld: a certificate for nobody", (long long)d->id);
	if ((rc = store_certificate_get(m->st, p->id, &c, e)) != 0)
		return rc == 1 ? err_set(e, "delivery %lld: %s has no certificate", (long long)d->id,
		    p->address) : -1;
	snprintf(v->total, sizeof(v->total), "%zu", m->p->nthings);
	snprintf(v->done, sizeof(v->done), "%d", c.things);
	snprintf(v->number, sizeof(v->number), "%lld", (long long)c.number);
	date_text(v->start, sizeof(v->start), c.issued_at);
	STAT("things_count", v->total);
	PERS("done", v->done);
	PERS("certificate_number", v->number);
	PERS("completed_date", v->start);
	return 0;
}

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
		{ "problem_other", FP_OTHER }, { "problem_blocked", FP_BLOCKED },
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

/* A late-notice: Thing N (key "N-ID") is held, or (key "N-rDAYS-NOW") is
 * still held after DAYS days, a reminder; how many are now, and the
 * commands that show, release and skip them. */
static int
held_notice_vars(struct mailer *m, const struct delivery *d, struct vars *v, struct err *e)
{
	const struct thing *t = NULL;
	char n[NUM_MAX], conf[PATH_MAX + 16], days[NUM_MAX];
	const char *rest;
	int64_t number, held, ndays;
	int reminder;

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
	snprintf(v->command[2], sizeof(v->command[2]), "things -c %s release %d --skip", conf,
	    t->number);
	rest = d->key + strlen(n);
	reminder = strncmp(rest, "-r", 2) == 0;
	days[0] = '\0';
	if (reminder)
		snprintf(days, sizeof(days), "%.*s", (int)strcspn(rest + 2, "-"), rest + 2);
	if (str_to_int64(days, 0, 1000000, &ndays) == -1)
		ndays = 0;
	snprintf(v->waiting, sizeof(v->waiting), "%lld days", (long long)ndays);
	STAT("reminder", reminder ? "yes" : "");
	STAT("held_days", v->waiting);
	STAT("late_hours", v->total);
	PERS("thing_number", v->number);
	PERS("thing_title", t->title);
	PERS("held", v->done);
	PERS("release_command", v->command[0]);
	PERS("status_command", v->command[1]);
	PERS("skip_command", v->command[2]);
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

int
message_kind_vars(struct mailer *m, const struct delivery *d, const struct participant *p,
    const struct inbound *in, struct vars *v, struct err *e)
{
	const char *kind = d->kind;
	const struct thing *t;
	char tag[8 + NUM_MAX];
	int done = 0;

	if (strcmp(kind, DK_THING) == 0) {
		if ((t = message_thing_of(m, d, e)) == NULL)
			return -1;
		snprintf(v->number, sizeof(v->number), "%d", t->number);
		snprintf(tag, sizeof(tag), "done-%d", t->number);
		if (mailer_tagged(m, tag, v->tagged, sizeof(v->tagged), e) == -1)
			return -1;
		STAT("thing_number", v->number);
		STAT("thing_title", t->title);
		message_vars_add(v->stat, &v->nstat, "thing_body", t->markdown, 1);
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
	} else if (strcmp(kind, DK_CERTIFICATE) == 0) {
		return certificate_vars(m, d, p, v, e);
	}
	return 0;
}

