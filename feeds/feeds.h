/*
 * feeds.h - participants' blogs: finding their feeds, fetching them, and
 * storing new posts for the weekly digest.
 *
 * Three layers, usable apart:
 *   - parsing (feeds_parse, feeds_html_text, feeds_match_thing): pure
 *     functions on memory, no network, no store;
 *   - fetching (fetch_*): libcurl multi, conditional GET, and the guard that
 *     refuses private addresses after DNS resolution (participant URLs are
 *     untrusted: a blog URL must not reach the organiser's LAN);
 *   - policy (feeds_discover, feeds_poll): what is a new post, what goes
 *     into a digest, what a redirect or a 410 does to the stored feed.
 *
 * The program calls curl_global_init(CURL_GLOBAL_DEFAULT) and xmlInitParser()
 * once at start (and curl_global_cleanup, xmlCleanupParser at exit); nothing
 * here keeps state between calls.
 *
 * Rules decided here (policy, documented once):
 *   - An entry is identified within its feed by its guid/id, else its
 *     normalised link, else a hash of its title and text.  Once stored it is
 *     never new again, even if the feed rewrites it; an entry with a new
 *     guid but the link and title of a stored post is that post (feeds that
 *     make up guids at every build).  A date more than a day ahead counts
 *     as no date.
 *   - First successful fetch of a feed: every entry is recorded as seen, but
 *     only those published in the 7 days before the fetch are for the digest
 *     (a newcomer's recent reflection is shown; years of archive are not).
 *   - Later fetches: a new entry is for the digest unless it carries a date
 *     more than 7 days older than the previous successful fetch (an old post
 *     that scrolled back into the feed, an import, changed guids); and at
 *     most FEEDS_DIGEST_PER_FETCH entries per fetch are (a feed that
 *     regenerates every guid cannot flood the digest).
 *   - A chain of permanent redirects (301/308 only) moves the stored feed
 *     URL; a 410 retires the feed; anything else that fails counts as one
 *     consecutive failure with its reason kept.
 */
#ifndef THINGS_FEEDS_H
#define THINGS_FEEDS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../content/content.h"
#include "../util/util.h"

struct store;

#define FEEDS_PARSE_MAX ((size_t)16 << 20) /* largest document feeds_parse reads */
#define FEEDS_MAX_ENTRIES 500              /* entries read from one feed */
#define FEEDS_TITLE_MAX 300                /* bytes, UTF-8 boundary */
#define FEEDS_EXCERPT_CHARS 300            /* characters, word boundary */
#define FEEDS_EXCERPT_MAX 1280             /* bytes: 300 characters and an ellipsis */
#define FEEDS_URL_MAX 1024
#define FEEDS_ETAG_MAX 256                 /* longer validators are not kept */
#define FEEDS_KEY_MAX 512                  /* longer keys become "sha256:<hex>" */
#define FEEDS_ENTRY_LINKS 32               /* links kept from an entry's content */
#define FEEDS_NEW_WINDOW (7 * 86400)
#define FEEDS_DIGEST_PER_FETCH 10

/* --- options ----------------------------------------------------------- */

struct feeds_options {
	int parallelism;        /* transfers at once (default 8) */
	int per_host;           /* transfers at once to one host name (default 2) */
	long connect_timeout;   /* seconds (default 10) */
	long timeout;           /* seconds for a whole transfer (default 30) */
	size_t max_size;        /* bytes of body, decoded (default 2 MiB; at most FEEDS_PARSE_MAX) */
	long max_redirects;     /* default 5 */
	int allow_private;      /* TEST ONLY ([feeds] allow_private_addresses = yes):
				 * let URLs reach loopback/private addresses */
	const char *allow_address; /* TEST ONLY: one address (as inet_ntop writes it) let
				    * through although not public; NULL: none */
	const char *user_agent; /* default "Things/0.1" */
};

/* Fills o with the defaults above.  The caller sets user_agent to
 * "Things/0.1 (+<programme address>)" so blog owners can tell who reads. */
void feeds_options_default(struct feeds_options *o);

#define FEEDS_USER_AGENT_MAX (ADDR_MAX + 64)

/* Fills o from the programme's [feeds] settings: the one place where the
 * config becomes fetch options, so that feed rounds and the discovery of a
 * newly registered blog behave alike.  ua (FEEDS_USER_AGENT_MAX bytes)
 * receives "Things/0.1 (+mailto:ADDRESS)", which o then points at. */
void feeds_options_from_config(const struct programme_config *c, struct feeds_options *o,
    char *ua);

/* --- parsing ----------------------------------------------------------- */

enum feeds_format { FEEDS_RSS2, FEEDS_ATOM, FEEDS_RSS1 };

/* One entry as feeds_parse hands it out.  All strings are UTF-8 without
 * control characters, never NULL (possibly ""), owned by the parser and
 * valid only during the callback. */
struct feeds_entry {
	const char *key;        /* identity within the feed (see above) */
	const char *title;      /* text only, one line, <= FEEDS_TITLE_MAX bytes */
	const char *link;       /* absolute http(s) URL, or "" */
	const char *excerpt;    /* text only, one line, ~FEEDS_EXCERPT_CHARS characters */
	int64_t published_at;   /* published, else updated; 0 if none parsed */
	const char *const *links; /* absolute http(s) hrefs found in the content */
	size_t nlinks;
	const char *feed_title; /* the feed's own title (the blog's name), like title */
	const char *feed_link;  /* the blog's own page as the feed names it (RSS's channel
				 * <link>, Atom's alternate <link>): absolute http(s) or "" */
};

/* Returns 0 to go on, non-zero to stop parsing (feeds_parse returns it). */
typedef int (*feeds_entry_fn)(void *arg, const struct feeds_entry *entry);

/* Parses an RSS 2.0, Atom 1.0 or RSS 1.0 document of len bytes (at most
 * FEEDS_PARSE_MAX) and calls fn for each entry, in document order, at most
 * FEEDS_MAX_ENTRIES times.  base_url is the URL the document came from:
 * relative links are resolved against it (and against xml:base in Atom).
 * The XML parser never loads the network, a DTD or an external entity and
 * never substitutes entities; documents nested deeper than libxml2's limit
 * or exploding entities are refused.  *format (may be NULL) says what it was.
 * Returns 0, fn's non-zero value, or -1 with a reason (not XML, not a feed,
 * too large). */
int feeds_parse(const char *buf, size_t len, const char *base_url, feeds_entry_fn fn,
    void *arg, enum feeds_format *format, struct err *e);

/* Converts an HTML fragment to one line of text: tags dropped (script and
 * style with their content), entities decoded, white space squashed,
 * and a blog platform's footer left out when it is the text's whole last
 * sentence (Medium's "X was
 * originally published in Y on Medium, ...").  Reads at most 256 KiB of
 * html.  Writes at most max_chars characters to
 * out, cut at a word boundary with "…" when cut; out is always
 * NUL-terminated and valid UTF-8 (n bytes, n >= 8).  If links is not NULL,
 * up to nlinks_max absolute http(s) hrefs of <a> elements, resolved against
 * base (may be NULL), are appended as strings the caller frees with free();
 * *nlinks counts them.  0, or -1 on out of memory (then *nlinks is 0). */
int feeds_html_text(const char *html, size_t len, const char *base, size_t max_chars,
    char *out, size_t n, char **links, size_t nlinks_max, size_t *nlinks);

/* Resolves ref against base (NULL: ref must be absolute) and returns a
 * malloc'd absolute URL if it is http or https, has a host, no user info,
 * no control characters and fits FEEDS_URL_MAX; the fragment is kept.
 * What a URI may not hold is percent-encoded, except in a host written in
 * another script, which becomes its ASCII (IDNA, punycode) form, as DNS
 * needs it.  Tracking parameters (utm_*, ad networks' click ids, Medium's
 * source=rss...) are dropped from the query: links are stored and shown
 * without them.  NULL otherwise. */
char *feeds_resolve_url(const char *base, const char *ref);

/* Writes a comparison form of an http(s) URL into out: scheme and host
 * lowercased, default port, fragment and tracking parameters (as
 * feeds_resolve_url) dropped.  0, or -1 if url is not
 * an absolute http(s) URL or does not fit n. */
int feeds_normalise_url(const char *url, char *out, size_t n);

/* Finds the feed an HTML page announces: the first <link rel="alternate">
 * of type application/rss+xml, application/atom+xml or
 * application/rdf+xml, preferring one that is not a comments feed; href is
 * resolved against <base href> or page_url.  0 found (*feed_url is
 * malloc'd), 1 none (the reason in e says so when the page is a login
 * form: a password field and no feed), -1 error. */
int feeds_find_alternate(const char *html, size_t len, const char *page_url, char **feed_url,
    struct err *e);

/* 1 if a body looks like an HTML page rather than a feed (by Content-Type,
 * else by its first tag), 0 otherwise.  content_type may be NULL. */
int feeds_looks_like_html(const char *content_type, const char *buf, size_t len);

/* --- matching posts to Things ------------------------------------------ */

struct feeds_thing {
	const char *title;  /* "" or NULL: match by number only */
	const char *url;    /* the Thing's page, or NULL */
};

/* Which Thing an entry is about, 1..nthings (things[i] is Thing i + 1), or
 * 0: "Thing 3", "Thing #3", "#3" within 40 bytes of the word "Thing", a link
 * to the Thing's url in the content, or the Thing's title (at least 4
 * characters, whole words, case-insensitive) in the title or excerpt.  The
 * first explicit number wins over a link, a link over a title. */
int feeds_match_thing(const struct feeds_entry *entry, const struct feeds_thing *things,
    int nthings);

/* --- fetching ---------------------------------------------------------- */

/* sa is a complete sockaddr_in or sockaddr_in6.
 * 0 if a resolved address may be fetched from; -1 if it is loopback,
 * private, link-local, CGNAT, multicast, reserved, documentation,
 * unspecified, IPv4-mapped or otherwise not a public unicast address, with
 * a reason in why (n bytes). */
int fetch_addr_public(const struct sockaddr *sa, char *why, size_t n);

#define FETCH_ERROR_MAX 300

/* One HTTP fetch.  The caller zeroes it, then fills url (malloc'd, owned
 * by the job, freed by fetch_job_free), and optionally etag/last_modified
 * for a conditional GET and user; fetch_run fills the rest. */
struct fetch_job {
	char *url;
	char etag[FEEDS_ETAG_MAX + 1];
	int64_t last_modified;
	void *user;

	/* results */
	int ok;                 /* a response arrived and the body is complete */
	long status;            /* final HTTP status (0 if none) */
	int not_modified;       /* the server answered 304 */
	struct buf body;        /* the decoded body, when ok (an error page for 4xx/5xx) */
	char content_type[128];
	char new_etag[FEEDS_ETAG_MAX + 1];
	int64_t new_last_modified;
	char *effective_url;    /* after redirects (malloc'd) */
	char *moved_url;        /* set when every redirect was 301/308 (malloc'd) */
	char error[FETCH_ERROR_MAX]; /* why it failed when !ok; "HTTP status N" for 4xx/5xx,
				      * "a bot check stands in front of the feed (HTTP
				      * status N: whose)" when a firewall's challenge
				      * answered */

	void *priv;             /* fetch_run's */
};

/* Called as each job ends.  Return 0 when done with it, or 1 after putting
 * a new url into job->url (freeing the old) to fetch again (e.g. the page
 * named its feed); results are cleared before the new fetch.  A job is
 * fetched at most 4 times: after that its results are cleared, error says
 * so, and the callback is called one last time (its answer ignored).
 * Return -1 to stop the run: no transfer starts after it, those under way
 * are dropped, and fetch_run returns 1. */
typedef int (*fetch_done_fn)(void *arg, struct fetch_job *job);

/* Fetches every job with libcurl multi, at most o->parallelism at once and
 * o->per_host per host name, only http and https (redirects included), no
 * proxy, gzip/deflate accepted, at most o->max_size bytes of body, at most
 * o->max_redirects redirects, and - unless o->allow_private - never
 * connecting to an address fetch_addr_public refuses (checked on each
 * connection, after DNS, redirects included).  A failure of one job is
 * reported in that job; -1 only if the run itself cannot proceed (reason
 * in e), 1 if the callback stopped it (e untouched), else 0. */
int fetch_run(const struct feeds_options *o, struct fetch_job *jobs, size_t njobs,
    fetch_done_fn done, void *arg, struct err *e);
void fetch_job_free(struct fetch_job *job);

/* --- what a failure means --------------------------------------------- */

enum feeds_problem {
	FP_NONE,         /* no failure recorded */
	FP_GONE,         /* the server said 410 Gone: the feed was deleted */
	FP_PRIVATE,      /* 401/403: the blog now needs a login */
	FP_MISSING,      /* 404: nothing at that address any more */
	FP_WEB_PAGE,     /* a web page where the feed was, naming no usable feed */
	FP_NOT_A_FEED,   /* a document that is not RSS or Atom, or broken XML */
	FP_UNREACHABLE,  /* DNS, connection, TLS, time-out, server errors, or an
			  * address on a private network */
	FP_OTHER,        /* anything else (bad address, too large, redirect loops) */
	FP_BLOCKED,      /* a firewall's bot check (Cloudflare's challenge) answers
			  * instead of the feed: the blog's host must let feed
			  * readers through */
};

/* Classifies a feed's recorded failure (struct feed: status == FS_GONE,
 * last_error) so the owner can be told what to do about it.  Pure. */
enum feeds_problem feeds_problem_of(int gone, const char *last_error);
/* "gone", "private", "missing", "web-page", "not-a-feed", "unreachable",
 * "other", "blocked", "none". */
const char *feeds_problem_name(enum feeds_problem p);

/* --- policy ------------------------------------------------------------ */

/* For the blog-registration handler: fetches url (synchronously) and finds
 * its feed: url itself if it is a feed (its permanent-redirect target if it
 * moved), else the feed its HTML page announces (fetched to check it is
 * one).  Writes the feed URL into feed_url (n bytes).  0 found, 1 the page
 * names no feed (reason in e), -1 error (unreachable, refused address,
 * not a feed: reason in e, fit for the participant to read). */
int feeds_discover(const struct feeds_options *o, const char *url, char *feed_url, size_t n,
    struct err *e);

struct feed;

struct feeds_stats {
	int feeds;          /* fetched (active feeds of active participants) */
	int not_modified;   /* answered 304 */
	int failed;         /* failed this time (recorded on the feed) */
	int retired;        /* answered 410 */
	int moved;          /* took a new URL (permanent redirect or discovery) */
	int new_posts;      /* entries stored for the first time */
	int digest_posts;   /* of which for the digest */
};

/* Stores the entries of a feed document fetched for f (f as it was before
 * this fetch: its last_ok_at decides the first-fetch rule) by the rules
 * above, matching them to Things, and records the feed's title when it
 * changed (the blog's name in digests); adds to stats->new_posts and
 * digest_posts.  Call it inside store_begin/store_commit: on anything but
 * 0 the caller rolls back, so a broken feed stores none of its entries.
 * Does not record the fetch on f.  0 stored; 1 the document is not a
 * usable feed (reason in e); -1 store error. */
int feeds_ingest(struct store *st, const struct feed *f, const char *buf, size_t len,
    const char *base_url, const struct feeds_thing *things, int nthings, int64_t now,
    struct feeds_stats *stats, struct err *e);

/* Fetches the feed of every active participant with a blog (its feed_url,
 * else its blog_url, discovering the feed if that is an HTML page) in one
 * multi round, stores new posts by the rules above and records each feed's
 * outcome.  things[0..nthings-1] (may be NULL/0) lets posts be matched to
 * Things (feeds_match_thing; also a post whose link the participant sent as
 * a reflection).  Per-feed failures are recorded, counted in *stats and
 * logged, not returned: -1 only when the store or libcurl fails.
 * With more than one CPU, documents are parsed on a thread of its own while
 * the round goes on fetching and storing (the store is used from the
 * caller's thread only, but for its crash crumb: store_crumb_prepare); new
 * posts are committed a few dozen feeds at a time, never across a wait for
 * the network. */
int feeds_poll(struct store *st, const struct feeds_options *o, const struct feeds_thing *things,
    int nthings, int64_t now, struct feeds_stats *stats, struct err *e);

#endif
