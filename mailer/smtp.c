/*
 * smtp.c - the SMTP transport: libcurl's multi interface, one easy handle
 * per slot, at most one connection per slot, each connection reused from
 * message to message (libcurl keeps them in the multi handle's pool).
 * The only file that calls libcurl.
 *
 * One recipient per transaction: with CURLOPT_MAIL_RCPT_ALLLOWFAILS a
 * refused recipient would be invisible, and VERP needs a MAIL FROM per
 * recipient anyway.
 *
 * libcurl reports a refused command as a bare error code; which command the
 * server refused, and with what words, comes from its debug callback, which
 * sees every command we send and every reply line.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport.h"

#define SMTP_URL_MAX 2048
#define CMD_MAX 16

struct smtp_slot {
	CURL *easy;
	struct curl_slist *rcpt;
	const char *data;
	size_t len, off;
	char cmd[CMD_MAX];        /* the last command sent ("" = greeting) */
	char reply[STORE_REASON_MAX + 1]; /* the last reply line */
	/* the first 4xx/5xx reply of the transaction: later ones (to QUIT,
	 * RSET) say nothing about why it failed */
	int fail_code;
	char fail_cmd[CMD_MAX];
	char fail[STORE_REASON_MAX + 1];
	char errbuf[CURL_ERROR_SIZE];
};

struct smtp {
	struct transport base;
	CURLM *multi;
	struct smtp_slot slot[TRANSPORT_SLOTS_MAX];
	char url[SMTP_URL_MAX + 1];
	char shown[SMTP_URL_MAX + 1]; /* url without credentials, for messages */
	int global_init;
};

/* --- what the server said ------------------------------------------------ */

static void
copy_line(char *out, size_t n, const char *p, size_t len)
{
	size_t w = 0;

	while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n'))
		len--;
	for (size_t i = 0; i < len && w + 1 < n; i++)
		out[w++] = ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) ? ' ' : p[i];
	out[w] = '\0';
}

static int
on_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *arg)
{
	struct smtp_slot *s = arg;

	(void)easy;
	if (type == CURLINFO_HEADER_OUT) {
		size_t i = 0;

		/* the verb only: AUTH lines carry credentials */
		while (i < size && i + 1 < CMD_MAX && data[i] >= 'A' && data[i] <= 'Z') {
			s->cmd[i] = data[i];
			i++;
		}
		s->cmd[i] = '\0';
	} else if (type == CURLINFO_HEADER_IN && size >= 3 && data[0] >= '1' && data[0] <= '5' &&
	    data[1] >= '0' && data[1] <= '9' && data[2] >= '0' && data[2] <= '9') {
		int code = (data[0] - '0') * 100 + (data[1] - '0') * 10 + (data[2] - '0');

		copy_line(s->reply, sizeof(s->reply), data, size);
		if (code >= 400 && s->fail_code == 0) {
			s->fail_code = code;
			snprintf(s->fail_cmd, sizeof(s->fail_cmd), "%s", s->cmd[0] ? s->cmd : "CONNECT");
			snprintf(s->fail, sizeof(s->fail), "%s", s->reply);
		}
		/* the reply after 354 answers the message itself */
		if (code == 354)
			snprintf(s->cmd, sizeof(s->cmd), "DATA-END");
	}
	return 0;
}

static size_t
on_read(char *buffer, size_t size, size_t nitems, void *arg)
{
	struct smtp_slot *s = arg;
	size_t n = size * nitems;

	if (n > s->len - s->off)
		n = s->len - s->off;
	memcpy(buffer, s->data + s->off, n);
	s->off += n;
	return n;
}

/* --- classification ---------------------------------------------------- */

static int
is_recipient_stage(const char *cmd)
{
	return strcmp(cmd, "RCPT") == 0 || strcmp(cmd, "DATA") == 0 ||
	    strcmp(cmd, "DATA-END") == 0;
}

/* A 5xx to RCPT or to the message fails this message for good.  A 5xx to
 * anything else (greeting, EHLO, STARTTLS, AUTH, MAIL FROM) says our
 * setup is wrong and would fail every message: that is temporary, so that
 * fixing the configuration sends the backlog instead of losing it. */
static void
classify(struct smtp *sm, struct smtp_slot *s, CURLcode rc, struct transport_result *res)
{
	long code = 0;

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OK) {
		res->status = TR_SENT;
		res->code = (int)code;
		snprintf(res->text, sizeof(res->text), "%s", s->reply);
		return;
	}
	if (s->fail_code >= 400 && s->fail_code < 600) {
		res->code = s->fail_code;
		res->per_message = is_recipient_stage(s->fail_cmd);
		res->status = (res->code >= 500 && res->per_message) ? TR_PERMANENT : TR_TEMPORARY;
		snprintf(res->text, sizeof(res->text), "%s: %s", s->fail_cmd, s->fail);
		return;
	}
	/* no SMTP reply to blame: connection, TLS, timeout */
	res->status = TR_TEMPORARY;
	res->code = 0;
	res->per_message = 0;
	snprintf(res->text, sizeof(res->text), "%s: %s%s%s", sm->shown, curl_easy_strerror(rc),
	    s->errbuf[0] ? ": " : "", s->errbuf);
}

/* --- the transport ------------------------------------------------------- */

static int
smtp_submit(struct transport *t, size_t slot, const struct transport_msg *msg, struct err *e)
{
	struct smtp *sm = (struct smtp *)t;
	struct smtp_slot *s = &sm->slot[slot];
	char from[ADDR_MAX + 3], rcpt[ADDR_MAX + 3];
	CURLMcode mc;

	if (s->rcpt != NULL)
		return err_set(e, "smtp: slot %zu busy", slot);
	snprintf(from, sizeof(from), "<%s>", msg->sender);
	snprintf(rcpt, sizeof(rcpt), "<%s>", msg->recipient);
	s->rcpt = curl_slist_append(NULL, rcpt);
	if (s->rcpt == NULL)
		return err_set(e, "out of memory");
	s->data = msg->data;
	s->len = msg->len;
	s->off = 0;
	s->cmd[0] = s->reply[0] = s->fail_cmd[0] = s->fail[0] = s->errbuf[0] = '\0';
	s->fail_code = 0;
	if (curl_easy_setopt(s->easy, CURLOPT_MAIL_FROM, from) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_MAIL_RCPT, s->rcpt) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg->len) != CURLE_OK)
		goto fail;
	mc = curl_multi_add_handle(sm->multi, s->easy);
	if (mc != CURLM_OK) {
		err_set(e, "smtp: %s", curl_multi_strerror(mc));
		goto fail_quiet;
	}
	return 0;
fail:
	err_set(e, "smtp: cannot set up the transfer");
fail_quiet:
	curl_slist_free_all(s->rcpt);
	s->rcpt = NULL;
	return -1;
}

static int
smtp_wait(struct transport *t, size_t *slot, struct transport_result *res, struct err *e)
{
	struct smtp *sm = (struct smtp *)t;

	for (;;) {
		int running = 0, left = 0;
		CURLMsg *m;
		CURLMcode mc = curl_multi_perform(sm->multi, &running);

		if (mc != CURLM_OK)
			return err_set(e, "smtp: %s", curl_multi_strerror(mc));
		while ((m = curl_multi_info_read(sm->multi, &left)) != NULL) {
			struct smtp_slot *s;
			long connects = 0;
			char *priv = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
			*slot = (size_t)(priv - (char *)sm->slot) / sizeof(sm->slot[0]);
			s = &sm->slot[*slot];
			classify(sm, s, m->data.result, res);
			if (curl_easy_getinfo(s->easy, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
				t->connections += connects;
			curl_multi_remove_handle(sm->multi, s->easy);
			curl_slist_free_all(s->rcpt);
			s->rcpt = NULL;
			return 0;
		}
		if (running == 0)
			return err_set(e, "smtp: no transfer in progress");
		mc = curl_multi_poll(sm->multi, NULL, 0, 1000, NULL);
		if (mc != CURLM_OK)
			return err_set(e, "smtp: %s", curl_multi_strerror(mc));
	}
}

static void
smtp_close(struct transport *t)
{
	struct smtp *sm = (struct smtp *)t;

	for (size_t i = 0; i < TRANSPORT_SLOTS_MAX; i++) {
		struct smtp_slot *s = &sm->slot[i];

		if (s->easy == NULL)
			continue;
		if (s->rcpt != NULL)
			curl_multi_remove_handle(sm->multi, s->easy);
		curl_slist_free_all(s->rcpt);
		curl_easy_cleanup(s->easy);
	}
	if (sm->multi)
		curl_multi_cleanup(sm->multi);
	if (sm->global_init)
		curl_global_cleanup();
	free(sm);
}

static const struct transport_ops smtp_ops = {
	.submit = smtp_submit,
	.wait = smtp_wait,
	.close = smtp_close,
};

/* Turns our URL into libcurl's: "smtp+starttls://" becomes "smtp://"
 * with TLS required, an EHLO name is added as the path when there is
 * none.  *use_ssl gets the CURLUSESSL_* level. */
static int
url_for_curl(struct smtp *sm, const struct transport_config *cfg, long *use_ssl, struct err *e)
{
	const char *url = cfg->url, *rest, *host, *scheme;
	size_t authority;
	int n;

	if (strlen(url) > SMTP_URL_MAX - 300 || str_has_ctl(url, 0) || strchr(url, ' '))
		return err_set(e, "smtp url: malformed or too long");
	if (strncmp(url, "smtp+starttls://", 16) == 0)
		scheme = "smtp://", rest = url + 16, *use_ssl = CURLUSESSL_ALL;
	else if (strncmp(url, "smtps://", 8) == 0)
		scheme = "smtps://", rest = url + 8, *use_ssl = CURLUSESSL_ALL;
	else
		scheme = "smtp://", rest = url + 7, *use_ssl = CURLUSESSL_NONE;
	authority = strcspn(rest, "/");
	host = memrchr(rest, '@', authority);
	host = host ? host + 1 : rest;
	if ((size_t)(host - rest) >= authority)
		return err_set(e, "smtp url: no host");
	snprintf(sm->shown, sizeof(sm->shown), "%s%.*s", scheme,
	    (int)(authority - (size_t)(host - rest)), host);
	if (rest[authority] == '\0' || rest[authority + 1] == '\0')
		n = snprintf(sm->url, sizeof(sm->url), "%s%.*s/%s", scheme, (int)authority, rest,
		    cfg->helo && cfg->helo[0] ? cfg->helo : "localhost");
	else
		n = snprintf(sm->url, sizeof(sm->url), "%s%s", scheme, rest);
	if (n < 0 || (size_t)n >= sizeof(sm->url))
		return err_set(e, "smtp url: too long");
	if (host != rest && *use_ssl == CURLUSESSL_NONE)
		log_warn("smtp: %s: password sent without TLS (use smtp+starttls:// or smtps://)",
		    sm->shown);
	return 0;
}

static int
slot_setup(struct smtp *sm, struct smtp_slot *s, const struct transport_config *cfg,
    long use_ssl)
{
	long connect_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 30000;
	long total_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 300000;
	CURL *h = curl_easy_init();

	if (h == NULL)
		return -1;
	s->easy = h;
	if (curl_easy_setopt(h, CURLOPT_URL, sm->url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_USE_SSL, use_ssl) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    (cfg->ca_file && curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file) != CURLE_OK) ||
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROXY, "") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_READDATA, s) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_VERBOSE, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_DEBUGDATA, s) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->errbuf) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PRIVATE, (char *)s) != CURLE_OK)
		return -1;
	return 0;
}

int
smtp_open(const struct transport_config *cfg, struct transport **out, struct err *e)
{
	size_t slots = cfg->connections ? cfg->connections : 4;
	struct smtp *sm;
	long use_ssl;

	if (slots > TRANSPORT_SLOTS_MAX)
		return err_set(e, "smtp: at most %d connections", TRANSPORT_SLOTS_MAX);
	sm = calloc(1, sizeof(*sm));
	if (sm == NULL)
		return err_set(e, "out of memory");
	sm->base.ops = &smtp_ops;
	sm->base.slots = slots;
	sm->base.name = "smtp";
	if (url_for_curl(sm, cfg, &use_ssl, e) == -1) {
		free(sm);
		return -1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(sm);
		return err_set(e, "smtp: libcurl initialisation failed");
	}
	sm->global_init = 1;
	sm->multi = curl_multi_init();
	if (sm->multi == NULL ||
	    curl_multi_setopt(sm->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)slots) != CURLM_OK ||
	    curl_multi_setopt(sm->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)slots) != CURLM_OK ||
	    curl_multi_setopt(sm->multi, CURLMOPT_MAXCONNECTS, (long)slots) != CURLM_OK)
		goto fail;
	for (size_t i = 0; i < slots; i++)
		if (slot_setup(sm, &sm->slot[i], cfg, use_ssl) == -1)
			goto fail;
	*out = &sm->base;
	return 0;
fail:
	smtp_close(&sm->base);
	return err_set(e, "smtp: cannot set up libcurl handles");
}
