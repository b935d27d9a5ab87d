/*
 * content.h - the programme: its configuration, its Things, and the
 * templates of every message Things sends, rendered with cmark into HTML
 * and plain text.
 *
 * A programme is a directory:
 *   things.conf            INI: [programme] [smtp] [imap] [store] [schedule]
 *   things/NN-slug.md      one Markdown file per Thing; title = first heading
 *   templates/KIND.md      optional overrides of the built-in templates
 *
 * The variables each template gets from the mailer are listed at the top
 * of content/templates_default.c; programme_load refuses templates and
 * Things that use any other.
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

	int self_paced;        /* mode = self-paced: each participant's clock starts at
	                          confirmation; default cohort (0) */
	int catch_up_days;     /* late joiners get released Things one every K days;
	                          0 = all at once; default 2 */
	int max_lateness_hours; /* a Thing this late (after downtime) is held for the
	                           organisers instead of sent blindly; default 72 */
	int send_late;         /* send late Things anyway; default no */
	int certificate;       /* a certificate of completion to whoever has
	                          reflected on every Thing; default yes */

	/* [smtp] */
	char *smtp_url;        /* "smtp://h:p", "smtp+starttls://h:p", "smtps://h:p"
	                        * (user:password@ allowed, percent-encoded), or
	                        * "maildir:/abs/path" */
	int smtp_connections;  /* parallel connections, default 4 */
	char *smtp_ca_file;    /* extra CA bundle for TLS, NULL = system store */
	int smtp_max_per_minute;     /* 0 = no limit (default) */
	int smtp_max_per_connection; /* messages before a fresh connection; 0 = no limit */

	/* [bounces] */
	int bounce_threshold;  /* score at which a participant is suspended; default 5 */
	int bounce_stale_days; /* a score without new bounces this long resets; default 7 */

	/* [imap] */
	char *imap_url;        /* "imap://u:p@h:p/INBOX", "imap+starttls://...",
	                        * "imaps://...", or "maildir:/abs/path" */
	char *imap_ca_file;    /* extra CA bundle, NULL = system store */

	/* [inbox] */
	int inbox_max_kib;     /* larger messages are not parsed; default 10 MiB */
	char *inbox_processed; /* folder for handled messages; default "Processed" */
	char *inbox_failed;    /* folder for messages that could not be; default "Failed" */
	int inbox_flag_only;   /* after = flag: flag instead of moving; default move (0) */
	int answers_per_hour;  /* automatic answers to one address per hour; default 5 */
	int ticket_reminder_hours; /* remind organisers of unanswered help; default 48 */
	char *organiser_secret; /* organiser commands need it; NULL = commands off */

	/* [feeds] */
	int feeds_allow_private; /* test-only: fetch from loopback/private addresses */
	int feeds_parallel;    /* default 8 */
	int feeds_per_host;    /* default 2 */
	int feeds_timeout_s;   /* default 20 */
	int feeds_max_kib;     /* default 2048 */
	int feeds_failures_notice; /* failed fetches in a row before the owner is told; 3 */
	int feeds_every_hours; /* `things run` fetches the feeds this often (and before
	                          each digest); default 6 */

	/* [digest] */
	int digest_enabled;    /* default yes */
	int digest_weekday;    /* 0 = Sunday .. 6; default 1 (Monday) */
	int digest_hour;       /* local hour, 0-23; default 8 */

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

/* Loads and validates the programme whose config file is at path: the
 * config, every Thing (numbering, title, UTF-8, size, placeholders, and a
 * trial rendering), and the template overrides.  Every problem is reported
 * through diag (may be NULL); on any problem it returns -1 with *out NULL
 * and the first problem in e as "file:line: message" ("file: message" when
 * it concerns the whole file).  On success *out owns everything; release it
 * with programme_free (which accepts NULL). */
int programme_load(const char *path, struct programme **out, content_diag_fn diag,
    void *arg, struct err *e);
void programme_free(struct programme *p);

/* The Thing with this number (1-based), or NULL; points into p. */
const struct thing *programme_thing(const struct programme *p, int number);

/* Writes a complete sample programme (things.conf, mode 0600, and 12
 * Things) into dir, which must not exist (its parent must) or be empty.
 * maildir_base, when not NULL, makes the sample use maildir:BASE/outbox and
 * maildir:BASE/inbox endpoints (for the demo; a relative BASE is relative
 * to dir, as every path in things.conf); otherwise smtp://localhost:25 and
 * imap://things:secret@localhost/INBOX.  Files are created exclusively,
 * written, synced and closed with every step checked; on failure what was
 * written stays and e says where it stopped. */
int content_scaffold(const char *dir, const char *maildir_base, struct err *e);

/* --- messages ---------------------------------------------------------- */

/* A template variable.  In content_prepare, markdown=1 inserts the value as
 * Markdown (trusted text only: a Thing's body, a digest built with the
 * escaping functions below; its own {{x}} are filled in too) and
 * markdown=0 inserts it as literal text, escaped (newlines become hard line
 * breaks).  In content_personalise the value is always literal text:
 * HTML-escaped in the HTML part (newlines as <br />; percent-encoded, and
 * dropped if javascript: and the like, inside a link's URL), as is in the
 * text part, control characters made spaces in the subject.  A value NULL
 * counts as not given.  Values are never scanned for placeholders: a value
 * holding "{{address}}" shows as that text. */
struct tvar {
	const char *name;
	const char *value;
	int markdown;
};

/* A rendered message: one-line subject, text/plain body (wrapped to 72
 * columns, links listed as [n] references), and an HTML document, all
 * UTF-8 with LF line ends.  Each buffer has a maximum (4 KiB, 4 MiB,
 * 8 MiB). */
struct content_message {
	struct buf subject;
	struct buf text;
	struct buf html;
};

/* Sets up empty buffers; _free releases them (m itself is the caller's). */
void content_message_init(struct content_message *m);
void content_message_free(struct content_message *m);

/* Renders template `name` (a DK_* kind from store.h: "thing", "confirm",
 * ..., or "digest", "certificate") with vars: the override loaded by
 * programme_load if any, else the built-in text (p may be NULL: built-in
 * texts, raw HTML off).  Placeholders {{x}} whose name is not among vars
 * are left for content_personalise, so the expensive part (cmark) runs once
 * per template and not once per recipient.  They are kept as private-use
 * markers, not as "{{x}}": a prepared message is not fit to send until it
 * has been through content_personalise (with no vars if none are left).
 * A {{#x}}/{{^x}} section needs x here.  out's buffers are reset first; on
 * error they are left empty. */
int content_prepare(const struct programme *p, const char *name, const struct tvar *vars,
    size_t nvars, struct content_message *out, struct err *e);

/* Substitutes the remaining placeholders of a prepared message (left
 * untouched) into out; out's buffers are reset first, so one out can be
 * reused for every recipient.  Paragraphs that held placeholders are
 * wrapped now that their length is known.  A placeholder with no value is
 * an error, and out is left empty (no message goes out with a hole). */
int content_personalise(const struct content_message *prepared, const struct tvar *vars,
    size_t nvars, struct content_message *out, struct err *e);

/* Appends text escaped so that cmark renders it literally (for digests
 * built from untrusted feed titles): every ASCII punctuation character is
 * backslash-escaped, leading blanks and control characters dropped,
 * newlines made hard line breaks.  -1 if out is full. */
int content_markdown_escape(struct buf *out, const char *text);

/* Appends a Markdown link "[text](<url>)" with both parts escaped as
 * above, so that an untrusted title and URL can neither break out nor
 * pose as a placeholder (cmark's safe mode still empties javascript:
 * URLs).  An empty text shows the URL.  -1 if out is full. */
int content_markdown_link(struct buf *out, const char *text, const char *url);

#endif
