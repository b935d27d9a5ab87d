/* discover.c - from a blog's address to its feed (feed autodiscovery). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>

#include "internal.h"

#define SNIFF_MAX 4096

static int
prefix_ci(const char *p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	return (size_t)(end - p) >= n && strncasecmp(p, lit, n) == 0;
}

/* What the first tag of the document says: 1 HTML, 0 a feed or other
 * XML, -1 no tag seen. */
static int
sniff_first_tag(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + (len < SNIFF_MAX ? len : SNIFF_MAX);

	while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		const char *close;

		if (prefix_ci(p, end, "<!--")) {
			close = memmem(p, (size_t)(end - p), "-->", 3);
		} else if (prefix_ci(p, end, "<!doctype html")) {
			return 1;
		} else if (prefix_ci(p, end, "<!") || prefix_ci(p, end, "<?")) {
			close = memchr(p, '>', (size_t)(end - p));
		} else {
			return prefix_ci(p, end, "<html") ? 1 : 0;
		}
		if (close == NULL)
			return -1;
		p = close + 1;
	}
	return -1;
}

int
feeds_looks_like_html(const char *content_type, const char *buf, size_t len)
{
	int tag = sniff_first_tag(buf, len);

	if (tag >= 0)
		return tag;
	return content_type != NULL && (strncasecmp(content_type, "text/html", 9) == 0 ||
	    strncasecmp(content_type, "application/xhtml+xml", 21) == 0);
}

/* rel is a space-separated list of tokens. */
static int
rel_has(const char *rel, const char *token)
{
	size_t n = strlen(token);

	for (const char *p = rel; p && *p; ) {
		size_t w;

		p += strspn(p, " \t\r\n");
		w = strcspn(p, " \t\r\n");
		if (w == n && strncasecmp(p, token, n) == 0)
			return 1;
		p += w;
	}
	return 0;
}

static int
feed_type(const char *type)
{
	static const char *const types[] = { "application/rss+xml", "application/atom+xml",
		"application/rdf+xml" };

	if (type == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t n = strlen(types[i]);

		if (strncasecmp(type, types[i], n) == 0 && (type[n] == '\0' || type[n] == ';'))
			return 1;
	}
	return 0;
}

/* WordPress and Blogger announce comment feeds next to the posts feed. */
static int
comments_feed(const char *title, const char *url)
{
	const char *p;

	if (title != NULL && (strcasestr(title, "comments feed") != NULL ||
	    strcasestr(title, "post comments") != NULL))
		return 1;
	for (p = url; (p = strstr(p, "/comments")) != NULL; p++)
		if (p[9] == '/' || p[9] == '\0' || p[9] == '?')
			return 1;
	return 0;
}

/* The href of an alternate feed link, resolved; NULL if n is not one. */
static char *
alternate_href(htmlDocPtr doc, xmlNodePtr n, const char *page_url, int *comments)
{
	char *rel = feeds_attr(n, "rel"), *type = feeds_attr(n, "type");
	char *href = feeds_attr(n, "href"), *title = feeds_attr(n, "title");
	char *base = NULL, *url = NULL;
	xmlChar *b;

	if (rel_has(rel, "alternate") && feed_type(type) && href != NULL && href[0] != '\0') {
		/* <base href> may itself be relative to the page. */
		b = xmlNodeGetBase(doc, n);
		base = b ? feeds_resolve_url(page_url, (const char *)b) : NULL;
		xmlFree(b);
		url = feeds_resolve_url(base ? base : page_url, href);
		if (url != NULL)
			*comments = comments_feed(title, url);
	}
	free(rel);
	free(type);
	free(href);
	free(title);
	free(base);
	return url;
}

/* 1 if n is a password field: a page that asks for one where a blog or
 * its feed was is a login (a private WordPress.com site redirects its
 * feed there, as do membership plugins), whatever platform draws it. */
static int
password_field(xmlNodePtr n)
{
	char *type;
	int yes;

	if (xmlStrcasecmp(n->name, (const xmlChar *)"input") != 0)
		return 0;
	type = feeds_attr(n, "type");
	yes = feeds_ieq(type, "password");
	free(type);
	return yes;
}

int
feeds_find_alternate(const char *html, size_t len, const char *page_url, char **feed_url,
    struct err *e)
{
	htmlDocPtr doc;
	xmlNodePtr top, node;
	char *comment_feed = NULL;
	int login = 0;

	*feed_url = NULL;
	if (len > FEEDS_PARSE_MAX)
		return err_set(e, "page too large (%zu bytes)", len);
	doc = htmlReadMemory(html, (int)len, page_url, NULL, HTML_PARSE_RECOVER |
	    HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NODEFDTD);
	if (doc == NULL)
		return err_set(e, "the page is not HTML the parser can read");
	top = (xmlNodePtr)doc;
	/* Iterative: the HTML parser builds trees of any depth. */
	for (node = doc->children; node != NULL && *feed_url == NULL; ) {
		if (node->type == XML_ELEMENT_NODE &&
		    xmlStrcasecmp(node->name, (const xmlChar *)"link") == 0) {
			int comments = 0;
			char *url = alternate_href(doc, node, page_url, &comments);

			if (url != NULL && !comments)
				*feed_url = url;
			else if (url != NULL && comment_feed == NULL)
				comment_feed = url;
			else
				free(url);
		}
		if (node->type == XML_ELEMENT_NODE && !login)
			login = password_field(node);
		if (node->type == XML_ELEMENT_NODE && node->children != NULL) {
			node = node->children;
			continue;
		}
		while (node != top && node->next == NULL)
			node = node->parent;
		node = node == top ? NULL : node->next;
	}
	xmlFreeDoc(doc);
	/* A page that only announces comments (a single post's page) does not
	 * name the blog's feed: following it would digest comments. */
	free(comment_feed);
	if (*feed_url == NULL && login) {
		err_set(e, "the page is a login form: the blog needs a login to be read");
		return 1;
	}
	if (*feed_url == NULL) {
		err_set(e, "the page does not announce a feed (no <link rel=\"alternate\""
		    " type=\"application/rss+xml\"> or atom+xml)");
		return 1;
	}
	return 0;
}

static int
discover_done(void *arg, struct fetch_job *job)
{
	(void)arg;
	(void)job;
	return 0;
}

static int
count_entry(void *arg, const struct feeds_entry *entry)
{
	(void)entry;
	(*(int *)arg)++;
	return 0;
}

/* Fetches url into job; -1 with a reason unless a 2xx body arrived. */
static int
fetch_one(const struct feeds_options *o, const char *url, struct fetch_job *job, struct err *e)
{
	memset(job, 0, sizeof(*job));
	if ((job->url = strdup(url)) == NULL)
		return err_set(e, "out of memory");
	if (fetch_run(o, job, 1, discover_done, NULL, e) == -1)
		return -1;
	if (!job->ok || job->status < 200 || job->status > 299)
		return err_set(e, "cannot fetch %s: %s", url,
		    job->error[0] ? job->error : "no content");
	return 0;
}

/* The URL to keep for a fetched feed: where it moved for good, or the one
 * asked for (a temporary redirect is not a new address). */
static int
keep_url(const struct fetch_job *job, const char *asked, char *out, size_t n, struct err *e)
{
	const char *url = job->moved_url ? job->moved_url : asked;

	if (strlen(url) > FEEDS_URL_MAX || (size_t)snprintf(out, n, "%s", url) >= n)
		return err_set(e, "feed URL too long");
	return 0;
}

static int
check_feed(const struct fetch_job *job, const char *url, struct err *e)
{
	int entries = 0;

	if (feeds_parse(buf_str(&job->body), job->body.len, job->effective_url ?
	    job->effective_url : url, count_entry, &entries, NULL, e) == -1)
		return err_prefix(e, "%s", url);
	return 0;
}

/* Where blog platforms keep their feeds (WordPress, Blogger, Jekyll and
 * Hugo, others), tried when a blog's home page announces none: a theme
 * without the <link>, or a page in front of the blog (Blogger's content
 * warning).  Only for a home page at the root of its host: below it, the
 * root's feed may be another blog's, and a post's "feed/" is its comments. */
static const char *const usual_feeds[] = { "/feed/", "/feeds/posts/default", "/atom.xml",
	"/rss.xml", "/index.xml", "/feed.xml" };
#define NUSUAL (sizeof(usual_feeds) / sizeof(usual_feeds[0]))

/* 1 if url is a host's root page. */
static int
at_root(const char *url)
{
	const char *path = strstr(url, "://");

	if (path == NULL || (path = strchr(path + 3, '/')) == NULL)
		return 1;
	return path[1] == '\0' || path[1] == '?' || path[1] == '#';
}

/* Fetches the usual places at once; the first of them, in the order above,
 * that answers with a feed is the one.  Only when both the address given
 * and the page it led to are a host's root: a removed ~user page that
 * redirects to its university's home must not take the university's feed.
 * 0 found, 1 none. */
static int
guess_feed(const struct feeds_options *o, const char *asked, const char *page_url,
    char *feed_url, size_t n)
{
	struct fetch_job jobs[NUSUAL];
	size_t njobs = 0;
	struct err e;
	int rc = 1;

	if (!at_root(asked) || !at_root(page_url))
		return 1;
	memset(jobs, 0, sizeof(jobs));
	for (size_t i = 0; i < NUSUAL; i++) {
		char *url = feeds_resolve_url(page_url, usual_feeds[i]);
		int seen = url == NULL;

		for (size_t j = 0; !seen && j < njobs; j++)
			seen = strcmp(jobs[j].url, url) == 0;
		if (seen)
			free(url);
		else
			jobs[njobs++].url = url;
	}
	if (fetch_run(o, jobs, njobs, discover_done, NULL, &e) == 0) {
		for (size_t i = 0; i < njobs && rc == 1; i++) {
			if (jobs[i].ok && jobs[i].status >= 200 && jobs[i].status <= 299 &&
			    !feeds_looks_like_html(jobs[i].content_type, buf_str(&jobs[i].body),
			    jobs[i].body.len) && check_feed(&jobs[i], jobs[i].url, &e) == 0 &&
			    keep_url(&jobs[i], jobs[i].url, feed_url, n, &e) == 0)
				rc = 0;
		}
	}
	for (size_t i = 0; i < njobs; i++)
		fetch_job_free(&jobs[i]);
	return rc;
}

int
feeds_discover(const struct feeds_options *o, const char *url, char *feed_url, size_t n,
    struct err *e)
{
	struct fetch_job page, feed;
	char *candidate = NULL, *asked = NULL;
	int rc = -1;

	memset(&page, 0, sizeof(page));
	memset(&feed, 0, sizeof(feed));
	feed_url[0] = '\0';
	/* The form a fetch needs: a host in another script in ASCII. */
	if ((asked = feeds_resolve_url(NULL, url)) == NULL) {
		err_set(e, "%s is not an http(s) address", url);
		goto out;
	}
	url = asked;
	if (fetch_one(o, url, &page, e) == -1)
		goto out;
	if (!feeds_looks_like_html(page.content_type, buf_str(&page.body), page.body.len)) {
		if (check_feed(&page, url, e) == 0)
			rc = keep_url(&page, url, feed_url, n, e);
		goto out;
	}
	rc = feeds_find_alternate(buf_str(&page.body), page.body.len,
	    page.effective_url ? page.effective_url : url, &candidate, e);
	if (rc == 1 && guess_feed(o, url, page.effective_url ? page.effective_url : url,
	    feed_url, n) == 0)
		rc = 0; /* found where such blogs keep it */
	if (rc != 0 || feed_url[0] != '\0')
		goto out;
	rc = -1;
	if (fetch_one(o, candidate, &feed, e) == -1 || check_feed(&feed, candidate, e) == -1) {
		err_prefix(e, "the page names a feed, but");
		goto out;
	}
	rc = keep_url(&feed, candidate, feed_url, n, e);
out:
	free(candidate);
	free(asked);
	fetch_job_free(&page);
	fetch_job_free(&feed);
	return rc;
}
