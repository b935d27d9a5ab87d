/* strutil.c - strings and addresses. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

char *
str_dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *
str_ndup(const char *s, size_t n)
{
	return s ? strndup(s, n) : NULL;
}

int
str_has_ctl(const char *s, int tab_ok)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\t' && tab_ok)
			continue;
		if (*p < 0x20 || *p == 0x7f)
			return 1;
	}
	return 0;
}

void
str_squash_space(char *s)
{
	unsigned char *r = (unsigned char *)s, *w = (unsigned char *)s;
	int pending = 0;

	for (; *r; r++) {
		if (*r <= 0x20 || *r == 0x7f) {
			pending = w != (unsigned char *)s;
			continue;
		}
		if (pending)
			*w++ = ' ';
		pending = 0;
		*w++ = *r;
	}
	*w = '\0';
}

void
str_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

int
str_to_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
str_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
str_valid_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned c = *p;
		size_t len;
		unsigned cp;

		if (c < 0x80) {
			p++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			len = 2, cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3, cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4, cp = c & 0x07;
		} else {
			return 0;
		}
		if ((size_t)(end - p) < len)
			return 0;
		for (size_t i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		p += len;
	}
	return 1;
}

/* Characters RFC 5322 allows unquoted in a dot-atom, which is all we accept:
 * a quoted local part is legal but nobody signs up to a course with one. */
static int
atext(int c)
{
	return isalnum(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL) || c >= 0x80;
}

int
addr_normalize(const char *s, char *out, size_t n, struct err *e)
{
	const char *at;
	size_t len = strlen(s);

	if (len == 0 || len > ADDR_MAX)
		return err_set(e, "address is empty or longer than %d bytes", ADDR_MAX);
	at = strrchr(s, '@');
	if (at == NULL || at == s || at[1] == '\0' || at - s > 64)
		return err_set(e, "'%.80s' is not an address (want name@domain)", s);
	for (const char *p = s; *p; p++) {
		if (p == at)
			continue;
		if (*p == '.') {
			if (p == s || p[1] == '\0' || p[1] == '.' || p[1] == '@' || p + 1 == at ||
			    p[-1] == '@')
				return err_set(e, "'%.80s' has a misplaced dot", s);
			continue;
		}
		if (p > at ? !(isalnum((unsigned char)*p) || *p == '-' || (unsigned char)*p >= 0x80)
			   : !atext((unsigned char)*p))
			return err_set(e, "'%.80s' has a character an address cannot hold", s);
	}
	if (len + 1 > n)
		return err_set(e, "address too long");
	memcpy(out, s, len + 1);
	str_lower(out);
	return 0;
}

const char *
addr_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? at + 1 : "";
}

int
addr_with_tag(const char *addr, char delim, const char *tag, char *out, size_t n)
{
	const char *at = strrchr(addr, '@');
	int w;

	if (at == NULL)
		return -1;
	w = snprintf(out, n, "%.*s%c%s%s", (int)(at - addr), addr, delim, tag, at);
	return (w < 0 || (size_t)w >= n) ? -1 : 0;
}
