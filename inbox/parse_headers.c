/*
 * parse_headers.c - the top-level header fields of a message, into the
 * plain fields of struct inbox_message.
 *
 * libetpan parses the fields it knows (From, To, Message-ID, ...) into
 * typed structs; a field whose syntax it cannot read comes back as an
 * "optional field" with its raw value, and so do the fields it does not
 * know (Auto-Submitted, List-Id, Delivered-To).  For each field the first
 * occurrence counts, typed or not; broken values get a tolerant fallback
 * (addresses found around an "@", ids between "<" and ">").
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse_internal.h"

#define MSGID_MAX 256

enum seen_bit {
	SEEN_FROM = 1 << 0,
	SEEN_REPLY_TO = 1 << 1,
	SEEN_MSGID = 1 << 2,
	SEEN_IRT = 1 << 3,
	SEEN_REFS = 1 << 4,
	SEEN_SUBJECT = 1 << 5,
	SEEN_RETURN = 1 << 6,
};

struct hdrs {
	struct inbox_message *m;
	unsigned seen;
	char rcpt[INBOX_MAX_RECIPIENTS][ADDR_MAX + 1];
	size_t nrcpt;
	char *refs[INBOX_MAX_REFS];
	size_t nrefs;
	int oom;
};

/* Writes the normalized form of an addr-spec (spaces and brackets
 * trimmed) into out; 0, or -1 if it is not a usable address. */
static int
addr_clean(const char *s, size_t n, char out[ADDR_MAX + 1])
{
	char tmp[ADDR_MAX + 1];

	while (n > 0 && (isspace((unsigned char)*s) || *s == '<'))
		s++, n--;
	while (n > 0 && (isspace((unsigned char)s[n - 1]) || s[n - 1] == '>'))
		n--;
	if (n == 0 || n > ADDR_MAX || !str_valid_utf8(s, n))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return addr_normalize(tmp, out, ADDR_MAX + 1, NULL);
}

static int
addr_char(unsigned char c)
{
	return isalnum(c) || c >= 0x80 || strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL;
}

/* Calls fn for every address-looking run around an "@" in raw text: the
 * fallback for values libetpan could not parse. */
static void
scan_addresses(const char *v, void (*fn)(struct hdrs *, const char *), struct hdrs *h)
{
	size_t len = strnlen(v, HEADER_MAX_RAW);

	for (size_t i = 0; i < len; i++) {
		size_t a = i, b = i + 1;
		char out[ADDR_MAX + 1];

		if (v[i] != '@')
			continue;
		while (a > 0 && addr_char((unsigned char)v[a - 1]))
			a--;
		while (b < len && (isalnum((unsigned char)v[b]) || v[b] == '.' || v[b] == '-' ||
		    (unsigned char)v[b] >= 0x80))
			b++;
		if (addr_clean(v + a, b - a, out) == 0)
			fn(h, out);
		i = b > i ? b - 1 : i;
	}
}

static void
add_recipient(struct hdrs *h, const char *addr)
{
	for (size_t i = 0; i < h->nrcpt; i++)
		if (strcmp(h->rcpt[i], addr) == 0)
			return;
	if (h->nrcpt < INBOX_MAX_RECIPIENTS)
		memcpy(h->rcpt[h->nrcpt++], addr, strlen(addr) + 1);
}

static void
add_mailbox(struct hdrs *h, const struct mailimf_mailbox *mb)
{
	char out[ADDR_MAX + 1];

	if (mb != NULL && mb->mb_addr_spec != NULL &&
	    addr_clean(mb->mb_addr_spec, strlen(mb->mb_addr_spec), out) == 0)
		add_recipient(h, out);
}

static void
add_address_list(struct hdrs *h, const struct mailimf_address_list *al)
{
	if (al == NULL || al->ad_list == NULL)
		return;
	for (clistiter *it = clist_begin(al->ad_list); it != NULL; it = clist_next(it)) {
		const struct mailimf_address *ad = clist_content(it);

		if (ad == NULL)
			continue;
		if (ad->ad_type == MAILIMF_ADDRESS_MAILBOX) {
			add_mailbox(h, ad->ad_data.ad_mailbox);
		} else if (ad->ad_type == MAILIMF_ADDRESS_GROUP && ad->ad_data.ad_group != NULL &&
		    ad->ad_data.ad_group->grp_mb_list != NULL) {
			clist *l = ad->ad_data.ad_group->grp_mb_list->mb_list;

			for (clistiter *j = clist_begin(l); j != NULL; j = clist_next(j))
				add_mailbox(h, clist_content(j));
		}
	}
}

/* A recipient field libetpan left raw (Delivered-To, or a broken To). */
static void
add_raw_recipients(struct hdrs *h, const char *v)
{
	struct mailimf_address_list *al = NULL;
	size_t idx = 0, len = strnlen(v, HEADER_MAX_RAW);

	if (mailimf_address_list_parse(v, len, &idx, &al) == MAILIMF_NO_ERROR && al != NULL) {
		add_address_list(h, al);
		mailimf_address_list_free(al);
		return;
	}
	scan_addresses(v, add_recipient, h);
}

/* The addresses of v (raw: list, an address list if it parses; else
 * any) or of al into out (parse_internal.h). */
static size_t
addresses_of(const char *v, int list, const struct mailimf_address_list *al,
    char (*out)[ADDR_MAX + 1], size_t max)
{
	struct hdrs *h = calloc(1, sizeof(*h));
	size_t n;

	if (h == NULL)
		return (size_t)-1;
	if (v == NULL)
		add_address_list(h, al);
	else if (list)
		add_raw_recipients(h, v);
	else
		scan_addresses(v, add_recipient, h);
	for (n = 0; n < h->nrcpt && n < max; n++)
		memcpy(out[n], h->rcpt[n], ADDR_MAX + 1);
	free(h);
	return n;
}

size_t
parse_header_addresses(const char *v, int list, char (*out)[ADDR_MAX + 1], size_t max)
{
	return addresses_of(v, list, NULL, out, max);
}

size_t
parse_list_addresses(const struct mailimf_address_list *al, char (*out)[ADDR_MAX + 1], size_t max)
{
	return addresses_of(NULL, 1, al, out, max);
}

static int
set_str(char **field, char *value)
{
	if (value == NULL)
		return -1;
	free(*field);
	*field = value;
	return 0;
}

static int
set_from_mailbox(struct hdrs *h, const char *addr, const char *name, size_t namelen)
{
	char out[ADDR_MAX + 1];
	char *raw;

	if (addr != NULL && addr_clean(addr, strlen(addr), out) == 0 &&
	    set_str(&h->m->from_addr, strdup(out)) == -1)
		return -1;
	if (name == NULL || namelen == 0)
		return 0;
	while (namelen > 0 && isspace((unsigned char)*name))
		name++, namelen--;
	while (namelen > 0 && isspace((unsigned char)name[namelen - 1]))
		namelen--;
	raw = strndup(name, namelen < HEADER_MAX_RAW ? namelen : HEADER_MAX_RAW);
	if (raw == NULL)
		return -1;
	mime_unquote(raw);
	if (set_str(&h->m->from_name, mime_header_decode(raw, strlen(raw), NAME_MAX_BYTES)) == -1) {
		free(raw);
		return -1;
	}
	free(raw);
	return 0;
}

static void
first_address_cb(struct hdrs *h, const char *addr)
{
	if (h->nrcpt == 0)
		memcpy(h->rcpt[h->nrcpt++], addr, strlen(addr) + 1);
}

/* From: "Name" <addr> that libetpan could not read. */
static int
raw_from(struct hdrs *h, const char *v)
{
	const char *lt = strchr(v, '<');
	struct hdrs tmp = { .m = h->m };

	scan_addresses(v, first_address_cb, &tmp);
	if (tmp.nrcpt == 0)
		return 0;
	return set_from_mailbox(h, tmp.rcpt[0], v, lt != NULL ? (size_t)(lt - v) : 0);
}

static void
reply_to_cb(struct hdrs *h, const char *addr)
{
	if (h->m->reply_to[0] == '\0' && set_str(&h->m->reply_to, strdup(addr)) == -1)
		h->oom = 1;
}

/* A message id without brackets, or NULL if s[0..n) holds none usable. */
static char *
msgid_clean(const char *s, size_t n)
{
	while (n > 0 && (isspace((unsigned char)*s) || *s == '<'))
		s++, n--;
	while (n > 0 && (isspace((unsigned char)s[n - 1]) || s[n - 1] == '>'))
		n--;
	if (n == 0 || n > MSGID_MAX || !str_valid_utf8(s, n))
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f || s[i] == '<' || s[i] == '>')
			return NULL;
	return strndup(s, n);
}

/* Keeps the first id and the last INBOX_MAX_REFS - 1. */
static int
ref_add(struct hdrs *h, const char *s, size_t n)
{
	char *id = msgid_clean(s, n);

	if (id == NULL)
		return 0; /* unusable ids are skipped, not an error */
	if (h->nrefs == INBOX_MAX_REFS) {
		free(h->refs[1]);
		memmove(&h->refs[1], &h->refs[2], (INBOX_MAX_REFS - 2) * sizeof(h->refs[0]));
		h->nrefs--;
	}
	h->refs[h->nrefs++] = id;
	return 0;
}

/* Ids in raw text: every <...>, or the whole value if it has no brackets. */
static int
raw_ids(const char *v, int (*fn)(struct hdrs *, const char *, size_t), struct hdrs *h)
{
	size_t len = strnlen(v, HEADER_MAX_RAW);
	const char *p = v, *end = v + len;
	int any = 0;

	while (p < end && (p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		const char *q = memchr(p, '>', (size_t)(end - p));

		if (q == NULL)
			break;
		any = 1;
		if (fn(h, p + 1, (size_t)(q - p - 1)) == -1)
			return -1;
		p = q + 1;
	}
	return any ? 0 : fn(h, v, len);
}

static int
first_id(char **field, const char *s, size_t n)
{
	char *id;

	if ((*field)[0] != '\0')
		return 0;
	id = msgid_clean(s, n);
	return id != NULL ? set_str(field, id) : 0;
}

static int
irt_cb(struct hdrs *h, const char *s, size_t n)
{
	return first_id(&h->m->in_reply_to, s, n);
}

static int
msgid_cb(struct hdrs *h, const char *s, size_t n)
{
	return first_id(&h->m->message_id, s, n);
}

static int
set_subject(struct hdrs *h, const char *v)
{
	return set_str(&h->m->subject, mime_header_decode(v, strnlen(v, HEADER_MAX_RAW), SUBJECT_MAX));
}

/* The first word of a value, lowercase, for Auto-Submitted and Precedence. */
static void
first_word(const char *v, char *out, size_t n)
{
	size_t i = 0;

	while (isspace((unsigned char)*v))
		v++;
	while (*v && !isspace((unsigned char)*v) && *v != ';' && *v != '(' && i + 1 < n)
		out[i++] = (char)tolower((unsigned char)*v++);
	out[i] = '\0';
}

static int
null_path(const char *v)
{
	while (isspace((unsigned char)*v))
		v++;
	if (*v == '\0')
		return 1;
	if (*v++ != '<')
		return 0;
	while (isspace((unsigned char)*v))
		v++;
	return *v == '>';
}

static void
flag_field(struct hdrs *h, const char *name, const char *v)
{
	static const char *const vacation[] = {
		"X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Mail-Autoreply",
		"X-Autoreply-From",
	};
	struct inbox_message *m = h->m;
	char w[32];

	first_word(v, w, sizeof(w));
	for (size_t i = 0; i < sizeof(vacation) / sizeof(vacation[0]); i++)
		if (strcasecmp(name, vacation[i]) == 0)
			m->auto_submitted = m->x_autoreply = 1;
	if (strcasecmp(name, "Auto-Submitted") == 0 && strcmp(w, "no") != 0)
		m->auto_submitted = 1;
	/* X-Loop and its cousins are loop guards that only automatic
	 * processors add: ticket systems (OTRS/Znuny, RT) answer with them
	 * and no Auto-Submitted */
	if (strcasecmp(name, "X-Auto-Response-Suppress") == 0 ||
	    strcasecmp(name, "X-Autogenerated") == 0 || strcasecmp(name, "X-Loop") == 0 ||
	    strcasecmp(name, "X-OTRS-Loop") == 0 || strcasecmp(name, "RT-Loop-Prevention") == 0 ||
	    strcasecmp(name, "X-RT-Loop-Prevention") == 0)
		m->auto_submitted = 1;
	if (strcasecmp(name, "Precedence") == 0) {
		if (strcmp(w, "bulk") == 0 || strcmp(w, "junk") == 0 || strcmp(w, "list") == 0)
			m->bulk = 1;
		if (strcmp(w, "auto_reply") == 0 || strcmp(w, "auto-reply") == 0)
			m->auto_submitted = m->x_autoreply = 1;
	}
	if (strcasecmp(name, "List-Id") == 0)
		m->has_list_id = m->bulk = 1;
	if (strcasecmp(name, "List-Unsubscribe") == 0)
		m->has_list_unsubscribe = m->bulk = 1;
}

static int
first_time(struct hdrs *h, unsigned bit)
{
	if (h->seen & bit)
		return 0;
	h->seen |= bit;
	return 1;
}

static int
optional_field(struct hdrs *h, const char *name, const char *v)
{
	static const char *const rcpt[] = {
		"To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To",
	};

	for (size_t i = 0; i < sizeof(rcpt) / sizeof(rcpt[0]); i++)
		if (strcasecmp(name, rcpt[i]) == 0)
			add_raw_recipients(h, v);
	if (strcasecmp(name, "From") == 0 && first_time(h, SEEN_FROM))
		return raw_from(h, v);
	if (strcasecmp(name, "Reply-To") == 0 && first_time(h, SEEN_REPLY_TO))
		scan_addresses(v, reply_to_cb, h);
	if (strcasecmp(name, "Message-ID") == 0 && first_time(h, SEEN_MSGID))
		return raw_ids(v, msgid_cb, h);
	if (strcasecmp(name, "In-Reply-To") == 0 && first_time(h, SEEN_IRT))
		return raw_ids(v, irt_cb, h);
	if (strcasecmp(name, "References") == 0 && first_time(h, SEEN_REFS))
		return raw_ids(v, ref_add, h);
	if (strcasecmp(name, "Subject") == 0 && first_time(h, SEEN_SUBJECT))
		return set_subject(h, v);
	if (strcasecmp(name, "Return-Path") == 0 && first_time(h, SEEN_RETURN))
		h->m->null_sender = null_path(v);
	flag_field(h, name, v);
	return 0;
}

static int
id_list(struct hdrs *h, clist *l, int (*fn)(struct hdrs *, const char *, size_t))
{
	for (clistiter *it = clist_begin(l); it != NULL; it = clist_next(it)) {
		const char *id = clist_content(it);

		if (id != NULL && fn(h, id, strlen(id)) == -1)
			return -1;
	}
	return 0;
}

static int
typed_field(struct hdrs *h, const struct mailimf_field *f)
{
	switch (f->fld_type) {
	case MAILIMF_FIELD_FROM:
		if (first_time(h, SEEN_FROM) && f->fld_data.fld_from != NULL &&
		    f->fld_data.fld_from->frm_mb_list != NULL) {
			const struct mailimf_mailbox *mb =
			    clist_content(clist_begin(f->fld_data.fld_from->frm_mb_list->mb_list));

			if (mb != NULL)
				return set_from_mailbox(h, mb->mb_addr_spec, mb->mb_display_name,
				    mb->mb_display_name ? strlen(mb->mb_display_name) : 0);
		}
		return 0;
	case MAILIMF_FIELD_REPLY_TO:
		if (first_time(h, SEEN_REPLY_TO) && f->fld_data.fld_reply_to != NULL) {
			struct hdrs tmp = { .m = h->m };

			add_address_list(&tmp, f->fld_data.fld_reply_to->rt_addr_list);
			if (tmp.nrcpt > 0)
				return set_str(&h->m->reply_to, strdup(tmp.rcpt[0]));
		}
		return 0;
	case MAILIMF_FIELD_TO:
		if (f->fld_data.fld_to != NULL)
			add_address_list(h, f->fld_data.fld_to->to_addr_list);
		return 0;
	case MAILIMF_FIELD_CC:
		if (f->fld_data.fld_cc != NULL)
			add_address_list(h, f->fld_data.fld_cc->cc_addr_list);
		return 0;
	case MAILIMF_FIELD_MESSAGE_ID:
		if (first_time(h, SEEN_MSGID) && f->fld_data.fld_message_id != NULL &&
		    f->fld_data.fld_message_id->mid_value != NULL)
			return msgid_cb(h, f->fld_data.fld_message_id->mid_value,
			    strlen(f->fld_data.fld_message_id->mid_value));
		return 0;
	case MAILIMF_FIELD_IN_REPLY_TO:
		if (first_time(h, SEEN_IRT) && f->fld_data.fld_in_reply_to != NULL)
			return id_list(h, f->fld_data.fld_in_reply_to->mid_list, irt_cb);
		return 0;
	case MAILIMF_FIELD_REFERENCES:
		if (first_time(h, SEEN_REFS) && f->fld_data.fld_references != NULL)
			return id_list(h, f->fld_data.fld_references->mid_list, ref_add);
		return 0;
	case MAILIMF_FIELD_SUBJECT:
		if (first_time(h, SEEN_SUBJECT) && f->fld_data.fld_subject != NULL &&
		    f->fld_data.fld_subject->sbj_value != NULL)
			return set_subject(h, f->fld_data.fld_subject->sbj_value);
		return 0;
	case MAILIMF_FIELD_RETURN_PATH:
		if (first_time(h, SEEN_RETURN) && f->fld_data.fld_return_path != NULL) {
			const struct mailimf_path *p = f->fld_data.fld_return_path->ret_path;

			h->m->null_sender = p == NULL || p->pt_addr_spec == NULL ||
			    p->pt_addr_spec[0] == '\0';
		}
		return 0;
	case MAILIMF_FIELD_OPTIONAL_FIELD:
		if (f->fld_data.fld_optional_field != NULL &&
		    f->fld_data.fld_optional_field->fld_name != NULL &&
		    f->fld_data.fld_optional_field->fld_value != NULL)
			return optional_field(h, f->fld_data.fld_optional_field->fld_name,
			    f->fld_data.fld_optional_field->fld_value);
		return 0;
	default:
		return 0;
	}
}

static int
join_recipients(struct hdrs *h)
{
	struct buf b;

	buf_init(&b, (size_t)INBOX_MAX_RECIPIENTS * (ADDR_MAX + 1) + 1);
	for (size_t i = 0; i < h->nrcpt; i++)
		if ((i > 0 && buf_putc(&b, ' ') == -1) || buf_puts(&b, h->rcpt[i]) == -1) {
			buf_free(&b);
			return -1;
		}
	return set_str(&h->m->to_addrs, buf_steal(&b));
}

int
parse_headers(const struct mailimf_fields *fields, struct inbox_message *m)
{
	struct hdrs *h;
	int rc = 0;

	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -1;
	h->m = m;
	if (fields != NULL && fields->fld_list != NULL) {
		for (clistiter *it = clist_begin(fields->fld_list); it != NULL && rc == 0;
		     it = clist_next(it)) {
			const struct mailimf_field *f = clist_content(it);

			if (f != NULL)
				rc = typed_field(h, f);
		}
	}
	if (rc == 0 && h->oom)
		rc = -1;
	if (rc == 0)
		rc = join_recipients(h);
	for (size_t i = 0; i < h->nrefs; i++) {
		if (rc == 0)
			m->references[m->nreferences++] = h->refs[i];
		else
			free(h->refs[i]);
	}
	if (rc == 0)
		m->vacation_subject = parse_vacation_subject(m->subject);
	free(h);
	return rc;
}

/* Subjects of out-of-office notices.  Phrases are matched anywhere (the
 * notice usually quotes the original subject after them); single words
 * only at the start and followed by ":" or the end, so that "Re: Thing 3,
 * written on vacation" stays a reflection. */
int
parse_vacation_subject(const char *subject)
{
	static const char *const phrases[] = {
		"out of office", "out of the office", "automatic reply", "auto reply", "auto-reply",
		"autoreply", "auto response", "automatic response", "auto-response", "autoresponse",
		"abwesenheitsnotiz", "automatische antwort", "réponse automatique",
		"respuesta automática", "risposta automatica", "automatisch antwoord",
		"absence notification", "abwesenheitsnachricht",
	};
	static const char *const words[] = {
		"vacation", "absence", "absent", "away", "holiday", "holidays", "abwesend", "urlaub",
		"congés", "ooo",
	};
	char low[SUBJECT_MAX + 1];
	size_t n = strlen(subject) < SUBJECT_MAX ? strlen(subject) : SUBJECT_MAX;

	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)subject[i]);
	low[n] = '\0';
	for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
		if (strstr(low, phrases[i]) != NULL)
			return 1;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t wl = strlen(words[i]);
		const char *rest = low + wl;

		if (strncmp(low, words[i], wl) != 0)
			continue;
		while (*rest == ' ')
			rest++;
		if (*rest == '\0' || *rest == ':')
			return 1;
	}
	return 0;
}
