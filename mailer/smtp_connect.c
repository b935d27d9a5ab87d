/*
 * smtp_connect.c - the SMTP transport's connections, made by libcurl: one
 * easy handle per slot, each with a multi handle of its own so that it has
 * exactly one connection, with CURLOPT_CONNECT_ONLY: libcurl resolves,
 * connects, reads the greeting, says EHLO, STARTTLS (TLS verified,
 * required when asked for, never a silent fallback) and AUTH, and stops.
 * smtp.c then runs the mail transactions over that connection.  TLS
 * sessions and DNS answers are shared between the slots.  With smtp.c,
 * the only file that calls libcurl.
 *
 * libcurl reports a refused command as a bare error code; which command
 * the server refused, and with what words, and what its EHLO reply
 * offered, come from its debug callback, which sees every command libcurl
 * sends and every reply line.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "smtp_internal.h"

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

		/* the verb only: AUTH lines carry credentials.  A line that is
		 * not a verb (letters up to a space or the line end) is an AUTH
		 * exchange's base64 answer: the command stays AUTH, and no piece
		 * of the credentials becomes a "command" in an error message. */
		while (i < size && i + 1 < SMTP_CMD_MAX && data[i] >= 'A' && data[i] <= 'Z')
			i++;
		if (i > 0 && (i == size || data[i] == ' ' || data[i] == '\r' || data[i] == '\n')) {
			memcpy(s->cmd, data, i);
			s->cmd[i] = '\0';
			/* RFC 3207: what the server said before STARTTLS is forgotten */
			if (strcmp(s->cmd, "EHLO") == 0 || strcmp(s->cmd, "HELO") == 0) {
				memset(&s->caps, 0, sizeof(s->caps));
				s->ehlo_lines = 0;
			}
		}
	} else if (type == CURLINFO_HEADER_IN && size >= 3 && data[0] >= '1' && data[0] <= '5' &&
	    data[1] >= '0' && data[1] <= '9' && data[2] >= '0' && data[2] <= '9') {
		int code = (data[0] - '0') * 100 + (data[1] - '0') * 10 + (data[2] - '0');

		/* the first line of an EHLO reply is the server's name */
		if (code == 250 && strcmp(s->cmd, "EHLO") == 0 && s->ehlo_lines++ > 0)
			smtp_caps_line(&s->caps, data, size);
		if (code >= 400 && s->fail_code == 0) {
			s->fail_code = code;
			snprintf(s->fail_cmd, sizeof(s->fail_cmd), "%s", s->cmd[0] ? s->cmd : "CONNECT");
			copy_line(s->fail, sizeof(s->fail), data, size);
		}
	}
	return 0;
}

static int
on_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *socketp)
{
	struct smtp_slot *s = arg;
	size_t i;

	(void)easy;
	(void)socketp;
	for (i = 0; i < s->nfds && s->fds[i].fd != fd; i++)
		;
	if (what == CURL_POLL_REMOVE) {
		if (i < s->nfds)
			s->fds[i] = s->fds[--s->nfds];
		return 0;
	}
	if (i == s->nfds) {
		if (s->nfds == SMTP_SLOT_FDS)
			return -1; /* libcurl fails the transfer: reported, not lost */
		s->nfds++;
	}
	s->fds[i].fd = fd;
	s->fds[i].events = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) |
	    ((what & CURL_POLL_OUT) ? POLLOUT : 0));
	return 0;
}

static int
on_timer(CURLM *multi, long timeout_ms, void *arg)
{
	struct smtp_slot *s = arg;

	(void)multi;
	s->timer_at = timeout_ms < 0 ? -1 : transport_now_ms() + timeout_ms;
	return 0;
}

int
smtp_connect_start(struct smtp *sm, struct smtp_slot *s, struct err *e)
{
	CURLMcode mc;

	(void)sm;
	s->cmd[0] = s->fail_cmd[0] = s->fail[0] = s->errbuf[0] = '\0';
	s->fail_code = 0;
	s->ehlo_lines = 0;
	memset(&s->caps, 0, sizeof(s->caps));
	/* the debug callback only while libcurl talks: after that it would
	 * cost a formatted line per send and receive */
	if (curl_easy_setopt(s->easy, CURLOPT_VERBOSE, 1L) != CURLE_OK)
		return err_set(e, "smtp: cannot set up the connection");
	mc = curl_multi_add_handle(s->multi, s->easy);
	if (mc != CURLM_OK)
		return err_set(e, "smtp: %s", curl_multi_strerror(mc));
	s->conn = CONN_CONNECTING;
	return 0;
}

/* A connection that libcurl could not make: 5xx or 4xx to the greeting,
 * EHLO, STARTTLS or AUTH, TLS, a timeout.  All temporary and not about the
 * message: they would fail every message, and fixing the configuration
 * should send the backlog instead of losing it. */
static void
connect_failed(struct smtp *sm, struct smtp_slot *s, CURLcode rc)
{
	struct transport_result *res = &s->res;

	memset(res, 0, sizeof(*res));
	res->status = TR_TEMPORARY;
	if (s->fail_code >= 400 && s->fail_code < 600) {
		res->code = s->fail_code;
		smtp_enhanced_status(s->fail, s->fail_code, res->enhanced, sizeof(res->enhanced));
		snprintf(res->text, sizeof(res->text), "%s: %s", s->fail_cmd, s->fail);
		return;
	}
	snprintf(res->text, sizeof(res->text), "%s: %s%s%s", sm->shown, curl_easy_strerror(rc),
	    s->errbuf[0] ? ": " : "", s->errbuf);
}

int
smtp_connect_step(struct smtp *sm, struct smtp_slot *s, curl_socket_t fd, int ev, int *failed,
    struct err *e)
{
	CURLMcode mc;
	CURLMsg *m;
	int running, left;

	*failed = 0;
	mc = curl_multi_socket_action(s->multi, fd, ev, &running);
	if (mc != CURLM_OK)
		return err_set(e, "smtp: %s", curl_multi_strerror(mc));
	while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
		CURLcode rc = m->data.result;
		curl_socket_t sock = CURL_SOCKET_BAD;
		long connects = 0;

		if (m->msg != CURLMSG_DONE || s->conn != CONN_CONNECTING)
			continue;
		if (curl_easy_getinfo(s->easy, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
			sm->base.connections += connects;
		if (rc == CURLE_OK &&
		    (curl_easy_getinfo(s->easy, CURLINFO_ACTIVESOCKET, &sock) != CURLE_OK ||
		    sock == CURL_SOCKET_BAD))
			rc = CURLE_COULDNT_CONNECT;
		s->timer_at = -1;
		s->nfds = 0;
		if (rc != CURLE_OK) {
			connect_failed(sm, s, rc);
			smtp_disconnect(s);
			*failed = 1;
			continue;
		}
		curl_easy_setopt(s->easy, CURLOPT_VERBOSE, 0L);
		log_debug("smtp: connected to %s:%s%s", sm->shown,
		    (s->caps.flags & SMTP_CAP_PIPELINING) ? " PIPELINING" : " no PIPELINING",
		    (s->caps.flags & SMTP_CAP_SMTPUTF8) ? " SMTPUTF8" : "");
		s->fd = sock;
		s->conn = CONN_READY;
		s->idle_since = transport_now_ms();
		s->on_connection = 0;
		smtp_reader_reset(&s->reader);
	}
	return 0;
}

void
smtp_disconnect(struct smtp_slot *s)
{
	/* a CONNECT_ONLY handle taken out of its multi handle has its
	 * connection closed at once, as dead: libcurl sends no QUIT of its
	 * own (checked with libcurl 7.88) */
	if (s->conn != CONN_CLOSED)
		curl_multi_remove_handle(s->multi, s->easy);
	s->conn = CONN_CLOSED;
	s->fd = CURL_SOCKET_BAD;
	s->nfds = 0;
	s->timer_at = -1;
}

void
smtp_free(struct smtp *sm)
{
	for (size_t i = 0; i < sm->base.slots; i++) {
		struct smtp_slot *s = &sm->slot[i];

		smtp_disconnect(s);
		if (s->easy)
			curl_easy_cleanup(s->easy);
		if (s->multi)
			curl_multi_cleanup(s->multi);
		buf_free(&s->out);
	}
	if (sm->share)
		curl_share_cleanup(sm->share);
	if (sm->global_init)
		curl_global_cleanup();
	free(sm);
}

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
	snprintf(sm->shown, sizeof(sm->shown), "%.*s%.*s", (int)(rest - url), url,
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
	CURL *h;

	s->timer_at = -1;
	s->fd = CURL_SOCKET_BAD;
	/* the message, dot-stuffed (at worst twice its size), and commands */
	buf_init(&s->out, 2 * COMPOSE_MESSAGE_MAX + 4096);
	s->multi = curl_multi_init();
	if (s->multi == NULL ||
	    curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, 1L) != CURLM_OK ||
	    curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 1L) != CURLM_OK ||
	    curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
	    curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s) != CURLM_OK ||
	    curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, on_timer) != CURLM_OK ||
	    curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s) != CURLM_OK)
		return -1;
	s->easy = h = curl_easy_init();
	if (h == NULL)
		return -1;
	if (curl_easy_setopt(h, CURLOPT_URL, sm->url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SHARE, sm->share) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_USE_SSL, use_ssl) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    (cfg->ca_file && curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file) != CURLE_OK) ||
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) != CURLE_OK ||
	    /* with CONNECT_ONLY: the whole handshake, AUTH included */
	    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, sm->timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROXY, "") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_DEBUGDATA, s) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->errbuf) != CURLE_OK)
		return -1;
	return 0;
}

int
smtp_setup(struct smtp *sm, const struct transport_config *cfg, struct err *e)
{
	long use_ssl = CURLUSESSL_NONE;

	sm->max_per_connection = cfg->max_per_connection > 0 ? cfg->max_per_connection : 0;
	sm->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 300000;
	if (url_for_curl(sm, cfg, &use_ssl, e) == -1) {
		free(sm);
		return -1;
	}
	sm->tls = use_ssl != CURLUSESSL_NONE;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(sm);
		return err_set(e, "smtp: libcurl initialisation failed");
	}
	sm->global_init = 1;
	/* one thread: the share needs no lock callbacks */
	sm->share = curl_share_init();
	if (sm->share == NULL ||
	    curl_share_setopt(sm->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
	    curl_share_setopt(sm->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK)
		goto fail;
	for (size_t i = 0; i < sm->base.slots; i++)
		if (slot_setup(sm, &sm->slot[i], cfg, use_ssl) == -1)
			goto fail;
	return 0;
fail:
	smtp_free(sm);
	return err_set(e, "smtp: cannot set up libcurl handles");
}
