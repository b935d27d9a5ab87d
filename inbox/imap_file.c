/*
 * imap_file.c - filing handled messages: source_file only records the UID;
 * source_flush sends one UID MOVE (or COPY + STORE \\Deleted + EXPUNGE
 * without MOVE), or in flag mode one UID STORE of our keyword, per outcome
 * for the whole set: a round trip per batch instead of one per message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "imap_internal.h"

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
	struct mailimap_set *set = imap_set_of(uids, n);
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
	if ((set = imap_set_of(uids, n)) == NULL)
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

int
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

int
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
		qsort(is->pending[o], n, sizeof(uint32_t), imap_uid_cmp);
		rc = s->flag_only ? imap_flag_set(is, o, is->pending[o], n, e) :
		    imap_move_set(is, o, is->pending[o], n, e);
	}
	is->npending[SOURCE_PROCESSED] = is->npending[SOURCE_FAILED] = 0;
	return rc;
}
