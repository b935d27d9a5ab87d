/* fetch.c - many HTTP GETs at once with libcurl multi, for untrusted URLs.
 *
 * Every libcurl call of feeds/ is here.  The address check sits in the
 * open-socket callback because that is the one place that sees the address
 * libcurl is about to connect to, after DNS and on every hop of a redirect:
 * checking the host name before the fetch would lose to DNS rebinding and
 * to redirects. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <curl/curl.h>

#include "feeds.h"

#define FETCH_REQUEUE_MAX 3  /* fetches of one job (the feed a page names...) */
#define HOST_MAX 256

struct transfer {
	struct fetch_job *job;
	const struct feeds_options *o;
	CURL *h;
	struct curl_slist *headers;
	char host[HOST_MAX];
	int requeues;
	int checked;         /* job->url checked: host set, or job->error */
	int active;
	int redirects;       /* 3xx responses seen */
	int permanent;       /* all of them were 301 or 308 */
	int too_big;
	char refused[200];   /* why the socket callback refused an address */
	char errbuf[CURL_ERROR_SIZE];
};

void
feeds_options_default(struct feeds_options *o)
{
	memset(o, 0, sizeof(*o));
	o->parallelism = 8;
	o->per_host = 2;
	o->connect_timeout = 10;
	o->timeout = 30;
	o->max_size = (size_t)2 << 20;
	o->max_redirects = 5;
	o->allow_private = 0;
	o->user_agent = "Things/0.1";
}

void
feeds_options_from_config(const struct programme_config *c, struct feeds_options *o, char *ua)
{
	size_t max = (size_t)c->feeds_max_kib << 10;

	feeds_options_default(o);
	if (c->feeds_parallel > 0)
		o->parallelism = c->feeds_parallel;
	if (c->feeds_per_host > 0)
		o->per_host = c->feeds_per_host;
	if (c->feeds_timeout_s > 0) {
		o->timeout = c->feeds_timeout_s;
		if (o->connect_timeout > o->timeout)
			o->connect_timeout = o->timeout;
	}
	if (max > 0)
		o->max_size = max < FEEDS_PARSE_MAX ? max : FEEDS_PARSE_MAX;
	o->allow_private = c->feeds_allow_private;
	snprintf(ua, FEEDS_USER_AGENT_MAX, "Things/0.1 (+mailto:%s)", c->address ? c->address : "");
	o->user_agent = ua;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	size_t n = size * nmemb;

	/* MAXFILESIZE does not stop a chunked response in 7.88: count here.
	 * Returning short aborts the transfer with CURLE_WRITE_ERROR. */
	if (buf_append(&t->job->body, data, n) == -1) {
		t->too_big = 1;
		return 0;
	}
	return n;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	size_t n = size * nmemb;
	int code = 0;

	/* A status line starts each response of a redirect chain. */
	if (n > 12 && memcmp(data, "HTTP/", 5) == 0) {
		const char *sp = memchr(data, ' ', n);

		if (sp != NULL && (size_t)(sp - data) + 4 <= n)
			for (int i = 1; i <= 3 && sp[i] >= '0' && sp[i] <= '9'; i++)
				code = code * 10 + (sp[i] - '0');
		if (code >= 300 && code < 400 && code != 304) {
			t->redirects++;
			if (code != 301 && code != 308)
				t->permanent = 0;
		}
	}
	return n;
}

static int
allowed_address(const struct feeds_options *o, const struct sockaddr_storage *ss)
{
	char text[INET6_ADDRSTRLEN] = "";
	const void *a;

	if (o->allow_address == NULL)
		return 0;
	if (ss->ss_family == AF_INET)
		a = &((const struct sockaddr_in *)ss)->sin_addr;
	else if (ss->ss_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	else
		return 0;
	return inet_ntop(ss->ss_family, a, text, sizeof(text)) != NULL &&
	    strcmp(text, o->allow_address) == 0;
}

static curl_socket_t
on_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct transfer *t = arg;
	struct sockaddr_storage ss;
	curl_socket_t s;

	if (purpose != CURLSOCKTYPE_IPCXN || a->addrlen > sizeof(ss)) {
		snprintf(t->refused, sizeof(t->refused), "unexpected kind of connection");
		return CURL_SOCKET_BAD;
	}
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, &a->addr, a->addrlen);
	if (!t->o->allow_private && !allowed_address(t->o, &ss) &&
	    fetch_addr_public((struct sockaddr *)&ss, t->refused, sizeof(t->refused)) == -1)
		return CURL_SOCKET_BAD;
	s = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	return s == -1 ? CURL_SOCKET_BAD : s;
}

/* Checks the URL and notes its host (for the per-host limit).  0 or -1
 * with the reason in the job. */
static int
check_url(struct transfer *t)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL, *password = NULL;
	int rc = -1;

	if (u == NULL) {
		snprintf(t->job->error, sizeof(t->job->error), "out of memory");
		return -1;
	}
	if (t->job->url == NULL || strlen(t->job->url) > FEEDS_URL_MAX ||
	    str_has_ctl(t->job->url, 0) ||
	    curl_url_set(u, CURLUPART_URL, t->job->url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		snprintf(t->job->error, sizeof(t->job->error), "not a valid URL");
		goto out;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		snprintf(t->job->error, sizeof(t->job->error), "not an http or https URL");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(t->job->error, sizeof(t->job->error), "not a valid URL (no host)");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK) {
		snprintf(t->job->error, sizeof(t->job->error), "URL with a user name or password");
		goto out;
	}
	snprintf(t->host, sizeof(t->host), "%s", host);
	str_lower(t->host);
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(password);
	curl_url_cleanup(u);
	return rc;
}

static int
add_header(struct transfer *t, const char *line)
{
	struct curl_slist *l = curl_slist_append(t->headers, line);

	if (l == NULL)
		return -1;
	t->headers = l;
	return 0;
}

/* "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT": RFC 9110's date is
 * RFC 5322's in UTC with "GMT" for the zone. */
static void
http_date(int64_t t, char *out, size_t n)
{
	char date[64];
	size_t len;

	time_format_rfc5322(t, date, sizeof(date));
	len = strlen(date);
	if (len > 5 && strcmp(date + len - 5, "+0000") == 0)
		memcpy(date + len - 5, "GMT", 4);
	snprintf(out, n, "If-Modified-Since: %s", date);
}

static int
setup_handle(struct transfer *t)
{
	const struct feeds_options *o = t->o;
	struct fetch_job *j = t->job;
	char inm[FEEDS_ETAG_MAX + 32], ims[64];
	CURL *h;

	if ((t->h = h = curl_easy_init()) == NULL)
		return -1;
	if (add_header(t, "Accept: application/rss+xml, application/atom+xml,"
	    " application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8,"
	    " text/html;q=0.5, */*;q=0.1") == -1)
		return -1;
	if (j->etag[0] != '\0' && !str_has_ctl(j->etag, 0)) {
		snprintf(inm, sizeof(inm), "If-None-Match: %s", j->etag);
		if (add_header(t, inm) == -1)
			return -1;
	}
	/* Not CURLOPT_TIMECONDITION: with it libcurl drops a 200's body
	 * whose Last-Modified is not newer than ours, so a feed changed in
	 * the same second, or a server with a stuck Last-Modified, would
	 * look unchanged for ever.  Only a 304 means unchanged. */
	if (j->last_modified > 0) {
		http_date(j->last_modified, ims, sizeof(ims));
		if (add_header(t, ims) == -1)
			return -1;
	}
	if (curl_easy_setopt(h, CURLOPT_URL, j->url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK)
		return -1;
	curl_easy_setopt(h, CURLOPT_PRIVATE, t);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, o->max_redirects);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, o->connect_timeout);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, o->timeout);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_size);
	curl_easy_setopt(h, CURLOPT_USERAGENT, o->user_agent ? o->user_agent : "Things/0.1");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(h, CURLOPT_FILETIME, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, t);
	return 0;
}

static void
release_handle(struct transfer *t, CURLM *multi)
{
	if (t->h != NULL) {
		if (t->active)
			curl_multi_remove_handle(multi, t->h);
		curl_easy_cleanup(t->h);
	}
	curl_slist_free_all(t->headers);
	t->h = NULL;
	t->headers = NULL;
	t->active = 0;
}

static void
clear_results(struct fetch_job *j, size_t max_size)
{
	j->ok = 0;
	j->status = 0;
	j->not_modified = 0;
	buf_free(&j->body);
	buf_init(&j->body, max_size);
	j->content_type[0] = '\0';
	j->new_etag[0] = '\0';
	j->new_last_modified = 0;
	free(j->effective_url);
	free(j->moved_url);
	j->effective_url = NULL;
	j->moved_url = NULL;
	j->error[0] = '\0';
}

/* Fills the job's results from a finished transfer. */

/* Whose bot check answered instead of the feed, or NULL: a firewall in
 * front of the blog that wants a browser (JavaScript, cookies) refuses
 * every feed reader, so its 403 or 503 says nothing about the blog being
 * private or down.  Cloudflare marks its challenges with a cf-mitigated
 * header (older ones only by their page's challenge-platform script);
 * Sucuri's firewall with X-Sucuri-Block. */
static const char *
bot_wall(CURL *h, const struct buf *body)
{
	struct curl_header *hdr;

	if (curl_easy_header(h, "cf-mitigated", 0, CURLH_HEADER, -1, &hdr) == CURLHE_OK)
		return "Cloudflare's challenge page";
	if (body->data != NULL && memmem(body->data, body->len < 65536 ? body->len : 65536,
	    "/cdn-cgi/challenge-platform/", 28) != NULL)
		return "Cloudflare's challenge page";
	if (curl_easy_header(h, "X-Sucuri-Block", 0, CURLH_HEADER, -1, &hdr) == CURLHE_OK)
		return "Sucuri's firewall";
	return NULL;
}

static void
collect(struct transfer *t, CURLcode res)
{
	struct fetch_job *j = t->job;
	const struct feeds_options *o = t->o;
	struct curl_header *hdr;
	char *eff = NULL, *ct = NULL;
	curl_off_t filetime = -1;

	curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &j->status);
	if (curl_easy_getinfo(t->h, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff)
		j->effective_url = strdup(eff);
	if (res != CURLE_OK) {
		if (t->refused[0] != '\0')
			snprintf(j->error, sizeof(j->error), "refused to connect: %s", t->refused);
		else if (t->too_big || res == CURLE_FILESIZE_EXCEEDED)
			snprintf(j->error, sizeof(j->error), "larger than %zu bytes", o->max_size);
		else if (res == CURLE_OPERATION_TIMEDOUT)
			snprintf(j->error, sizeof(j->error), "timed out: %s", t->errbuf);
		else if (res == CURLE_TOO_MANY_REDIRECTS)
			snprintf(j->error, sizeof(j->error), "more than %ld redirects",
			    o->max_redirects);
		else if (res == CURLE_UNSUPPORTED_PROTOCOL && t->redirects > 0)
			snprintf(j->error, sizeof(j->error),
			    "redirected to a URL that is not http or https (%s)", t->errbuf);
		else
			snprintf(j->error, sizeof(j->error), "%s",
			    t->errbuf[0] ? t->errbuf : curl_easy_strerror(res));
		return;
	}
	j->ok = 1;
	if (curl_easy_getinfo(t->h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
		snprintf(j->content_type, sizeof(j->content_type), "%s", ct);
	if (curl_easy_header(t->h, "ETag", 0, CURLH_HEADER, -1, &hdr) == CURLHE_OK &&
	    strlen(hdr->value) <= FEEDS_ETAG_MAX && !str_has_ctl(hdr->value, 0))
		snprintf(j->new_etag, sizeof(j->new_etag), "%s", hdr->value);
	if (curl_easy_getinfo(t->h, CURLINFO_FILETIME_T, &filetime) == CURLE_OK && filetime > 0)
		j->new_last_modified = (int64_t)filetime;
	/* A 304 need not repeat the validators: keep the ones that worked. */
	if (j->status == 304) {
		j->not_modified = 1;
		if (j->new_etag[0] == '\0')
			snprintf(j->new_etag, sizeof(j->new_etag), "%s", j->etag);
		if (j->new_last_modified == 0)
			j->new_last_modified = j->last_modified;
	} else if (j->status >= 400) {
		const char *wall = bot_wall(t->h, &j->body);

		if (wall != NULL)
			snprintf(j->error, sizeof(j->error), "a bot check stands in front of the "
			    "feed (HTTP status %ld: %s)", j->status, wall);
		else
			snprintf(j->error, sizeof(j->error), "HTTP status %ld", j->status);
	}
	if (t->redirects > 0 && t->permanent && j->effective_url != NULL)
		j->moved_url = strdup(j->effective_url);
}

struct run {
	const struct feeds_options *o;
	CURLM *multi;
	struct transfer *ts;
	size_t n;
	size_t *queue;      /* indexes of transfers waiting, in order */
	size_t nqueue;
	struct transfer **live; /* the transfers under way: running of them */
	int running;
	int changed;        /* a slot was freed or a job queued since the last scan */
	int stopped;        /* the caller said stop */
	fetch_done_fn done;
	void *arg;
};

/* Only the transfers under way are compared (at most parallelism), so
 * that a round of thousands of feeds on a few hosts stays linear. */
static int
host_busy(struct run *r, const char *host)
{
	int n = 0;

	for (int i = 0; i < r->running; i++)
		if (strcmp(r->live[i]->host, host) == 0)
			n++;
	return n >= r->o->per_host;
}

static void
set_live(struct run *r, struct transfer *t, int live)
{
	if (live) {
		r->live[r->running++] = t;
		t->active = 1;
		return;
	}
	for (int i = 0; i < r->running; i++) {
		if (r->live[i] == t) {
			r->live[i] = r->live[--r->running];
			break;
		}
	}
}

/* Ends a transfer: hands it to the caller, who may ask for another fetch. */
static void
finish(struct run *r, struct transfer *t)
{
	if (t->active) {
		set_live(r, t, 0);
		release_handle(t, r->multi);
		r->changed = 1;
	}
	switch (r->done(r->arg, t->job)) {
	case 1:
		break;
	case -1:
		r->stopped = 1;
		return;
	default:
		return;
	}
	clear_results(t->job, r->o->max_size);
	if (t->requeues++ < FETCH_REQUEUE_MAX) {
		t->checked = 0;
		r->queue[r->nqueue++] = (size_t)(t - r->ts);
		r->changed = 1;
		return;
	}
	/* The caller keeps asking: tell it once that this is the end. */
	snprintf(t->job->error, sizeof(t->job->error), "gave up after %d fetches",
	    FETCH_REQUEUE_MAX + 1);
	(void)r->done(r->arg, t->job);
}

/* Starts queued transfers while there is room, in queue order, skipping
 * hosts that have their share.  Nothing to do unless a slot was freed or
 * a job queued since the last call. */
static int
start_some(struct run *r, struct err *e)
{
	size_t i = 0;

	if (!r->changed)
		return 0;
	r->changed = 0;
	while (!r->stopped && i < r->nqueue && r->running < r->o->parallelism) {
		struct transfer *t = &r->ts[r->queue[i]];

		if (!t->checked) {
			t->host[0] = '\0';
			(void)check_url(t);
			t->checked = 1;
		}
		if (t->job->error[0] == '\0' && host_busy(r, t->host)) {
			i++;
			continue;
		}
		memmove(&r->queue[i], &r->queue[i + 1], (r->nqueue - i - 1) * sizeof(r->queue[0]));
		r->nqueue--;
		if (t->job->error[0] != '\0') {
			finish(r, t);
			continue;
		}
		t->redirects = 0;
		t->permanent = 1;
		t->too_big = 0;
		t->refused[0] = t->errbuf[0] = '\0';
		if (setup_handle(t) == -1) {
			release_handle(t, r->multi);
			return err_set(e, "cannot set up a transfer (out of memory?)");
		}
		if (curl_multi_add_handle(r->multi, t->h) != CURLM_OK) {
			release_handle(t, r->multi);
			return err_set(e, "curl_multi_add_handle failed");
		}
		set_live(r, t, 1);
	}
	return 0;
}

static int
run_loop(struct run *r, struct err *e)
{
	CURLMsg *msg;
	int still, left;

	while (!r->stopped && (r->nqueue > 0 || r->running > 0)) {
		if (start_some(r, e) == -1)
			return -1;
		if (curl_multi_perform(r->multi, &still) != CURLM_OK)
			return err_set(e, "curl_multi_perform failed");
		while ((msg = curl_multi_info_read(r->multi, &left)) != NULL) {
			struct transfer *t;
			char *priv = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
			t = (struct transfer *)(void *)priv;
			collect(t, msg->data.result);
			finish(r, t);
		}
		if (r->running > 0 && curl_multi_poll(r->multi, NULL, 0, 1000, NULL) != CURLM_OK)
			return err_set(e, "curl_multi_poll failed");
	}
	return 0;
}

int
fetch_run(const struct feeds_options *o, struct fetch_job *jobs, size_t njobs,
    fetch_done_fn done, void *arg, struct err *e)
{
	struct run r = { .o = o, .n = njobs, .done = done, .arg = arg };
	int rc = -1;

	if (o->parallelism < 1 || o->per_host < 1 || o->max_size == 0 ||
	    o->max_size > FEEDS_PARSE_MAX || o->max_redirects < 0)
		return err_set(e, "feeds: bad options (parallelism %d, per host %d, max size %zu)",
		    o->parallelism, o->per_host, o->max_size);
	if (njobs == 0)
		return 0;
	r.ts = calloc(njobs, sizeof(*r.ts));
	r.queue = calloc(njobs, sizeof(*r.queue));
	r.live = calloc((size_t)o->parallelism, sizeof(*r.live));
	r.changed = 1;
	if (r.ts == NULL || r.queue == NULL || r.live == NULL ||
	    (r.multi = curl_multi_init()) == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	/* Backstops for the scheduling above (redirects can change host). */
	curl_multi_setopt(r.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)o->per_host);
	curl_multi_setopt(r.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)o->parallelism);
	for (size_t i = 0; i < njobs; i++) {
		r.ts[i].job = &jobs[i];
		r.ts[i].o = o;
		jobs[i].priv = &r.ts[i];
		clear_results(&jobs[i], o->max_size);
		r.queue[r.nqueue++] = i;
	}
	if ((rc = run_loop(&r, e)) == 0 && r.stopped)
		rc = 1;
out:
	for (size_t i = 0; r.ts != NULL && i < njobs; i++) {
		release_handle(&r.ts[i], r.multi);
		jobs[i].priv = NULL;
	}
	if (r.multi)
		curl_multi_cleanup(r.multi);
	free(r.ts);
	free(r.queue);
	free(r.live);
	return rc;
}

void
fetch_job_free(struct fetch_job *job)
{
	free(job->url);
	buf_free(&job->body);
	free(job->effective_url);
	free(job->moved_url);
	job->url = job->effective_url = job->moved_url = NULL;
}
