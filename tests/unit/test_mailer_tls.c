/* Unit tests for mailer/smtp.c over TLS, against the scripted server with
 * GnuTLS and certificates made by openssl: implicit TLS and STARTTLS are
 * verified (ca_file, host name), never fall back to plaintext, and a
 * refused certificate is a temporary failure. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_mailer_fake.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tls_is_required_and_verified, tls_setup,
		    tls_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
