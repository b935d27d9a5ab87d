/*
 * bench_feeds.c - one or more rounds of feeds_poll over N feeds, timed.
 *
 *   bench_feeds DIR BASE_URL N PARALLEL [ROUNDS]
 *   bench_feeds --fetch-only BASE_URL N PARALLEL
 *
 * Makes a store in DIR with N active participants whose feeds are
 * BASE_URL/f/NNNN.xml, then runs ROUNDS (default 2) rounds of feeds_poll
 * with PARALLEL transfers at once (per host too: every feed is on the one
 * loopback server) and the options `things run` would use otherwise.
 * Prints one line per round:
 *   round R SECONDS feeds F not_modified M failed X new_posts P
 * --fetch-only times fetch_run alone over the same URLs, bodies dropped as
 * they end (what curl does with -o /dev/null):
 *   fetch SECONDS ok K bytes B
 * Built by bench/feeds/run.sh against build/libthings.a.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "../../feeds/feeds.h"
#include "../../store/store.h"

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
populate(struct store *st, const char *base, long n, struct err *e)
{
	if (store_begin(st, e) == -1)
		return -1;
	for (long i = 0; i < n; i++) {
		struct participant p;
		char addr[64], url[512];

		snprintf(addr, sizeof(addr), "p%04ld@example.org", i);
		snprintf(url, sizeof(url), "%s/f/%04ld.xml", base, i);
		if (store_participant_add(st, addr, "", PS_ACTIVE, time(NULL), &p, e) == -1 ||
		    store_participant_set_blog(st, p.id, url, url, e) == -1) {
			store_rollback(st);
			return -1;
		}
	}
	return store_commit(st, e);
}

struct fetched {
	long ok;
	size_t bytes;
};

static int
drop_body(void *arg, struct fetch_job *job)
{
	struct fetched *f = arg;

	f->ok += job->ok && job->status == 200;
	f->bytes += job->body.len;
	buf_free(&job->body);
	return 0;
}

static int
fetch_only(const char *base, long n, long par)
{
	struct fetch_job *jobs = calloc((size_t)n, sizeof(*jobs));
	struct fetched got = { 0, 0 };
	struct feeds_options o;
	struct err e;
	double t0;
	int rc;

	if (jobs == NULL)
		return 1;
	for (long i = 0; i < n; i++) {
		char url[512];

		snprintf(url, sizeof(url), "%s/f/%04ld.xml", base, i);
		jobs[i].url = strdup(url);
	}
	feeds_options_default(&o);
	o.parallelism = (int)par;
	o.per_host = getenv("BENCH_PER_HOST") ? atoi(getenv("BENCH_PER_HOST")) : (int)par;
	o.allow_private = 1;
	t0 = seconds();
	rc = fetch_run(&o, jobs, (size_t)n, drop_body, &got, &e);
	printf("fetch %.3f ok %ld bytes %zu\n", seconds() - t0, got.ok, got.bytes);
	if (rc == -1)
		fprintf(stderr, "bench_feeds: %s\n", e.msg);
	for (long i = 0; i < n; i++)
		fetch_job_free(&jobs[i]);
	free(jobs);
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct feeds_options o;
	struct store *st = NULL;
	char path[1024];
	long n, par, rounds = 2;
	struct err e;
	int rc = 1;

	if (argc == 5 && strcmp(argv[1], "--fetch-only") == 0) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		rc = fetch_only(argv[2], strtol(argv[3], NULL, 10), strtol(argv[4], NULL, 10));
		curl_global_cleanup();
		return rc;
	}
	if (argc < 5 || argc > 6 || (n = strtol(argv[3], NULL, 10)) < 1 ||
	    (par = strtol(argv[4], NULL, 10)) < 1 ||
	    (argc == 6 && (rounds = strtol(argv[5], NULL, 10)) < 1)) {
		fprintf(stderr, "usage: bench_feeds DIR BASE_URL N PARALLEL [ROUNDS]\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	xmlInitParser();
	snprintf(path, sizeof(path), "%s/things.db", argv[1]);
	if (store_open(path, &st, &e) == -1 || populate(st, argv[2], n, &e) == -1)
		goto out;
	feeds_options_default(&o);
	o.parallelism = (int)par;
	o.per_host = (int)par;
	o.allow_private = 1;
	o.user_agent = "Things/0.1 (+mailto:bench@example.org)";
	for (long r = 1; r <= rounds; r++) {
		struct feeds_stats s;
		double t0 = seconds(), t1;

		if (feeds_poll(st, &o, NULL, 0, (int64_t)time(NULL) + r, &s, &e) == -1)
			goto out;
		t1 = seconds();
		printf("round %ld %.3f feeds %d not_modified %d failed %d new_posts %d\n", r, t1 - t0,
		    s.feeds, s.not_modified, s.failed, s.new_posts);
		fflush(stdout);
	}
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "bench_feeds: %s\n", e.msg);
	store_close(st);
	xmlCleanupParser();
	curl_global_cleanup();
	return rc;
}
