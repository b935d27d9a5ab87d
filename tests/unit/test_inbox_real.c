/*
 * test_inbox_real.c - the regression corpus of real-client mail
 * (tests/fixtures/mail/real, one .eml each), each message run end to end through
 * inbox_poll over a Maildir with a real store, in the same small world:
 *
 *   programme things@example.org, '+' tags, 12 Things, organisers
 *   org1@example.org and org2@example.org;
 *   active participants (token): ann@example.net (a1...), bob.jones@gmail.example
 *   (b2...), d.smith@nhs-trust.example.co.uk (d4...), carla@correo.example.es,
 *   kenji@example.jp, mia@icloud.example, theo@posteo.example,
 *   priya.nair@gmail.example, joerg@example.de; pending newbie@example.com
 *   (confirm token c0ffee00...);
 *   sent to them: the Things and the confirmation the fixtures reply to
 *   (Message-IDs in world_sql below) and Ann's digest.
 *
 * One row per message: the intent and Thing the store records for it, every
 * delivery it queued ("kind:recipient", sorted), where the message was
 * filed, and an optional SQL check that must give 1 (state changes,
 * reflections, what must NOT have happened).  The rows say what a
 * participant or an organiser would expect of a well-made list manager;
 * the fixtures are modelled on what the clients and servers named in their
 * names emit.  New rows need no code: a file and a line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../inbox/inbox.h"
#include "inbox_test_helpers.h"

#define NOW 1800000000

#define ANN "ann@example.net"
#define BOB "bob.jones@gmail.example"
#define DAVE "d.smith@nhs-trust.example.co.uk"
#define ORGS(kind) kind ":org1@example.org " kind ":org2@example.org"

struct row {
	const char *file;     /* tests/fixtures/mail/real/FILE.eml */
	const char *intent;   /* inbound.intent */
	int thing;            /* inbound.thing */
	const char *queued;   /* every delivery queued: "kind:recipient", sorted */
	const char *folder;   /* "Processed" or "Failed" */
	const char *check;    /* SQL giving 1, or NULL */
};

static const struct row rows[] = {
	/* --- replies from the common clients -------------------------------- */
	{ "gmail_reflection_quoted_commands", "reflection", 3, "reflection-ack:" ANN, "Processed",
	  "SELECT count(*) = 1 FROM reflections WHERE thing = 3 AND url = "
	  "'https://annarchivist.wordpress.example/2027/01/18/thing-3-blogging/'"
	  " AND (SELECT status FROM participants WHERE address = '" ANN "') = 'active'" },
	/* no link of its own: a person reads it; the quoted "unsubscribe" and
	 * links are not acted on */
	{ "gmail_thanks_quote_has_unsubscribe", "help", 3,
	  "help-ack:" BOB " " ORGS("help-forward"), "Processed",
	  "SELECT (SELECT count(*) FROM reflections) = 0 AND (SELECT status FROM participants "
	  "WHERE address = '" BOB "') = 'active'" },
	{ "outlook_html_only_cp1252_reflection", "reflection", 2, "reflection-ack:" DAVE,
	  "Processed", "SELECT count(*) = 1 FROM reflections WHERE thing = 2 AND url = "
	  "'https://dsmith-libraryblog.example.co.uk/2027/01/thing-2-rss/'" },
	{ "outlook_tnef_winmail_reflection", "reflection", 4, "reflection-ack:" DAVE, "Processed",
	  "SELECT count(*) = 1 FROM reflections WHERE thing = 4 AND url = "
	  "'https://dsmith-libraryblog.example.co.uk/2027/02/thing-4-podcasts/'" },
	{ "outlook_unsubscribe_original_message", "unsubscribe", 4,
	  "unsubscribe-confirm:" DAVE, "Processed",
	  "SELECT status = 'active' FROM participants WHERE address = '" DAVE "'" },
	{ "apple_mail_flowed_reflection", "reflection", 5, "reflection-ack:mia@icloud.example",
	  "Processed", "SELECT count(*) = 1 FROM reflections WHERE url = "
	  "'https://mialindqvist.example.se/2027/02/03/thing-5-bilder/'" },
	{ "iphone_link_sent_from", "reflection", 5, "reflection-ack:mia@icloud.example",
	  "Processed", "SELECT count(*) = 1 FROM reflections WHERE url = "
	  "'https://mialindqvist.example.se/2027/02/04/thing-5-part-2/'" },
	/* the post's link, not the signature's */
	{ "thunderbird_signature_link", "reflection", 5, "reflection-ack:theo@posteo.example",
	  "Processed", "SELECT count(*) = 1 FROM reflections WHERE url = "
	  "'https://theo.example.de/blog/2027/thing5.html'" },
	{ "thunderbird_question_link_in_signature", "help", 5,
	  "help-ack:theo@posteo.example " ORGS("help-forward"), "Processed",
	  "SELECT count(*) = 0 FROM reflections" },
	{ "k9_android_toppost_link", "reflection", 3, "reflection-ack:" BOB, "Processed",
	  "SELECT count(*) = 1 FROM reflections WHERE url = "
	  "'https://bobjones.blogspot.example/2027/01/blogging-about-blogging.html'" },

	/* --- charsets and encodings ----------------------------------------- */
	{ "lying_charset_utf8_as_ascii", "subscribe", 0, "confirm:j.mueller@example.de",
	  "Processed", "SELECT count(*) = 1 FROM participants WHERE address = "
	  "'j.mueller@example.de' AND status = 'pending' AND name = 'Jörg Müller' AND "
	  "blog_url = 'https://jörg.example.de/'" },
	{ "latin1_question_spanish", "help", 0,
	  "help-ack:carla@correo.example.es " ORGS("help-forward"), "Processed",
	  "SELECT count(*) = 1 FROM inbound WHERE subject = '¿Dónde está la Cosa 3?'" },
	{ "iso2022jp_reflection", "reflection", 6, "reflection-ack:kenji@example.jp",
	  "Processed", "SELECT count(*) = 1 FROM reflections WHERE url = "
	  "'https://kenji.example.jp/2027/02/thing6/'"
	  " AND (SELECT subject FROM inbound) = 'Re: Thing 6: ブログ'" },
	{ "utf8_base64_german_reflection", "reflection", 7, "reflection-ack:joerg@example.de",
	  "Processed", "SELECT count(*) = 1 FROM reflections WHERE thing = 7 AND url = "
	  "'https://blog.example.de/2027/03/wikis-für-bibliotheken/'" },
	{ "broken_encoded_words_help", "help", 0,
	  "help-ack:jose@example.mx " ORGS("help-forward"), "Processed",
	  "SELECT count(*) = 1 FROM inbound WHERE subject = 'Ayuda con la Cosa 3 – no puedo "
	  "iniciar sesión =?utf-8?b?invalid base64?= été'" },
	{ "rfc2231_attachment_no_link", "help", 3, "help-ack:" ANN " " ORGS("help-forward"),
	  "Processed", "SELECT count(*) = 0 FROM reflections" },
	/* the name keeps its words, never a line break */
	{ "header_injection_encoded_crlf", "subscribe", 0, "confirm:eve@example.net",
	  "Processed", "SELECT count(*) = 1 FROM participants WHERE address = 'eve@example.net'"
	  " AND instr(name, char(10)) = 0 AND instr(name, char(13)) = 0 AND "
	  "(SELECT instr(subject, char(10)) + instr(subject, char(13)) FROM inbound) = 0" },

	/* --- what participants do ------------------------------------------- */
	{ "register_subject_word", "subscribe", 0, "confirm:tom.okafor@gmail.example",
	  "Processed", "SELECT status = 'pending' FROM participants WHERE address = "
	  "'tom.okafor@gmail.example'" },
	{ "confirm_reply_gmail", "confirm", 0, "welcome:newbie@example.com", "Processed",
	  "SELECT status = 'active' FROM participants WHERE address = 'newbie@example.com'" },
	{ "confirm_reply_outlook_plain_address", "confirm", 0, "welcome:newbie@example.com",
	  "Processed",
	  "SELECT status = 'active' FROM participants WHERE address = 'newbie@example.com'" },
	/* a bare domain after blog words is the blog, at https:// (the
	 * acknowledgement shows it: it is the blog_url); nobody else is told */
	{ "blog_bare_domain", "blog", 0, "blog-ack:" ANN, "Processed",
	  "SELECT blog_url = 'https://annreads.example.net/' AND (SELECT detail LIKE "
	  "'https://annreads.example.net/; %' FROM inbound) FROM participants WHERE address = '"
	  ANN "'" },
	/* a host name in a sentence after "my blog is" is no blog address:
	 * the organisers read it, the blog on file stays */
	{ "blog_down_host_in_sentence", "help", 4,
	  "help-ack:" BOB " " ORGS("help-forward"), "Processed",
	  "SELECT blog_url = '' FROM participants WHERE address = '" BOB "'" },
	{ "blog_angle_wrapped_url", "blog", 0, "blog-ack:" BOB, "Processed",
	  "SELECT blog_url = 'https://bobjones.blogspot.example/p/library-things-for-the-curious-"
	  "and-the-weary.html' FROM participants WHERE address = '" BOB "'" },
	{ "reflection_subject_only", "reflection", 3, "reflection-ack:priya.nair@gmail.example",
	  "Processed", "SELECT count(*) = 1 FROM reflections WHERE thing = 3" },
	{ "reflection_body_only", "reflection", 3, "reflection-ack:priya.nair@gmail.example",
	  "Processed", "SELECT count(*) = 1 FROM reflections WHERE thing = 3" },
	{ "help_yahoo_html_only", "help", 2,
	  "help-ack:gwen_lib@yahoo.example " ORGS("help-forward"), "Processed", NULL },
	{ "unsub_subject_caps", "unsubscribe", 0, "unsubscribe-confirm:" ANN, "Processed", NULL },
	{ "unsub_remove_me_body", "unsubscribe", 0, "unsubscribe-confirm:" ANN, "Processed",
	  NULL },
	{ "unsub_would_like", "unsubscribe", 0, "unsubscribe-confirm:" ANN, "Processed", NULL },
	{ "unsub_take_me_off", "unsubscribe", 0, "unsubscribe-confirm:" ANN, "Processed", NULL },
	/* the List-Unsubscribe mailto carries the token: at once */
	{ "unsub_gmail_button", "unsubscribe", 0, "goodbye:" ANN, "Processed",
	  "SELECT status = 'unsubscribed' FROM participants WHERE address = '" ANN "'" },
	/* a comment on the digest: for a person, not a command */
	{ "digest_reply", "unknown", 0, ORGS("unknown-forward"), "Processed",
	  "SELECT status = 'active' FROM participants WHERE address = '" ANN "'" },

	/* --- machines: never answered ---------------------------------------- */
	{ "oof_exchange_autoreply", "autoreply", 3, "", "Processed",
	  "SELECT (SELECT count(*) FROM reflections) = 0 AND (SELECT status FROM participants "
	  "WHERE address = '" DAVE "') = 'active'" },
	{ "oof_gmail_vacation", "autoreply", 3, "", "Processed",
	  "SELECT blog_url = '' FROM participants WHERE address = '" BOB "'" },
	{ "oof_subject_only_no_headers", "autoreply", 3, "", "Processed", NULL },
	{ "list_forwarded_copy", "autoreply", 3, "", "Processed",
	  "SELECT count(*) = 0 FROM reflections" },
	{ "dsn_postfix_verp", "bounce", 0, "", "Processed",
	  "SELECT bounce_score = 1 FROM participants WHERE address = '" ANN "'" },
	{ "dsn_exchange_ndr", "bounce", 2, "", "Processed",
	  "SELECT bounce_score = 1 FROM participants WHERE address = '" DAVE "'" },
	{ "dsn_gmail_relay", "bounce", 3, "", "Processed",
	  "SELECT bounce_score = 1 FROM participants WHERE address = '" ANN "'" },
	/* a warning: nothing failed */
	{ "dsn_postfix_delayed", "bounce", 0, "", "Processed",
	  "SELECT bounce_score = 0 FROM participants WHERE address = '" BOB "'" },
	/* no status to go by: counted as a temporary failure */
	{ "bounce_plain_exim_verp", "bounce", 0, "", "Processed",
	  "SELECT bounce_score = 0.5 FROM participants WHERE address = '" ANN "'" },
	{ "bounce_plain_to_main_address", "autoreply", 0, "", "Processed", NULL },
	/* a spam complaint through a feedback loop: the complainer gets no
	 * more mail (no goodbye either), and it is no bounce */
	{ "arf_abuse_report", "unsubscribe", 0, "", "Processed",
	  "SELECT status = 'unsubscribed' AND bounce_score = 0 FROM participants WHERE address = '"
	  ANN "'" },
	/* most feedback loops report to the address the mail came from: the
	 * token is in the report (Original-Mail-From), or in the original's
	 * List-Unsubscribe when the provider redacted the addresses */
	{ "arf_main_address_original_mail_from", "unsubscribe", 0, "", "Processed",
	  "SELECT status = 'unsubscribed' AND bounce_score = 0 FROM participants WHERE address = '"
	  BOB "'" },
	{ "arf_redacted_headers_list_unsubscribe", "unsubscribe", 0, "", "Processed",
	  "SELECT status = 'unsubscribed' FROM participants WHERE address = '" DAVE "'" },
	/* no token (an address in a report anyone can write is no proof): a
	 * person reads it; the provider is never answered */
	{ "arf_main_address_no_token", "unknown", 0, ORGS("unknown-forward"), "Processed",
	  "SELECT count(*) = 0 FROM participants WHERE status = 'unsubscribed'" },
	{ "arf_main_address_unknown_token", "unsubscribe", 0, ORGS("unknown-forward"),
	  "Processed", "SELECT count(*) = 0 FROM participants WHERE status = 'unsubscribed'" },
	{ "challenge_response_tmda", "autoreply", 3, "", "Processed",
	  "SELECT count(*) = 0 FROM reflections" },
	/* A known limit: a challenge with no sign of a machine, from the
	 * participant's address, in reply to a Thing, with a link, reads as
	 * a reflection (the organisers see the link in the report). */
	{ "challenge_response_no_headers", "reflection", 3, "reflection-ack:" BOB, "Processed",
	  "SELECT count(*) = 1 FROM reflections WHERE url LIKE 'https://www.boxbe.example/%'" },
};

/* The world every row starts from. */
static const char *const world_sql =
	"UPDATE participants SET token = 'a1a1a1a1a1a1a1a1a1a1a1a1' WHERE address = '" ANN "';"
	"UPDATE participants SET token = 'b2b2b2b2b2b2b2b2b2b2b2b2' WHERE address = '" BOB "';"
	"UPDATE participants SET token = 'd4d4d4d4d4d4d4d4d4d4d4d4' WHERE address = '" DAVE "';"
	"UPDATE participants SET token = 'f7f7f7f7f7f7f7f7f7f7f7f7' "
	"  WHERE address = 'mia@icloud.example';"
	"UPDATE participants SET confirm_token = 'c0ffee00c0ffee00c0ffee00' "
	"  WHERE address = 'newbie@example.com';"
	"WITH d(addr, kind, key, mid) AS (VALUES"
	"  ('" ANN "', 'thing', '3', '0a1b2c3d4e5f60718293a4b5.thing@example.org'),"
	"  ('" BOB "', 'thing', '3', '1b2c3d4e5f60718293a4b5c6.thing@example.org'),"
	"  ('" DAVE "', 'thing', '2', '2c3d4e5f60718293a4b5c6d7.thing@example.org'),"
	"  ('" DAVE "', 'thing', '4', '3d4e5f60718293a4b5c6d7e8.thing@example.org'),"
	"  ('carla@correo.example.es', 'thing', '3', '4e5f60718293a4b5c6d7e8f9.thing@example.org'),"
	"  ('kenji@example.jp', 'thing', '6', '5f60718293a4b5c6d7e8f90a.thing@example.org'),"
	"  ('newbie@example.com', 'confirm', 'c0ffee00c0ffee00c0ffee00',"
	"   '60718293a4b5c6d7e8f90a1b.confirm@example.org'),"
	"  ('" ANN "', 'digest', '2027-W04', '718293a4b5c6d7e8f90a1b2c.digest@example.org'),"
	"  ('mia@icloud.example', 'thing', '5', '8293a4b5c6d7e8f90a1b2c3d.thing@example.org'),"
	"  ('theo@posteo.example', 'thing', '5', '93a4b5c6d7e8f90a1b2c3d4e.thing@example.org')"
	") INSERT INTO deliveries (participant_id, recipient, kind, key, message_id, state, due_at,"
	"  sent_at, created_at) SELECT p.id, p.address, d.kind, d.key, d.mid, 'sent', 1799000000,"
	"  1799000000, 1799000000 FROM participants p JOIN d ON p.address = d.addr;";

static void
sql_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(db);
}

/* The first column of the first row of sql, as text ("" if none). */
static void
sql_text(const char *path, const char *sql, char *out, size_t n)
{
	sqlite3 *db;
	sqlite3_stmt *s;

	out[0] = '\0';
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static void
make_world(struct th_fixture *f)
{
	static const struct {
		const char *addr, *name;
		enum participant_status st;
	} people[] = {
		{ ANN, "Ann Archivist", PS_ACTIVE },
		{ BOB, "Bob Jones", PS_ACTIVE },
		{ DAVE, "David Smith", PS_ACTIVE },
		{ "carla@correo.example.es", "Carla García", PS_ACTIVE },
		{ "kenji@example.jp", "Kenji Tanaka", PS_ACTIVE },
		{ "mia@icloud.example", "Mia Lindqvist", PS_ACTIVE },
		{ "theo@posteo.example", "Theo Brandt", PS_ACTIVE },
		{ "priya.nair@gmail.example", "Priya Nair", PS_ACTIVE },
		{ "joerg@example.de", "Jörg Müller", PS_ACTIVE },
		{ "newbie@example.com", "", PS_PENDING },
	};
	struct participant p;
	struct err e;

	for (size_t i = 0; i < sizeof(people) / sizeof(people[0]); i++)
		assert_int_equal(store_participant_add(f->st, people[i].addr, people[i].name,
		    people[i].st, NOW - 30 * 86400, &p, &e), 0);
	sql_exec(f->db, world_sql);
}

static const char *
fixture_dir(void)
{
	static char dir[PATH_MAX];
	const char *top = getenv("THINGS_SRCDIR");

	snprintf(dir, sizeof(dir), "%s/tests/fixtures/mail/real", top ? top : ".");
	return dir;
}

static int failures;

static void
mismatch(const char *file, const char *what, const char *want, const char *got)
{
	failures++;
	fprintf(stderr, "%s: %s\n   want: [%s]\n   got:  [%s]\n", file, what, want, got);
}

static void
run_row(const struct row *r)
{
	struct th_fixture *f = NULL;
	struct inbox_stats s;
	struct err e;
	char path[PATH_MAX], got[4096], want[16], sql[512];
	size_t len = 0;
	char *raw;

	assert_int_equal(th_fixture_setup((void **)&f), 0);
	f->prog.cfg.feeds_timeout_s = 1; /* a blog's feed is looked up: no network here */
	make_world(f);
	snprintf(path, sizeof(path), "%s/%s.eml", fixture_dir(), r->file);
	if ((raw = th_read_file(path, &len)) == NULL)
		fail_msg("cannot read %s", path);
	snprintf(path, sizeof(path), "%s/new/1800000000.M1P1.real", f->maildir);
	assert_int_equal(th_write_file(path, raw, len), 0);
	free(raw);

	if (inbox_poll(&f->prog, f->st, NOW, &s, &e) == -1)
		mismatch(r->file, "inbox_poll", "0", e.msg);
	sql_text(f->db, "SELECT intent FROM inbound", got, sizeof(got));
	if (strcmp(got, r->intent) != 0)
		mismatch(r->file, "intent", r->intent, got);
	sql_text(f->db, "SELECT thing FROM inbound", got, sizeof(got));
	snprintf(want, sizeof(want), "%d", r->thing);
	if (strcmp(got, want) != 0)
		mismatch(r->file, "thing", want, got);
	sql_text(f->db, "SELECT group_concat(x, ' ') FROM (SELECT kind || ':' || recipient AS x "
	    "FROM deliveries WHERE state = 'queued' ORDER BY kind, recipient)", got, sizeof(got));
	if (strcmp(got, r->queued) != 0)
		mismatch(r->file, "queued", r->queued, got);
	snprintf(path, sizeof(path), "%s/.%s/cur", f->maildir, r->folder);
	if (th_count_files(path) != 1)
		mismatch(r->file, "filed in", r->folder, "elsewhere");
	if (r->check != NULL) {
		sql_text(f->db, r->check, got, sizeof(got));
		if (strcmp(got, "1") != 0)
			mismatch(r->file, "check", r->check, got);
	}
	if (failures > 0) {
		snprintf(sql, sizeof(sql), "SELECT detail FROM inbound");
		sql_text(f->db, sql, got, sizeof(got));
		fprintf(stderr, "   (%s: inbound detail: %s)\n", r->file, got);
	}
	th_fixture_teardown((void **)&f);
}

static void
test_real_mail(void **state)
{
	int total = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int before = failures;

		failures = 0;
		run_row(&rows[i]);
		total += failures;
		failures = before;
	}
	assert_int_equal(total, 0);
}

/* Every fixture has a row, and every row a fixture: a file added without
 * saying what it must do fails here. */
static void
test_every_fixture_has_a_row(void **state)
{
	char cmd[PATH_MAX + 64], name[256];
	FILE *p;
	size_t n = 0;

	(void)state;
	snprintf(cmd, sizeof(cmd), "ls '%s' | sed -n 's/\\.eml$//p'", fixture_dir());
	assert_non_null(p = popen(cmd, "r"));
	while (fgets(name, sizeof(name), p) != NULL) {
		size_t i;

		name[strcspn(name, "\n")] = '\0';
		for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
			if (strcmp(rows[i].file, name) == 0)
				break;
		if (i == sizeof(rows) / sizeof(rows[0]))
			fail_msg("%s.eml has no row in test_inbox_real.c", name);
		n++;
	}
	pclose(p);
	assert_int_equal(n, sizeof(rows) / sizeof(rows[0]));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_fixture_has_a_row),
		cmocka_unit_test(test_real_mail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
