/*
 * mime_report.c - the addresses of an abuse report (RFC 5965, a mailbox
 * provider's feedback loop) that may carry the participant's token: the
 * report's Original-Mail-From (our VERP address, things+bounce-TOKEN@),
 * and the Return-Path, List-Unsubscribe (mailto: things+unsubscribe-TOKEN@)
 * and To of the original message it encloses (message/rfc822, or only its
 * header as text/rfc822-headers).  Parsing only: the classifier decides
 * which of them, if any, is ours and what it means.  Feedback loops often
 * redact the recipient's address; the list headers usually survive.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse_internal.h"

#define REPORT_MAX_ADDRS 8
#define REPORT_MAX_FIELDS 200

/* Adds addr to m->report_addrs (space separated, deduplicated, at most
 * REPORT_MAX_ADDRS).  -1 out of memory. */
static int
add_addr(struct inbox_message *m, const char *addr)
{
	size_t have = strlen(m->report_addrs), n = strlen(addr), count = have > 0;
	char *s;

	for (const char *p = m->report_addrs; *p; p += strspn(p, " ")) {
		size_t w = strcspn(p, " ");

		if (w == n && strncmp(p, addr, n) == 0)
			return 0;
		p += w;
		count++;
	}
	if (n == 0 || count >= REPORT_MAX_ADDRS)
		return 0;
	if ((s = realloc(m->report_addrs, have + n + 2)) == NULL)
		return -1;
	if (have > 0)
		s[have++] = ' ';
	memcpy(s + have, addr, n + 1);
	m->report_addrs = s;
	return 0;
}

static int
add_found(struct inbox_message *m, char (*addrs)[ADDR_MAX + 1], size_t n)
{
	if (n == (size_t)-1)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (add_addr(m, addrs[i]) == -1)
			return -1;
	return 0;
}

/* v: a raw field value; list: an address list (To), else any field
 * (Return-Path, List-Unsubscribe's mailto URLs) */
static int
add_raw(struct inbox_message *m, const char *v, int list)
{
	char addrs[REPORT_MAX_ADDRS][ADDR_MAX + 1];

	return add_found(m, addrs, parse_header_addresses(v, list, addrs, REPORT_MAX_ADDRS));
}

static int
add_list(struct inbox_message *m, const struct mailimf_address_list *al)
{
	char addrs[REPORT_MAX_ADDRS][ADDR_MAX + 1];

	return add_found(m, addrs, parse_list_addresses(al, addrs, REPORT_MAX_ADDRS));
}

static int
wanted(const char *name, int in_report)
{
	if (in_report)
		return strcasecmp(name, "Original-Mail-From") == 0;
	return strcasecmp(name, "Return-Path") == 0 || strcasecmp(name, "List-Unsubscribe") == 0 ||
	    strcasecmp(name, "To") == 0;
}

/* The addresses of the fields wanted in f (typed or left raw). */
static int
take_fields(const struct mailimf_fields *f, int in_report, struct inbox_message *m)
{
	size_t nfields = 0;

	if (f == NULL || f->fld_list == NULL)
		return 0;
	for (clistiter *it = clist_begin(f->fld_list); it != NULL && nfields < REPORT_MAX_FIELDS;
	     it = clist_next(it), nfields++) {
		const struct mailimf_field *fld = clist_content(it);
		const struct mailimf_optional_field *o;
		int rc = 0;

		if (fld == NULL)
			continue;
		if (fld->fld_type == MAILIMF_FIELD_RETURN_PATH && !in_report &&
		    fld->fld_data.fld_return_path != NULL &&
		    fld->fld_data.fld_return_path->ret_path != NULL &&
		    fld->fld_data.fld_return_path->ret_path->pt_addr_spec != NULL) {
			rc = add_raw(m, fld->fld_data.fld_return_path->ret_path->pt_addr_spec, 0);
		} else if (fld->fld_type == MAILIMF_FIELD_TO && !in_report &&
		    fld->fld_data.fld_to != NULL) {
			rc = add_list(m, fld->fld_data.fld_to->to_addr_list);
		} else if (fld->fld_type == MAILIMF_FIELD_OPTIONAL_FIELD &&
		    (o = fld->fld_data.fld_optional_field) != NULL && o->fld_name != NULL &&
		    o->fld_value != NULL && wanted(o->fld_name, in_report)) {
			rc = add_raw(m, o->fld_value, strcasecmp(o->fld_name, "To") == 0);
		}
		if (rc == -1)
			return -1;
	}
	return 0;
}

int
mime_report_fields(const char *body, size_t len, int in_report, struct inbox_message *m)
{
	struct mailimf_fields *f = NULL;
	size_t idx = 0;
	int r;

	/* the report's fields are no message header: read every one raw */
	r = in_report ? mailimf_optional_fields_parse(body, len, &idx, &f)
		      : mailimf_envelope_and_optional_fields_parse(body, len, &idx, &f);
	if (r == MAILIMF_ERROR_MEMORY)
		return -1;
	r = r == MAILIMF_NO_ERROR ? take_fields(f, in_report, m) : 0;
	if (f != NULL)
		mailimf_fields_free(f);
	return r;
}

int
mime_report_original(const struct mailmime *msg, struct inbox_message *m)
{
	if (msg == NULL || msg->mm_type != MAILMIME_MESSAGE)
		return 0;
	return take_fields(msg->mm_data.mm_message.mm_fields, 0, m);
}
