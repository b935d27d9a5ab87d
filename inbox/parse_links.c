/*
 * parse_links.c - the web addresses a person put in their text.
 *
 * A link starts at "http://" or "https://" (any case, not inside a word)
 * and runs to white space, one of < > " ` { } | \ ^, or a non-ASCII
 * character that is not a letter of an alphabetic script (so that “smart
 * quotes”, no-break spaces, fullwidth and CJK punctuation end it, and a
 * URL written straight into Japanese text stops there).  Letters of the
 * Latin, Greek and Cyrillic scripts are part of it: people paste
 * addresses as their browser shows them ("https://jörg.example.de/",
 * ".../wikis-für-bibliotheken/"), and cutting there would record the
 * wrong page.  Then
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

/* The bytes of the URL character at s (text is valid UTF-8), 0 if the
 * character ends a URL (inbox.h: the classifier reads host names written
 * without a scheme with the same characters). */
size_t
inbox_url_char(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned cp;

	if (p[0] < 0x80)
		return p[0] > 0x20 && p[0] < 0x7f && strchr("<>\"`{}|\\^", p[0]) == NULL;
	if (p[0] < 0xc2 || p[0] >= 0xe0 || (p[1] & 0xc0) != 0x80) {
		/* three-byte letters: Latin Extended Additional (Vietnamese) */
		if (p[0] == 0xe1 && p[1] >= 0xb8 && p[1] <= 0xbb && (p[2] & 0xc0) == 0x80)
			return 3;
		return 0;
	}
	cp = ((p[0] & 0x1fu) << 6) | (p[1] & 0x3fu);
	/* Latin-1 letters (not × ÷), Latin Extended-A/B, Greek, Cyrillic */
	if ((cp >= 0xc0 && cp <= 0x24f && cp != 0xd7 && cp != 0xf7) ||
	    (cp >= 0x386 && cp <= 0x3ff) || (cp >= 0x400 && cp <= 0x4ff))
		return 2;
	return 0;
}

/* Length of the run of URL characters at s. */
static size_t
url_run(const char *s)
{
	size_t n = 0, k;

	while ((k = inbox_url_char(s + n)) > 0)
		n += k;
	return n;
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
		for (size_t k; (k = inbox_url_char(s + i)) > 0; i += k) {
			if (len + k > INBOX_MAX_URL)
				return 0;
			memcpy(out + len, s + i, k);
			len += k;
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
		n = skip + url_run(p + skip);
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
