/*
 * test_mailer_fake.h - a scripted SMTP server in a thread of the test
 * (plain, STARTTLS or implicit TLS through GnuTLS), for the replies a real
 * server will not give on demand: 451/550 at RCPT, 452/554 after the data,
 * 553 at MAIL FROM, silence.  And the helpers that drive a transport one
 * message at a time.  Included by test_mailer_*.c only.
 */
#ifndef THINGS_TEST_MAILER_FAKE_H
#define THINGS_TEST_MAILER_FAKE_H

#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../mailer/transport.h"
#include "../../util/util.h"

#define SENDER "things+bounce-0123456789abcdef01234567@example.org"

static __attribute__((unused)) struct transport *
open_smtp(const char *url, size_t connections, long timeout_ms)
{
	struct transport_config cfg = { .url = url, .connections = connections,
		.helo = "things.example.org", .connect_timeout_ms = 2000,
		.timeout_ms = timeout_ms };
	struct transport *t = NULL;
	struct err e;

	if (transport_open(&cfg, &t, &e) == -1)
		fail_msg("%s", e.msg);
	assert_int_equal(t->slots, connections);
	return t;
}

static __attribute__((unused)) char *
message_for(const char *rcpt, int n)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(buf_printf(&b, "From: <things@example.org>\r\nTo: <%s>\r\n"
	    "Subject: test %d\r\n\r\nbody of message %d\r\n.leading dot\r\n", rcpt, n, n), 0);
	return buf_steal(&b);
}

/* Sends one message through slot 0 and waits for its outcome. */
static __attribute__((unused)) void
send_one(struct transport *t, const char *rcpt, struct transport_result *res)
{
	char *data = message_for(rcpt, 0);
	struct transport_msg msg = { SENDER, rcpt, data, strlen(data) };
	struct err e;
	size_t slot;

	assert_int_equal(transport_submit(t, 0, &msg, &e), 0);
	if (transport_wait(t, &slot, res, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(slot, 0);
	free(data);
}

/* FAKE_IDLE_CLOSE: 0.2 s after each message, "421 4.4.2" and the
 * connection closed, as Postfix does to an idle client */
enum fake_mode { FAKE_NORMAL, FAKE_REFUSE_SENDER, FAKE_SILENT, FAKE_IDLE_CLOSE };
enum fake_tls { TLS_NONE, TLS_STARTTLS, TLS_IMPLICIT };

struct fake {
	int lfd, port;
	enum fake_mode mode;
	enum fake_tls tls;
	gnutls_certificate_credentials_t cred;
	volatile int stop;
	pthread_t thread;
	int sessions;
	int quits;              /* sessions that ended with QUIT */
	int tls_sessions;       /* sessions that completed a TLS handshake */
	char helo[128];
};

struct conn {
	int fd;
	gnutls_session_t tls;   /* NULL until a handshake succeeded */
};

static __attribute__((unused)) int
conn_start_tls(struct fake *f, struct conn *c)
{
	gnutls_session_t s;
	int rc;

	if (gnutls_init(&s, GNUTLS_SERVER) < 0)
		return -1;
	gnutls_set_default_priority(s);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, f->cred);
	gnutls_transport_set_int(s, c->fd);
	gnutls_handshake_set_timeout(s, 5000);
	do
		rc = gnutls_handshake(s);
	while (rc < 0 && !gnutls_error_is_fatal(rc));
	if (rc < 0) {
		gnutls_deinit(s);
		return -1;
	}
	c->tls = s;
	f->tls_sessions++;
	return 0;
}

static __attribute__((unused)) int
conn_getc(struct conn *c, char *ch)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };

	if (c->tls != NULL) {
		ssize_t n;

		if (gnutls_record_check_pending(c->tls) == 0 && poll(&p, 1, 5000) <= 0)
			return -1;
		do
			n = gnutls_record_recv(c->tls, ch, 1);
		while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
		return n == 1 ? 0 : -1;
	}
	if (poll(&p, 1, 5000) <= 0 || read(c->fd, ch, 1) != 1)
		return -1;
	return 0;
}

static __attribute__((unused)) int
fake_getline(struct conn *c, char *line, size_t n)
{
	size_t used = 0;

	while (used + 1 < n) {
		char ch;

		if (conn_getc(c, &ch) == -1)
			return -1;
		if (ch == '\n')
			break;
		if (ch != '\r')
			line[used++] = ch;
	}
	line[used] = '\0';
	return 0;
}

static __attribute__((unused)) void
fake_say(struct conn *c, const char *s)
{
	size_t n = strlen(s);

	if (c->tls != NULL) {
		if (gnutls_record_send(c->tls, s, n) != (ssize_t)n)
			return;
	} else if (write(c->fd, s, n) != (ssize_t)n) {
		return;
	}
}

/* Replies other than "ok", by stage and recipient local part. */
static const struct {
	const char *stage;   /* "RCPT" or "END" (of the data) */
	const char *local;
	const char *reply;
} script[] = {
	{ "RCPT", "temp@", "451 4.3.0 <temp@example.org>: Temporary lookup failure\r\n" },
	{ "RCPT", "perm@", "550 5.1.1 <perm@example.org>: Recipient address rejected\r\n" },
	{ "RCPT", "policy@", "550 5.7.1 <policy@example.org>: Recipient address rejected: "
	  "Access denied\r\n" },
	{ "RCPT", "nostatus@", "550 Mailbox unavailable\r\n" },
	{ "END", "dataperm@", "554 5.7.1 Message refused: content\r\n" },
	{ "END", "datatemp@", "452 4.3.1 Insufficient system storage\r\n" },
};

static __attribute__((unused)) const char *
scripted(const char *stage, const char *rcpt, const char *ok)
{
	for (size_t i = 0; i < sizeof(script) / sizeof(script[0]); i++)
		if (strcmp(script[i].stage, stage) == 0 &&
		    strncmp(rcpt, script[i].local, strlen(script[i].local)) == 0)
			return script[i].reply;
	return ok;
}

/* A session; the reply to RCPT and to the end of the data depends on the
 * recipient (script[]). */
static __attribute__((unused)) void
fake_session(struct fake *f, struct conn *c)
{
	char line[1024], rcpt[256] = "";

	if (f->mode == FAKE_SILENT) {
		while (!f->stop && fake_getline(c, line, sizeof(line)) == 0)
			;
		return;
	}
	if (f->tls == TLS_IMPLICIT && conn_start_tls(f, c) == -1)
		return;
	fake_say(c, "220 fake ESMTP\r\n");
	while (fake_getline(c, line, sizeof(line)) == 0) {
		if (strncasecmp(line, "EHLO ", 5) == 0) {
			snprintf(f->helo, sizeof(f->helo), "%s", line + 5);
			fake_say(c, f->tls == TLS_STARTTLS && c->tls == NULL ?
			    "250-fake\r\n250-STARTTLS\r\n250 8BITMIME\r\n" :
			    "250-fake\r\n250 8BITMIME\r\n");
		} else if (strcasecmp(line, "STARTTLS") == 0 && f->tls == TLS_STARTTLS &&
		    c->tls == NULL) {
			fake_say(c, "220 2.0.0 Ready to start TLS\r\n");
			if (conn_start_tls(f, c) == -1)
				return;
		} else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
			fake_say(c, f->mode == FAKE_REFUSE_SENDER ?
			    "553 5.7.1 <x>: Sender address rejected: not owned by user\r\n" :
			    "250 2.1.0 Ok\r\n");
		} else if (strncasecmp(line, "RCPT TO:<", 9) == 0) {
			snprintf(rcpt, sizeof(rcpt), "%s", line + 9);
			fake_say(c, scripted("RCPT", rcpt, "250 2.1.5 Ok\r\n"));
		} else if (strcasecmp(line, "DATA") == 0) {
			fake_say(c, "354 End data with <CR><LF>.<CR><LF>\r\n");
			while (fake_getline(c, line, sizeof(line)) == 0 && strcmp(line, ".") != 0)
				;
			fake_say(c, scripted("END", rcpt, "250 2.0.0 Ok: queued as FAKE1\r\n"));
			if (f->mode == FAKE_IDLE_CLOSE) {
				usleep(200000);
				fake_say(c, "421 4.4.2 fake: timeout exceeded\r\n");
				return;
			}
		} else if (strcasecmp(line, "QUIT") == 0) {
			f->quits++;
			fake_say(c, "221 2.0.0 Bye\r\n");
			return;
		} else if (strcasecmp(line, "RSET") == 0 || strcasecmp(line, "NOOP") == 0) {
			fake_say(c, "250 2.0.0 Ok\r\n");
		} else {
			fake_say(c, "502 5.5.2 Error: command not recognized\r\n");
		}
	}
}

static void *
fake_main(void *arg)
{
	struct fake *f = arg;

	while (!f->stop) {
		struct pollfd p = { .fd = f->lfd, .events = POLLIN };
		int fd;

		if (poll(&p, 1, 50) <= 0)
			continue;
		struct conn c = { -1, NULL };

		fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		f->sessions++;
		c.fd = fd;
		fake_session(f, &c);
		if (c.tls != NULL) {
			gnutls_bye(c.tls, GNUTLS_SHUT_WR);
			gnutls_deinit(c.tls);
		}
		close(fd);
	}
	return NULL;
}

/* Starts the scripted server; cert and key (PEM files) when tls is not
 * TLS_NONE. */
static __attribute__((unused)) void
fake_start_tls(struct fake *f, enum fake_mode mode, enum fake_tls tls, const char *cert,
    const char *key)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int one = 1;

	memset(f, 0, sizeof(*f));
	f->mode = mode;
	f->tls = tls;
	if (tls != TLS_NONE) {
		assert_int_equal(gnutls_certificate_allocate_credentials(&f->cred), 0);
		assert_int_equal(gnutls_certificate_set_x509_key_file(f->cred, cert, key,
				     GNUTLS_X509_FMT_PEM), 0);
	}
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(f->lfd, 8), 0);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &len), 0);
	f->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static __attribute__((unused)) void
fake_start(struct fake *f, enum fake_mode mode)
{
	fake_start_tls(f, mode, TLS_NONE, NULL, NULL);
}

static __attribute__((unused)) void
fake_stop(struct fake *f)
{
	f->stop = 1;
	pthread_join(f->thread, NULL);
	close(f->lfd);
	if (f->tls != TLS_NONE)
		gnutls_certificate_free_credentials(f->cred);
}

#endif
