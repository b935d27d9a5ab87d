/* Unit tests for mailer/compose.c: a composed message parses back (libetpan)
 * as multipart/alternative, text/plain then text/html, utf-8; every header
 * field is there exactly once; nothing a participant wrote can add a field
 * or break the MIME structure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "../../mailer/compose.h"
#include "test_mailer_check.h"

static const char plain_text[] =
    "Hello Alice,\n\nThing 3 is about blogging.  \nFrom here on, write.\n"
    ". a line with a dot\n=?utf-8?q?not_a_word?=\nCaf\xc3\xa9 \xe2\x80\x94 na\xc3\xafve\n";
static const char html_text[] =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>\n"
    "<body><p class=\"x\">Hello Alice,</p>\n<p>Caf\xc3\xa9</p></body></html>\n";

static void
thing_spec(struct compose_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->from_name = "12 Things for Health Libraries";
	s->from_addr = "things@example.org";
	s->to_name = "Alice Smith";
	s->to_addr = "alice@example.net";
	s->subject = "Thing 3: Blogging";
	s->date = 1799658000;
	s->message_id = "0123456789abcdef01234567.thing@example.org";
	s->list_name = "12 Things for Health Libraries";
	s->list_id = "12-things.example.org";
	s->unsubscribe_mailto = "mailto:things+unsubscribe-0123456789abcdef01234567@example.org";
	s->unsubscribe_https = "https://example.org/unsubscribe?token=0123456789abcdef01234567";
	s->help_mailto = "mailto:things+help@example.org";
	s->bulk = 1;
	s->auto_submitted = COMPOSE_AUTO_GENERATED;
	s->text = plain_text;
	s->text_len = strlen(plain_text);
	s->html = html_text;
	s->html_len = strlen(html_text);
}

static char *
compose_ok(const struct compose_spec *s, size_t *len)
{
	struct buf out;
	struct err e;

	buf_init(&out, COMPOSE_MESSAGE_MAX);
	if (compose_message(s, &out, &e) == -1)
		fail_msg("%s", e.msg);
	*len = out.len;
	return buf_steal(&out);
}

/* The expected text after normalisation: no blanks before line ends. */
static const char *
without_trailing_blanks(const char *s, char *out)
{
	size_t w = 0;

	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '\n')
			while (w > 0 && (out[w - 1] == ' ' || out[w - 1] == '\t'))
				w--;
		out[w++] = s[i];
	}
	out[w] = '\0';
	return out;
}

static void
test_thing_structure_and_fields(void **state)
{
	static const char *const once[] = { "Date", "From", "To", "Subject", "Message-ID",
		"List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Help", "Precedence",
		"Auto-Submitted", "MIME-Version", "Content-Type" };
	static const char *const never[] = { "Reply-To", "In-Reply-To", "References", "Bcc", "Cc" };
	struct compose_spec s;
	struct header_scan hs;
	char *msg, *text, *html, want[sizeof(plain_text)];
	int tenc, henc;
	size_t len;

	(void)state;
	thing_spec(&s);
	msg = compose_ok(&s, &len);
	check_scan(msg, len, &hs);
	assert_int_equal(hs.n, sizeof(once) / sizeof(once[0]));
	for (size_t i = 0; i < sizeof(once) / sizeof(once[0]); i++)
		if (check_count(&hs, once[i]) != 1)
			fail_msg("%s appears %zu times", once[i], check_count(&hs, once[i]));
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		assert_int_equal(check_count(&hs, never[i]), 0);

	check_field_is(msg, "From", "12 Things for Health Libraries <things@example.org>");
	check_field_is(msg, "To", "Alice Smith <alice@example.net>");
	check_field_is(msg, "Date", "Mon, 11 Jan 2027 09:00:00 +0000");
	check_field_is(msg, "Message-ID", "<0123456789abcdef01234567.thing@example.org>");
	check_field_is(msg, "List-Id", "12 Things for Health Libraries <12-things.example.org>");
	check_field_is(msg, "List-Unsubscribe",
	    "<mailto:things+unsubscribe-0123456789abcdef01234567@example.org>,"
	    " <https://example.org/unsubscribe?token=0123456789abcdef01234567>");
	check_field_is(msg, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
	check_field_is(msg, "Precedence", "bulk");
	check_field_is(msg, "Auto-Submitted", "auto-generated");

	check_alternative(msg, len, &text, &html, &tenc, &henc);
	assert_string_equal(text, without_trailing_blanks(plain_text, want));
	assert_string_equal(html, html_text);
	/* mostly ASCII: quoted-printable */
	assert_int_equal(tenc, MAILMIME_MECHANISM_QUOTED_PRINTABLE);
	assert_int_equal(henc, MAILMIME_MECHANISM_QUOTED_PRINTABLE);
	free(text);
	free(html);
	free(msg);
}

static void
test_answer_and_forward_fields(void **state)
{
	struct compose_spec s;
	struct header_scan hs;
	char *msg;
	size_t len;

	(void)state;
	thing_spec(&s);
	s.bulk = 0;
	s.auto_submitted = COMPOSE_AUTO_REPLIED;
	s.in_reply_to = "CAF=abc+def@mail.example.net";
	s.unsubscribe_https = NULL;
	msg = compose_ok(&s, &len);
	check_scan(msg, len, &hs);
	assert_int_equal(check_count(&hs, "Precedence"), 0);
	assert_int_equal(check_count(&hs, "List-Unsubscribe-Post"), 0);
	assert_int_equal(check_count(&hs, "List-Unsubscribe"), 1);
	check_field_is(msg, "In-Reply-To", "<CAF=abc+def@mail.example.net>");
	check_field_is(msg, "References", "<CAF=abc+def@mail.example.net>");
	check_field_is(msg, "Auto-Submitted", "auto-replied");
	free(msg);

	/* a forward to an organiser: Reply-To the participant, no list fields */
	thing_spec(&s);
	s.bulk = 0;
	s.to_name = NULL;
	s.to_addr = "organiser@example.org";
	s.reply_to_name = "Alice Smith";
	s.reply_to_addr = "alice@example.net";
	s.list_id = s.unsubscribe_mailto = s.unsubscribe_https = s.help_mailto = NULL;
	msg = compose_ok(&s, &len);
	check_scan(msg, len, &hs);
	check_field_is(msg, "Reply-To", "Alice Smith <alice@example.net>");
	check_field_is(msg, "To", "<organiser@example.org>");
	assert_int_equal(check_count(&hs, "List-Id"), 0);
	assert_int_equal(check_count(&hs, "List-Unsubscribe"), 0);
	assert_int_equal(check_count(&hs, "List-Help"), 0);
	free(msg);
}

/* Hostile names, subjects and bodies: still exactly the fields we wrote,
 * still two parts, nothing decoded differently from what went in. */
static void
test_hostile_input_cannot_inject(void **state)
{
	static const char evil_body[] =
	    "line\r\n--=_things_0123\r\nContent-Type: text/html\r\n\r\n<script>\r\n.\r\n\r\n"
	    "bad bytes \xff\xfe end\0hidden";
	char long_name[700];
	const char *names[] = { "Eve\r\nBcc: mallory@evil.example", "\"Quoted\" <x@y> =?utf-8?q?z?=",
		"a\xff\xfe\xc3", long_name };
	struct compose_spec s;

	(void)state;
	memset(long_name, 0, sizeof(long_name));
	for (int i = 0; i < 60; i++)
		strcat(long_name, "Eve\r\nX: ");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct header_scan hs;
		char *msg, *text, *html, *v;
		int tenc, henc;
		size_t len;

		thing_spec(&s);
		s.to_name = names[i];
		s.reply_to_name = names[i];
		s.reply_to_addr = "alice@example.net";
		s.subject = names[i];
		s.in_reply_to = "abc@x>\r\nBcc: <y@z";  /* malformed: dropped */
		s.text = evil_body;
		s.text_len = sizeof(evil_body) - 1;
		s.html = evil_body;
		s.html_len = sizeof(evil_body) - 1;
		msg = compose_ok(&s, &len);
		check_scan(msg, len, &hs);
		assert_int_equal(hs.n, 14); /* the 13 of a Thing and Reply-To */
		assert_int_equal(check_count(&hs, "Bcc"), 0);
		assert_int_equal(check_count(&hs, "X"), 0);
		assert_int_equal(check_count(&hs, "In-Reply-To"), 0);
		assert_int_equal(check_count(&hs, "To"), 1);
		assert_int_equal(check_count(&hs, "Subject"), 1);
		v = check_field(msg, "To");
		assert_non_null(strstr(v, "<alice@example.net>"));
		assert_null(strchr(v, '\n'));
		free(v);
		check_alternative(msg, len, &text, &html, &tenc, &henc);
		/* NUL dropped, invalid bytes replaced, the fake boundary is text */
		assert_non_null(strstr(text, "--=_things_0123\nContent-Type: text/html\n"));
		assert_non_null(strstr(text, "bad bytes \xef\xbf\xbd\xef\xbf\xbd endhidden\n"));
		assert_string_equal(text, html);
		free(text);
		free(html);
		free(msg);
	}
}

/* A participant's Message-ID with 8-bit bytes (valid UTF-8 or not) was
 * written raw into In-Reply-To and References: a header that is not
 * 7-bit, in a message that does not ask for SMTPUTF8.  Dropped like any
 * malformed id (found by fuzz_compose). */
static void
test_eight_bit_reply_id_dropped(void **state)
{
	static const char *const ids[] = { "caf\xc3\xa9@mail.example.net", "\xfe", "a@b\x80" };
	struct compose_spec s;

	(void)state;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct header_scan hs;
		const char *end;
		char *msg;
		size_t len;

		thing_spec(&s);
		s.in_reply_to = ids[i];
		msg = compose_ok(&s, &len);
		check_scan(msg, len, &hs);
		assert_int_equal(check_count(&hs, "In-Reply-To"), 0);
		assert_int_equal(check_count(&hs, "References"), 0);
		end = strstr(msg, "\r\n\r\n");
		assert_non_null(end);
		for (const char *p = msg; p < end; p++)
			assert_true((unsigned char)*p < 0x80);
		free(msg);
	}
}

static void
test_encodings_and_boundaries(void **state)
{
	static const char cyrillic[] =
	    "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd0\xbc\xd0\xb8\xd1\x80 "
	    "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd0\xbc\xd0\xb8\xd1\x80\n";
	static const char spaces[] = "two spaces  \nand a tab\t\nend";
	struct compose_spec s;
	char *a, *b, *text, *html, *ba, *bb;
	int tenc, henc;
	size_t la, lb;

	(void)state;
	thing_spec(&s);
	s.text = cyrillic;
	s.text_len = strlen(cyrillic);
	s.html = spaces;
	s.html_len = strlen(spaces);
	a = compose_ok(&s, &la);
	check_alternative(a, la, &text, &html, &tenc, &henc);
	assert_int_equal(tenc, MAILMIME_MECHANISM_BASE64);
	assert_string_equal(text, cyrillic);
	/* libetpan's QP writer would double these blanks: they are gone */
	assert_string_equal(html, "two spaces\nand a tab\nend\n");
	free(text);
	free(html);

	b = compose_ok(&s, &lb);
	ba = check_field(a, "Content-Type");
	bb = check_field(b, "Content-Type");
	assert_non_null(strstr(ba, "multipart/alternative; boundary=\"=_things_"));
	assert_string_not_equal(ba, bb); /* a fresh boundary per message */
	free(ba);
	free(bb);
	free(a);
	free(b);
}

static void
test_refusals(void **state)
{
	/* one field of a good spec replaced by something unusable */
	static const struct {
		size_t field;
		const char *value;
	} table[] = {
		{ offsetof(struct compose_spec, message_id), NULL },
		{ offsetof(struct compose_spec, message_id), "no-at-sign" },
		{ offsetof(struct compose_spec, message_id), "a@b>\r\nBcc: <x@y" },
		{ offsetof(struct compose_spec, from_addr), "" },
		{ offsetof(struct compose_spec, to_addr), "alice@example.net\r\nBcc: x@y" },
		{ offsetof(struct compose_spec, reply_to_addr), "a b@example.net" },
		{ offsetof(struct compose_spec, list_id), "list id" },
		{ offsetof(struct compose_spec, unsubscribe_https), "https://e.org/u?t=1>, <mailto:x@y" },
		{ offsetof(struct compose_spec, unsubscribe_https), "http://example.org/plain" },
		{ offsetof(struct compose_spec, unsubscribe_mailto), "https://example.org/" },
		{ offsetof(struct compose_spec, help_mailto), "mailto:help@example.org\r\nX: y" },
	};
	struct compose_spec s;
	struct buf out;
	struct err e;

	(void)state;
	buf_init(&out, 0);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		thing_spec(&s);
		*(const char **)((char *)&s + table[i].field) = table[i].value;
		if (compose_message(&s, &out, &e) != -1)
			fail_msg("case %zu composed", i);
		assert_int_equal(out.len, 0);
	}
	/* a message over the buffer's limit is an error, not a cut message */
	buf_free(&out);
	buf_init(&out, 600);
	thing_spec(&s);
	assert_int_equal(compose_message(&s, &out, &e), -1);
	buf_free(&out);
}

/* Not a benchmark gate: prints the cost so the report can quote it, and
 * fails only if composing got absurdly slow. */
/* The quoted-printable writer on random text made of the pieces that
 * matter (blanks before line ends, "=", "." and "F" at line starts, NUL,
 * CR LF, multi-byte and invalid UTF-8, long words): what libetpan decodes
 * is the text normalised (blanks before a line end and NULs dropped,
 * invalid bytes as U+FFFD, a final line end), and every encoded line is
 * at most 76 characters, none starting with "." or "From ". */
static void
test_quoted_printable_round_trip(void **state)
{
	static const struct {
		const char *in, *out;   /* out: "" for a blank (decided at the line's end) */
	} pieces[] = {
		{ "a", "a" }, { "word", "word" }, { "F", "F" }, { ".", "." }, { "=", "=" },
		{ " ", NULL }, { "\t", NULL }, { "\n", "\n" }, { "\r\n", "\n" },
		{ "\xc3\xa9", "\xc3\xa9" }, { "\xe2\x82\xac", "\xe2\x82\xac" },
		{ "\xff", "\xef\xbf\xbd" }, { "<p class=\"x\">", "<p class=\"x\">" },
		{ "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
		  "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz" },
	};
	enum { NPIECES = sizeof(pieces) / sizeof(pieces[0]) };
	uint32_t seed = 7;
	int bases[2] = { 0, 0 };  /* rounds in QP, in base64 */

	(void)state;
	for (int round = 0; round < 300; round++) {
		struct buf in, want, blanks;
		struct compose_spec s;
		char *msg, *text, *html, *part, *line;
		int tenc, henc, count = 1 + round % 120;
		size_t len;

		buf_init(&in, 0);
		buf_init(&want, 0);
		buf_init(&blanks, 0);
		for (int k = 0; k < count; k++) {
			int i;

			seed = seed * 1103515245u + 12345u;
			i = (int)((seed >> 16) % NPIECES);
			if (pieces[i].out == NULL) {      /* a blank: kept unless a line end follows */
				assert_int_equal(buf_puts(&in, pieces[i].in), 0);
				assert_int_equal(buf_puts(&blanks, pieces[i].in), 0);
				continue;
			}
			if (strcmp(pieces[i].out, "\n") != 0)
				assert_int_equal(buf_append(&want, blanks.data, blanks.len), 0);
			buf_reset(&blanks);
			assert_int_equal(buf_puts(&in, pieces[i].in), 0);
			assert_int_equal(buf_puts(&want, pieces[i].out), 0);
			if (k % 17 == 5) /* a NUL now and then: dropped */
				assert_int_equal(buf_putc(&in, '\0'), 0);
		}
		if (want.len == 0 || want.data[want.len - 1] != '\n')
			assert_int_equal(buf_putc(&want, '\n'), 0);
		thing_spec(&s);
		s.text = in.data ? in.data : "";
		s.text_len = in.len;
		s.html = s.text;
		s.html_len = s.text_len;
		msg = compose_ok(&s, &len);
		check_alternative(msg, len, &text, &html, &tenc, &henc);
		if (strcmp(text, want.data) != 0)
			fail_msg("round %d: decoded text differs:\n[%s]\n[%s]", round, text, want.data);
		bases[tenc == MAILMIME_MECHANISM_BASE64]++;
		if (tenc == MAILMIME_MECHANISM_QUOTED_PRINTABLE) {
			part = strstr(msg, "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
			assert_non_null(part);
			part += strlen("Content-Transfer-Encoding: quoted-printable\r\n\r\n");
			for (line = part; strncmp(line, "--=_things_", 11) != 0;) {
				char *eol = strstr(line, "\r\n");

				assert_non_null(eol);
				if (eol - line > 76)
					fail_msg("round %d: encoded line of %d characters", round,
					    (int)(eol - line));
				assert_false(line[0] == '.');
				assert_false(strncmp(line, "From ", 5) == 0);
				line = eol + 2;
			}
		}
		len = strlen(text);
		assert_true(str_valid_utf8(text, len));
		assert_string_equal(text, html);
		free(text);
		free(html);
		free(msg);
		buf_free(&in);
		buf_free(&want);
		buf_free(&blanks);
	}
	assert_true(bases[0] > 100);  /* both writers were tried */
	assert_true(bases[1] > 0);
}

/* The literal runs are found eight bytes at a time: every byte that must
 * be escaped is, at every position in and across a word, and no raw
 * control character, DEL or "=" reaches the encoded text. */
static void
test_quoted_printable_word_positions(void **state)
{
	static const struct {
		const char *b, *escaped; /* escaped: what the QP must say for it */
	} special[] = {
		{ "=", "=3D" }, { "\x7f", "=7F" }, { "\x01", "=01" }, { "\x1f", "=1F" },
		{ "\x0b", "=0B" }, { "\xc3\xa9", "=C3=A9" }, { "\t", "\t" }, { "~", "~" },
	};

	(void)state;
	for (size_t si = 0; si < sizeof(special) / sizeof(special[0]); si++) {
		for (size_t k = 0; k < 20; k++) {
			char in[64], want[64], *msg, *text, *html, *part, *end;
			struct compose_spec s;
			int tenc, henc;
			size_t len;

			snprintf(in, sizeof(in), "%.*s%sabcdefghijklmnopqrstu", (int)k,
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ", special[si].b);
			snprintf(want, sizeof(want), "%s\n", in);
			thing_spec(&s);
			s.text = s.html = in;
			s.text_len = s.html_len = strlen(in);
			msg = compose_ok(&s, &len);
			check_alternative(msg, len, &text, &html, &tenc, &henc);
			assert_int_equal(tenc, MAILMIME_MECHANISM_QUOTED_PRINTABLE);
			assert_string_equal(text, want);
			part = strstr(msg, "quoted-printable\r\n\r\n");
			assert_non_null(part);
			part += strlen("quoted-printable\r\n\r\n");
			end = strstr(part, "\r\n");
			assert_non_null(end);
			*end = '\0'; /* the one encoded line */
			assert_non_null(strstr(part, special[si].escaped));
			for (char *c = part; *c; c++)
				assert_true((*c >= 0x20 && *c < 0x7f) || *c == '\t');
			for (char *c = strchr(part, '='); c; c = strchr(c + 1, '='))
				assert_non_null(strchr("0123456789ABCDEF", c[1]));
			free(text);
			free(html);
			free(msg);
		}
	}
}

static void
test_compose_speed(void **state)
{
	enum { N = 2000 };
	struct compose_spec s;
	struct timespec t0, t1;
	struct buf out;
	struct err e;
	double us;

	(void)state;
	thing_spec(&s);
	buf_init(&out, COMPOSE_MESSAGE_MAX);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < N; i++)
		assert_int_equal(compose_message(&s, &out, &e), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e3 / N;
	print_message("compose_message: %.1f us per message (%zu bytes)\n", us, out.len);
	assert_true(us < 5000);
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thing_structure_and_fields),
		cmocka_unit_test(test_answer_and_forward_fields),
		cmocka_unit_test(test_hostile_input_cannot_inject),
		cmocka_unit_test(test_eight_bit_reply_id_dropped),
		cmocka_unit_test(test_encodings_and_boundaries),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_quoted_printable_round_trip),
		cmocka_unit_test(test_quoted_printable_word_positions),
		cmocka_unit_test(test_compose_speed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
