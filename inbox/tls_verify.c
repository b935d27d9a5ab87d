/*
 * tls_verify.c - checking an IMAP server's certificate with GnuTLS.
 *
 * libetpan's GnuTLS build completes the handshake with any certificate
 * (mailstream_ssl_set_server_certicate is not implemented there), so the
 * IMAP code hands us the stream before it sends the password, and we
 * decide.  The check is GnuTLS's own: trust list (system store plus the
 * configured CA file), chain, validity dates, key purpose, host name.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>

#include "source.h"

/* Keeps printable ASCII only: names in certificates are untrusted. */
static void
copy_printable(char *out, size_t n, const char *s, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < n; i++)
		out[o++] = (s[i] > 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[o] = '\0';
}

/* The names a certificate is for, for the error message: its DNS (and IP)
 * subject alternative names, or else its common name. */
static void
cert_names(gnutls_x509_crt_t crt, char *out, size_t n)
{
	char name[256], addr[INET6_ADDRSTRLEN], one[300];
	size_t used = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < 8; i++) {
		size_t len = sizeof(name);
		unsigned critical;
		int type = gnutls_x509_crt_get_subject_alt_name(crt, i, name, &len, &critical);

		if (type < 0)
			break;
		if (type == GNUTLS_SAN_DNSNAME)
			copy_printable(one, sizeof(one), name, len);
		else if (type == GNUTLS_SAN_IPADDRESS && (len == 4 || len == 16) &&
		    inet_ntop(len == 4 ? AF_INET : AF_INET6, name, addr, sizeof(addr)) != NULL)
			snprintf(one, sizeof(one), "%s", addr);
		else
			continue;
		used += (size_t)snprintf(out + used, n - used, "%s%s", used ? ", " : "", one);
		if (used >= n)
			return;
	}
	if (used == 0) {
		size_t len = sizeof(name);

		if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, name,
		    &len) == 0)
			copy_printable(out, n, name, len);
		else
			snprintf(out, n, "(no name)");
	}
}

/* Explains a non-zero verification status, most useful reason first. */
static int
explain(unsigned status, gnutls_x509_crt_t leaf, const char *host, struct err *e)
{
	char names[400];

	if (status & GNUTLS_CERT_UNEXPECTED_OWNER) {
		cert_names(leaf, names, sizeof(names));
		return err_set(e, "certificate for %s does not match host %s%s", names, host,
		    (status & GNUTLS_CERT_SIGNER_NOT_FOUND) ? ", and its CA is unknown" : "");
	}
	if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA))
		return err_set(e, "certificate of %s: unknown CA (not in the system store%s)",
		    host, "; set [imap] ca_file for a private CA");
	if (status & GNUTLS_CERT_EXPIRED)
		return err_set(e, "certificate of %s has expired", host);
	if (status & GNUTLS_CERT_NOT_ACTIVATED)
		return err_set(e, "certificate of %s is not valid yet", host);
	if (status & GNUTLS_CERT_REVOKED)
		return err_set(e, "certificate of %s is revoked", host);
	if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
		return err_set(e, "certificate of %s uses an insecure algorithm", host);
	if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
		return err_set(e, "certificate of %s is not for TLS servers", host);
	return err_set(e, "certificate of %s is not trusted (status 0x%x)", host, status);
}

static int
load_trust(gnutls_x509_trust_list_t tl, const char *ca_file, struct err *e)
{
	int r = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);

	if (r < 0)
		return err_set(e, "TLS: cannot load the system's CA store: %s",
		    gnutls_strerror(r));
	if (r == 0 && (ca_file == NULL || *ca_file == '\0'))
		return err_set(e, "TLS: the system's CA store is empty and no ca_file is set");
	if (ca_file != NULL && *ca_file != '\0') {
		r = gnutls_x509_trust_list_add_trust_file(tl, ca_file, NULL, GNUTLS_X509_FMT_PEM,
		    0, 0);
		if (r < 0)
			return err_set(e, "TLS: ca_file %s: %s", ca_file, gnutls_strerror(r));
		if (r == 0)
			return err_set(e, "TLS: ca_file %s holds no certificate", ca_file);
	}
	return 0;
}

int
tls_verify_chain(const struct tls_der *chain, size_t n, const char *host,
    const char *ca_file, struct err *e)
{
	gnutls_x509_crt_t crts[TLS_CHAIN_MAX];
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_typed_vdata_st vdata[2];
	unsigned char ip[16];
	unsigned status = 0;
	size_t ncrt = 0;
	int r, rc = -1;

	if (n == 0)
		return err_set(e, "TLS: the server of %s sent no certificate", host);
	if (n > TLS_CHAIN_MAX)
		n = TLS_CHAIN_MAX; /* the rest cannot matter for a sane chain */
	for (; ncrt < n; ncrt++) {
		gnutls_datum_t d = { (unsigned char *)chain[ncrt].data, (unsigned)chain[ncrt].len };

		if (chain[ncrt].len == 0 || chain[ncrt].len > TLS_CERT_MAX) {
			err_set(e, "TLS: certificate %zu of %s has a bad size", ncrt, host);
			goto out;
		}
		if ((r = gnutls_x509_crt_init(&crts[ncrt])) < 0) {
			err_set(e, "TLS: %s", gnutls_strerror(r));
			goto out;
		}
		if ((r = gnutls_x509_crt_import(crts[ncrt], &d, GNUTLS_X509_FMT_DER)) < 0) {
			gnutls_x509_crt_deinit(crts[ncrt]);
			err_set(e, "TLS: certificate %zu of %s: %s", ncrt, host, gnutls_strerror(r));
			goto out;
		}
	}
	if ((r = gnutls_x509_trust_list_init(&tl, 0)) < 0) {
		err_set(e, "TLS: %s", gnutls_strerror(r));
		goto out;
	}
	if (load_trust(tl, ca_file, e) == -1)
		goto out;
	/* An address is matched against the IP names, a name against DNS. */
	if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1) {
		vdata[0].type = GNUTLS_DT_IP_ADDRESS;
		vdata[0].data = ip;
		vdata[0].size = strchr(host, ':') ? 16 : 4;
	} else {
		vdata[0].type = GNUTLS_DT_DNS_HOSTNAME;
		vdata[0].data = (unsigned char *)host;
		vdata[0].size = 0;
	}
	vdata[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
	vdata[1].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
	vdata[1].size = 0;
	r = gnutls_x509_trust_list_verify_crt2(tl, crts, (unsigned)ncrt, vdata, 2, 0, &status,
	    NULL);
	if (r < 0) {
		err_set(e, "TLS: verifying the certificate of %s: %s", host, gnutls_strerror(r));
		goto out;
	}
	if (status != 0) {
		explain(status, crts[0], host, e);
		goto out;
	}
	rc = 0;
out:
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
	for (size_t i = 0; i < ncrt; i++)
		gnutls_x509_crt_deinit(crts[i]);
	return rc;
}

static int
is_address(const char *host)
{
	unsigned char ip[16];

	return inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
}

void
tls_set_sni(struct mailstream_ssl_context *ctx, void *host)
{
	/* SNI carries names only, never addresses (RFC 6066). */
	if (!is_address(host))
		mailstream_ssl_set_server_name(ctx, host);
}

int
tls_verify_stream(struct _mailstream *stream, const char *host, const char *ca_file,
    struct err *e)
{
	struct tls_der der[TLS_CHAIN_MAX];
	carray *chain;
	size_t n = 0;
	int rc;

	/* NULL for a stream without TLS; libetpan's GnuTLS code may also
	 * return NULL when a certificate cannot be exported. */
	if ((chain = mailstream_get_certificate_chain(stream)) == NULL)
		return err_set(e, "no certificate from the server");
	for (unsigned i = 0; i < carray_count(chain) && n < TLS_CHAIN_MAX; i++) {
		MMAPString *s = carray_get(chain, i);

		der[n].data = (const unsigned char *)s->str;
		der[n].len = s->len;
		n++;
	}
	rc = tls_verify_chain(der, n, host, ca_file, e);
	mailstream_certificate_chain_free(chain);
	return rc;
}
