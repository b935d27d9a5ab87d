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

#endif
