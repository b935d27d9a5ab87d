/*
 * template_load.c - DIR/templates/KIND.md overrides, read and checked by
 * programme_load so that a typo in a template shows at load time, not as
 * a message that cannot be personalised.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content_int.h"

#define TEMPLATE_MAX_BYTES (64 * 1024)

static void
list_vars(const struct template_kind *k, char *out, size_t n)
{
	size_t used = 0;

	out[0] = '\0';
	for (int pass = 0; pass < 2; pass++) {
		for (const char *const *v = pass ? k->vars : template_common_vars; *v; v++) {
			int w = snprintf(out + used, n - used, "%s%s", used ? ", " : "", *v);

			if (w < 0 || (size_t)w >= n - used)
				return;
			used += (size_t)w;
		}
	}
}

int
placeholders_check(const char *text, size_t len, const struct template_kind *k,
    int sections_ok, int *line, struct err *e)
{
	/* the subject line of a template is not Markdown: no escapes there */
	int markdown = !sections_ok;

	*line = 1;
	for (size_t i = 0; i + 1 < len; i++) {
		const char *name;
		size_t n;
		char kind, known[600];

		if (text[i] == '\n') {
			(*line)++;
			markdown = 1;
		}
		if (text[i] != '{' || text[i + 1] != '{' || (markdown && backslashed(text, i)))
			continue;
		if (placeholder_at(text + i, len - i, &name, &n) == 0 &&
		    (!sections_ok || section_marker_at(text + i, len - i, &kind, &name, &n) == 0))
			return err_set(e, "'{{' starts no placeholder: write {{name}}, with lowercase "
			    "letters, digits and '_'%s", sections_ok ? ", or a {{#name}} section" : "");
		if (!template_kind_has_var(k, name, n)) {
			list_vars(k, known, sizeof(known));
			return err_set(e, "unknown variable '%.*s' (%s can use: %s)", (int)n, name,
			    k->name, known);
		}
		i += n + 3;
	}
	*line = 0;
	return 0;
}

/* Every variable of k, set to a non-empty value: for checking sections. */
static size_t
all_vars(const struct template_kind *k, struct tvar *vars, size_t max)
{
	size_t n = 0;

	for (int pass = 0; pass < 2; pass++)
		for (const char *const *v = pass ? k->vars : template_common_vars; *v && n < max; v++)
			vars[n++] = (struct tvar){ *v, "x", 0 };
	return n;
}

/* Reads and checks one override; on success fills t. */
static int
template_read(const char *path, const struct template_kind *k, struct content_template *t,
    int *line, struct err *e)
{
	struct tvar vars[32];
	const char *subject, *body, *text;
	size_t len, subject_len;
	char *data;

	*line = 0;
	if (file_read_all(path, TEMPLATE_MAX_BYTES, &data, &len, e) == -1)
		return -1;
	text = data;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		text += 3, len -= 3;
	if (strlen(text) != len || !str_valid_utf8(text, len)) {
		free(data);
		return err_set(e, "is not UTF-8 text");
	}
	if (placeholders_check(text, len, k, 1, line, e) == -1 ||
	    sections_resolve(text, len, vars, all_vars(k, vars, 32), NULL, line, e) == -1 ||
	    template_split(text, &subject, &subject_len, &body, line, e) == -1) {
		free(data);
		return -1;
	}
	t->kind = k;
	t->text = strdup(text);
	t->path = strdup(path);
	free(data);
	if (t->text == NULL || t->path == NULL)
		return err_set(e, "out of memory");
	return 0;
}

static void
known_kinds(char *out, size_t n)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < template_nkinds; i++) {
		int w = snprintf(out + used, n - used, "%s%s.md", i ? ", " : "",
		    template_kinds[i].name);

		if (w < 0 || (size_t)w >= n - used)
			return;
		used += (size_t)w;
	}
}

int
templates_load(struct programme *p, struct diag *d)
{
	char *dir = path_join(p->cfg.dir, "templates"), known[400];
	int problems = 0;
	struct dirent *de;
	DIR *dh;

	if (dir == NULL) {
		diag_report(d, p->cfg.dir, 0, "out of memory");
		return -1;
	}
	dh = opendir(dir);
	if (dh == NULL) {
		if (errno != ENOENT) {
			diag_report(d, dir, 0, "cannot open: %s", strerror(errno));
			problems++;
		}
		free(dir);
		return problems ? -1 : 0;
	}
	while ((de = readdir(dh)) != NULL) {
		size_t n = strlen(de->d_name);
		const struct template_kind *k = NULL;
		struct content_template *grown;
		char kind[64], *path;
		struct err e;
		int line;

		if (de->d_name[0] == '.' || n < 4 || strcmp(de->d_name + n - 3, ".md") != 0)
			continue;
		if (n - 3 < sizeof(kind)) {
			memcpy(kind, de->d_name, n - 3);
			kind[n - 3] = '\0';
			k = template_kind_find(kind);
		}
		path = path_join(dir, de->d_name);
		if (k == NULL || path == NULL) {
			known_kinds(known, sizeof(known));
			diag_report(d, path ? path : dir, 0, "no such template (known: %s)", known);
			free(path);
			problems++;
			continue;
		}
		grown = realloc(p->templates, (p->ntemplates + 1) * sizeof(*grown));
		if (grown == NULL) {
			diag_report(d, path, 0, "out of memory");
			free(path);
			problems++;
			break;
		}
		p->templates = grown;
		memset(&grown[p->ntemplates], 0, sizeof(*grown));
		if (template_read(path, k, &grown[p->ntemplates], &line, &e) == -1) {
			diag_report(d, path, line, "%s", e.msg);
			problems++;
		}
		p->ntemplates++;
		free(path);
	}
	closedir(dh);
	free(dir);
	return problems ? -1 : 0;
}

void
templates_free(struct programme *p)
{
	for (size_t i = 0; i < p->ntemplates; i++) {
		free(p->templates[i].text);
		free(p->templates[i].path);
	}
	free(p->templates);
	p->templates = NULL;
	p->ntemplates = 0;
}
