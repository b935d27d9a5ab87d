/*
 * mime_param.c - MIME parameters, RFC 2231 included.
 *
 * libetpan 1.9.4 hands back parameters as written: "filename*=utf-8''caf%C3%A9",
 * "name*0=...; name*1=..." stay separate and percent-encoded (later upstream
 * versions decode them; Debian 12's does not).  The decoder here is small:
 * find the sections, percent-decode the extended ones, join them in section
 * order, convert from the declared charset with charset_to_utf8.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse_internal.h"

#define PARAM_MAX_VALUE ((size_t)64 << 10)

void
mime_params_of_content(const struct mailmime_content *ct, struct mime_params *p)
{
	p->n = 0;
	if (ct == NULL || ct->ct_parameters == NULL)
		return;
	for (clistiter *it = clist_begin(ct->ct_parameters); it != NULL; it = clist_next(it)) {
		const struct mailmime_parameter *pa = clist_content(it);

		if (p->n == MIME_MAX_PARAMS)
			break;
		if (pa == NULL || pa->pa_name == NULL || pa->pa_value == NULL)
			continue;
		p->name[p->n] = pa->pa_name;
		p->value[p->n++] = pa->pa_value;
	}
}

void
mime_params_of_disposition(const struct mailmime_disposition *d, struct mime_params *p)
{
	p->n = 0;
	if (d == NULL || d->dsp_parms == NULL)
		return;
	for (clistiter *it = clist_begin(d->dsp_parms); it != NULL; it = clist_next(it)) {
		const struct mailmime_disposition_parm *dp = clist_content(it);

		if (p->n == MIME_MAX_PARAMS)
			break;
		if (dp == NULL)
			continue;
		if (dp->pa_type == MAILMIME_DISPOSITION_PARM_FILENAME && dp->pa_data.pa_filename) {
			p->name[p->n] = "filename";
			p->value[p->n++] = dp->pa_data.pa_filename;
		} else if (dp->pa_type == MAILMIME_DISPOSITION_PARM_PARAMETER &&
		    dp->pa_data.pa_parameter != NULL && dp->pa_data.pa_parameter->pa_name != NULL &&
		    dp->pa_data.pa_parameter->pa_value != NULL) {
			p->name[p->n] = dp->pa_data.pa_parameter->pa_name;
			p->value[p->n++] = dp->pa_data.pa_parameter->pa_value;
		}
	}
}

static int
append_percent_decoded(struct buf *b, const char *s)
{
	for (; *s; s++) {
		char c = *s;

		if (c == '%' && str_hex_digit(s[1]) >= 0 && str_hex_digit(s[2]) >= 0) {
			c = (char)(str_hex_digit(s[1]) * 16 + str_hex_digit(s[2]));
			s += 2;
		}
		if (b->len >= b->max)
			return 0; /* too long: keep what fits */
		if (buf_append(b, &c, 1) == -1)
			return -1;
	}
	return 0;
}

/* Splits "charset'language'text": copies a sane charset name into cs and
 * returns the text.  Without two quotes the whole value is text. */
static const char *
split_extended(const char *v, char *cs, size_t cslen)
{
	const char *q1 = strchr(v, '\''), *q2;
	size_t n;

	cs[0] = '\0';
	if (q1 == NULL || (q2 = strchr(q1 + 1, '\'')) == NULL)
		return v;
	n = (size_t)(q1 - v);
	if (n < cslen) {
		memcpy(cs, v, n);
		cs[n] = '\0';
		for (size_t i = 0; i < n; i++)
			if (!(cs[i] >= '0' && cs[i] <= '9') && !((cs[i] | 0x20) >= 'a' && (cs[i] | 0x20) <= 'z') &&
			    strchr("-_.:+", cs[i]) == NULL)
				cs[0] = '\0';
	}
	return q2 + 1;
}

/* If pname is "name*" returns -1 (single extended); "name*N" or "name*N*"
 * returns N and sets *encoded; anything else returns -2. */
static int
section_of(const char *pname, const char *name, int *encoded)
{
	size_t nl = strlen(name);
	const char *p;
	int sec = 0;

	if (strncasecmp(pname, name, nl) != 0 || pname[nl] != '*')
		return -2;
	p = pname + nl + 1;
	*encoded = 1;
	if (*p == '\0')
		return -1;
	if (*p < '0' || *p > '9')
		return -2;
	for (; *p >= '0' && *p <= '9'; p++) {
		sec = sec * 10 + (*p - '0');
		if (sec >= MIME_MAX_PARAMS)
			return -2;
	}
	*encoded = *p == '*';
	if (*p == '*')
		p++;
	return *p == '\0' ? sec : -2;
}

/* Joins the extended form of name into raw; sets cs.  1 if there was one. */
static int
join_extended(const struct mime_params *p, const char *name, struct buf *raw, char *cs,
    size_t cslen)
{
	int idx[MIME_MAX_PARAMS], enc[MIME_MAX_PARAMS];

	for (size_t s = 0; s < MIME_MAX_PARAMS; s++)
		idx[s] = -1;
	for (size_t i = 0; i < p->n; i++) {
		int e = 0, sec = section_of(p->name[i], name, &e);

		if (sec == -1) {
			const char *text = split_extended(p->value[i], cs, cslen);

			return append_percent_decoded(raw, text) == -1 ? -1 : 1;
		}
		if (sec >= 0 && idx[sec] == -1) {
			idx[sec] = (int)i;
			enc[sec] = e;
		}
	}
	if (idx[0] == -1)
		return 0;
	for (size_t s = 0; s < MIME_MAX_PARAMS && idx[s] != -1; s++) {
		const char *v = p->value[idx[s]];

		if (s == 0 && enc[0])
			v = split_extended(v, cs, cslen);
		if (enc[s] ? append_percent_decoded(raw, v) == -1
			   : buf_append_clipped(raw, v, strlen(v), NULL) == -1)
			return -1;
	}
	return 1;
}

int
mime_param_get(const struct mime_params *p, const char *name, char **out)
{
	struct buf raw;
	char cs[64] = "";
	int found;

	*out = NULL;
	buf_init(&raw, PARAM_MAX_VALUE);
	found = join_extended(p, name, &raw, cs, sizeof(cs));
	if (found == -1) {
		buf_free(&raw);
		return -1;
	}
	for (size_t i = 0; found == 0 && i < p->n; i++) {
		if (strcasecmp(p->name[i], name) == 0) {
			if (buf_append_clipped(&raw, p->value[i], strlen(p->value[i]), NULL) == -1) {
				buf_free(&raw);
				return -1;
			}
			found = 1;
		}
	}
	if (found)
		*out = charset_to_utf8(cs, buf_str(&raw), raw.len, NULL);
	buf_free(&raw);
	if (found && *out == NULL)
		return -1;
	return found;
}
