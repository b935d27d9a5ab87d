/* smtp_dialogue.c - one mail transaction (MAIL, RCPT, DATA, the message),
 * as a state machine fed with the server's replies: which commands go
 * together (RFC 2920), which reply answers which command, and what each
 * reply means for the message.  No I/O: smtp.c sends what this appends to
 * its buffer and feeds back what the server answers.
 *
 * One recipient per transaction: VERP needs a MAIL FROM per recipient, and
 * a refused recipient is then the message's own failure. */
#include <stdio.h>
#include <string.h>

#include "smtp_proto.h"

int
smtp_dot_stuff(struct buf *out, const char *data, size_t len)
{
	/* data[run..i) goes out as it is: one copy for a clean message,
	 * broken only where a line needs a dot or a line end needs a CR or LF */
	size_t run = 0, i = 0;
	int open_line = 0;

	while (i < len) {
		const char *lf, *cr;
		size_t end;

		if (data[i] == '.') {
			if (buf_append(out, data + run, i - run) == -1 || buf_putc(out, '.') == -1)
				return -1;
			run = i;
		}
		lf = memchr(data + i, '\n', len - i);
		end = lf ? (size_t)(lf - data) : len;
		cr = memchr(data + i, '\r', end - i);
		if (cr != NULL && cr + 1 == lf) {
			i = end + 1;          /* CRLF */
			continue;
		}
		if (cr == NULL && lf == NULL) {
			open_line = 1;        /* the last line has no line end */
			break;
		}
		end = cr ? (size_t)(cr - data) : end; /* a bare CR, or a bare LF */
		if (buf_append(out, data + run, end - run) == -1 || buf_append(out, "\r\n", 2) == -1)
			return -1;
		i = run = end + 1;
	}
	if (buf_append(out, data + run, len - run) == -1 ||
	    (open_line && buf_append(out, "\r\n", 2) == -1))
		return -1;
	return buf_append(out, ".\r\n", 3);
}

static int
is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

static void
await(struct smtp_txn *t, enum smtp_step step)
{
	/* never more than MAIL, RCPT, DATA at once, then END or RSET */
	t->await[(t->head + t->count) % SMTP_TXN_AWAIT_MAX] = step;
	t->count++;
}

static const char *const step_name[] = {
	[SMTP_STEP_MAIL] = "MAIL", [SMTP_STEP_RCPT] = "RCPT", [SMTP_STEP_DATA] = "DATA",
	[SMTP_STEP_END] = "DATA-END", [SMTP_STEP_RSET] = "RSET",
};

/* Sets the outcome to failed, if nothing failed before. */
static void
fail(struct smtp_txn *t, const char *stage, int code, int per_message, const char *text)
{
	struct transport_result *res = &t->res;

	if (t->failed)
		return;
	t->failed = 1;
	memset(res, 0, sizeof(*res));
	res->code = code;
	res->per_message = per_message;
	res->status = code >= 500 && per_message ? TR_PERMANENT : TR_TEMPORARY;
	if (code > 0)
		smtp_enhanced_status(text, code, res->enhanced, sizeof(res->enhanced));
	snprintf(res->text, sizeof(res->text), "%s: %s", stage, text);
}

static int
put_rcpt(struct smtp_txn *t, struct buf *out)
{
	await(t, SMTP_STEP_RCPT);
	return buf_printf(out, "RCPT TO:<%s>\r\n", t->msg->recipient);
}

int
smtp_txn_begin(struct smtp_txn *t, const struct transport_msg *msg,
    const struct smtp_caps *caps, struct buf *out)
{
	memset(t, 0, sizeof(*t));
	t->msg = msg;
	t->pipelining = (caps->flags & SMTP_CAP_PIPELINING) != 0;
	/* transport_submit checked the addresses; a command is no place to
	 * trust that */
	if (str_has_ctl(msg->sender, 0) || str_has_ctl(msg->recipient, 0)) {
		fail(t, "MAIL", 0, 1, "refusing an address with a control character");
		t->res.status = TR_PERMANENT;
		return SMTP_TXN_DONE;
	}
	if (!is_ascii(msg->recipient) || !is_ascii(msg->sender)) {
		if (!(caps->flags & SMTP_CAP_SMTPUTF8)) {
			/* the recipient's address cannot go through this server;
			 * our own sender's is our configuration, to be fixed */
			int theirs = !is_ascii(msg->recipient);

			fail(t, "MAIL", 0, theirs, theirs ?
			    "the recipient's address is not ASCII and the server does not offer "
			    "SMTPUTF8" : "the sender's address is not ASCII and the server does not "
			    "offer SMTPUTF8");
			if (theirs) {
				t->res.status = TR_PERMANENT;
				snprintf(t->res.enhanced, sizeof(t->res.enhanced), "5.6.7");
			}
			return SMTP_TXN_DONE;
		}
		t->utf8 = 1;
	}
	t->sized = (caps->flags & SMTP_CAP_SIZE) != 0;
	await(t, SMTP_STEP_MAIL);
	if (buf_printf(out, "MAIL FROM:<%s>", msg->sender) == -1 ||
	    (t->sized && buf_printf(out, " SIZE=%zu", msg->len) == -1) ||
	    (t->utf8 && buf_puts(out, " SMTPUTF8") == -1) || buf_puts(out, "\r\n") == -1)
		return -1;
	/* RFC 2920 3.1: RCPT and DATA may follow MAIL; DATA ends the group */
	if (t->pipelining) {
		if (put_rcpt(t, out) == -1 || buf_puts(out, "DATA\r\n") == -1)
			return -1;
		await(t, SMTP_STEP_DATA);
	}
	return SMTP_TXN_MORE;
}

/* A reply to MAIL, RCPT or DATA-END: 2xx goes on, 4xx/5xx fails, anything
 * else puts us out of step.  1, 0 (failed), -1 (out of step). */
static int
positive(struct smtp_txn *t, enum smtp_step step, const struct smtp_reply *r)
{
	int per_message = step != SMTP_STEP_MAIL;

	if (r->code >= 200 && r->code < 300)
		return 1;
	/* a message over the server's SIZE limit, refused at MAIL, is this
	 * message's fault (RFC 1870) */
	if (step == SMTP_STEP_MAIL && t->sized && r->code == 552)
		per_message = 1;
	if (r->code == 421)
		per_message = 0; /* the server is going away: no word on the message */
	fail(t, step_name[step], r->code, per_message, r->text);
	return r->code >= 400 ? 0 : -1;
}

int
smtp_txn_reply(struct smtp_txn *t, const struct smtp_reply *r, struct buf *out)
{
	enum smtp_step step;
	int ok = 1;

	if (t->count == 0) {
		fail(t, "SMTP", r->code, 0, "a reply to no command");
		return SMTP_TXN_CLOSE;
	}
	step = t->await[t->head];
	t->head = (t->head + 1) % SMTP_TXN_AWAIT_MAX;
	t->count--;
	switch (step) {
	case SMTP_STEP_MAIL:
	case SMTP_STEP_RCPT:
		if (t->failed)
			break; /* answers to what was pipelined after a failure */
		if ((ok = positive(t, step, r)) == 1 && !t->pipelining) {
			if (step == SMTP_STEP_MAIL && put_rcpt(t, out) == -1)
				return -1;
			if (step == SMTP_STEP_RCPT) {
				if (buf_puts(out, "DATA\r\n") == -1)
					return -1;
				await(t, SMTP_STEP_DATA);
			}
		}
		break;
	case SMTP_STEP_DATA:
		if (r->code == 354) {
			/* a server that takes DATA after refusing the recipient
			 * gets an empty message (RFC 2920 3.1) */
			if ((t->failed ? buf_puts(out, ".\r\n") :
			    smtp_dot_stuff(out, t->msg->data, t->msg->len)) == -1)
				return -1;
			await(t, SMTP_STEP_END);
		} else if (!t->failed) {
			fail(t, "DATA", r->code, r->code != 421, r->text);
			ok = r->code >= 400 ? 0 : -1;
		}
		break;
	case SMTP_STEP_END:
		if (!t->failed && (ok = positive(t, step, r)) == 1) {
			memset(&t->res, 0, sizeof(t->res));
			t->res.status = TR_SENT;
			t->res.code = r->code;
			snprintf(t->res.text, sizeof(t->res.text), "%s", r->text);
		}
		break;
	case SMTP_STEP_RSET:
		if (r->code < 200 || r->code >= 300)
			return SMTP_TXN_CLOSE;
		break;
	}
	if (ok == -1 || r->code == 421)
		return SMTP_TXN_CLOSE;
	if (t->count > 0)
		return SMTP_TXN_MORE;
	if (t->failed && !t->reset) {
		/* the server may still hold the sender (after a refused RCPT):
		 * the next transaction starts clean */
		t->reset = 1;
		await(t, SMTP_STEP_RSET);
		return buf_puts(out, "RSET\r\n") == -1 ? -1 : SMTP_TXN_MORE;
	}
	return SMTP_TXN_DONE;
}

int
smtp_txn_waiting(const struct smtp_txn *t)
{
	return t->count > 0;
}

const char *
smtp_txn_awaited(const struct smtp_txn *t)
{
	return t->count > 0 ? step_name[t->await[t->head]] : "";
}
