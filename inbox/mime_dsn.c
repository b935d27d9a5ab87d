/*
 * mime_dsn.c - the machine-readable part of a delivery status notification
 * (RFC 3464): blocks of header-like fields separated by blank lines, one
 * for the message, then one per recipient.  libetpan's header parser reads
 * each block; the choice of recipient and the value syntax are here.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse_internal.h"

#define DSN_MAX_BLOCKS 100

struct dsn_block {
	const char *final;
	const char *original;
	const char *action;
	const char *status;
};

/* "rfc822; user@example.org" -> the normalized address, or "" */
static void
dsn_address(const char *v, char out[ADDR_MAX + 1])
{
	const char *semi = strchr(v, ';');
	const char *a = semi != NULL ? semi + 1 : v;
	size_t n;
	char tmp[ADDR_MAX + 1];

	out[0] = '\0';
	while (isspace((unsigned char)*a) || *a == '<')
		a++;
	n = strcspn(a, " \t\r\n>");
	if (n == 0 || n > ADDR_MAX)
		return;
	memcpy(tmp, a, n);
	tmp[n] = '\0';
	if (!str_valid_utf8(tmp, n) || addr_normalize(tmp, out, ADDR_MAX + 1, NULL) == -1)
		out[0] = '\0';
}

/* "5.1.1 (comment)" -> "5.1.1"; "" unless class.subject.detail. */
static void
dsn_status(const char *v, char *out, size_t n)
{
	size_t i = 0, dots = 0, digits = 0;

	while (isspace((unsigned char)*v))
		v++;
	if (*v != '2' && *v != '4' && *v != '5') {
		out[0] = '\0';
		return;
	}
	for (; v[i] && i + 1 < n && (isdigit((unsigned char)v[i]) || v[i] == '.'); i++) {
		if (v[i] == '.') {
			if (digits == 0 || digits > 3)
				break;
			dots++;
			digits = 0;
		} else {
			digits++;
		}
		out[i] = v[i];
	}
	out[i] = '\0';
	if (dots != 2 || digits == 0 || digits > 3)
		out[0] = '\0';
}

static void
dsn_action(const char *v, char *out, size_t n)
{
	size_t i = 0;

	while (isspace((unsigned char)*v))
		v++;
	while (isalpha((unsigned char)v[i]) && i + 1 < n) {
		out[i] = (char)tolower((unsigned char)v[i]);
		i++;
	}
	out[i] = '\0';
}

static void
read_block(const struct mailimf_fields *f, struct dsn_block *b)
{
	memset(b, 0, sizeof(*b));
	for (clistiter *it = clist_begin(f->fld_list); it != NULL; it = clist_next(it)) {
		const struct mailimf_field *fld = clist_content(it);
		const struct mailimf_optional_field *o;

		if (fld == NULL || fld->fld_type != MAILIMF_FIELD_OPTIONAL_FIELD)
			continue;
		o = fld->fld_data.fld_optional_field;
		if (o == NULL || o->fld_name == NULL || o->fld_value == NULL)
			continue;
		if (strcasecmp(o->fld_name, "Final-Recipient") == 0 && b->final == NULL)
			b->final = o->fld_value;
		else if (strcasecmp(o->fld_name, "Original-Recipient") == 0 && b->original == NULL)
			b->original = o->fld_value;
		else if (strcasecmp(o->fld_name, "Action") == 0 && b->action == NULL)
			b->action = o->fld_value;
		else if (strcasecmp(o->fld_name, "Status") == 0 && b->status == NULL)
			b->status = o->fld_value;
	}
}

static int
set_copy(char **field, const char *v)
{
	char *s = strdup(v);

	if (s == NULL)
		return -1;
	free(*field);
	*field = s;
	return 0;
}

/* Stores block b into m; -1 out of memory. */
static int
take_block(const struct dsn_block *b, struct inbox_message *m)
{
	char addr[ADDR_MAX + 1], word[32];

	dsn_address(b->final, addr);
	if (set_copy(&m->dsn_recipient, addr) == -1)
		return -1;
	addr[0] = '\0';
	if (b->original != NULL)
		dsn_address(b->original, addr);
	if (set_copy(&m->dsn_original_recipient, addr) == -1)
		return -1;
	word[0] = '\0';
	if (b->action != NULL)
		dsn_action(b->action, word, sizeof(word));
	if (set_copy(&m->dsn_action, word) == -1)
		return -1;
	word[0] = '\0';
	if (b->status != NULL)
		dsn_status(b->status, word, sizeof(word));
	return set_copy(&m->dsn_status, word);
}

int
mime_dsn_parse(const char *body, size_t len, struct inbox_message *m)
{
	size_t idx = 0;
	int taken = 0, rc = 0;

	for (int nblock = 0; nblock < DSN_MAX_BLOCKS && idx < len && rc == 0; nblock++) {
		struct mailimf_fields *f = NULL;
		size_t start;
		int r;

		while (idx < len && (body[idx] == '\r' || body[idx] == '\n'))
			idx++;
		start = idx;
		r = mailimf_optional_fields_parse(body, len, &idx, &f);
		if (r == MAILIMF_ERROR_MEMORY)
			return -1;
		if (r == MAILIMF_NO_ERROR && f != NULL) {
			struct dsn_block b;
			int failed;

			read_block(f, &b);
			failed = b.action != NULL && strncasecmp(b.action + strspn(b.action, " \t"),
			    "failed", 6) == 0;
			if (b.final != NULL && (!taken || (taken == 1 && failed))) {
				rc = take_block(&b, m);
				taken = failed ? 2 : 1;
			}
			mailimf_fields_free(f);
		}
		if (idx == start) {
			/* Not a field: skip the line. */
			while (idx < len && body[idx] != '\n')
				idx++;
		}
	}
	return rc;
}
