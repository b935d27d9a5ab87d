/* parse_xml.c - a feed's bytes to an XML document, forgiving what feed
 * readers forgive: white space before the XML declaration, HTML's named
 * entities, a UTF-8 document with windows-1252 bytes in it or a Latin-1 or
 * windows-1252 one that does not say so; and saying what a JSON Feed is
 * when one comes instead (for parse.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>

#include "internal.h"

/* Why libxml2 refused a document (its last error). */
struct xml_failure {
	int code, line;
	char msg[160];
};

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

/* 1 if the document is UTF-8 by its byte order mark, its XML declaration
 * or XML's default (no declaration, or one naming no encoding); 0 if it
 * names or starts like another encoding, which libxml2 converts itself.
 * We read the declaration ourselves because libxml2 2.9.14 has no interface
 * for the encoding a refused document declared (it keeps UTF-8 and UTF-16
 * in ctxt->encoding, the others in ctxt->input->encoding; later versions
 * change both). */
static int
declared_utf8(const char *buf, size_t len)
{
	const char *end, *p;
	size_t n;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		buf += 3, len -= 3;
	else if (len >= 2 && (memcmp(buf, "\xfe\xff", 2) == 0 || memcmp(buf, "\xff\xfe", 2) == 0))
		return 0; /* UTF-16 or UTF-32 */
	if (memchr(buf, '\0', len < 4 ? len : 4) != NULL)
		return 0; /* UTF-16 or UTF-32 without a byte order mark */
	if (len < 5 || memcmp(buf, "<?xml", 5) != 0)
		return 1;
	end = memmem(buf, len < 512 ? len : 512, "?>", 2);
	if (end == NULL)
		end = buf + (len < 512 ? len : 512);
	if ((p = memmem(buf, (size_t)(end - buf), "encoding", 8)) == NULL)
		return 1;
	for (p += 8; p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' ||
	    *p == '='); p++)
		;
	if (p == end || (*p != '"' && *p != '\''))
		return 0; /* not a name we can read: not ours to repair */
	for (n = 1; p + n < end && p[n] != *p; n++)
		;
	return (n - 1 == 5 && strncasecmp(p + 1, "UTF-8", 5) == 0) ||
	    (n - 1 == 4 && strncasecmp(p + 1, "UTF8", 4) == 0);
}

/* 1 if libxml2 refused a UTF-8 document for bytes that are not UTF-8: a
 * document in windows-1252 or Latin-1 that does not say so, or (after a
 * database migration, a paste from a word processor) a UTF-8 one with a few
 * windows-1252 bytes.  libxml2 2.9.14 says XML_ERR_INVALID_CHAR ("Input is
 * not proper UTF-8"), and says it once: it reads the rest as Latin-1, so a
 * later error (an HTML entity) can be the last one; the caller's retries
 * in turn get to this one. */
static int
refused_for_utf8(const struct xml_failure *f, const char *buf, size_t len)
{
	return (f->code == XML_ERR_INVALID_CHAR || f->code == XML_ERR_INVALID_ENCODING) &&
	    !str_valid_utf8(buf, len) && declared_utf8(buf, len);
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

/* One parse of buf with its failure, if any, in *f (code 0: none). */
static xmlDocPtr
read_once(const char *buf, size_t len, const char *base_url, struct xml_failure *f)
{
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	xmlDocPtr doc = NULL;
	xmlErrorPtr x;

	memset(f, 0, sizeof(*f));
	if (ctxt == NULL) {
		f->code = XML_ERR_NO_MEMORY;
		snprintf(f->msg, sizeof(f->msg), "out of memory");
		return NULL;
	}
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, base_url, NULL, XML_OPTIONS);
	if (doc == NULL) {
		x = xmlCtxtGetLastError(ctxt);
		f->code = x ? x->code : XML_ERR_DOCUMENT_EMPTY;
		f->line = x ? x->line : 0;
		snprintf(f->msg, sizeof(f->msg), "%s", x && x->message ? x->message :
		    "empty document");
		str_squash_space(f->msg);
	}
	xmlFreeParserCtxt(ctxt);
	return doc;
}

/* Parses len bytes of buf (at most FEEDS_PARSE_MAX); a document refused for
 * what feed readers forgive is read again, each repair at most once and in
 * the order its error comes: a UTF-8 document (declared or not) with bytes
 * that are not UTF-8 has them read as windows-1252 (util's
 * utf8_repair_append: at most 3 bytes each, the copy at most
 * FEEDS_PARSE_MAX) and one that fails for want of an entity has HTML's
 * entities made character references.  NULL with a reason in e. */
xmlDocPtr
feeds_read_xml(const char *buf, size_t len, const char *base_url, struct err *e)
{
	struct buf repaired, entities;
	struct xml_failure f;
	int did_repair = 0, did_entities = 0;
	const char *cur;
	size_t n;
	xmlDocPtr doc;

	buf = skip_lead(buf, &len);
	cur = buf, n = len;
	buf_init(&repaired, 1);
	buf_init(&entities, 1);
	while ((doc = read_once(cur, n, base_url, &f)) == NULL) {
		if (!did_repair && refused_for_utf8(&f, cur, n)) {
			did_repair = 1;
			buf_init(&repaired, n * 3); /* cannot fill: each byte gives 3 at most */
			if (utf8_repair_append(&repaired, cur, n) == -1)
				goto oom;
			if (repaired.len > FEEDS_PARSE_MAX) {
				err_set(e, "feed too large once its bytes that are not UTF-8 are read "
				    "as windows-1252 (%zu bytes, at most %zu)", repaired.len,
				    FEEDS_PARSE_MAX);
				goto out;
			}
			cur = buf_str(&repaired), n = repaired.len;
		} else if (!did_entities && (f.code == XML_ERR_UNDECLARED_ENTITY ||
		    f.code == XML_WAR_UNDECLARED_ENTITY)) {
			did_entities = 1;
			buf_init(&entities, n / 4 * 7 + 8);
			if (numeric_entities(cur, n, &entities) == -1)
				goto oom;
			cur = buf_str(&entities), n = entities.len;
		} else {
			break;
		}
	}
	if (doc == NULL && f.code == XML_ERR_NO_MEMORY)
		goto oom;
	if (doc == NULL && looks_like_json_feed(buf, len))
		err_set(e, "not a feed Things reads: a JSON Feed (Things reads RSS and Atom; "
		    "the blog's page usually names an RSS feed as well)");
	else if (doc == NULL)
		err_set(e, "not well-formed XML (line %d: %s)", f.line, f.msg);
	goto out;
oom:
	err_set(e, "out of memory");
out:
	buf_free(&repaired);
	buf_free(&entities);
	return doc;
}
