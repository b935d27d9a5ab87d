/* migrate.c - the schema, versioned by PRAGMA user_version.
 *
 * Each entry of migrations[] takes the schema from version i to i + 1 and
 * runs in one BEGIN IMMEDIATE together with the version bump, so a crash
 * or a concurrent run never sees half a migration.  Append; never edit a
 * migration that has shipped. */
#include <stdio.h>

#include "internal.h"

static const char *const migrations[] = {
	/* 1: the walking skeleton */
	"CREATE TABLE participants ("
	"  id INTEGER PRIMARY KEY,"
	"  address TEXT NOT NULL UNIQUE,"
	"  name TEXT NOT NULL DEFAULT '',"
	"  status TEXT NOT NULL CHECK (status IN ('pending','active','unsubscribed','suspended')),"
	"  token TEXT NOT NULL UNIQUE,"
	"  confirm_token TEXT UNIQUE,"
	"  blog_url TEXT NOT NULL DEFAULT '',"
	"  feed_url TEXT NOT NULL DEFAULT '',"
	"  created_at INTEGER NOT NULL,"
	"  confirmed_at INTEGER NOT NULL DEFAULT 0,"
	"  status_at INTEGER NOT NULL DEFAULT 0,"
	"  bounce_score REAL NOT NULL DEFAULT 0,"
	"  bounce_at INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE inbound ("
	"  id INTEGER PRIMARY KEY,"
	"  source TEXT NOT NULL,"
	"  source_key TEXT NOT NULL,"
	"  message_id TEXT NOT NULL UNIQUE,"
	"  sender TEXT NOT NULL DEFAULT '',"
	"  subject TEXT NOT NULL DEFAULT '',"
	"  intent TEXT NOT NULL,"
	"  participant_id INTEGER REFERENCES participants(id),"
	"  thing INTEGER NOT NULL DEFAULT 0,"
	"  detail TEXT,"
	"  body_text TEXT,"
	"  received_at INTEGER NOT NULL,"
	"  UNIQUE (source, source_key)"
	");"
	"CREATE TABLE deliveries ("
	"  id INTEGER PRIMARY KEY,"
	"  participant_id INTEGER REFERENCES participants(id),"
	"  recipient TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  message_id TEXT NOT NULL UNIQUE,"
	"  inbound_id INTEGER REFERENCES inbound(id),"
	"  state TEXT NOT NULL DEFAULT 'queued'"
	"    CHECK (state IN ('queued','sending','sent','deferred','failed','held')),"
	"  due_at INTEGER NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  claimed_at INTEGER NOT NULL DEFAULT 0,"
	"  sent_at INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT NOT NULL DEFAULT '',"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (recipient, kind, key)"
	");"
	"CREATE INDEX deliveries_due ON deliveries (state, due_at);"
	"CREATE INDEX deliveries_participant ON deliveries (participant_id, kind);"
	"CREATE TABLE reflections ("
	"  id INTEGER PRIMARY KEY,"
	"  participant_id INTEGER NOT NULL REFERENCES participants(id),"
	"  thing INTEGER NOT NULL,"
	"  url TEXT NOT NULL,"
	"  inbound_id INTEGER REFERENCES inbound(id),"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (participant_id, thing, url)"
	");"
	"CREATE TABLE mailboxes ("
	"  source TEXT PRIMARY KEY,"
	"  uidvalidity INTEGER NOT NULL,"
	"  last_uid INTEGER NOT NULL"
	");",
	/* 2: blog feeds and their posts (feeds/).  At most one active feed per
	 * participant; older rows stay (status 'replaced' or 'gone') so that
	 * their posts keep their dedupe keys and history. */
	"CREATE TABLE feeds ("
	"  id INTEGER PRIMARY KEY,"
	"  participant_id INTEGER NOT NULL REFERENCES participants(id),"
	"  url TEXT NOT NULL,"
	"  etag TEXT NOT NULL DEFAULT '',"
	"  last_modified INTEGER NOT NULL DEFAULT 0,"
	"  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','gone','replaced')),"
	"  failures INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT NOT NULL DEFAULT '',"
	"  last_ok_at INTEGER NOT NULL DEFAULT 0,"
	"  last_fetch_at INTEGER NOT NULL DEFAULT 0,"
	"  told_at INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE UNIQUE INDEX feeds_active ON feeds (participant_id) WHERE status = 'active';"
	"CREATE INDEX feeds_participant_url ON feeds (participant_id, url);"
	"CREATE TABLE posts ("
	"  id INTEGER PRIMARY KEY,"
	"  participant_id INTEGER NOT NULL REFERENCES participants(id),"
	"  feed_id INTEGER NOT NULL REFERENCES feeds(id),"
	"  entry_key TEXT NOT NULL,"
	"  title TEXT NOT NULL DEFAULT '',"
	"  link TEXT NOT NULL DEFAULT '',"
	"  excerpt TEXT NOT NULL DEFAULT '',"
	"  published_at INTEGER NOT NULL DEFAULT 0,"
	"  first_seen_at INTEGER NOT NULL,"
	"  thing INTEGER NOT NULL DEFAULT 0,"
	"  for_digest INTEGER NOT NULL DEFAULT 1,"
	"  UNIQUE (feed_id, entry_key)"
	");"
	"CREATE INDEX posts_digest ON posts (first_seen_at) WHERE for_digest = 1;",
	/* 3: the weekly digest (mailer/digest.c) and feed rounds (cli/run.c).
	 * A digest edition fixes, once per ISO week, the window of posts its
	 * deliveries show; each window starts where the previous one ended.
	 * A feed's title is the blog's name in the digest. */
	"ALTER TABLE feeds ADD COLUMN title TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE digests ("
	"  week TEXT PRIMARY KEY,"
	"  window_from INTEGER NOT NULL,"
	"  window_to INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  recipients INTEGER NOT NULL DEFAULT 0,"
	"  posts INTEGER NOT NULL DEFAULT 0,"
	"  CHECK (window_from <= window_to)"
	");"
	"CREATE TABLE feed_rounds ("
	"  id INTEGER PRIMARY KEY,"
	"  started_at INTEGER NOT NULL,"
	"  finished_at INTEGER NOT NULL,"
	"  feeds INTEGER NOT NULL DEFAULT 0,"
	"  not_modified INTEGER NOT NULL DEFAULT 0,"
	"  failed INTEGER NOT NULL DEFAULT 0,"
	"  new_posts INTEGER NOT NULL DEFAULT 0"
	");",
	/* 4: what the last counted bounce said, for the organisers' notice
	 * when a participant is suspended */
	"ALTER TABLE participants ADD COLUMN bounce_reason TEXT NOT NULL DEFAULT '';",
	/* 5: help requests as tickets, open until an organiser answers or
	 * closes them (inbox/); reminders counted per ticket. */
	"CREATE TABLE tickets ("
	"  id INTEGER PRIMARY KEY,"
	"  inbound_id INTEGER NOT NULL UNIQUE REFERENCES inbound(id),"
	"  participant_id INTEGER REFERENCES participants(id),"
	"  sender TEXT NOT NULL,"
	"  subject TEXT NOT NULL DEFAULT '',"
	"  thing INTEGER NOT NULL DEFAULT 0,"
	"  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open','answered','closed')),"
	"  opened_at INTEGER NOT NULL,"
	"  closed_at INTEGER NOT NULL DEFAULT 0,"
	"  closed_by TEXT NOT NULL DEFAULT '',"
	"  reminders INTEGER NOT NULL DEFAULT 0,"
	"  reminded_at INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX tickets_state ON tickets (state, opened_at);",
	/* 6: the blog's page as its feed names it: the digest's link for the
	 * blog, when the participant sent a post's or the feed's address */
	"ALTER TABLE feeds ADD COLUMN site_url TEXT NOT NULL DEFAULT '';",
	/* 7: a participant's alternate address, told when their own one is
	 * suspended for bounces.  One they ask for by mail waits (alt_pending,
	 * alt_token) until it is confirmed from that address. */
	"ALTER TABLE participants ADD COLUMN alt_address TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE participants ADD COLUMN alt_pending TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE participants ADD COLUMN alt_token TEXT;"
	"ALTER TABLE participants ADD COLUMN alt_requested_at INTEGER NOT NULL DEFAULT 0;"
	"CREATE UNIQUE INDEX participants_alt_token ON participants (alt_token);",
	/* 8: certificates of completion, one per participant; the id is the
	 * certificate's number. */
	"CREATE TABLE certificates ("
	"  id INTEGER PRIMARY KEY,"
	"  participant_id INTEGER NOT NULL UNIQUE REFERENCES participants(id),"
	"  things INTEGER NOT NULL,"
	"  issued_at INTEGER NOT NULL"
	");",
	/* 9: what each Thing was (its file's slug, its title) when it first
	 * went out: deliveries are keyed by number, so renumbered files must
	 * be noticed before they send a Thing twice and skip another. */
	"CREATE TABLE things_sent ("
	"  number INTEGER PRIMARY KEY,"
	"  slug TEXT NOT NULL,"
	"  title TEXT NOT NULL,"
	"  recorded_at INTEGER NOT NULL"
	");",
	/* 10: deliveries rebuilt with the same CHECK on state written as ORs:
	 * SQLite codes an IN list of more than two constants as an ephemeral
	 * table built at every statement that writes state (three a message
	 * sent: a quarter of the send loop's instructions, bench/RESULTS.md).
	 * Nothing references deliveries, so the table can be copied, dropped
	 * and renamed inside the migration's transaction. */
	"CREATE TABLE deliveries_new ("
	"  id INTEGER PRIMARY KEY,"
	"  participant_id INTEGER REFERENCES participants(id),"
	"  recipient TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  message_id TEXT NOT NULL UNIQUE,"
	"  inbound_id INTEGER REFERENCES inbound(id),"
	"  state TEXT NOT NULL DEFAULT 'queued'"
	"    CHECK (state = 'queued' OR state = 'sending' OR state = 'sent' OR"
	"           state = 'deferred' OR state = 'failed' OR state = 'held'),"
	"  due_at INTEGER NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  claimed_at INTEGER NOT NULL DEFAULT 0,"
	"  sent_at INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT NOT NULL DEFAULT '',"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (recipient, kind, key)"
	");"
	"INSERT INTO deliveries_new (id, participant_id, recipient, kind, key, message_id,"
	"  inbound_id, state, due_at, attempts, claimed_at, sent_at, last_error, created_at)"
	" SELECT id, participant_id, recipient, kind, key, message_id, inbound_id, state,"
	"  due_at, attempts, claimed_at, sent_at, last_error, created_at FROM deliveries;"
	"DROP TABLE deliveries;"
	"ALTER TABLE deliveries_new RENAME TO deliveries;"
	"CREATE INDEX deliveries_due ON deliveries (state, due_at);"
	"CREATE INDEX deliveries_participant ON deliveries (participant_id, kind);",
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int
user_version(struct store *st, int *v, struct err *e)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return store_db_err(st, e, "read schema version");
	rc = sqlite3_step(s);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : store_db_err(st, e, "read schema version");
}

int
store_migrate(struct store *st, struct err *e)
{
	char sql[64];
	char *msg = NULL;
	int v;

	if (user_version(st, &v, e) == -1)
		return -1;
	if (v > NMIGRATIONS)
		return err_set(e, "written by a newer Things (schema %d, this one knows %d)",
		    v, NMIGRATIONS);
	if (v == NMIGRATIONS)
		return 0;
	if (store_begin(st, e) == -1)
		return -1;
	/* Read again under the write lock: another run may have migrated. */
	if (user_version(st, &v, e) == -1)
		goto fail;
	for (; v < NMIGRATIONS; v++) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", v + 1);
		if (sqlite3_exec(st->db, migrations[v], NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
			err_set(e, "migration to schema %d: %s", v + 1,
			    msg ? msg : sqlite3_errmsg(st->db));
			sqlite3_free(msg);
			goto fail;
		}
	}
	return store_commit(st, e);
fail:
	store_rollback(st);
	return -1;
}
