/* Unit tests for the store's held deliveries and outbox counts: enqueue
 * held, claims skip held, release by Thing or all, counts per key, the
 * per-Thing outbox at a given time, what a participant was queued, and
 * status_at on participants. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../store/store.h"

struct fixture {
	char dir[64];
	struct store *st;
	int64_t pid[2];
};

static const char *const rcpt[2] = { "a@example.org", "b@example.org" };

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct participant p;
	char path[128];
	struct err e;

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/things-outbox-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/things.db", f->dir);
	if (store_open(path, &f->st, &e) == -1) {
		print_error("%s\n", e.msg);
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		if (store_participant_add(f->st, rcpt[i], "", PS_ACTIVE, 100, &p, &e) != 0)
			return -1;
		f->pid[i] = p.id;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Thing `key` for participant i, due at due, created at now, in state. */
static int64_t
enqueue(struct fixture *f, int i, const char *key, int64_t due, int64_t now,
    enum delivery_state state)
{
	struct delivery_request r = { .participant_id = f->pid[i], .recipient = rcpt[i],
		.kind = DK_THING, .key = key, .due_at = due, .msgid_domain = "example.org",
		.state = state };
	struct err e;
	int64_t id;

	if (store_delivery_enqueue(f->st, &r, now, &id, &e) != 0)
		fail_msg("enqueue %s %s: %s", rcpt[i], key, e.msg);
	return id;
}

static enum delivery_state
state_of(struct fixture *f, int64_t id, int64_t *due)
{
	struct delivery d;
	struct err e;

	assert_int_equal(store_delivery_get(f->st, id, &d, &e), 0);
	if (due)
		*due = d.due_at;
	return d.state;
}

static void
test_held_is_never_claimed_until_released(void **state)
{
	struct fixture *f = *state;
	struct delivery out[8];
	int64_t a2, b2, a3, n, due;
	size_t got;
	struct err e;

	a2 = enqueue(f, 0, "2", 100, 500, DS_HELD);
	b2 = enqueue(f, 1, "2", 100, 500, DS_HELD);
	a3 = enqueue(f, 0, "3", 150, 500, DS_HELD);
	assert_int_equal(state_of(f, a2, &due), DS_HELD);
	assert_int_equal(due, 100);
	assert_int_equal(store_delivery_claim(f->st, 10000, 8, out, &got, &e), 0);
	assert_int_equal(got, 0);

	/* a second enqueue, queued this time, finds the held row and changes nothing */
	{
		struct delivery_request r = { .participant_id = f->pid[0], .recipient = rcpt[0],
			.kind = DK_THING, .key = "2", .due_at = 600, .msgid_domain = "example.org" };
		int64_t id;

		assert_int_equal(store_delivery_enqueue(f->st, &r, 600, &id, &e), 1);
		assert_int_equal(id, a2);
		assert_int_equal(state_of(f, a2, NULL), DS_HELD);
	}

	assert_int_equal(store_delivery_count_key(f->st, DK_THING, "2", DS_HELD, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_delivery_count_key(f->st, DK_THING, NULL, DS_HELD, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_int_equal(store_delivery_count_key(f->st, NULL, "3", -1, &n, &e), 0);
	assert_int_equal(n, 1);

	/* Thing 2 only; due at the release time */
	assert_int_equal(store_delivery_release_held(f->st, DK_THING, "2", 700, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(state_of(f, a2, &due), DS_QUEUED);
	assert_int_equal(due, 700);
	assert_int_equal(state_of(f, b2, NULL), DS_QUEUED);
	assert_int_equal(state_of(f, a3, NULL), DS_HELD);
	assert_int_equal(store_delivery_release_held(f->st, DK_THING, "2", 800, &n, &e), 0);
	assert_int_equal(n, 0);                            /* twice: nothing more */
	assert_int_equal(state_of(f, a2, &due), DS_QUEUED);
	assert_int_equal(due, 700);

	assert_int_equal(store_delivery_claim(f->st, 699, 8, out, &got, &e), 0);
	assert_int_equal(got, 0);
	assert_int_equal(store_delivery_claim(f->st, 700, 8, out, &got, &e), 0);
	assert_int_equal(got, 2);

	/* everything held */
	assert_int_equal(store_delivery_release_held(f->st, NULL, NULL, 900, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(state_of(f, a3, &due), DS_QUEUED);
	assert_int_equal(due, 900);
}

static void
test_enqueue_refuses_other_states(void **state)
{
	static const enum delivery_state bad[] = { DS_SENDING, DS_SENT, DS_DEFERRED, DS_FAILED,
		(enum delivery_state)42 };
	struct fixture *f = *state;
	struct delivery_request r = { .participant_id = f->pid[0], .recipient = rcpt[0],
		.kind = DK_THING, .key = "1", .due_at = 1, .msgid_domain = "example.org" };
	int64_t id, n;
	struct err e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r.state = bad[i];
		assert_int_equal(store_delivery_enqueue(f->st, &r, 1, &id, &e), -1);
		assert_non_null(strstr(e.msg, "queued or held"));
	}
	assert_int_equal(store_delivery_count(f->st, NULL, -1, &n, &e), 0);
	assert_int_equal(n, 0);
}

static void
test_thing_outbox_counts_each_state(void **state)
{
	struct fixture *f = *state;
	struct thing_outbox box[3];
	struct delivery out[8];
	int64_t sent, deferred, failed, n;
	size_t got;
	struct err e;

	/* Thing 1: a sent, b deferred; Thing 2: a failed, b sending; Thing 3:
	 * a queued due now, b queued due later; Thing 9 (gone): a held */
	sent = enqueue(f, 0, "1", 10, 10, DS_QUEUED);
	deferred = enqueue(f, 1, "1", 10, 10, DS_QUEUED);
	failed = enqueue(f, 0, "2", 20, 20, DS_QUEUED);
	enqueue(f, 1, "2", 20, 20, DS_QUEUED);
	assert_int_equal(store_delivery_claim(f->st, 20, 8, out, &got, &e), 0);
	assert_int_equal(got, 4);
	assert_int_equal(store_delivery_mark_sent(f->st, sent, 21, &e), 0);
	assert_int_equal(store_delivery_mark_deferred(f->st, deferred, 5000, "451", &e), 0);
	assert_int_equal(store_delivery_mark_failed(f->st, failed, "550", &e), 0);
	enqueue(f, 0, "3", 100, 30, DS_QUEUED);
	enqueue(f, 1, "3", 101, 30, DS_QUEUED);
	enqueue(f, 0, "9", 30, 30, DS_HELD);
	enqueue(f, 1, "3x", 30, 30, DS_HELD); /* not a Thing number: counted nowhere */

	assert_int_equal(store_thing_outbox(f->st, 100, 3, box, &e), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(box[i].thing, i + 1);
	assert_int_equal(box[0].sent, 1);
	assert_int_equal(box[0].deferred, 1);
	assert_int_equal(box[0].due + box[0].later + box[0].sending + box[0].failed + box[0].held,
	    0);
	assert_int_equal(box[1].failed, 1);
	assert_int_equal(box[1].sending, 1);
	assert_int_equal(box[1].due + box[1].later + box[1].sent + box[1].deferred + box[1].held,
	    0);
	assert_int_equal(box[2].due, 1);     /* due_at 100 <= now */
	assert_int_equal(box[2].later, 1);   /* due_at 101 */
	assert_int_equal(box[2].sent + box[2].held + box[2].failed, 0);
	assert_int_equal(store_delivery_count_key(f->st, DK_THING, "9", DS_HELD, &n, &e), 0);
	assert_int_equal(n, 1);
}

static void
test_thing_deliveries_of_one_participant(void **state)
{
	struct fixture *f = *state;
	int64_t created[4] = { -1, -1, -1, -1 };
	struct err e;

	struct thing_delivery rows[4];
	struct delivery d[8];
	size_t n;
	int64_t one;

	one = enqueue(f, 0, "1", 10, 111, DS_QUEUED);
	enqueue(f, 0, "3", 30, 333, DS_HELD);
	enqueue(f, 0, "7", 10, 777, DS_QUEUED);   /* beyond nthings: ignored */
	enqueue(f, 1, "2", 10, 222, DS_QUEUED);   /* someone else's */
	{
		struct delivery_request r = { .participant_id = f->pid[0], .recipient = rcpt[0],
			.kind = DK_WELCOME, .key = "2", .due_at = 1, .msgid_domain = "example.org" };
		int64_t id;

		assert_int_equal(store_delivery_enqueue(f->st, &r, 444, &id, &e), 0);
	}
	assert_int_equal(store_thing_deliveries(f->st, f->pid[0], 4, created, &e), 0);
	assert_int_equal(created[0], 111);
	assert_int_equal(created[1], 0);
	assert_int_equal(created[2], 333);
	assert_int_equal(created[3], 0);

	/* with state and times: Thing 1 sent at 50, Thing 3 held, due 30 */
	assert_int_equal(store_delivery_claim(f->st, 20, 8, d, &n, &e), 0);
	assert_int_equal(n, 4);                   /* all but the held one */
	assert_int_equal(store_delivery_mark_sent(f->st, one, 50, &e), 0);
	memset(rows, 0xff, sizeof(rows));
	assert_int_equal(store_thing_delivery_rows(f->st, f->pid[0], 4, rows, &e), 0);
	assert_int_equal(rows[0].created_at, 111);
	assert_int_equal(rows[0].state, DS_SENT);
	assert_int_equal(rows[0].due_at, 10);
	assert_int_equal(rows[0].sent_at, 50);
	assert_int_equal(rows[1].created_at, 0);
	assert_int_equal(rows[1].due_at, 0);
	assert_int_equal(rows[2].created_at, 333);
	assert_int_equal(rows[2].state, DS_HELD);
	assert_int_equal(rows[2].due_at, 30);
	assert_int_equal(rows[2].sent_at, 0);
	assert_int_equal(rows[3].created_at, 0);
}

static void
test_status_at_follows_status_changes(void **state)
{
	struct fixture *f = *state;
	struct participant p;
	struct err e;

	assert_int_equal(store_participant_by_id(f->st, f->pid[0], &p, &e), 0);
	assert_int_equal(p.status_at, 100);
	assert_int_equal(p.confirmed_at, 100);
	assert_int_equal(store_participant_set_status(f->st, p.id, PS_UNSUBSCRIBED, 200, &e), 0);
	assert_int_equal(store_participant_activate(f->st, p.id, 300, &e), 0);
	assert_int_equal(store_participant_by_id(f->st, f->pid[0], &p, &e), 0);
	assert_int_equal(p.status_at, 300);
	assert_int_equal(p.confirmed_at, 100);   /* the first confirmation stays */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_held_is_never_claimed_until_released, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_enqueue_refuses_other_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thing_outbox_counts_each_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thing_deliveries_of_one_participant, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_status_at_follows_status_changes, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
