/* config_values.c - checking and normalising the values of things.conf:
 * endpoint URLs, paths, the List-Id, organiser lists. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "content_int.h"
#include "config_int.h"

#define ORGANISERS_MAX 64
#define LIST_ID_MAX 200
#define SLUG_MAX 60

char *
cfg_abs_path(const char *dir, const char *path)
{
	if (path[0] == '/')
		return strdup(path);
	return path_join(dir, path);
}

void
cfg_url_mask(const char *url, char *out, size_t n)
{
	const char *auth = strstr(url, "://"), *end, *at, *colon;

	if (auth == NULL) {
		snprintf(out, n, "%s", url);
		return;
	}
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	at = NULL;
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon == NULL) {
		snprintf(out, n, "%s", url);
		return;
	}
	snprintf(out, n, "%.*s***%s", (int)(colon + 1 - url), url, at);
}

static int
host_char(int c)
{
	return isalnum(c) || c == '.' || c == '-' || c == '_';
}

/* Checks "scheme://[user[:password]@]host[:port][/path]" after the scheme;
 * p points just after "://".  The userinfo may hold anything but '/', '?',
 * '#' and '@', which must be percent-encoded as RFC 3986 says. */
static int
check_authority(const char *p, const char *masked, struct err *e)
{
	const char *end = p + strcspn(p, "/?#"), *host = p, *hend, *at = NULL;

	for (const char *q = p; q < end; q++)
		if (*q == '@')
			at = q;
	if (at)
		host = at + 1;
	if (*host == '[') {
		hend = memchr(host, ']', (size_t)(end - host));
		if (hend == NULL || hend == host + 1)
			return err_set(e, "'%s': bad IPv6 address", masked);
		for (const char *q = host + 1; q < hend; q++)
			if (!isxdigit((unsigned char)*q) && *q != ':' && *q != '.')
				return err_set(e, "'%s': bad IPv6 address", masked);
		hend++;
	} else {
		hend = host;
		while (hend < end && host_char((unsigned char)*hend))
			hend++;
		if (hend == host)
			return err_set(e, "'%s' has no host", masked);
	}
	if (hend < end) {
		int64_t port;
		char digits[8];
		size_t n = (size_t)(end - hend - 1);

		if (*hend != ':' || n == 0 || n >= sizeof(digits))
			return err_set(e, "'%s': bad host or port", masked);
		memcpy(digits, hend + 1, n);
		digits[n] = '\0';
		if (str_to_int64(digits, 1, 65535, &port) == -1)
			return err_set(e, "'%s': port must be 1..65535", masked);
	}
	return 0;
}

int
cfg_url_check(const char *url, const char *const *schemes, const char *dir, char **out,
    struct err *e)
{
	char masked[300], want[128] = "";
	size_t used = 0;

	cfg_url_mask(url, masked, sizeof(masked));
	if (strchr(url, ' ') || str_has_ctl(url, 0))
		return err_set(e, "'%s' holds a space or control character", masked);
	if (dir && strncmp(url, "maildir:", 8) == 0) {
		char *path;

		if (url[8] == '\0')
			return err_set(e, "'maildir:' needs a directory after the colon");
		path = cfg_abs_path(dir, url + 8);
		if (path == NULL)
			return err_set(e, "out of memory");
		if (asprintf(out, "maildir:%s", path) == -1) {
			free(path);
			return err_set(e, "out of memory");
		}
		free(path);
		return 0;
	}
	for (size_t i = 0; schemes[i]; i++) {
		size_t n = strlen(schemes[i]);

		if (strncmp(url, schemes[i], n) == 0 && strncmp(url + n, "://", 3) == 0) {
			if (check_authority(url + n + 3, masked, e) == -1)
				return -1;
			*out = strdup(url);
			return *out ? 0 : err_set(e, "out of memory");
		}
		used += (size_t)snprintf(want + used, sizeof(want) - used, "%s%s://",
		    i ? ", " : "", schemes[i]);
		if (used >= sizeof(want))
			used = sizeof(want) - 1;
	}
	return err_set(e, "'%s': the URL must start with %s%s", masked, want,
	    dir ? " or maildir:" : "");
}

int
cfg_list_id_check(const char *s, struct err *e)
{
	size_t n = strlen(s);

	if (n > LIST_ID_MAX)
		return err_set(e, "list_id is longer than %d characters", LIST_ID_MAX);
	if (strchr(s, '.') == NULL || s[0] == '.' || s[n - 1] == '.' || strstr(s, ".."))
		return err_set(e, "list_id '%s' must look like name.domain (RFC 2919)", s);
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-_+=!#$%&'*/?^`{|}~", *p))
			return err_set(e, "list_id '%s' has a character a List-Id cannot hold", s);
	return 0;
}

char *
cfg_list_id_default(const char *name, const char *address)
{
	char slug[SLUG_MAX + 1];
	size_t n = 0;
	int dash = 0;
	char *out;

	for (const char *p = name; *p && n < SLUG_MAX; p++) {
		if (isalnum((unsigned char)*p) && (unsigned char)*p < 0x80) {
			if (dash && n > 0)
				slug[n++] = '-';
			dash = 0;
			if (n < SLUG_MAX)
				slug[n++] = (char)tolower((unsigned char)*p);
		} else {
			dash = 1;
		}
	}
	slug[n] = '\0';
	if (asprintf(&out, "%s.%s", n ? slug : "things", addr_domain(address)) == -1)
		return NULL;
	return out;
}

int
cfg_organisers_add(struct programme_config *cfg, const char *value, struct err *e)
{
	const char *p = value;

	while (*p) {
		char token[ADDR_MAX + 2], addr[ADDR_MAX + 1];
		size_t n = strcspn(p, ", \t");
		int dup = 0;

		if (n == 0) {
			p++;
			continue;
		}
		if (n > ADDR_MAX)
			return err_set(e, "organiser address longer than %d bytes", ADDR_MAX);
		memcpy(token, p, n);
		token[n] = '\0';
		p += n;
		if (addr_normalize(token, addr, sizeof(addr), e) == -1)
			return err_prefix(e, "organisers");
		for (size_t i = 0; i < cfg->norganisers; i++)
			dup |= strcmp(cfg->organisers[i], addr) == 0;
		if (dup)
			continue;
		if (cfg->norganisers == ORGANISERS_MAX)
			return err_set(e, "more than %d organisers", ORGANISERS_MAX);
		char **grown = realloc(cfg->organisers, (cfg->norganisers + 1) * sizeof(*grown));
		if (grown == NULL)
			return err_set(e, "out of memory");
		cfg->organisers = grown;
		if ((grown[cfg->norganisers] = strdup(addr)) == NULL)
			return err_set(e, "out of memory");
		cfg->norganisers++;
	}
	return 0;
}

int
cfg_file_readable(const char *path, struct err *e)
{
	if (access(path, R_OK) == -1)
		return err_set(e, "cannot read '%s'", path);
	return 0;
}
