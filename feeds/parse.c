/* parse.c - RSS 2.0, Atom 1.0 and RSS 1.0 documents to entries. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "internal.h"

#define NS_ATOM "http://www.w3.org/2005/Atom"
#define NS_RSS1 "http://purl.org/rss/1.0/"
#define NS_RDF "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define NS_CONTENT "http://purl.org/rss/1.0/modules/content/"
#define NS_DC "http://purl.org/dc/elements/1.1/"
#define NS_MEDIA "http://search.yahoo.com/mrss/"
#define NS_FEEDBURNER "http://rssnamespace.org/feedburner/ext/1.0"

/* The elements of one entry that matter, found in one pass. */
struct entry_nodes {
	xmlNodePtr title, link, id, summary, content, published, updated;
	xmlNodePtr enclosure; /* RSS: a podcast episode's media file */
	xmlNodePtr orig_link; /* feedburner:origLink: the post's own page */
	xmlNodePtr media_description; /* media:description (YouTube's only text) */
	enum text_type title_type, summary_type, content_type;
	const char *rdf_about_owner; /* RSS 1.0: the item carries its id */
};

struct parse {
	xmlDocPtr doc;
	enum feeds_format format;
	const char *elns;   /* namespace of the format's own elements (NULL: none) */
	feeds_entry_fn fn;
	void *arg;
	struct err *e;
	struct feeds_reader reader;
	char feed_title[FEEDS_TITLE_MAX + 1];
	char feed_link[FEEDS_URL_MAX + 1];
	char *keys[FEEDS_MAX_ENTRIES]; /* the keys given so far (see entry_key) */
	size_t nkeys;
};

static int
is_el(xmlNodePtr n, const char *ns, const char *name)
{
	if (n == NULL || n->type != XML_ELEMENT_NODE || !xmlStrEqual(n->name, (const xmlChar *)name))
		return 0;
	if (ns == NULL)
		return n->ns == NULL;
	return n->ns != NULL && xmlStrEqual(n->ns->href, (const xmlChar *)ns);
}

static enum text_type
atom_text_type(xmlNodePtr n)
{
	char *type = feeds_attr(n, "type");
	enum text_type t = TT_TEXT;

	if (feeds_ieq(type, "html") || feeds_ieq(type, "text/html"))
		t = TT_HTML;
	else if (feeds_ieq(type, "xhtml") || feeds_ieq(type, "application/xhtml+xml"))
		t = TT_XHTML;
	free(type);
	return t;
}

/* Atom: the first link with rel alternate (the default), text/html first. */
static int
better_atom_link(xmlNodePtr cand, xmlNodePtr best)
{
	char *rel = feeds_attr(cand, "rel"), *type;
	int alt = rel == NULL || rel[0] == '\0' || feeds_ieq(rel, "alternate"), html, better;

	free(rel);
	if (!alt)
		return 0;
	if (best == NULL)
		return 1;
	type = feeds_attr(cand, "type");
	html = type == NULL || feeds_ieq(type, "text/html");
	free(type);
	type = feeds_attr(best, "type");
	better = html && !(type == NULL || feeds_ieq(type, "text/html"));
	free(type);
	return better;
}

/* Elements of other namespaces that both formats carry: FeedBurner's
 * origLink (the entry's link is FeedBurner's redirect, feedproxy, which
 * outlived its service), and a Media RSS description, directly or in a
 * media:group (YouTube's channel feeds have no other text).  Not
 * media:content's own description: that is a picture's alt text. */
static int
find_extra_node(xmlNodePtr c, struct entry_nodes *en)
{
	if (is_el(c, NS_FEEDBURNER, "origLink")) {
		if (!en->orig_link)
			en->orig_link = c;
		return 1;
	}
	if (is_el(c, NS_MEDIA, "description")) {
		if (!en->media_description)
			en->media_description = c;
		return 1;
	}
	if (is_el(c, NS_MEDIA, "group")) {
		for (xmlNodePtr g = c->children; g; g = g->next)
			if (is_el(g, NS_MEDIA, "description") && !en->media_description)
				en->media_description = g;
		return 1;
	}
	return 0;
}

static void
find_atom_nodes(xmlNodePtr item, struct entry_nodes *en)
{
	for (xmlNodePtr c = item->children; c; c = c->next) {
		if (find_extra_node(c, en))
			continue;
		if (is_el(c, NS_ATOM, "title") && !en->title) {
			en->title = c;
			en->title_type = atom_text_type(c);
		} else if (is_el(c, NS_ATOM, "link") && better_atom_link(c, en->link)) {
			en->link = c;
		} else if (is_el(c, NS_ATOM, "id") && !en->id) {
			en->id = c;
		} else if (is_el(c, NS_ATOM, "summary") && !en->summary) {
			en->summary = c;
			en->summary_type = atom_text_type(c);
		} else if (is_el(c, NS_ATOM, "content") && !en->content &&
		    xmlHasProp(c, (const xmlChar *)"src") == NULL) {
			en->content = c;
			en->content_type = atom_text_type(c);
		} else if (is_el(c, NS_ATOM, "published") && !en->published) {
			en->published = c;
		} else if (is_el(c, NS_ATOM, "updated") && !en->updated) {
			en->updated = c;
		}
	}
}

/* RSS 2.0 and 1.0 share their element names (in different namespaces).
 * Titles and descriptions are HTML in practice, whatever the specs say. */
static void
find_rss_nodes(xmlNodePtr item, const char *ns, struct entry_nodes *en)
{
	en->title_type = en->summary_type = en->content_type = TT_HTML;
	for (xmlNodePtr c = item->children; c; c = c->next) {
		if (find_extra_node(c, en))
			continue;
		if (is_el(c, ns, "title") && !en->title)
			en->title = c;
		else if (is_el(c, ns, "link") && !en->link)
			en->link = c;
		else if (is_el(c, ns, "guid") && !en->id)
			en->id = c;
		else if (is_el(c, ns, "description") && !en->summary)
			en->summary = c;
		else if (is_el(c, NS_CONTENT, "encoded") && !en->content)
			en->content = c;
		else if ((is_el(c, ns, "pubDate") || is_el(c, NS_DC, "date")) && !en->published)
			en->published = c;
		else if (is_el(c, ns, "enclosure") && !en->enclosure)
			en->enclosure = c;
	}
}

/* The entry's page: its link, else (RSS 1.0) its rdf:about, else (RSS 2.0)
 * a permalink guid. */
static char *
entry_page(struct parse *p, struct entry_nodes *en, xmlNodePtr item)
{
	char *ref = NULL, *url;
	const char *base;
	xmlChar *owned;

	if (en->link != NULL)
		ref = p->format == FEEDS_ATOM ? feeds_attr(en->link, "href") : feeds_raw_text(en->link,
		    FEEDS_URL_MAX + 64);
	if ((ref == NULL || ref[0] == '\0') && p->format == FEEDS_RSS1) {
		xmlChar *about = xmlGetNsProp(item, (const xmlChar *)"about",
		    (const xmlChar *)NS_RDF);

		free(ref);
		ref = about ? strdup((const char *)about) : NULL;
		xmlFree(about);
	}
	/* An RSS guid is a permalink unless it says otherwise; many are not
	 * URLs at all, so only an absolute one counts. */
	if ((ref == NULL || ref[0] == '\0') && p->format == FEEDS_RSS2 && en->id != NULL) {
		char *perma = feeds_attr(en->id, "isPermaLink"), *guid;

		url = NULL;
		if (perma == NULL || !feeds_ieq(perma, "false")) {
			guid = feeds_raw_text(en->id, FEEDS_URL_MAX + 64);
			url = feeds_resolve_url(NULL, guid);
			free(guid);
		}
		free(perma);
		free(ref);
		return url;
	}
	if (ref == NULL)
		return NULL;
	base = feeds_node_base(p->doc, en->link ? en->link : item, &owned);
	url = feeds_resolve_url(base, ref);
	xmlFree(owned);
	free(ref);
	return url;
}

/* The entry's page, else its enclosure: a podcast episode with neither a
 * link nor a permalink guid is still reachable through its media file
 * (else the digest would list it without a link). */
static char *
entry_link(struct parse *p, struct entry_nodes *en, xmlNodePtr item)
{
	char *url = NULL, *ref;
	const char *base;
	xmlChar *owned;

	if (en->orig_link != NULL) {
		ref = feeds_raw_text(en->orig_link, FEEDS_URL_MAX + 64);
		base = feeds_node_base(p->doc, en->orig_link, &owned);
		url = ref ? feeds_resolve_url(base, ref) : NULL;
		xmlFree(owned);
		free(ref);
	}
	if (url == NULL)
		url = entry_page(p, en, item);
	if (url != NULL || en->enclosure == NULL)
		return url;
	if ((ref = feeds_attr(en->enclosure, "url")) == NULL)
		return NULL;
	base = feeds_node_base(p->doc, en->enclosure, &owned);
	url = feeds_resolve_url(base, ref);
	xmlFree(owned);
	free(ref);
	return url;
}

/* guid/id, else the normalised link, else a hash of the title and text. */
static int
entry_key(struct parse *p, struct entry_nodes *en, xmlNodePtr item, const char *link, char *key)
{
	char norm[FEEDS_URL_MAX + 1];
	char *id = NULL, *about_copy = NULL;
	int rc;

	if (p->format == FEEDS_RSS1) {
		xmlChar *about = xmlGetNsProp(item, (const xmlChar *)"about",
		    (const xmlChar *)NS_RDF);

		id = about_copy = about ? strdup((const char *)about) : NULL;
		xmlFree(about);
	} else if (en->id != NULL) {
		/* a guid's text, in scratch: no copy to free */
		id = (char *)feeds_raw_text_in(en->id, RAW_SHORT_MAX, &p->reader.raw);
	}
	if (id != NULL)
		str_squash_space(id);
	if (id != NULL && id[0] != '\0') {
		rc = feeds_key(id, strlen(id), 0, key, p->e);
		free(about_copy);
		return rc;
	}
	free(about_copy);
	if (link != NULL && feeds_normalise_url(link, norm, sizeof(norm)) == 0)
		return feeds_key(norm, strlen(norm), 0, key, p->e);
	{
		struct buf b;
		char *t = feeds_raw_text(en->title, RAW_SHORT_MAX);
		char *c = feeds_raw_text(en->content ? en->content : en->summary, RAW_LONG_MAX);

		buf_init(&b, RAW_SHORT_MAX + RAW_LONG_MAX + 2);
		rc = t && c && buf_printf(&b, "%s\n%s", t, c) == 0 ? 0 : -1;
		if (rc == 0)
			rc = feeds_key(buf_str(&b), b.len, 1, key, p->e);
		else
			err_set(p->e, "out of memory");
		buf_free(&b);
		free(t);
		free(c);
		return rc;
	}
}

static int
key_seen(const struct parse *p, const char *key)
{
	for (size_t i = 0; i < p->nkeys; i++)
		if (strcmp(p->keys[i], key) == 0)
			return 1;
	return 0;
}

/* entry_key, made unique within the document where that is possible: a
 * feed that gives two posts one guid (a template's constant, a platform's
 * bug) would otherwise lose the second, stored as the first.  A repeated
 * key with another link becomes a hash of the key and the link, which the
 * next fetch of the same document gives again; a repeat with the same
 * link is the same post listed twice, and keeps its key. */
static int
unique_key(struct parse *p, struct entry_nodes *en, xmlNodePtr item, const char *link,
    char *key)
{
	char norm[FEEDS_URL_MAX + 1];

	if (entry_key(p, en, item, link, key) == -1)
		return -1;
	if (key_seen(p, key) && link != NULL &&
	    feeds_normalise_url(link, norm, sizeof(norm)) == 0) {
		struct buf b;
		int rc;

		buf_init(&b, FEEDS_KEY_MAX + FEEDS_URL_MAX + 2);
		rc = buf_printf(&b, "%s\n%s", key, norm) == 0 ?
		    feeds_key(buf_str(&b), b.len, 1, key, p->e) : err_set(p->e, "out of memory");
		buf_free(&b);
		if (rc == -1)
			return -1;
	}
	if (p->nkeys < FEEDS_MAX_ENTRIES && !key_seen(p, key)) {
		if ((p->keys[p->nkeys] = strdup(key)) == NULL)
			return err_set(p->e, "out of memory");
		p->nkeys++;
	}
	return 0;
}

static int
entry_date(struct parse *p, xmlNodePtr n, int64_t *out)
{
	const char *raw;

	if (n == NULL)
		return 0;
	if ((raw = feeds_raw_text_in(n, 256, &p->reader.raw)) == NULL)
		return -1;
	*out = feeds_parse_date(raw);
	return 0;
}

static int
parse_entry(struct parse *p, xmlNodePtr item)
{
	struct entry_nodes en;
	struct feeds_entry out;
	char title[FEEDS_TITLE_MAX + 1], excerpt[FEEDS_EXCERPT_MAX + 1], key[FEEDS_KEY_MAX + 1];
	char scratch[16];
	char *links[FEEDS_ENTRY_LINKS];
	size_t nlinks = 0;
	char *link = NULL;
	int rc = -1;

	memset(&en, 0, sizeof(en));
	memset(&out, 0, sizeof(out));
	if (p->format == FEEDS_ATOM)
		find_atom_nodes(item, &en);
	else
		find_rss_nodes(item, p->elns, &en);
	if (feeds_element_text(p->doc, en.title, en.title_type, FEEDS_TITLE_MAX, title, sizeof(title),
	    NULL, NULL, &p->reader) == -1)
		goto oom;
	/* The excerpt comes from the summary, else the content; links from
	 * the content, else the summary. */
	if (feeds_element_text(p->doc, en.summary, en.summary_type, FEEDS_EXCERPT_CHARS, excerpt,
	    sizeof(excerpt), en.content ? NULL : links, &nlinks, &p->reader) == -1)
		goto oom;
	if (en.content != NULL) {
		/* With an excerpt already, only the links are wanted from the
		 * content: one character of its text is enough. */
		int have = excerpt[0] != '\0';

		if (feeds_element_text(p->doc, en.content, en.content_type,
		    have ? 1 : FEEDS_EXCERPT_CHARS, have ? scratch : excerpt,
		    have ? sizeof(scratch) : sizeof(excerpt), links, &nlinks, &p->reader) == -1)
			goto oom;
	}
	/* Nothing else to read: a video's or a picture's description. */
	if (excerpt[0] == '\0' && en.media_description != NULL) {
		char *type = feeds_attr(en.media_description, "type");
		enum text_type tt = feeds_ieq(type, "html") ? TT_HTML : TT_TEXT;

		free(type);
		if (feeds_element_text(p->doc, en.media_description, tt, FEEDS_EXCERPT_CHARS,
		    excerpt, sizeof(excerpt), NULL, NULL, &p->reader) == -1)
			goto oom;
	}
	link = entry_link(p, &en, item);
	if (unique_key(p, &en, item, link, key) == -1)
		goto out;
	if (entry_date(p, en.published ? en.published : en.updated, &out.published_at) == -1)
		goto oom;
	out.key = key;
	out.title = title;
	out.link = link ? link : "";
	out.excerpt = excerpt;
	out.links = (const char *const *)links;
	out.nlinks = nlinks;
	out.feed_title = p->feed_title;
	out.feed_link = p->feed_link;
	rc = p->fn(p->arg, &out);
	goto out;
oom:
	err_set(p->e, "out of memory");
out:
	for (size_t i = 0; i < nlinks; i++)
		free(links[i]);
	free(link);
	return rc;
}

static int
walk_items(struct parse *p, xmlNodePtr parent, const char *ns, const char *name)
{
	int n = 0, rc;

	for (xmlNodePtr c = parent->children; c && n < FEEDS_MAX_ENTRIES; c = c->next) {
		if (!is_el(c, ns, name))
			continue;
		n++;
		if ((rc = parse_entry(p, c)) != 0)
			return rc;
	}
	return 0;
}

/* The blog's own page: the first link child of parent that is one (in
 * Atom, rel "alternate" or none), resolved like an entry's link. */
static void
feed_link(struct parse *p, xmlNodePtr parent, const char *ns)
{
	for (xmlNodePtr c = parent->children; c; c = c->next) {
		char *ref, *url;
		const char *base;
		xmlChar *owned;

		if (!is_el(c, ns, "link"))
			continue;
		if (p->format == FEEDS_ATOM) {
			char *rel = feeds_attr(c, "rel");
			int alternate = rel == NULL || feeds_ieq(rel, "alternate");

			free(rel);
			if (!alternate)
				continue;
			ref = feeds_attr(c, "href");
		} else {
			ref = feeds_raw_text(c, FEEDS_URL_MAX + 64);
		}
		if (ref == NULL)
			continue;
		base = feeds_node_base(p->doc, c, &owned);
		url = feeds_resolve_url(base, ref);
		xmlFree(owned);
		free(ref);
		if (url != NULL) {
			snprintf(p->feed_link, sizeof(p->feed_link), "%s", url);
			free(url);
			return;
		}
	}
}

/* The feed's own title (the blog's name): the first title child of
 * parent, text only, like an entry's; and its link. */
static int
feed_title(struct parse *p, xmlNodePtr parent, const char *ns)
{
	feed_link(p, parent, ns);
	for (xmlNodePtr c = parent->children; c; c = c->next) {
		if (!is_el(c, ns, "title"))
			continue;
		return feeds_element_text(p->doc, c, p->format == FEEDS_ATOM ? atom_text_type(c) : TT_HTML,
		    FEEDS_TITLE_MAX, p->feed_title, sizeof(p->feed_title), NULL, NULL, &p->reader) == -1 ?
		    err_set(p->e, "out of memory") : 0;
	}
	return 0;
}

static int
dispatch(struct parse *p, xmlNodePtr root)
{
	if (is_el(root, NULL, "rss")) {
		p->format = FEEDS_RSS2;
		p->elns = NULL;
		for (xmlNodePtr c = root->children; c; c = c->next)
			if (is_el(c, NULL, "channel"))
				return feed_title(p, c, NULL) == -1 ? -1 :
				    walk_items(p, c, NULL, "item");
		return err_set(p->e, "not a feed: <rss> without a <channel>");
	}
	if (is_el(root, NS_ATOM, "feed")) {
		p->format = FEEDS_ATOM;
		return feed_title(p, root, NS_ATOM) == -1 ? -1 : walk_items(p, root, NS_ATOM, "entry");
	}
	if (is_el(root, NS_RDF, "RDF")) {
		p->format = FEEDS_RSS1;
		p->elns = NS_RSS1;
		for (xmlNodePtr c = root->children; c; c = c->next)
			if (is_el(c, NS_RSS1, "channel") && feed_title(p, c, NS_RSS1) == -1)
				return -1;
		return walk_items(p, root, NS_RSS1, "item");
	}
	return err_set(p->e, "not a feed (the document is <%.40s>, not RSS or Atom)",
	    (const char *)root->name);
}

int
feeds_parse(const char *buf, size_t len, const char *base_url, feeds_entry_fn fn, void *arg,
    enum feeds_format *format, struct err *e)
{
	struct parse p = { .fn = fn, .arg = arg, .e = e };
	xmlNodePtr root;
	int rc;

	if (len > FEEDS_PARSE_MAX || len > INT_MAX)
		return err_set(e, "feed too large (%zu bytes, at most %zu)", len, FEEDS_PARSE_MAX);
	if ((p.doc = feeds_read_xml(buf, len, base_url, e)) == NULL)
		return -1;
	buf_init(&p.reader.raw, RAW_LONG_MAX);
	root = xmlDocGetRootElement(p.doc);
	rc = root ? dispatch(&p, root) : err_set(e, "not a feed: empty document");
	if (format)
		*format = p.format;
	feeds_reader_free(&p.reader);
	for (size_t i = 0; i < p.nkeys; i++)
		free(p.keys[i]);
	xmlFreeDoc(p.doc);
	return rc;
}
