/* internal.h - shared by the files of feeds/ only. */
#ifndef THINGS_FEEDS_INTERNAL_H
#define THINGS_FEEDS_INTERNAL_H

#include <libxml/tree.h>

#include "feeds.h"

/* Writes s (UTF-8, squashed) into out (n >= 4 bytes) cut to at most
 * max_chars characters and n - 1 bytes, ending it with "…" when cut; at a
 * word boundary when word is set and one is near.  A platform's footer
 * that ends s (feeds_without_footer) is left out first. */
void feeds_clip(const char *s, size_t max_chars, int word, char *out, size_t n);

/* text_footer.c: the length of the n bytes of text s without a platform's
 * footer (Medium's "X was
 * originally published in Y on Medium, ...") that is their whole last
 * sentence: the last paragraph, which starts at para (0 for text without
 * markup), or a sentence of it.  n when there is none. */
size_t feeds_without_footer(const char *s, size_t n, size_t para);

/* Appends the text under node to b, following internal entity references
 * and skipping script and style elements; stops quietly when b is full or
 * after a bounded number of nodes.  -1 only on out of memory. */
int feeds_xml_text(xmlNodePtr node, struct buf *b);

/* Makes a key at most FEEDS_KEY_MAX bytes: s itself if it fits and hash
 * is 0, else "sha256:" and the hex digest of s.  out: FEEDS_KEY_MAX + 1
 * bytes. */
int feeds_key(const char *s, size_t len, int hash, char *out, struct err *e);

/* Parses an RFC 822 (pubDate) or RFC 3339 / ISO 8601 date; 0 if neither. */
int64_t feeds_parse_date(const char *s);

/* Case-insensitive ASCII compare of a bounded string with a literal. */
int feeds_ieq(const char *a, const char *b);

/* The value of attribute name (no namespace) of node as a malloc'd string
 * with surrounding white space trimmed, or NULL. */
char *feeds_attr(xmlNodePtr node, const char *name);

/* --- parse_xml.c: a feed's bytes to a document ------------------------- */

/* Parses len bytes of buf (at most FEEDS_PARSE_MAX, checked by the caller)
 * as XML with the safe options (no network, DTD, entity substitution or
 * HUGE), forgiving white space before the XML declaration, HTML's named
 * entities, and bytes that are not UTF-8 in a document that is UTF-8 by
 * declaration or default (read as windows-1252: a few stray ones, or a
 * Latin-1 or windows-1252 document that names no encoding).  The caller
 * frees the document with xmlFreeDoc.  NULL with a reason in e (one that
 * names a JSON Feed as such). */
xmlDocPtr feeds_read_xml(const char *buf, size_t len, const char *base_url, struct err *e);

/* --- parse_text.c: the text of a feed's elements ---------------------- */

/* Raw text of one element: a title or a guid is short, content is not.
 * Beyond these sizes the text is cut: an excerpt needs the start only. */
#define RAW_SHORT_MAX ((size_t)64 << 10)
#define RAW_LONG_MAX ((size_t)1 << 20)

enum text_type { TT_TEXT, TT_HTML, TT_XHTML };

/* The element's text, raw (entities decoded, markup as text), at most
 * max bytes; NULL when out of memory.  The caller frees it. */
char *feeds_raw_text(xmlNodePtr n, size_t max);
/* The same, in scratch (emptied first, its max set to max, its memory
 * kept for the next call: one buffer serves a whole document); the text
 * stays valid until scratch's next use.  NULL when out of memory. */
const char *feeds_raw_text_in(xmlNodePtr n, size_t max, struct buf *scratch);
/* The base URL in force at n (xml:base, else the document's URL), or
 * NULL.  It is the document's own when no xml:base applies; else *owned
 * holds what xmlNodeGetBase made, for the caller to xmlFree (always safe:
 * NULL otherwise). */
const char *feeds_node_base(xmlDocPtr doc, xmlNodePtr n, xmlChar **owned);
/* What reading one document's elements reuses from one to the next: the
 * buffer of their raw text (feeds_raw_text_in) and the HTML parser's
 * context (created at its first use; NULL until then).  Zero-initialise
 * with raw buf_init'd; feeds_reader_free releases both. */
struct feeds_reader {
	struct buf raw;
	xmlParserCtxtPtr html;
};
void feeds_reader_free(struct feeds_reader *r);

/* Converts the text of node, of the given type, to at most max_chars
 * characters in out (n bytes); collects links (FEEDS_ENTRY_LINKS at most)
 * from HTML and XHTML when links is not NULL.  0 or -1. */
int feeds_element_text(xmlDocPtr doc, xmlNodePtr node, enum text_type type, size_t max_chars,
    char *out, size_t n, char **links, size_t *nlinks, struct feeds_reader *r);

/* feeds_html_text with the HTML parser's context ctxt, reset and reused
 * (a context costs as much to make as a short description to parse), or
 * one of its own when ctxt is NULL. */
int feeds_html_text_in(xmlParserCtxtPtr ctxt, const char *html, size_t len, const char *base,
    size_t max_chars, char *out, size_t n, char **links, size_t nlinks_max, size_t *nlinks);

/* --- ingest.c: a fetched document to stored posts ------------------------ */

struct store;
struct feed;

struct read_entry {
	size_t key, title, link, excerpt;   /* offsets of strings in the arena */
	int64_t published_at;
	int thing;                          /* feeds_match_thing's answer */
};

/* A feed document read into memory, ready to store. */
struct feed_read {
	int rc;                          /* 0 read, 1 not a usable feed, -1 no memory */
	char why[ERR_MSG_MAX];           /* when rc != 0 */
	struct read_entry *entries;
	size_t n, cap;
	struct buf arena;
	char title[FEEDS_TITLE_MAX + 1]; /* the feed's own title and link, or "" */
	char link[FEEDS_URL_MAX + 1];
};

/* Parses a feed document into r (which the caller frees with
 * feeds_read_free whatever the result) and matches its entries to
 * things[0..nthings-1] by their content.  Touches no store and no global
 * state: safe on any thread.  Returns r->rc. */
int feeds_read(const char *buf, size_t len, const char *base_url,
    const struct feeds_thing *things, int nthings, struct feed_read *r);
void feeds_read_free(struct feed_read *r);

/* Stores what feeds_read read for f (f as it was before this fetch) by the
 * rules of feeds.h, like feeds_ingest after its parse.  0 or -1 (store). */
int feeds_store_read(struct store *st, const struct feed *f, const struct feed_read *r,
    int64_t now, struct feeds_stats *stats, struct err *e);

/* --- reader.c: feeds read on a thread of their own ------------------------ */

/* One document to read.  The caller fills body (which the reader frees
 * once read), base_url and crumb (the key of the crash crumb held while
 * reading: store_crumb_enter) and keeps the job until reader_take hands it
 * back with read filled in, or set_aside (the crumb says this document
 * crashed Things twice: not read), or failed (the crumb could not be
 * written: a reason). */
struct read_job {
	struct read_job *next;      /* the reader's */
	struct buf body;
	const char *base_url;
	char crumb[64];             /* "feed ID" */
	int set_aside;
	char failed[ERR_MSG_MAX];
	struct feed_read read;      /* free with feeds_read_free */
};

struct reader;

/* Starts a reader: with thread, one that reads on a thread of its own
 * (without, or if there can be none, one that reads each job as it is
 * put).  From here until reader_stop the crash crumb of st is the
 * reader's while any job is pending (reader_count): the caller may use st
 * for anything else, and the crumb too when nothing is pending. */
int reader_start(struct reader **out, struct store *st, const struct feeds_thing *things,
    int nthings, int thread, struct err *e);
/* Queues a job; never blocks.  The caller bounds how many are pending. */
void reader_put(struct reader *rd, struct read_job *job);
/* The next job read, in the order they were put; with wait, waits for one
 * if any is pending.  NULL when none is ready (none pending, with wait). */
struct read_job *reader_take(struct reader *rd, int wait);
/* Jobs put and not yet taken; of those, jobs read. */
void reader_count(struct reader *rd, size_t *pending, size_t *ready);
/* Stops the thread.  Every job put must have been taken. */
void reader_stop(struct reader *rd);

#endif
