/*
 * imap_list.c - which messages wait in the IMAP mailbox: UID SEARCH for
 * the UIDs above the last one processed (and, after an interruption,
 * those below it still there), then UID FETCH (UID RFC822.SIZE) in
 * batches: sizes are known before any body is downloaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap_internal.h"

#define IMAP_LIST_BATCH 1000           /* UIDs per UID FETCH of sizes */
#define IMAP_SEARCH_MAX 100000         /* UIDs accepted from one SEARCH */

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

static int
item_uid_cmp(const void *key, const void *item)
{
	uint32_t x = *(const uint32_t *)key, y = ((const struct source_item *)item)->uid;

	return x < y ? -1 : x > y;
}

/* Fills in the sizes of the listed items among uids[0..n). */
static int
imap_fetch_sizes(struct imap_source *is, const uint32_t *uids, size_t n, struct err *e)
{
	struct source_item *item;
	clist *result;

	if (imap_uid_fetch(is, imap_set_of(uids, n), mailimap_fetch_att_new_rfc822_size(), 0, &result,
	    "UID FETCH sizes", e) == -1)
		return -1;
	for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
		const struct mailimap_msg_att *att = clist_content(it);
		const struct mailimap_msg_att_static *sz;
		uint32_t uid = imap_att_uid(att);

		if ((sz = imap_att_find(att, MAILIMAP_MSG_ATT_RFC822_SIZE)) == NULL)
			continue;
		/* Unsolicited FETCH answers may name other messages: match by
		 * UID (the items are in UID order). */
		if ((item = bsearch(&uid, is->base.items, is->base.nitems, sizeof(*item),
		    item_uid_cmp)) != NULL)
			item->size = sz->att_data.att_rfc822_size;
	}
	mailimap_fetch_list_free(result);
	return 0;
}

int
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
		qsort(uids, n, sizeof(*uids), imap_uid_cmp);
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
