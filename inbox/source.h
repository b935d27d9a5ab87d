/*
 * source.h - where inbound mail comes from (private to inbox/).
 *
 * A source is a mailbox that inbox_poll reads: an IMAP mailbox (imap*.c,
 * the only files that call libetpan's IMAP API) or a Maildir
 * (maildir_in.c).  Both behave the same way for the caller:
 *
 *   source_open   connect (IMAP: TLS verified before the password is sent)
 *   source_list   the messages not processed yet, oldest first
 *   source_fetch  one message's raw bytes, never more than max_size
 *   source_file   file it away: moved into the processed or failed folder,
 *                 or flagged where it is (options); IMAP queues the
 *                 request and source_flush sends one command per outcome
 *                 for the whole set (UID MOVE / UID STORE of a UID set)
 *   source_close
 *
 * Names and keys, as the store keeps them:
 *   IMAP     name "imap://user@host:port/MAILBOX" (no password; the same
 *            for imap, imaps and imap+starttls so that changing the TLS
 *            mode does not make old messages look new); key
 *            "UIDVALIDITY:UID".
 *   Maildir  name "maildir:/abs/path"; key the unique part of the file
 *            name (before ":2,").
 *
 * Ownership: the source owns its items and everything it allocates;
 * source_close releases all.  Strings passed in are copied.
 */
#ifndef THINGS_INBOX_SOURCE_H
#define THINGS_INBOX_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "../store/store.h"
#include "../util/util.h"

#define SOURCE_NAME_MAX 600
#define SOURCE_MAX_ITEMS 20000         /* listed per run; the rest wait for the next run */
#define SOURCE_MAX_SIZE_DEFAULT ((size_t)10 << 20)
#define SOURCE_TIMEOUT_DEFAULT 60      /* seconds, per network operation */
#define SOURCE_HEADER_MAX ((size_t)64 << 10) /* source_fetch_header's cap */

#define SOURCE_FOLDER_PROCESSED "Processed"
#define SOURCE_FOLDER_FAILED "Failed"
#define SOURCE_FOLDER_MAX 100

/* Where a handled message is filed. */
enum source_outcome {
	SOURCE_PROCESSED,
	SOURCE_FAILED,
};

/* What flag mode sets.  IMAP: a keyword each (so that listing can skip
 * what is done without trusting \Seen, which readers change), plus \Seen
 * on processed and \Flagged on failed messages for the people reading the
 * mailbox.  Maildir: the info flags S (processed) and F (failed); a file
 * carrying one is skipped only if the store knows it (options.known). */
#define SOURCE_KEYWORD_PROCESSED "$ThingsProcessed"
#define SOURCE_KEYWORD_FAILED "$ThingsFailed"

/* What source_fetch and source_move can say besides 0 and -1. */
enum source_result {
	SOURCE_GONE = 1,      /* the message is no longer there (another client moved it) */
	SOURCE_TOO_BIG = 2,   /* it is larger than max_size: nothing was kept */
};

struct source_options {
	const char *ca_file;  /* extra trusted CA certificates (PEM), or NULL */
	size_t max_size;      /* largest message fetched; 0: SOURCE_MAX_SIZE_DEFAULT */
	int timeout;          /* seconds; 0: SOURCE_TIMEOUT_DEFAULT */
	const char *folders[2]; /* by outcome; NULL: SOURCE_FOLDER_PROCESSED, _FAILED;
	                         * letters, digits, '-', '_', '.' only */
	int flag_only;        /* flag handled messages where they are, never move them */
	/* Maildir in flag mode: whether the store recorded the message with
	 * this key (1 yes, 0 no, -1 error with e set).  NULL: never. */
	int (*known)(void *arg, const char *key, struct err *e);
	void *known_arg;
};

struct source_item {
	char key[STORE_KEY_MAX + 1];
	uint32_t uid;         /* IMAP; 0 for Maildir */
	size_t size;          /* as the source declares it (RFC822.SIZE, file size) */
};

struct source;

struct source_ops {
	int (*list)(struct source *s, uint32_t uidvalidity, uint32_t last_uid, struct err *e);
	int (*fetch)(struct source *s, size_t i, size_t max, struct buf *raw, struct err *e);
	int (*fetch_header)(struct source *s, size_t i, struct buf *raw, struct err *e);
	int (*file)(struct source *s, size_t i, enum source_outcome o, struct err *e);
	int (*flush)(struct source *s, struct err *e);
	void (*close)(struct source *s);
};

/* The part every implementation shares; each embeds it first. */
struct source {
	const struct source_ops *ops;
	char name[SOURCE_NAME_MAX + 1];
	struct source_item *items;    /* after source_list: oldest first */
	size_t nitems;
	uint32_t uidvalidity;         /* IMAP: of the selected mailbox; 0 for Maildir */
	size_t max_size;
	int timeout;
	char folders[2][SOURCE_FOLDER_MAX + 1]; /* by outcome */
	int flag_only;
	int (*known)(void *arg, const char *key, struct err *e);
	void *known_arg;
};

/* Opens the source named by url: "maildir:/abs/path", "imap://...",
 * "imaps://..." or "imap+starttls://...".  For IMAP this connects, checks
 * the server's certificate (TLS schemes) and logs in.  On success *out is
 * the caller's, to close with source_close. */
int source_open(const char *url, const struct source_options *o, struct source **out,
    struct err *e);

/* Lists the messages waiting, oldest first, into s->items (at most
 * SOURCE_MAX_ITEMS).  uidvalidity/last_uid are what the store remembers
 * of this IMAP mailbox (0/0 if nothing): messages with a UID above last_uid
 * are new; older ones still in the mailbox (a crash between commit and
 * move) are listed too, so that the caller can move them.  When the
 * mailbox's UIDVALIDITY differs, every message is listed.  Maildir ignores
 * both numbers. */
int source_list(struct source *s, uint32_t uidvalidity, uint32_t last_uid, struct err *e);

/* Fetches item i (of the last source_list) into raw (reset first), at
 * most max bytes (0: s->max_size) without marking it read.  Returns 0,
 * SOURCE_GONE, SOURCE_TOO_BIG, or -1 when the source itself failed (a
 * dropped connection): then the source is closed for further use and the
 * caller should stop. */
int source_fetch(struct source *s, size_t i, size_t max, struct buf *raw, struct err *e);

/* Fetches only the header of item i (at most SOURCE_HEADER_MAX bytes):
 * what an oversize message is answered from. */
int source_fetch_header(struct source *s, size_t i, struct buf *raw, struct err *e);

/* Files item i by outcome: into its folder (created when missing), or, in
 * flag mode, flagged where it is.  Maildir does it at once and may return
 * SOURCE_GONE; IMAP records the request for source_flush (a message gone
 * meanwhile is then silently skipped by the server).  0, SOURCE_GONE, or
 * -1 (as above). */
int source_file(struct source *s, size_t i, enum source_outcome o, struct err *e);
/* Carries out the requests source_file recorded: one command per outcome
 * for all of them.  0, or -1 (the connection is then closed; the requests
 * are dropped: those messages are known to the store and are filed by the
 * next run). */
int source_flush(struct source *s, struct err *e);
/* Copies o's folders and flag settings into s (the implementations' open). */
int source_setup(struct source *s, const struct source_options *o, struct err *e);

void source_close(struct source *s);

/* Writes the SHA-256 of data as 64 lowercase hex digits and a NUL. */
int source_sha256_hex(const void *data, size_t len, char out[65], struct err *e);

/* --- implementations ---------------------------------------------------- */

int maildir_source_open(const char *path, const struct source_options *o,
    struct source **out, struct err *e);
int imap_source_open(const char *url, const struct source_options *o, struct source **out,
    struct err *e);

/* --- IMAP URLs (imap_url.c) ---------------------------------------------- */

enum imap_tls { IMAP_TLS_NONE, IMAP_TLS_STARTTLS, IMAP_TLS_IMPLICIT };

#define IMAP_URL_PART_MAX 255

/* A parsed IMAP URL: scheme://[user[:password]@]host[:port][/mailbox].
 * user, password and mailbox are percent-decoded and hold no control
 * characters; host is a name or an address ("[...]" removed for IPv6). */
struct imap_url {
	enum imap_tls tls;
	char user[IMAP_URL_PART_MAX + 1];
	char password[IMAP_URL_PART_MAX + 1];
	char host[IMAP_URL_PART_MAX + 1];
	uint16_t port;                        /* default 143, or 993 for imaps */
	char mailbox[IMAP_URL_PART_MAX + 1];  /* default "INBOX" */
};

int imap_url_parse(const char *url, struct imap_url *out, struct err *e);
/* The source name for the store: "imap://user@host:port/MAILBOX". */
void imap_url_name(const struct imap_url *u, char *out, size_t n);

/* --- TLS (tls_verify.c) -------------------------------------------------- */

#define TLS_CHAIN_MAX 16
#define TLS_CERT_MAX ((size_t)64 << 10)

struct tls_der {
	const unsigned char *data;
	size_t len;
};

/* Verifies a server's certificate chain (DER, leaf first) against the
 * system's trusted CAs plus those in ca_file (PEM, may be NULL), and that
 * the leaf names host (a DNS name or an IP address).  0 if it may be
 * trusted, else -1 with the reason ("certificate for wrong.example does
 * not match host localhost", "unknown CA", "expired", ...). */
int tls_verify_chain(const struct tls_der *chain, size_t n, const char *host,
    const char *ca_file, struct err *e);

/* libetpan's types, for the two calls below (no libetpan header here). */
struct _mailstream;
struct mailstream_ssl_context;

/* The TLS set-up callback for libetpan's connect calls: sets SNI to host
 * (a NUL-terminated name; addresses are not sent). */
void tls_set_sni(struct mailstream_ssl_context *ctx, void *host);

/* tls_verify_chain on the certificates a libetpan TLS stream received. */
int tls_verify_stream(struct _mailstream *stream, const char *host, const char *ca_file,
    struct err *e);

#endif
