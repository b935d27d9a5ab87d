/*
 * imap.c - an IMAP mailbox as a message source, with libetpan: connecting,
 * fetching, and what the other imap_*.c files share (imap_internal.h).
 *
 * Connection: imap:// (plain), imap+starttls:// (STARTTLS required),
 * imaps:// (implicit TLS).  With TLS, the server's certificate is checked
 * (tls_verify.c) before LOGIN: libetpan's GnuTLS build accepts anything.
 *
 * Bodies come in batches with BODY.PEEK[] (never \Seen), streamed through
 * a body handler into bounded buffers: a server that sends more than it
 * announced cannot make us allocate without limit.  Listing is in
 * imap_list.c, filing in imap_file.c.
 *
 * After a stream or parse error libetpan's state is out of step with the
 * server: the connection is dropped and every later call fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap_internal.h"

static void imap_bodies_clear(struct imap_source *is);
static bool imap_body_chunk(int type, struct mailimap_msg_att_body_section *section,
    const char *bytes, size_t len, void *ctx);

/* --- errors ------------------------------------------------------------- */

static const char *
imap_strerror(int r)
{
	switch (r) {
	case MAILIMAP_ERROR_STREAM: return "connection lost or timed out";
	case MAILIMAP_ERROR_PARSE: return "unparseable answer from the server";
	case MAILIMAP_ERROR_CONNECTION_REFUSED: return "connection refused";
	case MAILIMAP_ERROR_MEMORY: return "out of memory, or answer too large";
	case MAILIMAP_ERROR_FATAL: return "server closed the connection";
	case MAILIMAP_ERROR_LOGIN: return "login refused";
	case MAILIMAP_ERROR_STARTTLS: return "STARTTLS refused";
	case MAILIMAP_ERROR_SSL: return "TLS handshake failed";
	case MAILIMAP_ERROR_SELECT: return "cannot select the mailbox";
	default: return "command failed";
	}
}

/* Records the failure of a command; drops the connection when the
 * session cannot be trusted any more (stream, parse, aborted reads). */
int
imap_fail(struct imap_source *is, const char *what, int r, struct err *e)
{
	const char *why = imap_strerror(r);
	const char *text = NULL;

	if (is->imap != NULL && is->imap->imap_response != NULL &&
	    r != MAILIMAP_ERROR_STREAM && r != MAILIMAP_ERROR_PARSE)
		text = is->imap->imap_response;
	if (r == MAILIMAP_ERROR_STREAM || r == MAILIMAP_ERROR_PARSE ||
	    r == MAILIMAP_ERROR_MEMORY || r == MAILIMAP_ERROR_FATAL ||
	    r == MAILIMAP_ERROR_BAD_STATE || r == MAILIMAP_ERROR_CONNECTION_REFUSED ||
	    r == MAILIMAP_ERROR_SSL || r == MAILIMAP_ERROR_STARTTLS) {
		if (is->imap != NULL) {
			mailimap_free(is->imap);
			is->imap = NULL;
		}
	}
	if (text != NULL && *text != '\0' && !str_has_ctl(text, 1))
		return err_set(e, "imap %s: %s: %s (%.200s)", is->url.host, what, why, text);
	return err_set(e, "imap %s: %s: %s", is->url.host, what, why);
}

int
imap_alive(struct imap_source *is, struct err *e)
{
	if (is->imap == NULL)
		return err_set(e, "imap %s: connection lost earlier in this run", is->url.host);
	return 0;
}

/* --- connecting ---------------------------------------------------------- */

static int
imap_connect(struct imap_source *is, struct err *e)
{
	struct imap_url *u = &is->url;
	int r;

	if ((is->imap = mailimap_new(0, NULL)) == NULL)
		return err_set(e, "out of memory");
	mailimap_set_timeout(is->imap, is->base.timeout);
	if (u->tls == IMAP_TLS_IMPLICIT)
		r = mailimap_ssl_connect_with_callback(is->imap, u->host, u->port, tls_set_sni,
		    u->host);
	else
		r = mailimap_socket_connect(is->imap, u->host, u->port);
	if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED && r != MAILIMAP_NO_ERROR_AUTHENTICATED)
		return imap_fail(is, "connect", r == MAILIMAP_NO_ERROR ? MAILIMAP_ERROR_FATAL : r,
		    e);
	if (u->tls == IMAP_TLS_STARTTLS) {
		r = mailimap_socket_starttls_with_callback(is->imap, tls_set_sni, u->host);
		if (r != MAILIMAP_NO_ERROR)
			return imap_fail(is, "STARTTLS", r, e);
	}
	if (u->tls != IMAP_TLS_NONE &&
	    tls_verify_stream(is->imap->imap_stream, u->host, is->ca_file, e) == -1)
		return err_prefix(e, "imap %s: refusing to log in", u->host);
	if (u->tls == IMAP_TLS_NONE && strcmp(u->host, "127.0.0.1") != 0 &&
	    strcmp(u->host, "localhost") != 0 && strcmp(u->host, "::1") != 0)
		log_warn("imap %s: no TLS: the password travels in clear text", u->host);
	if ((r = mailimap_login(is->imap, u->user, u->password)) != MAILIMAP_NO_ERROR)
		return imap_fail(is, "LOGIN", r, e);
	return 0;
}

static int
imap_capabilities(struct imap_source *is, struct err *e)
{
	struct mailimap_capability_data *cap = NULL;
	int r;

	/* The cache libetpan reads may hold the pre-login list: ask again. */
	if ((r = mailimap_capability(is->imap, &cap)) != MAILIMAP_NO_ERROR)
		return imap_fail(is, "CAPABILITY", r, e);
	mailimap_capability_data_free(cap);
	is->has_move = mailimap_has_extension(is->imap, "MOVE");
	is->has_uidplus = mailimap_has_uidplus(is->imap);
	return 0;
}

/* The first personal namespace's prefix (RFC 2342), or "" when the server
 * has no NAMESPACE or no personal namespace. */
static int
imap_personal_prefix(struct imap_source *is, char *out, size_t n, struct err *e)
{
	struct mailimap_namespace_data *ns = NULL;
	struct mailimap_namespace_info *info;
	int r;

	out[0] = '\0';
	if (!mailimap_has_namespace(is->imap))
		return 0;
	if ((r = mailimap_namespace(is->imap, &ns)) != MAILIMAP_NO_ERROR)
		return imap_fail(is, "NAMESPACE", r, e);
	if (ns != NULL && ns->ns_personal != NULL &&
	    clist_begin(ns->ns_personal->ns_data_list) != NULL) {
		info = clist_content(clist_begin(ns->ns_personal->ns_data_list));
		if (strlen(info->ns_prefix) < n)
			snprintf(out, n, "%s", info->ns_prefix);
	}
	mailimap_namespace_data_free(ns);
	return 0;
}

/* The folders Things files into go under the personal namespace, where
 * mail clients put theirs: on a server whose personal namespace is
 * "INBOX." (Courier, Cyrus, Dovecot set up like them) "Processed" cannot be
 * created at the top, and is "INBOX.Processed".  A configured name that
 * starts with the prefix already is kept. */
static int
imap_place_folders(struct imap_source *is, struct err *e)
{
	char prefix[SOURCE_FOLDER_MAX + 1];

	if (imap_personal_prefix(is, prefix, sizeof(prefix), e) == -1)
		return -1;
	if (prefix[0] == '\0')
		return 0;
	for (int o = 0; o < 2; o++) {
		char *f = is->base.folders[o];
		size_t plen = strlen(prefix), flen = strlen(f);

		if (strncmp(f, prefix, plen) == 0)
			continue;
		if (plen + flen > SOURCE_FOLDER_MAX)
			return err_set(e, "imap %s: folder %s%s: name too long", is->url.host, prefix, f);
		memmove(f + plen, f, flen + 1);
		memcpy(f, prefix, plen);
	}
	log_info("imap %s: folders under the personal namespace: %s, %s", is->url.host,
	    is->base.folders[0], is->base.folders[1]);
	return 0;
}

static int
imap_select(struct imap_source *is, struct err *e)
{
	int r = mailimap_select(is->imap, is->url.mailbox);

	if (r != MAILIMAP_NO_ERROR)
		return imap_fail(is, "SELECT", r, e);
	if (is->imap->imap_selection_info == NULL ||
	    is->imap->imap_selection_info->sel_uidvalidity == 0)
		return err_set(e, "imap %s: mailbox %s has no UIDVALIDITY", is->url.host,
		    is->url.mailbox);
	is->base.uidvalidity = is->imap->imap_selection_info->sel_uidvalidity;
	return 0;
}

/* --- shared ------------------------------------------------------------ */

/* --- listing -------------------------------------------------------------- */

int
imap_uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The set of uids (ascending), runs of consecutive UIDs as intervals so
 * that the command stays short. */
struct mailimap_set *
imap_set_of(const uint32_t *uids, size_t n)
{
	struct mailimap_set *set = mailimap_set_new_empty();
	size_t i = 0;

	while (set != NULL && i < n) {
		size_t j = i;

		while (j + 1 < n && uids[j + 1] == uids[j] + 1)
			j++;
		if ((j == i ? mailimap_set_add_single(set, uids[i]) :
		    mailimap_set_add_interval(set, uids[i], uids[j])) != MAILIMAP_NO_ERROR) {
			mailimap_set_free(set);
			set = NULL;
		}
		i = j + 1;
	}
	return set;
}

const struct mailimap_msg_att_static *
imap_att_find(const struct mailimap_msg_att *att, int type)
{
	for (clistiter *it = clist_begin(att->att_list); it != NULL; it = clist_next(it)) {
		const struct mailimap_msg_att_item *item = clist_content(it);

		if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC &&
		    item->att_data.att_static->att_type == type)
			return item->att_data.att_static;
	}
	return NULL;
}

uint32_t
imap_att_uid(const struct mailimap_msg_att *att)
{
	const struct mailimap_msg_att_static *s = imap_att_find(att, MAILIMAP_MSG_ATT_UID);

	return s ? s->att_data.att_uid : 0;
}

/* UID FETCH set (UID att), taking set and att.  With body_max > 0 the
 * bodies go through imap_body_chunk into is->bodies (at most body_max
 * bytes each) instead of into memory libetpan allocates. */
int
imap_uid_fetch(struct imap_source *is, struct mailimap_set *set, struct mailimap_fetch_att *att,
    size_t body_max, clist **result, const char *what, struct err *e)
{
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	struct mailimap_fetch_att *uid = mailimap_fetch_att_new_uid();
	int r;

	*result = NULL;
	if (ft == NULL || set == NULL || att == NULL || uid == NULL ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft, uid) != 0) {
		if (uid != NULL)
			mailimap_fetch_att_free(uid);
		goto nomem;
	}
	if (mailimap_fetch_type_new_fetch_att_list_add(ft, att) != 0)
		goto nomem;
	if (body_max > 0) {
		imap_bodies_clear(is);
		is->body_max = body_max;
		mailimap_set_msg_body_handler(is->imap, imap_body_chunk, is);
	}
	r = mailimap_uid_fetch(is->imap, set, ft, result);
	if (body_max > 0 && is->imap != NULL)
		mailimap_set_msg_body_handler(is->imap, NULL, NULL);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		imap_bodies_clear(is);
		return imap_fail(is, what, r, e);
	}
	return 0;
nomem:
	if (ft != NULL)
		mailimap_fetch_type_free(ft);
	if (att != NULL)
		mailimap_fetch_att_free(att);
	if (set != NULL)
		mailimap_set_free(set);
	return err_set(e, "out of memory");
}

/* --- fetching ------------------------------------------------------------- */

static void
imap_bodies_clear(struct imap_source *is)
{
	for (size_t i = 0; i < is->nbodies; i++)
		buf_free(&is->bodies[i].data);
	is->nbodies = 0;
	is->batch_bytes = 0;
}

/* libetpan hands over a body as it reads it, in chunks; section tells
 * which message of the batch the bytes belong to.  Returning false stops
 * the read (and leaves the session unusable): only for a server sending
 * far more than the whole batch announced. */
static bool
imap_body_chunk(int type, struct mailimap_msg_att_body_section *section, const char *bytes,
    size_t len, void *ctx)
{
	struct imap_source *is = ctx;
	struct imap_body *b = NULL;

	(void)type;
	is->batch_bytes += len;
	if (is->batch_bytes > IMAP_BODY_BATCH_BYTES + is->body_max)
		return false;
	for (size_t i = 0; i < is->nbodies; i++)
		if (is->bodies[i].section == section)
			b = &is->bodies[i];
	if (b == NULL) {
		if (is->nbodies == IMAP_BODY_BATCH)
			return false;
		b = &is->bodies[is->nbodies++];
		memset(b, 0, sizeof(*b));
		b->section = section;
		buf_init(&b->data, is->body_max);
	}
	if (b->too_big)
		return true;
	if (buf_append(&b->data, bytes, len) == -1) {
		b->too_big = 1;
		buf_free(&b->data);
		buf_init(&b->data, is->body_max);
	}
	return true;
}

/* Ties each received body to its UID through libetpan's section pointer,
 * then frees the result (the sections with it). */
static void
imap_bind_bodies(struct imap_source *is, clist *result)
{
	for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
		const struct mailimap_msg_att *att = clist_content(it);
		const struct mailimap_msg_att_static *body;

		if ((body = imap_att_find(att, MAILIMAP_MSG_ATT_BODY_SECTION)) == NULL)
			continue;
		for (size_t k = 0; k < is->nbodies; k++)
			if (is->bodies[k].section == body->att_data.att_body_section)
				is->bodies[k].uid = imap_att_uid(att);
	}
	mailimap_fetch_list_free(result);
	for (size_t k = 0; k < is->nbodies; k++)
		is->bodies[k].section = NULL;
}

static struct imap_body *
body_of(struct imap_source *is, uint32_t uid)
{
	for (size_t k = 0; k < is->nbodies; k++)
		if (is->bodies[k].uid == uid)
			return &is->bodies[k];
	return NULL;
}

/* Fetches the bodies of items [i, i+n): BODY.PEEK[]<0.max+1>, so that a
 * well-behaved server stops right after the limit. */
static int
imap_fetch_batch(struct imap_source *is, size_t i, size_t n, size_t max, struct err *e)
{
	uint32_t uids[IMAP_BODY_BATCH];
	clist *result;

	for (size_t k = 0; k < n; k++)
		uids[k] = is->base.items[i + k].uid;
	if (imap_uid_fetch(is, imap_set_of(uids, n), mailimap_fetch_att_new_body_peek_section_partial(
	    mailimap_section_new(NULL), 0, (uint32_t)max + 1), max, &result, "UID FETCH", e) == -1)
		return -1;
	imap_bind_bodies(is, result);
	return 0;
}

static int
imap_fetch(struct source *s, size_t i, size_t max, struct buf *raw, struct err *e)
{
	struct imap_source *is = (struct imap_source *)s;
	struct imap_body *b;
	size_t n = 0, bytes = 0;

	if (s->items[i].size > max)
		return SOURCE_TOO_BIG;
	if ((b = body_of(is, s->items[i].uid)) == NULL || is->body_max != max) {
		if (imap_alive(is, e) == -1)
			return -1;
		/* This message and the next ones that fit: one round trip. */
		while (i + n < s->nitems && n < IMAP_BODY_BATCH) {
			size_t sz = s->items[i + n].size;

			if (n > 0 && (sz > max || bytes + sz > IMAP_BODY_BATCH_BYTES))
				break;
			bytes += sz;
			n++;
		}
		if (imap_fetch_batch(is, i, n, max, e) == -1)
			return -1;
		if ((b = body_of(is, s->items[i].uid)) == NULL)
			return SOURCE_GONE;
	}
	b->uid = 0; /* handed over once */
	if (b->too_big || b->data.len > max) {
		buf_free(&b->data);
		return SOURCE_TOO_BIG;
	}
	buf_free(raw);
	*raw = b->data;
	buf_init(&b->data, max);
	return 0;
}

static int
imap_fetch_header(struct source *s, size_t i, struct buf *raw, struct err *e)
{
	struct imap_source *is = (struct imap_source *)s;
	struct imap_body *b;
	clist *result;
	int rc = SOURCE_GONE;

	if (imap_alive(is, e) == -1)
		return -1;
	if (imap_uid_fetch(is, mailimap_set_new_single(s->items[i].uid),
	    mailimap_fetch_att_new_body_peek_section_partial(mailimap_section_new_header(), 0,
	    (uint32_t)SOURCE_HEADER_MAX), SOURCE_HEADER_MAX, &result, "UID FETCH header",
	    e) == -1)
		return -1;
	imap_bind_bodies(is, result);
	if ((b = body_of(is, s->items[i].uid)) != NULL && !b->too_big) {
		if (buf_append(raw, b->data.data, b->data.len) == -1)
			rc = err_set(e, "out of memory");
		else
			rc = 0;
	}
	imap_bodies_clear(is);
	is->body_max = 0;
	return rc;
}










/* --- opening and closing ------------------------------------------------ */

static void
imap_close(struct source *s)
{
	struct imap_source *is = (struct imap_source *)s;

	imap_bodies_clear(is);
	free(is->pending[SOURCE_PROCESSED]);
	free(is->pending[SOURCE_FAILED]);
	if (is->imap != NULL) {
		mailimap_logout(is->imap);
		mailimap_free(is->imap);
	}
	sigaction(SIGPIPE, &is->old_sigpipe, NULL);
	explicit_bzero(is->url.password, sizeof(is->url.password));
	free(is->ca_file);
	free(s->items);
	free(is);
}

static const struct source_ops imap_ops = {
	imap_list, imap_fetch, imap_fetch_header, imap_file, imap_flush, imap_close,
};

int
imap_source_open(const char *url, const struct source_options *o, struct source **out,
    struct err *e)
{
	struct imap_source *is;

	struct sigaction ignore;
	const char *test;

	*out = NULL;
	if ((is = calloc(1, sizeof(*is))) == NULL)
		return err_set(e, "out of memory");
	/* libetpan writes to its socket without MSG_NOSIGNAL: a server that
	 * hangs up would kill the whole run with SIGPIPE.  Ignored while the
	 * source is open; the caller's disposition comes back at close. */
	memset(&ignore, 0, sizeof(ignore));
	ignore.sa_handler = SIG_IGN;
	sigemptyset(&ignore.sa_mask);
	sigaction(SIGPIPE, &ignore, &is->old_sigpipe);
	is->drop_after_moves = -1;
	if ((test = getenv("THINGS_TEST_IMAP_DROP_AFTER_MOVES")) != NULL)
		is->drop_after_moves = strtol(test, NULL, 10);
	is->base.ops = &imap_ops;
	is->base.max_size = o && o->max_size ? o->max_size : SOURCE_MAX_SIZE_DEFAULT;
	is->base.timeout = o && o->timeout ? o->timeout : SOURCE_TIMEOUT_DEFAULT;
	if (source_setup(&is->base, o, e) == -1 || imap_url_parse(url, &is->url, e) == -1)
		goto fail;
	if (o != NULL && o->ca_file != NULL && (is->ca_file = strdup(o->ca_file)) == NULL) {
		err_set(e, "out of memory");
		goto fail;
	}
	imap_url_name(&is->url, is->base.name, sizeof(is->base.name));
	if (imap_connect(is, e) == -1 || imap_capabilities(is, e) == -1 ||
	    (!is->base.flag_only && imap_place_folders(is, e) == -1) || imap_select(is, e) == -1)
		goto fail;
	*out = &is->base;
	return 0;
fail:
	imap_close(&is->base);
	return -1;
}
