/* text.c - feed text to plain text: HTML stripped, spaces squashed, clipped. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>
#include <libxml/HTMLparser.h>

#include "internal.h"

/* Feed HTML beyond this is not read for an excerpt: 300 characters come
 * from the start, and a post is rarely this long before its first words. */
#define HTML_INPUT_MAX ((size_t)256 << 10)
#define XML_TEXT_DEPTH 64
#define XML_TEXT_NODES 100000

static const char ellipsis[] = "\xe2\x80\xa6";

static int
is_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/* feeds_clip, for text that may already have been cut (cut_before set):
 * then it gets its ellipsis even if what is left fits.  The result goes
 * into out, not into s: with the ellipsis it can be longer than the part
 * of s it replaces, and s has no room to spare. */
static void
clip(const char *s, size_t max_chars, int word, int cut_before, char *out, size_t n)
{
	size_t len = strlen(s), chars = 0, cut = 0, i, max_bytes = n - 1;

	for (i = 0; i < len; i++)
		if (!is_cont((unsigned char)s[i]))
			chars++;
	if (!cut_before && chars <= max_chars && len <= max_bytes) {
		memcpy(out, s, len + 1);
		return;
	}
	/* The last character boundary that leaves room for the ellipsis. */
	chars = 0;
	for (i = 0; i < len; i++) {
		if (is_cont((unsigned char)s[i]))
			continue;
		if (chars + 1 > max_chars || i + sizeof(ellipsis) - 1 > max_bytes)
			break;
		cut = i;
		chars++;
	}
	if (word) {
		const char *sp = memrchr(s, ' ', cut);

		if (sp != NULL && (size_t)(sp - s) > cut / 2)
			cut = (size_t)(sp - s);
	}
	while (cut > 0 && (s[cut - 1] == ' ' || s[cut - 1] == ',' || s[cut - 1] == ';' ||
	    s[cut - 1] == ':'))
		cut--;
	memcpy(out, s, cut);
	memcpy(out + cut, ellipsis, sizeof(ellipsis));
}

void
feeds_clip(const char *s, size_t max_chars, int word, char *out, size_t n)
{
	clip(s, max_chars, word, 0, out, n);
}

/* Text accumulated with runs of white space collapsed as it comes. */
struct text_acc {
	struct buf b;
	size_t chars;
	size_t max_chars;   /* stop after max_chars + 1: enough to know it was cut */
	int space;          /* a space is due before the next visible character */
	int full;
};

static int
acc_add(struct text_acc *t, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p && !t->full; p++) {
		if (*p <= 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] == 0xa0)) {
			if (p[0] == 0xc2)
				p++;
			t->space = t->b.len > 0;
			continue;
		}
		if (!is_cont(*p)) {
			if (t->chars + (t->space ? 2 : 1) > t->max_chars + 1) {
				t->full = 1;
				break;
			}
			if (t->space) {
				if (buf_putc(&t->b, ' ') == -1)
					return -1;
				t->chars++;
				t->space = 0;
			}
			t->chars++;
		}
		/* stray continuation bytes count as no character: the buffer,
		 * not the count, is what fills up then */
		if (t->b.len + 1 >= t->b.max) {
			t->full = 1;
			break;
		}
		if (buf_putc(&t->b, (char)*p) == -1)
			return -1;
	}
	return 0;
}

static int
html_skipped(const xmlChar *name)
{
	static const char *const skip[] = { "script", "style", "noscript", "template", "head",
		"iframe", "object", "svg", "math" };

	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (xmlStrcasecmp(name, (const xmlChar *)skip[i]) == 0)
			return 1;
	return 0;
}

/* Elements a reader does not see as part of the text: a theme's "Continue
 * reading" link (WordPress's more-link) and text meant for screen readers
 * only (its "screen-reader-text" title after it).  Class tokens compared
 * whole. */
static int
html_hidden(xmlNodePtr node)
{
	static const char *const hidden[] = { "more-link", "read-more", "screen-reader-text",
		"sr-only", "visually-hidden" };
	char *cls;
	int found = 0;

	if (node->properties == NULL)   /* most elements: no attribute to read */
		return 0;
	cls = feeds_attr(node, "class");
	for (char *tok = cls, *end; tok != NULL && *tok != '\0' && !found; tok = end) {
		size_t len;

		tok += strspn(tok, " \t\r\n");
		len = strcspn(tok, " \t\r\n");
		end = tok + len;
		for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]) && len > 0; i++)
			if (strlen(hidden[i]) == len && strncasecmp(tok, hidden[i], len) == 0)
				found = 1;
	}
	free(cls);
	return found;
}

/* Elements that separate words even where the source has no space. */
static int
html_block(const xmlChar *name)
{
	static const char *const block[] = { "p", "br", "div", "li", "ul", "ol", "h1", "h2",
		"h3", "h4", "h5", "h6", "blockquote", "pre", "tr", "td", "th", "table", "hr",
		"section", "article", "header", "footer", "figure", "figcaption", "dt", "dd" };

	for (size_t i = 0; i < sizeof(block) / sizeof(block[0]); i++)
		if (xmlStrcasecmp(name, (const xmlChar *)block[i]) == 0)
			return 1;
	return 0;
}

static int
add_link(xmlNodePtr a, const char *base, char **links, size_t max, size_t *n)
{
	char *href, *url;

	if (links == NULL || *n >= max || (href = feeds_attr(a, "href")) == NULL)
		return 0;
	url = feeds_resolve_url(base, href);
	free(href);
	if (url == NULL)
		return 0;
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(links[i], url) == 0) {
			free(url);
			return 0;
		}
	}
	links[(*n)++] = url;
	return 0;
}

/* Walks the tree without recursion: the HTML parser accepts any depth. */
static int
html_walk(htmlDocPtr doc, const char *base, struct text_acc *t, char **links, size_t nmax,
    size_t *nlinks)
{
	xmlNodePtr top = (xmlNodePtr)doc, node = doc->children;

	while (node != NULL) {
		int descend = 0;

		if (node->type == XML_ELEMENT_NODE && !html_skipped(node->name) &&
		    !html_hidden(node)) {
			descend = 1;
			if (html_block(node->name))
				t->space = t->b.len > 0;
			if (xmlStrcasecmp(node->name, (const xmlChar *)"a") == 0 &&
			    add_link(node, base, links, nmax, nlinks) == -1)
				return -1;
		} else if ((node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) &&
		    node->content != NULL) {
			if (acc_add(t, (const char *)node->content) == -1)
				return -1;
		}
		if (descend && node->children != NULL) {
			node = node->children;
			continue;
		}
		while (node != top && node->next == NULL) {
			node = node->parent;
			if (node != NULL && node->type == XML_ELEMENT_NODE && html_block(node->name))
				t->space = t->b.len > 0;
		}
		node = node == top ? NULL : node->next;
	}
	return 0;
}

int
feeds_html_text(const char *html, size_t len, const char *base, size_t max_chars, char *out,
    size_t n, char **links, size_t nlinks_max, size_t *nlinks)
{
	struct text_acc t;
	htmlDocPtr doc;
	int rc = 0;

	if (nlinks)
		*nlinks = 0;
	out[0] = '\0';
	if (len > HTML_INPUT_MAX)
		len = HTML_INPUT_MAX;
	if (len == 0)
		return 0;
	memset(&t, 0, sizeof(t));
	buf_init(&t.b, max_chars * 4 + 16);
	t.max_chars = max_chars;
	doc = htmlReadMemory(html, (int)len, base, "UTF-8", HTML_PARSE_RECOVER |
	    HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NODEFDTD |
	    HTML_PARSE_IGNORE_ENC);
	if (doc == NULL)
		goto out; /* nothing the parser could make sense of: no text */
	rc = html_walk(doc, base, &t, links, nlinks_max, nlinks);
	xmlFreeDoc(doc);
	if (rc == 0 && t.b.len > 0)
		clip(t.b.data, max_chars, 1, t.full, out, n);
	if (rc == -1 && nlinks != NULL) {
		for (size_t i = 0; i < *nlinks; i++)
			free(links[i]);
		*nlinks = 0;
	}
out:
	buf_free(&t.b);
	return rc;
}

static int
xml_skipped(xmlNodePtr node)
{
	return xmlStrcasecmp(node->name, (const xmlChar *)"script") == 0 ||
	    xmlStrcasecmp(node->name, (const xmlChar *)"style") == 0;
}

/* Appends s to b, as much as fits, cut at a character boundary. */
static int
append_bounded(struct buf *b, const char *s, int *full)
{
	size_t len = strlen(s);

	if (b->len + len > b->max) {
		len = b->max - b->len;
		while (len > 0 && is_cont((unsigned char)s[len]))
			len--;
		*full = 1;
	}
	return buf_append(b, s, len);
}

int
feeds_xml_text(xmlNodePtr node, struct buf *b)
{
	xmlNodePtr stack[XML_TEXT_DEPTH], cur = node->children;
	size_t sp = 0, visits = 0;
	int full = 0;

	/* An explicit stack: entity content hangs off the entity, not the
	 * reference, so parent pointers do not lead back. */
	while (!full && visits++ < XML_TEXT_NODES) {
		xmlNodePtr child = NULL;

		if (cur == NULL) {
			if (sp == 0)
				break;
			cur = stack[--sp]->next;
			continue;
		}
		if ((cur->type == XML_TEXT_NODE || cur->type == XML_CDATA_SECTION_NODE) &&
		    cur->content != NULL) {
			if (append_bounded(b, (const char *)cur->content, &full) == -1)
				return -1;
		} else if (cur->type == XML_ELEMENT_NODE && !xml_skipped(cur)) {
			child = cur->children;
		} else if (cur->type == XML_ENTITY_REF_NODE && cur->children != NULL) {
			child = ((xmlEntityPtr)cur->children)->children;
		}
		if (child != NULL && sp < XML_TEXT_DEPTH) {
			stack[sp++] = cur;
			cur = child;
		} else {
			cur = cur->next;
		}
	}
	return 0;
}

int
feeds_key(const char *s, size_t len, int hash, char *out, struct err *e)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	char *p;

	if (!hash && len <= FEEDS_KEY_MAX) {
		memcpy(out, s, len);
		out[len] = '\0';
		return 0;
	}
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, s, len, md) != 0)
		return err_set(e, "sha256 failed");
	p = out + snprintf(out, FEEDS_KEY_MAX + 1, "sha256:");
	for (size_t i = 0; i < sizeof(md); i++) {
		*p++ = hex[md[i] >> 4];
		*p++ = hex[md[i] & 15];
	}
	*p = '\0';
	return 0;
}

int
feeds_ieq(const char *a, const char *b)
{
	return a != NULL && b != NULL && xmlStrcasecmp((const xmlChar *)a, (const xmlChar *)b) == 0;
}

char *
feeds_attr(xmlNodePtr node, const char *name)
{
	xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *)name);
	char *out;

	if (v == NULL)
		return NULL;
	out = strdup((const char *)v);
	xmlFree(v);
	if (out != NULL)
		str_squash_space(out);
	return out;
}
