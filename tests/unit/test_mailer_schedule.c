/* Unit tests for mailer_schedule on a real store and a simulated clock:
 * each scenario is a timeline (participants join and leave, runs tick,
 * organisers release, the config changes) played against a twelve-Thing
 * programme that sends into a Maildir; at every tick the schedule runs
 * twice (the second run must find nothing new) and then sends (with the
 * Things that follow one sent in the same run).  The end state of every
 * (participant, Thing) is checked: state and due time; and each
 * participant's Things must have reached the Maildir in order. */
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

enum ev_kind { END, TICK, TICK_RELEASES, JOIN, LEAVE, RELEASE, SET_CATCH_UP };

struct event {
	enum ev_kind kind;
	int64_t at;
	int arg;        /* JOIN/LEAVE: the participant; RELEASE: the Thing (0: all);
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
#define X9 (R(12) + 3 * DAY + HOUR)         /* when the organisers release Thing 9 */
#define SP(n) (T0 + ((n) - 1) * 14 * DAY)   /* self-paced, confirmed at T0: Thing n */

static const struct scenario scenarios[] = {
	{ "cohort: each Thing at its release, on time", 0, 2, 0, { 0 },
	  { JN(T0 - DAY, 0), TK(T0 - 1, 0, 0), TK(T0, 1, 0), TK(R(2), 1, 0), TK(R(3) + HOUR, 1, 0),
	    TK(R(4), 1, 0), TK(R(5) + 2 * DAY, 1, 0) },
	  { { 0, 1, DS_SENT, R(1) }, { 0, 2, DS_SENT, R(2) }, { 0, 3, DS_SENT, R(3) },
	    { 0, 4, DS_SENT, R(4) }, { 0, 5, DS_SENT, R(5) }, { 0, 6, NONE, 0 }, { -1, 0, 0, 0 } },
	  0 },

	{ "late joiner, catch_up_days 0: the Things out, all at once, in order", 0, 0, 0, { 0 },
	  { JN(T0 - DAY, 0), TK(T0, 1, 0), TK(R(2), 1, 0), TK(R(3), 1, 0), JN(T0 + 30 * DAY, 1),
	    TK(T0 + 30 * DAY, 3, 0), TK(R(4), 2, 0) },
	  { { 1, 1, DS_SENT, T0 + 30 * DAY }, { 1, 2, DS_SENT, T0 + 30 * DAY },
	    { 1, 3, DS_SENT, T0 + 30 * DAY }, { 1, 4, DS_SENT, R(4) }, { 1, 5, NONE, 0 },
	    { 0, 3, DS_SENT, R(3) }, { -1, 0, 0, 0 } }, 0 },

	{ "late joiner, catch_up_days 3: one every 3 days, then with the cohort", 0, 3, 0, { 0 },
	  { JN(T0 - DAY, 0), TK(T0, 1, 0), TK(R(2), 1, 0), TK(R(3), 1, 0),
	    JN(T0 + 30 * DAY + HOUR, 1), TK(T0 + 30 * DAY + HOUR, 1, 0),
	    TK(T0 + 32 * DAY, 0, 0), TK(T0 + 33 * DAY + HOUR, 1, 0),
	    TK(T0 + 36 * DAY + HOUR, 1, 0), TK(R(4), 2, 0) },
	  { { 1, 1, DS_SENT, T0 + 30 * DAY + HOUR }, { 1, 2, DS_SENT, T0 + 33 * DAY + HOUR },
	    { 1, 3, DS_SENT, T0 + 36 * DAY + HOUR }, { 1, 4, DS_SENT, R(4) },
	    { 0, 4, DS_SENT, R(4) }, { 1, 5, NONE, 0 }, { -1, 0, 0, 0 } }, 0 },

	{ "slow catch-up: a Thing released during it waits its turn; the next on time", 0, 7, 0, { 0 },
	  { JN(T0 + 30 * DAY + HOUR, 1), TK(T0 + 30 * DAY + HOUR, 1, 0),
	    TK(T0 + 37 * DAY + HOUR, 1, 0), TK(R(4), 0, 0), TK(T0 + 44 * DAY + HOUR, 1, 0),
	    TK(T0 + 51 * DAY + HOUR, 1, 0), TK(R(5), 1, 0) },
	  { { 1, 1, DS_SENT, T0 + 30 * DAY + HOUR }, { 1, 2, DS_SENT, T0 + 37 * DAY + HOUR },
	    { 1, 3, DS_SENT, T0 + 44 * DAY + HOUR }, { 1, 4, DS_SENT, T0 + 51 * DAY + HOUR },
	    { 1, 5, DS_SENT, R(5) }, { -1, 0, 0, 0 } }, 0 },

	{ "self-paced: each from their confirmation; [schedule] dates ignored", 1, 2, 0,
	  { 0, T0 + 3 * DAY, 0, 0, 0 },
	  { JN(T0 + DAY, 0), TK(T0 + DAY, 1, 0), TK(T0 + 4 * DAY, 0, 0), JN(T0 + 10 * DAY, 1),
	    TK(T0 + 10 * DAY, 1, 0), TK(T0 + 15 * DAY, 1, 0), TK(T0 + 24 * DAY, 1, 0),
	    TK(T0 + 29 * DAY, 1, 0), TK(T0 + 38 * DAY, 1, 0) },
	  { { 0, 1, DS_SENT, T0 + DAY }, { 0, 2, DS_SENT, T0 + 15 * DAY },
	    { 0, 3, DS_SENT, T0 + 29 * DAY }, { 0, 4, NONE, 0 },
	    { 1, 1, DS_SENT, T0 + 10 * DAY }, { 1, 2, DS_SENT, T0 + 24 * DAY },
	    { 1, 3, DS_SENT, T0 + 38 * DAY }, { -1, 0, 0, 0 } }, 0 },

	{ "cohort: a [schedule] date moves one Thing", 0, 2, 0, { 0, 0, T0 + 35 * DAY, 0, 0 },
	  { JN(T0 - DAY, 0), TK(T0, 1, 0), TK(R(2), 1, 0), TK(R(3) + HOUR, 0, 0),
	    TK(T0 + 35 * DAY, 1, 0) },
	  { { 0, 2, DS_SENT, R(2) }, { 0, 3, DS_SENT, T0 + 35 * DAY }, { -1, 0, 0, 0 } }, 0 },

	{ "cohort: a [schedule] date after the next Thing's: the next waits for it", 0, 2, 0,
	  { 0, 0, R(4) + DAY, 0, 0 },
	  { JN(T0 - DAY, 0), TK(T0, 1, 0), TK(R(2), 1, 0), TK(R(4), 0, 0), TK(R(4) + DAY, 1, 0),
	    TK(R(4) + 3 * DAY, 1, 0) },
	  { { 0, 3, DS_SENT, R(4) + DAY }, { 0, 4, DS_SENT, R(4) + 3 * DAY }, { -1, 0, 0, 0 } },
	  0 },

	{ "five days without a run: held, one notice per organiser, once; the next waits", 0, 2,
	  0, { 0 },
	  { JN(T0 - DAY, 0), JN(T0 - DAY, 1), TK(T0, 2, 0), TK(R(2) + 5 * DAY, 2, 2),
	    TK(R(2) + 5 * DAY + HOUR, 0, 0), TK(R(3), 0, 0) },
	  { { 0, 1, DS_SENT, R(1) }, { 0, 2, DS_HELD, R(2) }, { 1, 2, DS_HELD, R(2) },
	    { 0, 3, NONE, 0 }, { 1, 3, NONE, 0 }, { -1, 0, 0, 0 } }, 2 },

	{ "send_late = yes: five days late, sent", 0, 2, 1, { 0 },
	  { JN(T0 - DAY, 0), JN(T0 - DAY, 1), TK(T0, 2, 0), TK(R(2) + 5 * DAY, 2, 0) },
	  { { 0, 2, DS_SENT, R(2) }, { 1, 2, DS_SENT, R(2) }, { -1, 0, 0, 0 } }, 0 },

	{ "send_late = yes after weeks down: the backlog in order, paced from the late one", 0, 2,
	  1, { 0 },
	  { JN(T0 - DAY, 0), TK(T0, 1, 0), TK(R(4) + DAY, 1, 0), TK(R(4) + 2 * DAY, 0, 0),
	    TK(R(4) + 3 * DAY, 1, 0), TK(R(4) + 5 * DAY, 1, 0), TK(R(5), 1, 0) },
	  { { 0, 2, DS_SENT, R(2) }, { 0, 3, DS_SENT, R(4) + 3 * DAY },
	    { 0, 4, DS_SENT, R(4) + 5 * DAY }, { 0, 5, DS_SENT, R(5) }, { -1, 0, 0, 0 } }, 0 },

	{ "released Things go once; a later hold is told anew", 0, 2, 0, { 0 },
	  { JN(T0 - DAY, 0), TK(T0, 1, 0), TK(R(2) + 5 * DAY, 2, 1), REL(R(2) + 5 * DAY + HOUR, 2),
	    TK(R(2) + 5 * DAY + HOUR, 0, 0), TK(R(2) + 5 * DAY + 2 * HOUR, 0, 0),
	    JN(T0 + 20 * DAY, 1), TK(T0 + 20 * DAY, 1, 0), TK(T0 + 27 * DAY, 2, 1),
	    REL(T0 + 27 * DAY + HOUR, 0), TK(T0 + 27 * DAY + HOUR, 0, 0) },
	  { { 0, 2, DS_SENT, R(2) + 5 * DAY + HOUR }, { 1, 1, DS_SENT, T0 + 20 * DAY },
	    { 1, 2, DS_SENT, T0 + 27 * DAY + HOUR }, { -1, 0, 0, 0 } }, 4 },

	{ "a separate hold while the first is still held: told anew", 0, 2, 0, { 0 },
	  { JN(T0 - DAY, 0), TK(T0, 1, 0), TK(R(2) + 5 * DAY, 2, 1), JN(T0 + 20 * DAY, 1),
	    TK(T0 + 20 * DAY, 1, 0), TK(T0 + 27 * DAY, 2, 1) },
	  { { 0, 2, DS_HELD, R(2) }, { 1, 2, DS_HELD, T0 + 22 * DAY }, { -1, 0, 0, 0 } }, 4 },

	{ "an ongoing hold is told once, however many runs and Things due behind it", 0, 2, 0,
	  { 0 },
	  { JN(T0 - DAY, 0), JN(T0 - DAY, 1), TK(T0, 2, 0), TK(R(2) + 5 * DAY, 2, 2),
	    TK(R(2) + 5 * DAY + HOUR, 0, 0), TK(R(3), 0, 0), TK(R(3) + 4 * DAY, 0, 0),
	    TK(R(4), 0, 0), TK(R(5) + HOUR, 0, 0), TK(R(5) + 5 * DAY, 0, 0) },
	  { { 0, 2, DS_HELD, R(2) }, { 1, 2, DS_HELD, R(2) }, { 0, 3, NONE, 0 },
	    { 1, 5, NONE, 0 }, { -1, 0, 0, 0 } }, 2 },

	{ "downtime: 9 held, 10-12 due wait; release 9: 9..12 in order, one every 2 days", 0, 2,
	  0, { 0 },
	  { JN(T0 - DAY, 0), JN(T0 - DAY, 1), { TICK_RELEASES, 0, 8, 2, 0 },
	    TK(R(12) + DAY, 2, 2), TK(R(12) + DAY + HOUR, 0, 0), TK(R(12) + 3 * DAY, 0, 0),
	    REL(X9, 9), TK(X9, 0, 0), TK(X9 + DAY, 0, 0), TK(X9 + 2 * DAY, 2, 0),
	    TK(X9 + 4 * DAY, 2, 0), TK(X9 + 5 * DAY, 0, 0), TK(X9 + 6 * DAY, 2, 0) },
	  { { 0, 8, DS_SENT, R(8) }, { 0, 9, DS_SENT, X9 }, { 0, 10, DS_SENT, X9 + 2 * DAY },
	    { 0, 11, DS_SENT, X9 + 4 * DAY }, { 0, 12, DS_SENT, X9 + 6 * DAY },
	    { 1, 9, DS_SENT, X9 }, { 1, 12, DS_SENT, X9 + 6 * DAY }, { -1, 0, 0, 0 } }, 2 },

	{ "downtime, catch_up_days 0: release 9 sends 9..12 in its run, one after the other", 0,
	  0, 0, { 0 },
	  { JN(T0 - DAY, 0), JN(T0 - DAY, 1), { TICK_RELEASES, 0, 8, 2, 0 },
	    TK(R(12) + DAY, 2, 2), TK(R(12) + 3 * DAY, 0, 0), REL(X9, 9), TK(X9, 6, 0),
	    TK(X9 + DAY, 0, 0) },
	  { { 0, 9, DS_SENT, X9 }, { 0, 10, DS_SENT, X9 }, { 0, 12, DS_SENT, X9 },
	    { 1, 9, DS_SENT, X9 }, { 1, 12, DS_SENT, X9 }, { -1, 0, 0, 0 } }, 2 },

	{ "self-paced, down 2 weeks: her 3 held, 4 waits; released, 4 follows; bob unaffected", 1,
	  2, 0, { 0 },
	  { JN(T0, 0), TK(SP(1), 1, 0), TK(SP(2), 1, 0), TK(SP(3) - DAY, 0, 0),
	    TK(SP(4) + DAY, 2, 1), JN(SP(4) + DAY, 1), TK(SP(4) + DAY + HOUR, 1, 0),
	    REL(SP(4) + 2 * DAY, 3), TK(SP(4) + 2 * DAY, 0, 0), TK(SP(4) + 4 * DAY, 1, 0),
	    TK(SP(5), 1, 0) },
	  { { 0, 3, DS_SENT, SP(4) + 2 * DAY }, { 0, 4, DS_SENT, SP(4) + 4 * DAY },
	    { 0, 5, DS_SENT, SP(5) }, { 1, 1, DS_SENT, SP(4) + DAY }, { 1, 2, NONE, 0 },
	    { -1, 0, 0, 0 } }, 2 },

	{ "self-paced, months apart: another's hold of the same Thing is told, the first left "
	  "held by a participant who left", 1, 2, 0, { 0 },
	  { JN(T0, 0), TK(SP(1), 1, 0), TK(SP(2) + 5 * DAY, 2, 1), LV(SP(2) + 6 * DAY, 0),
	    JN(T0 + 100 * DAY, 1), TK(T0 + 100 * DAY, 1, 0), TK(T0 + 119 * DAY, 2, 1),
	    TK(T0 + 119 * DAY + HOUR, 0, 0) },
	  { { 0, 2, DS_HELD, SP(2) }, { 1, 1, DS_SENT, T0 + 100 * DAY },
	    { 1, 2, DS_HELD, T0 + 114 * DAY }, { -1, 0, 0, 0 } }, 4 },

	{ "late joiner held on joining (confirmed before the downtime): the rest waits", 0, 2, 0,
	  { 0 },
	  { JN(T0 + 20 * DAY, 1), TK(T0 + 24 * DAY, 2, 1), REL(T0 + 25 * DAY, 1),
	    TK(T0 + 25 * DAY, 0, 0), TK(T0 + 27 * DAY, 1, 0), TK(R(3), 1, 0) },
	  { { 1, 1, DS_SENT, T0 + 25 * DAY }, { 1, 2, DS_SENT, T0 + 27 * DAY },
	    { 1, 3, DS_SENT, R(3) }, { -1, 0, 0, 0 } }, 2 },

	{ "catch-up after downtime: lateness from each one's own slot; the next waits", 0, 2, 0,
	  { 0 },
	  { JN(T0 + 30 * DAY, 1), TK(T0 + 30 * DAY, 1, 0), TK(T0 + 36 * DAY, 2, 1) },
	  { { 1, 1, DS_SENT, T0 + 30 * DAY }, { 1, 2, DS_HELD, T0 + 32 * DAY },
	    { 1, 3, NONE, 0 }, { -1, 0, 0, 0 } }, 2 },

	{ "catch_up_days changed: what is queued stays, the rest follows", 0, 3, 0, { 0 },
	  { JN(T0 + 30 * DAY, 1), TK(T0 + 30 * DAY, 1, 0), TK(T0 + 33 * DAY, 1, 0),
	    { SET_CATCH_UP, T0 + 34 * DAY, 1, 0, 0 }, TK(T0 + 34 * DAY, 1, 0),
	    { SET_CATCH_UP, T0 + 35 * DAY, 10, 0, 0 }, TK(T0 + 35 * DAY, 0, 0) },
	  { { 1, 1, DS_SENT, T0 + 30 * DAY }, { 1, 2, DS_SENT, T0 + 33 * DAY },
	    { 1, 3, DS_SENT, T0 + 34 * DAY }, { 1, 4, NONE, 0 }, { -1, 0, 0, 0 } }, 0 },

	{ "a participant back from leaving: what came out meanwhile, paced", 0, 2, 0, { 0 },
	  { JN(T0 - DAY, 0), TK(T0, 1, 0), LV(T0 + DAY, 0), TK(R(2), 0, 0),
	    TK(R(3), 0, 0), JN(T0 + 30 * DAY, 0), TK(T0 + 30 * DAY, 1, 0),
	    TK(T0 + 32 * DAY, 1, 0) },
	  { { 0, 1, DS_SENT, R(1) }, { 0, 2, DS_SENT, T0 + 30 * DAY },
	    { 0, 3, DS_SENT, T0 + 32 * DAY }, { -1, 0, 0, 0 } }, 0 },
};
#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

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

static int
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

static int
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

static void
join(struct fixture *f, int i, int64_t at)
{
	struct participant p;
	struct err e;
	int rc;

	rc = store_participant_add(f->st, who[i], "", PS_PENDING, at, &p, &e);
	if (rc == -1 || store_participant_activate(f->st, p.id, at, &e) == -1)
		fail_msg("%s", e.msg);
}

static void
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
static void
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

static void
release(struct fixture *f, const struct event *ev)
{
	char key[8];
	int64_t n;
	struct err e;

	snprintf(key, sizeof(key), "%d", ev->arg);
	if (store_delivery_release_held(f->st, ev->arg ? DK_THING : NULL, ev->arg ? key : NULL,
	    ev->at, &n, &e) == -1)
		fail_msg("%s", e.msg);
	assert_true(n > 0);
}

/* fn(arg, name, text) for each message in the outbox (text: its first 64 KiB). */
static void
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

static void
count_with_both(void *arg, const char *name, const char *text)
{
	struct with_both *w = arg;

	(void)name;
	w->n += strstr(text, w->a) != NULL && strstr(text, w->b) != NULL;
}

/* How many files of the outbox hold both a and b. */
static size_t
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

static int
by_time(const void *a, const void *b)
{
	const struct written *x = a, *y = b;

	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	return (x->usec > y->usec) - (x->usec < y->usec);
}

/* How many Things were sent to participant i, by the store. */
static size_t
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

static void
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
static void
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

static void
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

static void
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

/* The configuration of the two tests below: catch-up one every 3 days. */
static const struct scenario paced = { "paced", 0, 3, 0, { 0 }, { { END, 0, 0, 0, 0 } },
	{ { -1, 0, 0, 0 } }, 0 };

static void
check_pending(const struct mailer_pending *got, const struct mailer_pending *want)
{
	for (int i = 0; i < NT; i++) {
		const struct mailer_pending *g = &got[i], *w = &want[i];

		if (g->waiting != w->waiting || g->next_at != w->next_at ||
		    g->blocked != w->blocked || g->held_back != w->held_back)
			fail_msg("Thing %d: %lld waiting (%lld blocked, %lld held back behind it), "
			    "next T0%+.2f days; expected %lld (%lld, %lld), T0%+.2f", i + 1,
			    (long long)g->waiting, (long long)g->blocked, (long long)g->held_back,
			    (double)(g->next_at - T0) / DAY, (long long)w->waiting,
			    (long long)w->blocked, (long long)w->held_back,
			    (double)(w->next_at - T0) / DAY);
	}
}

static void
test_pending_counts_what_is_left(void **state)
{
	struct mailer_pending want[NT] = {
		{ 0, 0, 0, 0 }, { 1, T0 + 33 * DAY, 0, 0 }, { 1, T0 + 36 * DAY, 0, 0 },
	};
	struct fixture *f = *state;
	struct mailer_pending got[NT];
	int64_t before, after;
	struct err e;

	for (int i = 3; i < NT; i++)
		want[i] = (struct mailer_pending){ 2, R(i + 1), 0, 0 };
	join(f, 0, T0 - DAY);
	assert_int_equal(mailer_schedule_pending(f->m, got, &e), 0);
	assert_int_equal(got[0].waiting, 1);   /* Thing 1: due, not queued yet */
	assert_int_equal(got[0].next_at, R(1));
	for (int i = 1; i <= 3; i++)
		tick(f, R(i), 1, 0);               /* ann: 1, 2, 3 */
	join(f, 1, T0 + 30 * DAY);
	tick(f, T0 + 30 * DAY, 1, 0);          /* bob: 1 of 3 out */
	assert_int_equal(store_delivery_count(f->st, NULL, -1, &before, &e), 0);
	assert_int_equal(mailer_schedule_pending(f->m, got, &e), 0);
	assert_int_equal(store_delivery_count(f->st, NULL, -1, &after, &e), 0);
	assert_int_equal(after, before);
	check_pending(got, want);
}

/* Behind a held Thing: the later ones are counted as blocked (no due time
 * of their own) and charged to the held Thing, for status and release. */
static void
test_pending_behind_a_hold(void **state)
{
	struct mailer_pending want[NT] = {
		{ 0, 0, 0, 0 }, { 0, 0, 0, 2 * (NT - 2) },
	};
	struct fixture *f = *state;
	struct mailer_pending got[NT];
	int64_t n;
	struct err e;

	for (int i = 2; i < NT; i++)
		want[i] = (struct mailer_pending){ 2, 0, 2, 0 };
	join(f, 0, T0 - DAY);
	join(f, 1, T0 - DAY);
	tick(f, T0, 2, 0);
	tick(f, R(3) + DAY, 2, 2);             /* 2 held (notices queued), 3 waits */
	assert_int_equal(mailer_schedule_pending(f->m, got, &e), 0);
	check_pending(got, want);
	assert_int_equal(store_delivery_release_held(f->st, DK_THING, "2", R(3) + 2 * DAY, &n,
	    &e), 0);
	assert_int_equal(n, 2);
	/* released: nothing blocked; Thing 3 follows 2 by catch_up_days (3) */
	want[1].held_back = 0;
	want[2] = (struct mailer_pending){ 2, R(3) + 5 * DAY, 0, 0 };
	for (int i = 3; i < NT; i++)
		want[i] = (struct mailer_pending){ 2, R(i + 1), 0, 0 };
	assert_int_equal(mailer_schedule_pending(f->m, got, &e), 0);
	check_pending(got, want);
}

static void
test_notice_says_what_and_how(void **state)
{
	struct fixture *f = *state;
	struct delivery held, notice;
	struct buf out;
	char key[32];
	struct err e;

	f->p.cfg.path = (char *)"/srv/my things/things.conf";
	join(f, 0, T0 - DAY);
	join(f, 1, T0 - DAY);
	tick(f, T0, 2, 0);
	tick(f, R(2) + 4 * DAY, 2, 2);
	assert_int_equal(store_delivery_find(f->st, who[0], DK_THING, "2", &held, &e), 0);
	snprintf(key, sizeof(key), "2-%lld", (long long)held.id);
	assert_int_equal(store_delivery_find(f->st, "org2@example.org", DK_HELD_NOTICE, key,
	    &notice, &e), 0);
	assert_int_equal(notice.state, DS_SENT);
	buf_init(&out, 0);
	if (mailer_compose(f->m, &notice, &out, &e) == -1)
		fail_msg("%s", e.msg);
	assert_non_null(strstr(buf_str(&out), "\r\nTo: <org2@example.org>\r\n"));
	assert_non_null(strstr(buf_str(&out), "\r\nSubject: Thing 2 is held: it was due over 72"
	    " hours ago\r\n"));
	assert_non_null(strstr(buf_str(&out), "Auto-Submitted: auto-generated\r\n"));
	assert_int_equal(outbox_with(f, "To: <org2@example.org>",
	    "Return-Path: <things+bounce@example.org>"), 1);
	assert_null(strstr(buf_str(&out), "List-Unsubscribe"));
	/* the text part is quoted-printable: look for short pieces */
	assert_non_null(strstr(buf_str(&out), "waiting for it now: 2."));
	assert_non_null(strstr(buf_str(&out), "wait behind it too"));
	assert_non_null(strstr(buf_str(&out), "things -c '/srv/my things/things.conf' release 2"));
	assert_non_null(strstr(buf_str(&out), "things -c '/srv/my things/things.conf' status"));
	buf_free(&out);
}

int
main(void)
{
	struct CMUnitTest tests[NSCENARIOS + 3];

	tests[NSCENARIOS] = (struct CMUnitTest)cmocka_unit_test_prestate_setup_teardown(
	    test_pending_counts_what_is_left, setup, teardown, (void *)&paced);
	tests[NSCENARIOS + 1] = (struct CMUnitTest)cmocka_unit_test_prestate_setup_teardown(
	    test_notice_says_what_and_how, setup, teardown, (void *)&paced);
	tests[NSCENARIOS + 2] = (struct CMUnitTest)cmocka_unit_test_prestate_setup_teardown(
	    test_pending_behind_a_hold, setup, teardown, (void *)&paced);
	for (size_t i = 0; i < NSCENARIOS; i++) {
		tests[i].name = scenarios[i].name;
		tests[i].test_func = test_scenario;
		tests[i].setup_func = setup;
		tests[i].teardown_func = teardown;
		tests[i].initial_state = (void *)&scenarios[i];
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
