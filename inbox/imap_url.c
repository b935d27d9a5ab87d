/*
 * imap_url.c - parsing the [imap] url setting.
 *
 * Written by hand because the form is small and fixed (RFC 5092's full
 * IMAP URL is far more than a mailbox address) and libcurl's URL API would
 * bring a second URL dialect into the inbox.  Every decoded part is
 * checked for control characters: user, password and mailbox go into IMAP
 * commands.
 */
#include <stdio.h>
#include <string.h>

#include "source.h"

/* Percent-decodes s[0..n) into out (size outn); refuses %00, control
 * characters and anything that does not fit. */
static int
url_decode(const char *s, size_t n, char *out, size_t outn, const char *what, struct err *e)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			if (i + 2 >= n || str_hex_digit(s[i + 1]) < 0 || str_hex_digit(s[i + 2]) < 0)
				return err_set(e, "imap url: bad %% escape in %s", what);
			c = str_hex_digit(s[i + 1]) * 16 + str_hex_digit(s[i + 2]);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f)
			return err_set(e, "imap url: control character in %s", what);
		if (o + 1 >= outn)
			return err_set(e, "imap url: %s too long", what);
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static int
parse_port(const char *s, size_t n, uint16_t *port, struct err *e)
{
	char tmp[8];
	int64_t v;

	if (n == 0 || n >= sizeof(tmp))
		return err_set(e, "imap url: bad port");
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (str_to_int64(tmp, 1, 65535, &v) == -1)
		return err_set(e, "imap url: bad port \"%s\"", tmp);
	*port = (uint16_t)v;
	return 0;
}

/* host[:port] or [v6]:port */
static int
parse_hostport(const char *s, size_t n, struct imap_url *u, struct err *e)
{
	const char *colon = NULL, *hs = s;
	size_t hn;

	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (close == NULL)
			return err_set(e, "imap url: unclosed [ in host");
		hs = s + 1;
		hn = (size_t)(close - hs);
		if (close + 1 < s + n) {
			if (close[1] != ':')
				return err_set(e, "imap url: junk after ]");
			colon = close + 1;
		}
	} else {
		colon = memchr(s, ':', n);
		hn = colon ? (size_t)(colon - s) : n;
	}
	if (hn == 0)
		return err_set(e, "imap url: no host");
	if (hn >= sizeof(u->host))
		return err_set(e, "imap url: host too long");
	for (size_t i = 0; i < hn; i++) {
		int c = (unsigned char)hs[i];

		if (!(c == '-' || c == '.' || c == ':' || c == '_' || (c >= '0' && c <= '9') ||
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return err_set(e, "imap url: bad character in host");
	}
	memcpy(u->host, hs, hn);
	u->host[hn] = '\0';
	if (colon != NULL)
		return parse_port(colon + 1, (size_t)(s + n - colon - 1), &u->port, e);
	return 0;
}

int
imap_url_parse(const char *url, struct imap_url *u, struct err *e)
{
	static const struct {
		const char *prefix;
		enum imap_tls tls;
		uint16_t port;
	} schemes[] = {
		{ "imap://", IMAP_TLS_NONE, 143 },
		{ "imaps://", IMAP_TLS_IMPLICIT, 993 },
		{ "imap+starttls://", IMAP_TLS_STARTTLS, 143 },
	};
	const char *p = NULL, *auth_end, *slash, *at;
	size_t k;

	memset(u, 0, sizeof(*u));
	for (k = 0; k < sizeof(schemes) / sizeof(schemes[0]); k++) {
		size_t n = strlen(schemes[k].prefix);

		if (strncmp(url, schemes[k].prefix, n) == 0) {
			p = url + n;
			u->tls = schemes[k].tls;
			u->port = schemes[k].port;
			break;
		}
	}
	if (p == NULL)
		return err_set(e, "imap url: scheme must be imap, imaps or imap+starttls");
	if (strpbrk(p, "?#") != NULL)
		return err_set(e, "imap url: query and fragment are not supported");
	slash = strchr(p, '/');
	auth_end = slash ? slash : p + strlen(p);
	/* The password may hold '@' only percent-encoded; the last '@' before
	 * the path ends the user information all the same. */
	at = NULL;
	for (const char *q = p; q < auth_end; q++)
		if (*q == '@')
			at = q;
	if (at != NULL) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		size_t un = colon ? (size_t)(colon - p) : (size_t)(at - p);

		if (url_decode(p, un, u->user, sizeof(u->user), "user", e) == -1)
			return -1;
		if (colon != NULL && url_decode(colon + 1, (size_t)(at - colon - 1), u->password,
		    sizeof(u->password), "password", e) == -1)
			return -1;
		p = at + 1;
	}
	if (parse_hostport(p, (size_t)(auth_end - p), u, e) == -1)
		return -1;
	if (slash == NULL || slash[1] == '\0')
		snprintf(u->mailbox, sizeof(u->mailbox), "INBOX");
	else if (url_decode(slash + 1, strlen(slash + 1), u->mailbox, sizeof(u->mailbox),
	    "mailbox", e) == -1)
		return -1;
	return 0;
}

void
imap_url_name(const struct imap_url *u, char *out, size_t n)
{
	int v6 = strchr(u->host, ':') != NULL;

	snprintf(out, n, "imap://%s%s%s%s%s:%u/%s", u->user, u->user[0] ? "@" : "",
	    v6 ? "[" : "", u->host, v6 ? "]" : "", (unsigned)u->port, u->mailbox);
}
