/* Unit tests for util/: buffers, time parsing, tokens, strings, addresses. */
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
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
