/* problem.c - what a recorded feed failure means for the blog's owner.
 *
 * The reasons are the texts feeds/ itself records (fetch.c, parse.c,
 * discover.c, poll.c); test_feeds_problem.c makes each real failure and
 * checks its class, so a reworded reason cannot slip out of its class
 * unnoticed. */
#include <string.h>

#include "feeds.h"

static const struct {
	const char *prefix;
	enum feeds_problem problem;
} prefixes[] = {
	{ "a bot check stands in front", FP_BLOCKED },
	{ "HTTP status 401", FP_PRIVATE },
	{ "HTTP status 403", FP_PRIVATE },
	{ "HTTP status 404", FP_MISSING },
	{ "HTTP status 410", FP_GONE },
	{ "HTTP status 429", FP_UNREACHABLE },
	{ "HTTP status 5", FP_UNREACHABLE },
	{ "HTTP status", FP_OTHER },
	{ "the page is a login form", FP_PRIVATE },
	{ "the feed a page announced is a web page", FP_WEB_PAGE },
	{ "the page announces itself", FP_WEB_PAGE },
	{ "the feed's address now shows a web page", FP_WEB_PAGE },
	{ "the page does not announce a feed", FP_WEB_PAGE },
	{ "the page is not HTML", FP_WEB_PAGE },
	{ "page too large", FP_WEB_PAGE },
	{ "not well-formed XML", FP_NOT_A_FEED },
	{ "not a feed", FP_NOT_A_FEED },
	{ "feed too large", FP_OTHER },
	{ "larger than", FP_OTHER },
	{ "not a valid URL", FP_OTHER },
	{ "not an http or https URL", FP_OTHER },
	{ "URL with a user name", FP_OTHER },
	{ "more than", FP_OTHER },                /* redirects */
	{ "redirected to a URL", FP_OTHER },
	{ "gave up after", FP_OTHER },
	{ "out of memory", FP_OTHER },
	/* the rest are libcurl's words for DNS, connection, TLS and time-outs,
	 * and our refusal of a private address */
};

static const char *const names[] = { "none", "gone", "private", "missing", "web-page",
	"not-a-feed", "unreachable", "other", "blocked" };

enum feeds_problem
feeds_problem_of(int gone, const char *last_error)
{
	if (gone)
		return FP_GONE;
	if (last_error == NULL || last_error[0] == '\0')
		return FP_NONE;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(last_error, prefixes[i].prefix, strlen(prefixes[i].prefix)) == 0)
			return prefixes[i].problem;
	return FP_UNREACHABLE;
}

const char *
feeds_problem_name(enum feeds_problem p)
{
	if ((unsigned)p >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[p];
}
