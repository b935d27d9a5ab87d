/*
 * parse_links.c - the web addresses a person put in their text.
 *
 * A link starts at "http://" or "https://" (any case, not inside a word)
 * and runs to white space, a non-ASCII character (so that “smart quotes”
 * and fullwidth punctuation end it), or one of < > " ` { } | \ ^.  Then
 * trailing sentence punctuation goes, and a closing ) ] that has no
 * opening partner in the URL: "(see https://x.org/a_(b))." keeps "(b)".
 * A URL in angle brackets may go on over the next line, as RFC 3986
 * (appendix C) allows and as mail clients that wrap long lines write it:
 * "<https://x.org/long/\n  path>" is one link, its line breaks and the
 * indentation after them removed.
 * URLs are kept verbatim, credentials included: deciding what to fetch is
 * the validator's job (inbox_url_has_userinfo helps it).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse_internal.h"

static int
url_byte(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("<>\"`{}|\\^", c) == NULL;
}

/* Length of the URL at s once trailing punctuation is dropped. */
static size_t
trim_url(const char *s, size_t n)
{
	while (n > 0) {
		char c = s[n - 1];

		if (strchr(".,;:!?'*", c) != NULL ||
		    (c == ')' && count_byte(s, n, '(') < count_byte(s, n, ')')) ||
		    (c == ']' && count_byte(s, n, '[') < count_byte(s, n, ']')))
			n--;
		else
			break;
	}
	return n;
}

/* 1 if s[0..n) has a host after the scheme. */
static int
has_host(const char *s, size_t n)
{
	const char *p = memchr(s, ':', n);

	if (p == NULL || (size_t)(p - s) + 3 >= n)
		return 0;
	p += 3; /* "://" */
	return *p != '/' && *p != '?' && *p != '#' && *p != '@' && *p != ':' && *p != '.';
}

/* The URL at s (after "<"), where its first line, n bytes, ended at white
 * space: its continuation lines up to the closing ">", each break being
 * one line end with blanks around it, the whole within INBOX_MAX_URL.
 * Writes the URL without the breaks into out and the bytes read, ">"
 * included, into *used; its length, or 0 if it is not one. */
static size_t
bracketed_url(const char *s, size_t n, char *out, size_t *used)
{
	size_t len = 0, i = n;

	if (n > INBOX_MAX_URL)
		return 0;
	memcpy(out, s, n);
	len = n;
	while (s[i] != '>') {
		size_t breaks = 0;

		while (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')
			breaks += s[i++] == '\n';
		if (breaks != 1)
			return 0;
		while (url_byte((unsigned char)s[i])) {
			if (len == INBOX_MAX_URL)
				return 0;
			out[len++] = s[i++];
		}
		if (s[i] != '>' && s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	}
	*used = i + 1;
	return len;
}

static int
add_link(struct inbox_message *m, const char *s, size_t n)
{
	char *u;

	if (n > INBOX_MAX_URL || !has_host(s, n) || m->nlinks == INBOX_MAX_LINKS)
		return 0;
	for (size_t i = 0; i < m->nlinks; i++)
		if (strlen(m->links[i]) == n && memcmp(m->links[i], s, n) == 0)
			return 0;
	u = strndup(s, n);
	if (u == NULL)
		return -1;
	m->links[m->nlinks++] = u;
	return 0;
}

int
links_extract(const char *text, struct inbox_message *m)
{
	const char *p = text;

	while (*p && m->nlinks < INBOX_MAX_LINKS) {
		size_t skip, n = 0;

		if (strncasecmp(p, "http://", 7) == 0)
			skip = 7;
		else if (strncasecmp(p, "https://", 8) == 0)
			skip = 8;
		else
			skip = 0;
		if (skip == 0 || (p > text && isalnum((unsigned char)p[-1]))) {
			p++;
			continue;
		}
		n = skip;
		while (url_byte((unsigned char)p[n]))
			n++;
		if (p > text && p[-1] == '<' && p[n] != '\0' && strchr(" \t\r\n", p[n])) {
			char joined[INBOX_MAX_URL + 1];
			size_t used, len = bracketed_url(p, n, joined, &used);

			if (len > 0) {
				if (add_link(m, joined, trim_url(joined, len)) == -1)
					return -1;
				p += used;
				continue;
			}
		}
		/* Trimming counts brackets: only for what can be a link. */
		if (n <= 2 * INBOX_MAX_URL && add_link(m, p, trim_url(p, n)) == -1)
			return -1;
		p += n;
	}
	return 0;
}

int
inbox_url_has_userinfo(const char *url)
{
	const char *p = strstr(url, "://");
	size_t n;

	if (p == NULL)
		return 0;
	p += 3;
	n = strcspn(p, "/?#\\");
	return memchr(p, '@', n) != NULL;
}
