/* parse_text.c - the text of a feed's elements: raw, or read as HTML or
 * XHTML into plain text and links (for parse.c). */
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "internal.h"

char *
feeds_raw_text(xmlNodePtr n, size_t max)
{
	struct buf b;

	buf_init(&b, max);
	if (n != NULL && feeds_xml_text(n, &b) == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* XHTML content (Atom type="xhtml"): its markup, serialized back to text
 * for the HTML reader, which then finds its links as in HTML content.  At
 * most about max bytes: the document is in memory already, bounded. */
static char *
xhtml_markup(xmlDocPtr doc, xmlNodePtr n, size_t max)
{
	xmlBufferPtr xb = xmlBufferCreate();
	char *out = NULL;
	size_t len;

	if (xb == NULL)
		return NULL;
	for (xmlNodePtr c = n->children; c != NULL && (size_t)xmlBufferLength(xb) < max;
	    c = c->next)
		if (xmlNodeDump(xb, doc, c, 0, 0) == -1)
			goto out;
	len = (size_t)xmlBufferLength(xb);
	out = strndup((const char *)xmlBufferContent(xb), len < max ? len : max);
out:
	xmlBufferFree(xb);
	return out;
}

char *
feeds_node_base(xmlDocPtr doc, xmlNodePtr n)
{
	xmlChar *b = xmlNodeGetBase(doc, n);
	char *out = b ? strdup((const char *)b) : NULL;

	xmlFree(b);
	return out;
}

int
feeds_element_text(xmlDocPtr doc, xmlNodePtr node, enum text_type type, size_t max_chars,
    char *out, size_t n, char **links, size_t *nlinks)
{
	char *raw, *base = NULL;
	int rc = 0;

	out[0] = '\0';
	if (node == NULL)
		return 0;
	raw = type == TT_XHTML ? xhtml_markup(doc, node, RAW_LONG_MAX) :
	    feeds_raw_text(node, type == TT_HTML ? RAW_LONG_MAX : RAW_SHORT_MAX);
	if (raw == NULL)
		return -1;
	if (type == TT_HTML || type == TT_XHTML) {
		base = feeds_node_base(doc, node);
		rc = feeds_html_text(raw, strlen(raw), base, max_chars, out, n, links,
		    links ? FEEDS_ENTRY_LINKS : 0, nlinks);
	} else {
		str_squash_space(raw);
		feeds_clip(raw, max_chars, 1, out, n);
	}
	free(base);
	free(raw);
	return rc;
}

