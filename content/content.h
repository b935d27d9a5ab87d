/*
 * content.h - the programme: its configuration, its Things, and the
 * templates of every message Things sends, rendered with cmark into HTML
 * and plain text.
 *
 * A programme is a directory:
 *   things.conf            INI: [programme] [smtp] [imap] [store] ...
 *   things/NN-slug.md      one Markdown file per Thing; title = first heading
 *   templates/KIND.md      optional overrides of the built-in templates
 *
 * Ownership: a struct programme owns every string in it; programme_free
 * releases all.  Nothing here touches the network or the store.
 */
#ifndef THINGS_CONTENT_H
#define THINGS_CONTENT_H

#include <stddef.h>
#include <stdint.h>

#include "../util/util.h"

struct schedule_override {
	int number;            /* the Thing */
	int64_t release_at;
	int line;              /* in things.conf, for diagnostics */
};

struct programme_config {
	char *path;            /* the config file, absolute */
	char *dir;             /* its directory: relative paths are relative to it */

	/* [programme] */
	char *name;            /* "12 Things for Health Libraries" */
	char *address;         /* the programme's address, normalized */
	char delimiter;        /* plus-address delimiter, default '+' */
	char **organisers;     /* normalized addresses, at least one */
	size_t norganisers;
	int64_t start;         /* release of Thing 1 */
	int interval_days;     /* default 14 */
	char *list_id;         /* List-Id value without brackets, default "slug.domain" */
	char *unsubscribe_url; /* optional https endpoint; NULL if none */
	int allow_raw_html;    /* pass raw HTML in Markdown through (default 0) */

	/* [smtp] */
	char *smtp_url;        /* "smtp://h:p", "smtps://h:p", or "maildir:/abs/path" */
	int smtp_connections;  /* parallel connections, default 4 */
	char *smtp_ca_file;    /* extra CA bundle for TLS, NULL = system store */

	/* [imap] */
	char *imap_url;        /* "imap://u:p@h:p/INBOX", "imaps://...", or "maildir:/abs/path" */
	char *imap_ca_file;    /* extra CA bundle, NULL = system store */

	/* [store] */
	char *store_path;      /* absolute */

	/* [schedule]: "thing3 = 2027-03-01" replaces start + 2 * interval */
	struct schedule_override *overrides;
	size_t noverrides;
};


struct thing {
	int number;            /* 1-based, from the file name's NN */
	char *slug;            /* "blogging" from "01-blogging.md" */
	char *title;           /* text of the first heading */
	char *path;            /* absolute path of the file */
	char *markdown;        /* the file without its first heading */
	int64_t release_at;    /* start + (number-1) * interval, or an override */
};

struct content_template;  /* internal to content/ */

struct programme {
	struct programme_config cfg;
	struct thing *things;  /* sorted by number, numbers 1..nthings without gaps */
	size_t nthings;
	/* Overrides read from DIR/templates/KIND.md and checked by programme_load;
	 * NULL/0 means "built-in defaults only" (a hand-built programme works). */
	struct content_template *templates;
	size_t ntemplates;
};

/* Called once per problem found: file and 1-based line (0 if unknown). */
typedef void (*content_diag_fn)(void *arg, const char *file, int line, const char *msg);

/* Loads and validates the programme whose config file is at path.  Every
 * problem is reported through diag (may be NULL); on any problem it returns
 * -1, with the first one in e as "file:line: message".  On success *out
 * owns everything. */
int programme_load(const char *path, struct programme **out, content_diag_fn diag,
    void *arg, struct err *e);
void programme_free(struct programme *p);

/* The Thing with this number, or NULL. */
const struct thing *programme_thing(const struct programme *p, int number);

/* Writes a complete sample programme (things.conf and 12 Things) into dir,
 * which must not exist or be empty.  maildir_base, when not NULL, makes the
 * sample use maildir:BASE/outbox and maildir:BASE/inbox endpoints (for the
 * demo); otherwise it points at smtp/imap on localhost. */
int content_scaffold(const char *dir, const char *maildir_base, struct err *e);

/* --- messages ---------------------------------------------------------- */

/* A template variable.  In content_prepare, markdown=1 inserts the value as
 * Markdown (trusted text only: a Thing's body) and markdown=0 inserts it as
 * literal text, escaped.  In content_personalise the value is always
 * literal text: HTML-escaped in the HTML part, as is in subject and text. */
struct tvar {
	const char *name;
	const char *value;
	int markdown;
};

/* A rendered message: one-line subject, text/plain body (wrapped to 72
 * columns, links listed as [n] references), and an HTML document. */
struct content_message {
	struct buf subject;
	struct buf text;
	struct buf html;
};

void content_message_init(struct content_message *m);
void content_message_free(struct content_message *m);

/* Renders template `name` (a DK_* kind from store.h: "thing", "confirm",
 * ...) with vars.  Placeholders {{x}} whose name is not among vars are left
 * in place for content_personalise, so the expensive part (cmark) runs once
 * per template and not once per recipient. */
int content_prepare(const struct programme *p, const char *name, const struct tvar *vars,
    size_t nvars, struct content_message *out, struct err *e);

/* Substitutes the remaining placeholders of a prepared message; out's
 * buffers are reset first, so one out can be reused for every recipient.
 * A placeholder with no value is an error (no message goes out with
 * "{{name}}" in it). */
int content_personalise(const struct content_message *prepared, const struct tvar *vars,
    size_t nvars, struct content_message *out, struct err *e);

/* Escapes text so that cmark renders it literally (for digests built from
 * untrusted feed titles). */
int content_markdown_escape(struct buf *out, const char *text);

#endif
