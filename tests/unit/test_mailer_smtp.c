/* Unit tests for mailer/smtp.c, against real servers on loopback:
 * Postfix's smtp-sink (started by the test on a free port) for acceptance
 * over several reused connections, and a tiny scripted server in a thread
 * for the replies smtp-sink cannot give per recipient (451/550 at RCPT,
 * 452/554 after DATA, 553 at MAIL FROM, silence). */
#include <dirent.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../mailer/transport.h"
#include "../../util/util.h"
#include "test_mailer_sink.h"

#define SENDER "things+bounce-0123456789abcdef01234567@example.org"

/* --- helpers ------------------------------------------------------------- */

static struct transport *
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

static char *
message_for(const char *rcpt, int n)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(buf_printf(&b, "From: <things@example.org>\r\nTo: <%s>\r\n"
	    "Subject: test %d\r\n\r\nbody of message %d\r\n.leading dot\r\n", rcpt, n, n), 0);
	return buf_steal(&b);
}

/* Sends one message through slot 0 and waits for its outcome. */
static void
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

static void
test_sink_accepts_over_reused_connections(void **state)
{
	enum { N = 24, CONNS = 4 };
	char url[128], *data[N], rcpt[N][64];
	int port = free_port(), sent = 0, next = 0, in_flight = 0;
	pid_t sink = start_sink(port);
	struct transport *t;
	char *dumps;
	struct err e;

	(void)state;
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", port);
	t = open_smtp(url, CONNS, 10000);
	for (int i = 0; i < N; i++) {
		snprintf(rcpt[i], sizeof(rcpt[i]), "r%d@example.org", i);
		data[i] = message_for(rcpt[i], i);
	}
	/* keep every slot busy, as the send loop does */
	for (size_t s = 0; s < CONNS; s++) {
		struct transport_msg m = { SENDER, rcpt[next], data[next], strlen(data[next]) };

		assert_int_equal(transport_submit(t, s, &m, &e), 0);
		next++, in_flight++;
	}
	while (in_flight > 0) {
		struct transport_result res;
		size_t slot;

		if (transport_wait(t, &slot, &res, &e) != 0)
			fail_msg("%s", e.msg);
		in_flight--;
		if (res.status != TR_SENT)
			fail_msg("not sent: %s", res.text);
		assert_int_equal(res.code, 250);
		sent++;
		if (next < N) {
			struct transport_msg m = { SENDER, rcpt[next], data[next], strlen(data[next]) };

			assert_int_equal(transport_submit(t, slot, &m, &e), 0);
			next++, in_flight++;
		}
	}
	assert_int_equal(sent, N);
	/* several connections, each reused for several messages */
	print_message("%d messages over %ld connections\n", N, t->connections);
	assert_true(t->connections >= 2);
	assert_true(t->connections <= CONNS);
	transport_close(t);

	for (int i = 0; i < 100 && count_dumps() < N; i++)
		usleep(20000);
	assert_int_equal(count_dumps(), N);
	dumps = all_dumps();
	for (int i = 0; i < N; i++) {
		char want[128];

		snprintf(want, sizeof(want), "X-Rcpt-Args: <%s>\n", rcpt[i]);
		assert_non_null(strstr(dumps, want));
		snprintf(want, sizeof(want), "Subject: test %d\n\nbody of message %d\n.leading dot\n",
		    i, i);
		assert_non_null(strstr(dumps, want)); /* dot-stuffing undone: intact */
		free(data[i]);
	}
	assert_non_null(strstr(dumps, "X-Mail-Args: <" SENDER ">"));
	assert_non_null(strstr(dumps, "X-Helo-Args: things.example.org\n"));
	free(dumps);
	stop_sink(sink);
}

/* --- a scripted server ---------------------------------------------------- */

enum fake_mode { FAKE_NORMAL, FAKE_REFUSE_SENDER, FAKE_SILENT };
enum fake_tls { TLS_NONE, TLS_STARTTLS, TLS_IMPLICIT };

struct fake {
	int lfd, port;
	enum fake_mode mode;
	enum fake_tls tls;
	gnutls_certificate_credentials_t cred;
	volatile int stop;
	pthread_t thread;
	int sessions;
	int tls_sessions;       /* sessions that completed a TLS handshake */
	char helo[128];
};

struct conn {
	int fd;
	gnutls_session_t tls;   /* NULL until a handshake succeeded */
};

static int
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

static int
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

static int
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

static void
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
	{ "END", "dataperm@", "554 5.7.1 Message refused: content\r\n" },
	{ "END", "datatemp@", "452 4.3.1 Insufficient system storage\r\n" },
};

static const char *
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
static void
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
		} else if (strcasecmp(line, "QUIT") == 0) {
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
static void
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

static void
fake_start(struct fake *f, enum fake_mode mode)
{
	fake_start_tls(f, mode, TLS_NONE, NULL, NULL);
}

static void
fake_stop(struct fake *f)
{
	f->stop = 1;
	pthread_join(f->thread, NULL);
	close(f->lfd);
	if (f->tls != TLS_NONE)
		gnutls_certificate_free_credentials(f->cred);
}

static void
test_replies_are_classified(void **state)
{
	static const struct {
		const char *rcpt;
		enum transport_status status;
		int code;
		int per_message;
		const char *text;
	} table[] = {
		{ "ok@example.org", TR_SENT, 250, 0, "250 2.0.0 Ok: queued as FAKE1" },
		{ "temp@example.org", TR_TEMPORARY, 451, 1,
		  "RCPT: 451 4.3.0 <temp@example.org>: Temporary lookup failure" },
		{ "perm@example.org", TR_PERMANENT, 550, 1,
		  "RCPT: 550 5.1.1 <perm@example.org>: Recipient address rejected" },
		{ "dataperm@example.org", TR_PERMANENT, 554, 1,
		  "DATA-END: 554 5.7.1 Message refused: content" },
		{ "datatemp@example.org", TR_TEMPORARY, 452, 1,
		  "DATA-END: 452 4.3.1 Insufficient system storage" },
		{ "ok@example.org", TR_SENT, 250, 0, "250 2.0.0 Ok: queued as FAKE1" },
	};
	struct transport *t;
	struct fake f;
	char url[128];

	(void)state;
	fake_start(&f, FAKE_NORMAL);
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", f.port);
	t = open_smtp(url, 1, 5000);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct transport_result res;

		send_one(t, table[i].rcpt, &res);
		assert_int_equal(res.status, table[i].status);
		assert_int_equal(res.code, table[i].code);
		if (res.status != TR_SENT)
			assert_int_equal(res.per_message, table[i].per_message);
		assert_string_equal(res.text, table[i].text);
	}
	transport_close(t);
	fake_stop(&f);
	assert_string_equal(f.helo, "things.example.org");
}

/* Failures that would hit every message are temporary, never permanent:
 * a refused sender, no server, a silent server, TLS required but absent. */
static void
test_setup_failures_are_temporary(void **state)
{
	struct transport_result res;
	struct transport *t;
	struct fake f;
	char url[128];

	(void)state;
	fake_start(&f, FAKE_REFUSE_SENDER);
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", f.port);
	t = open_smtp(url, 1, 5000);
	send_one(t, "ok@example.org", &res);
	assert_int_equal(res.status, TR_TEMPORARY);
	assert_int_equal(res.code, 553);
	assert_int_equal(res.per_message, 0);
	assert_non_null(strstr(res.text, "MAIL: 553 5.7.1"));
	transport_close(t);

	/* STARTTLS required, the server does not offer it: no plaintext */
	snprintf(url, sizeof(url), "smtp+starttls://127.0.0.1:%d", f.port);
	t = open_smtp(url, 1, 5000);
	send_one(t, "ok@example.org", &res);
	assert_int_equal(res.status, TR_TEMPORARY);
	assert_int_equal(res.per_message, 0);
	transport_close(t);
	fake_stop(&f);

	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", free_port());
	t = open_smtp(url, 1, 5000);
	send_one(t, "ok@example.org", &res);
	assert_int_equal(res.status, TR_TEMPORARY);
	assert_int_equal(res.code, 0);
	assert_non_null(strstr(res.text, "smtp://127.0.0.1:"));
	transport_close(t);

	fake_start(&f, FAKE_SILENT);
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", f.port);
	t = open_smtp(url, 1, 300);
	send_one(t, "ok@example.org", &res);
	assert_int_equal(res.status, TR_TEMPORARY);
	assert_int_equal(res.code, 0);
	assert_non_null(strstr(res.text, "imeout"));
	transport_close(t);
	fake_stop(&f);
}

/* --- TLS ------------------------------------------------------------------ */

static char tlsdir[] = "/tmp/things-tls-XXXXXX";

/* A self-signed certificate for subject_alt_name, made with openssl. */
static void
make_cert(const char *name, const char *san)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
	    " -keyout %s/%s.key -out %s/%s.pem -days 2 -subj /CN=things-test"
	    " -addext subjectAltName=%s >/dev/null 2>&1", tlsdir, name, tlsdir, name, san);
	assert_int_equal(system(cmd), 0);
}

static int
tls_setup(void **state)
{
	(void)state;
	strcpy(tlsdir, "/tmp/things-tls-XXXXXX");
	if (mkdtemp(tlsdir) == NULL)
		return -1;
	make_cert("good", "IP:127.0.0.1,DNS:localhost");
	make_cert("wrong", "DNS:wrong.example");
	return 0;
}

static int
tls_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tlsdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Sends one message over TLS; returns the outcome and how many sessions
 * reached TLS. */
static enum transport_status
tls_send(enum fake_tls tls, const char *scheme, const char *cert, const char *ca, int *tls_done,
    struct transport_result *res)
{
	struct transport_config cfg = { .connections = 1, .helo = "things.example.org",
		.connect_timeout_ms = 2000, .timeout_ms = 5000 };
	char certpath[256], keypath[256], capath[256], url[128];
	struct transport *t;
	struct fake f;
	struct err e;

	snprintf(certpath, sizeof(certpath), "%s/%s.pem", tlsdir, cert);
	snprintf(keypath, sizeof(keypath), "%s/%s.key", tlsdir, cert);
	snprintf(capath, sizeof(capath), "%s/%s.pem", tlsdir, ca ? ca : "");
	fake_start_tls(&f, FAKE_NORMAL, tls, certpath, keypath);
	snprintf(url, sizeof(url), "%s://127.0.0.1:%d", scheme, f.port);
	cfg.url = url;
	cfg.ca_file = ca ? capath : NULL;
	if (transport_open(&cfg, &t, &e) == -1)
		fail_msg("%s", e.msg);
	send_one(t, "ok@example.org", res);
	transport_close(t);
	fake_stop(&f);
	*tls_done = f.tls_sessions;
	return res->status;
}

static void
test_tls_is_required_and_verified(void **state)
{
	struct transport_result res;
	int tls;

	(void)state;
	/* implicit TLS and STARTTLS, certificate trusted through ca_file */
	assert_int_equal(tls_send(TLS_IMPLICIT, "smtps", "good", "good", &tls, &res), TR_SENT);
	assert_int_equal(tls, 1);
	assert_int_equal(tls_send(TLS_STARTTLS, "smtp+starttls", "good", "good", &tls, &res),
	    TR_SENT);
	assert_int_equal(tls, 1);

	/* not trusted (system store only), or for another name: refused,
	 * temporary, nothing sent */
	assert_int_equal(tls_send(TLS_IMPLICIT, "smtps", "good", NULL, &tls, &res), TR_TEMPORARY);
	assert_int_equal(res.per_message, 0);
	assert_int_equal(tls_send(TLS_STARTTLS, "smtp+starttls", "good", NULL, &tls, &res),
	    TR_TEMPORARY);
	assert_int_equal(tls_send(TLS_STARTTLS, "smtp+starttls", "wrong", "wrong", &tls, &res),
	    TR_TEMPORARY);
	assert_int_equal(res.code, 0);

	/* plain smtp:// never upgrades on its own, and still works */
	assert_int_equal(tls_send(TLS_STARTTLS, "smtp", "good", NULL, &tls, &res), TR_SENT);
	assert_int_equal(tls, 0);
}

static void
test_urls(void **state)
{
	static const char *const bad[] = { "smtp://", "smtp:///path", "smtps://user:pw@/x",
		"smtp://host name", "smtp://h\r\n", "imap://host" };
	struct transport_config cfg = { .connections = 1 };
	struct transport_result res;
	struct transport *t;
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.url = bad[i];
		assert_int_equal(transport_open(&cfg, &t, &e), -1);
	}
	cfg.url = "smtp://127.0.0.1:25";
	cfg.connections = TRANSPORT_SLOTS_MAX + 1;
	assert_int_equal(transport_open(&cfg, &t, &e), -1);

	/* credentials never show in a reason */
	cfg.url = "smtp://user:secret@127.0.0.1:1";
	cfg.connections = 1;
	assert_int_equal(transport_open(&cfg, &t, &e), 0);
	send_one(t, "ok@example.org", &res);
	assert_int_equal(res.status, TR_TEMPORARY);
	assert_null(strstr(res.text, "secret"));
	assert_non_null(strstr(res.text, "smtp://127.0.0.1:1"));
	transport_close(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sink_accepts_over_reused_connections),
		cmocka_unit_test(test_replies_are_classified),
		cmocka_unit_test(test_setup_failures_are_temporary),
		cmocka_unit_test_setup_teardown(test_tls_is_required_and_verified, tls_setup,
		    tls_teardown),
		cmocka_unit_test(test_urls),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
