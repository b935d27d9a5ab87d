/*
 * smtp_proto.h (private to mailer/) - the client side of SMTP without any
 * I/O: reading replies (smtp_reply.c), the server's EHLO keywords, and one
 * mail transaction as a state machine that pairs replies with commands
 * (smtp_dialogue.c; RFC 5321, RFC 2920 PIPELINING, RFC 6531 SMTPUTF8).
 * smtp.c moves the bytes: libcurl connects, secures and authenticates, and
 * this dialogue runs over the connection it leaves.
 *
 * The parser says what the server sent; the dialogue decides what that
 * means for the message (sent, temporary, permanent, per message or not).
 */
#ifndef THINGS_MAILER_SMTP_PROTO_H
#define THINGS_MAILER_SMTP_PROTO_H

#include <stddef.h>

#include "transport.h"

#define SMTP_LINE_MAX 2048       /* a reply line; RFC 5321 promises 512 */
#define SMTP_REPLY_LINES_MAX 100 /* lines of one reply (an EHLO reply has ~15) */

/* --- replies (smtp_reply.c) ------------------------------------------------ */

struct smtp_reply {
	int code;                   /* 200..599 (1xx too, which nobody sends) */
	/* "550 5.1.1 words": the lines joined with spaces, the code (and an
	 * enhanced status repeating the first line's) left off the later
	 * lines, control characters as spaces, cut at STORE_REASON_MAX */
	char text[STORE_REASON_MAX + 1];
};

/* Reads replies out of a byte stream; keeps at most one line. */
struct smtp_reader {
	char line[SMTP_LINE_MAX];
	size_t len;                 /* bytes of the line being read */
	size_t lines;               /* complete lines of the reply being read */
	char first_status[16];      /* the enhanced status of its first line */
	struct smtp_reply cur;
};

void smtp_reader_reset(struct smtp_reader *r);

/* Consumes bytes of p[0..n) up to the end of the first complete reply.
 * Returns 1 with *out filled and *used = bytes consumed (feed the rest
 * again), 0 when all n bytes were consumed without completing a reply
 * (*used = n), -1 when the server broke the protocol (a line without a
 * reply code, a code that changes within a reply, a line longer than
 * SMTP_LINE_MAX, too many lines): the reason is in e and the connection
 * is out of step.  A line may end in CRLF or a bare LF. */
int smtp_reader_feed(struct smtp_reader *r, const char *p, size_t n, size_t *used,
    struct smtp_reply *out, struct err *e);

/* 1 when no part of a reply is buffered. */
int smtp_reader_idle(const struct smtp_reader *r);

/* The RFC 3463 enhanced status code that follows the reply code in text
 * ("550 5.1.1 <x>: ..." -> "5.1.1"), when its class matches code's; else
 * "".  out has room for n bytes. */
void smtp_enhanced_status(const char *text, int code, char *out, size_t n);

#define SMTP_CAP_PIPELINING 0x1u
#define SMTP_CAP_SMTPUTF8   0x2u
#define SMTP_CAP_SIZE       0x4u

/* What the server's latest EHLO reply offered. */
struct smtp_caps {
	unsigned flags;
	unsigned long long size_max; /* SIZE's limit; 0: none given */
};

/* Adds the keyword one line of an EHLO reply names ("250-PIPELINING",
 * "250 SIZE 10240000", with or without the line end) to caps.  The first
 * line of the reply (the server's name) must not be given. */
void smtp_caps_line(struct smtp_caps *caps, const char *line, size_t len);

/* --- one transaction (smtp_dialogue.c) ------------------------------------- */

enum smtp_step { SMTP_STEP_MAIL, SMTP_STEP_RCPT, SMTP_STEP_DATA, SMTP_STEP_END, SMTP_STEP_RSET };

#define SMTP_TXN_AWAIT_MAX 4

enum smtp_txn_state {
	SMTP_TXN_MORE,   /* send what was appended to out (maybe nothing), feed replies */
	SMTP_TXN_DONE,   /* res is the outcome; the connection may carry another */
	SMTP_TXN_CLOSE,  /* res is the outcome; close the connection (421, out of step) */
};

struct smtp_txn {
	const struct transport_msg *msg; /* borrowed for the transaction */
	int pipelining;
	int utf8;                    /* MAIL FROM asked for SMTPUTF8 */
	int sized;                   /* MAIL FROM declared SIZE= */
	enum smtp_step await[SMTP_TXN_AWAIT_MAX]; /* commands not yet answered, oldest first */
	size_t head, count;
	int failed;                  /* res holds the first failure */
	int reset;                   /* RSET sent after the failure */
	struct transport_result res;
};

/* Starts the transaction of msg over a connection whose server offers
 * caps: appends its first commands to out (with PIPELINING: MAIL, RCPT and
 * DATA together, RFC 2920; without: MAIL alone).  Returns SMTP_TXN_MORE,
 * or SMTP_TXN_DONE with nothing appended when msg cannot go over this
 * connection (an address that needs SMTPUTF8 which the server lacks, a
 * control character in an address), or -1 when out is full.  msg is
 * borrowed until the transaction is done. */
int smtp_txn_begin(struct smtp_txn *t, const struct transport_msg *msg,
    const struct smtp_caps *caps, struct buf *out);

/* Pairs reply r with the oldest unanswered command (replies come in the
 * order of the commands, RFC 2920 3.1) and appends what must follow to out:
 * the next command without PIPELINING, the message after 354, RSET after a
 * failure.  The first failure decides the outcome; replies to commands
 * that were pipelined after it are read and ignored.  Returns an
 * smtp_txn_state, or -1 when out is full. */
int smtp_txn_reply(struct smtp_txn *t, const struct smtp_reply *r, struct buf *out);

/* 1 while the transaction waits for replies. */
int smtp_txn_waiting(const struct smtp_txn *t);

/* The name of the command the next reply answers ("RCPT", "DATA-END"),
 * for a reason when the connection fails; "" when none is awaited. */
const char *smtp_txn_awaited(const struct smtp_txn *t);

/* Appends data as the content of DATA (RFC 5321 4.5.2): a "." starting a
 * line doubled, every line end CRLF (a bare CR or LF becomes CRLF, so that
 * no lone one can end the data early on a lenient server), a final CRLF if
 * data lacks one, then the end of data ".\r\n".  0, or -1 when out is
 * full. */
int smtp_dot_stuff(struct buf *out, const char *data, size_t len);

#endif
