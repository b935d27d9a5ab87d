/* Unit tests for mailer/rfc2047.c: header fields that hostile text cannot
 * break.  Every field written is checked for shape (lines <= 78, folds only,
 * one final CRLF, encoded-words <= 75 each decoding to whole characters)
 * and decoded back with libetpan, the decoder the inbox uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libetpan/libetpan.h>

#include "../../mailer/rfc2047.h"
#include "../../util/util.h"

/* Checks the shape of one written field and returns its value unfolded
 * (malloc'd): the folds removed, "Name:" and the first space gone. */
static char *
field_value(const char *field, const char *name, size_t line_max)
{
	size_t n = strlen(field), namelen = strlen(name), col = 0;
	struct buf v;

	assert_true(n >= namelen + 3);
	assert_memory_equal(field, name, namelen);
	assert_int_equal(field[namelen], ':');
	assert_string_equal(field + n - 2, "\r\n");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)field[i];

		assert_true(c != '\0');
		if (c == '\r') {
			assert_int_equal(field[i + 1], '\n');
			/* a CRLF is either the end or a fold */
			assert_true(i + 2 == n || field[i + 2] == ' ');
			assert_true(col <= line_max);
			col = 0;
			i++;
			continue;
		}
		assert_true(c != '\n');
		col++;
	}
	buf_init(&v, 0);
	for (size_t i = namelen + 1; i < n - 2; i++) {
		if (field[i] == '\r') {
			i++; /* the LF; the fold's space stays */
			continue;
		}
		assert_int_equal(buf_putc(&v, field[i]), 0);
	}
	/* the space after the colon is not part of the value */
	if (v.len > 0 && v.data[0] == ' ')
		memmove(v.data, v.data + 1, v.len--);
	return buf_steal(&v);
}

/* Every encoded-word is <= 75 characters and decodes on its own to valid
 * UTF-8: no character was split between two words. */
static void
check_encoded_words(const char *value)
{
	const char *p = value;

	while ((p = strstr(p, "=?")) != NULL) {
		const char *end = strstr(p + 2, "?=");
		char *word, *decoded = NULL;
		size_t idx = 0;

		assert_non_null(end);
		/* "=?UTF-8?Q?" has two more '?' before the closing "?=" */
		end = strstr(p + 10, "?=");
		assert_non_null(end);
		assert_true(end + 2 - p <= RFC2047_WORD_MAX);
		word = strndup(p, (size_t)(end + 2 - p));
		assert_int_equal(mailmime_encoded_phrase_parse("utf-8", word, strlen(word), &idx,
				     "utf-8", &decoded), MAILIMF_NO_ERROR);
		assert_true(str_valid_utf8(decoded, strlen(decoded)));
		free(decoded);
		free(word);
		p = end + 2;
	}
}

static char *
decode(const char *value)
{
	char *out = NULL;
	size_t idx = 0;

	assert_int_equal(mailmime_encoded_phrase_parse("utf-8", value, strlen(value), &idx, "utf-8",
			     &out), MAILIMF_NO_ERROR);
	return out;
}

static char *
cleaned(const char *text, size_t max)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(rfc2047_clean(&b, text, max), 0);
	return buf_steal(&b);
}

/* --- cleaning ---------------------------------------------------------- */

static void
test_clean_table(void **state)
{
	static const struct {
		const char *in;
		size_t max;
		const char *out;
	} table[] = {
		{ "plain", 100, "plain" },
		{ "  many   spaces\t\there ", 100, "many spaces here" },
		{ "Eve\r\nBcc: x@y", 100, "Eve Bcc: x@y" },
		{ "a\x01\x7f" "b", 100, "a b" },
		{ "bad \xff\xfe bytes", 100, "bad \xef\xbf\xbd\xef\xbf\xbd bytes" },
		{ "overlong \xc0\xaf", 100, "overlong \xef\xbf\xbd\xef\xbf\xbd" },
		{ "surrogate \xed\xa0\x80", 100, "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "nel\xc2\x85line\xe2\x80\xa8sep", 100, "nel line sep" },
		{ "caf\xc3\xa9", 4, "caf" },   /* never half a character */
		{ "caf\xc3\xa9", 5, "caf\xc3\xa9" },
		{ "ab cd", 3, "ab" },
		{ "\r\n\r\n", 100, "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		char *got = cleaned(table[i].in, table[i].max);

		assert_string_equal(got, table[i].out);
		free(got);
	}
}

/* --- unstructured ------------------------------------------------------ */

static void
test_subject_ascii_stays_plain(void **state)
{
	static const struct {
		const char *in;
		const char *field;
	} table[] = {
		{ "Thing 3: Blogging", "Subject: Thing 3: Blogging\r\n" },
		{ "Eve\r\nBcc: x@y", "Subject: Eve Bcc: x@y\r\n" },
		{ "Re: [list] \"quoted\" <angle>", "Subject: Re: [list] \"quoted\" <angle>\r\n" },
		{ "", "Subject:\r\n" },
		{ "a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g h i j k l m n",
		  "Subject: a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g h i\r\n"
		  " j k l m n\r\n" },
		{ "under_score = equals ? question", "Subject: under_score = equals ? question\r\n" },
	};
	struct buf b;
	struct err e;

	(void)state;
	buf_init(&b, 0);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		buf_reset(&b);
		assert_int_equal(rfc2047_unstructured(&b, "Subject", table[i].in, &e), 0);
		assert_string_equal(buf_str(&b), table[i].field);
	}
	buf_free(&b);
}

static void
test_subject_encoded_round_trip(void **state)
{
	char long_ascii[301], long_mixed[2000], emoji[1200];
	const char *table[] = {
		"Caf\xc3\xa9 au lait",
		"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82, \xd0\xbc\xd0\xb8\xd1\x80! "
		"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82, \xd0\xbc\xd0\xb8\xd1\x80! "
		"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82, \xd0\xbc\xd0\xb8\xd1\x80!",
		"=?utf-8?q?not_a_word?= literally",
		"under_score =?= question",
		"bad \xff bytes \xc3",
		long_ascii, long_mixed, emoji,
	};
	struct buf b;
	struct err e;

	(void)state;
	memset(long_ascii, 'a', 300);
	long_ascii[300] = '\0';
	long_mixed[0] = '\0';
	for (int i = 0; i < 100; i++)
		strcat(long_mixed, "na\xc3\xafve ");
	emoji[0] = '\0';
	for (int i = 0; i < 250; i++)
		strcat(emoji, "\xf0\x9f\x98\x80"); /* U+1F600, 4 bytes */
	buf_init(&b, 0);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		char *value, *got, *want;

		buf_reset(&b);
		assert_int_equal(rfc2047_unstructured(&b, "Subject", table[i], &e), 0);
		value = field_value(buf_str(&b), "Subject", RFC2047_LINE_MAX);
		assert_non_null(strstr(value, "=?UTF-8?"));
		check_encoded_words(value);
		got = decode(value);
		want = cleaned(table[i], RFC2047_TEXT_MAX);
		assert_string_equal(got, want);
		free(got);
		free(want);
		free(value);
	}
	buf_free(&b);
}

static void
test_subject_picks_shorter_encoding(void **state)
{
	struct buf b;
	struct err e;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(rfc2047_unstructured(&b, "Subject", "Caf\xc3\xa9", &e), 0);
	assert_string_equal(buf_str(&b), "Subject: =?UTF-8?Q?Caf=C3=A9?=\r\n");
	buf_reset(&b);
	/* all two-byte characters: B (4/3) beats Q (3x) */
	assert_int_equal(rfc2047_unstructured(&b, "Subject", "\xd0\x9f\xd1\x80\xd0\xb8", &e), 0);
	assert_string_equal(buf_str(&b), "Subject: =?UTF-8?B?0J/RgNC4?=\r\n");
	buf_free(&b);
}

/* --- mailboxes --------------------------------------------------------- */

static void
test_mailbox_table(void **state)
{
	static const struct {
		const char *name;
		const char *field;
	} table[] = {
		{ "Alice Smith", "To: Alice Smith <alice@example.org>\r\n" },
		{ "", "To: <alice@example.org>\r\n" },
		{ NULL, "To: <alice@example.org>\r\n" },
		{ "Smith, Alice", "To: \"Smith, Alice\" <alice@example.org>\r\n" },
		{ "J. R. R. Tolkien", "To: \"J. R. R. Tolkien\" <alice@example.org>\r\n" },
		{ "O\"Brien \\o/", "To: \"O\\\"Brien \\\\o/\" <alice@example.org>\r\n" },
		{ "<evil@x.y>", "To: \"<evil@x.y>\" <alice@example.org>\r\n" },
		{ "Eve\r\nBcc: x@y", "To: \"Eve Bcc: x@y\" <alice@example.org>\r\n" },
		{ "Jos\xc3\xa9", "To: =?UTF-8?Q?Jos=C3=A9?= <alice@example.org>\r\n" },
		{ "=?utf-8?b?SGk=?=", "To: =?UTF-8?Q?=3D=3Futf-8=3Fb=3FSGk=3D=3F=3D?= <alice@example.org>\r\n" },
	};
	struct buf b;
	struct err e;

	(void)state;
	buf_init(&b, 0);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		buf_reset(&b);
		assert_int_equal(rfc2047_mailbox(&b, "To", table[i].name, "alice@example.org", &e), 0);
		assert_string_equal(buf_str(&b), table[i].field);
	}
	buf_free(&b);
}

/* Whatever the name, the field parses back as one mailbox with our address
 * and the cleaned name. */
static void
test_mailbox_hostile_round_trip(void **state)
{
	char long_plain[400], long_special[400], long_utf8[1000];
	const char *table[] = {
		"Eve\r\nBcc: mallory@evil.example\r\n\r\n--boundary",
		"\"\\\"\\\\\"<>,;:@[]()",
		"a\xff\xfe\xc3",
		"=?utf-8?q?x?= \"=?\" ?=",
		long_plain, long_special, long_utf8,
	};
	struct buf b;
	struct err e;

	(void)state;
	long_plain[0] = long_special[0] = long_utf8[0] = '\0';
	for (int i = 0; i < 39; i++) {
		strcat(long_plain, "Smithson ");
		strcat(long_special, "S.m,i\"th ");
	}
	for (int i = 0; i < 70; i++)
		strcat(long_utf8, "\xe6\x97\xa5\xe6\x9c\xac ");
	buf_init(&b, 0);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct mailimf_mailbox *mb = NULL;
		char *value, *name, *want;
		size_t idx = 0;

		buf_reset(&b);
		assert_int_equal(rfc2047_mailbox(&b, "To", table[i], "alice@example.org", &e), 0);
		value = field_value(buf_str(&b), "To", RFC2047_LINE_MAX);
		check_encoded_words(value);
		assert_int_equal(mailimf_mailbox_parse(value, strlen(value), &idx, &mb),
		    MAILIMF_NO_ERROR);
		assert_int_equal(idx, strlen(value));
		assert_string_equal(mb->mb_addr_spec, "alice@example.org");
		assert_non_null(mb->mb_display_name);
		name = decode(mb->mb_display_name);
		want = cleaned(table[i], RFC2047_PHRASE_MAX);
		assert_string_equal(name, want);
		free(want);
		free(name);
		mailimf_mailbox_free(mb);
		free(value);
	}
	buf_free(&b);
}

static void
test_mailbox_refuses_bad_addresses(void **state)
{
	const char *bad[] = { "", "a@b\r\nBcc: x@y", "a b@c", "<a@b>", "a@b>, x@y", "a\"@b",
		"a@b\n" };
	struct buf b;
	struct err e;

	(void)state;
	buf_init(&b, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(rfc2047_mailbox(&b, "To", "x", bad[i], &e), -1);
		assert_int_equal(b.len, 0);
	}
	buf_free(&b);
}

/* --- lists ------------------------------------------------------------- */

static void
test_list_folds_between_items(void **state)
{
	const char *items[] = {
		"<mailto:things+unsubscribe-0123456789abcdef01234567@example.org>",
		"<https://example.org/unsubscribe?token=0123456789abcdef01234567>",
	};
	const char *evil[] = { "<mailto:a@b>\r\nBcc: x@y" };
	struct buf b;
	struct err e;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(rfc2047_list(&b, "List-Unsubscribe", items, 2, ", ", &e), 0);
	assert_string_equal(buf_str(&b),
	    "List-Unsubscribe:\r\n"
	    " <mailto:things+unsubscribe-0123456789abcdef01234567@example.org>,\r\n"
	    " <https://example.org/unsubscribe?token=0123456789abcdef01234567>\r\n");
	buf_reset(&b);
	assert_int_equal(rfc2047_list(&b, "List-Help", evil, 1, " ", &e), -1);
	buf_free(&b);
}

static void
test_buffer_limit_is_an_error(void **state)
{
	struct buf b;
	struct err e;

	(void)state;
	buf_init(&b, 20);
	assert_int_equal(rfc2047_unstructured(&b, "Subject", "a fairly long subject line", &e),
	    -1);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_table),
		cmocka_unit_test(test_subject_ascii_stays_plain),
		cmocka_unit_test(test_subject_encoded_round_trip),
		cmocka_unit_test(test_subject_picks_shorter_encoding),
		cmocka_unit_test(test_mailbox_table),
		cmocka_unit_test(test_mailbox_hostile_round_trip),
		cmocka_unit_test(test_mailbox_refuses_bad_addresses),
		cmocka_unit_test(test_list_folds_between_items),
		cmocka_unit_test(test_buffer_limit_is_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
