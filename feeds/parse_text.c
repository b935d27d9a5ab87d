/* parse_text.c - the text of a feed's elements: raw, or read as HTML or
 * XHTML into plain text and links (for parse.c). */
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
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

const char *
feeds_raw_text_in(xmlNodePtr n, size_t max, struct buf *scratch)
{
	buf_reset(scratch);
	scratch->max = max;
	/* "" when there is no text: as feeds_raw_text, which gives an empty
	 * string too (buf_steal) */
	if (buf_append(scratch, "", 0) == -1 || (n != NULL && feeds_xml_text(n, scratch) == -1))
		return NULL;
	return scratch->data;
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

/* 1 if no xml:base can be in force at n: none on n or its ancestors, and
 * no DTD that could give one by default (xmlNodeGetBase reads attributes
 * with the DTD's defaults). */
static int
base_is_url(xmlDocPtr doc, xmlNodePtr n)
{
	if (doc->type != XML_DOCUMENT_NODE || doc->intSubset != NULL || doc->extSubset != NULL)
		return 0;
	for (xmlNodePtr c = n; c != NULL && c != (xmlNodePtr)doc; c = c->parent) {
		if (c->type != XML_ELEMENT_NODE)
			return 0;
		for (xmlAttrPtr a = c->properties; a != NULL; a = a->next)
			if (a->ns != NULL && xmlStrEqual(a->name, (const xmlChar *)"base") &&
			    xmlStrEqual(a->ns->href, XML_XML_NAMESPACE))
				return 0;
	}
	return 1;
}

const char *
feeds_node_base(xmlDocPtr doc, xmlNodePtr n, xmlChar **owned)
{
	*owned = NULL;
	if (base_is_url(doc, n))
		return (const char *)doc->URL;
	return (const char *)(*owned = xmlNodeGetBase(doc, n));
}

void
feeds_reader_free(struct feeds_reader *r)
{
	buf_free(&r->raw);
	if (r->html != NULL)
		htmlFreeParserCtxt(r->html);
	r->html = NULL;
}

/* 1 if s holds a character reference or one of HTML's named entity
 * references ("&#8217;", "&amp;", "&mdash;"), which text that was read
 * as HTML should no longer hold. */
static int
has_reference(const char *s)
{
	for (const char *p = strchr(s, '&'); p != NULL; p = strchr(p + 1, '&')) {
		char name[33];
		size_t k = 0;

		if (p[1] == '#') {
			size_t d = p[2] == 'x' || p[2] == 'X' ? strspn(p + 3, "0123456789abcdefABCDEF") +
			    1 : strspn(p + 2, "0123456789");

			if (d > 0 && d < 9 && p[2 + d] == ';' && (p[2] != 'x' || d > 1))
				return 1;
			continue;
		}
		while (k < sizeof(name) - 1 && ((p[1 + k] >= 'a' && p[1 + k] <= 'z') ||
		    (p[1 + k] >= 'A' && p[1 + k] <= 'Z') || (k > 0 && p[1 + k] >= '0' &&
		    p[1 + k] <= '9')))
			k++;
		memcpy(name, p + 1, k);
		name[k] = '\0';
		if (k > 0 && p[1 + k] == ';' && htmlEntityLookup((const xmlChar *)name) != NULL)
			return 1;
	}
	return 0;
}

/* s with '<' written "&lt;": text whose references are to be decoded as
 * HTML's, and whose '<' is text.  NULL when out of memory. */
static char *
lt_escaped(const char *s)
{
	struct buf b;

	buf_init(&b, strlen(s) * 4 + 1);
	for (const char *p = s; *p != '\0'; p++)
		if ((*p == '<' ? buf_puts(&b, "&lt;") : buf_putc(&b, *p)) == -1) {
			buf_free(&b);
			return NULL;
		}
	return buf_steal(&b);
}

/* Text escaped twice over, as plugins and templates do ("&amp;amp;",
 * "&amp;lt;p&amp;gt;", a text title of "&amp;#8217;"): what one reading
 * as HTML left still holds references.  Read once more, as every feed
 * reader does; a literal "<br>" that the first reading produced from
 * "&lt;br&gt;" stays, since it holds no reference. */
static int
decode_again(struct feeds_reader *r, const char *base, size_t max_chars, char *out, size_t n)
{
	char *copy;
	int rc;

	if (!has_reference(out))
		return 0;
	if ((copy = strdup(out)) == NULL)
		return -1;
	rc = feeds_html_text_in(r->html, copy, strlen(copy), base, max_chars, out, n, NULL, 0,
	    NULL);
	free(copy);
	return rc;
}

int
feeds_element_text(xmlDocPtr doc, xmlNodePtr node, enum text_type type, size_t max_chars,
    char *out, size_t n, char **links, size_t *nlinks, struct feeds_reader *r)
{
	const char *raw;
	char *markup = NULL;
	xmlChar *owned;
	int rc = 0;

	out[0] = '\0';
	if (node == NULL)
		return 0;
	raw = type == TT_XHTML ? (markup = xhtml_markup(doc, node, RAW_LONG_MAX)) :
	    feeds_raw_text_in(node, type == TT_HTML ? RAW_LONG_MAX : RAW_SHORT_MAX, &r->raw);
	if (raw == NULL)
		return -1;
	/* Plain text with references in it was escaped once too often. */
	if (type == TT_TEXT && has_reference(raw)) {
		if ((raw = markup = lt_escaped(raw)) == NULL)
			return -1;
		type = TT_HTML;
	}
	if (type == TT_HTML || type == TT_XHTML) {
		const char *base = feeds_node_base(doc, node, &owned);

		/* no context (out of memory): the parser makes its own, as it
		 * would have */
		if (r->html == NULL)
			r->html = htmlNewParserCtxt();
		rc = feeds_html_text_in(r->html, raw, strlen(raw), base, max_chars, out, n, links,
		    links ? FEEDS_ENTRY_LINKS : 0, nlinks);
		if (rc == 0)
			rc = decode_again(r, base, max_chars, out, n);
		xmlFree(owned);
	} else {
		str_squash_space(r->raw.data);
		feeds_clip(r->raw.data, max_chars, 1, out, n);
	}
	free(markup);
	return rc;
}
