/*
 * transport.h (private to mailer/) - where composed messages go: an SMTP
 * server through libcurl (smtp.c) or a Maildir (maildir.c), behind one
 * small interface so that the send loop does not know which.
 *
 * A transport has a fixed number of slots (SMTP: one per connection;
 * Maildir: one).  The caller submits a message into a free slot and later
 * collects the outcome of each submitted message with transport_wait; the
 * slot is then free again.  Nothing is retried here: classifying is the
 * transport's job, deciding (defer, fail) is the send loop's.
 *
 * Ownership: the message bytes and addresses of a submission are borrowed
 * and must stay valid and unchanged until transport_wait has reported that
 * slot.
 */
#ifndef THINGS_MAILER_TRANSPORT_H
#define THINGS_MAILER_TRANSPORT_H

#include <stddef.h>

#include "../store/store.h"
#include "../util/util.h"

#define TRANSPORT_SLOTS_MAX 32

enum transport_status {
	TR_SENT,       /* accepted (2xx after DATA; file renamed into new/) */
	TR_TEMPORARY,  /* 4xx, connection failure, timeout, local I/O error */
	TR_PERMANENT,  /* 5xx to this recipient or this message */
};

struct transport_result {
	enum transport_status status;
	int code;          /* the SMTP reply code, 0 if none */
	/* 1 when the failure concerns this message or recipient (a reply to
	 * RCPT or DATA); 0 when it would hit any message (connection, TLS,
	 * authentication, sender refused, disk full) */
	int per_message;
	char text[STORE_REASON_MAX + 1]; /* for the store: code and server text */
};

struct transport_msg {
	const char *sender;     /* envelope sender (VERP), bare address */
	const char *recipient;  /* one envelope recipient, bare address */
	const char *data;       /* the message, CRLF line ends */
	size_t len;
};

struct transport_config {
	const char *url;        /* "smtp://", "smtp+starttls://", "smtps://", "maildir:" */
	size_t connections;     /* SMTP: parallel connections (1..TRANSPORT_SLOTS_MAX) */
	const char *ca_file;    /* SMTP: extra CA bundle, NULL for the system store */
	const char *helo;       /* SMTP: EHLO name when the URL gives none */
	long connect_timeout_ms; /* 0: 30 s */
	long timeout_ms;        /* a whole transaction; 0: 300 s */
};

struct transport;

struct transport_ops {
	int (*submit)(struct transport *t, size_t slot, const struct transport_msg *msg,
	    struct err *e);
	int (*wait)(struct transport *t, size_t *slot, struct transport_result *res,
	    struct err *e);
	void (*close)(struct transport *t);
};

/* Implementations embed this as their first member. */
struct transport {
	const struct transport_ops *ops;
	size_t slots;
	size_t busy;        /* slots submitted and not yet reported */
	const char *name;   /* "smtp" or "maildir", for logs */
	long connections;   /* connections opened so far (SMTP), for stats and tests */
};

/* Opens the transport the URL names.  The SMTP transport checks the URL
 * and sets up its handles but connects only on the first submission.
 * 0, or -1 with a reason (unknown scheme, bad URL, Maildir not creatable). */
int transport_open(const struct transport_config *cfg, struct transport **out,
    struct err *e);

/* Starts sending msg from slot (which must be free: < slots and not
 * submitted since its last report).  -1 only when the submission could not
 * even start (the slot stays free); a failed delivery is reported by
 * transport_wait instead. */
int transport_submit(struct transport *t, size_t slot, const struct transport_msg *msg,
    struct err *e);

/* Blocks until one submitted message has an outcome; sets *slot and *res
 * and frees the slot.  Returns 1 at once when nothing is in flight, 0 when
 * a result was reported, -1 on an internal error (every in-flight slot is
 * then lost: close the transport). */
int transport_wait(struct transport *t, size_t *slot, struct transport_result *res,
    struct err *e);

/* Abandons anything in flight and releases everything.  NULL is a no-op. */
void transport_close(struct transport *t);

/* The implementations, for transport_open. */
int smtp_open(const struct transport_config *cfg, struct transport **out, struct err *e);
int maildir_open(const char *path, struct transport **out, struct err *e);

/* 1 if addr can go into an SMTP envelope or a Maildir header as is: an
 * address of printable ASCII or UTF-8, with an "@", no space, no control
 * character, none of "<>\"(),;:\\[]". */
int transport_addr_ok(const char *addr);

#endif
