/* Unit tests for util/: buffers, time parsing, tokens, strings, UTF-8 repair,
 * addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../util/util.h"

static void
test_buf_grows_and_stops_at_max(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 10);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_puts(&b, "hello"), 0);
	assert_int_equal(buf_printf(&b, "%d", 1234), 0);
	assert_string_equal(buf_str(&b), "hello1234");
	assert_int_equal(buf_puts(&b, "xx"), -1); /* 11 > max */
	assert_string_equal(buf_str(&b), "hello1234");
	assert_int_equal(buf_putc(&b, '!'), 0);
	assert_int_equal(b.len, 10);
	buf_reset(&b);
	assert_string_equal(buf_str(&b), "");
	buf_free(&b);
}

/* buf_printf formats into the room the buffer has when it fits, grows it
 * when not, and refuses past max with the buffer unchanged: the room
 * (capacity 64 here) is larger than max, so max is what stops it. */
static void
test_buf_printf_room_growth_and_max(void **state)
{
	struct buf b, big;
	char want[301];

	(void)state;
	buf_init(&b, 20);
	assert_int_equal(buf_printf(&b, "%s-%d", "ab", 7), 0); /* first: allocates */
	assert_int_equal(buf_printf(&b, "[%05d]", 42), 0);     /* fits the room */
	assert_string_equal(buf_str(&b), "ab-7[00042]");
	assert_int_equal(buf_printf(&b, "%s", "123456789x"), -1); /* 21 > max, though room */
	assert_string_equal(buf_str(&b), "ab-7[00042]");
	assert_int_equal(b.len, 11);
	assert_int_equal(buf_printf(&b, "%s", "123456789"), 0); /* exactly max */
	assert_int_equal(b.len, 20);
	assert_string_equal(buf_str(&b), "ab-7[00042]123456789");
	assert_int_equal(buf_printf(&b, "%s", ""), 0);
	assert_int_equal(buf_printf(&b, "x"), -1);
	assert_string_equal(buf_str(&b), "ab-7[00042]123456789");
	buf_free(&b);

	buf_init(&big, 0); /* growing past the room, several times */
	for (int i = 0; i < 3; i++)
		assert_int_equal(buf_printf(&big, "%0100d", i), 0);
	snprintf(want, sizeof(want), "%0100d%0100d%0100d", 0, 1, 2);
	assert_string_equal(buf_str(&big), want);
	assert_int_equal(big.len, 300);
	buf_free(&big);
}

static void
test_time_parse_forms(void **state)
{
	struct err e;
	int64_t t;

	(void)state;
	assert_int_equal(time_parse_iso("2027-01-11T09:00Z", &t, &e), 0);
	assert_int_equal(t, 1799658000);
	assert_int_equal(time_parse_iso("2027-01-11T10:00:00+01:00", &t, &e), 0);
	assert_int_equal(t, 1799658000);
	assert_int_equal(time_parse_iso("2027-01-11 04:00-0500", &t, &e), 0);
	assert_int_equal(t, 1799658000);
	setenv("TZ", "UTC", 1);
	assert_int_equal(time_parse_iso("2027-01-11T09:00", &t, &e), 0);
	assert_int_equal(t, 1799658000);
	assert_int_equal(time_parse_iso("2027-01-11", &t, &e), 0);
	assert_int_equal(t, 1799625600);
}

static void
test_time_parse_rejects(void **state)
{
	static const char *const bad[] = { "", "2027", "2027-13-01", "2027-02-29",
		"2027-01-11T25:00", "2027-01-11T09:00 junk", "11/01/2027", "2027-1-11" };
	struct err e;
	int64_t t;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(time_parse_iso(bad[i], &t, &e), -1);
		assert_non_null(strstr(e.msg, "not a date"));
		/* the form the sample things.conf uses is the one named */
		assert_non_null(strstr(e.msg, "2027-01-11 09:00"));
	}
	assert_int_equal(time_parse_iso("2028-02-29", &t, &e), 0); /* leap year */
}

static void
test_rfc5322_date(void **state)
{
	char out[64];

	(void)state;
	time_format_rfc5322(1799658000, out, sizeof(out));
	assert_string_equal(out, "Mon, 11 Jan 2027 09:00:00 +0000");
}

static void
test_tokens_are_fresh_and_valid(void **state)
{
	char a[TOKEN_HEX_LEN + 1], b[TOKEN_HEX_LEN + 1];
	struct err e;

	(void)state;
	assert_int_equal(token_new(a, &e), 0);
	assert_int_equal(token_new(b, &e), 0);
	assert_true(token_valid(a));
	assert_string_not_equal(a, b);
	assert_false(token_valid("abc"));
	assert_false(token_valid("ABCDEF0123456789abcdef01"));
}

static void
test_addr_normalize(void **state)
{
	static const char *const bad[] = { "", "noat", "@x.org", "a@", "a b@x.org",
		"a@x.org>", "<a@x.org>", "a\r\nBcc: x@y.org", "a..b@x.org", ".a@x.org",
		"a@x..org", "a@x_y.org" };
	char out[ADDR_MAX + 1], tagged[ADDR_MAX + 1];
	struct err e;

	(void)state;
	assert_int_equal(addr_normalize("Jo.Smith+x@Example.ORG", out, sizeof(out), &e), 0);
	assert_string_equal(out, "jo.smith+x@example.org");
	assert_string_equal(addr_domain(out), "example.org");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(addr_normalize(bad[i], out, sizeof(out), &e), -1);
	assert_int_equal(addr_with_tag("things@x.org", '+', "done-3", tagged, sizeof(tagged)), 0);
	assert_string_equal(tagged, "things+done-3@x.org");
}

static void
test_strings(void **state)
{
	char s[] = "  Jo \r\n Bcc:\tx  ";
	int64_t v;

	(void)state;
	str_squash_space(s);
	assert_string_equal(s, "Jo Bcc: x");
	assert_true(str_has_ctl("a\nb", 1));
	assert_false(str_has_ctl("a\tb", 1));
	assert_true(str_has_ctl("a\tb", 0));
	assert_int_equal(str_to_int64("12", 1, 12, &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(str_to_int64("13", 1, 12, &v), -1);
	assert_int_equal(str_to_int64("1x", 1, 12, &v), -1);
	assert_int_equal(str_to_int64(" 1", 1, 12, &v), -1);
	assert_int_equal(str_hex_digit('7'), 7);
	assert_int_equal(str_hex_digit('b'), 11);
	assert_int_equal(str_hex_digit('F'), 15);
	assert_int_equal(str_hex_digit('g'), -1);
	assert_int_equal(str_hex_digit('\0'), -1);
	assert_true(str_valid_utf8("caf\xc3\xa9", 5));
	assert_false(str_valid_utf8("caf\xe9", 4));
	assert_false(str_valid_utf8("\xc0\xaf", 2));       /* overlong */
	assert_false(str_valid_utf8("\xed\xa0\x80", 3));   /* surrogate */
}

/* Valid UTF-8 stays as it is; every other byte becomes its windows-1252
 * character (U+FFFD where windows-1252 has none). */
static void
test_utf8_repair(void **state)
{
	static const struct {
		const char *in;
		size_t len;     /* 0: strlen(in) */
		const char *out;
		size_t outlen;  /* 0: strlen(out) */
	} cases[] = {
		{ "", 0, "", 0 },
		{ "plain ASCII", 0, "plain ASCII", 0 },
		{ "caf\xc3\xa9 \xe2\x80\x99 \xf0\x9f\x98\x80", 0,
		  "caf\xc3\xa9 \xe2\x80\x99 \xf0\x9f\x98\x80", 0 },
		{ "It\x92s", 0, "It\xe2\x80\x99s", 0 },                  /* smart quote */
		{ "a \x96 b", 0, "a \xe2\x80\x93 b", 0 },                /* en dash */
		{ "caf\xe9", 0, "caf\xc3\xa9", 0 },                      /* Latin-1 letter */
		{ "\x80\x9f\xa0\xff", 0, "\xe2\x82\xac\xc5\xb8\xc2\xa0\xc3\xbf", 0 },
		{ "a\x81" "b\x8d\x8f\x90\x9d", 0,                  /* undefined in windows-1252 */
		  "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 0 },
		{ "Chlo\xc3\xa9\x92s", 0, "Chlo\xc3\xa9\xe2\x80\x99s", 0 }, /* both in one */
		{ "end \xe2\x82", 0, "end \xc3\xa2\xe2\x80\x9a", 0 },    /* truncated at the end */
		{ "\xc3", 0, "\xc3\x83", 0 },
		{ "\xf0\x9f\x98", 0, "\xc3\xb0\xc5\xb8\xcb\x9c", 0 },
		{ "\xe2\x82x", 0, "\xc3\xa2\xe2\x80\x9ax", 0 },          /* cut short inside */
		{ "\xc0\xaf", 0, "\xc3\x80\xc2\xaf", 0 },                /* overlong */
		{ "\xed\xa0\x80", 0, "\xc3\xad\xc2\xa0\xe2\x82\xac", 0 }, /* surrogate */
		{ "a\0b\x92", 4, "a\0b\xe2\x80\x99", 6 },              /* NUL is text */
	};
	char all[256];
	struct buf b;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		size_t want = cases[i].outlen ? cases[i].outlen : strlen(cases[i].out);

		buf_init(&b, 0);
		assert_int_equal(buf_puts(&b, ">"), 0);
		assert_int_equal(utf8_repair_append(&b, cases[i].in, len), 0);
		if (b.len != want + 1 || memcmp(b.data, ">", 1) != 0 ||
		    memcmp(b.data + 1, cases[i].out, want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, b.data, cases[i].out);
		assert_true(str_valid_utf8(b.data, b.len));
		buf_free(&b);
	}
	/* every byte at once: valid UTF-8 out, at most 3 bytes per byte in */
	for (size_t i = 0; i < sizeof(all); i++)
		all[i] = (char)i;
	buf_init(&b, 3 * sizeof(all));
	assert_int_equal(utf8_repair_append(&b, all, sizeof(all)), 0);
	assert_true(str_valid_utf8(b.data, b.len));
	/* ASCII 1 byte; 0x80-0x9f: 17 three-byte characters, 10 two-byte letters
	 * (Š Œ Ž ƒ ˆ ˜ š œ ž Ÿ), 5 U+FFFD; 0xa0-0xff two bytes */
	assert_int_equal(b.len, 128 + 17 * 3 + 10 * 2 + 5 * 3 + 96 * 2);
	buf_free(&b);
	/* a full buffer is an error, not a silent cut */
	buf_init(&b, 4);
	assert_int_equal(utf8_repair_append(&b, "abc\x92", 4), -1);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_grows_and_stops_at_max),
		cmocka_unit_test(test_buf_printf_room_growth_and_max),
		cmocka_unit_test(test_time_parse_forms),
		cmocka_unit_test(test_time_parse_rejects),
		cmocka_unit_test(test_rfc5322_date),
		cmocka_unit_test(test_tokens_are_fresh_and_valid),
		cmocka_unit_test(test_addr_normalize),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_utf8_repair),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
