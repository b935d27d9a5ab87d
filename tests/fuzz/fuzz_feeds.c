/*
 * fuzz_feeds.c - libFuzzer target: untrusted bytes from a blog through
 * feeds_parse (every entry's promises checked), feeds_html_text (at the
 * output sizes feeds/ uses), feeds_find_alternate and feeds_resolve_url.
 *
 * Build and run: `make fuzz-feeds` (FUZZ_TIME seconds, default 60; the corpus
 * grows in build/fuzz-feeds-corpus).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>

#include "../../feeds/feeds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(const char *s, size_t max)
{
	if (s == NULL || strlen(s) > max || !str_valid_utf8(s, strlen(s)) || str_has_ctl(s, 0))
		__builtin_trap();
}

/* feeds_html_text gets text libxml2 made (UTF-8): only then is its output
 * promised to be UTF-8 too. */
static void
check_html_text(const char *s, size_t max, int utf8_in)
{
	if (utf8_in)
		check_text(s, max);
	else if (strlen(s) > max || str_has_ctl(s, 0))
		__builtin_trap();
}

static void
check_url(const char *u)
{
	check_text(u, FEEDS_URL_MAX);
	if (strncasecmp(u, "http://", 7) != 0 && strncasecmp(u, "https://", 8) != 0)
		__builtin_trap();
}

static int
entry(void *arg, const struct feeds_entry *en)
{
	(void)arg;
	check_text(en->key, FEEDS_KEY_MAX);
	check_text(en->title, FEEDS_TITLE_MAX);
	check_text(en->excerpt, FEEDS_EXCERPT_MAX);
	check_text(en->feed_title, FEEDS_TITLE_MAX);
	if (en->link[0] != '\0')
		check_url(en->link);
	if (en->nlinks > FEEDS_ENTRY_LINKS)
		__builtin_trap();
	for (size_t i = 0; i < en->nlinks; i++)
		check_url(en->links[i]);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t sizes[][2] = {
		{ FEEDS_EXCERPT_CHARS, FEEDS_EXCERPT_MAX + 1 }, { FEEDS_TITLE_MAX, FEEDS_TITLE_MAX + 1 },
		{ 1, 16 }, { 10, 8 },
	};
	const char *s = (const char *)data;
	char out[FEEDS_EXCERPT_MAX + 1], *links[FEEDS_ENTRY_LINKS], *feed = NULL, *str, *u;
	size_t nlinks = 0;
	struct err e;

	(void)feeds_parse(s, size, "https://blog.example/feed/", entry, NULL, NULL, &e);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (feeds_html_text(s, size, "https://blog.example/p/", sizes[i][0], out, sizes[i][1],
		    links, FEEDS_ENTRY_LINKS, &nlinks) == 0) {
			check_html_text(out, sizes[i][1] - 1, str_valid_utf8(s, size));
			for (size_t k = 0; k < nlinks; k++) {
				check_url(links[k]);
				free(links[k]);
			}
		}
	}
	if (feeds_find_alternate(s, size, "https://blog.example/", &feed, &e) == 0) {
		check_url(feed);
		free(feed);
	}
	(void)feeds_looks_like_html(NULL, s, size);
	/* the bytes as a link, absolute and relative */
	if ((str = strndup(s, size < 4096 ? size : 4096)) != NULL) {
		if ((u = feeds_resolve_url("https://blog.example/a/b", str)) != NULL) {
			check_url(u);
			free(u);
		}
		if ((u = feeds_resolve_url(NULL, str)) != NULL) {
			check_url(u);
			free(u);
		}
		free(str);
	}
	return 0;
}
