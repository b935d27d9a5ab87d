/*
 * test_mailer_fixture.h - a real store in a temporary directory and a
 * programme built by hand (built-in templates, three Things, a maildir:
 * outbox), for the mailer tests.  Included by test_mailer_*.c only.
 */
#ifndef THINGS_TEST_MAILER_FIXTURE_H
#define THINGS_TEST_MAILER_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../mailer/internal.h"

#define T0 1799658000 /* 2027-01-11 09:00 UTC: Thing 1 */
#define DAY 86400
#define NTHINGS 3

struct fixture {
	char dir[64];
	char outbox[128];
	char url[160];
	struct store *st;
	struct programme p;
	struct thing things[NTHINGS];
	char *organisers[1];
	struct mailer *m;
};

static const char *const titles[NTHINGS] = { "Blogging", "Feeds", "Podcasts" };

static __attribute__((unused)) int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char db[128];
	struct err e;

	if (f == NULL)
		return -1;
	setenv("TZ", "UTC", 1);
	unsetenv("THINGS_TEST_STOP_AFTER");
	snprintf(f->dir, sizeof(f->dir), "/tmp/things-send-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->outbox, sizeof(f->outbox), "%s/outbox", f->dir);
	snprintf(f->url, sizeof(f->url), "maildir:%s", f->outbox);
	snprintf(db, sizeof(db), "%s/things.db", f->dir);
	if (store_open(db, &f->st, &e) == -1) {
		print_error("%s\n", e.msg);
		return -1;
	}
	/* a programme built by hand: built-in templates only */
	f->organisers[0] = (char *)"organiser@example.org";
	f->p.cfg.name = (char *)"12 Things Test";
	f->p.cfg.address = (char *)"things@example.org";
	f->p.cfg.delimiter = '+';
	f->p.cfg.organisers = f->organisers;
	f->p.cfg.norganisers = 1;
	f->p.cfg.start = T0;
	f->p.cfg.interval_days = 14;
	f->p.cfg.list_id = (char *)"12-things-test.example.org";
	f->p.cfg.unsubscribe_url = (char *)"https://example.org/unsubscribe";
	f->p.cfg.smtp_url = f->url;
	f->p.cfg.smtp_connections = 1;
	for (int i = 0; i < NTHINGS; i++) {
		f->things[i].number = i + 1;
		f->things[i].slug = (char *)"slug";
		f->things[i].title = (char *)titles[i];
		f->things[i].path = (char *)"/nonexistent";
		f->things[i].markdown = (char *)"Write about *this* thing.\n";
		f->things[i].release_at = T0 + (int64_t)i * 14 * DAY;
	}
	f->p.things = f->things;
	f->p.nthings = NTHINGS;
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
	unsetenv("THINGS_TEST_STOP_AFTER");
	return 0;
}

static __attribute__((unused)) int64_t
add_active(struct fixture *f, const char *address, const char *name, int64_t when)
{
	struct participant p;
	struct err e;

	if (store_participant_add(f->st, address, name, PS_ACTIVE, when, &p, &e) != 0)
		fail_msg("%s", e.msg);
	return p.id;
}

static __attribute__((unused)) int64_t
count(struct fixture *f, const char *kind, int state)
{
	struct err e;
	int64_t n;

	if (store_delivery_count(f->st, kind, state, &n, &e) == -1)
		fail_msg("%s", e.msg);
	return n;
}

static __attribute__((unused)) void
schedule(struct fixture *f, int64_t now, size_t want_enqueued)
{
	struct mailer_stats stats = { 0 };
	struct err e;

	if (mailer_schedule(f->m, now, &stats, &e) == -1)
		fail_msg("%s", e.msg);
	assert_int_equal(stats.enqueued, want_enqueued);
}

static __attribute__((unused)) struct mailer_stats
send_due(struct fixture *f, int64_t now)
{
	struct mailer_stats stats = { 0 };
	struct err e;

	if (mailer_send_due(f->m, now, &stats, &e) == -1)
		fail_msg("%s", e.msg);
	return stats;
}

static __attribute__((unused)) struct mailer_stats
send_and_follow(struct fixture *f, int64_t now)
{
	struct mailer_stats stats = { 0 };
	struct err e;

	if (mailer_send_and_follow(f->m, now, &stats, &e) == -1)
		fail_msg("%s", e.msg);
	return stats;
}

/* A delivery by its unique (recipient, kind, key), through the store's
 * idempotent enqueue. */
static __attribute__((unused)) struct delivery
lookup(struct fixture *f, int64_t pid, const char *rcpt, const char *kind, const char *key)
{
	struct delivery_request r = { .participant_id = pid, .recipient = rcpt, .kind = kind,
		.key = key, .msgid_domain = "example.org" };
	struct delivery d;
	struct err e;
	int64_t id;

	assert_int_equal(store_delivery_enqueue(f->st, &r, 0, &id, &e), 1);
	assert_int_equal(store_delivery_get(f->st, id, &d, &e), 0);
	return d;
}

#endif
