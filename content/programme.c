/*
 * programme.c - loading a programme: its config, then things/NN-slug.md,
 * one Markdown file per Thing, numbered 1..N without gaps; then the
 * template overrides.  Every problem is reported, not just the first.
 */
#include <cmark.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "content_int.h"

#define THINGS_MAX 200
#define THING_MAX_BYTES ((size_t)1 << 20)
#define TITLE_MAX 300

/* --- one file ------------------------------------------------------------ */

/* Reads "NN-slug.md": 1 and the number and slug if name is one, 0 if the
 * file is not meant to be a Thing (hidden, or not .md), -1 if it is a
 * Markdown file whose name does not fit. */
static int
thing_file_name(const char *name, int *number, char **slug)
{
	size_t n = strlen(name), digits = strspn(name, "0123456789");
	const char *s = name + digits + 1, *end = name + n - 3;
	int64_t v;
	char num[8];

	if (name[0] == '.' || n < 3 || strcmp(end, ".md") != 0)
		return 0;
	if (digits < 2 || digits >= sizeof(num) || name[digits] != '-' || s >= end)
		return -1;
	for (const char *p = s; p < end; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '-' && *p != '_')
			return -1;
	memcpy(num, name, digits);
	num[digits] = '\0';
	if (str_to_int64(num, 0, 9999, &v) == -1)
		return -1;
	*number = (int)v;
	*slug = str_ndup(s, (size_t)(end - s));
	return 1;
}

/* Line number (1-based) of byte offset off, counting LF, CRLF and CR as
 * cmark does. */
static int
line_of(const char *s, size_t off)
{
	int line = 1;

	for (size_t i = 0; i < off; i++)
		if (s[i] == '\n' || (s[i] == '\r' && s[i + 1] != '\n'))
			line++;
	return line;
}

/* Offset of the start of line `line` (1-based); len if there is none. */
static size_t
line_start(const char *s, size_t len, int line)
{
	size_t i = 0;

	for (int l = 1; l < line && i < len; i++)
		if (s[i] == '\n' || (s[i] == '\r' && (i + 1 == len || s[i + 1] != '\n')))
			l++;
	return i;
}

/* 1 if the line is a setext underline: up to 3 spaces, a run of '=' or of '-',
 * trailing blanks. */
static int
is_setext_underline(const char *p, size_t n)
{
	size_t i = 0, run;

	while (i < n && i < 3 && p[i] == ' ')
		i++;
	if (i == n || (p[i] != '=' && p[i] != '-'))
		return 0;
	run = strspn(p + i, p[i] == '=' ? "=" : "-");
	if (run > n - i)
		run = n - i;
	for (i += run; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return 0;
	return 1;
}

static int
is_atx_line(const char *p)
{
	return p[strspn(p, " ")] == '#';
}

/* The text of a heading, without markup, spaces squashed. */
static char *
heading_text(cmark_node *heading)
{
	cmark_iter *it = cmark_iter_new(heading);
	struct buf b;
	cmark_event_type ev;

	buf_init(&b, TITLE_MAX * 4);
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		int type = cmark_node_get_type(n);

		if (ev != CMARK_EVENT_ENTER)
			continue;
		if (type == CMARK_NODE_TEXT || type == CMARK_NODE_CODE)
			buf_puts(&b, cmark_node_get_literal(n));
		else if (type == CMARK_NODE_SOFTBREAK || type == CMARK_NODE_LINEBREAK)
			buf_putc(&b, ' ');
	}
	cmark_iter_free(it);
	char *s = buf_steal(&b);
	if (s)
		str_squash_space(s);
	return s;
}

/* Finds the first top-level heading of src; sets the title and the
 * Markdown without the heading's lines.  0, or -1 with a reason. */
static int
split_title(const char *src, size_t len, struct thing *t, int *line, struct err *e)
{
	cmark_node *doc = cmark_parse_document(src, len, CMARK_OPT_DEFAULT), *h;
	size_t from, to;
	int first, last;

	if (doc == NULL)
		return err_set(e, "out of memory");
	for (h = cmark_node_first_child(doc); h; h = cmark_node_next(h))
		if (cmark_node_get_type(h) == CMARK_NODE_HEADING)
			break;
	if (h == NULL) {
		cmark_node_free(doc);
		return err_set(e, "has no heading: its first heading is the Thing's title");
	}
	first = last = cmark_node_get_start_line(h);
	t->title = heading_text(h);
	cmark_node_free(doc);
	if (t->title == NULL)
		return err_set(e, "out of memory");
	if (t->title[0] == '\0' || strlen(t->title) > TITLE_MAX) {
		*line = first;
		return err_set(e, "the title is empty or longer than %d bytes", TITLE_MAX);
	}
	/* cmark's end line of a setext heading is one too far (0.30.2), so find
	 * the underline ourselves; an ATX heading is one line. */
	if (!is_atx_line(src + line_start(src, len, first))) {
		for (;; last++) {
			size_t a = line_start(src, len, last), b = line_start(src, len, last + 1);

			if (a >= len || is_setext_underline(src + a, b - a))
				break;
		}
	}
	from = line_start(src, len, first);
	to = line_start(src, len, last + 1);
	while (to < len && (src[to] == '\n' || src[to] == '\r'))
		to++; /* the blank lines after the heading */
	struct buf md;
	buf_init(&md, THING_MAX_BYTES);
	if (buf_append(&md, src, from) == -1 || buf_append(&md, src + to, len - to) == -1 ||
	    (t->markdown = buf_steal(&md)) == NULL) {
		buf_free(&md);
		return err_set(e, "out of memory");
	}
	return 0;
}

/* Reads and checks one Thing file into t (path and number already set).
 * *line gets the line of the problem, 0 if it concerns the whole file. */
static int
thing_read(struct thing *t, int *line, struct err *e)
{
	char *data = NULL;
	size_t len, off = 0, bad;
	int rc = -1;

	if (file_read_all(t->path, THING_MAX_BYTES, &data, &len, e) == -1)
		return -1;
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		off = 3;
	if (strspn(data + off, " \t\r\n") == len - off) {
		err_set(e, "is empty");
		goto out;
	}
	if ((bad = strlen(data)) < len) {
		*line = line_of(data, bad);
		err_set(e, "holds a NUL byte");
		goto out;
	}
	for (size_t a = off, b; a < len; a = b) {
		b = a + strcspn(data + a, "\n") + 1;
		if (b > len)
			b = len;
		if (!str_valid_utf8(data + a, b - a)) {
			*line = line_of(data, a);
			err_set(e, "not valid UTF-8 (save the file as UTF-8)");
			goto out;
		}
	}
	if (placeholders_check(data + off, len - off, &template_thing_file, 0, line, e) == -1 ||
	    split_title(data + off, len - off, t, line, e) == -1)
		goto out;
	/* render once now, so that a problem shows at load and not at sending */
	struct buf scratch;
	buf_init(&scratch, (size_t)4 << 20);
	rc = render_text(t->markdown, strlen(t->markdown), &scratch, e);
	buf_free(&scratch);
out:
	free(data);
	return rc;
}

/* --- the folder ---------------------------------------------------------- */

static int
thing_cmp(const void *a, const void *b)
{
	const struct thing *x = a, *y = b;

	if (x->number != y->number)
		return x->number < y->number ? -1 : 1;
	return strcmp(x->path, y->path);
}

static const char *
base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Lists the Thing files of dir into p->things (path, number, slug). */
static int
things_list(struct programme *p, const char *dir, struct diag *d)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	int problems = 0;

	if (dh == NULL) {
		diag_report(d, dir, 0, "cannot open the Things folder: %s", strerror(errno));
		return -1;
	}
	while ((de = readdir(dh)) != NULL) {
		struct thing *t;
		char *slug = NULL;
		int number, kind = thing_file_name(de->d_name, &number, &slug);

		if (kind == 0)
			continue;
		if (kind == -1 || number == 0) {
			diag_report(d, dir, 0, "'%s' is not named NN-slug.md (NN: two or more digits "
			    "from 01; slug: letters, digits, '-', '_')", de->d_name);
			free(slug);
			problems++;
			continue;
		}
		if (p->nthings == THINGS_MAX) {
			diag_report(d, dir, 0, "more than %d Things", THINGS_MAX);
			free(slug);
			problems++;
			break;
		}
		t = slug ? realloc(p->things, (p->nthings + 1) * sizeof(*t)) : NULL;
		if (t == NULL) {
			diag_report(d, dir, 0, "out of memory");
			free(slug);
			problems++;
			break;
		}
		p->things = t;
		t = &p->things[p->nthings];
		memset(t, 0, sizeof(*t));
		t->number = number;
		t->slug = slug;
		if ((t->path = path_join(dir, de->d_name)) == NULL) {
			free(slug);
			diag_report(d, dir, 0, "out of memory");
			problems++;
			break;
		}
		p->nthings++;
	}
	closedir(dh);
	if (p->nthings == 0 && problems == 0) {
		diag_report(d, dir, 0, "no Things: add files named 01-first-thing.md, 02-...");
		problems++;
	}
	if (p->nthings > 1)
		qsort(p->things, p->nthings, sizeof(*p->things), thing_cmp);
	return problems ? -1 : 0;
}

/* Numbers must run 1..N: name the files around every gap and duplicate. */
static int
things_check_numbers(const struct programme *p, const char *dir, struct diag *d)
{
	int problems = 0;

	for (size_t i = 0; i < p->nthings; i++) {
		const struct thing *t = &p->things[i], *prev = i ? &p->things[i - 1] : NULL;
		int want = prev ? prev->number + 1 : 1;

		if (prev && t->number == prev->number) {
			diag_report(d, dir, 0, "%s and %s are both Thing %d", base(prev->path),
			    base(t->path), t->number);
			problems++;
		} else if (t->number > want && want == t->number - 1) {
			diag_report(d, dir, 0, "Thing %d is missing (%s%s%s)", want,
			    prev ? base(prev->path) : "", prev ? " is followed by " : "first file: ",
			    base(t->path));
			problems++;
		} else if (t->number > want) {
			diag_report(d, dir, 0, "Things %d to %d are missing (%s%s%s)", want,
			    t->number - 1, prev ? base(prev->path) : "",
			    prev ? " is followed by " : "first file: ", base(t->path));
			problems++;
		}
	}
	return problems ? -1 : 0;
}

/* start + days in local calendar days, so that a 09:00 release stays at
 * 09:00 across a change to or from summer time. */
static int64_t
add_days(int64_t start, int days)
{
	time_t t = (time_t)start;
	struct tm tm;

	localtime_r(&t, &tm);
	tm.tm_mday += days;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

static int
things_schedule(struct programme *p, struct diag *d)
{
	const struct programme_config *cfg = &p->cfg;
	int problems = 0;

	for (size_t i = 0; i < p->nthings; i++)
		p->things[i].release_at = add_days(cfg->start, (int)i * cfg->interval_days);
	for (size_t i = 0; i < cfg->noverrides; i++) {
		const struct schedule_override *o = &cfg->overrides[i];

		if ((size_t)o->number > p->nthings) {
			diag_report(d, cfg->path, o->line, "[schedule] names Thing %d, but there are "
			    "%zu Things", o->number, p->nthings);
			problems++;
			continue;
		}
		p->things[o->number - 1].release_at = o->release_at;
	}
	/* self-paced: each participant's own dates; [schedule] does not apply */
	for (size_t i = 1; i < p->nthings && !problems && !cfg->self_paced; i++) {
		const struct thing *a = &p->things[i - 1], *b = &p->things[i];
		char ta[32], tb[32];

		if (b->release_at >= a->release_at)
			continue;
		time_format_local(a->release_at, ta, sizeof(ta));
		time_format_local(b->release_at, tb, sizeof(tb));
		diag_report(d, cfg->path, 0, "Thing %d would come out (%s) before Thing %d (%s): "
		    "check [schedule]", b->number, tb, a->number, ta);
		problems++;
	}
	return problems ? -1 : 0;
}

/* Reads DIR/things/ into p->things; release times are computed only when
 * compute_release is set (the config's dates are valid). */
static int
things_load(struct programme *p, int compute_release, struct diag *d)
{
	char *dir = path_join(p->cfg.dir, "things");
	int problems = 0;
	struct err e;

	if (dir == NULL) {
		diag_report(d, p->cfg.dir, 0, "out of memory");
		return -1;
	}
	if (things_list(p, dir, d) == -1)
		problems++;
	for (size_t i = 0; i < p->nthings; i++) {
		int line = 0;

		if (thing_read(&p->things[i], &line, &e) == -1) {
			diag_report(d, p->things[i].path, line, "%s", e.msg);
			problems++;
		}
	}
	if (things_check_numbers(p, dir, d) == -1)
		problems++;
	free(dir);
	if (!problems && compute_release && things_schedule(p, d) == -1)
		problems++;
	return problems ? -1 : 0;
}

static void
things_free(struct programme *p)
{
	for (size_t i = 0; i < p->nthings; i++) {
		free(p->things[i].slug);
		free(p->things[i].title);
		free(p->things[i].path);
		free(p->things[i].markdown);
	}
	free(p->things);
	p->things = NULL;
	p->nthings = 0;
}

/* --- the public face ----------------------------------------------------- */

int
programme_load(const char *path, struct programme **out, content_diag_fn fn, void *arg,
    struct err *e)
{
	struct programme *p = calloc(1, sizeof(*p));
	struct diag d;
	int config_ok;

	*out = NULL;
	if (p == NULL)
		return err_set(e, "out of memory");
	diag_init(&d, fn, arg, e);
	config_ok = config_load(path, &p->cfg, &d) == 0;
	if (p->cfg.dir) {
		things_load(p, config_ok, &d);
		templates_load(p, &d);
	}
	if (d.count > 0) {
		programme_free(p);
		return -1;
	}
	*out = p;
	return 0;
}

void
programme_free(struct programme *p)
{
	if (p == NULL)
		return;
	templates_free(p);
	things_free(p);
	config_free(&p->cfg);
	free(p);
}

const struct thing *
programme_thing(const struct programme *p, int number)
{
	if (p == NULL || number < 1 || (size_t)number > p->nthings)
		return NULL;
	return &p->things[number - 1];
}
