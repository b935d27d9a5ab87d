/*
 * poll.h (private to inbox/) - the state of one inbox_poll, shared by its
 * phases: poll_prepare.c (fetch and parse, outside any transaction) and
 * poll.c (record in the store, file, the run).
 */
#ifndef THINGS_INBOX_POLL_H
#define THINGS_INBOX_POLL_H

#include "../feeds/feeds.h"
#include "act.h"
#include "source.h"

#define POLL_BATCH_BYTES ((size_t)16 << 20) /* raw bytes prepared per batch */
/* Runs in a row that may die handling one message before it is set aside:
 * two, so that one run killed from outside (a reboot, the OOM killer)
 * while it had a good message in hand does not cost that message. */
#define POLL_CRASHES_MAX 2
#define POLL_SET_ASIDE "set aside: Things crashed twice in a row while handling it " \
	"(a bug: please report it, with the message)"

enum pending_kind {
	PK_GONE,         /* vanished before it could be fetched: nothing to file */
	PK_KNOWN,        /* recorded before: only filed */
	PK_MESSAGE,      /* parsed: classified and acted on */
	PK_UNPARSEABLE,  /* recorded as failed */
	PK_OVERSIZE,     /* recorded as oversize, answered from its header */
};

enum pending_result { PR_NONE, PR_PROCESSED, PR_DUPLICATE, PR_FAILED, PR_OVERSIZE };

/* One message of the batch, between the phases. */
struct pending {
	enum pending_kind kind;
	size_t item;
	struct inbox_message m;     /* when parsed (the header only for PK_OVERSIZE) */
	int parsed;
	int answer;                 /* PK_OVERSIZE: the sender may be answered */
	char msgid[STORE_MSGID_MAX + 1];
	char reason[ERR_MSG_MAX + 64];
	struct act_discovery disc;
	enum pending_result result;
	enum inbox_intent_kind intent;
};

struct poll {
	const struct programme *p;
	struct store *st;
	struct source *src;
	int64_t now;
	struct inbox_stats *stats;
	uint32_t last_uid;        /* IMAP: highest UID done, as stored */
	size_t max_size;
	struct feeds_options fo;
	char user_agent[FEEDS_USER_AGENT_MAX];
	size_t discoveries;       /* feeds looked up by this run */
	struct buf raw;
	struct pending batch[INBOX_BATCH];
	struct err *e;
};

/* Phase 1 for item i: fills in *pd (always, even on error: release it
 * with poll_pending_free).  0, or -1 when the source or the store failed. */
int poll_prepare(struct poll *pl, size_t i, struct pending *pd);
void poll_pending_free(struct pending *pd);

/* The crash crumb naming the message of pd (store_crumb_enter). */
void poll_crumb_key(const struct poll *pl, const struct pending *pd, char *out, size_t n);

/* The Message-ID of a message without one: stable for the same bytes. */
int poll_synth_message_id(const void *data, size_t len, char *out, size_t n, struct err *e);

#endif
