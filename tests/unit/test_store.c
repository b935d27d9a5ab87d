/* Unit tests for store/: schema, participants, the outbox, inbound, reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "../../store/store.h"

struct fixture {
	char dir[64];
	char path[128];
	struct store *st;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct err e;

	snprintf(f->dir, sizeof(f->dir), "/tmp/things-store-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/things.db", f->dir);
	if (store_open(f->path, &f->st, &e) == -1) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];

	store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static int64_t
add_active(struct store *st, const char *addr)
{
	struct participant p;
	struct err e;

	assert_int_equal(store_participant_add(st, addr, "", PS_ACTIVE, 100, &p, &e), 0);
	return p.id;
}

static void
enqueue(struct store *st, int64_t pid, const char *rcpt, const char *key, int64_t due,
    int64_t *id)
{
	struct delivery_request r = { .participant_id = pid, .recipient = rcpt,
		.kind = DK_THING, .key = key, .due_at = due, .msgid_domain = "example.org" };
	struct err e;

	assert_int_equal(store_delivery_enqueue(st, &r, 100, id, &e), 0);
}

static void
test_reopen_and_newer_schema_refused(void **state)
{
	struct fixture *f = *state;
	struct store *again;
	sqlite3 *db;
	struct err e;

	assert_int_equal(store_open(f->path, &again, &e), 0);
	store_close(again);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->path, &again, &e), -1);
	assert_non_null(strstr(e.msg, "newer Things"));
}

static int64_t
sql_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Migration 10 rebuilds deliveries (its state CHECK as ORs, not IN): a
 * store of schema 9 with the old table keeps every row, its indexes and
 * its constraints. */
static void
test_deliveries_rebuilt_keeping_rows(void **state)
{
	static const char old[] =
	    "DROP TABLE deliveries;"
	    "CREATE TABLE deliveries (id INTEGER PRIMARY KEY,"
	    " participant_id INTEGER REFERENCES participants(id), recipient TEXT NOT NULL,"
	    " kind TEXT NOT NULL, key TEXT NOT NULL, message_id TEXT NOT NULL UNIQUE,"
	    " inbound_id INTEGER REFERENCES inbound(id), state TEXT NOT NULL DEFAULT 'queued'"
	    " CHECK (state IN ('queued','sending','sent','deferred','failed','held')),"
	    " due_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
	    " claimed_at INTEGER NOT NULL DEFAULT 0, sent_at INTEGER NOT NULL DEFAULT 0,"
	    " last_error TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL,"
	    " UNIQUE (recipient, kind, key));"
	    "CREATE INDEX deliveries_due ON deliveries (state, due_at);"
	    "CREATE INDEX deliveries_participant ON deliveries (participant_id, kind);"
	    "INSERT INTO deliveries (id, recipient, kind, key, message_id, state, due_at,"
	    " attempts, last_error, created_at) VALUES"
	    " (7, 'a@example.org', 'thing', '1', 'm1@x', 'sent', 10, 1, '', 5),"
	    " (9, 'b@example.org', 'thing', '1', 'm2@x', 'deferred', 20, 2, 'RCPT: 451', 6);"
	    "PRAGMA user_version=9;";
	struct fixture *f = *state;
	sqlite3 *db;
	struct err e;

	store_close(f->st);
	f->st = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, old, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->path, &f->st, &e), 0);

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sql_int(db, "PRAGMA user_version"), 10);
	assert_int_equal(sql_int(db, "SELECT count(*) FROM deliveries"), 2);
	assert_int_equal(sql_int(db, "SELECT attempts FROM deliveries WHERE id = 9 AND "
	    "state = 'deferred' AND last_error = 'RCPT: 451'"), 2);
	assert_int_equal(sql_int(db, "SELECT count(*) FROM sqlite_master WHERE name IN "
	    "('deliveries_due', 'deliveries_participant', 'deliveries_new')"), 2);
	assert_int_equal(sql_int(db, "SELECT instr(sql, ' IN (') FROM sqlite_master "
	    "WHERE name = 'deliveries'"), 0);
	/* the constraints hold as before */
	assert_int_not_equal(sqlite3_exec(db, "UPDATE deliveries SET state = 'lost' WHERE id = 7",
	    NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "INSERT INTO deliveries (recipient, kind, key, "
	    "message_id, due_at, created_at) VALUES ('a@example.org', 'thing', '1', 'm3@x', 1, 1)",
	    NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sql_int(db, "SELECT count(*) FROM pragma_integrity_check "
	    "WHERE integrity_check != 'ok'"), 0);
	sqlite3_close(db);
}

static void
test_participant_lifecycle(void **state)
{
	struct fixture *f = *state;
	struct participant p, q;
	char token[TOKEN_HEX_LEN + 1];
	struct err e;

	assert_int_equal(store_participant_add(f->st, "ann@example.org", "Ann\r\nBcc: x@y",
	    PS_PENDING, 100, &p, &e), 0);
	assert_string_equal(p.name, "Ann Bcc: x@y");
	assert_int_equal(p.status, PS_PENDING);
	assert_true(token_valid(p.token));
	assert_true(token_valid(p.confirm_token));
	assert_string_not_equal(p.token, p.confirm_token);
	assert_int_equal(p.confirmed_at, 0);

	/* The same address again: reported, not changed. */
	assert_int_equal(store_participant_add(f->st, "ann@example.org", "Other", PS_ACTIVE, 200,
	    &q, &e), 1);
	assert_int_equal(q.id, p.id);
	assert_string_equal(q.name, "Ann Bcc: x@y");
	assert_int_equal(q.status, PS_PENDING);

	assert_int_equal(store_participant_by_confirm_token(f->st, p.confirm_token, &q, &e), 0);
	assert_int_equal(q.id, p.id);
	assert_int_equal(store_participant_activate(f->st, p.id, 300, &e), 0);
	assert_int_equal(store_participant_by_token(f->st, p.token, &q, &e), 0);
	assert_int_equal(q.status, PS_ACTIVE);
	assert_int_equal(q.confirmed_at, 300);
	assert_string_equal(q.confirm_token, "");
	assert_int_equal(store_participant_by_confirm_token(f->st, p.confirm_token, &q, &e), 1);

	assert_int_equal(store_participant_set_status(f->st, p.id, PS_UNSUBSCRIBED, 400, &e), 0);
	assert_int_equal(store_participant_new_confirm_token(f->st, p.id, token, &e), 0);
	assert_int_equal(store_participant_by_confirm_token(f->st, token, &q, &e), 0);
	assert_int_equal(q.status, PS_UNSUBSCRIBED);
	assert_int_equal(store_participant_activate(f->st, p.id, 500, &e), 0);
	assert_int_equal(store_participant_by_id(f->st, p.id, &q, &e), 0);
	assert_int_equal(q.confirmed_at, 300); /* the first confirmation stays */

	assert_int_equal(store_participant_set_blog(f->st, p.id, "https://ann.example/",
	    "https://ann.example/feed", &e), 0);
	assert_int_equal(store_participant_by_address(f->st, "ann@example.org", &q, &e), 0);
	assert_string_equal(q.feed_url, "https://ann.example/feed");
	assert_int_equal(store_participant_set_blog(f->st, p.id, "https://x/\n", "", &e), -1);
	assert_int_equal(store_participant_by_address(f->st, "nobody@example.org", &q, &e), 1);
	assert_int_equal(store_participant_set_status(f->st, 999, PS_ACTIVE, 1, &e), -1);
}

static void
test_name_clipped_at_utf8_boundary(void **state)
{
	struct fixture *f = *state;
	char name[STORE_NAME_MAX + 10];
	struct participant p;
	struct err e;

	/* 127 ASCII bytes then a 2-byte character: it does not fit in 128. */
	memset(name, 'a', STORE_NAME_MAX - 1);
	strcpy(name + STORE_NAME_MAX - 1, "\xc3\xa9zz");
	assert_int_equal(store_participant_add(f->st, "b@example.org", name, PS_ACTIVE, 1, &p, &e), 0);
	assert_int_equal(strlen(p.name), STORE_NAME_MAX - 1);
	assert_true(str_valid_utf8(p.name, strlen(p.name)));
}

static void
test_enqueue_is_idempotent_and_ids_stable(void **state)
{
	struct fixture *f = *state;
	struct delivery_request r = { .recipient = "c@example.org", .kind = DK_THING,
		.key = "1", .due_at = 50, .msgid_domain = "example.org" };
	struct delivery d1, d2;
	int64_t id1, id2;
	struct err e;

	r.participant_id = add_active(f->st, "c@example.org");
	assert_int_equal(store_delivery_enqueue(f->st, &r, 10, &id1, &e), 0);
	assert_int_equal(store_delivery_enqueue(f->st, &r, 20, &id2, &e), 1);
	assert_int_equal(id1, id2);
	assert_int_equal(store_delivery_get(f->st, id1, &d1, &e), 0);
	assert_int_equal(d1.state, DS_QUEUED);
	assert_non_null(strstr(d1.message_id, ".thing@example.org"));
	assert_int_equal(store_delivery_by_message_id(f->st, d1.message_id, &d2, &e), 0);
	assert_int_equal(d2.id, id1);
	assert_int_equal(store_delivery_by_message_id(f->st, "nope@x", &d2, &e), 1);

	r.recipient = "c@example.org\r\nRCPT TO:<x@y>";
	assert_int_equal(store_delivery_enqueue(f->st, &r, 10, &id2, &e), -1);
	r.recipient = "c@example.org";
	r.msgid_domain = "";
	assert_int_equal(store_delivery_enqueue(f->st, &r, 10, &id2, &e), -1);
}

static void
test_claim_due_order_and_marks(void **state)
{
	struct fixture *f = *state;
	struct delivery out[10];
	int64_t pid = add_active(f->st, "d@example.org"), a, b, c, n;
	size_t got;
	struct err e;

	enqueue(f->st, pid, "d@example.org", "2", 200, &b);
	enqueue(f->st, pid, "d@example.org", "1", 100, &a);
	enqueue(f->st, pid, "d@example.org", "3", 900, &c);

	assert_int_equal(store_delivery_claim(f->st, 250, 10, out, &got, &e), 0);
	assert_int_equal(got, 2);
	assert_int_equal(out[0].id, a); /* oldest due first */
	assert_int_equal(out[1].id, b);
	assert_int_equal(out[0].state, DS_SENDING);
	assert_int_equal(out[0].attempts, 1);
	/* Claimed rows are not claimed again. */
	assert_int_equal(store_delivery_claim(f->st, 250, 10, out, &got, &e), 0);
	assert_int_equal(got, 0);

	assert_int_equal(store_delivery_mark_sent(f->st, a, 260, &e), 0);
	assert_int_equal(store_delivery_mark_sent(f->st, a, 260, &e), -1); /* not sending */
	assert_int_equal(store_delivery_mark_deferred(f->st, b, 500, "451 try later", &e), 0);
	assert_int_equal(store_delivery_claim(f->st, 499, 10, out, &got, &e), 0);
	assert_int_equal(got, 0);
	assert_int_equal(store_delivery_claim(f->st, 1000, 10, out, &got, &e), 0);
	assert_int_equal(got, 2);
	assert_int_equal(out[0].id, b);
	assert_int_equal(out[0].attempts, 2);
	assert_string_equal(out[0].last_error, "451 try later");
	assert_int_equal(store_delivery_mark_failed(f->st, b, "550 no such user", &e), 0);

	/* c is still "sending": a crashed run.  Recovery queues it again. */
	assert_int_equal(store_delivery_recover(f->st, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_delivery_get(f->st, c, &out[0], &e), 0);
	assert_int_equal(out[0].state, DS_QUEUED);

	assert_int_equal(store_delivery_count(f->st, DK_THING, DS_SENT, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_delivery_count(f->st, NULL, -1, &n, &e), 0);
	assert_int_equal(n, 3);
}

/* Several processes claim from one store at once, as overlapping cron runs
 * would if the run lock were bypassed: no delivery may be claimed twice. */
static void
test_concurrent_claims_are_disjoint(void **state)
{
	enum { NDELIV = 300, NPROC = 4 };
	struct fixture *f = *state;
	int pipes[NPROC][2], seen[NDELIV + 1] = { 0 }, total = 0;
	int64_t pid = add_active(f->st, "e@example.org");
	struct err e;

	assert_int_equal(store_begin(f->st, &e), 0);
	for (int i = 0; i < NDELIV; i++) {
		char key[16];

		snprintf(key, sizeof(key), "%d", i + 1);
		enqueue(f->st, pid, "e@example.org", key, 0, NULL);
	}
	assert_int_equal(store_commit(f->st, &e), 0);

	for (int p = 0; p < NPROC; p++) {
		assert_int_equal(pipe(pipes[p]), 0);
		if (fork() == 0) {
			struct store *mine;
			struct delivery batch[7];
			size_t n;

			close(pipes[p][0]);
			if (store_open(f->path, &mine, &e) == -1)
				_exit(2);
			do {
				if (store_delivery_claim(mine, 10, 7, batch, &n, &e) == -1)
					_exit(3);
				for (size_t i = 0; i < n; i++) {
					int32_t id = (int32_t)batch[i].id;

					if (write(pipes[p][1], &id, sizeof(id)) != sizeof(id))
						_exit(4);
				}
			} while (n > 0);
			store_close(mine);
			_exit(0);
		}
		close(pipes[p][1]);
	}
	for (int p = 0; p < NPROC; p++) {
		int32_t id;
		int status;

		while (read(pipes[p][0], &id, sizeof(id)) == sizeof(id)) {
			assert_true(id >= 1 && id <= NDELIV + 1);
			seen[id - 1]++;
			total++;
		}
		close(pipes[p][0]);
		wait(&status);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(total, NDELIV);
	for (int i = 0; i < NDELIV + 1; i++)
		assert_true(seen[i] <= 1);
}

static void
test_run_lock_excludes_second_run(void **state)
{
	struct fixture *f = *state;
	int fd1, fd2;
	struct err e;

	assert_int_equal(store_run_lock(f->path, &fd1, &e), 0);
	assert_int_equal(store_run_lock(f->path, &fd2, &e), 1);
	store_run_unlock(fd1);
	assert_int_equal(store_run_lock(f->path, &fd2, &e), 0);
	store_run_unlock(fd2);
}

static void
test_inbound_dedup_and_get(void **state)
{
	struct fixture *f = *state;
	struct inbound_record r = { .source = "imap://things@h/INBOX", .source_key = "7:1",
		.message_id = "abc@example.org", .sender = "f@example.org",
		.subject = "Re: Thing 1\r\nBcc: x", .intent = "reflection", .thing = 1,
		.detail = "https://f.example/post", .body_text = "Here it is", .received_at = 5 };
	struct inbound in;
	int64_t id, id2;
	struct err e;

	assert_int_equal(store_inbound_known(f->st, r.source, r.source_key, r.message_id, &e), 0);
	assert_int_equal(store_inbound_add(f->st, &r, &id, &e), 0);
	assert_int_equal(store_inbound_known(f->st, r.source, "7:1", "other@x", &e), 1);
	assert_int_equal(store_inbound_known(f->st, "maildir:/x", "k", "abc@example.org", &e), 1);
	/* Same Message-ID from another UID (a duplicate delivery): refused. */
	r.source_key = "7:2";
	assert_int_equal(store_inbound_add(f->st, &r, &id2, &e), 1);
	assert_int_equal(store_inbound_get(f->st, id, &in, &e), 0);
	assert_string_equal(in.subject, "Re: Thing 1 Bcc: x");
	assert_string_equal(in.detail, "https://f.example/post");
	assert_int_equal(in.thing, 1);
	store_inbound_free(&in);
	assert_int_equal(store_inbound_get(f->st, 999, &in, &e), 1);
	r.message_id = "";
	assert_int_equal(store_inbound_add(f->st, &r, &id2, &e), -1);
}

static void
test_mailbox_position(void **state)
{
	struct fixture *f = *state;
	uint32_t v, u;
	struct err e;

	assert_int_equal(store_mailbox_get(f->st, "imap://a@b/INBOX", &v, &u, &e), 1);
	assert_int_equal(store_mailbox_set(f->st, "imap://a@b/INBOX", 4000000000u, 12, &e), 0);
	assert_int_equal(store_mailbox_set(f->st, "imap://a@b/INBOX", 4000000000u, 15, &e), 0);
	assert_int_equal(store_mailbox_get(f->st, "imap://a@b/INBOX", &v, &u, &e), 0);
	assert_int_equal(v, 4000000000u);
	assert_int_equal(u, 15);
}

struct count_arg {
	int rows;
	int reflections_of_g;
	int sent_to_g;
};

static int
count_progress(void *arg, const struct participant_progress *pp)
{
	struct count_arg *c = arg;

	c->rows++;
	if (strcmp(pp->p.address, "g@example.org") == 0) {
		c->reflections_of_g = pp->reflections;
		c->sent_to_g = pp->things_sent;
	}
	return 0;
}

static void
test_reflections_and_reports(void **state)
{
	struct fixture *f = *state;
	int64_t g = add_active(f->st, "g@example.org"), h = add_active(f->st, "h@example.org");
	struct thing_stats stats[3];
	struct count_arg c = { 0 };
	struct delivery d[4];
	int64_t id, n;
	size_t got;
	int things;
	struct err e;

	assert_int_equal(store_reflection_add(f->st, g, 1, "https://g/1", 0, 9, &e), 0);
	assert_int_equal(store_reflection_add(f->st, g, 1, "https://g/1", 0, 9, &e), 1);
	assert_int_equal(store_reflection_add(f->st, g, 1, "https://g/1b", 0, 9, &e), 0);
	assert_int_equal(store_reflection_add(f->st, g, 2, "https://g/2", 0, 9, &e), 0);
	assert_int_equal(store_reflection_add(f->st, h, 2, "https://h/2", 0, 9, &e), 0);
	assert_int_equal(store_reflection_add(f->st, h, 0, "https://h/0", 0, 9, &e), -1);
	assert_int_equal(store_reflection_things(f->st, g, &things, &e), 0);
	assert_int_equal(things, 2);
	assert_int_equal(store_reflection_count(f->st, &n, &e), 0);
	assert_int_equal(n, 4);

	enqueue(f->st, g, "g@example.org", "1", 0, &id);
	enqueue(f->st, h, "h@example.org", "1", 0, NULL);
	enqueue(f->st, g, "g@example.org", "2", 0, NULL);
	assert_int_equal(store_delivery_claim(f->st, 1, 1, d, &got, &e), 0);
	assert_int_equal(d[0].id, id);
	assert_int_equal(store_delivery_mark_sent(f->st, id, 2, &e), 0);

	assert_int_equal(store_thing_stats(f->st, 3, stats, &e), 0);
	assert_int_equal(stats[0].sent, 1);
	assert_int_equal(stats[0].queued, 1);
	assert_int_equal(stats[1].queued, 1);
	assert_int_equal(stats[0].reflections, 1);
	assert_int_equal(stats[1].reflections, 2);
	assert_int_equal(stats[2].sent + stats[2].queued + stats[2].reflections, 0);

	assert_int_equal(store_progress_each(f->st, count_progress, &c, &e), 0);
	assert_int_equal(c.rows, 2);
	assert_int_equal(c.reflections_of_g, 2);
	assert_int_equal(c.sent_to_g, 1);
}

static void
test_rollback_discards(void **state)
{
	struct fixture *f = *state;
	struct participant p;
	int64_t n;
	struct err e;

	assert_int_equal(store_begin(f->st, &e), 0);
	assert_int_equal(store_begin(f->st, &e), -1); /* no nesting */
	assert_int_equal(store_participant_add(f->st, "i@example.org", "", PS_ACTIVE, 1, &p, &e), 0);
	store_rollback(f->st);
	assert_int_equal(store_participant_count(f->st, -1, &n, &e), 0);
	assert_int_equal(n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reopen_and_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deliveries_rebuilt_keeping_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_participant_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_clipped_at_utf8_boundary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enqueue_is_idempotent_and_ids_stable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_due_order_and_marks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_claims_are_disjoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_lock_excludes_second_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbound_dedup_and_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mailbox_position, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reflections_and_reports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_discards, setup, teardown),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
