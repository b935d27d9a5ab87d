/*
 * test_inbox_mime.c - the decoders under inbox_parse, one table each:
 * RFC 2231 parameters, charset fallback, RFC 2047 header words,
 * format=flowed, HTML to text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../inbox/parse_internal.h"

/* --- RFC 2231 ---------------------------------------------------------- */

struct param_case {
	const char *pairs[8]; /* name, value, name, value, ..., NULL */
	const char *get;
	const char *want;     /* NULL: absent */
};

static const struct param_case param_cases[] = {
	{ { "filename*", "UTF-8''caf%C3%A9.txt", NULL }, "filename", "café.txt" },
	{ { "filename*0*", "utf-8'en'%E2%82%AC", "filename*1", "100.txt", NULL }, "filename", "€100.txt" },
	{ { "name*1", "b", "name*2", "c", "name*0", "a", NULL }, "name", "abc" },
	{ { "name*0", "a", "name*2", "c", NULL }, "name", "a" }, /* a gap ends it */
	{ { "filename", "plain.txt", "filename*", "utf-8''ext.txt", NULL }, "filename", "ext.txt" },
	{ { "charset", "iso-8859-1", NULL }, "charset", "iso-8859-1" },
	{ { "FileName*", "UTF-8''x", NULL }, "filename", "x" },
	{ { "name", "a", NULL }, "filename", NULL },
	{ { "filename*", "iso-8859-1''r%E9sum%E9", NULL }, "filename", "résumé" },
	{ { "filename*", "utf-8''100%", NULL }, "filename", "100%" },
	{ { "filename*", "utf-8''%zz%4", NULL }, "filename", "%zz%4" },
	{ { "filename*", "no%20quotes", NULL }, "filename", "no quotes" },
	{ { "filename*", "x<y>''%41", NULL }, "filename", "A" }, /* insane charset ignored */
	{ { "name*99999", "x", NULL }, "name", NULL },
	{ { "title*0", "a ", "title*1*", "%41", NULL }, "title", "a A" },
	{ { "filename*", "x-no-such-charset''caf%E9", NULL }, "filename", "café" },
	{ { "charset*0", "utf", "charset*1", "-8", NULL }, "charset", "utf-8" },
	{ { "boundary*0", "==abc", "boundary*1", "def==", NULL }, "boundary", "==abcdef==" },
	{ { "name*", "", NULL }, "name", "" },
	{ { "namex*0", "a", NULL }, "name", NULL },
	{ { "name*0x", "a", NULL }, "name", NULL },
};

static void
test_rfc2231(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(param_cases) / sizeof(param_cases[0]); i++) {
		const struct param_case *c = &param_cases[i];
		struct mime_params p = { 0 };
		char *out = NULL;
		int r;

		for (size_t k = 0; c->pairs[k] != NULL; k += 2) {
			p.name[p.n] = c->pairs[k];
			p.value[p.n++] = c->pairs[k + 1];
		}
		r = mime_param_get(&p, c->get, &out);
		if (c->want == NULL) {
			assert_int_equal(r, 0);
			assert_null(out);
		} else {
			assert_int_equal(r, 1);
			if (strcmp(out, c->want) != 0)
				fail_msg("case %zu: want [%s] got [%s]", i, c->want, out);
		}
		free(out);
	}
}

/* --- charsets ---------------------------------------------------------- */

struct charset_case {
	const char *charset;
	const char *in;
	size_t len;          /* 0: strlen(in) */
	const char *want;
	size_t wantlen;      /* 0: strlen(want) */
};

static const struct charset_case charset_cases[] = {
	{ "utf-8", "caf\xc3\xa9", 0, "café", 0 },
	{ "UTF-8", "caf\xe9", 0, "café", 0 },                     /* invalid UTF-8 */
	{ "us-ascii", "\xc3\xbc" "ber", 0, "über", 0 },           /* mislabelled UTF-8 */
	{ "us-ascii", "\x93x\x94", 0, "“x”", 0 },                  /* mislabelled cp1252 */
	{ NULL, "na\xc3\xafve", 0, "naïve", 0 },                  /* unlabelled */
	{ "iso-8859-1", "\xe9t\xe9", 0, "été", 0 },
	{ "ISO-8859-1", "\x80 \x85", 0, "€ …", 0 },                /* read as windows-1252 */
	{ "windows-1252", "a\x81" "b", 0, "a\xef\xbf\xbd" "b", 0 }, /* undefined byte */
	{ "iso-8859-15", "\xa4", 0, "€", 0 },
	{ "koi8-r", "\xf0\xd2\xc9\xd7\xc5\xd4", 0, "Привет", 0 },
	{ "shift_jis", "\x93\xfa\x96\x7b", 0, "日本", 0 },
	{ "gb2312", "\xd6\xd0\xce\xc4", 0, "中文", 0 },
	{ "utf-16le", "h\0i\0", 4, "hi", 0 },
	{ "x-no-such-charset", "caf\xc3\xa9 caf\xe9", 0, "café café", 0 },
	{ "koi8-r//IGNORE", "\xf0", 0, "ð", 0 },                  /* never handed to iconv */
	{ "../../tmp/evil", "\xf0", 0, "ð", 0 },
	{ "utf-8", "", 0, "", 0 },
	{ "utf-8", "a\0b", 3, "a\0b", 3 },                      /* NUL kept: the cleaner drops it */
};

static void
test_charset_fallback(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(charset_cases) / sizeof(charset_cases[0]); i++) {
		const struct charset_case *c = &charset_cases[i];
		size_t len = c->len ? c->len : strlen(c->in), outlen = 0;
		size_t wantlen = c->wantlen ? c->wantlen : strlen(c->want);
		char *out = charset_to_utf8(c->charset, c->in, len, &outlen);

		assert_non_null(out);
		if (outlen != wantlen || memcmp(out, c->want, wantlen) != 0)
			fail_msg("case %zu (%s): want [%s] got [%s]", i, c->charset ? c->charset : "-",
			    c->want, out);
		assert_true(str_valid_utf8(out, outlen));
		free(out);
	}
}

/* Bytes a charset does not define: not "?", but the fallback. */
static void
test_charset_invalid_bytes(void **state)
{
	size_t n;
	char *out;

	(void)state;
	/* 0x80 is not Shift_JIS, 0xff neither: read as windows-1252. */
	out = charset_to_utf8("shift_jis", "\x80\xff abc", 6, &n);
	assert_non_null(out);
	assert_string_equal(out, "€ÿ abc");
	free(out);
	/* A real "?" in the text does not trigger the fallback. */
	out = charset_to_utf8("koi8-r", "?\xf0", 2, &n);
	assert_string_equal(out, "?П");
	free(out);
}

static void
test_utf8_clip(void **state)
{
	const char *s = "a\xc3\xa9\xe2\x82\xac"; /* a é € */
	struct buf b;
	int cut = 0;

	(void)state;
	assert_int_equal(utf8_clip(s, 0), 0);
	assert_int_equal(utf8_clip(s, 1), 1);
	assert_int_equal(utf8_clip(s, 2), 1);
	assert_int_equal(utf8_clip(s, 3), 3);
	assert_int_equal(utf8_clip(s, 4), 3);
	assert_int_equal(utf8_clip(s, 5), 3);
	assert_int_equal(utf8_clip(s, 6), 6);
	buf_init(&b, 5);
	assert_int_equal(buf_append_clipped(&b, s, 6, &cut), 0);
	assert_string_equal(buf_str(&b), "a\xc3\xa9");
	assert_int_equal(cut, 1);
	buf_free(&b);
}

/* --- RFC 2047 ---------------------------------------------------------- */

struct word_case {
	const char *raw;
	size_t max;
	const char *want;
};

static const struct word_case word_cases[] = {
	{ "=?utf-8?q?caf=C3=A9?=", 100, "café" },
	{ "=?UTF-8?B?4oA=?= =?UTF-8?B?lA==?=", 100, "—" },         /* split character */
	{ "=?UTF-8?Q?=E2=80?= =?UTF-8?Q?=94?=", 100, "—" },
	{ "a =?utf-8?q?b?= c", 100, "a b c" },
	{ "=?utf-8?q?a?=  \r\n =?utf-8?q?b?=", 100, "ab" },
	{ "=?iso-8859-1?q?=E9?= =?utf-8?q?=C3=A9?=", 100, "éé" },
	{ "=?x-unknown?q?caf=E9?=", 100, "café" },
	{ "=?us-ascii?q?caf=E9?=", 100, "café" },
	{ "=?utf-8*en?q?lang?=", 100, "lang" },                    /* RFC 2231 language */
	{ "=?windows-1252?Q?=93q=94?=", 100, "“q”" },
	/* (ISO-2022-JP works too, but loading its gconv module trips a glibc
	 * loader false positive under valgrind.) */
	{ "=?gb2312?B?1tDOxA==?= =?koi8-r?B?8NLJ18XU?=", 100, "中文Привет" },
	{ "plain\r\n folded\ttext", 100, "plain folded text" },
	{ "bidi \xe2\x80\xaegnp.exe", 100, "bidi gnp.exe" },       /* U+202E removed */
	{ "zero\xe2\x80\x8bwidth", 100, "zerowidth" },
	{ "ctl\x01\x7fx", 100, "ctl x" },
	{ "=?utf-8?q?unterminated", 100, "unterminated" },
	/* not base64: shown as written, as other readers do */
	{ "=?utf-8?b?!!!?=", 100, "=?utf-8?b?!!!?=" },
	{ "a =?utf-8?b?not base64?= b", 100, "a =?utf-8?b?not base64?= b" },
	{ "=?utf-8?q?two words?=", 100, "two words" },            /* Q: lenient */
	{ "Ren\xe9" "e", 100, "Renée" },                          /* raw Latin-1 */
	{ "J\xc3\xbcrgen", 100, "Jürgen" },                        /* raw UTF-8 */
	{ "\xc3\xa9\xc3\xa9\xc3\xa9", 3, "é" },                    /* cut on a character */
	{ "=?utf-8?q?=C2=85next?=", 100, "next" },                 /* C1 control removed */
	{ "", 100, "" },
};

static void
test_header_decode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(word_cases) / sizeof(word_cases[0]); i++) {
		const struct word_case *c = &word_cases[i];
		char *out = mime_header_decode(c->raw, strlen(c->raw), c->max);

		assert_non_null(out);
		if (strcmp(out, c->want) != 0)
			fail_msg("case %zu: want [%s] got [%s]", i, c->want, out);
		free(out);
	}
}

static void
test_unquote(void **state)
{
	char a[] = "\"Smith, \\\"John\\\"\"", b[] = "\"x", c[] = "plain", d[] = "\"\"";

	(void)state;
	mime_unquote(a);
	mime_unquote(b);
	mime_unquote(c);
	mime_unquote(d);
	assert_string_equal(a, "Smith, \"John\"");
	assert_string_equal(b, "\"x");
	assert_string_equal(c, "plain");
	assert_string_equal(d, "");
}

/* --- format=flowed ----------------------------------------------------- */

static void
test_unflow(void **state)
{
	static const struct {
		const char *in;
		int delsp;
		const char *want;
	} cases[] = {
		{ "a \nb\n", 0, "a b\n" },
		{ "a \nb", 1, "ab" },
		{ "> a \n> b\nc", 0, "> a b\nc" },
		{ ">> a \n>> b", 0, ">> a b" },
		{ "-- \nsig", 0, "-- \nsig" },      /* the signature separator is not flowed */
		{ " >stuffed", 0, ">stuffed" },     /* space-stuffing removed */
		{ "> a \nb", 0, "> a \nb" },        /* quote depth changes: no join */
		{ "x \n\ny", 0, "x \ny" },          /* the empty line ends the paragraph */
		{ "", 0, "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = text_unflow(cases[i].in, cases[i].delsp);

		assert_non_null(out);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("case %zu: want [%s] got [%s]", i, cases[i].want, out);
		free(out);
	}
}

/* --- HTML -------------------------------------------------------------- */

static void
test_html_to_text(void **state)
{
	static const struct {
		const char *html;
		const char *want;
	} cases[] = {
		{ "<p>a</p><p>b</p>", "a\n\nb\n" },
		{ "a<br>b", "a\nb\n" },
		{ "<div>a</div><div>b</div>", "a\nb\n" },
		{ "<script>x</script><style>y</style>z", "z\n" },
		{ "<html><head><title>t</title></head><body>b</body></html>", "b\n" },
		{ "<a href=\"https://x.example/\">https://x.example/</a>", "https://x.example/\n" },
		{ "<a href=\"https://x.example/p\">read</a>", "read <https://x.example/p>\n" },
		{ "<a href=\"mailto:a@b.example\">mail</a>", "mail\n" },
		{ "<a href=\"javascript:alert(1)\">x</a>", "x\n" },
		{ "<blockquote>q<blockquote>qq</blockquote></blockquote>after", "> q\n\n> > qq\n\nafter\n" },
		{ "<ul><li>one</li><li>two</li></ul>", "- one\n- two\n" },
		{ "&lt;b&gt; &amp; &eacute; &#8212;", "<b> & é —\n" },
		{ "<pre>a  b\nc</pre>", "a  b\nc\n" },
		{ "<pre>a\n\nb</pre>", "a\n\nb\n" },
		{ "a   \n\t b", "a b\n" },
		{ "<table><tr><td>x</td><td>y</td></tr></table>", "x y\n" },
		{ "<p>unclosed <b>bold", "unclosed bold\n" },
		{ "", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b;

		buf_init(&b, 4096);
		assert_int_equal(html_to_text(cases[i].html, strlen(cases[i].html), &b), 0);
		if (strcmp(buf_str(&b), cases[i].want) != 0)
			fail_msg("case %zu: want [%s] got [%s]", i, cases[i].want, buf_str(&b));
		buf_free(&b);
	}
}

/* Deep or huge HTML: bounded, no crash, the buffer never overflows. */
static void
test_html_hostile(void **state)
{
	struct buf html, b;

	(void)state;
	buf_init(&html, 0);
	for (int i = 0; i < 20000; i++)
		assert_int_equal(buf_puts(&html, "<div><blockquote>"), 0);
	assert_int_equal(buf_puts(&html, "deep"), 0);
	buf_init(&b, 1024);
	assert_int_equal(html_to_text(html.data, html.len, &b), 0);
	assert_true(b.len <= 1024);
	buf_free(&b);
	buf_reset(&html);
	for (int i = 0; i < 100000; i++)
		assert_int_equal(buf_puts(&html, "<p>word</p>"), 0);
	buf_init(&b, 1000);
	assert_int_equal(html_to_text(html.data, html.len, &b), 0);
	assert_true(b.len <= 1000 && b.len > 900);
	buf_free(&b);
	buf_free(&html);
}

/* --- text cleaning ----------------------------------------------------- */

static void
test_text_clean(void **state)
{
	static const char in[] = "a\r\nb\rc\0d\x01" "e\xc2\xa0" "f\xef\xbb\xbf" "g\xe2\x80\x8bh\xc2\x85i\tj";
	struct buf b;
	int cut = 0;

	(void)state;
	buf_init(&b, 100);
	assert_int_equal(text_clean_append(&b, in, sizeof(in) - 1, &cut), 0);
	assert_string_equal(buf_str(&b), "a\nb\ncde fghi\tj");
	assert_int_equal(cut, 0);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc2231),
		cmocka_unit_test(test_charset_fallback),
		cmocka_unit_test(test_charset_invalid_bytes),
		cmocka_unit_test(test_utf8_clip),
		cmocka_unit_test(test_header_decode),
		cmocka_unit_test(test_unquote),
		cmocka_unit_test(test_unflow),
		cmocka_unit_test(test_html_to_text),
		cmocka_unit_test(test_html_hostile),
		cmocka_unit_test(test_text_clean),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
