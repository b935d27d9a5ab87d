/* Unit tests for the IMAP server certificate check (inbox/tls_verify.c),
 * on certificates made by tests/unit/imap_testbed.sh (openssl). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../../inbox/source.h"
#include "inbox_test_helpers.h"

struct tls_fixture {
	char *dir;
	char ca[PATH_MAX];
	gnutls_datum_t good, wrong, unknown, ca_der;
};

static int
pem_to_der(const char *dir, const char *name, gnutls_datum_t *out)
{
	char path[PATH_MAX];
	gnutls_x509_crt_t crt;
	gnutls_datum_t pem;
	size_t len;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/etc/tls/%s.pem", dir, name);
	if ((pem.data = (unsigned char *)th_read_file(path, &len)) == NULL)
		return -1;
	pem.size = (unsigned)len;
	if (gnutls_x509_crt_init(&crt) == 0) {
		if (gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM) == 0 &&
		    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, out) == 0)
			rc = 0;
		gnutls_x509_crt_deinit(crt);
	}
	free(pem.data);
	return rc;
}

static int
tls_setup(void **state)
{
	struct tls_fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || (f->dir = th_tmpdir("tls")) == NULL)
		return -1;
	if (th_sh("%s certs '%s'", th_testbed_script(), f->dir) != 0)
		return -1;
	snprintf(f->ca, sizeof(f->ca), "%s/etc/tls/ca.pem", f->dir);
	if (pem_to_der(f->dir, "good", &f->good) == -1 ||
	    pem_to_der(f->dir, "wrong", &f->wrong) == -1 ||
	    pem_to_der(f->dir, "unknown", &f->unknown) == -1 ||
	    pem_to_der(f->dir, "ca", &f->ca_der) == -1)
		return -1;
	*state = f;
	return 0;
}

static int
tls_teardown(void **state)
{
	struct tls_fixture *f = *state;

	gnutls_free(f->good.data);
	gnutls_free(f->wrong.data);
	gnutls_free(f->unknown.data);
	gnutls_free(f->ca_der.data);
	th_rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static int
verify(const gnutls_datum_t *leaf, const gnutls_datum_t *extra, const char *host,
    const char *ca_file, struct err *e)
{
	struct tls_der chain[2] = { { leaf->data, leaf->size } };
	size_t n = 1;

	if (extra != NULL) {
		chain[1].data = extra->data;
		chain[1].len = extra->size;
		n = 2;
	}
	memset(e->msg, 0, sizeof(e->msg));
	return tls_verify_chain(chain, n, host, ca_file, e);
}

static void
test_accepts_good_certificate(void **state)
{
	struct tls_fixture *f = *state;
	struct err e;

	assert_int_equal(verify(&f->good, NULL, "localhost", f->ca, &e), 0);
	assert_int_equal(verify(&f->good, NULL, "LOCALHOST", f->ca, &e), 0);
	assert_int_equal(verify(&f->good, NULL, "127.0.0.1", f->ca, &e), 0);
	/* the CA sent along by the server changes nothing */
	assert_int_equal(verify(&f->good, &f->ca_der, "localhost", f->ca, &e), 0);
}

static void
test_refuses_wrong_host(void **state)
{
	struct tls_fixture *f = *state;
	struct err e;

	assert_int_equal(verify(&f->wrong, NULL, "localhost", f->ca, &e), -1);
	assert_string_equal(e.msg, "certificate for wrong.example does not match host localhost");
	assert_int_equal(verify(&f->good, NULL, "127.0.0.2", f->ca, &e), -1);
	assert_string_equal(e.msg,
	    "certificate for localhost, 127.0.0.1 does not match host 127.0.0.2");
	assert_int_equal(verify(&f->good, NULL, "otherhost", f->ca, &e), -1);
	assert_non_null(strstr(e.msg, "does not match host otherhost"));
}

static void
test_refuses_unknown_ca(void **state)
{
	struct tls_fixture *f = *state;
	struct err e;

	/* signed by our test CA, but the CA is not trusted (system store only) */
	assert_int_equal(verify(&f->good, NULL, "localhost", NULL, &e), -1);
	assert_non_null(strstr(e.msg, "unknown CA"));
	/* self-signed, even with the test CA trusted */
	assert_int_equal(verify(&f->unknown, NULL, "localhost", f->ca, &e), -1);
	assert_non_null(strstr(e.msg, "unknown CA"));
	/* a server sending its own CA along does not make it trusted */
	assert_int_equal(verify(&f->good, &f->ca_der, "localhost", NULL, &e), -1);
	assert_non_null(strstr(e.msg, "unknown CA"));
}

static void
test_refuses_bad_input(void **state)
{
	struct tls_fixture *f = *state;
	gnutls_datum_t junk = { (unsigned char *)"not a certificate", 17 };
	char missing[PATH_MAX + 16];
	struct err e;

	assert_int_equal(tls_verify_chain(NULL, 0, "localhost", f->ca, &e), -1);
	assert_non_null(strstr(e.msg, "no certificate"));
	assert_int_equal(verify(&junk, NULL, "localhost", f->ca, &e), -1);
	assert_non_null(strstr(e.msg, "certificate 0"));
	snprintf(missing, sizeof(missing), "%s/nope.pem", f->dir);
	assert_int_equal(verify(&f->good, NULL, "localhost", missing, &e), -1);
	assert_non_null(strstr(e.msg, "ca_file"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_good_certificate),
		cmocka_unit_test(test_refuses_wrong_host),
		cmocka_unit_test(test_refuses_unknown_ca),
		cmocka_unit_test(test_refuses_bad_input),
	};
	return cmocka_run_group_tests_name("inbox_tls", tests, tls_setup, tls_teardown);
}
