/* Unit tests for templates: built-in defaults and overrides, and the
 * prepare/personalise pair with hostile values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_content_helpers.h"
#include "../../content/content_int.h"

/* What the mailer passes for one participant. */
static const struct tvar recipient[] = {
	{ "name", "Ann", 0 },
	{ "address", "ann@example.org", 0 },
	{ "programme_address", "things@example.org", 0 },
	{ "help_address", "things+help@example.org", 0 },
	{ "unsubscribe_mailto", "mailto:things+unsubscribe-abc@example.org", 0 },
	{ "confirm_address", "things+confirm-0123456789abcdef01234567@example.org", 0 },
	{ "reflection_address", "things+done-3@example.org", 0 },
	{ "blog_address", "things+blog@example.org", 0 },
	{ "url", "https://ann.example.org/thing-3", 0 },
	{ "blog_url", "https://ann.example.org/", 0 },
	{ "done", "3", 0 },
	{ "total", "12", 0 },
	{ "subject", "Where is my feed?", 0 },
	{ "from", "Ann <ann@example.org>", 0 },
	{ "body", "Hello,\nI am lost.", 0 },
	{ "reason", "no Thing number", 0 },
	{ "week", "7", 0 },
	{ "things_count", "12", 0 },
	{ "start_date", "11 January 2027", 0 },
	{ "participant", "Bob <bob@example.org>", 0 },
	{ "participant_address", "bob@example.org", 0 },
	{ "bounce_score", "5", 0 },
	{ "bounce_threshold", "5", 0 },
	{ "bounce_reason", "RCPT: 550 5.1.1 <bob@example.org>: Recipient address rejected", 0 },
	{ "held", "30", 0 },
	{ "late_hours", "72", 0 },
	{ "release_command", "things -c /srv/things.conf release 3", 0 },
	{ "status_command", "things -c /srv/things.conf status", 0 },
	{ "skip_command", "things -c /srv/things.conf release 3 --skip", 0 },
	{ "held_days", "7 days", 0 },
	{ "error", "HTTP status 403", 0 },
	{ "failures", "3", 0 },
	{ "ticket", "12", 0 },
	{ "waiting", "3 days", 0 },
	{ "where", "in the folder \"Failed\" of the programme's mailbox", 0 },
	{ "result", "> status\n12 participants", 0 },
	{ "subscribe_address", "things+subscribe@example.org", 0 },
	{ "certificate_number", "17", 0 },
	{ "completed_date", "Monday 7 June 2027", 0 },
};
#define NRECIPIENT (sizeof(recipient) / sizeof(recipient[0]))

/* Prepares kind with vars, personalises with recipient; fails the test on
 * error.  The caller frees *out. */
static void
render(const struct programme *p, const char *kind, const struct tvar *vars, size_t nvars,
    struct content_message *out)
{
	struct content_message prepared;
	struct err e;

	content_message_init(&prepared);
	content_message_init(out);
	if (content_prepare(p, kind, vars, nvars, &prepared, &e) == -1)
		fail_msg("prepare %s: %s", kind, e.msg);
	if (content_personalise(&prepared, recipient, NRECIPIENT, out, &e) == -1)
		fail_msg("personalise %s: %s", kind, e.msg);
	content_message_free(&prepared);
}

static void
test_every_default_renders(void **state)
{
	const struct tvar vars[] = {
		{ "programme", "12 Things", 0 },
		{ "thing_number", "3", 0 },
		{ "thing_title", "Feeds", 0 },
		{ "thing_body", "Try a *feed reader*.\n", 1 },
		{ "feed_url", "", 0 },
		{ "limit", "10 MB", 0 },
		{ "digest_body", "- [Ann's post](https://ann.example.org/p)\n", 1 },
		/* feed-broken: its sections */
		{ "last_ok", "", 0 },
		{ "problem_gone", "", 0 },
		{ "problem_private", "yes", 0 },
		{ "problem_missing", "", 0 },
		{ "problem_web_page", "", 0 },
		{ "problem_not_a_feed", "", 0 },
		{ "problem_unreachable", "", 0 },
		{ "problem_other", "", 0 },
		{ "problem_blocked", "", 0 },
		/* suspended, alternate-ack: their sections */
		{ "alt_address", "bob@home.example", 0 },
		{ "alt_requested", "yes", 0 },
		{ "alt_confirmed", "", 0 },
		{ "alt_cleared", "", 0 },
		/* late-notice: its section */
		{ "reminder", "yes", 0 },
	};

	(void)state;
	for (size_t i = 0; i < template_nkinds; i++) {
		struct content_message m;

		render(NULL, template_kinds[i].name, vars, sizeof(vars) / sizeof(vars[0]), &m);
		assert_true(m.subject.len > 0);
		assert_null(strchr(buf_str(&m.subject), '\n'));
		assert_null(strstr(buf_str(&m.text), "{{"));
		assert_null(strstr(buf_str(&m.html), "{{"));
		assert_null(strstr(buf_str(&m.text), PH_OPEN));
		assert_null(strstr(buf_str(&m.html), PH_OPEN));
		assert_non_null(strstr(buf_str(&m.html), "<!DOCTYPE html>"));
		content_message_free(&m);
	}
}

static void
test_thing_default_says_what_to_do(void **state)
{
	const struct tvar vars[] = {
		{ "programme", "12 Things", 0 },
		{ "thing_number", "3", 0 },
		{ "thing_title", "Feeds & readers", 0 },
		{ "thing_body", "Try a *feed reader*: [Feedly](https://feedly.com/).\n", 1 },
	};
	struct content_message m;

	(void)state;
	render(NULL, "thing", vars, 4, &m);
	assert_string_equal(buf_str(&m.subject), "Thing 3: Feeds & readers");
	assert_non_null(strstr(buf_str(&m.text), "Hello Ann,"));
	assert_non_null(strstr(buf_str(&m.text), "Try a feed reader: Feedly [1]."));
	assert_non_null(strstr(buf_str(&m.text), "things+done-3@example.org"));
	assert_non_null(strstr(buf_str(&m.text), "post on your blog"));
	assert_non_null(strstr(buf_str(&m.text), "Reply to this message with the link"));
	assert_non_null(strstr(buf_str(&m.text), "[1] https://feedly.com/\n"));
	assert_non_null(strstr(buf_str(&m.html), "<h1>Thing 3: Feeds &amp; readers</h1>"));
	assert_non_null(strstr(buf_str(&m.html), "<em>feed reader</em>"));
	assert_non_null(strstr(buf_str(&m.html),
	    "<a href=\"mailto:things+unsubscribe-abc@example.org\">Leave the programme</a>"));
	content_message_free(&m);
}

static void
test_blog_ack_sections(void **state)
{
	const struct tvar with[] = { { "programme", "P", 0 },
		{ "feed_url", "https://ann.example.org/feed", 0 } };
	const struct tvar without[] = { { "programme", "P", 0 }, { "feed_url", "", 0 } };
	struct content_message prepared, m;
	struct err e;

	(void)state;
	render(NULL, "blog-ack", with, 2, &m);
	assert_non_null(strstr(buf_str(&m.text), "We found its feed"));
	assert_null(strstr(buf_str(&m.text), "could not find a feed"));
	assert_non_null(strstr(buf_str(&m.html), "href=\"https://ann.example.org/feed\""));
	content_message_free(&m);
	render(NULL, "blog-ack", without, 2, &m);
	assert_null(strstr(buf_str(&m.text), "We found its feed"));
	assert_non_null(strstr(buf_str(&m.text), "We could not find a feed (RSS or Atom)"));
	content_message_free(&m);
	/* the section's variable is needed when preparing */
	content_message_init(&prepared);
	assert_int_equal(content_prepare(NULL, "blog-ack", with, 1, &prepared, &e), -1);
	assert_string_equal(e.msg,
	    "template blog-ack: the section {{#feed_url}} needs 'feed_url' at content_prepare");
	assert_int_equal(content_prepare(NULL, "no-such-kind", with, 1, &prepared, &e), -1);
	assert_string_equal(e.msg, "no template 'no-such-kind'");
	content_message_free(&prepared);
}

/* A loaded programme with a templates/ folder holding files. */
static struct programme *
load_with_templates(const char *const *files, size_t nfiles, struct diags *d, char **dir)
{
	struct programme *p = NULL;
	struct err e;
	char path[1024];

	*dir = scratch_dir();
	put_text(*dir, "things.conf", minimal_conf);
	put_things(*dir, 1);
	for (size_t i = 0; i < nfiles; i += 2)
		put_text(*dir, files[i], files[i + 1]);
	snprintf(path, sizeof(path), "%s/things.conf", *dir);
	memset(d, 0, sizeof(*d));
	programme_load(path, &p, diags_collect, d, &e);
	return p;
}

static void
test_override_and_fallback(void **state)
{
	static const char *const files[] = {
		"templates/confirm.md",
		"Subject: Confirm {{programme}}, {{name}}\n\n"
		"Please [confirm](mailto:{{confirm_address}}?subject=yes) now.\n",
		"templates/README.txt", "not a template, ignored\n",
	};
	const struct tvar vars[] = { { "programme", "P", 0 } };
	struct content_message m;
	struct programme *p;
	struct diags d;
	char *dir;

	(void)state;
	p = load_with_templates(files, 4, &d, &dir);
	if (p == NULL) {
		diags_print(&d);
		fail();
	}
	assert_int_equal(p->ntemplates, 1);
	render(p, "confirm", vars, 1, &m);
	assert_string_equal(buf_str(&m.subject), "Confirm P, Ann");
	/* a placeholder inside a link destination, which cmark percent-encodes */
	assert_non_null(strstr(buf_str(&m.html), "<a href=\"mailto:things+confirm-"
	    "0123456789abcdef01234567@example.org?subject=yes\">confirm</a>"));
	assert_string_equal(buf_str(&m.text),
	    "Please confirm [1] now.\n\nLinks:\n"
	    "[1] mailto:things+confirm-0123456789abcdef01234567@example.org?subject=yes\n");
	content_message_free(&m);
	render(p, "goodbye", vars, 1, &m); /* no override: the built-in text */
	assert_string_equal(buf_str(&m.subject), "You have left P");
	content_message_free(&m);
	programme_free(p);
	scratch_remove(dir);
}

static void
test_override_errors(void **state)
{
	static const struct {
		const char *file, *text;
		int line;
		const char *msg;
	} cases[] = {
		{ "templates/confrim.md", "Subject: x\n\nbody\n", 0, "no such template (known: thing.md" },
		{ "templates/welcome.md", "Subject: Hi {{nmae}}\n\nbody\n", 1,
		  "unknown variable 'nmae' (welcome can use: name, address" },
		{ "templates/goodbye.md", "Subject: Bye\n\nSee {{thing_title}}\n", 3,
		  "unknown variable 'thing_title'" },
		{ "templates/help-ack.md", "Hello\n\nbody\n", 1, "the first line must be 'Subject: ...'" },
		{ "templates/help-forward.md", "Subject: x\nbody\n", 2, "followed by a blank line" },
		{ "templates/digest.md", "Subject: x\n\n{{#week}}\nopen\n", 3,
		  "{{#week}} is never closed" },
		{ "templates/thing.md", "Subject: x\n\n{{ name }}\n", 3, "'{{' starts no placeholder" },
		{ "templates/certificate.md", "Subject: x\n\n\xff\n", 0, "is not UTF-8 text" },
	};
	const char *files[2 * sizeof(cases) / sizeof(cases[0])];
	struct programme *p;
	struct diags d;
	char *dir;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		files[2 * i] = cases[i].file;
		files[2 * i + 1] = cases[i].text;
	}
	p = load_with_templates(files, 2 * sizeof(cases) / sizeof(cases[0]), &d, &dir);
	assert_null(p);
	assert_int_equal(d.n, (int)(sizeof(cases) / sizeof(cases[0])));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int at = diags_find(&d, cases[i].msg);

		if (at < 0 || d.line[at] != cases[i].line ||
		    strstr(d.file[at], cases[i].file) == NULL) {
			diags_print(&d);
			fail_msg("case %zu: %s", i, cases[i].msg);
		}
	}
	scratch_remove(dir);
}

/* Values cannot bring in HTML, Markdown structure or placeholders. */
static void
test_hostile_values(void **state)
{
	/* built by hand: programme_load would refuse {{url}} in help-ack */
	char text[] =
	    "Subject: About {{subject}} for {{name}}\n\n"
	    "Dear {{name}}, about *{{subject}}*: {{body}}\n\n"
	    "[{{url}}]({{url}}) ![{{name}}](https://img.example/x.png \"{{name}}\")\n";
	struct content_template tpl = { template_kind_find("help-ack"), text, NULL };
	struct programme prog = { .templates = &tpl, .ntemplates = 1 };
	const struct tvar prep[] = {
		{ "subject", "<b>*not emphasis*</b> [x](javascript:y)\r\nBcc: evil@example.org", 0 },
		{ "body", "# not a heading\n    not code\n1. not a list\n{{name}} stays literal", 0 },
	};
	const struct tvar who[] = {
		{ "name", "<script>alert('x')</script>\r\nX-Evil: 1 & {{address}}", 0 },
		{ "address", "ann@example.org", 0 },
		{ "url", "javascript:alert(1)", 0 },
		{ "programme", "P", 0 }, { "programme_address", "", 0 }, { "help_address", "", 0 },
		{ "unsubscribe_mailto", "", 0 },
	};
	struct content_message prepared, m;
	struct err e;
	const char *html, *plain;

	(void)state;
	content_message_init(&prepared);
	content_message_init(&m);
	assert_int_equal(content_prepare(&prog, "help-ack", prep, 2, &prepared, &e), 0);
	assert_int_equal(content_personalise(&prepared, who, 7, &m, &e), 0);
	html = buf_str(&m.html);
	plain = buf_str(&m.text);
	/* the subject stays one line */
	assert_null(strpbrk(buf_str(&m.subject), "\r\n"));
	assert_non_null(strstr(buf_str(&m.subject), "Bcc: evil@example.org for <script>"));
	/* no HTML from values, in text, attributes or <title> */
	assert_null(strstr(html, "<script>"));
	assert_null(strstr(html, "<b>"));
	assert_non_null(strstr(html, "Dear &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;<br />\n"
	    "X-Evil: 1 &amp; {{address}}, about"));
	assert_non_null(strstr(html, "alt=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; X-Evil"));
	assert_non_null(strstr(html, "<title>About &lt;b&gt;"));
	/* no Markdown structure from values */
	assert_null(strstr(html, "<h1>"));
	assert_null(strstr(html, "<pre>"));
	assert_null(strstr(html, "<ol>"));
	assert_null(strstr(html, "<em>not emphasis</em>"));
	assert_non_null(strstr(html, "<em>&lt;b&gt;*not emphasis*&lt;/b&gt; [x](javascript:y)"));
	assert_non_null(strstr(html, "# not a heading<br />\nnot code<br />\n1. not a list<br />\n"
	    "{{name}} stays literal"));
	/* a javascript: URL given at personalise time is dropped, as cmark would */
	assert_non_null(strstr(html, "<a href=\"\">javascript:alert(1)</a>"));
	/* the text part carries the values as they are, "{{...}}" included */
	assert_non_null(strstr(plain, "Dear <script>alert('x')</script>\nX-Evil: 1 & {{address}},"));
	assert_non_null(strstr(plain, "{{name}} stays literal"));
	content_message_free(&prepared);
	content_message_free(&m);
}

static void
test_missing_value_is_an_error(void **state)
{
	const struct tvar vars[] = { { "programme", "P", 0 } };
	const struct tvar few[] = { { "name", "Ann", 0 }, { "address", NULL, 0 } };
	struct content_message prepared, m;
	struct err e;

	(void)state;
	content_message_init(&prepared);
	content_message_init(&m);
	assert_int_equal(content_prepare(NULL, "confirm", vars, 1, &prepared, &e), 0);
	assert_int_equal(content_personalise(&prepared, few, 2, &m, &e), -1);
	assert_string_equal(e.msg, "placeholder {{address}} has no value");
	assert_int_equal(m.subject.len + m.text.len + m.html.len, 0);
	content_message_free(&prepared);
	content_message_free(&m);
}

/* One prepared message serves every recipient; paragraphs are wrapped
 * after the values are in. */
static void
test_personalise_reuses_and_rewraps(void **state)
{
	const struct tvar vars[] = { { "programme", "Twelve Things for Health and Care Libraries", 0 } };
	struct tvar who[NRECIPIENT];
	struct content_message prepared, m;
	struct err e;
	const char *text;

	(void)state;
	memcpy(who, recipient, sizeof(who));
	content_message_init(&prepared);
	content_message_init(&m);
	assert_int_equal(content_prepare(NULL, "confirm", vars, 1, &prepared, &e), 0);
	assert_int_equal(content_personalise(&prepared, who, NRECIPIENT, &m, &e), 0);
	assert_non_null(strstr(buf_str(&m.text), "Hello Ann,"));
	who[0].value = "Bartholomew Fitzgerald-Montgomery, Senior Clinical Librarian";
	who[1].value = "bartholomew.fitzgerald-montgomery@library.nhs.example.org";
	assert_int_equal(content_personalise(&prepared, who, NRECIPIENT, &m, &e), 0);
	text = buf_str(&m.text);
	assert_null(strstr(text, "Ann"));
	assert_non_null(strstr(text, "Hello Bartholomew Fitzgerald-Montgomery, Senior Clinical "
	    "Librarian,\n"));
	for (const char *l = text; *l; l += strcspn(l, "\n") + 1)
		assert_true(utf8_width(l, strcspn(l, "\n")) <= CONTENT_TEXT_WIDTH);
	content_message_free(&prepared);
	content_message_free(&m);
}

static char *
escaped_html(const char *text)
{
	struct buf md, html;
	struct err e;
	char *body, *end;

	buf_init(&md, 1 << 16);
	buf_init(&html, 1 << 16);
	assert_int_equal(content_markdown_escape(&md, text), 0);
	assert_int_equal(render_html_document(buf_str(&md), md.len, "", 0, &html, &e), 0);
	body = strstr(buf_str(&html), "<p>");
	end = body ? strstr(body, "</p>") : NULL;
	body = end ? str_ndup(body + 3, (size_t)(end - body - 3)) : strdup("(no paragraph)");
	buf_free(&md);
	buf_free(&html);
	return body;
}

static void
test_markdown_escape(void **state)
{
	static const struct {
		const char *in, *html;
	} cases[] = {
		{ "*a* _b_ `c` [d](e) <f> &amp; \\g", "*a* _b_ `c` [d](e) &lt;f&gt; &amp;amp; \\g" },
		{ "# not a heading", "# not a heading" },
		{ "1. not a list\n- nor this\n> nor this", "1. not a list<br />\n- nor this<br />\n&gt; nor this" },
		{ "    not code", "not code" },
		{ "a\n\nb\n", "a<br />\n<br />\nb" },
		{ "===\n---", "===<br />\n---" },
		{ "{{name}} {{#x}}", "{{name}} {{#x}}" },
		{ "Caf\xc3\xa9 \"quotes\"", "Caf\xc3\xa9 &quot;quotes&quot;" },
		{ "https://example.org/a_b_c", "https://example.org/a_b_c" },
		{ "\xee\x80\x80name\xee\x80\x81", "\xef\xbf\xbdname\xef\xbf\xbd" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = escaped_html(cases[i].in);

		if (strcmp(got, cases[i].html) != 0)
			fail_msg("case %zu: want '%s', got '%s'", i, cases[i].html, got);
		free(got);
	}
}

/* A digest built from untrusted feed entries: titles and URLs cannot
 * break out of their link, nor pose as placeholders. */
static void
test_digest_from_hostile_feed(void **state)
{
	struct buf digest;
	struct content_message m;
	const char *html;

	(void)state;
	buf_init(&digest, 1 << 16);
	assert_int_equal(buf_puts(&digest, "- "), 0);
	assert_int_equal(content_markdown_link(&digest, "{{nosuch}} *x* ](evil)",
	    "https://blog.example/{{address}}?a=<b>&c=d e\n"), 0);
	assert_int_equal(buf_puts(&digest, "\n- "), 0);
	assert_int_equal(content_markdown_link(&digest, "click", "javascript:alert(1)"), 0);
	assert_int_equal(buf_puts(&digest, "\n- "), 0);
	assert_int_equal(content_markdown_link(&digest, "", "https://plain.example/"), 0);
	{
		const struct tvar vars[] = { { "programme", "P", 0 },
			{ "digest_body", buf_str(&digest), 1 } };

		render(NULL, "digest", vars, 2, &m); /* fails on a missing value */
	}
	html = buf_str(&m.html);
	assert_non_null(strstr(html, "<li><a href=\"https://blog.example/%7B%7Baddress%7D%7D"
	    "?a=%3Cb%3E&amp;c=d%20e%0A\">{{nosuch}} *x* ](evil)</a></li>"));
	assert_non_null(strstr(html, "<li><a href=\"\">click</a></li>"));
	assert_non_null(strstr(html, "<li><a href=\"https://plain.example/\">https://plain.example/</a>"));
	assert_non_null(strstr(buf_str(&m.text), "- {{nosuch}} *x* ](evil) [1]\n- click\n"
	    "- https://plain.example/\n"));
	content_message_free(&m);
	buf_free(&digest);
}

/* A Thing's body may greet the participant: its placeholders are filled
 * in per recipient, its literal braces left alone. */
static void
test_thing_body_placeholders(void **state)
{
	const struct tvar vars[] = {
		{ "programme", "P", 0 }, { "thing_number", "2", 0 }, { "thing_title", "T", 0 },
		{ "thing_body", "Welcome back, {{name}}: this is Thing {{thing_number}}. "
		  "Literal: \\{{x}}\n", 1 },
	};
	struct content_message m;

	(void)state;
	render(NULL, "thing", vars, 4, &m);
	assert_non_null(strstr(buf_str(&m.text), "Welcome back, Ann: this is Thing 2. Literal: {{x}}"));
	assert_non_null(strstr(buf_str(&m.html), "Welcome back, Ann: this is Thing 2. Literal: {{x}}"));
	content_message_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_default_renders),
		cmocka_unit_test(test_thing_default_says_what_to_do),
		cmocka_unit_test(test_blog_ack_sections),
		cmocka_unit_test(test_override_and_fallback),
		cmocka_unit_test(test_override_errors),
		cmocka_unit_test(test_hostile_values),
		cmocka_unit_test(test_missing_value_is_an_error),
		cmocka_unit_test(test_personalise_reuses_and_rewraps),
		cmocka_unit_test(test_markdown_escape),
		cmocka_unit_test(test_digest_from_hostile_feed),
		cmocka_unit_test(test_thing_body_placeholders),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
