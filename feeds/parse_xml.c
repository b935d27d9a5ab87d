/* parse_xml.c - a feed's bytes to an XML document, forgiving what feed
 * readers forgive: white space before the XML declaration, HTML's named
 * entities, a Latin-1 or windows-1252 document that does not say so; and
 * saying what a JSON Feed is when one comes instead (for parse.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>

#include "internal.h"

/* The libxml2 options of libraries.md: no network, no entity substitution,
 * no DTD loading, no HUGE (whose absence keeps the depth, text-size and
 * entity-amplification limits). */
#define XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA)

/* Copies buf into out with HTML's named entity references (&nbsp;
 * &rsquo; &eacute;), which XML does not define, made character references
 * (&#160;): feeds written by hand or by careless templates use them, and
 * browsers and feed readers take them.  libxml2's HTML table says which
 * names exist; an unknown name, XML's own five and CDATA sections (where
 * a reference is text) are left as they are.  A reference grows by 3
 * bytes at most ("&ne;" -> "&#8800;"). */
static int
numeric_entities(const char *buf, size_t len, struct buf *out)
{
	static const char *const xml_own[] = { "amp", "lt", "gt", "quot", "apos" };
	const char *p = buf, *end = buf + len;
	const char *cdata = memmem(buf, len, "<![CDATA[", 9); /* the next one */

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const htmlEntityDesc *ent;
		char name[33];
		size_t n = 0;
		int own = 0;

		if (cdata != NULL && (amp == NULL || cdata < amp)) {
			const char *close = memmem(cdata, (size_t)(end - cdata), "]]>", 3);
			const char *after = close ? close + 3 : end;

			if (buf_append(out, p, (size_t)(after - p)) == -1)
				return -1;
			p = after;
			cdata = memmem(p, (size_t)(end - p), "<![CDATA[", 9);
			continue;
		}
		if (amp == NULL)
			return buf_append(out, p, (size_t)(end - p));
		if (buf_append(out, p, (size_t)(amp - p)) == -1)
			return -1;
		p = amp + 1;
		while (p + n < end && n < sizeof(name) - 1 &&
		    ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
		    (n > 0 && p[n] >= '0' && p[n] <= '9')))
			n++;
		memcpy(name, p, n);
		name[n] = '\0';
		for (size_t i = 0; i < sizeof(xml_own) / sizeof(xml_own[0]); i++)
			own |= strcmp(name, xml_own[i]) == 0;
		if (n > 0 && p + n < end && p[n] == ';' && !own &&
		    (ent = htmlEntityLookup((const xmlChar *)name)) != NULL) {
			if (buf_printf(out, "&#%u;", ent->value) == -1)
				return -1;
			p += n + 1;
		} else if (buf_append(out, "&", 1) == -1) {
			return -1;
		}
	}
	return 0;
}

/* The start of the document without the white space some platforms put
 * before its XML declaration (a WordPress theme or plugin file ending in a
 * blank line: "XML declaration allowed only at the start"), which every
 * feed reader forgives.  A UTF-8 byte order mark before that space goes
 * too: it says nothing the declaration's absence of one does not. */
static const char *
skip_lead(const char *buf, size_t *len)
{
	size_t i = *len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0 ? 3 : 0, bom = i;

	while (i < *len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	if (i == bom || *len - i < 5 || memcmp(buf + i, "<?xml", 5) != 0)
		return buf;
	*len -= i;
	return buf + i;
}

/* 1 if buf holds at least one valid multi-byte UTF-8 sequence. */
static int
has_utf8_multibyte(const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf;

	for (size_t i = 0; i + 1 < len; i++) {
		size_t n = p[i] >= 0xf0 ? 4 : p[i] >= 0xe0 ? 3 : p[i] >= 0xc2 ? 2 : 0;

		if (n > 0 && i + n <= len && str_valid_utf8(buf + i, n))
			return 1;
	}
	return 0;
}

/* The encoding to read the document in when it was not well-formed: a
 * document that declares no encoding (or UTF-8) but is not UTF-8 at all
 * is a Latin-1 or windows-1252 one that forgot to say so (feed readers and
 * browsers read it as windows-1252, a superset of Latin-1's printable
 * characters); NULL when that is not the failure. */
static const char *
retry_encoding(xmlParserCtxtPtr ctxt, const xmlError *x, const char *buf, size_t len)
{
	const char *declared = (const char *)ctxt->encoding;

	if (x == NULL || (x->code != XML_ERR_INVALID_CHAR && x->code != XML_ERR_INVALID_ENCODING))
		return NULL;
	if (declared != NULL && !feeds_ieq(declared, "UTF-8") && !feeds_ieq(declared, "UTF8"))
		return NULL;
	if (str_valid_utf8(buf, len) || has_utf8_multibyte(buf, len))
		return NULL; /* UTF-8 with a few stray bytes: no one encoding reads it */
	return "windows-1252";
}

/* A JSON Feed (jsonfeed.org) where RSS or Atom was expected. */
static int
looks_like_json_feed(const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	return i < len && buf[i] == '{' && memmem(buf, len < 4096 ? len : 4096, "jsonfeed.org",
	    12) != NULL;
}

/* Parses len bytes of buf (at most FEEDS_PARSE_MAX); a document that fails
 * for want of an entity is read again with HTML's entities made character
 * references, one in no encoding it names with windows-1252's.  NULL with
 * a reason in e. */
xmlDocPtr
feeds_read_xml(const char *buf, size_t len, const char *base_url, struct err *e)
{
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	xmlDocPtr doc = NULL;
	xmlErrorPtr x;
	struct buf fixed;
	const char *retry;
	char msg[160];

	if (ctxt == NULL)
		goto oom;
	buf = skip_lead(buf, &len);
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, base_url, NULL, XML_OPTIONS);
	x = xmlCtxtGetLastError(ctxt);
	if (doc == NULL && (retry = retry_encoding(ctxt, x, buf, len)) != NULL) {
		xmlFreeParserCtxt(ctxt);
		if ((ctxt = xmlNewParserCtxt()) == NULL)
			goto oom;
		doc = xmlCtxtReadMemory(ctxt, buf, (int)len, base_url, retry, XML_OPTIONS);
		x = xmlCtxtGetLastError(ctxt);
	}
	if (doc == NULL && x != NULL && (x->code == XML_ERR_UNDECLARED_ENTITY ||
	    x->code == XML_WAR_UNDECLARED_ENTITY)) {
		buf_init(&fixed, len / 4 * 7 + 8);
		if (numeric_entities(buf, len, &fixed) == -1) {
			buf_free(&fixed);
			goto oom;
		}
		xmlFreeParserCtxt(ctxt);
		if ((ctxt = xmlNewParserCtxt()) == NULL) {
			buf_free(&fixed);
			goto oom;
		}
		doc = xmlCtxtReadMemory(ctxt, buf_str(&fixed), (int)fixed.len, base_url, NULL,
		    XML_OPTIONS);
		x = xmlCtxtGetLastError(ctxt);
		buf_free(&fixed);
	}
	if (doc == NULL && looks_like_json_feed(buf, len)) {
		err_set(e, "not a feed Things reads: a JSON Feed (Things reads RSS and Atom; "
		    "the blog's page usually names an RSS feed as well)");
	} else if (doc == NULL) {
		snprintf(msg, sizeof(msg), "%s", x && x->message ? x->message : "empty document");
		str_squash_space(msg);
		err_set(e, "not well-formed XML (line %d: %s)", x ? x->line : 0, msg);
	}
	xmlFreeParserCtxt(ctxt);
	return doc;
oom:
	if (ctxt)
		xmlFreeParserCtxt(ctxt);
	err_set(e, "out of memory");
	return NULL;
}
