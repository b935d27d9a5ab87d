/*
 * test_inbox_parse.c - inbox_parse over the corpus in tests/fixtures/mail,
 * then focused tests of its pieces (RFC 2231, charsets, RFC 2047, quote
 * stripping, links, HTML, format=flowed) and of its defences against
 * hostile input.
 *
 * The corpus: NAME.eml is a message, NAME.expect says what its record and
 * its intent must be, as "key: value" lines (\n, \t and \\ escaped).  Every
 * field of the record is compared: a field the .expect does not name must
 * be empty (0, "", no links, ...), the text must equal the fresh text, and
 * the fresh text must be empty.  Keys:
 *   message_id from_addr from_name reply_to to_addrs subject in_reply_to
 *   attachments dsn_recipient dsn_original_recipient dsn_action dsn_status
 *   report_addrs                     exact strings
 *   references links                 space-separated, in order
 *   auto_submitted x_autoreply vacation_subject bulk has_list_id
 *   has_list_unsubscribe null_sender is_dsn is_feedback_report
 *   text_from_html text_truncated mime_degraded forwarded      0 or 1
 *   text fresh                       exact; or text_contains, text_lacks,
 *   text_prefix, text_bytes, fresh_contains, fresh_lacks, fresh_bytes
 *   subject_prefix subject_bytes     instead of subject
 *   parse: fail                      inbox_parse must refuse the input
 *   ctx_address ctx_delimiter ctx_nthings ctx_reply_to_thing
 *   ctx_from_participant             the classifier's context (defaults:
 *                                    things@example.org, +, 12, 0, 0)
 *   intent intent_thing intent_url intent_token   what inbox_classify says
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../inbox/inbox.h"
#include "../../inbox/parse_internal.h"

#define MAX_KEYS 64

struct expect {
	size_t n;
	char *key[MAX_KEYS];
	char *value[MAX_KEYS];
	int used[MAX_KEYS];
};

static const char *
fixture_dir(void)
{
	static char dir[4096];
	const char *env = getenv("THINGS_FIXTURES");
	const char *slash;

	if (env != NULL)
		return env;
	/* __FILE__ is tests/unit/test_inbox_parse.c as make compiles it. */
	slash = strrchr(__FILE__, '/');
	snprintf(dir, sizeof(dir), "%.*s/../fixtures/mail",
	    slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
	return dir;
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t)n + 1);
	if (data != NULL && fread(data, 1, (size_t)n, f) != (size_t)n) {
		free(data);
		data = NULL;
	}
	fclose(f);
	if (data != NULL) {
		data[n] = '\0';
		*len = (size_t)n;
	}
	return data;
}

static void
unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r == '\\' && r[1] != '\0') {
			r++;
			*w++ = *r == 'n' ? '\n' : *r == 't' ? '\t' : *r;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

static void
expect_load(const char *path, struct expect *x)
{
	size_t len;
	char *data = read_file(path, &len), *line, *save = NULL;

	memset(x, 0, sizeof(*x));
	if (data == NULL)
		fail_msg("cannot read %s", path);
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strstr(line, ": ");

		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (colon == NULL || x->n == MAX_KEYS)
			fail_msg("%s: bad line '%s'", path, line);
		*colon = '\0';
		x->key[x->n] = strdup(line);
		x->value[x->n] = strdup(colon + 2);
		unescape(x->value[x->n]);
		x->n++;
	}
	free(data);
}

static void
expect_free(struct expect *x)
{
	for (size_t i = 0; i < x->n; i++) {
		free(x->key[i]);
		free(x->value[i]);
	}
}

/* The value of key (the i-th occurrence), or NULL; marks it used. */
static const char *
get(struct expect *x, const char *key, size_t nth)
{
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->key[i], key) == 0 && nth-- == 0) {
			x->used[i] = 1;
			return x->value[i];
		}
	return NULL;
}

static int failures;

static void
mismatch(const char *name, const char *field, const char *want, const char *got)
{
	failures++;
	fprintf(stderr, "%s: %s\n   want: [%s]\n   got:  [%s]\n", name, field, want, got);
}

static void
check_str(struct expect *x, const char *name, const char *field, const char *got)
{
	const char *want = get(x, field, 0);

	if (want == NULL)
		want = "";
	if (strcmp(want, got) != 0)
		mismatch(name, field, want, got);
}

static void
check_int(struct expect *x, const char *name, const char *field, long got)
{
	const char *want = get(x, field, 0);
	char g[32];

	snprintf(g, sizeof(g), "%ld", got);
	if (strcmp(want ? want : "0", g) != 0)
		mismatch(name, field, want ? want : "0", g);
}

static void
check_list(struct expect *x, const char *name, const char *field, char *const *v, size_t n)
{
	const char *want = get(x, field, 0);
	char got[8192] = "";

	for (size_t i = 0; i < n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? " " : "", v[i]);
	if (strcmp(want ? want : "", got) != 0)
		mismatch(name, field, want ? want : "", got);
}

/* text or fresh: exact, or contains/lacks/prefix/bytes; returns whether
 * any assertion was made. */
static int
check_body(struct expect *x, const char *name, const char *field, const char *got)
{
	char key[64];
	const char *v;
	int any = 0;

	if ((v = get(x, field, 0)) != NULL) {
		any = 1;
		if (strcmp(v, got) != 0)
			mismatch(name, field, v, got);
	}
	snprintf(key, sizeof(key), "%s_contains", field);
	for (size_t i = 0; (v = get(x, key, i)) != NULL; i++, any = 1)
		if (strstr(got, v) == NULL)
			mismatch(name, key, v, got);
	snprintf(key, sizeof(key), "%s_lacks", field);
	for (size_t i = 0; (v = get(x, key, i)) != NULL; i++, any = 1)
		if (strstr(got, v) != NULL)
			mismatch(name, key, v, got);
	snprintf(key, sizeof(key), "%s_prefix", field);
	if ((v = get(x, key, 0)) != NULL) {
		any = 1;
		if (strncmp(got, v, strlen(v)) != 0)
			mismatch(name, key, v, got);
	}
	snprintf(key, sizeof(key), "%s_bytes", field);
	if ((v = get(x, key, 0)) != NULL) {
		char g[32];

		any = 1;
		snprintf(g, sizeof(g), "%zu", strlen(got));
		if (strcmp(v, g) != 0)
			mismatch(name, key, v, g);
	}
	return any;
}

static const char *
get_or(struct expect *x, const char *key, const char *def)
{
	const char *v = get(x, key, 0);

	return v != NULL ? v : def;
}

static int
get_int(struct expect *x, const char *key, int def)
{
	const char *v = get(x, key, 0);
	int64_t n;

	if (v == NULL)
		return def;
	if (str_to_int64(v, 0, 1000, &n) == -1)
		fail_msg("%s: not a number: %s", key, v);
	return (int)n;
}

static void
check_intent(struct expect *x, const char *name, const struct inbox_message *m)
{
	struct inbox_context ctx = { 0 };
	struct inbox_intent in;
	const char *v;
	size_t k;

	ctx.address = get_or(x, "ctx_address", "things@example.org");
	ctx.delimiter = get_or(x, "ctx_delimiter", "+")[0];
	ctx.nthings = get_int(x, "ctx_nthings", 12);
	ctx.reply_to_thing = get_int(x, "ctx_reply_to_thing", 0);
	ctx.from_participant = get_int(x, "ctx_from_participant", 0);
	inbox_classify(m, &ctx, &in);
	if ((v = get(x, "intent", 0)) == NULL)
		mismatch(name, "intent", "(an intent line in the .expect)", "");
	else if (strcmp(v, inbox_intent_name(in.kind)) != 0)
		mismatch(name, "intent", v, inbox_intent_name(in.kind));
	check_int(x, name, "intent_thing", in.thing);
	check_str(x, name, "intent_url", in.url ? in.url : "");
	check_str(x, name, "intent_token", in.token);
	for (k = 0; in.url != NULL && k < m->nlinks && m->links[k] != in.url; k++)
		;
	if (in.url != NULL && k == m->nlinks && (in.url != in.url_buf || m->nlinks > 0))
		mismatch(name, "intent_url", "a pointer into links (or url_buf without links)",
		    in.url);
	if (in.reason == NULL || in.reason[0] == '\0')
		mismatch(name, "reason", "a reason", "");
}

static void
check_record(struct expect *x, const char *name, const struct inbox_message *m)
{
	static const char *const strs[] = {
		"message_id", "from_addr", "from_name", "reply_to", "to_addrs", "in_reply_to",
		"attachments", "dsn_recipient", "dsn_original_recipient", "dsn_action", "dsn_status",
		"report_addrs",
	};
	const char *const got[] = {
		m->message_id, m->from_addr, m->from_name, m->reply_to, m->to_addrs, m->in_reply_to,
		m->attachments, m->dsn_recipient, m->dsn_original_recipient, m->dsn_action,
		m->dsn_status, m->report_addrs,
	};

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		check_str(x, name, strs[i], got[i]);
	if (!check_body(x, name, "subject", m->subject) && m->subject[0] != '\0')
		mismatch(name, "subject", "", m->subject);
	check_list(x, name, "references", m->references, m->nreferences);
	check_list(x, name, "links", m->links, m->nlinks);
	check_int(x, name, "auto_submitted", m->auto_submitted);
	check_int(x, name, "x_autoreply", m->x_autoreply);
	check_int(x, name, "vacation_subject", m->vacation_subject);
	check_int(x, name, "bulk", m->bulk);
	check_int(x, name, "has_list_id", m->has_list_id);
	check_int(x, name, "has_list_unsubscribe", m->has_list_unsubscribe);
	check_int(x, name, "null_sender", m->null_sender);
	check_int(x, name, "is_dsn", m->is_dsn);
	check_int(x, name, "is_feedback_report", m->is_feedback_report);
	check_int(x, name, "text_from_html", m->text_from_html);
	check_int(x, name, "text_truncated", m->text_truncated);
	check_int(x, name, "mime_degraded", m->mime_degraded);
	check_int(x, name, "forwarded", m->forwarded);
	if (!check_body(x, name, "fresh", m->fresh_text) && m->fresh_text[0] != '\0')
		mismatch(name, "fresh", "", m->fresh_text);
	if (!check_body(x, name, "text", m->text) && strcmp(m->text, m->fresh_text) != 0)
		mismatch(name, "text (= fresh)", m->fresh_text, m->text);
}

static void
run_fixture(const char *dir, const char *name)
{
	char path[4096];
	struct inbox_message m;
	struct expect x;
	struct err e;
	size_t len = 0;
	char *raw;
	int r;

	snprintf(path, sizeof(path), "%s/%s.expect", dir, name);
	expect_load(path, &x);
	snprintf(path, sizeof(path), "%s/%s.eml", dir, name);
	raw = read_file(path, &len);
	assert_non_null(raw);
	r = inbox_parse(raw, len, &m, &e);
	if (get(&x, "parse", 0) != NULL) {
		if (r != -1)
			mismatch(name, "parse", "fail", "ok");
	} else if (r == -1) {
		mismatch(name, "parse", "ok", e.msg);
	} else {
		check_record(&x, name, &m);
		check_intent(&x, name, &m);
		if (m.size != len)
			mismatch(name, "size", "the file's size", "another");
		inbox_message_free(&m);
	}
	for (size_t i = 0; i < x.n; i++)
		if (!x.used[i])
			mismatch(name, "unknown key", "a known key", x.key[i]);
	expect_free(&x);
	free(raw);
}

static void
test_corpus(void **state)
{
	const char *dir = fixture_dir();
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	(void)state;
	if (d == NULL)
		fail_msg("no fixture directory %s (set THINGS_FIXTURES)", dir);
	failures = 0;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		char name[256];

		if (l < 5 || strcmp(de->d_name + l - 4, ".eml") != 0 || l - 4 >= sizeof(name))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(l - 4), de->d_name);
		run_fixture(dir, name);
		n++;
	}
	closedir(d);
	assert_true(n >= 25);
	assert_int_equal(failures, 0);
}

/* --- quote stripping -------------------------------------------------- */

static void
test_quote_stripping(void **state)
{
	static const struct {
		const char *text;
		const char *fresh;
	} cases[] = {
		{ "Hello\n\nOn Mon, 1 Feb 2027 at 09:00, X <x@y.example> wrote:\n> quoted", "Hello" },
		{ "Hi\n\nOn Mon, 1 Feb 2027 at 09:00, 12 Things <\nthings@example.org> wrote:\n\n> q", "Hi" },
		{ "> question one?\nanswer one\n> question two?\nanswer two", "answer one\nanswer two" },
		{ "Yes\n\n-----Original Message-----\nFrom: a\nSent: b\n\nold text", "Yes" },
		{ "Ok\n\n________________________________\nFrom: A <a@b.example>\nSent: Monday\nTo: B\n"
		  "Subject: x\n\nold text", "Ok" },
		{ "Thanks\n-- \nJohn Smith\nLibrarian", "Thanks" },
		{ "Thanks\n--\nJohn", "Thanks" },
		{ "Great\n\nSent from my iPhone\n\n> On 1 Feb 2027, at 09:00, X wrote:\n> q", "Great" },
		{ "Gut\n\nAm 11.01.2027 um 09:00 schrieb Things <t@e.example>:\n> x", "Gut" },
		{ "Oui\n\nLe lun. 11 janv. 2027 \xc3\xa0 09:00, Things <t@e.example> a \xc3\xa9" "crit :\n> x",
		  "Oui" },
		{ "S\xc3\xad\n\nEl lun, 11 ene 2027 a las 9:00, Things (<t@e.example>) escribi\xc3\xb3:\n> x",
		  "S\xc3\xad" },
		{ "Ja\n\nVon meinem iPhone gesendet", "Ja" },
		{ "FYI\n\nBegin forwarded message:\n\nFrom: x\nSubject: y\n\nbody", "FYI" },
		{ "FYI\n\n-------- Forwarded Message --------\nSubject: y\n\nbody", "FYI" },
		{ "See my blog\nOn my blog I wrote about it", "See my blog\nOn my blog I wrote about it" },
		{ "a\n---\nb", "a\n---\nb" },
		{ "a\n\n\n\nb", "a\n\nb" },
		{ "\n\n  \nhello\n\n", "hello" },
		{ "  indented\nline", "  indented\nline" },
		{ "From: me\nTo: you\nI wrote this letter.", "" }, /* looks like a header block */
		{ "", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *fresh = text_fresh(cases[i].text, NULL);

		assert_non_null(fresh);
		if (strcmp(fresh, cases[i].fresh) != 0)
			fail_msg("case %zu: want [%s] got [%s]", i, cases[i].fresh, fresh);
		free(fresh);
	}
}

/* --- links ------------------------------------------------------------- */

static void
test_link_extraction(void **state)
{
	static const struct {
		const char *text;
		const char *links; /* space-separated */
	} cases[] = {
		{ "see https://a.example/x.", "https://a.example/x" },
		{ "(https://en.wikipedia.org/wiki/Foo_(bar))", "https://en.wikipedia.org/wiki/Foo_(bar)" },
		{ "<https://a.example/p?q=1&r=2>", "https://a.example/p?q=1&r=2" },
		{ "[post](https://md.example/p)", "https://md.example/p" },
		{ "\xe2\x80\x9chttps://smart.example/q\xe2\x80\x9d", "https://smart.example/q" },
		{ "HTTPS://UPPER.example/Path", "HTTPS://UPPER.example/Path" },
		{ "ftp://x.example mailto:a@b.example javascript:alert(1) http:/broken http:// "
		  "https:///path https://?q", "" },
		{ "xhttps://glued.example", "" },
		{ "https://d.example https://d.example, https://e.example", "https://d.example https://e.example" },
		{ "https://bank.example@evil.example/login", "https://bank.example@evil.example/login" },
		{ "https://a.example/x, and https://b.example/y; then https://c.example/z!",
		  "https://a.example/x https://b.example/y https://c.example/z" },
		{ "'https://q.example/a'", "https://q.example/a" },
		{ "*https://bold.example*", "https://bold.example" },
		{ "http://a.example/[x]", "http://a.example/[x]" },
		{ "https://a.example/\"quoted", "https://a.example/" },
		/* in angle brackets, wrapped by the client (RFC 3986, appendix C) */
		{ "here:\n<https://a.example/2027/01/12/a-long-title-\n with-more-words/>\n\nAlice",
		  "https://a.example/2027/01/12/a-long-title-with-more-words/" },
		{ "<https://a.example/one/\r\n  two/\n\tthree> and https://b.example/",
		  "https://a.example/one/two/three https://b.example/" },
		{ "<https://a.example/x\n\nnext paragraph>", "https://a.example/x" },
		{ "<https://a.example/x\nand more words> https://b.example/",
		  "https://a.example/x https://b.example/" },
		{ "<https://a.example/x\n", "https://a.example/x" },
		{ "https://a.example/x\nnot-bracketed>", "https://a.example/x" },
		/* letters of alphabetic scripts are part of it, as browsers show them */
		{ "Mein Blog: https://j\xc3\xb6rg.example.de/ (ja)", "https://j\xc3\xb6rg.example.de/" },
		{ "https://b.example/wikis-f\xc3\xbcr-bibliotheken/", "https://b.example/wikis-f\xc3\xbcr-bibliotheken/" },
		{ "https://ru.example/\xd0\xb1\xd0\xbb\xd0\xbe\xd0\xb3 next", "https://ru.example/\xd0\xb1\xd0\xbb\xd0\xbe\xd0\xb3" },
		{ "https://vn.example/ti\xe1\xba\xbfng", "https://vn.example/ti\xe1\xba\xbfng" },
		/* punctuation, no-break space, CJK and signs end it */
		{ "https://a.example/x\xc2\xa0next", "https://a.example/x" },
		{ "https://a.example/x\xc2\xbb", "https://a.example/x" },
		{ "https://a.example/2\xc3\x97" "3", "https://a.example/2" },
		{ "\xe8\xa8\x98\xe4\xba\x8bhttps://a.example/x\xe3\x81\xa7\xe3\x81\x99", "https://a.example/x" },
		{ "https://\xc3\xb6", "https://\xc3\xb6" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct inbox_message m = { 0 };
		char got[4096] = "";

		assert_int_equal(links_extract(cases[i].text, &m), 0);
		for (size_t k = 0; k < m.nlinks; k++) {
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", k ? " " : "", m.links[k]);
			free(m.links[k]);
		}
		if (strcmp(got, cases[i].links) != 0)
			fail_msg("case %zu: want [%s] got [%s]", i, cases[i].links, got);
	}
}

static void
test_link_bounds(void **state)
{
	struct inbox_message m = { 0 };
	struct buf t;

	(void)state;
	buf_init(&t, 0);
	for (int i = 0; i < 40; i++)
		assert_int_equal(buf_printf(&t, "https://n%d.example/ ", i), 0);
	assert_int_equal(buf_puts(&t, "https://long.example/"), 0);
	for (int i = 0; i < INBOX_MAX_URL; i++)
		assert_int_equal(buf_putc(&t, 'x'), 0);
	assert_int_equal(links_extract(buf_str(&t), &m), 0);
	assert_int_equal(m.nlinks, INBOX_MAX_LINKS);
	assert_string_equal(m.links[0], "https://n0.example/");
	assert_string_equal(m.links[INBOX_MAX_LINKS - 1], "https://n31.example/");
	for (size_t k = 0; k < m.nlinks; k++)
		free(m.links[k]);
	/* A URL over INBOX_MAX_URL is no link at all. */
	memset(&m, 0, sizeof(m));
	assert_int_equal(links_extract(strstr(buf_str(&t), "https://long."), &m), 0);
	assert_int_equal(m.nlinks, 0);
	/* Trimming 200,000 closing brackets must not take quadratic time. */
	buf_reset(&t);
	assert_int_equal(buf_puts(&t, "https://brackets.example/"), 0);
	for (int i = 0; i < 200000; i++)
		assert_int_equal(buf_putc(&t, ')'), 0);
	assert_int_equal(links_extract(buf_str(&t), &m), 0);
	assert_int_equal(m.nlinks, 0);
	buf_free(&t);
}

static void
test_url_userinfo(void **state)
{
	(void)state;
	assert_int_equal(inbox_url_has_userinfo("https://bank.example@evil.example/"), 1);
	assert_int_equal(inbox_url_has_userinfo("https://user:pw@host.example"), 1);
	assert_int_equal(inbox_url_has_userinfo("https://host.example/a@b"), 0);
	assert_int_equal(inbox_url_has_userinfo("https://host.example?x=@"), 0);
	assert_int_equal(inbox_url_has_userinfo("https://good.example\\@evil.example"), 0);
	assert_int_equal(inbox_url_has_userinfo("no scheme@x"), 0);
}

/* --- hostile input ----------------------------------------------------- */

static void
parse_ok(const char *raw, size_t len, struct inbox_message *m)
{
	struct err e;

	if (inbox_parse(raw, len, m, &e) == -1)
		fail_msg("inbox_parse: %s", e.msg);
}

/* libetpan recurses once per level: 100,000 nested message/rfc822 parts
 * overflow its stack.  The guard refuses the MIME structure instead. */
static void
test_deep_nesting_degraded(void **state)
{
	struct inbox_message m;
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "From: deep@example.net\nSubject: deep\n"), 0);
	for (int i = 0; i < 100000; i++)
		assert_int_equal(buf_puts(&b, "Content-Type: message/rfc822\n\n"), 0);
	assert_int_equal(buf_puts(&b, "unsubscribe\n"), 0);
	parse_ok(b.data, b.len, &m);
	assert_int_equal(m.mime_degraded, 1);
	assert_string_equal(m.from_addr, "deep@example.net");
	assert_string_equal(m.subject, "deep");
	assert_string_equal(m.text, "");
	inbox_message_free(&m);
	buf_free(&b);
}

/* libetpan parses a comment inside a comment by recursion: 200,000 nested
 * "(" in one header field (a 200 KB message) overflowed the stack, and
 * the message crashed every run that read it.  In the header and in a
 * part's header, and a body line of them keeps its text. */
static void
test_deep_comments_defused(void **state)
{
	static const char *const fields[] = { "From: (x) deep@example.net ", "Subject: deep ",
		"Content-Type: text/plain; charset=utf-8 " };
	struct inbox_message m;
	struct buf b;

	(void)state;
	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		buf_init(&b, 0);
		if (f != 0)
			assert_int_equal(buf_puts(&b, "From: deep@example.net\n"), 0);
		assert_int_equal(buf_puts(&b, fields[f]), 0);
		for (int i = 0; i < 300000; i++)
			assert_int_equal(buf_putc(&b, '('), 0);
		/* folded: the comment goes on on the next line */
		assert_int_equal(buf_puts(&b, "\n (((\nX-Other: 1\n\nstill here\n"), 0);
		parse_ok(b.data, b.len, &m);
		assert_string_equal(m.from_addr, "deep@example.net");
		assert_string_equal(m.text, "still here");
		inbox_message_free(&m);
		buf_free(&b);
	}
	/* an ordinary comment nested a few deep is read as one */
	parse_ok("From: a@example.net (Ann (the (first)) one)\n\ntext\n", 50, &m);
	assert_string_equal(m.from_addr, "a@example.net");
	inbox_message_free(&m);
}

/* A few levels are normal and parse in full. */
static void
test_shallow_nesting_parsed(void **state)
{
	struct inbox_message m;
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "From: a@example.net\n"), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(buf_printf(&b, "Content-Type: multipart/mixed; boundary=z%dz\n\n--z%dz\n", i, i), 0);
	assert_int_equal(buf_puts(&b, "Content-Type: text/plain\n\ndeep text\n"), 0);
	for (int i = 19; i >= 0; i--)
		assert_int_equal(buf_printf(&b, "--z%dz--\n", i), 0);
	parse_ok(b.data, b.len, &m);
	assert_int_equal(m.mime_degraded, 0);
	assert_string_equal(m.text, "deep text");
	inbox_message_free(&m);
	buf_free(&b);
}

/* 100,000 tiny parts would cost libetpan ~35 MB: degraded instead. */
static void
test_many_parts_degraded(void **state)
{
	struct inbox_message m;
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "From: many@example.net\nContent-Type: multipart/mixed; boundary=b\n\n"), 0);
	for (int i = 0; i < 300000; i++)
		assert_int_equal(buf_puts(&b, "--b\n\nx\n"), 0);
	parse_ok(b.data, b.len, &m);
	assert_int_equal(m.mime_degraded, 1);
	assert_string_equal(m.from_addr, "many@example.net");
	inbox_message_free(&m);
	buf_free(&b);
}

/* A big but ordinary message (a photo) is not degraded. */
static void
test_big_attachment_parsed(void **state)
{
	struct inbox_message m;
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "From: photo@example.net\nSubject: Thing 2\n"
	    "Content-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain\n\n"
	    "Photo attached.\n--zz\nContent-Type: image/jpeg; name=p.jpg\n"
	    "Content-Transfer-Encoding: base64\n\n"), 0);
	for (int i = 0; i < 100000; i++)
		assert_int_equal(buf_puts(&b, "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQN\n"), 0);
	assert_int_equal(buf_puts(&b, "--zz--\n"), 0);
	parse_ok(b.data, b.len, &m);
	assert_int_equal(m.mime_degraded, 0);
	assert_string_equal(m.text, "Photo attached.");
	assert_string_equal(m.attachments, "p.jpg");
	inbox_message_free(&m);
	buf_free(&b);
}

/* boundary="\"" made libetpan strncpy SIZE_MAX bytes. */
static void
test_quote_boundary_defused(void **state)
{
	static const char raw[] = "From: q@example.net\n"
	    "Content-Type: multipart/mixed; boundary=\"\\\"\"\n\n--\"\n\nx\n--\"--\n";
	struct inbox_message m;

	(void)state;
	parse_ok(raw, sizeof(raw) - 1, &m);
	assert_string_equal(m.from_addr, "q@example.net");
	inbox_message_free(&m);
}

static void
test_text_truncated(void **state)
{
	struct inbox_message m;
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "From: long@example.net\nContent-Type: text/plain; charset=utf-8\n\n"), 0);
	for (size_t i = 0; i < INBOX_MAX_TEXT; i++) /* 2 bytes each: twice the cap */
		assert_int_equal(buf_puts(&b, "\xc3\xa9"), 0);
	parse_ok(b.data, b.len, &m);
	assert_int_equal(m.text_truncated, 1);
	assert_true(strlen(m.text) <= INBOX_MAX_TEXT && strlen(m.text) > INBOX_MAX_TEXT - 4);
	assert_true(str_valid_utf8(m.text, strlen(m.text)));
	inbox_message_free(&m);
	buf_free(&b);
}

static void
test_refused_input(void **state)
{
	struct inbox_message m;
	struct err e;
	char *big;

	(void)state;
	assert_int_equal(inbox_parse("", 0, &m, &e), -1);
	assert_int_equal(inbox_parse(" \r\n\t\n", 5, &m, &e), -1);
	assert_int_equal(inbox_parse(NULL, 10, &m, &e), -1);
	inbox_message_free(&m); /* harmless after -1 */
	/* No header at all is still a message: its text is the body. */
	assert_int_equal(inbox_parse("just text", 9, &m, &e), 0);
	assert_string_equal(m.text, "just text");
	assert_string_equal(m.from_addr, "");
	inbox_message_free(&m);
	big = malloc(INBOX_MAX_RAW + 1);
	assert_non_null(big);
	memset(big, 'a', INBOX_MAX_RAW + 1);
	assert_int_equal(inbox_parse(big, INBOX_MAX_RAW + 1, &m, &e), -1);
	assert_non_null(strstr(e.msg, "limit"));
	free(big);
}

static void
test_header_bounds(void **state)
{
	struct inbox_message m;
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "From: first@example.net\nFrom: second@example.net\nTo: "), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(buf_printf(&b, "%sr%d@example.net", i ? ", " : "", i), 0);
	assert_int_equal(buf_puts(&b, "\nReferences:"), 0);
	for (int i = 0; i < 40; i++)
		assert_int_equal(buf_printf(&b, " <id%d@example.net>", i), 0);
	assert_int_equal(buf_puts(&b, "\nMessage-ID: <"), 0);
	for (int i = 0; i < 300; i++) /* longer than any id we keep */
		assert_int_equal(buf_putc(&b, 'x'), 0);
	assert_int_equal(buf_puts(&b, "@example.net>\n\nbody\n"), 0);
	parse_ok(b.data, b.len, &m);
	assert_string_equal(m.from_addr, "first@example.net");
	assert_int_equal(m.nreferences, INBOX_MAX_REFS);
	assert_string_equal(m.references[0], "id0@example.net");
	assert_string_equal(m.references[1], "id9@example.net");
	assert_string_equal(m.references[INBOX_MAX_REFS - 1], "id39@example.net");
	assert_non_null(strstr(m.to_addrs, "r63@example.net"));
	assert_null(strstr(m.to_addrs, "r64@example.net"));
	assert_string_equal(m.message_id, "");
	inbox_message_free(&m);
	buf_free(&b);
}

static void
test_automatic_headers(void **state)
{
	static const struct {
		const char *headers;
		int auto_submitted, x_autoreply, bulk, null_sender;
	} cases[] = {
		{ "Auto-Submitted: no\n", 0, 0, 0, 0 },
		{ "Auto-Submitted: No (a person)\n", 0, 0, 0, 0 },
		{ "Auto-Submitted: auto-generated; owner-email=x@y\n", 1, 0, 0, 0 },
		{ "auto-submitted: AUTO-REPLIED\n", 1, 0, 0, 0 },
		{ "X-Autorespond: yes\n", 1, 1, 0, 0 },
		{ "Precedence: bulk\n", 0, 0, 1, 0 },
		{ "Precedence: first-class\n", 0, 0, 0, 0 },
		{ "Precedence: auto_reply\n", 1, 1, 0, 0 },
		{ "List-Unsubscribe: <https://l.example/u>\n", 0, 0, 1, 0 },
		{ "Return-Path: <>\n", 0, 0, 0, 1 },
		{ "Return-Path: < >\n", 0, 0, 0, 1 },
		{ "Return-Path: <a@b.example>\nReturn-Path: <>\n", 0, 0, 0, 0 },
		{ "Return-Path: <a@b.example>\n", 0, 0, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct inbox_message m;
		char raw[512];

		snprintf(raw, sizeof(raw), "%sFrom: a@example.net\nSubject: s\n\nbody\n", cases[i].headers);
		parse_ok(raw, strlen(raw), &m);
		if (m.auto_submitted != cases[i].auto_submitted || m.x_autoreply != cases[i].x_autoreply ||
		    m.bulk != cases[i].bulk || m.null_sender != cases[i].null_sender)
			fail_msg("case %zu (%s): got %d %d %d %d", i, cases[i].headers, m.auto_submitted,
			    m.x_autoreply, m.bulk, m.null_sender);
		inbox_message_free(&m);
	}
}

static void
test_vacation_subjects(void **state)
{
	static const struct {
		const char *subject;
		int vacation;
	} cases[] = {
		{ "Out of Office: Thing 3", 1 },
		{ "Automatic reply: Re: Thing 3", 1 },
		{ "Automatische Antwort: Thing 3", 1 },
		{ "R\xc3\xa9ponse automatique : Thing 3", 1 },
		{ "Abwesenheitsnotiz: Thing 3", 1 },
		{ "AutoReply: x", 1 },
		{ "Vacation", 1 },
		{ "Absence: back on Monday", 1 },
		{ "Re: Thing 3, written on vacation", 0 },
		{ "Absence of links in Thing 3?", 0 },
		{ "Away from my mail", 0 },
		{ "Re: Thing 3", 0 },
		{ "", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (parse_vacation_subject(cases[i].subject) != cases[i].vacation)
			fail_msg("case %zu: %s", i, cases[i].subject);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_quote_stripping),
		cmocka_unit_test(test_link_extraction),
		cmocka_unit_test(test_link_bounds),
		cmocka_unit_test(test_url_userinfo),
		cmocka_unit_test(test_deep_nesting_degraded),
		cmocka_unit_test(test_deep_comments_defused),
		cmocka_unit_test(test_shallow_nesting_parsed),
		cmocka_unit_test(test_many_parts_degraded),
		cmocka_unit_test(test_big_attachment_parsed),
		cmocka_unit_test(test_quote_boundary_defused),
		cmocka_unit_test(test_text_truncated),
		cmocka_unit_test(test_refused_input),
		cmocka_unit_test(test_header_bounds),
		cmocka_unit_test(test_automatic_headers),
		cmocka_unit_test(test_vacation_subjects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
