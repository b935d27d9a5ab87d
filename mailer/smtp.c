/*
 * smtp.c - the SMTP transport: one connection per slot, opened, secured
 * and authenticated by libcurl (smtp_connect.c), reused from message to
 * message; the mail transactions run over it here, with PIPELINING when
 * the server offers it (RFC 2920: MAIL, RCPT and DATA in one write, then
 * the message and its final dot in another: two round trips a message
 * instead of four, and a third of the system calls).  Every slot's socket
 * is watched by one poll(2); nothing blocks.
 *
 * max_per_connection counts transactions per connection; the last one is
 * followed by QUIT, and the next message opens a fresh connection.  A
 * connection found closed while idle is reopened for the next message.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smtp_internal.h"

#define QUIT_WAIT_MS 2000 /* for the server's answer to QUIT when closing */
#define IDLE_CHECK_MS 1000 /* a connection idle this long is checked before use */

int64_t
transport_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- outcomes -------------------------------------------------------------- */

static void
report(struct smtp_slot *s)
{
	if (s->busy) {
		s->busy = 0;
		s->done = 1;
	}
}

/* The connection failed in the middle of a transaction (closed, reset,
 * timed out, out of step): temporary, not about the message. */
static void
conn_failed(struct smtp *sm, struct smtp_slot *s, const char *what)
{
	if (s->conn == CONN_TXN) {
		struct transport_result *res = &s->res;

		memset(res, 0, sizeof(*res));
		res->status = TR_TEMPORARY;
		snprintf(res->text, sizeof(res->text), "%s: %s (waiting for the reply to %s)",
		    sm->shown, what, smtp_txn_awaited(&s->txn)[0] ? smtp_txn_awaited(&s->txn) :
		    "nothing");
	} else if (s->conn == CONN_READY) {
		log_debug("smtp: %s: idle connection: %s", sm->shown, what);
	}
	smtp_disconnect(s);
	/* a QUIT answered by a close is a QUIT done: its message is reported */
	report(s);
}

/* Sends what is waiting in s->out, as much as the socket takes now. */
static void
flush(struct smtp *sm, struct smtp_slot *s)
{
	while (s->out_off < s->out.len) {
		size_t n = 0;
		CURLcode rc = curl_easy_send(s->easy, s->out.data + s->out_off,
		    s->out.len - s->out_off, &n);

		if (rc == CURLE_AGAIN)
			return;
		if (rc != CURLE_OK) {
			conn_failed(sm, s, curl_easy_strerror(rc));
			return;
		}
		s->out_off += n;
	}
	buf_reset(&s->out);
	s->out_off = 0;
}

static void
send_quit(struct smtp *sm, struct smtp_slot *s, long wait_ms)
{
	s->conn = CONN_QUIT;
	s->deadline = transport_now_ms() + wait_ms;
	if (buf_puts(&s->out, "QUIT\r\n") == -1) {
		conn_failed(sm, s, "out of memory");
		return;
	}
	flush(sm, s);
}

/* The dialogue has the outcome of the transaction (st: SMTP_TXN_DONE or
 * SMTP_TXN_CLOSE). */
static void
txn_finished(struct smtp *sm, struct smtp_slot *s, int st)
{
	s->res = s->txn.res;
	s->on_connection++;
	if (st == SMTP_TXN_CLOSE) {
		smtp_disconnect(s);
	} else if (sm->max_per_connection > 0 && s->on_connection >= sm->max_per_connection) {
		/* reported once the connection is closed: the slot's next
		 * message then opens a fresh one */
		send_quit(sm, s, sm->timeout_ms);
		return;
	} else {
		s->conn = CONN_READY;
		s->idle_since = transport_now_ms();
	}
	report(s);
}

static void
txn_start(struct smtp *sm, struct smtp_slot *s)
{
	int st;

	buf_reset(&s->out);
	s->out_off = 0;
	s->deadline = transport_now_ms() + sm->timeout_ms;
	s->conn = CONN_TXN;
	st = smtp_txn_begin(&s->txn, &s->msg, &s->caps, &s->out);
	if (st == -1)
		conn_failed(sm, s, "message too large for the send buffer");
	else if (st != SMTP_TXN_MORE)
		txn_finished(sm, s, st);
	else
		flush(sm, s);
}

/* The bytes p[0..n) arrived on s's connection: pair the replies. */
static void
take_bytes(struct smtp *sm, struct smtp_slot *s, const char *p, size_t n)
{
	size_t off = 0;

	while (off < n) {
		struct smtp_reply reply;
		struct err e;
		size_t used;
		int rc, st;

		if (s->conn == CONN_READY) {
			/* unasked: a server closing an idle connection ("421
			 * timeout"); the next message gets a fresh one */
			conn_failed(sm, s, "the server spoke unasked");
			return;
		}
		rc = smtp_reader_feed(&s->reader, p + off, n - off, &used, &reply, &e);
		off += used;
		if (rc == -1) {
			conn_failed(sm, s, e.msg);
			return;
		}
		if (rc == 0)
			return;
		if (s->conn == CONN_QUIT) {
			smtp_disconnect(s);
			report(s);
			return;
		}
		st = smtp_txn_reply(&s->txn, &reply, &s->out);
		if (st == -1) {
			conn_failed(sm, s, "message too large for the send buffer");
			return;
		}
		if (st != SMTP_TXN_MORE)
			txn_finished(sm, s, st);
		else
			flush(sm, s);
		if (s->conn == CONN_CLOSED)
			return;
	}
}

/* s's socket is readable: read until libcurl has nothing more. */
static void
readable(struct smtp *sm, struct smtp_slot *s)
{
	char in[16384];

	while (s->conn >= CONN_READY) {
		size_t n = 0;
		CURLcode rc = curl_easy_recv(s->easy, in, sizeof(in), &n);

		if (rc == CURLE_AGAIN)
			return;
		if (rc != CURLE_OK || n == 0) {
			conn_failed(sm, s, rc != CURLE_OK ? curl_easy_strerror(rc) :
			    "connection closed by the server");
			return;
		}
		take_bytes(sm, s, in, n);
		/* plain TCP: a short read emptied the socket, and poll(2) sees
		 * anything more; TLS may hold a decrypted record poll cannot see */
		if (!sm->tls && n < sizeof(in))
			return;
	}
}

/* --- the transport ------------------------------------------------------- */

static int
smtp_submit(struct transport *t, size_t slot, const struct transport_msg *msg, struct err *e)
{
	struct smtp *sm = (struct smtp *)t;
	struct smtp_slot *s = &sm->slot[slot];

	if (s->busy || s->done)
		return err_set(e, "smtp: slot %zu busy", slot);
	s->msg = *msg;
	memset(&s->res, 0, sizeof(s->res));
	if (s->conn == CONN_READY && transport_now_ms() - s->idle_since >= IDLE_CHECK_MS) {
		/* a server that closed the connection while it was idle (and the
		 * send loop was not waiting on us) must not cost this message a
		 * retry: look, and open a fresh connection if it is gone */
		struct pollfd p = { .fd = s->fd, .events = POLLIN };

		if (poll(&p, 1, 0) > 0)
			readable(sm, s);
	}
	if (s->conn == CONN_CLOSED && smtp_connect_start(sm, s, e) == -1)
		return -1;
	s->busy = 1;
	if (s->conn == CONN_READY)
		txn_start(sm, s);
	return 0;
}

/* The first outcome waiting to be reported, round robin; 0 or 1 (none). */
static int
take_result(struct smtp *sm, size_t *slot, struct transport_result *res)
{
	for (size_t k = 0; k < sm->base.slots; k++) {
		size_t i = (sm->next_report + k) % sm->base.slots;

		if (sm->slot[i].done) {
			*res = sm->slot[i].res;
			sm->slot[i].done = 0;
			*slot = i;
			sm->next_report = (i + 1) % sm->base.slots;
			return 0;
		}
	}
	return 1;
}

/* Drives slot s's libcurl connect; a connection made starts the
 * submitted message. */
static int
connect_step(struct smtp *sm, struct smtp_slot *s, curl_socket_t fd, int ev, struct err *e)
{
	int failed;

	if (smtp_connect_step(sm, s, fd, ev, &failed, e) == -1)
		return -1;
	if (failed)
		report(s);
	else if (s->conn == CONN_READY && s->busy)
		txn_start(sm, s);
	return 0;
}

/* Runs libcurl's timers and our deadlines that are due; returns the ms
 * until the next one (-1: none). */
static long
run_timers(struct smtp *sm, struct err *e, int *failed)
{
	int64_t now = transport_now_ms(), next = -1;

	for (size_t i = 0; i < sm->base.slots; i++) {
		struct smtp_slot *s = &sm->slot[i];
		int64_t at;

		if (s->conn == CONN_CONNECTING && s->timer_at >= 0 && s->timer_at <= now) {
			s->timer_at = -1;
			if (connect_step(sm, s, CURL_SOCKET_TIMEOUT, 0, e) == -1) {
				*failed = 1;
				return 0;
			}
		}
		if ((s->conn == CONN_TXN || s->conn == CONN_QUIT) && s->deadline <= now) {
			char why[64];

			snprintf(why, sizeof(why), "timed out after %ld ms", sm->timeout_ms);
			conn_failed(sm, s, why);
		}
		at = s->conn == CONN_CONNECTING ? s->timer_at :
		    (s->conn == CONN_TXN || s->conn == CONN_QUIT) ? s->deadline : -1;
		if (at >= 0 && (next < 0 || at < next))
			next = at;
	}
	return next < 0 ? -1 : (long)(next > now ? next - now : 0);
}

/* One round: due timers, then one poll(2) over every slot's sockets for
 * at most timeout_ms (negative: until something happens). */
static int
step(struct smtp *sm, long timeout_ms, struct err *e)
{
	struct pollfd pfd[TRANSPORT_SLOTS_MAX * SMTP_SLOT_FDS];
	size_t owner[TRANSPORT_SLOTS_MAX * SMTP_SLOT_FDS];
	size_t n = 0;
	int failed = 0, rc;
	long timer = run_timers(sm, e, &failed);

	if (failed)
		return -1;
	for (size_t i = 0; i < sm->base.slots; i++)
		if (sm->slot[i].done)
			return 0; /* a timer finished a transaction: report it first */
	if (timer >= 0 && (timeout_ms < 0 || timer < timeout_ms))
		timeout_ms = timer;
	for (size_t i = 0; i < sm->base.slots; i++) {
		struct smtp_slot *s = &sm->slot[i];

		if (s->conn == CONN_CONNECTING) {
			for (size_t k = 0; k < s->nfds; k++) {
				pfd[n].fd = s->fds[k].fd;
				pfd[n].events = s->fds[k].events;
				owner[n++] = i;
			}
		} else if (s->conn != CONN_CLOSED) {
			pfd[n].fd = s->fd;
			pfd[n].events = (short)(POLLIN | (s->out_off < s->out.len ? POLLOUT : 0));
			owner[n++] = i;
		}
	}
	if (n == 0 && timeout_ms < 0)
		return sm->base.busy > 0 ?
		    err_set(e, "smtp: transfers in progress but nothing to wait for") : 0;
	for (size_t j = 0; j < n; j++)
		pfd[j].revents = 0;
	rc = poll(pfd, n, timeout_ms < 0 ? -1 : (int)(timeout_ms > 60000 ? 60000 : timeout_ms));
	if (rc == -1)
		return 0; /* EINTR: the caller's loop comes back */
	for (size_t j = 0; j < n && rc > 0; j++) {
		struct smtp_slot *s = &sm->slot[owner[j]];
		short re = pfd[j].revents;

		if (re == 0)
			continue;
		if (s->conn == CONN_CONNECTING) {
			int ev = ((re & (POLLIN | POLLHUP)) ? CURL_CSELECT_IN : 0) |
			    ((re & POLLOUT) ? CURL_CSELECT_OUT : 0) |
			    ((re & (POLLERR | POLLNVAL)) ? CURL_CSELECT_ERR : 0);

			if (connect_step(sm, s, pfd[j].fd, ev, e) == -1)
				return -1;
			continue;
		}
		/* a slot whose connection changed since the poll began */
		if (s->conn == CONN_CLOSED || pfd[j].fd != s->fd)
			continue;
		if ((re & POLLOUT) && s->out_off < s->out.len)
			flush(sm, s);
		if (s->conn != CONN_CLOSED && (re & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))
			readable(sm, s);
	}
	return 0;
}

static int
smtp_wait(struct transport *t, size_t *slot, struct transport_result *res, long timeout_ms,
    struct err *e)
{
	struct smtp *sm = (struct smtp *)t;
	int64_t deadline = timeout_ms >= 0 ? transport_now_ms() + timeout_ms : -1;

	for (;;) {
		long left = -1;

		if (take_result(sm, slot, res) == 0)
			return 0;
		if (deadline >= 0) {
			int64_t now = transport_now_ms();

			left = now >= deadline ? 0 : (long)(deadline - now);
		}
		if (step(sm, left, e) == -1)
			return -1;
		if (left == 0)
			return take_result(sm, slot, res) == 0 ? 0 : 2;
	}
}

/* Says QUIT on every idle connection and waits a little for the answers
 * (RFC 5321 4.1.1.10: the client closes after the reply). */
static void
quit_all(struct smtp *sm)
{
	long wait_ms = sm->timeout_ms < QUIT_WAIT_MS ? sm->timeout_ms : QUIT_WAIT_MS;
	int64_t until = transport_now_ms() + wait_ms;
	size_t quitting = 0;
	struct err e;

	for (size_t i = 0; i < sm->base.slots; i++) {
		struct smtp_slot *s = &sm->slot[i];

		s->busy = s->done = 0; /* what was not collected is abandoned */
		if (s->conn == CONN_READY) {
			buf_reset(&s->out);
			s->out_off = 0;
			send_quit(sm, s, wait_ms);
		} else if (s->conn != CONN_QUIT) {
			smtp_disconnect(s); /* abandoned in the middle */
		}
		quitting += s->conn == CONN_QUIT;
	}
	while (quitting > 0 && transport_now_ms() < until) {
		if (step(sm, (long)(until - transport_now_ms()), &e) == -1)
			break;
		quitting = 0;
		for (size_t i = 0; i < sm->base.slots; i++)
			quitting += sm->slot[i].conn == CONN_QUIT;
	}
}

static void
smtp_close(struct transport *t)
{
	struct smtp *sm = (struct smtp *)t;

	quit_all(sm);
	smtp_free(sm);
}

static const struct transport_ops smtp_ops = {
	.submit = smtp_submit,
	.wait = smtp_wait,
	.close = smtp_close,
};

int
smtp_open(const struct transport_config *cfg, struct transport **out, struct err *e)
{
	size_t slots = cfg->connections ? cfg->connections : 4;
	struct smtp *sm;

	if (slots > TRANSPORT_SLOTS_MAX)
		return err_set(e, "smtp: at most %d connections", TRANSPORT_SLOTS_MAX);
	sm = calloc(1, sizeof(*sm) + slots * sizeof(sm->slot[0]));
	if (sm == NULL)
		return err_set(e, "out of memory");
	sm->base.ops = &smtp_ops;
	sm->base.slots = slots;
	sm->base.name = "smtp";
	if (smtp_setup(sm, cfg, e) == -1)
		return -1;
	*out = &sm->base;
	return 0;
}
