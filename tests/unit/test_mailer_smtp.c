/* Unit tests for mailer/smtp.c, against real servers on loopback:
 * Postfix's smtp-sink (started by the test on a free port) for acceptance
 * over several reused connections, and a tiny scripted server in a thread
 * for the replies smtp-sink cannot give per recipient (451/550 at RCPT,
 * 452/554 after DATA, 553 at MAIL FROM, silence). */
#include <dirent.h>
#include <netinet/in.h>
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
#include "test_mailer_fake.h"
#include "test_mailer_sink.h"

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

static void
test_replies_are_classified(void **state)
{
	static const struct {
		const char *rcpt;
		enum transport_status status;
		int code;
		int per_message;
		const char *enhanced;
		const char *text;
	} table[] = {
		{ "ok@example.org", TR_SENT, 250, 0, "", "250 2.0.0 Ok: queued as FAKE1" },
		{ "temp@example.org", TR_TEMPORARY, 451, 1, "4.3.0",
		  "RCPT: 451 4.3.0 <temp@example.org>: Temporary lookup failure" },
		{ "perm@example.org", TR_PERMANENT, 550, 1, "5.1.1",
		  "RCPT: 550 5.1.1 <perm@example.org>: Recipient address rejected" },
		{ "policy@example.org", TR_PERMANENT, 550, 1, "5.7.1",
		  "RCPT: 550 5.7.1 <policy@example.org>: Recipient address rejected: Access denied" },
		{ "nostatus@example.org", TR_PERMANENT, 550, 1, "",
		  "RCPT: 550 Mailbox unavailable" },
		{ "dataperm@example.org", TR_PERMANENT, 554, 1, "5.7.1",
		  "DATA-END: 554 5.7.1 Message refused: content" },
		{ "datatemp@example.org", TR_TEMPORARY, 452, 1, "4.3.1",
		  "DATA-END: 452 4.3.1 Insufficient system storage" },
		{ "ok@example.org", TR_SENT, 250, 0, "", "250 2.0.0 Ok: queued as FAKE1" },
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
		assert_string_equal(res.enhanced, table[i].enhanced);
		assert_string_equal(res.text, table[i].text);
	}
	transport_close(t);
	fake_stop(&f);
	assert_string_equal(f.helo, "things.example.org");
	/* every refusal above kept the connection (libcurl may QUIT after a
	 * refused RCPT: then one more) */
	assert_true(f.sessions >= 1 && f.sessions <= 5);
}

/* max_per_connection: a connection carries that many messages, then says
 * QUIT and the next message opens a fresh one. */
static void
test_messages_per_connection(void **state)
{
	static const struct {
		long max;
		int messages, connections;
	} table[] = {
		{ 3, 7, 3 },
		{ 1, 3, 3 },
		{ 0, 5, 1 },   /* no limit */
		{ 10, 4, 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct transport_config cfg = { .connections = 1, .helo = "things.example.org",
			.connect_timeout_ms = 2000, .timeout_ms = 5000,
			.max_per_connection = table[i].max };
		struct transport *t = NULL;
		struct fake f;
		char url[128];
		struct err e;

		fake_start(&f, FAKE_NORMAL);
		snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", f.port);
		cfg.url = url;
		assert_int_equal(transport_open(&cfg, &t, &e), 0);
		for (int k = 0; k < table[i].messages; k++) {
			struct transport_result res;

			send_one(t, "ok@example.org", &res);
			assert_int_equal(res.status, TR_SENT);
		}
		assert_int_equal(t->connections, table[i].connections);
		transport_close(t);
		fake_stop(&f);
		assert_int_equal(f.sessions, table[i].connections);
		assert_int_equal(f.quits, table[i].connections);
	}
}

/* One message to scheme://127.0.0.1:port through a fresh transport. */
static void
send_once(const char *scheme, int port, long timeout_ms, struct transport_result *res)
{
	struct transport *t;
	char url[128];

	snprintf(url, sizeof(url), "%s://127.0.0.1:%d", scheme, port);
	t = open_smtp(url, 1, timeout_ms);
	send_one(t, "ok@example.org", res);
	transport_close(t);
}

/* Failures that would hit every message are temporary, never permanent,
 * and not about the message: a refused sender, TLS required but not
 * offered (no plaintext), no server, a silent server. */
static void
test_setup_failures_are_temporary(void **state)
{
	static const struct {
		enum fake_mode mode;     /* -1: nobody listening */
		const char *scheme;
		long timeout_ms;
		int code;
		const char *text;
	} table[] = {
		{ FAKE_REFUSE_SENDER, "smtp", 5000, 553, "MAIL: 553 5.7.1" },
		{ FAKE_NORMAL, "smtp+starttls", 5000, 0, "smtp+starttls://127.0.0.1:" },
		{ (enum fake_mode)-1, "smtp", 5000, 0, "Couldn't connect" },
		{ FAKE_SILENT, "smtp", 300, 0, "imeout" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct transport_result res;
		struct fake f;

		if ((int)table[i].mode == -1) {
			send_once(table[i].scheme, free_port(), table[i].timeout_ms, &res);
		} else {
			fake_start(&f, table[i].mode);
			send_once(table[i].scheme, f.port, table[i].timeout_ms, &res);
			fake_stop(&f);
		}
		assert_int_equal(res.status, TR_TEMPORARY);
		assert_int_equal(res.per_message, 0);
		assert_int_equal(res.code, table[i].code);
		if (strstr(res.text, table[i].text) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, res.text, table[i].text);
	}
}

/* A server that closes an idle connection (421, then the close) while
 * nobody waits on the transport: the next message notices before it
 * starts, and goes over a fresh connection instead of failing. */
static void
test_idle_connection_closed_by_the_server(void **state)
{
	struct transport_result res;
	struct transport *t;
	struct fake f;
	char url[128];

	(void)state;
	fake_start(&f, FAKE_IDLE_CLOSE);
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", f.port);
	t = open_smtp(url, 1, 5000);
	for (int i = 0; i < 3; i++) {
		send_one(t, "ok@example.org", &res);
		if (res.status != TR_SENT)
			fail_msg("message %d: %s", i, res.text);
		usleep(1200000); /* past the 421, and idle long enough to be checked */
	}
	assert_int_equal(t->connections, 3);
	transport_close(t);
	fake_stop(&f);
	assert_int_equal(f.sessions, 3);
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
		cmocka_unit_test(test_messages_per_connection),
		cmocka_unit_test(test_setup_failures_are_temporary),
		cmocka_unit_test(test_idle_connection_closed_by_the_server),
		cmocka_unit_test(test_urls),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
