/* Unit tests for the SMTP client protocol without I/O (mailer/smtp_reply.c,
 * mailer/smtp_dialogue.c): replies read out of a byte stream however it is
 * cut, hostile replies refused, the EHLO keywords, dot-stuffing, and one
 * transaction driven reply by reply, with and without PIPELINING: what
 * goes out when, and what each reply means for the message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../mailer/smtp_proto.h"
#include "../../util/util.h"

/* Feeds in, cut into pieces of step bytes (0: all at once), and writes
 * every reply as "CODE|text\n" into got; returns the reader's last result
 * (-1 on a protocol error). */
static int
read_all(const char *in, size_t len, size_t step, char *got, size_t n)
{
	struct smtp_reader r;
	size_t off = 0, w = 0;

	smtp_reader_reset(&r);
	got[0] = '\0';
	while (off < len) {
		size_t piece = step == 0 || len - off < step ? len - off : step, used = 0;
		struct smtp_reply rep;
		struct err e;
		int rc = smtp_reader_feed(&r, in + off, piece, &used, &rep, &e);

		if (rc == -1)
			return -1;
		assert_true(used <= piece);
		off += used;
		if (rc == 1)
			w += (size_t)snprintf(got + w, n - w, "%d|%s\n", rep.code, rep.text);
		else
			assert_int_equal(used, piece);
	}
	return smtp_reader_idle(&r) ? 0 : 1;
}

static void
test_replies_are_read_however_cut(void **state)
{
	static const struct {
		const char *in;
		const char *want;   /* NULL: a protocol error */
	} table[] = {
		{ "250 2.0.0 Ok\r\n", "250|250 2.0.0 Ok\n" },
		{ "250 Ok\n", "250|250 Ok\n" },                       /* bare LF */
		{ "250\r\n", "250|250\n" },                           /* code alone */
		{ "250-smtp.example\r\n250-PIPELINING\r\n250 SIZE 100\r\n",
		  "250|250 smtp.example PIPELINING SIZE 100\n" },
		/* the later lines' repeated status is not repeated in the text */
		{ "550-5.1.1 The account does not exist.\r\n550-5.1.1 Check the address\r\n"
		  "550 5.1.1 for typos. https://x.example/p\r\n",
		  "550|550 5.1.1 The account does not exist. Check the address for typos. "
		  "https://x.example/p\n" },
		{ "250 a\r\n354 go on\r\n221 bye\r\n", "250|250 a\n354|354 go on\n221|221 bye\n" },
		{ "451 4.3.0 tab\there\x01 and\x7f del\r\n", "451|451 4.3.0 tab here  and  del\n" },
		{ "hello\r\n", NULL },
		{ "25\r\n", NULL },
		{ "250x ok\r\n", NULL },
		{ "650 no such class\r\n", NULL },
		{ "250-first\r\n251 second\r\n", NULL },              /* code changes */
		{ "\r\n", NULL },
	};
	char got[2048];

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		size_t len = strlen(table[i].in);

		/* whole, byte by byte, in threes: the same replies */
		for (size_t step = 0; step <= 3; step += (step == 0 ? 1 : 2)) {
			int rc = read_all(table[i].in, len, step, got, sizeof(got));

			if (table[i].want == NULL) {
				if (rc != -1)
					fail_msg("case %zu step %zu: accepted '%s'", i, step, table[i].in);
				continue;
			}
			assert_int_equal(rc, 0);
			assert_string_equal(got, table[i].want);
		}
	}
}

static void
test_replies_are_bounded(void **state)
{
	struct buf in;
	char got[64];

	(void)state;
	/* a line longer than SMTP_LINE_MAX, with or without its end */
	buf_init(&in, 0);
	assert_int_equal(buf_puts(&in, "250 "), 0);
	for (int i = 0; i < SMTP_LINE_MAX; i++)
		assert_int_equal(buf_putc(&in, 'a'), 0);
	assert_int_equal(read_all(in.data, in.len, 0, got, sizeof(got)), -1);
	assert_int_equal(buf_puts(&in, "\r\n"), 0);
	assert_int_equal(read_all(in.data, in.len, 100, got, sizeof(got)), -1);
	/* a reply of more lines than SMTP_REPLY_LINES_MAX */
	buf_reset(&in);
	for (int i = 0; i < SMTP_REPLY_LINES_MAX + 1; i++)
		assert_int_equal(buf_puts(&in, "250-more\r\n"), 0);
	assert_int_equal(buf_puts(&in, "250 end\r\n"), 0);
	assert_int_equal(read_all(in.data, in.len, 0, got, sizeof(got)), -1);
	/* exactly the limits: fine, and the text is cut to the store's */
	buf_reset(&in);
	for (int i = 0; i < SMTP_REPLY_LINES_MAX - 1; i++)
		assert_int_equal(buf_puts(&in, "250-more\r\n"), 0);
	assert_int_equal(buf_puts(&in, "250 end\r\n"), 0);
	{
		char big[8192];

		assert_int_equal(read_all(in.data, in.len, 7, big, sizeof(big)), 0);
		assert_int_equal(strlen(big), strlen("250|") + STORE_REASON_MAX + 1);
	}
	/* half a reply is not a reply */
	assert_int_equal(read_all("250-a\r\n250 b", 12, 0, got, sizeof(got)), 1);
	assert_string_equal(got, "");
	buf_free(&in);
}

static void
test_enhanced_status(void **state)
{
	static const struct {
		const char *text;
		int code;
		const char *want;
	} table[] = {
		{ "550 5.1.1 <x>: no such user", 550, "5.1.1" },
		{ "451 4.3.0 try later", 451, "4.3.0" },
		{ "452 4.3.1", 452, "4.3.1" },
		{ "550 4.1.1 class mismatch", 550, "" },
		{ "550 Mailbox unavailable", 550, "" },
		{ "550 5.1 short", 550, "" },
		{ "550 5.1234.1 long", 550, "" },
		{ "550 5..1 empty", 550, "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		char out[16];

		smtp_enhanced_status(table[i].text, table[i].code, out, sizeof(out));
		assert_string_equal(out, table[i].want);
	}
}

static void
test_ehlo_keywords(void **state)
{
	struct smtp_caps c = { 0 };

	(void)state;
	smtp_caps_line(&c, "250-8BITMIME\r\n", 14);
	assert_int_equal(c.flags, 0);
	smtp_caps_line(&c, "250-pipelining", 14);
	assert_int_equal(c.flags, SMTP_CAP_PIPELINING);
	smtp_caps_line(&c, "250-PIPELININGX", 15);   /* another keyword */
	smtp_caps_line(&c, "250-SMTPUTF8\r\n", 14);
	assert_int_equal(c.flags, SMTP_CAP_PIPELINING | SMTP_CAP_SMTPUTF8);
	smtp_caps_line(&c, "250 SIZE 10240000\r\n", 19);
	assert_true(c.flags & SMTP_CAP_SIZE);
	assert_true(c.size_max == 10240000ULL);
	smtp_caps_line(&c, "250 SIZE 99999999999999999999999\r\n", 34); /* no overflow */
	assert_true(c.size_max > 1000000000000ULL);
	memset(&c, 0, sizeof(c));
	smtp_caps_line(&c, "550 PIPELINING", 14);   /* not a positive reply */
	smtp_caps_line(&c, "250 ", 4);
	assert_int_equal(c.flags, 0);
}

static void
test_dot_stuffing(void **state)
{
	static const struct {
		const char *in, *want;
	} table[] = {
		{ "a\r\nb\r\n", "a\r\nb\r\n.\r\n" },
		{ "a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n" },          /* a line "." */
		{ "..\r\n", "...\r\n.\r\n" },                             /* a line ".." */
		{ ".start\r\nmid.dle\r\n", "..start\r\nmid.dle\r\n.\r\n" },
		{ "no line end", "no line end\r\n.\r\n" },
		{ "a\r\n.", "a\r\n..\r\n.\r\n" },                         /* "." with no end */
		{ "", ".\r\n" },
		{ "\r\n", "\r\n.\r\n" },
		/* lone LF and CR become CRLF: a lenient server's end of data
		 * cannot hide in the message */
		{ "a\n.\nb\n", "a\r\n..\r\nb\r\n.\r\n" },
		{ "a\n.\r\nb", "a\r\n..\r\nb\r\n.\r\n" },
		{ "a\r.\rb", "a\r\n..\r\nb\r\n.\r\n" },
		{ "a\r\r\nb\r\n", "a\r\n\r\nb\r\n.\r\n" },
	};
	struct buf out;

	(void)state;
	buf_init(&out, 0);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		buf_reset(&out);
		assert_int_equal(smtp_dot_stuff(&out, table[i].in, strlen(table[i].in)), 0);
		if (strcmp(buf_str(&out), table[i].want) != 0)
			fail_msg("case %zu: got '%s'", i, buf_str(&out));
	}
	/* a full buffer is an error, not a cut message */
	buf_free(&out);
	buf_init(&out, 8);
	assert_int_equal(smtp_dot_stuff(&out, "0123456789\r\n", 12), -1);
	buf_free(&out);
}

/* --- one transaction ----------------------------------------------------- */

#define MSG_DATA "Subject: x\r\n\r\n.hi\r\n"
#define MSG_SENT "Subject: x\r\n\r\n..hi\r\n.\r\n"

struct turn {
	const char *reply;  /* one whole reply; NULL ends the script */
	int state;          /* smtp_txn_reply's answer */
	const char *out;    /* what it appended */
};

struct script {
	const char *name;
	unsigned caps;
	const char *rcpt;
	const char *begin_out;  /* what smtp_txn_begin wrote */
	int begin_state;
	struct turn turns[8];
	enum transport_status status;
	int code, per_message;
	const char *text;
};

static const struct script scripts[] = {
	{ "pipelined, sent", SMTP_CAP_PIPELINING | SMTP_CAP_SIZE, "r@example.org",
	  "MAIL FROM:<s@example.org> SIZE=19\r\nRCPT TO:<r@example.org>\r\nDATA\r\n", SMTP_TXN_MORE,
	  { { "250 2.1.0 Ok", SMTP_TXN_MORE, "" }, { "250 2.1.5 Ok", SMTP_TXN_MORE, "" },
	    { "354 go ahead", SMTP_TXN_MORE, MSG_SENT },
	    { "250 2.0.0 Ok: queued as X", SMTP_TXN_DONE, "" } },
	  TR_SENT, 250, 0, "250 2.0.0 Ok: queued as X" },
	{ "one at a time, sent", 0, "r@example.org", "MAIL FROM:<s@example.org>\r\n", SMTP_TXN_MORE,
	  { { "250 Ok", SMTP_TXN_MORE, "RCPT TO:<r@example.org>\r\n" },
	    { "250 Ok", SMTP_TXN_MORE, "DATA\r\n" }, { "354 go", SMTP_TXN_MORE, MSG_SENT },
	    { "250 queued", SMTP_TXN_DONE, "" } },
	  TR_SENT, 250, 0, "250 queued" },
	{ "pipelined, recipient refused", SMTP_CAP_PIPELINING, "r@example.org",
	  "MAIL FROM:<s@example.org>\r\nRCPT TO:<r@example.org>\r\nDATA\r\n", SMTP_TXN_MORE,
	  { { "250 Ok", SMTP_TXN_MORE, "" }, { "550 5.1.1 <r@example.org>: no such user",
	    SMTP_TXN_MORE, "" }, { "554 5.5.1 Error: no valid recipients", SMTP_TXN_MORE, "RSET\r\n" },
	    { "250 2.0.0 Ok", SMTP_TXN_DONE, "" } },
	  TR_PERMANENT, 550, 1, "RCPT: 550 5.1.1 <r@example.org>: no such user" },
	{ "pipelined, sender refused", SMTP_CAP_PIPELINING, "r@example.org",
	  "MAIL FROM:<s@example.org>\r\nRCPT TO:<r@example.org>\r\nDATA\r\n", SMTP_TXN_MORE,
	  { { "553 5.7.1 not yours", SMTP_TXN_MORE, "" }, { "503 5.5.1 need MAIL", SMTP_TXN_MORE, "" },
	    { "503 5.5.1 need RCPT", SMTP_TXN_MORE, "RSET\r\n" }, { "250 Ok", SMTP_TXN_DONE, "" } },
	  TR_TEMPORARY, 553, 0, "MAIL: 553 5.7.1 not yours" },
	/* RFC 2920 3.1: DATA taken although the recipient was refused: an
	 * empty message, its answer ignored */
	{ "pipelined, DATA taken after a refusal", SMTP_CAP_PIPELINING, "r@example.org",
	  "MAIL FROM:<s@example.org>\r\nRCPT TO:<r@example.org>\r\nDATA\r\n", SMTP_TXN_MORE,
	  { { "250 Ok", SMTP_TXN_MORE, "" }, { "451 4.3.0 later", SMTP_TXN_MORE, "" },
	    { "354 go", SMTP_TXN_MORE, ".\r\n" }, { "554 no recipients", SMTP_TXN_MORE, "RSET\r\n" },
	    { "250 Ok", SMTP_TXN_DONE, "" } },
	  TR_TEMPORARY, 451, 1, "RCPT: 451 4.3.0 later" },
	{ "421 in the middle", SMTP_CAP_PIPELINING, "r@example.org",
	  "MAIL FROM:<s@example.org>\r\nRCPT TO:<r@example.org>\r\nDATA\r\n", SMTP_TXN_MORE,
	  { { "250 Ok", SMTP_TXN_MORE, "" }, { "421 4.3.2 going down", SMTP_TXN_CLOSE, "" } },
	  TR_TEMPORARY, 421, 0, "RCPT: 421 4.3.2 going down" },
	{ "refused after the data", 0, "r@example.org", "MAIL FROM:<s@example.org>\r\n",
	  SMTP_TXN_MORE,
	  { { "250 Ok", SMTP_TXN_MORE, "RCPT TO:<r@example.org>\r\n" },
	    { "250 Ok", SMTP_TXN_MORE, "DATA\r\n" }, { "354 go", SMTP_TXN_MORE, MSG_SENT },
	    { "452 4.3.1 full", SMTP_TXN_MORE, "RSET\r\n" }, { "250 Ok", SMTP_TXN_DONE, "" } },
	  TR_TEMPORARY, 452, 1, "DATA-END: 452 4.3.1 full" },
	{ "DATA refused", 0, "r@example.org", "MAIL FROM:<s@example.org>\r\n", SMTP_TXN_MORE,
	  { { "250 Ok", SMTP_TXN_MORE, "RCPT TO:<r@example.org>\r\n" },
	    { "250 Ok", SMTP_TXN_MORE, "DATA\r\n" }, { "554 5.7.1 no", SMTP_TXN_MORE, "RSET\r\n" },
	    { "250 Ok", SMTP_TXN_DONE, "" } },
	  TR_PERMANENT, 554, 1, "DATA: 554 5.7.1 no" },
	/* RFC 1870: over the size the server announced: this message's fault */
	{ "too big for SIZE", SMTP_CAP_SIZE, "r@example.org",
	  "MAIL FROM:<s@example.org> SIZE=19\r\n", SMTP_TXN_MORE,
	  { { "552 5.3.4 too big", SMTP_TXN_MORE, "RSET\r\n" }, { "250 Ok", SMTP_TXN_DONE, "" } },
	  TR_PERMANENT, 552, 1, "MAIL: 552 5.3.4 too big" },
	{ "a reply out of step", 0, "r@example.org", "MAIL FROM:<s@example.org>\r\n", SMTP_TXN_MORE,
	  { { "354 what", SMTP_TXN_CLOSE, "" } },
	  TR_TEMPORARY, 354, 0, "MAIL: 354 what" },
	{ "RSET refused", SMTP_CAP_PIPELINING, "r@example.org",
	  "MAIL FROM:<s@example.org>\r\nRCPT TO:<r@example.org>\r\nDATA\r\n", SMTP_TXN_MORE,
	  { { "250 Ok", SMTP_TXN_MORE, "" }, { "550 no", SMTP_TXN_MORE, "" },
	    { "554 no", SMTP_TXN_MORE, "RSET\r\n" }, { "500 what", SMTP_TXN_CLOSE, "" } },
	  TR_PERMANENT, 550, 1, "RCPT: 550 no" },
	/* RFC 6531 */
	{ "UTF-8 recipient, SMTPUTF8 offered", SMTP_CAP_SMTPUTF8, "j\xc3\xb6rg@example.org",
	  "MAIL FROM:<s@example.org> SMTPUTF8\r\n", SMTP_TXN_MORE,
	  { { "250 Ok", SMTP_TXN_MORE, "RCPT TO:<j\xc3\xb6rg@example.org>\r\n" } },
	  TR_SENT, 0, 0, NULL },
	{ "UTF-8 recipient, no SMTPUTF8", SMTP_CAP_PIPELINING, "j\xc3\xb6rg@example.org", "",
	  SMTP_TXN_DONE, { { NULL, 0, NULL } },
	  TR_PERMANENT, 0, 1,
	  "MAIL: the recipient's address is not ASCII and the server does not offer SMTPUTF8" },
	{ "a line end in an address", SMTP_CAP_PIPELINING, "r@example.org\r\nRSET", "",
	  SMTP_TXN_DONE, { { NULL, 0, NULL } },
	  TR_PERMANENT, 0, 1, "MAIL: refusing an address with a control character" },
};

static void
run_script(const struct script *sc)
{
	struct transport_msg msg = { "s@example.org", sc->rcpt, MSG_DATA, strlen(MSG_DATA) };
	struct smtp_caps caps = { sc->caps, 0 };
	struct smtp_txn t;
	struct buf out;
	int st;

	buf_init(&out, 0);
	st = smtp_txn_begin(&t, &msg, &caps, &out);
	assert_int_equal(st, sc->begin_state);
	assert_string_equal(buf_str(&out), sc->begin_out);
	for (size_t i = 0; i < 8 && sc->turns[i].reply != NULL; i++) {
		struct smtp_reader r;
		struct smtp_reply rep;
		char line[256];
		size_t used;
		struct err e;

		smtp_reader_reset(&r);
		snprintf(line, sizeof(line), "%s\r\n", sc->turns[i].reply);
		assert_int_equal(smtp_reader_feed(&r, line, strlen(line), &used, &rep, &e), 1);
		buf_reset(&out);
		st = smtp_txn_reply(&t, &rep, &out);
		if (st != sc->turns[i].state || strcmp(buf_str(&out), sc->turns[i].out) != 0)
			fail_msg("%s, reply %zu '%s': state %d, out '%s'", sc->name, i,
			    sc->turns[i].reply, st, buf_str(&out));
	}
	if (sc->text != NULL) {
		assert_int_equal(t.res.status, sc->status);
		assert_int_equal(t.res.code, sc->code);
		assert_int_equal(t.res.per_message, sc->per_message);
		assert_string_equal(t.res.text, sc->text);
		/* done: nothing left unanswered; closed: whatever it was */
		if (st == SMTP_TXN_DONE)
			assert_int_equal(smtp_txn_waiting(&t), 0);
	}
	buf_free(&out);
}

static void
test_transactions(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
		run_script(&scripts[i]);
}

/* Pipelined replies arriving in one chunk, or cut anywhere, pair with
 * their commands in order. */
static void
test_pipelined_replies_in_any_chunks(void **state)
{
	static const char stream[] = "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n";
	struct transport_msg msg = { "s@example.org", "r@example.org", MSG_DATA, strlen(MSG_DATA) };
	struct smtp_caps caps = { SMTP_CAP_PIPELINING, 0 };

	(void)state;
	for (size_t cut = 1; cut <= sizeof(stream); cut++) {
		struct smtp_reader r;
		struct smtp_txn t;
		struct buf out;
		size_t off = 0, replies = 0;

		buf_init(&out, 0);
		smtp_reader_reset(&r);
		assert_int_equal(smtp_txn_begin(&t, &msg, &caps, &out), SMTP_TXN_MORE);
		buf_reset(&out);
		while (off < sizeof(stream) - 1) {
			size_t piece = sizeof(stream) - 1 - off < cut ? sizeof(stream) - 1 - off : cut;
			size_t used;
			struct smtp_reply rep;
			struct err e;

			if (smtp_reader_feed(&r, stream + off, piece, &used, &rep, &e) == 1) {
				replies++;
				assert_int_equal(smtp_txn_reply(&t, &rep, &out), SMTP_TXN_MORE);
				/* the message goes only after the third reply, 354 */
				assert_int_equal(out.len > 0, replies == 3);
			}
			off += used;
		}
		assert_int_equal(replies, 3);
		assert_string_equal(buf_str(&out), MSG_SENT);
		assert_string_equal(smtp_txn_awaited(&t), "DATA-END");
		buf_free(&out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replies_are_read_however_cut),
		cmocka_unit_test(test_replies_are_bounded),
		cmocka_unit_test(test_enhanced_status),
		cmocka_unit_test(test_ehlo_keywords),
		cmocka_unit_test(test_dot_stuffing),
		cmocka_unit_test(test_transactions),
		cmocka_unit_test(test_pipelined_replies_in_any_chunks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
