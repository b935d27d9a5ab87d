/*
 * imap_internal.h - shared by the files of the IMAP message source (private
 * to inbox/): imap.c (connecting, fetching), imap_list.c (listing),
 * imap_file.c (filing).  These are the only files in Things that call
 * libetpan's IMAP API.
 */
#ifndef THINGS_INBOX_IMAP_INTERNAL_H
#define THINGS_INBOX_IMAP_INTERNAL_H

#include <signal.h>
#include <stdbool.h>

#include <libetpan/libetpan.h>

#include "source.h"

#define IMAP_BODY_BATCH 50             /* messages per UID FETCH of bodies */
#define IMAP_BODY_BATCH_BYTES ((size_t)32 << 20)

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

/* Records the failure of a command in e (-1); drops the connection when
 * the session cannot be trusted any more (stream, parse, aborted reads). */
int imap_fail(struct imap_source *is, const char *what, int r, struct err *e);
/* 0 while connected, else -1 saying the connection was lost earlier. */
int imap_alive(struct imap_source *is, struct err *e);

/* qsort comparison of uint32_t UIDs. */
int imap_uid_cmp(const void *a, const void *b);
/* The set of uids (ascending), runs as intervals; NULL when out of memory. */
struct mailimap_set *imap_set_of(const uint32_t *uids, size_t n);
/* The static attribute of a FETCH answer of this type, or NULL; its UID or 0. */
const struct mailimap_msg_att_static *imap_att_find(const struct mailimap_msg_att *att,
    int type);
uint32_t imap_att_uid(const struct mailimap_msg_att *att);
/* UID FETCH set (UID att), taking set and att (even on error).  With
 * body_max > 0 the bodies go into is->bodies (at most body_max bytes each)
 * instead of memory libetpan allocates.  *result for mailimap_fetch_list_free. */
int imap_uid_fetch(struct imap_source *is, struct mailimap_set *set,
    struct mailimap_fetch_att *att, size_t body_max, clist **result, const char *what,
    struct err *e);

/* The source operations, by file. */
int imap_list(struct source *s, uint32_t uidvalidity, uint32_t last_uid, struct err *e);
int imap_file(struct source *s, size_t i, enum source_outcome o, struct err *e);
int imap_flush(struct source *s, struct err *e);

#endif
