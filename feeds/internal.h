/* internal.h - shared by the files of feeds/ only. */
#ifndef THINGS_FEEDS_INTERNAL_H
#define THINGS_FEEDS_INTERNAL_H

#include <libxml/tree.h>

#include "feeds.h"

/* Writes s (UTF-8, squashed) into out (n >= 4 bytes) cut to at most
 * max_chars characters and n - 1 bytes, ending it with "…" when cut; at a
 * word boundary when word is set and one is near. */
void feeds_clip(const char *s, size_t max_chars, int word, char *out, size_t n);

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

#endif
