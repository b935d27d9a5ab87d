/* source.c - choosing a message source by URL, and the calls shared by all. */
#include <stdio.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "source.h"

int
source_open(const char *url, const struct source_options *o, struct source **out,
    struct err *e)
{
	*out = NULL;
	if (url == NULL || *url == '\0')
		return err_set(e, "no inbox configured ([imap] url)");
	if (strncmp(url, "maildir:", 8) == 0)
		return maildir_source_open(url + 8, o, out, e);
	if (strncmp(url, "imap://", 7) == 0 || strncmp(url, "imaps://", 8) == 0 ||
	    strncmp(url, "imap+starttls://", 16) == 0)
		return imap_source_open(url, o, out, e);
	return err_set(e, "inbox URL must start with maildir:, imap://, imaps:// or "
	    "imap+starttls://");
}

int
source_list(struct source *s, uint32_t uidvalidity, uint32_t last_uid, struct err *e)
{
	return s->ops->list(s, uidvalidity, last_uid, e);
}

int
source_fetch(struct source *s, size_t i, size_t max, struct buf *raw, struct err *e)
{
	if (i >= s->nitems)
		return err_set(e, "source: no message %zu", i);
	buf_reset(raw);
	return s->ops->fetch(s, i, max ? max : s->max_size, raw, e);
}

int
source_fetch_header(struct source *s, size_t i, struct buf *raw, struct err *e)
{
	if (i >= s->nitems)
		return err_set(e, "source: no message %zu", i);
	buf_reset(raw);
	return s->ops->fetch_header(s, i, raw, e);
}

int
source_file(struct source *s, size_t i, enum source_outcome o, struct err *e)
{
	if (i >= s->nitems)
		return err_set(e, "source: no message %zu", i);
	if (o != SOURCE_PROCESSED && o != SOURCE_FAILED)
		return err_set(e, "source: no outcome %d", (int)o);
	return s->ops->file(s, i, o, e);
}

int
source_flush(struct source *s, struct err *e)
{
	return s->ops->flush(s, e);
}

int
source_setup(struct source *s, const struct source_options *o, struct err *e)
{
	static const char *const defaults[2] = { SOURCE_FOLDER_PROCESSED, SOURCE_FOLDER_FAILED };

	for (int k = 0; k < 2; k++) {
		const char *f = o != NULL && o->folders[k] != NULL ? o->folders[k] : defaults[k];

		if (f[0] == '\0' || strlen(f) > SOURCE_FOLDER_MAX ||
		    strspn(f, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
		    strlen(f) || f[0] == '.')
			return err_set(e, "folder name '%.120s': letters, digits, '-', '_' and '.' "
			    "only, not first", f);
		snprintf(s->folders[k], sizeof(s->folders[k]), "%s", f);
	}
	s->flag_only = o != NULL && o->flag_only;
	s->known = o != NULL ? o->known : NULL;
	s->known_arg = o != NULL ? o->known_arg : NULL;
	return 0;
}

void
source_close(struct source *s)
{
	if (s != NULL)
		s->ops->close(s);
}

int
source_sha256_hex(const void *data, size_t len, char out[65], struct err *e)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[32];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, d) < 0)
		return err_set(e, "sha256 failed");
	for (size_t i = 0; i < sizeof(d); i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
	return 0;
}
