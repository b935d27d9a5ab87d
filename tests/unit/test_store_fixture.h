/*
 * test_store_fixture.h - a real store in a temporary directory with one
 * active participant, dead@example.net ("Dee"), for the store's bounce and
 * alternate-address tests.  Included by test_store_*.c only.
 */
#ifndef THINGS_TEST_STORE_FIXTURE_H
#define THINGS_TEST_STORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../store/store.h"

#define DAY 86400
#define T0 1800000000

struct fixture {
	char dir[64];
	struct store *st;
	int64_t pid;
};

static __attribute__((unused)) int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct participant p;
	char db[128];
	struct err e;

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/things-bounce-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(db, sizeof(db), "%s/things.db", f->dir);
	if (store_open(db, &f->st, &e) == -1 ||
	    store_participant_add(f->st, "dead@example.net", "Dee", PS_ACTIVE, T0 - 30 * DAY, &p,
	    &e) != 0) {
		print_error("%s\n", e.msg);
		return -1;
	}
	f->pid = p.id;
	*state = f;
	return 0;
}

static __attribute__((unused)) int
teardown(void **state)
{
	struct fixture *f = *state;
	char path[128];

	store_close(f->st);
	snprintf(path, sizeof(path), "%s/things.db", f->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/things.db-wal", f->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/things.db-shm", f->dir);
	unlink(path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The fixture's participant as the store has it now. */
static __attribute__((unused)) struct participant
get(struct fixture *f)
{
	struct participant p;
	struct err e;

	assert_int_equal(store_participant_by_id(f->st, f->pid, &p, &e), 0);
	return p;
}

#endif
