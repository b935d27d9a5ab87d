/*
 * imap.c - an IMAP mailbox as a message source, with libetpan.  The only
 * file in Things that calls libetpan's IMAP API.
 *
 * Connection: imap:// (plain), imap+starttls:// (STARTTLS required),
 * imaps:// (implicit TLS).  With TLS, the server's certificate is checked
 * (tls_verify.c) before LOGIN: libetpan's GnuTLS build accepts anything.
 *
 * Listing: UID SEARCH for the UIDs above the last one processed, then
 * UID FETCH (UID RFC822.SIZE) in batches: sizes are known before any body
 * is downloaded.  Bodies come in batches with BODY.PEEK[] (never \Seen),
 * streamed through a body handler into bounded buffers: a server that
 * sends more than it announced cannot make us allocate without limit.
 *
 * Filing: source_file only records the UID; source_flush sends one UID
 * MOVE (or COPY + STORE \Deleted + UID EXPUNGE without MOVE), or in flag
 * mode one UID STORE, per outcome for the whole set: a round trip per
 * batch instead of one per message.
 *
 * After a stream or parse error libetpan's state is out of step with the
 * server: the connection is dropped and every later call fails.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libetpan/libetpan.h>

#include "source.h"

#define IMAP_LIST_BATCH 1000           /* UIDs per UID FETCH of sizes */
#define IMAP_BODY_BATCH 50             /* messages per UID FETCH of bodies */
#define IMAP_BODY_BATCH_BYTES ((size_t)32 << 20)
#define IMAP_SEARCH_MAX 100000         /* UIDs accepted from one SEARCH */

struct imap_body {
	uint32_t uid;
	void *section;       /* libetpan's section pointer: which message the bytes are for */
	struct buf data;
	int too_big;
};

struct imap_source {
	struct source base;
	struct imap_url url;
	char *ca_file;
	mailimap *imap;               /* NULL once the connection is lost */
	int has_move, has_uidplus;
	int made_folder[2];           /* by outcome: the folder is known to exist */
	uint32_t *pending[2];         /* by outcome: UIDs source_file recorded */
	size_t npending[2], cap_pending[2];
	struct imap_body bodies[IMAP_BODY_BATCH]; /* the current batch */
	size_t nbodies;
	size_t batch_bytes;           /* received in the current UID FETCH */
	size_t body_max;              /* cap per message in the current UID FETCH */
	struct sigaction old_sigpipe; /* restored at close */
	long drop_after_moves;        /* test switch: -1, or hang up after that many moves */
};

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
static int
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

static int
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

/* --- listing -------------------------------------------------------------- */

static int
uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Adds "UNKEYWORD kw" to a multiple search key; 0 or -1 (out of memory). */
static int
add_unkeyword(struct mailimap_search_key *multi, const char *kw)
{
	char *copy = strdup(kw);
	struct mailimap_search_key *k = copy ? mailimap_search_key_new_unkeyword(copy) : NULL;

	if (k == NULL) {
		free(copy);
		return -1;
	}
	if (mailimap_search_key_multiple_add(multi, k) != MAILIMAP_NO_ERROR) {
		mailimap_search_key_free(k);
		return -1;
	}
	return 0;
}

/* The key "UID first:last", with "UNKEYWORD $ThingsProcessed UNKEYWORD
 * $ThingsFailed" when only messages not flagged yet are wanted. */
static struct mailimap_search_key *
search_key(uint32_t first, uint32_t last, int unflagged)
{
	struct mailimap_set *set = mailimap_set_new_interval(first, last);
	struct mailimap_search_key *uid = set ? mailimap_search_key_new_uid(set) : NULL;
	struct mailimap_search_key *multi;

	if (uid == NULL) {
		if (set != NULL)
			mailimap_set_free(set);
		return NULL;
	}
	if (!unflagged)
		return uid;
	if ((multi = mailimap_search_key_new_multiple_empty()) == NULL) {
		mailimap_search_key_free(uid);
		return NULL;
	}
	if (mailimap_search_key_multiple_add(multi, uid) != MAILIMAP_NO_ERROR) {
		mailimap_search_key_free(uid);
		mailimap_search_key_free(multi);
		return NULL;
	}
	if (add_unkeyword(multi, SOURCE_KEYWORD_PROCESSED) == -1 ||
	    add_unkeyword(multi, SOURCE_KEYWORD_FAILED) == -1) {
		mailimap_search_key_free(multi);
		return NULL;
	}
	return multi;
}

/* UID SEARCH UID first:last (last 0 means "*"), appending to uids; only
 * messages without our keywords when unflagged. */
static int
imap_search(struct imap_source *is, uint32_t first, uint32_t last, int unflagged,
    uint32_t *uids, size_t *n, size_t cap, struct err *e)
{
	struct mailimap_search_key *key;
	clist *result = NULL;
	clistiter *it;
	int r;

	if ((key = search_key(first, last, unflagged)) == NULL)
		return err_set(e, "out of memory");
	r = mailimap_uid_search(is->imap, NULL, key, &result);
	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR)
		return imap_fail(is, "UID SEARCH", r, e);
	for (it = clist_begin(result); it != NULL && *n < cap; it = clist_next(it)) {
		uint32_t uid = *(uint32_t *)clist_content(it);

		/* "UID n:*" names the last message even when n is above every
		 * UID: keep only what is really in range. */
		if (uid >= first && (last == 0 || uid <= last))
			uids[(*n)++] = uid;
	}
	mailimap_search_result_free(result);
	return 0;
}

static const struct mailimap_msg_att_static *
att_find(const struct mailimap_msg_att *att, int type)
{
	for (clistiter *it = clist_begin(att->att_list); it != NULL; it = clist_next(it)) {
		const struct mailimap_msg_att_item *item = clist_content(it);

		if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC &&
		    item->att_data.att_static->att_type == type)
			return item->att_data.att_static;
	}
	return NULL;
}

static uint32_t
att_uid(const struct mailimap_msg_att *att)
{
	const struct mailimap_msg_att_static *s = att_find(att, MAILIMAP_MSG_ATT_UID);

	return s ? s->att_data.att_uid : 0;
}

/* The set of uids (ascending), runs of consecutive UIDs as intervals so
 * that the command stays short. */
static struct mailimap_set *
set_of(const uint32_t *uids, size_t n)
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

static void imap_bodies_clear(struct imap_source *is);
static bool imap_body_chunk(int type, struct mailimap_msg_att_body_section *section,
    const char *bytes, size_t len, void *ctx);

/* UID FETCH set (UID att), taking set and att.  With body_max > 0 the
 * bodies go through imap_body_chunk into is->bodies (at most body_max
 * bytes each) instead of into memory libetpan allocates. */
static int
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

/* Fills in the sizes of the listed items among uids[0..n). */
static int
imap_fetch_sizes(struct imap_source *is, const uint32_t *uids, size_t n, struct err *e)
{
	clist *result;

	if (imap_uid_fetch(is, set_of(uids, n), mailimap_fetch_att_new_rfc822_size(), 0, &result,
	    "UID FETCH sizes", e) == -1)
		return -1;
	for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
		const struct mailimap_msg_att *att = clist_content(it);
		const struct mailimap_msg_att_static *sz;
		uint32_t uid = att_uid(att);

		if ((sz = att_find(att, MAILIMAP_MSG_ATT_RFC822_SIZE)) == NULL)
			continue;
		/* Unsolicited FETCH answers may name other messages: match by UID. */
		for (size_t i = 0; i < is->base.nitems; i++) {
			if (is->base.items[i].uid == uid) {
				is->base.items[i].size = sz->att_data.att_rfc822_size;
				break;
			}
		}
	}
	mailimap_fetch_list_free(result);
	return 0;
}

static int
imap_list(struct source *s, uint32_t uidvalidity, uint32_t last_uid, struct err *e)
{
	struct imap_source *is = (struct imap_source *)s;
	uint32_t *uids = NULL;
	size_t n = 0, nnew;
	int rc = -1;

	free(s->items);
	s->items = NULL;
	s->nitems = 0;
	if (imap_alive(is, e) == -1)
		return -1;
	if (uidvalidity != s->uidvalidity) {
		if (uidvalidity != 0)
			log_warn("imap %s/%s: UIDVALIDITY changed (%u, was %u): listing every "
			    "message; those already recorded are known by Message-ID",
			    is->url.host, is->url.mailbox, s->uidvalidity, uidvalidity);
		last_uid = 0;
	}
	if ((uids = calloc(IMAP_SEARCH_MAX, sizeof(*uids))) == NULL)
		return err_set(e, "out of memory");
	if (imap_search(is, last_uid + 1, 0, 0, uids, &n, IMAP_SEARCH_MAX, e) == -1)
		goto out;
	nnew = n;
	/* Messages at or below last_uid are normally gone (moved after their
	 * commit); any still here were committed but not moved: list them so
	 * that the caller moves them now.  In flag mode they all stay: only
	 * those not flagged yet were interrupted. */
	if (last_uid > 0 && (s->flag_only || is->imap->imap_selection_info->sel_exists > nnew) &&
	    imap_search(is, 1, last_uid, s->flag_only, uids, &n, IMAP_SEARCH_MAX, e) == -1)
		goto out;
	if (n > 1)
		qsort(uids, n, sizeof(*uids), uid_cmp);
	if (n > SOURCE_MAX_ITEMS)
		n = SOURCE_MAX_ITEMS;
	if (n > 0 && (s->items = calloc(n, sizeof(*s->items))) == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		s->items[i].uid = uids[i];
		snprintf(s->items[i].key, sizeof(s->items[i].key), "%u:%u", s->uidvalidity,
		    uids[i]);
	}
	s->nitems = n;
	for (size_t i = 0; i < n; i += IMAP_LIST_BATCH) {
		size_t k = n - i < IMAP_LIST_BATCH ? n - i : IMAP_LIST_BATCH;

		if (imap_fetch_sizes(is, uids + i, k, e) == -1)
			goto out;
	}
	rc = 0;
out:
	free(uids);
	return rc;
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

		if ((body = att_find(att, MAILIMAP_MSG_ATT_BODY_SECTION)) == NULL)
			continue;
		for (size_t k = 0; k < is->nbodies; k++)
			if (is->bodies[k].section == body->att_data.att_body_section)
				is->bodies[k].uid = att_uid(att);
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
	if (imap_uid_fetch(is, set_of(uids, n), mailimap_fetch_att_new_body_peek_section_partial(
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

/* --- filing ---------------------------------------------------------------- */

static int
imap_folder_exists(struct imap_source *is, const char *folder, int *exists, struct err *e)
{
	clist *result = NULL;
	int r = mailimap_list(is->imap, "", folder, &result);

	if (r != MAILIMAP_NO_ERROR)
		return imap_fail(is, "LIST", r, e);
	*exists = result != NULL && clist_count(result) > 0;
	if (result != NULL)
		mailimap_list_result_free(result);
	return 0;
}

static int
imap_make_folder(struct imap_source *is, enum source_outcome o, struct err *e)
{
	const char *folder = is->base.folders[o];
	int exists, r;

	if (is->made_folder[o])
		return 0;
	if (imap_folder_exists(is, folder, &exists, e) == -1)
		return -1;
	if (!exists && (r = mailimap_create(is->imap, folder)) != MAILIMAP_NO_ERROR)
		return imap_fail(is, "CREATE", r, e);
	is->made_folder[o] = 1;
	return 0;
}

/* THINGS_TEST_IMAP_DROP_AFTER_MOVES=N makes the connection hang up (a
 * real shutdown of the socket) after N filing commands (one per outcome
 * and flush), so that tests can prove that a run interrupted between
 * commit and move recovers; like isync's JLimit. */
static void
imap_test_drop(struct imap_source *is)
{
	if (is->drop_after_moves < 0 || is->drop_after_moves-- > 0)
		return;
	shutdown(mailstream_low_get_fd(mailstream_get_low(is->imap->imap_stream)), SHUT_RDWR);
}

/* UID STORE set +FLAGS.SILENT (flags...), the list ending with NULL; takes
 * nothing. */
static int
imap_add_flags(struct imap_source *is, const uint32_t *uids, size_t n,
    struct mailimap_flag *const *flags, struct err *e)
{
	struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
	struct mailimap_store_att_flags *sa = NULL;
	struct mailimap_set *set = set_of(uids, n);
	int r, nomem = fl == NULL || set == NULL;

	for (size_t k = 0; flags[k] != NULL; k++) {
		if (nomem || mailimap_flag_list_add(fl, flags[k]) != 0) {
			mailimap_flag_free(flags[k]);
			nomem = 1;
		}
	}
	if (!nomem && (sa = mailimap_store_att_flags_new_add_flags_silent(fl)) == NULL)
		nomem = 1;
	if (nomem) {
		if (sa == NULL && fl != NULL)
			mailimap_flag_list_free(fl);
		if (sa != NULL)
			mailimap_store_att_flags_free(sa);
		if (set != NULL)
			mailimap_set_free(set);
		return err_set(e, "out of memory");
	}
	r = mailimap_uid_store(is->imap, set, sa);
	mailimap_store_att_flags_free(sa);
	mailimap_set_free(set);
	return r == MAILIMAP_NO_ERROR ? 0 : imap_fail(is, "UID STORE", r, e);
}

static struct mailimap_flag *
keyword(const char *kw)
{
	char *copy = strdup(kw);
	struct mailimap_flag *f = copy ? mailimap_flag_new_flag_keyword(copy) : NULL;

	if (f == NULL)
		free(copy);
	return f;
}

/* Flag mode: our keyword, and \Seen (processed) or \Flagged (failed). */
static int
imap_flag_set(struct imap_source *is, enum source_outcome o, const uint32_t *uids, size_t n,
    struct err *e)
{
	struct mailimap_flag *flags[3] = { NULL, NULL, NULL };

	flags[0] = keyword(o == SOURCE_FAILED ? SOURCE_KEYWORD_FAILED : SOURCE_KEYWORD_PROCESSED);
	flags[1] = o == SOURCE_FAILED ? mailimap_flag_new_flagged() : mailimap_flag_new_seen();
	if (flags[0] == NULL || flags[1] == NULL) {
		if (flags[0] != NULL)
			mailimap_flag_free(flags[0]);
		if (flags[1] != NULL)
			mailimap_flag_free(flags[1]);
		return err_set(e, "out of memory");
	}
	return imap_add_flags(is, uids, n, flags, e);
}

static int
imap_move_set(struct imap_source *is, enum source_outcome o, const uint32_t *uids, size_t n,
    struct err *e)
{
	const char *folder = is->base.folders[o];
	struct mailimap_flag *deleted[2] = { NULL, NULL };
	struct mailimap_set *set;
	int r;

	if (imap_make_folder(is, o, e) == -1)
		return -1;
	if ((set = set_of(uids, n)) == NULL)
		return err_set(e, "out of memory");
	if (is->has_move) {
		r = mailimap_uid_move(is->imap, set, folder);
		mailimap_set_free(set);
		return r == MAILIMAP_NO_ERROR ? 0 : imap_fail(is, "UID MOVE", r, e);
	}
	/* No MOVE (RFC 6851): copy, flag \Deleted, expunge.  Without UIDPLUS
	 * a plain EXPUNGE also removes other \Deleted messages: that is what
	 * \Deleted asks for anyway. */
	r = mailimap_uid_copy(is->imap, set, folder);
	if (r != MAILIMAP_NO_ERROR) {
		mailimap_set_free(set);
		return imap_fail(is, "UID COPY", r, e);
	}
	if ((deleted[0] = mailimap_flag_new_deleted()) == NULL ||
	    imap_add_flags(is, uids, n, deleted, e) == -1) {
		mailimap_set_free(set);
		return deleted[0] == NULL ? err_set(e, "out of memory") : -1;
	}
	r = is->has_uidplus ? mailimap_uid_expunge(is->imap, set) : mailimap_expunge(is->imap);
	mailimap_set_free(set);
	return r == MAILIMAP_NO_ERROR ? 0 : imap_fail(is, "EXPUNGE", r, e);
}

static int
imap_file(struct source *s, size_t i, enum source_outcome o, struct err *e)
{
	struct imap_source *is = (struct imap_source *)s;

	if (is->npending[o] == is->cap_pending[o]) {
		size_t ncap = is->cap_pending[o] ? is->cap_pending[o] * 2 : 64;
		uint32_t *nv = realloc(is->pending[o], ncap * sizeof(*nv));

		if (nv == NULL)
			return err_set(e, "out of memory");
		is->pending[o] = nv;
		is->cap_pending[o] = ncap;
	}
	is->pending[o][is->npending[o]++] = s->items[i].uid;
	return 0;
}

static int
imap_flush(struct source *s, struct err *e)
{
	struct imap_source *is = (struct imap_source *)s;
	int rc = 0;

	for (int o = SOURCE_PROCESSED; o <= SOURCE_FAILED && rc == 0; o++) {
		size_t n = is->npending[o];

		if (n == 0)
			continue;
		if (imap_alive(is, e) == -1) {
			rc = -1;
			break;
		}
		imap_test_drop(is);
		qsort(is->pending[o], n, sizeof(uint32_t), uid_cmp);
		rc = s->flag_only ? imap_flag_set(is, o, is->pending[o], n, e) :
		    imap_move_set(is, o, is->pending[o], n, e);
	}
	is->npending[SOURCE_PROCESSED] = is->npending[SOURCE_FAILED] = 0;
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
	    imap_select(is, e) == -1)
		goto fail;
	*out = &is->base;
	return 0;
fail:
	imap_close(&is->base);
	return -1;
}
