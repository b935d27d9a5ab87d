/* Tests of the fetcher and of feed discovery against real HTTP servers on
 * loopback (tests/tools/httpd.py): conditional GET, gzip, redirects, size
 * and time limits, and the address guard (refused addresses are never
 * connected to: a listening socket is left with nothing to accept). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "../../feeds/feeds.h"
#include "test_feeds_common.h"
#include "test_feeds_httpd.h"

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
options(struct feeds_options *o, int allow_private)
{
	feeds_options_default(o);
	o->allow_private = allow_private;
	o->user_agent = "Things/0.1 (+things@test.example)";
	o->connect_timeout = 3;
	o->timeout = 10;
}

static int
done_once(void *arg, struct fetch_job *job)
{
	int *calls = arg;

	(void)job;
	if (calls)
		(*calls)++;
	return 0;
}

/* Fetches one URL into job (zeroed here); the caller frees. */
static void
fetch(const struct feeds_options *o, const char *url, const char *etag, int64_t lm,
    struct fetch_job *job)
{
	struct err e;

	memset(job, 0, sizeof(*job));
	job->url = strdup(url);
	if (etag)
		snprintf(job->etag, sizeof(job->etag), "%s", etag);
	job->last_modified = lm;
	assert_int_equal(fetch_run(o, job, 1, done_once, NULL, &e), 0);
}

static void
url_of(const struct httpd *h, const char *path, char *out, size_t n)
{
	snprintf(out, n, "%s%s", h->base, path);
}

static int
setup_httpd(void **state)
{
	struct httpd *h = calloc(1, sizeof(*h));

	if (h == NULL || httpd_start(h, "127.0.0.1", NULL) == -1) {
		fprintf(stderr, "cannot start %s\n", HTTPD_SCRIPT);
		free(h);
		return -1;
	}
	*state = h;
	return 0;
}

static int
teardown_httpd(void **state)
{
	httpd_stop(*state);
	free(*state);
	return 0;
}

static void
test_fetch_gzip_and_validators(void **state)
{
	struct httpd *h = *state;
	struct feeds_options o;
	struct fetch_job job;
	char url[128];
	size_t n;
	char *expect = fixture_read("rss2.xml", NULL, NULL, &n);

	httpd_put_fixture(h, "feed.xml", "rss2.xml");
	options(&o, 1);
	url_of(h, "/feed.xml", url, sizeof(url));
	fetch(&o, url, NULL, 0, &job);
	assert_true(job.ok);
	assert_int_equal(job.status, 200);
	assert_false(job.not_modified);
	assert_int_equal(job.body.len, n);
	assert_memory_equal(job.body.data, expect, n);       /* gzip decoded */
	free(expect);
	assert_string_equal(job.content_type, "application/xml");
	assert_true(job.new_etag[0] == '"');
	assert_true(job.new_last_modified > 0);
	assert_null(job.moved_url);
	assert_string_equal(job.effective_url, url);
	assert_int_equal(httpd_expect(h, (const char *[]){ "GET /feed.xml 200", "gzip",
	    "ua=\"Things/0.1 (+things@test.example)\"", NULL }, 1), 1);

	/* Unchanged: a 304, the validators kept. */
	{
		struct fetch_job again;

		fetch(&o, url, job.new_etag, job.new_last_modified, &again);
		assert_true(again.ok);
		assert_true(again.not_modified);
		assert_int_equal(again.status, 304);
		assert_int_equal(again.body.len, 0);
		assert_string_equal(again.new_etag, job.new_etag);
		assert_int_equal(again.new_last_modified, job.new_last_modified);
		assert_int_equal(httpd_expect(h, (const char *[]){ "GET /feed.xml 304 0 inm ims ua=", NULL }, 1),
		    1);
		fetch_job_free(&again);
		/* Last-Modified alone does it too. */
		fetch(&o, url, NULL, job.new_last_modified, &again);
		assert_true(again.not_modified);
		assert_int_equal(httpd_expect(h, (const char *[]){ "GET /feed.xml 304 0 ims ua=", NULL }, 1),
		    1);
		fetch_job_free(&again);
	}
	fetch_job_free(&job);
}

static void
test_fetch_http_errors_and_bad_urls(void **state)
{
	struct httpd *h = *state;
	struct feeds_options o;
	struct fetch_job job;
	char url[128];
	static const struct {
		const char *url, *error;
	} bad[] = {
		{ "not a url", "not a valid URL" },
		{ "file:///etc/passwd", "not an http or https URL" },
		{ "gopher://127.0.0.1/", "not an http or https URL" },
		{ "https://user:pw@127.0.0.1/", "user name or password" },
		{ "http://127.0.0.1/a\r\nb", "not a valid URL" },
	};

	options(&o, 1);
	url_of(h, "/missing.xml", url, sizeof(url));
	fetch(&o, url, NULL, 0, &job);
	assert_true(job.ok);
	assert_int_equal(job.status, 404);
	assert_string_equal(job.error, "HTTP status 404");
	fetch_job_free(&job);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fetch(&o, bad[i].url, NULL, 0, &job);
		assert_false(job.ok);
		if (strstr(job.error, bad[i].error) == NULL)
			fail_msg("%s: '%s'", bad[i].url, job.error);
		fetch_job_free(&job);
	}
	assert_int_equal(httpd_expect(h, (const char *[]){ "GET", NULL }, 1), 1);
}

/* A socket listening on addr (IPv4 or IPv6 text), port chosen by the
 * kernel; non-blocking, so that accept tells whether anyone connected. */
static int
listener(const char *addr, int *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, v6 = strchr(addr, ':') != NULL;

	memset(&ss, 0, sizeof(ss));
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
		len = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
		close(fd);
		return -1;
	}
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	*port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static int
nobody_connected(int fd)
{
	int c = accept(fd, NULL, NULL);

	if (c >= 0) {
		close(c);
		return 0;
	}
	return errno == EAGAIN || errno == EWOULDBLOCK;
}

/* http_proxy and friends in the environment are not used: a proxy would
 * make the address guard check the proxy, not the participant's host. */
static void
test_no_proxy_from_environment(void **state)
{
	struct httpd *h = *state;
	struct feeds_options o;
	struct fetch_job job;
	char url[128], proxy[64];
	int port, fd = listener("127.0.0.1", &port);

	assert_true(fd >= 0);
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", port);
	setenv("http_proxy", proxy, 1);
	setenv("HTTPS_PROXY", proxy, 1);
	setenv("ALL_PROXY", proxy, 1);
	httpd_put_fixture(h, "feed.xml", "rss2.xml");
	options(&o, 1);
	url_of(h, "/feed.xml", url, sizeof(url));
	fetch(&o, url, NULL, 0, &job);
	unsetenv("http_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("ALL_PROXY");
	assert_true(job.ok);
	assert_int_equal(job.status, 200);
	assert_true(nobody_connected(fd));
	assert_int_equal(httpd_expect(h, (const char *[]){ "GET /feed.xml 200", NULL }, 1), 1);
	fetch_job_free(&job);
	close(fd);
}

/* Every URL resolves to an address that is not public: refused before
 * connecting, with the address and the reason in the error. */
static void
test_private_addresses_refused(void **state)
{
	struct feeds_options o;
	struct fetch_job job;
	char url[128];
	int p4, p6 = 0, fd4, fd6;
	double t0;
	struct {
		const char *fmt;
		int port;        /* 4: the IPv4 listener's, 6: the IPv6 one's, 0: none */
		const char *why;
	} cases[] = {
		{ "http://127.0.0.1:%d/feed.xml", 4, "127.0.0.1 is a loopback address" },
		{ "http://localhost:%d/feed.xml", 4, "is a loopback address" },
		{ "http://[::1]:%d/feed.xml", 6, "::1 is a loopback address" },
		{ "http://0.0.0.0:%d/", 4, "0.0.0.0 is a \"this network\" address" },
		{ "http://[::ffff:127.0.0.1]:%d/", 4, "IPv4-mapped" },
		{ "http://2130706433:%d/", 4, "127.0.0.1 is a loopback address" },
		{ "http://10.1.2.3:81/", 0, "10.1.2.3 is a private address" },
		{ "http://192.168.0.1/", 0, "192.168.0.1 is a private address" },
		{ "http://169.254.169.254/latest/meta-data/", 0, "169.254.169.254 is a link-local" },
		{ "http://100.64.1.1/", 0, "100.64.1.1 is a carrier-grade NAT address" },
		{ "http://[fd00::1]/", 0, "fd00::1 is a unique local (private) address" },
		{ "http://[fe80::1]/", 0, "fe80::1 is a link-local address" },
	};

	(void)state;
	fd4 = listener("127.0.0.1", &p4);
	assert_true(fd4 >= 0);
	fd6 = listener("::1", &p6);    /* -1 if the box has no IPv6 loopback */
	options(&o, 0);
	o.connect_timeout = 5;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].port == 6 && fd6 < 0)
			continue;
		snprintf(url, sizeof(url), cases[i].fmt, cases[i].port == 6 ? p6 : p4);
		t0 = now_s();
		fetch(&o, url, NULL, 0, &job);
		assert_false(job.ok);
		if (strstr(job.error, "refused to connect: ") != job.error ||
		    strstr(job.error, cases[i].why) == NULL)
			fail_msg("%s: '%s'", url, job.error);
		/* Refused at once: no connect timeout was waited for. */
		assert_true(now_s() - t0 < 2.0);
		assert_int_equal(job.body.len, 0);
		fetch_job_free(&job);
	}
	assert_true(nobody_connected(fd4));
	if (fd6 >= 0)
		assert_true(nobody_connected(fd6));

	/* The control: allowed, the same URL does connect. */
	options(&o, 1);
	o.timeout = 1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/feed.xml", p4);
	fetch(&o, url, NULL, 0, &job);
	assert_false(job.ok);                 /* our listener never answers */
	assert_null(strstr(job.error, "refused"));
	assert_false(nobody_connected(fd4));
	fetch_job_free(&job);
	close(fd4);
	if (fd6 >= 0)
		close(fd6);
}

/* A redirect from an allowed server to a private one is refused on the
 * second connection, and the second server never sees a request. */
static struct httpd other;   /* stopped by teardown_other even if a check fails */

static int
teardown_other(void **state)
{
	httpd_stop(&other);
	return teardown_httpd(state);
}

static void
test_redirect_to_private_refused(void **state)
{
	struct httpd *h = *state;
	struct feeds_options o;
	struct fetch_job job;
	char url[128], map[256];

	if (httpd_start(&other, "127.0.0.2", NULL) == -1)
		fail_msg("cannot start a server on 127.0.0.2");
	httpd_put_fixture(&other, "feed.xml", "rss2.xml");
	snprintf(map, sizeof(map), "/hop.xml 302 %s/feed.xml\n", other.base);
	httpd_write(h->redirects, map, strlen(map));

	options(&o, 0);
	/* The control: the other server does serve the feed when allowed. */
	url_of(&other, "/feed.xml", url, sizeof(url));
	o.allow_address = "127.0.0.2";
	fetch(&o, url, NULL, 0, &job);
	assert_true(job.ok);
	assert_int_equal(job.status, 200);
	fetch_job_free(&job);
	assert_int_equal(httpd_expect(&other, (const char *[]){ "GET /feed.xml 200", NULL }, 1), 1);

	o.allow_address = "127.0.0.1";
	url_of(h, "/hop.xml", url, sizeof(url));
	fetch(&o, url, NULL, 0, &job);
	assert_false(job.ok);
	assert_string_equal(job.error, "refused to connect: 127.0.0.2 is a loopback address");
	assert_int_equal(httpd_expect(h, (const char *[]){ "GET /hop.xml 302", NULL }, 1), 1);
	assert_int_equal(httpd_expect(&other, (const char *[]){ "GET", NULL }, 1), 1); /* the control */
	fetch_job_free(&job);
}

static void
test_redirects(void **state)
{
	struct httpd *h = *state;
	struct feeds_options o;
	struct fetch_job job;
	char url[128], want[128];
	static const char map[] =
	    "/tofile.xml 302 file:///etc/passwd\n"
	    "/toftp.xml 301 ftp://127.0.0.1/feed.xml\n"
	    "/p1.xml 301 /p2.xml\n"
	    "/p2.xml 308 /feed.xml\n"
	    "/t1.xml 301 /t2.xml\n"
	    "/t2.xml 302 /feed.xml\n"
	    "/r1.xml 302 /r2.xml\n/r2.xml 302 /r3.xml\n/r3.xml 302 /r4.xml\n"
	    "/r4.xml 302 /r5.xml\n/r5.xml 302 /r6.xml\n/r6.xml 302 /feed.xml\n";

	httpd_put_fixture(h, "feed.xml", "rss2.xml");
	httpd_write(h->redirects, map, strlen(map));
	options(&o, 1);
	url_of(h, "/feed.xml", want, sizeof(want));

	url_of(h, "/tofile.xml", url, sizeof(url));
	fetch(&o, url, NULL, 0, &job);
	assert_false(job.ok);
	assert_non_null(strstr(job.error, "redirected to a URL that is not http or https"));
	assert_int_equal(job.body.len, 0);
	fetch_job_free(&job);
	url_of(h, "/toftp.xml", url, sizeof(url));
	fetch(&o, url, NULL, 0, &job);
	assert_false(job.ok);
	assert_non_null(strstr(job.error, "not http or https"));
	fetch_job_free(&job);

	/* Only 301/308 all the way is a move. */
	url_of(h, "/p1.xml", url, sizeof(url));
	fetch(&o, url, NULL, 0, &job);
	assert_true(job.ok);
	assert_int_equal(job.status, 200);
	assert_string_equal(job.moved_url, want);
	fetch_job_free(&job);
	url_of(h, "/t1.xml", url, sizeof(url));
	fetch(&o, url, NULL, 0, &job);
	assert_true(job.ok);
	assert_null(job.moved_url);
	assert_string_equal(job.effective_url, want);
	fetch_job_free(&job);

	/* Six hops, five allowed. */
	url_of(h, "/r1.xml", url, sizeof(url));
	fetch(&o, url, NULL, 0, &job);
	assert_false(job.ok);
	assert_string_equal(job.error, "more than 5 redirects");
	fetch_job_free(&job);
	o.max_redirects = 6;
	fetch(&o, url, NULL, 0, &job);
	assert_true(job.ok);
	assert_int_equal(job.status, 200);
	fetch_job_free(&job);
}

/* An endless chunked body (no Content-Length, so MAXFILESIZE cannot act)
 * is cut at max_size. */
static void
test_size_cap_chunked(void **state)
{
	struct feeds_options o;
	struct fetch_job job;
	struct httpd h;
	char url[128];
	double t0;
	const char *extra[] = { "--chunked", "/endless.xml=500000000", NULL };

	(void)state;
	assert_int_equal(httpd_start(&h, "127.0.0.1", extra), 0);
	options(&o, 1);
	o.max_size = 64 << 10;
	url_of(&h, "/endless.xml", url, sizeof(url));
	t0 = now_s();
	fetch(&o, url, NULL, 0, &job);
	assert_true(now_s() - t0 < 5.0);
	assert_false(job.ok);
	assert_string_equal(job.error, "larger than 65536 bytes");
	assert_true(job.body.len <= o.max_size);
	fetch_job_free(&job);
	/* The server saw the client go away, long before 500 MB. */
	assert_int_equal(httpd_expect(&h, (const char *[]){ "GET /endless.xml 200", "client-closed",
	    NULL }, 1), 1);
	httpd_stop(&h);
}

static void
test_timeout(void **state)
{
	struct feeds_options o;
	struct fetch_job job;
	struct httpd h;
	char url[128];
	double t0;
	const char *extra[] = { "--slow", "/slow.xml=4", NULL };

	(void)state;
	assert_int_equal(httpd_start(&h, "127.0.0.1", extra), 0);
	httpd_put_fixture(&h, "slow.xml", "rss2.xml");
	options(&o, 1);
	o.timeout = 1;
	url_of(&h, "/slow.xml", url, sizeof(url));
	t0 = now_s();
	fetch(&o, url, NULL, 0, &job);
	assert_true(now_s() - t0 < 3.0);
	assert_false(job.ok);
	assert_non_null(strstr(job.error, "timed out"));
	fetch_job_free(&job);
	httpd_stop(&h);
}

static double
timed_batch(const struct feeds_options *o, const struct httpd *h, int n)
{
	struct fetch_job jobs[4];
	struct err e;
	double t0;
	int calls = 0;

	memset(jobs, 0, sizeof(jobs));
	for (int i = 0; i < n; i++) {
		char url[128];

		snprintf(url, sizeof(url), "%s/s%d.xml", h->base, i);
		jobs[i].url = strdup(url);
	}
	t0 = now_s();
	assert_int_equal(fetch_run(o, jobs, (size_t)n, done_once, &calls, &e), 0);
	t0 = now_s() - t0;
	assert_int_equal(calls, n);
	for (int i = 0; i < n; i++) {
		assert_true(jobs[i].ok);
		assert_int_equal(jobs[i].status, 200);
		fetch_job_free(&jobs[i]);
	}
	return t0;
}

/* Four slow answers from one host: one at a time with per_host 1, all at
 * once with per_host 4. */
static void
test_per_host_limit(void **state)
{
	struct feeds_options o;
	struct httpd h;
	double serial, parallel;
	const char *extra[] = { "--slow", "/s0.xml=0.5", "--slow", "/s1.xml=0.5", "--slow",
		"/s2.xml=0.5", "--slow", "/s3.xml=0.5", NULL };

	(void)state;
	assert_int_equal(httpd_start(&h, "127.0.0.1", extra), 0);
	for (int i = 0; i < 4; i++) {
		char name[16];

		snprintf(name, sizeof(name), "s%d.xml", i);
		httpd_put_fixture(&h, name, "rss2.xml");
	}
	options(&o, 1);
	o.per_host = 1;
	serial = timed_batch(&o, &h, 4);
	o.per_host = 4;
	parallel = timed_batch(&o, &h, 4);
	if (serial < 1.9 || parallel > 1.4)
		fail_msg("serial %.2fs (want >= 2), parallel %.2fs (want about 0.5)", serial,
		    parallel);
	httpd_stop(&h);
}

struct requeue {
	int calls;
	int always;
	char second[128];
	long status[8];
};

static int
done_requeue(void *arg, struct fetch_job *job)
{
	struct requeue *r = arg;

	if (r->calls < 8)
		r->status[r->calls] = job->status;
	r->calls++;
	if (r->always || r->calls == 1) {
		free(job->url);
		job->url = strdup(r->second);
		return 1;
	}
	return 0;
}

static void
test_requeue(void **state)
{
	struct httpd *h = *state;
	struct feeds_options o;
	struct fetch_job job;
	struct requeue r;
	struct err e;
	char url[128];

	httpd_put_fixture(h, "feed.xml", "rss2.xml");
	options(&o, 1);
	memset(&r, 0, sizeof(r));
	memset(&job, 0, sizeof(job));
	url_of(h, "/first.xml", url, sizeof(url));
	job.url = strdup(url);
	url_of(h, "/feed.xml", r.second, sizeof(r.second));
	assert_int_equal(fetch_run(&o, &job, 1, done_requeue, &r, &e), 0);
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.status[0], 404);
	assert_int_equal(r.status[1], 200);
	assert_true(job.ok);
	fetch_job_free(&job);

	/* A callback that never lets go: 4 fetches, then a last call. */
	memset(&r, 0, sizeof(r));
	r.always = 1;
	url_of(h, "/feed.xml", r.second, sizeof(r.second));
	job.url = strdup(r.second);
	assert_int_equal(fetch_run(&o, &job, 1, done_requeue, &r, &e), 0);
	assert_int_equal(r.calls, 5);
	assert_int_equal(r.status[4], 0);
	assert_false(job.ok);
	assert_string_equal(job.error, "gave up after 4 fetches");
	fetch_job_free(&job);
}

static int
done_stop(void *arg, struct fetch_job *job)
{
	int *calls = arg;

	(void)job;
	(*calls)++;
	return -1;
}

/* A callback that says stop: no transfer starts after it, and fetch_run
 * says it was stopped (1) without touching the caller's error. */
static void
test_stop(void **state)
{
	enum { N = 20 };
	struct httpd *h = *state;
	struct feeds_options o;
	struct fetch_job jobs[N];
	struct err e;
	int calls = 0;

	httpd_put_fixture(h, "feed.xml", "rss2.xml");
	options(&o, 1);
	o.parallelism = 1;
	memset(jobs, 0, sizeof(jobs));
	for (int i = 0; i < N; i++) {
		char url[128];

		url_of(h, "/feed.xml", url, sizeof(url));
		jobs[i].url = strdup(url);
	}
	snprintf(e.msg, sizeof(e.msg), "the caller's reason");
	assert_int_equal(fetch_run(&o, jobs, N, done_stop, &calls, &e), 1);
	assert_int_equal(calls, 1);
	assert_string_equal(e.msg, "the caller's reason");
	assert_int_equal(httpd_expect(h, (const char *[]){ "GET /feed.xml", NULL }, 1), 1);
	for (int i = 0; i < N; i++)
		fetch_job_free(&jobs[i]);
}

static void
test_discover(void **state)
{
	struct httpd *h = *state;
	struct feeds_options o;
	char url[128], want[128], got[FEEDS_URL_MAX + 1];
	struct err e;
	static const char map[] = "/feed/ 302 /wordpress.xml\n"
	    "/moved.xml 301 /wordpress.xml\n"
	    "/~bob/ 302 /\n";

	httpd_put_fixture(h, "wordpress.xml", "wordpress.xml");
	httpd_put_fixture(h, "wp.html", "wordpress-page.html");
	httpd_put_fixture(h, "blogger.html", "blogger-page.html");
	httpd_put_fixture(h, "feeds/posts/default", "blogger.xml");
	httpd_put_fixture(h, "plain.html", "plain-page.html");
	httpd_put(h, "dangling.html", "<html><head><link rel=\"alternate\" "
	    "type=\"application/rss+xml\" href=\"/nowhere.xml\"></head></html>");
	httpd_put(h, "notfeed.txt", "hello");
	httpd_write(h->redirects, map, strlen(map));
	options(&o, 1);

	/* WordPress: the page names /feed/, which answers (via a temporary
	 * redirect) with the feed: /feed/ is what to keep. */
	url_of(h, "/wp.html", url, sizeof(url));
	assert_int_equal(feeds_discover(&o, url, got, sizeof(got), &e), 0);
	url_of(h, "/feed/", want, sizeof(want));
	assert_string_equal(got, want);
	/* Blogger: the Atom feed, not service.post, not the RSS variant. */
	url_of(h, "/blogger.html", url, sizeof(url));
	assert_int_equal(feeds_discover(&o, url, got, sizeof(got), &e), 0);
	url_of(h, "/feeds/posts/default", want, sizeof(want));
	assert_string_equal(got, want);
	/* A feed URL is its own feed; one that moved for good is its target. */
	url_of(h, "/wordpress.xml", url, sizeof(url));
	assert_int_equal(feeds_discover(&o, url, got, sizeof(got), &e), 0);
	assert_string_equal(got, url);
	url_of(h, "/moved.xml", url, sizeof(url));
	assert_int_equal(feeds_discover(&o, url, got, sizeof(got), &e), 0);
	url_of(h, "/wordpress.xml", want, sizeof(want));
	assert_string_equal(got, want);

	/* A blog at a host in another script: found at its ASCII name (curl
	 * takes *.localhost as loopback), kept in that form. */
	snprintf(url, sizeof(url), "http://j\xc3\xb6rg.localhost:%d/wordpress.xml", h->port);
	assert_int_equal(feeds_discover(&o, url, got, sizeof(got), &e), 0);
	snprintf(want, sizeof(want), "http://xn--jrg-sna.localhost:%d/wordpress.xml", h->port);
	assert_string_equal(got, want);

	/* A home page that announces no feed: the usual places are tried, the
	 * first that is a feed wins (WordPress's /feed/ here, before Blogger's
	 * /feeds/posts/default); a page below the root is not guessed for. */
	httpd_put_fixture(h, "index.html", "plain-page.html");
	url_of(h, "/", url, sizeof(url));
	assert_int_equal(feeds_discover(&o, url, got, sizeof(got), &e), 0);
	url_of(h, "/feed/", want, sizeof(want));
	assert_string_equal(got, want);

	/* nor for an address below the root that leads to it (a removed
	 * ~user page sent to the institution's home) */
	url_of(h, "/~bob/", url, sizeof(url));
	assert_int_equal(feeds_discover(&o, url, got, sizeof(got), &e), 1);
	assert_string_equal(got, "");

	url_of(h, "/plain.html", url, sizeof(url));
	assert_int_equal(feeds_discover(&o, url, got, sizeof(got), &e), 1);
	assert_non_null(strstr(e.msg, "does not announce a feed"));
	assert_string_equal(got, "");
	url_of(h, "/dangling.html", url, sizeof(url));
	assert_int_equal(feeds_discover(&o, url, got, sizeof(got), &e), -1);
	assert_non_null(strstr(e.msg, "the page names a feed, but"));
	assert_non_null(strstr(e.msg, "HTTP status 404"));
	url_of(h, "/notfeed.txt", url, sizeof(url));
	assert_int_equal(feeds_discover(&o, url, got, sizeof(got), &e), -1);
	assert_non_null(strstr(e.msg, "not well-formed XML"));
	url_of(h, "/nothing-here", url, sizeof(url));
	assert_int_equal(feeds_discover(&o, url, got, sizeof(got), &e), -1);
	assert_non_null(strstr(e.msg, "HTTP status 404"));

	/* Registration goes through the guard like everything else. */
	options(&o, 0);
	url_of(h, "/wp.html", url, sizeof(url));
	assert_int_equal(feeds_discover(&o, url, got, sizeof(got), &e), -1);
	assert_non_null(strstr(e.msg, "refused to connect: 127.0.0.1 is a loopback address"));
	/* Too small an output buffer is an error, not a truncated URL. */
	options(&o, 1);
	url_of(h, "/wordpress.xml", url, sizeof(url));
	assert_int_equal(feeds_discover(&o, url, got, 16, &e), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fetch_gzip_and_validators, setup_httpd,
		    teardown_httpd),
		cmocka_unit_test_setup_teardown(test_fetch_http_errors_and_bad_urls, setup_httpd,
		    teardown_httpd),
		cmocka_unit_test(test_private_addresses_refused),
		cmocka_unit_test_setup_teardown(test_no_proxy_from_environment, setup_httpd,
		    teardown_httpd),
		cmocka_unit_test_setup_teardown(test_redirect_to_private_refused, setup_httpd,
		    teardown_other),
		cmocka_unit_test_setup_teardown(test_redirects, setup_httpd, teardown_httpd),
		cmocka_unit_test(test_size_cap_chunked),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_per_host_limit),
		cmocka_unit_test_setup_teardown(test_requeue, setup_httpd, teardown_httpd),
		cmocka_unit_test_setup_teardown(test_stop, setup_httpd, teardown_httpd),
		cmocka_unit_test_setup_teardown(test_discover, setup_httpd, teardown_httpd),
	};
	feeds_test_init();
	return feeds_test_done(cmocka_run_group_tests(tests, NULL, feeds_test_cleanup));
}
