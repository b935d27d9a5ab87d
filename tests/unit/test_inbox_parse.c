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
 *       exact strings
 *   references links                 space-separated, in order
 *   auto_submitted x_autoreply vacation_subject bulk has_list_id
 *   has_list_unsubscribe null_sender is_dsn text_from_html text_truncated
 *   mime_degraded                    0 or 1
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

static void
check_intent(struct expect *x, const char *name, const struct inbox_message *m)
{
	const char *v;
	struct inbox_context ctx = {
		.address = (v = get(x, "ctx_address", 0)) ? v : "things@example.org",
		.delimiter = (v = get(x, "ctx_delimiter", 0)) ? v[0] : '+',
		.nthings = (v = get(x, "ctx_nthings", 0)) ? atoi(v) : 12,
		.reply_to_thing = (v = get(x, "ctx_reply_to_thing", 0)) ? atoi(v) : 0,
		.from_participant = (v = get(x, "ctx_from_participant", 0)) ? atoi(v) : 0,
	};
	struct inbox_intent in;
	size_t k;

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
	if (in.url != NULL && k == m->nlinks)
		mismatch(name, "intent_url", "a pointer into links", in.url);
	if (in.reason == NULL || in.reason[0] == '\0')
		mismatch(name, "reason", "a reason", "");
}

static void
check_record(struct expect *x, const char *name, const struct inbox_message *m)
{
	static const char *const strs[] = {
		"message_id", "from_addr", "from_name", "reply_to", "to_addrs", "in_reply_to",
		"attachments", "dsn_recipient", "dsn_original_recipient", "dsn_action", "dsn_status",
	};
	const char *const got[] = {
		m->message_id, m->from_addr, m->from_name, m->reply_to, m->to_addrs, m->in_reply_to,
		m->attachments, m->dsn_recipient, m->dsn_original_recipient, m->dsn_action,
		m->dsn_status,
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
	check_int(x, name, "text_from_html", m->text_from_html);
	check_int(x, name, "text_truncated", m->text_truncated);
	check_int(x, name, "mime_degraded", m->mime_degraded);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
