/* url.c - links from feeds: resolved, checked, compared. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <idn2.h>
#include <libxml/uri.h>

#include "internal.h"

/* Characters that may stand unescaped in a URI reference (RFC 3986
 * unreserved, reserved, and '%' of existing escapes). */
static int
uri_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != 0 && strchr("-._~:/?#[]@!$&'()*+,;=%", c) != NULL);
}

/* Percent-encodes what libxml2's URI parser would refuse (spaces, UTF-8 in
 * paths); NULL for control characters, which no link in a feed needs. */
static char *
escape_ref(const char *ref)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b;

	buf_init(&b, FEEDS_URL_MAX * 3);
	for (const unsigned char *p = (const unsigned char *)ref; *p; p++) {
		int rc;

		if (*p < 0x20 || *p == 0x7f) {
			buf_free(&b);
			return NULL;
		}
		if (uri_char(*p))
			rc = buf_putc(&b, (char)*p);
		else
			rc = buf_printf(&b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
		if (rc == -1) {
			buf_free(&b);
			return NULL;
		}
	}
	return buf_steal(&b);
}

/* ref with the host of an absolute URL written in another script
 * ("https://jörg.example.de/") in ASCII ("xn--jrg-sna.example.de"), as
 * DNS needs it.  libcurl converts only under a UTF-8 locale, and cron runs
 * with none; percent-encoding the host (escape_ref) would name another
 * host.  0 with *out NULL when ref needs nothing (relative, or ASCII
 * already), 0 with *out malloc'd, or -1 if the host is no name IDNA can
 * convert (or out of memory). */
static int
ascii_host(const char *ref, char **out)
{
	const char *sep = strstr(ref, "://"), *host, *end, *name_end, *p;
	char name[256], *ace = NULL;
	size_t len;
	int other = 0;

	*out = NULL;
	if (strncmp(ref, "//", 2) == 0)
		host = ref + 2;  /* scheme-relative: a host of its own */
	else if (sep != NULL && strcspn(ref, "/?#") > (size_t)(sep - ref))
		host = sep + 3;
	else
		return 0;        /* relative: its host is the base's */
	end = host + strcspn(host, "/?#");
	for (p = host; p < end; p++)
		other |= (unsigned char)*p >= 0x80;
	if (!other || memchr(host, '@', (size_t)(end - host)) != NULL)
		return 0;       /* user info is refused later anyway */
	name_end = memrchr(host, ':', (size_t)(end - host));
	if (name_end == NULL)
		name_end = end;
	if ((len = (size_t)(name_end - host)) >= sizeof(name))
		return -1;
	memcpy(name, host, len);
	name[len] = '\0';
	/* IDNA 2008 with UTS 46 mapping, as browsers do; no transitional
	 * fallback, which maps characters away (a joiner in "pay<ZWJ>pal").
	 * Mapping can still yield URL punctuation ("℀" -> "a/c", "﹖" -> "?")
	 * that would move the host's end: only a plain host name is taken. */
	if (idn2_to_ascii_8z(name, &ace, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK)
		return -1;
	if (ace[0] == '\0' || ace[strspn(ace, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")] != '\0') {
		idn2_free(ace);
		return -1;
	}
	len = (size_t)(host - ref) + strlen(ace) + strlen(name_end) + 1;
	if ((*out = malloc(len)) != NULL)
		snprintf(*out, len, "%.*s%s%s", (int)(host - ref), ref, ace, name_end);
	idn2_free(ace);
	return *out != NULL ? 0 : -1;
}

static int
http_scheme(const char *scheme)
{
	return feeds_ieq(scheme, "http") || feeds_ieq(scheme, "https");
}

/* 1 if u is an absolute http(s) URI with a host and no user info. */
static int
acceptable(xmlURIPtr u)
{
	return u != NULL && http_scheme(u->scheme) && u->server != NULL && u->server[0] != '\0' &&
	    u->user == NULL;
}

/* 1 if the query parameter p (n bytes, "name" or "name=value") only
 * tells the publisher where a click came from: Google Analytics' utm_*,
 * the ad networks' click ids, Mailchimp's and HubSpot's, and Medium's
 * "source=rss-...".  Feed readers drop them (Miniflux does): they make one
 * post look like two, and the digest's readers need not be tracked. */
static int
tracking_param(const char *p, size_t n)
{
	static const char *const names[] = { "fbclid", "gclid", "dclid", "gbraid", "wbraid",
		"msclkid", "yclid", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "igshid" };
	size_t name = 0;

	while (name < n && p[name] != '=')
		name++;
	if (name > 4 && strncasecmp(p, "utm_", 4) == 0)
		return 1;
	if (name == 6 && strncmp(p, "source", 6) == 0 && n >= 10 && strncmp(p + 7, "rss", 3) == 0)
		return 1;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == name && strncmp(p, names[i], name) == 0)
			return 1;
	return 0;
}

/* Drops tracking parameters from u's query (raw form when libxml2 kept
 * one).  1 if it dropped any, 0 if not, -1 out of memory. */
static int
strip_tracking(xmlURIPtr u)
{
	char *q = u->query_raw != NULL ? u->query_raw : u->query, *out, *o;
	int dropped = 0;

	if (q == NULL || strstr(q, "=") == NULL)
		return 0;
	if ((o = out = malloc(strlen(q) + 1)) == NULL)
		return -1;
	for (const char *p = q; *p != '\0'; ) {
		size_t n = strcspn(p, "&;");

		if (tracking_param(p, n)) {
			dropped = 1;
		} else if (n > 0) {
			if (o != out)
				*o++ = '&';
			memcpy(o, p, n);
			o += n;
		}
		p += n;
		if (*p != '\0')
			p++;
	}
	*o = '\0';
	if (!dropped) {
		free(out);
		return 0;
	}
	xmlFree(u->query_raw);
	xmlFree(u->query);
	u->query = NULL;
	u->query_raw = out[0] != '\0' ? (char *)xmlStrdup((const xmlChar *)out) : NULL;
	free(out);
	return 1;
}

char *
feeds_resolve_url(const char *base, const char *ref)
{
	char *trimmed = NULL, *ascii = NULL, *escaped = NULL, *out = NULL;
	xmlChar *built = NULL;
	xmlURIPtr u = NULL;

	if (ref == NULL || (trimmed = strdup(ref)) == NULL)
		return NULL;
	/* Feeds wrap links in white space and newlines; inside they are wrong. */
	{
		size_t a = strspn(trimmed, " \t\r\n"), z = strlen(trimmed);

		while (z > a && strchr(" \t\r\n", trimmed[z - 1]) != NULL)
			z--;
		memmove(trimmed, trimmed + a, z - a);
		trimmed[z - a] = '\0';
	}
	if (trimmed[0] == '\0' || strlen(trimmed) > FEEDS_URL_MAX ||
	    ascii_host(trimmed, &ascii) == -1 ||
	    (escaped = escape_ref(ascii ? ascii : trimmed)) == NULL)
		goto out;
	if (base != NULL)
		built = xmlBuildURI((const xmlChar *)escaped, (const xmlChar *)base);
	else
		built = xmlStrdup((const xmlChar *)escaped);
	if (built == NULL || strlen((const char *)built) > FEEDS_URL_MAX)
		goto out;
	u = xmlParseURI((const char *)built);
	if (acceptable(u)) {
		int stripped = strip_tracking(u);
		xmlChar *clean = stripped == 1 ? xmlSaveUri(u) : NULL;

		if (stripped == 0)
			out = strdup((const char *)built);
		else if (clean != NULL)
			out = strdup((const char *)clean);
		xmlFree(clean);
	}
out:
	if (u)
		xmlFreeURI(u);
	xmlFree(built);
	free(escaped);
	free(ascii);
	free(trimmed);
	return out;
}

int
feeds_normalise_url(const char *url, char *out, size_t n)
{
	xmlURIPtr u = xmlParseURI(url);
	xmlChar *s = NULL;
	int rc = -1;

	if (!acceptable(u) || strip_tracking(u) == -1)
		goto out;
	str_lower(u->scheme);
	str_lower(u->server);
	if ((u->port == 80 && strcmp(u->scheme, "http") == 0) ||
	    (u->port == 443 && strcmp(u->scheme, "https") == 0))
		u->port = 0;
	xmlFree(u->fragment);
	u->fragment = NULL;
	if (u->path == NULL || u->path[0] == '\0') {
		xmlFree(u->path);
		u->path = (char *)xmlStrdup((const xmlChar *)"/");
	}
	s = xmlSaveUri(u);
	if (s != NULL && (size_t)snprintf(out, n, "%s", (const char *)s) < n)
		rc = 0;
out:
	xmlFree(s);
	if (u)
		xmlFreeURI(u);
	return rc;
}
