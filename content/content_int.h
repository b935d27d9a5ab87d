/*
 * content_int.h - what the files of content/ share with each other and with
 * nobody else.  Other modules use content.h only.
 */
#ifndef THINGS_CONTENT_INT_H
#define THINGS_CONTENT_INT_H

#include <stddef.h>

#include "content.h"

/* --- diagnostics (diag.c) ---------------------------------------------- */

/* Collects the problems of one programme_load: each goes to the caller's
 * callback, the first is kept in `first` as "file:line: message". */
struct diag {
	content_diag_fn fn;
	void *arg;
	struct err *first;
	int count;
};

void diag_init(struct diag *d, content_diag_fn fn, void *arg, struct err *first);
/* Reports one problem; line 0 means "the whole file". */
void diag_report(struct diag *d, const char *file, int line, const char *fmt, ...)
    PRINTF_LIKE(4, 5);

/* --- loading (config.c, template_load.c) ------------------------------- */

/* Parses the config file at path into cfg (zeroed by the caller), reporting
 * every problem to d.  cfg->path and cfg->dir are set whenever the file could
 * be opened, even if it has errors, so that the caller can go on checking
 * the Things.  Returns 0 if there was no problem, else -1. */
int config_load(const char *path, struct programme_config *cfg, struct diag *d);
void config_free(struct programme_config *cfg);

/* Reads and checks DIR/templates/KIND.md overrides into p->templates.
 * 0 or -1. */
int templates_load(struct programme *p, struct diag *d);
void templates_free(struct programme *p);

/* --- the built-in templates (templates_default.c) ---------------------- */

struct template_kind {
	const char *name;             /* "thing", "confirm", ... */
	const char *text;             /* "Subject: ...\n\nMarkdown body" */
	const char *const *vars;      /* what the mailer supplies, NULL-terminated */
};

extern const struct template_kind template_kinds[];
extern const size_t template_nkinds;
/* What a Thing's own Markdown may use (text is NULL). */
extern const struct template_kind template_thing_file;
/* Variables every message gets, NULL-terminated. */
extern const char *const template_common_vars[];

const struct template_kind *template_kind_find(const char *name);
/* 1 if name is a variable the mailer supplies for this kind. */
int template_kind_has_var(const struct template_kind *k, const char *name, size_t len);

/* --- placeholders (template.c) ----------------------------------------- */

/* A placeholder waiting for content_personalise, in a prepared message:
 * U+E000 name U+E001 (see template.c for why not "{{name}}"). */
#define PH_OPEN "\xee\x80\x80"
#define PH_CLOSE "\xee\x80\x81"
/* What a marker found in an input becomes: U+FFFD. */
#define REPLACEMENT "\xef\xbf\xbd"

/* The template and its overrides, as loaded. */
struct content_template {
	const struct template_kind *kind;
	char *text;
	char *path;
};

/* If s starts a placeholder "{{name}}" with name [a-z]([a-z0-9_]*[a-z0-9])?,
 * returns its total length and sets *name and *namelen; else 0. */
size_t placeholder_at(const char *s, size_t avail, const char **name, size_t *namelen);
/* 1 if s[i] is preceded by an odd number of backslashes: "\{{x}}" in
 * Markdown is the literal text "{{x}}". */
int backslashed(const char *s, size_t i);
/* The same as placeholder_at for a marker PH_OPEN name PH_CLOSE. */
size_t marker_at(const char *s, size_t avail, const char **name, size_t *namelen);

/* The same for a section marker "{{#name}}", "{{^name}}", "{{/name}}";
 * *kind is '#', '^' or '/'. */
size_t section_marker_at(const char *s, size_t avail, char *kind, const char **name,
    size_t *namelen);

/* Checks every "{{" of text: each must be a placeholder (or, if sections_ok,
 * a section marker) naming a variable of kind k.  0, or -1 with the first
 * problem in e and its line in *line. */
int placeholders_check(const char *text, size_t len, const struct template_kind *k,
    int sections_ok, int *line, struct err *e);

/* The variable with this name and a non-NULL value, or NULL. */
const struct tvar *tvar_find(const struct tvar *vars, size_t nvars, const char *name, size_t n);

enum clean {
	CLEAN_CTL_KEEP,       /* control characters stay */
	CLEAN_CTL_TO_SPACE,   /* each becomes a space (a subject) */
	CLEAN_CTL_DROP,       /* dropped, but for LF and tab (plain text) */
	CLEAN_CTL_FLOW        /* spaces, but for LF (a paragraph still to wrap) */
};

/* Appends s[0..n) with PH_OPEN/PH_CLOSE replaced by U+FFFD, so that no
 * input can pose as a placeholder, and control characters as ctl says. */
int append_clean(struct buf *out, const char *s, size_t n, enum clean ctl);

/* Keeps or drops the {{#x}}...{{/x}} and {{^x}}...{{/x}} sections of text
 * (appending the result to out unless out is NULL, to only check).  On
 * error *line is the line of the offending marker. */
int sections_resolve(const char *text, size_t len, const struct tvar *vars, size_t nvars,
    struct buf *out, int *line, struct err *e);

/* Splits "Subject: ...\n\nbody": pointers into text.  On error *line is
 * where the problem is. */
int template_split(const char *text, const char **subject, size_t *subject_len,
    const char **body, int *line, struct err *e);

/* --- rendering (render.c, text.c) -------------------------------------- */

#define CONTENT_TEXT_WIDTH 72
#define CONTENT_MAX_NESTING 32

/* Appends a complete HTML document (title = subject, escaped) holding the
 * Markdown rendered by cmark: safe unless allow_raw_html.  Placeholder
 * markers in link destinations, which cmark percent-encodes, are turned
 * back into markers. */
int render_html_document(const char *markdown, size_t len, const char *subject,
    int allow_raw_html, struct buf *out, struct err *e);

/* Appends the Markdown as plain text wrapped at CONTENT_TEXT_WIDTH columns,
 * links collected into a numbered "Links:" list at the end.  Raw HTML has
 * no plain-text form and is left out, whatever allow_raw_html says. */
int render_text(const char *markdown, size_t len, struct buf *out, struct err *e);

/* In the text renderer's intermediate text: a space where no line may
 * break, and a hard line break.  Control characters never come from the
 * content (the renderer drops them), so these cannot be forged. */
#define TEXT_GLUE '\x01'
#define TEXT_HARD_BREAK '\n'
/* A paragraph holding placeholders is wrapped only once they are filled
 * in: the prepared text keeps it as DEFER_OPEN first-prefix DEFER_SEP
 * rest-prefix DEFER_SEP underline-char-or-'0' text DEFER_CLOSE. */
#define TEXT_DEFER_OPEN '\x02'
#define TEXT_DEFER_SEP '\x03'
#define TEXT_DEFER_CLOSE '\x04'

/* Writes prefix + text (glue as spaces) + LF, no trailing blanks. */
int text_line(struct buf *out, const char *prefix, const char *text, size_t n);
/* Greedy fill of text into lines of CONTENT_TEXT_WIDTH columns (code
 * points): `first` prefixes the first line, `rest` the others; a word
 * longer than a line gets a line of its own.  underline ('=', '-', or 0)
 * adds a rule as wide as the widest line. */
int text_wrap(struct buf *out, const char *text, size_t len, const char *first,
    const char *rest, char underline);

/* HTML-escapes s[0..n) (& < > " '), as cmark does for text and attributes. */
int html_escape(struct buf *out, const char *s, size_t n);

/* 1 if cmark's safe mode would drop this URL (javascript:, vbscript:, file:,
 * data: other than a few image types). */
int url_is_dangerous(const char *url, size_t n);

/* Number of UTF-8 code points in s[0..n). */
size_t utf8_width(const char *s, size_t n);

/* --- the sample programme (sample_things.c) ---------------------------- */

struct sample_thing {
	const char *file;      /* "01-start-a-blog.md" */
	const char *markdown;
};

extern const struct sample_thing sample_things[];
extern const size_t sample_nthings;

/* --- files (files.c) ---------------------------------------------------- */

/* Reads the whole regular file at path if it is at most max bytes.  On
 * success *data (NUL-terminated, caller frees) and *len.  -1 with a reason
 * ("larger than ..." for a big file). */
int file_read_all(const char *path, size_t max, char **data, size_t *len, struct err *e);

/* Creates path (which must not exist) with mode and writes data to it,
 * checking every step.  0 or -1. */
int file_write_new(const char *path, const char *data, size_t len, int mode, struct err *e);

/* "dir/name" in newly allocated memory (NULL when out of memory). */
char *path_join(const char *dir, const char *name);

#endif
