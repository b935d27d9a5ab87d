/* text.c - feed text to plain text: HTML stripped, spaces squashed, clipped. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>
#include <libxml/HTMLparser.h>

#include "internal.h"

/* Read beyond an excerpt's characters, for a footer (its title and blog
 * or publication included) to be seen whole, and cut, before clipping. */
#define FOOTER_CHARS_MAX 500

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

/* feeds_clip, for text of len bytes and chars characters that may already
 * have been cut (cut_before set): then it gets its ellipsis even if what
 * is left fits.  The result goes into out, not into s: with the ellipsis
 * it can be longer than the part of s it replaces, and s has no room to
 * spare. */
static void
clip(const char *s, size_t len, size_t chars, size_t max_chars, int word, int cut_before,
    char *out, size_t n)
{
	size_t cut = 0, i, max_bytes = n - 1;

	if (!cut_before && chars <= max_chars && len <= max_bytes) {
		memcpy(out, s, len);   /* s[len] may be text cut off (a footer) */
		out[len] = '\0';
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

static size_t
count_chars(const char *s, size_t len)
{
	size_t chars = 0;

	for (size_t i = 0; i < len; i++)
		chars += !is_cont((unsigned char)s[i]);
	return chars;
}

void
feeds_clip(const char *s, size_t max_chars, int word, char *out, size_t n)
{
	size_t len = strlen(s);

	len = feeds_without_footer(s, len, 0);
	clip(s, len, count_chars(s, len), max_chars, word, 0, out, n);
}

/* Text accumulated with runs of white space collapsed as it comes, in
 * at most max bytes.  An excerpt's or a title's text fits the buffer on
 * the stack; only a caller asking for more characters makes it grow. */
struct text_acc {
	char *data;         /* small, or heap once grown */
	size_t len, cap, max;
	size_t chars;
	size_t max_chars;   /* stop after max_chars + 1: enough to know it was cut */
	int space;          /* a space is due before the next visible character */
	int full;
	size_t blocks[2];   /* where the last two blocks (paragraphs) ended */
	char *heap;
	char small[4096];
};

static void
acc_init(struct text_acc *t, size_t max_chars)
{
	t->data = t->small;
	t->data[0] = '\0';
	t->len = t->chars = 0;
	t->cap = sizeof(t->small);
	t->max = max_chars * 4 + 16;
	t->max_chars = max_chars;
	t->space = t->full = 0;
	t->blocks[0] = t->blocks[1] = 0;
	t->heap = NULL;
}

/* A block element starts or ends: what follows is a new paragraph. */
static void
acc_block(struct text_acc *t)
{
	t->space = t->len > 0;
	if (t->len != t->blocks[1]) {
		t->blocks[0] = t->blocks[1];
		t->blocks[1] = t->len;
	}
}

/* Where the last paragraph of the text starts (0 for text without
 * markup): after the last block that ended before its end. */
static size_t
acc_last_paragraph(const struct text_acc *t)
{
	return t->len == t->blocks[1] ? t->blocks[0] : t->blocks[1];
}

/* Room for want bytes and the NUL. */
static int
acc_reserve(struct text_acc *t, size_t want)
{
	size_t cap = t->cap;
	char *p;

	if (want < t->cap)
		return 0;
	while (cap <= want)
		cap *= 2;
	if ((p = malloc(cap)) == NULL)
		return -1;
	memcpy(p, t->data, t->len + 1);
	free(t->heap);
	t->data = t->heap = p;
	t->cap = cap;
	return 0;
}

static int
is_space_at(const unsigned char *p, const unsigned char *end)
{
	return *p <= 0x20 || *p == 0x7f || (p[0] == 0xc2 && p + 1 < end && p[1] == 0xa0);
}

/* Appends the n bytes of s, white space (and no-break spaces) collapsed:
 * a byte at a time, but into memory reserved for the whole run at once. */
static int
acc_add(struct text_acc *t, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	size_t len = t->len, chars = t->chars, max = t->max, limit = t->max_chars + 1;
	size_t want = len + n + 1 < max ? len + n + 1 : max;
	int space = t->space;
	char *d;

	if (t->full || n == 0)
		return 0;
	if (acc_reserve(t, want) == -1)
		return -1;
	d = t->data;
	for (; p < end; p++) {
		/* a run of visible ASCII, one character a byte, all at once:
		 * as far as the byte by byte path below would take it */
		if (!space && *p > 0x20 && *p < 0x7f) {
			size_t k = 0, lim = (size_t)(end - p);

			if (lim > limit - chars)
				lim = limit - chars;
			if (lim > max - 1 - len)
				lim = max - 1 - len;
			while (k < lim && p[k] > 0x20 && p[k] < 0x7f)
				k++;
			memcpy(d + len, p, k);
			len += k;
			chars += k;
			p += k;
			if (p == end)
				break;
		}
		if (is_space_at(p, end)) {
			if (p[0] == 0xc2)
				p++;
			space = len > 0;
			continue;
		}
		if (!is_cont(*p)) {
			if (chars + (space ? 2 : 1) > limit) {
				t->full = 1;
				break;
			}
			if (space) {
				d[len++] = ' ';
				chars++;
				space = 0;
			}
			chars++;
		}
		/* stray continuation bytes count as no character: the buffer,
		 * not the count, is what fills up then */
		if (len + 1 >= max) {
			t->full = 1;
			break;
		}
		d[len++] = (char)*p;
	}
	d[len] = '\0';
	t->len = len;
	t->chars = chars;
	t->space = space;
	return 0;
}

/* What an element is to the text: its name compared without regard to
 * ASCII case, as xmlStrcasecmp did, but by length first. */
enum html_kind { HK_TEXT, HK_SKIPPED, HK_BLOCK, HK_LINK };

static enum html_kind
html_kind(const xmlChar *name)
{
	/* skipped: not text a reader sees; block: separates words even where
	 * the source has no space */
	static const struct {
		const char *name;
		unsigned char len;
		unsigned char kind;
	} names[] = {
		{ "a", 1, HK_LINK }, { "p", 1, HK_BLOCK },
		{ "br", 2, HK_BLOCK }, { "li", 2, HK_BLOCK }, { "ul", 2, HK_BLOCK },
		{ "ol", 2, HK_BLOCK }, { "h1", 2, HK_BLOCK }, { "h2", 2, HK_BLOCK },
		{ "h3", 2, HK_BLOCK }, { "h4", 2, HK_BLOCK }, { "h5", 2, HK_BLOCK },
		{ "h6", 2, HK_BLOCK }, { "tr", 2, HK_BLOCK }, { "td", 2, HK_BLOCK },
		{ "th", 2, HK_BLOCK }, { "hr", 2, HK_BLOCK }, { "dt", 2, HK_BLOCK },
		{ "dd", 2, HK_BLOCK },
		{ "div", 3, HK_BLOCK }, { "pre", 3, HK_BLOCK }, { "svg", 3, HK_SKIPPED },
		{ "head", 4, HK_SKIPPED }, { "math", 4, HK_SKIPPED },
		{ "style", 5, HK_SKIPPED }, { "table", 5, HK_BLOCK },
		{ "script", 6, HK_SKIPPED }, { "iframe", 6, HK_SKIPPED },
		{ "object", 6, HK_SKIPPED }, { "header", 6, HK_BLOCK }, { "footer", 6, HK_BLOCK },
		{ "figure", 6, HK_BLOCK },
		{ "section", 7, HK_BLOCK }, { "article", 7, HK_BLOCK },
		{ "noscript", 8, HK_SKIPPED }, { "template", 8, HK_SKIPPED },
		{ "blockquote", 10, HK_BLOCK }, { "figcaption", 10, HK_BLOCK },
	};
	char low[11];
	size_t len;

	for (len = 0; name[len] != '\0'; len++) {
		if (len == sizeof(low))
			return HK_TEXT;
		low[len] = name[len] >= 'A' && name[len] <= 'Z' ? (char)(name[len] + 32) :
		    (char)name[len];
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && names[i].len <= len; i++)
		if (names[i].len == len && memcmp(names[i].name, low, len) == 0)
			return (enum html_kind)names[i].kind;
	return HK_TEXT;
}

/* The value of node's attribute name (no namespace) as libxml2 stores it
 * when it is one text node, the usual case, so that it need not be copied;
 * NULL with *other set when it is anything else (entities, a DTD's
 * default), for feeds_attr to read. */
static const char *
attr_text(xmlNodePtr node, const char *name, int *other)
{
	*other = 0;
	for (xmlAttrPtr a = node->properties; a != NULL; a = a->next) {
		if (a->ns != NULL || !xmlStrEqual(a->name, (const xmlChar *)name))
			continue;
		if (a->type == XML_ATTRIBUTE_NODE && a->children != NULL &&
		    a->children->next == NULL && (a->children->type == XML_TEXT_NODE ||
		    a->children->type == XML_CDATA_SECTION_NODE) && a->children->content != NULL)
			return (const char *)a->children->content;
		*other = 1;
		return NULL;
	}
	*other = node->doc != NULL && (node->doc->intSubset != NULL ||
	    node->doc->extSubset != NULL);
	return NULL;
}

/* Elements a reader does not see as part of the text: a theme's "Continue
 * reading" link (WordPress's more-link) and text meant for screen readers
 * only (its "screen-reader-text" title after it).  Class tokens compared
 * whole; white space as str_squash_space sees it separates them. */
static int
html_hidden(xmlNodePtr node)
{
	static const char *const hidden[] = { "more-link", "read-more", "screen-reader-text",
		"sr-only", "visually-hidden" };
	const unsigned char *tok;
	char *copy = NULL;
	int found = 0, other;

	if (node->properties == NULL)   /* most elements: no attribute to read */
		return 0;
	tok = (const unsigned char *)attr_text(node, "class", &other);
	if (other)
		tok = (const unsigned char *)(copy = feeds_attr(node, "class"));
	while (tok != NULL && *tok != '\0' && !found) {
		size_t len = 0;

		while (*tok != '\0' && (*tok <= 0x20 || *tok == 0x7f))
			tok++;
		while (tok[len] > 0x20 && tok[len] != 0x7f)
			len++;
		for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]) && len > 0; i++)
			if (strlen(hidden[i]) == len && strncasecmp((const char *)tok, hidden[i],
			    len) == 0)
				found = 1;
		tok += len;
	}
	free(copy);
	return found;
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

		if (node->type == XML_ELEMENT_NODE) {
			enum html_kind kind = html_kind(node->name);

			if (kind != HK_SKIPPED && !html_hidden(node)) {
				descend = 1;
				if (kind == HK_BLOCK)
					acc_block(t);
				if (kind == HK_LINK && add_link(node, base, links, nmax, nlinks) == -1)
					return -1;
			}
		} else if ((node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) &&
		    node->content != NULL) {
			if (acc_add(t, (const char *)node->content,
			    strlen((const char *)node->content)) == -1)
				return -1;
		}
		if (descend && node->children != NULL) {
			node = node->children;
			continue;
		}
		while (node != top && node->next == NULL) {
			node = node->parent;
			if (node != NULL && node->type == XML_ELEMENT_NODE &&
			    html_kind(node->name) == HK_BLOCK)
				acc_block(t);
		}
		node = node == top ? NULL : node->next;
	}
	return 0;
}

/* 1 if the HTML parser would make the len bytes of s one text node of the
 * same bytes: no markup, no reference, and nothing its reader changes or
 * drops (invalid UTF-8, which sends it to Latin-1; characters outside
 * XML's Char, NUL included; a byte order mark at the start, which it
 * skips).  Feed titles and plain-text descriptions are such text. */
static int
plain_text(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		return 0;
	while (p < end) {
		unsigned c = *p;

		if (c < 0x80) {
			if (c == '<' || c == '&' || (c < 0x20 && c != '\t' && c != '\n' && c != '\r'))
				return 0;
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf && end - p >= 2 && is_cont(p[1])) {
			p += 2;
		} else if (c >= 0xe0 && c <= 0xef && end - p >= 3 && is_cont(p[1]) &&
		    is_cont(p[2])) {
			unsigned v = (c & 0x0f) << 12 | (p[1] & 0x3fu) << 6 | (p[2] & 0x3fu);

			if (v < 0x800 || (v >= 0xd800 && v <= 0xdfff) || v == 0xfffe || v == 0xffff)
				return 0;
			p += 3;
		} else if (c >= 0xf0 && c <= 0xf4 && end - p >= 4 && is_cont(p[1]) &&
		    is_cont(p[2]) && is_cont(p[3])) {
			unsigned v = (c & 0x07) << 18 | (p[1] & 0x3fu) << 12 | (p[2] & 0x3fu) << 6 |
			    (p[3] & 0x3fu);

			if (v < 0x10000 || v > 0x10ffff)
				return 0;
			p += 4;
		} else {
			return 0;
		}
	}
	return 1;
}

int
feeds_html_text(const char *html, size_t len, const char *base, size_t max_chars, char *out,
    size_t n, char **links, size_t nlinks_max, size_t *nlinks)
{
	return feeds_html_text_in(NULL, html, len, base, max_chars, out, n, links, nlinks_max,
	    nlinks);
}

int
feeds_html_text_in(xmlParserCtxtPtr ctxt, const char *html, size_t len, const char *base,
    size_t max_chars, char *out, size_t n, char **links, size_t nlinks_max, size_t *nlinks)
{
	static const int options = HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |
	    HTML_PARSE_NOWARNING | HTML_PARSE_NODEFDTD | HTML_PARSE_IGNORE_ENC;
	struct text_acc t;
	htmlDocPtr doc;
	size_t kept;
	int rc = 0;

	if (nlinks)
		*nlinks = 0;
	out[0] = '\0';
	if (len > HTML_INPUT_MAX)
		len = HTML_INPUT_MAX;
	if (len == 0)
		return 0;
	acc_init(&t, max_chars + FOOTER_CHARS_MAX);
	if (plain_text(html, len)) {
		/* the parser's document would be this text in an implied <p>:
		 * no link, and the same characters */
		rc = acc_add(&t, html, len);
	} else {
		doc = ctxt != NULL ? htmlCtxtReadMemory(ctxt, html, (int)len, base, "UTF-8",
		    options) : htmlReadMemory(html, (int)len, base, "UTF-8", options);
		if (doc == NULL)
			goto out; /* nothing the parser could make sense of: no text */
		rc = html_walk(doc, base, &t, links, nlinks_max, nlinks);
		xmlFreeDoc(doc);
	}
	/* a footer is cut only where it is seen whole: at the end of all the
	 * text, not of what was read of it */
	if (rc == 0 && !t.full && (kept = feeds_without_footer(t.data, t.len,
	    acc_last_paragraph(&t))) < t.len) {
		t.len = kept;
		t.data[kept] = '\0';
		t.chars = count_chars(t.data, kept);
	}
	if (rc == 0 && t.len > 0)
		clip(t.data, t.len, t.chars, max_chars, 1, t.full, out, n);
	if (rc == -1 && nlinks != NULL) {
		for (size_t i = 0; i < *nlinks; i++)
			free(links[i]);
		*nlinks = 0;
	}
out:
	free(t.heap);
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
