/*
 * smtp.c - the SMTP transport: libcurl, one easy handle per slot, each slot
 * with a multi handle of its own so that it has exactly one connection,
 * reused from message to message (which lets max_per_connection count
 * messages per connection, and close it with QUIT when the count is
 * reached).  The slots' sockets are watched together with poll(2), through
 * libcurl's socket and timer callbacks (curl_multi_socket_action).  TLS
 * sessions and DNS answers are shared between the slots.  The only file
 * that calls libcurl.
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
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "transport.h"

#define SMTP_URL_MAX 2048
#define CMD_MAX 16
#define SLOT_FDS 4       /* sockets libcurl may watch per slot (connect races) */

struct smtp_slot {
	CURLM *multi;
	CURL *easy;
	int busy;                 /* a transfer is under way */
	int done;                 /* its outcome is in res, not yet reported */
	struct transport_result res;
	struct curl_slist rcpt_list; /* one node, no allocation */
	char from[ADDR_MAX + 3], rcpt[ADDR_MAX + 3];
	const char *data;
	size_t len, off;
	long on_connection;       /* messages over the current connection */
	struct {
		curl_socket_t fd;
		short events;
	} fds[SLOT_FDS];
	size_t nfds;
	int64_t timer_at;         /* libcurl's timeout, monotonic ms; -1: none */
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
	CURLSH *share;
	long max_per_connection;
	size_t next_report;       /* where the search for a result starts: fairness */
	char url[SMTP_URL_MAX + 1];
	char shown[SMTP_URL_MAX + 1]; /* url without credentials, for messages */
	int global_init;
	struct smtp_slot slot[];
};

int64_t
transport_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

		/* the verb only: AUTH lines carry credentials.  A line that is
		 * not a verb (letters up to a space or the line end) is an AUTH
		 * exchange's base64 answer: the command stays AUTH, and no piece
		 * of the credentials becomes a "command" in an error message. */
		while (i < size && i + 1 < CMD_MAX && data[i] >= 'A' && data[i] <= 'Z')
			i++;
		if (i > 0 && (i == size || data[i] == ' ' || data[i] == '\r' || data[i] == '\n')) {
			memcpy(s->cmd, data, i);
			s->cmd[i] = '\0';
		}
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

/* The RFC 3463 enhanced status code that follows the reply code in line
 * ("550 5.1.1 <x>: ..." -> "5.1.1"), when its class matches the reply
 * code's; else "". */
static void
enhanced_status(const char *line, int code, char *out, size_t n)
{
	const char *p = line + 4;
	size_t len = 0;
	int dots = 0, digits = 0;

	out[0] = '\0';
	if (strlen(line) < 9 || (line[3] != ' ' && line[3] != '-') || p[0] - '0' != code / 100)
		return;
	for (; p[len] != '\0' && p[len] != ' '; len++) {
		if (p[len] == '.') {
			if (digits == 0)
				return;
			dots++;
			digits = 0;
		} else if (p[len] >= '0' && p[len] <= '9' && ++digits <= 3) {
			continue;
		} else {
			return;
		}
	}
	if (dots == 2 && digits > 0 && len < n)
		snprintf(out, n, "%.*s", (int)len, p);
}

/* A 5xx to RCPT or to the message fails this message for good.  A 5xx to
 * anything else (greeting, EHLO, STARTTLS, AUTH, MAIL FROM) says our
 * setup is wrong and would fail every message: that is temporary, so that
 * fixing the configuration sends the backlog instead of losing it. */
static void
classify(struct smtp *sm, struct smtp_slot *s, CURLcode rc, struct transport_result *res)
{
	long code = 0;

	memset(res, 0, sizeof(*res));
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
		enhanced_status(s->fail, s->fail_code, res->enhanced, sizeof(res->enhanced));
		snprintf(res->text, sizeof(res->text), "%s: %s", s->fail_cmd, s->fail);
		return;
	}
	/* no SMTP reply to blame: connection, TLS, timeout */
	res->status = TR_TEMPORARY;
	snprintf(res->text, sizeof(res->text), "%s: %s%s%s", sm->shown, curl_easy_strerror(rc),
	    s->errbuf[0] ? ": " : "", s->errbuf);
}

/* --- libcurl's event callbacks --------------------------------------------- */

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
		if (s->nfds == SLOT_FDS)
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

/* --- the transport ------------------------------------------------------- */

static int
smtp_submit(struct transport *t, size_t slot, const struct transport_msg *msg, struct err *e)
{
	struct smtp *sm = (struct smtp *)t;
	struct smtp_slot *s = &sm->slot[slot];
	/* the last message this connection may carry closes it afterwards */
	long last = sm->max_per_connection > 0 && s->on_connection + 1 >= sm->max_per_connection;
	CURLMcode mc;

	if (s->busy || s->done)
		return err_set(e, "smtp: slot %zu busy", slot);
	snprintf(s->from, sizeof(s->from), "<%s>", msg->sender);
	snprintf(s->rcpt, sizeof(s->rcpt), "<%s>", msg->recipient);
	s->rcpt_list.data = s->rcpt;
	s->rcpt_list.next = NULL;
	s->data = msg->data;
	s->len = msg->len;
	s->off = 0;
	s->cmd[0] = s->reply[0] = s->fail_cmd[0] = s->fail[0] = s->errbuf[0] = '\0';
	s->fail_code = 0;
	if (curl_easy_setopt(s->easy, CURLOPT_MAIL_FROM, s->from) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_MAIL_RCPT, &s->rcpt_list) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg->len) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_FORBID_REUSE, last) != CURLE_OK)
		return err_set(e, "smtp: cannot set up the transfer");
	mc = curl_multi_add_handle(s->multi, s->easy);
	if (mc != CURLM_OK)
		return err_set(e, "smtp: %s", curl_multi_strerror(mc));
	s->busy = 1;
	return 0;
}

/* Moves the outcome of a finished transfer of slot s (if any) into s->res. */
static void
collect(struct smtp *sm, struct smtp_slot *s)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
		long connects = 0;

		if (m->msg != CURLMSG_DONE || !s->busy)
			continue;
		classify(sm, s, m->data.result, &s->res);
		if (curl_easy_getinfo(s->easy, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK &&
		    connects > 0) {
			sm->base.connections += connects;
			s->on_connection = 0;
		}
		s->on_connection++;
		if (sm->max_per_connection > 0 && s->on_connection >= sm->max_per_connection)
			s->on_connection = 0; /* FORBID_REUSE closed it */
		curl_multi_remove_handle(s->multi, s->easy);
		s->busy = 0;
		s->done = 1;
	}
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

/* Runs the timers that are due; returns the ms until the next one (-1: none). */
static long
run_timers(struct smtp *sm, struct err *e, int *failed)
{
	int64_t now = transport_now_ms(), next = -1;

	for (size_t i = 0; i < sm->base.slots; i++) {
		struct smtp_slot *s = &sm->slot[i];
		int running;

		if (s->timer_at >= 0 && s->timer_at <= now) {
			CURLMcode mc;

			s->timer_at = -1;
			mc = curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
			if (mc != CURLM_OK) {
				*failed = err_set(e, "smtp: %s", curl_multi_strerror(mc));
				return 0;
			}
			collect(sm, s);
		}
		if (s->timer_at >= 0 && (next < 0 || s->timer_at < next))
			next = s->timer_at;
	}
	return next < 0 ? -1 : (long)(next > now ? next - now : 0);
}

/* One round: due timers, then one poll(2) over every slot's sockets for
 * at most timeout_ms (negative: until something happens). */
static int
step(struct smtp *sm, long timeout_ms, struct err *e)
{
	struct pollfd pfd[TRANSPORT_SLOTS_MAX * SLOT_FDS];
	size_t owner[TRANSPORT_SLOTS_MAX * SLOT_FDS];
	size_t n = 0;
	int failed = 0, rc;
	long timer = run_timers(sm, e, &failed);

	if (failed)
		return -1;
	for (size_t i = 0; i < sm->base.slots; i++)
		if (sm->slot[i].done)
			return 0; /* a timer finished a transfer: report it first */
	if (timer >= 0 && (timeout_ms < 0 || timer < timeout_ms))
		timeout_ms = timer;
	for (size_t i = 0; i < sm->base.slots; i++) {
		struct smtp_slot *s = &sm->slot[i];

		for (size_t k = 0; k < s->nfds; k++) {
			pfd[n].fd = s->fds[k].fd;
			pfd[n].events = s->fds[k].events;
			pfd[n].revents = 0;
			owner[n++] = i;
		}
	}
	if (n == 0 && timeout_ms < 0)
		return err_set(e, "smtp: transfers in progress but nothing to wait for");
	rc = poll(pfd, n, timeout_ms < 0 ? -1 : (int)(timeout_ms > 60000 ? 60000 : timeout_ms));
	if (rc == -1)
		return 0; /* EINTR: the caller's loop comes back */
	for (size_t j = 0; j < n && rc > 0; j++) {
		struct smtp_slot *s = &sm->slot[owner[j]];
		int ev = 0, running;
		CURLMcode mc;

		if (pfd[j].revents == 0)
			continue;
		if (pfd[j].revents & (POLLIN | POLLHUP))
			ev |= CURL_CSELECT_IN;
		if (pfd[j].revents & POLLOUT)
			ev |= CURL_CSELECT_OUT;
		if (pfd[j].revents & (POLLERR | POLLNVAL))
			ev |= CURL_CSELECT_ERR;
		mc = curl_multi_socket_action(s->multi, pfd[j].fd, ev, &running);
		if (mc != CURLM_OK)
			return err_set(e, "smtp: %s", curl_multi_strerror(mc));
		collect(sm, s);
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

static void
smtp_close(struct transport *t)
{
	struct smtp *sm = (struct smtp *)t;

	for (size_t i = 0; i < sm->base.slots; i++) {
		struct smtp_slot *s = &sm->slot[i];

		if (s->busy)
			curl_multi_remove_handle(s->multi, s->easy);
		/* the multi first: it says QUIT on the cached connection */
		if (s->multi)
			curl_multi_cleanup(s->multi);
		if (s->easy)
			curl_easy_cleanup(s->easy);
	}
	if (sm->share)
		curl_share_cleanup(sm->share);
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
	long total_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 300000;
	CURL *h;

	s->timer_at = -1;
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
	    curl_easy_setopt(h, CURLOPT_SHARE, sm->share) != CURLE_OK ||
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
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->errbuf) != CURLE_OK)
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
	sm = calloc(1, sizeof(*sm) + slots * sizeof(sm->slot[0]));
	if (sm == NULL)
		return err_set(e, "out of memory");
	sm->base.ops = &smtp_ops;
	sm->base.slots = slots;
	sm->base.name = "smtp";
	sm->max_per_connection = cfg->max_per_connection > 0 ? cfg->max_per_connection : 0;
	if (url_for_curl(sm, cfg, &use_ssl, e) == -1) {
		free(sm);
		return -1;
	}
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
	for (size_t i = 0; i < slots; i++)
		if (slot_setup(sm, &sm->slot[i], cfg, use_ssl) == -1)
			goto fail;
	*out = &sm->base;
	return 0;
fail:
	smtp_close(&sm->base);
	return err_set(e, "smtp: cannot set up libcurl handles");
}
