/*
 * fuzz_parse.c - libFuzzer target: untrusted bytes through inbox_parse and
 * inbox_classify, the way inbox_poll uses them.  A crash, a sanitizer
 * report, a leak or a timeout is a defect.
 *
 * Build and run: `make fuzz` (FUZZ_TIME seconds, default 60; the Makefile
 * lists the sources; the corpus grows in build/fuzz-corpus, seeded from the
 * mail fixtures).  libetpan itself is not instrumented.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../inbox/inbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The record's promises (inbox.h), checked on every input. */
static void
check_string(const char *s, int one_line)
{
	if (s == NULL || !str_valid_utf8(s, strlen(s)) || (one_line && str_has_ctl(s, 0)))
		__builtin_trap();
}

/* s without its white space, malloc'd (NULL: out of memory, not a defect). */
static char *
squeezed(const char *s)
{
	char *out = malloc(strlen(s) + 1), *w = out;

	if (out == NULL)
		return NULL;
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			*w++ = *s;
	*w = '\0';
	return out;
}

static void
check_record(const struct inbox_message *m, size_t size)
{
	char *fresh;
	const char *const one_line[] = {
		m->message_id, m->from_addr, m->from_name, m->reply_to, m->to_addrs, m->subject,
		m->in_reply_to, m->dsn_recipient, m->dsn_original_recipient, m->dsn_action,
		m->dsn_status, m->report_addrs,
	};

	for (size_t i = 0; i < sizeof(one_line) / sizeof(one_line[0]); i++)
		check_string(one_line[i], 1);
	check_string(m->text, 0);
	check_string(m->fresh_text, 0);
	check_string(m->attachments, 0);
	if (strlen(m->text) > INBOX_MAX_TEXT || m->nlinks > INBOX_MAX_LINKS ||
	    m->nreferences > INBOX_MAX_REFS || m->size != size)
		__builtin_trap();
	for (size_t i = 0; i < m->nreferences; i++)
		check_string(m->references[i], 1);
	/* a link is in the fresh text as it is, or wrapped over lines in <...> */
	if ((fresh = squeezed(m->fresh_text)) == NULL)
		return;
	for (size_t i = 0; i < m->nlinks; i++) {
		check_string(m->links[i], 1);
		if (strncasecmp(m->links[i], "http", 4) != 0 ||
		    strstr(m->links[i], "://") == NULL || strlen(m->links[i]) > INBOX_MAX_URL ||
		    strstr(fresh, m->links[i]) == NULL)
			__builtin_trap();
	}
	free(fresh);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct inbox_context contexts[] = {
		{ "things@example.org", '+', 12, 0, 0 },
		{ "things@example.org", '+', 12, 3, 1 },
		{ "Things@Example.ORG", '-', 1, 0, 1 },
		{ "no-at-sign", '+', 0, 0, 0 },
	};
	struct inbox_message m;
	struct inbox_intent in;
	struct err e;

	if (inbox_parse((const char *)data, size, &m, &e) == -1)
		return 0;
	check_record(&m, size);
	for (size_t i = 0; i < sizeof(contexts) / sizeof(contexts[0]); i++) {
		inbox_classify(&m, &contexts[i], &in);
		/* The url must point into the message's own links, or be a
		 * host name's https URL in the intent when there is none. */
		if (in.url != NULL) {
			size_t k;

			for (k = 0; k < m.nlinks && m.links[k] != in.url; k++)
				;
			if (k == m.nlinks && (in.url != in.url_buf || m.nlinks > 0 ||
			    in.kind != II_BLOG || strncmp(in.url, "https://", 8) != 0))
				__builtin_trap();
		}
		if (in.reason == NULL || strlen(in.token) > TOKEN_HEX_LEN || in.kind >= II_COUNT)
			__builtin_trap();
	}
	inbox_message_free(&m);
	return 0;
}
