/* test_mailer_schedule.h - the scheduler tests' timeline: a twelve-Thing
 * programme on a real store sending into a Maildir, participants who join
 * and leave, runs on a simulated clock, organisers who release or skip
 * held Things; each scenario's end state checked.  Included by
 * test_mailer_schedule*.c only. */
#ifndef THINGS_TEST_MAILER_SCHEDULE_H
#define THINGS_TEST_MAILER_SCHEDULE_H

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../mailer/mailer.h"

#define T0 1799658000 /* Monday 2027-01-11 09:00 UTC: Thing 1 */
#define HOUR 3600
#define DAY 86400
#define NT 12
#define NP 3
#define NEV 20
#define R(n) (T0 + ((n) - 1) * 14 * DAY)   /* the cohort's release of Thing n */
#define NONE (-1)                          /* never queued */

enum ev_kind { END, TICK, TICK_RELEASES, JOIN, LEAVE, RELEASE, SKIP, SET_CATCH_UP };

struct event {
	enum ev_kind kind;
	int64_t at;
	int arg;        /* JOIN/LEAVE: the participant; RELEASE, SKIP: the Thing (0: all);
	                   SET_CATCH_UP: days; TICK_RELEASES: ticks at R(1)..R(arg) */
	int queued;     /* TICK: what the run must report queued (the follow-up
	                   schedules of the same run included); TICK_RELEASES: each */
	int held;
};

struct expect {
	int who, thing;
	int state;      /* enum delivery_state, or NONE */
	int64_t due;
};

struct scenario {
	const char *name;
	int self_paced, catch_up_days, send_late;
	int64_t release[NT];    /* 0: the cohort's R(n) */
	struct event ev[NEV];
	struct expect want[NEV];
	int notices;            /* late-notices queued in all (two organisers) */
};

#define TK(t, q, h) { TICK, (t), 0, (q), (h) }
#define JN(t, who) { JOIN, (t), (who), 0, 0 }
#define REL(t, n) { RELEASE, (t), (n), 0, 0 }
#define LV(t, who) { LEAVE, (t), (who), 0, 0 }
#define SKP(t, n) { SKIP, (t), (n), 0, 0 }
#define X9 (R(12) + 3 * DAY + HOUR)         /* when the organisers release Thing 9 */
#define SP(n) (T0 + ((n) - 1) * 14 * DAY)   /* self-paced, confirmed at T0: Thing n */

static const char *const who[NP] = { "ann@example.net", "bob@example.net", "cat@example.net" };
static char *organisers[] = { "org1@example.org", "org2@example.org" };

struct fixture {
	const struct scenario *sc;
	char dir[64];
	char outbox[128];
	char url[160];
	struct store *st;
	struct programme p;
	struct thing things[NT];
	struct mailer *m;
};

static __attribute__((unused)) int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const struct scenario *sc = *state;
	char db[128];
	struct err e;

	if (f == NULL)
		return -1;
	setenv("TZ", "UTC", 1);
	f->sc = sc;
	snprintf(f->dir, sizeof(f->dir), "/tmp/things-sched-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->outbox, sizeof(f->outbox), "%s/outbox", f->dir);
	snprintf(f->url, sizeof(f->url), "maildir:%s", f->outbox);
	snprintf(db, sizeof(db), "%s/things.db", f->dir);
	if (store_open(db, &f->st, &e) == -1) {
		print_error("%s\n", e.msg);
		return -1;
	}
	f->p.cfg.name = (char *)"Schedule Test";
	f->p.cfg.address = (char *)"things@example.org";
	f->p.cfg.delimiter = '+';
	f->p.cfg.organisers = organisers;
	f->p.cfg.norganisers = 2;
	f->p.cfg.start = T0;
	f->p.cfg.interval_days = 14;
	f->p.cfg.list_id = (char *)"schedule-test.example.org";
	f->p.cfg.smtp_url = f->url;
	f->p.cfg.smtp_connections = 1;
	f->p.cfg.self_paced = sc->self_paced;
	f->p.cfg.catch_up_days = sc->catch_up_days;
	f->p.cfg.max_lateness_hours = 72;
	f->p.cfg.send_late = sc->send_late;
	for (int i = 0; i < NT; i++) {
		f->things[i].number = i + 1;
		f->things[i].slug = (char *)"slug";
		f->things[i].title = (char *)"A Thing";
		f->things[i].path = (char *)"/nonexistent";
		f->things[i].markdown = (char *)"Try it.\n";
		f->things[i].release_at = sc->release[i] ? sc->release[i] : R(i + 1);
	}
	f->p.things = f->things;
	f->p.nthings = NT;
	if (mailer_new(&f->p, f->st, &f->m, &e) == -1) {
		print_error("%s\n", e.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static __attribute__((unused)) int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	mailer_free(f->m);
	store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static __attribute__((unused)) void
join(struct fixture *f, int i, int64_t at)
{
	struct participant p;
	struct err e;
	int rc;

	rc = store_participant_add(f->st, who[i], "", PS_PENDING, at, &p, &e);
	if (rc == -1 || store_participant_activate(f->st, p.id, at, &e) == -1)
		fail_msg("%s", e.msg);
}

static __attribute__((unused)) void
leave(struct fixture *f, int i, int64_t at)
{
	struct participant p;
	struct err e;

	if (store_participant_by_address(f->st, who[i], &p, &e) != 0 ||
	    store_participant_set_status(f->st, p.id, PS_UNSUBSCRIBED, at, &e) == -1)
		fail_msg("%s", e.msg);
}

/* A run: the schedule twice (the second finds nothing), then the send,
 * which schedules again what follows the Things it sent (cli/run.c). */
static __attribute__((unused)) void
tick(struct fixture *f, int64_t at, int queued, int held)
{
	struct mailer_stats first = { 0 }, again = { 0 }, sent = { 0 };
	struct err e;

	if (mailer_schedule(f->m, at, &first, &e) == -1 ||
	    mailer_schedule(f->m, at, &again, &e) == -1 ||
	    mailer_send_and_follow(f->m, at, &sent, &e) == -1)
		fail_msg("%s", e.msg);
	if ((int)(first.enqueued + sent.enqueued) != queued ||
	    (int)(first.held + sent.held) != held)
		fail_msg("%s: run at T0%+.2f days: %zu queued, %zu held; expected %d, %d",
		    f->sc->name, (double)(at - T0) / DAY, first.enqueued + sent.enqueued,
		    first.held + sent.held, queued, held);
	assert_int_equal(again.enqueued + again.held, 0);
	assert_int_equal(sent.failed + sent.deferred, 0);
}

/* An organiser's decision on the held deliveries of Thing ev->arg (0:
 * all): released, or skipped (SKIP: never sent, failed). */
static __attribute__((unused)) void
release(struct fixture *f, const struct event *ev)
{
	int (*decide)(struct store *, const char *, const char *, int64_t, int64_t *,
	    struct err *) = ev->kind == SKIP ? store_delivery_skip_held :
	    store_delivery_release_held;
	char key[8];
	int64_t n;
	struct err e;

	snprintf(key, sizeof(key), "%d", ev->arg);
	if (decide(f->st, ev->arg ? DK_THING : NULL, ev->arg ? key : NULL, ev->at, &n, &e) == -1)
		fail_msg("%s", e.msg);
	assert_true(n > 0);
}

/* fn(arg, name, text) for each message in the outbox (text: its first 64 KiB). */
static __attribute__((unused)) void
each_outbox_file(struct fixture *f, void (*fn)(void *arg, const char *name, const char *text),
    void *arg)
{
	char dir[192], path[512];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/new", f->outbox);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		static char data[65536];
		size_t len;
		FILE *fp;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		assert_non_null(fp = fopen(path, "rb"));
		len = fread(data, 1, sizeof(data) - 1, fp);
		fclose(fp);
		data[len] = '\0';
		fn(arg, de->d_name, data);
	}
	closedir(d);
}

struct with_both {
	const char *a, *b;
	size_t n;
};

static __attribute__((unused)) void
count_with_both(void *arg, const char *name, const char *text)
{
	struct with_both *w = arg;

	(void)name;
	w->n += strstr(text, w->a) != NULL && strstr(text, w->b) != NULL;
}

/* How many files of the outbox hold both a and b. */
static __attribute__((unused)) size_t
outbox_with(struct fixture *f, const char *a, const char *b)
{
	struct with_both w = { a, b, 0 };

	each_outbox_file(f, count_with_both, &w);
	return w.n;
}

/* One Thing message in the outbox: when it was written, which Thing. */
struct written {
	long long sec;
	long usec;
	int thing;
};

static __attribute__((unused)) int
by_time(const void *a, const void *b)
{
	const struct written *x = a, *y = b;

	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	return (x->usec > y->usec) - (x->usec < y->usec);
}

/* How many Things were sent to participant i, by the store. */
static __attribute__((unused)) size_t
sent_to(struct fixture *f, int i)
{
	struct delivery d;
	size_t n = 0;
	char key[8];
	struct err e;

	for (int t = 1; t <= NT; t++) {
		snprintf(key, sizeof(key), "%d", t);
		n += store_delivery_find(f->st, who[i], DK_THING, key, &d, &e) == 0 &&
		    d.state == DS_SENT;
	}
	return n;
}

struct things_to {
	char to[64];             /* "\nTo: <address>" (Maildir: LF line ends) */
	struct written w[NT * 2];
	size_t n;
};

static __attribute__((unused)) void
note_thing_to(void *arg, const char *name, const char *text)
{
	static const char subject[] = "\nSubject: Thing ";
	struct things_to *t = arg;
	const char *subj;

	if (strstr(text, t->to) == NULL || (subj = strstr(text, subject)) == NULL)
		return;
	assert_true(t->n < NT * 2);
	assert_int_equal(sscanf(name, "%lld.M%ld", &t->w[t->n].sec, &t->w[t->n].usec), 2);
	t->w[t->n++].thing = atoi(subj + strlen(subject));
}

/* The Things participant i got reached the Maildir in Thing order: the
 * file names carry the real time each was written ("SEC.MUSEC..."). */
static __attribute__((unused)) void
assert_in_order(struct fixture *f, int i)
{
	struct things_to t = { .n = 0 };

	snprintf(t.to, sizeof(t.to), "\nTo: <%s>", who[i]);
	each_outbox_file(f, note_thing_to, &t);
	assert_int_equal(t.n, sent_to(f, i));
	qsort(t.w, t.n, sizeof(t.w[0]), by_time);
	for (size_t k = 1; k < t.n; k++)
		if (t.w[k].thing <= t.w[k - 1].thing)
			fail_msg("%s: %s got Thing %d after Thing %d", f->sc->name, who[i],
			    t.w[k].thing, t.w[k - 1].thing);
}

static __attribute__((unused)) void
check(struct fixture *f, const struct expect *x)
{
	struct delivery d;
	char key[8];
	struct err e;
	int rc;

	snprintf(key, sizeof(key), "%d", x->thing);
	rc = store_delivery_find(f->st, who[x->who], DK_THING, key, &d, &e);
	assert_int_not_equal(rc, -1);
	if (x->state == NONE) {
		if (rc == 0)
			fail_msg("%s: %s has Thing %d (%s), expected none", f->sc->name, who[x->who],
			    x->thing, delivery_state_name(d.state));
		return;
	}
	if (rc == 1)
		fail_msg("%s: %s has no Thing %d", f->sc->name, who[x->who], x->thing);
	if ((int)d.state != x->state || d.due_at != x->due)
		fail_msg("%s: %s Thing %d: %s due T0%+.3f days; expected %s due T0%+.3f days",
		    f->sc->name, who[x->who], x->thing, delivery_state_name(d.state),
		    (double)(d.due_at - T0) / DAY, delivery_state_name(x->state),
		    (double)(x->due - T0) / DAY);
}

static __attribute__((unused)) void
test_scenario(void **state)
{
	struct fixture *f = *state;
	int64_t sent, notices, notices_sent;
	struct err e;

	for (const struct event *ev = f->sc->ev; ev < f->sc->ev + NEV && ev->kind != END; ev++) {
		switch (ev->kind) {
		case TICK:
			tick(f, ev->at, ev->queued, ev->held);
			break;
		case TICK_RELEASES:
			for (int n = 1; n <= ev->arg; n++)
				tick(f, R(n), ev->queued, ev->held);
			break;
		case JOIN:
			join(f, ev->arg, ev->at);
			break;
		case LEAVE:
			leave(f, ev->arg, ev->at);
			break;
		case RELEASE:
		case SKIP:
			release(f, ev);
			break;
		case SET_CATCH_UP:
			f->p.cfg.catch_up_days = ev->arg;
			break;
		case END:
			break;
		}
	}
	for (const struct expect *x = f->sc->want; x < f->sc->want + NEV && x->who >= 0; x++)
		check(f, x);
	assert_int_equal(store_delivery_count(f->st, DK_HELD_NOTICE, -1, &notices, &e), 0);
	assert_int_equal(store_delivery_count(f->st, DK_HELD_NOTICE, DS_SENT, &notices_sent, &e),
	    0);
	assert_int_equal(notices, f->sc->notices);
	assert_int_equal(notices_sent, notices);
	/* nothing was sent twice: one file per delivery sent */
	assert_int_equal(store_delivery_count(f->st, NULL, DS_SENT, &sent, &e), 0);
	assert_int_equal(outbox_with(f, "", ""), (size_t)sent);
	for (int i = 0; i < NP; i++)
		assert_in_order(f, i);
}

#endif
