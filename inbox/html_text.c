/*
 * html_text.c - the text a person reads in an HTML mail, for classifying.
 *
 * libxml2's HTML parser builds the tree (entities decoded, broken markup
 * recovered, no network); the walk here only decides what becomes text.
 * Quoted material is kept but marked as "> " lines, the same way plain-text
 * replies mark it, so that one quote stripper serves both.
 */
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "parse_internal.h"

#define HTML_MAX_INPUT ((size_t)2 << 20)
#define HTML_MAX_DEPTH 256

struct html_out {
	struct buf *b;
	int quote;          /* blockquote depth */
	int started;        /* something was written */
	int line_start;     /* the next byte starts a line */
	int pending_nl;     /* line breaks owed before the next text */
	int pending_space;
	int pre;
	int oom;
};

static const char *const skipped[] = {
	"script", "style", "head", "title", "noscript", "template", "svg", "object", "iframe",
	"select", "button",
};
static const char *const blocks[] = {
	"address", "article", "aside", "dd", "div", "dl", "dt", "fieldset", "figcaption",
	"figure", "footer", "form", "header", "li", "main", "nav", "ol", "section", "table",
	"tbody", "thead", "tfoot", "tr", "ul", "center",
};
static const char *const paragraphs[] = {
	"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote",
};

static int
name_in(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(name, list[i]) == 0)
			return 1;
	return 0;
}
#define NAME_IN(name, list) name_in((name), (list), sizeof(list) / sizeof((list)[0]))

static void
put(struct html_out *o, const char *s, size_t n)
{
	if (o->oom || n == 0)
		return;
	if (buf_append_clipped(o->b, s, n, NULL) == -1)
		o->oom = 1;
}

static void
line_break(struct html_out *o, int n)
{
	if (o->started && o->pending_nl < n)
		o->pending_nl = n;
	o->pending_space = 0;
}

/* Writes what is owed before a visible character: breaks, quote marks,
 * a space. */
static void
settle(struct html_out *o)
{
	if (o->pending_nl > 0) {
		put(o, "\n\n", o->pending_nl > 1 ? 2 : 1);
		o->pending_nl = 0;
		o->line_start = 1;
		o->pending_space = 0;
	}
	if (o->line_start) {
		for (int i = 0; i < o->quote; i++)
			put(o, "> ", 2);
		o->line_start = 0;
		o->pending_space = 0;
	}
	if (o->pending_space) {
		put(o, " ", 1);
		o->pending_space = 0;
	}
	o->started = 1;
}

static void
text(struct html_out *o, const char *s)
{
	for (const char *p = s; *p && !o->oom; p++) {
		const char *run = p;

		if (*p == '\n' && o->pre) {
			if (o->started && o->pending_nl < 2)
				o->pending_nl++; /* a blank line in <pre> stays one */
			continue;
		}
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f') {
			if (o->pre) {
				settle(o);
				put(o, p, 1);
			} else {
				o->pending_space = o->started;
			}
			continue;
		}
		while (p[1] && !(p[1] == ' ' || p[1] == '\t' || p[1] == '\n' || p[1] == '\r' ||
		    p[1] == '\f'))
			p++;
		settle(o);
		put(o, run, (size_t)(p - run) + 1);
	}
}

static int
is_quote_container(xmlNode *n)
{
	xmlChar *cls;
	int q;

	if (strcasecmp((const char *)n->name, "blockquote") == 0)
		return 1;
	cls = xmlGetProp(n, (const xmlChar *)"class");
	if (cls == NULL)
		return 0;
	/* Gmail, Yahoo and Thunderbird wrap the attribution and the quote. */
	q = strstr((const char *)cls, "gmail_quote") != NULL ||
	    strstr((const char *)cls, "yahoo_quoted") != NULL ||
	    strstr((const char *)cls, "moz-cite-prefix") != NULL;
	xmlFree(cls);
	return q;
}

static int
is_web_link(const char *href)
{
	return strncasecmp(href, "http://", 7) == 0 || strncasecmp(href, "https://", 8) == 0;
}

/* After a link's text: its target, unless the text already shows it. */
static void
link_target(struct html_out *o, xmlNode *a, size_t text_start)
{
	xmlChar *href = xmlGetProp(a, (const xmlChar *)"href");
	const char *shown;
	size_t hl;

	if (href == NULL)
		return;
	hl = strlen((const char *)href);
	shown = text_start < o->b->len ? o->b->data + text_start : "";
	while (hl > 0 && ((const char *)href)[hl - 1] == '/')
		hl--;
	if (is_web_link((const char *)href) && hl > 0 && hl <= INBOX_MAX_URL &&
	    strchr((const char *)href, '\n') == NULL &&
	    memmem(shown, strlen(shown), href, hl) == NULL) {
		settle(o);
		put(o, " <", 2);
		put(o, (const char *)href, strlen((const char *)href));
		put(o, ">", 1);
	}
	xmlFree(href);
}

static void
walk(struct html_out *o, xmlNode *n, int depth)
{
	for (; n != NULL && !o->oom && o->b->len < o->b->max; n = n->next) {
		const char *name;
		int block, para, quote, pre;
		size_t text_start;

		if (n->type == XML_TEXT_NODE && n->content != NULL) {
			text(o, (const char *)n->content);
			continue;
		}
		if (n->type != XML_ELEMENT_NODE || n->name == NULL)
			continue;
		name = (const char *)n->name;
		if (NAME_IN(name, skipped))
			continue;
		if (strcasecmp(name, "br") == 0 || strcasecmp(name, "hr") == 0) {
			line_break(o, 1);
			continue;
		}
		block = NAME_IN(name, blocks);
		para = NAME_IN(name, paragraphs);
		quote = is_quote_container(n);
		pre = strcasecmp(name, "pre") == 0;
		if (block || para)
			line_break(o, para ? 2 : 1);
		if (strcasecmp(name, "td") == 0 || strcasecmp(name, "th") == 0)
			o->pending_space = o->started;
		if (strcasecmp(name, "li") == 0) {
			settle(o);
			put(o, "- ", 2);
		}
		o->quote += quote;
		o->pre += pre;
		text_start = o->b->len;
		if (depth < HTML_MAX_DEPTH)
			walk(o, n->children, depth + 1);
		if (strcasecmp(name, "a") == 0)
			link_target(o, n, text_start);
		if (block || para || quote)
			line_break(o, para ? 2 : 1);
		o->quote -= quote;
		o->pre -= pre;
	}
}

int
html_to_text(const char *html, size_t len, struct buf *b)
{
	struct html_out o = { .b = b, .line_start = 1 };
	htmlDocPtr doc;

	if (len > HTML_MAX_INPUT)
		len = HTML_MAX_INPUT;
	if (len == 0)
		return 0;
	/* The charset was dealt with before: the bytes are UTF-8 whatever a
	 * <meta> says.  NONET: never fetch anything a message names. */
	doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
	    HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
	if (doc == NULL)
		return 0; /* nothing libxml2 could read: no text, not an error */
	walk(&o, doc->children, 0);
	xmlFreeDoc(doc);
	if (!o.oom && o.started && b->len > 0 && b->data[b->len - 1] != '\n')
		put(&o, "\n", 1);
	return o.oom ? -1 : 0;
}
