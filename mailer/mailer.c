/* mailer.c - the mailer's lifetime and the small policies its files share. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *
mailer_domain(const struct mailer *m)
{
	return addr_domain(m->p->cfg.address);
}

int
mailer_tagged(const struct mailer *m, const char *tag, char *out, size_t n, struct err *e)
{
	if (addr_with_tag(m->p->cfg.address, m->delim, tag, out, n) == -1)
		return err_set(e, "address '%s' with tag '%.40s' is too long", m->p->cfg.address, tag);
	return 0;
}

/* Doubling, so that n appends cost O(n) copies. */
void *
mailer_grow(void *v, size_t n, size_t *cap, size_t size)
{
	size_t want = *cap ? *cap * 2 : 16;
	void *more;

	if (n < *cap)
		return v;
	if ((more = realloc(v, want * size)) != NULL)
		*cap = want;
	return more;
}

int
mailer_new(const struct programme *p, struct store *st, struct mailer **out, struct err *e)
{
	struct mailer *m;

	*out = NULL;
	if (p->cfg.address == NULL || strchr(p->cfg.address, '@') == NULL)
		return err_set(e, "mailer: the programme has no address");
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return err_set(e, "out of memory");
	m->p = p;
	m->st = st;
	m->delim = p->cfg.delimiter ? p->cfg.delimiter : '+';
	if (p->nthings > 0 && (m->things = calloc(p->nthings, sizeof(*m->things))) == NULL) {
		free(m);
		return err_set(e, "out of memory");
	}
	content_message_init(&m->personal);
	buf_init(&m->digest, DIGEST_BODY_MAX);
	if (mailer_tagged(m, "help", m->help_addr, sizeof(m->help_addr), e) == -1 ||
	    mailer_tagged(m, "blog", m->blog_addr, sizeof(m->blog_addr), e) == -1) {
		mailer_free(m);
		return -1;
	}
	*out = m;
	return 0;
}

void
mailer_free(struct mailer *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < MAILER_NKINDS; i++)
		if (m->kinds[i].ready)
			content_message_free(&m->kinds[i].msg);
	for (size_t i = 0; m->things && i < m->p->nthings; i++)
		if (m->things[i].ready)
			content_message_free(&m->things[i].msg);
	free(m->things);
	content_message_free(&m->personal);
	buf_free(&m->digest);
	free(m);
}

#define RETRY_FIRST 300        /* 5 minutes */
#define RETRY_CAP 43200        /* 12 hours */
#define RETRY_GIVE_UP 259200   /* 3 days */

int64_t
mailer_retry_delay(int attempts)
{
	int64_t d = RETRY_FIRST;

	for (int i = 1; i < attempts && d < RETRY_CAP; i++)
		d *= 2;
	return d < RETRY_CAP ? d : RETRY_CAP;
}

int
mailer_retry_exhausted(int attempts)
{
	int64_t total = 0;

	for (int i = 1; i <= attempts && total < RETRY_GIVE_UP; i++)
		total += mailer_retry_delay(i);
	return total >= RETRY_GIVE_UP;
}
