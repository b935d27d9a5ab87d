/* url.c - links from feeds: resolved, checked, compared. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	if (acceptable(u))
		out = strdup((const char *)built);
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

	if (!acceptable(u))
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
