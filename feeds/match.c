/* match.c - which Thing a post is about. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NEAR_BYTES 40
#define TITLE_MIN 4

static int
is_word(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* 1 if the character before p (in s) continues a word. */
static int
word_before(const char *s, const char *p)
{
	return p > s && is_word(p[-1]);
}

/* Reads 1-3 digits at p as a Thing number in 1..nthings; 0 if not one. */
static int
number_at(const char *p, int nthings, const char **end)
{
	int v = 0, n = 0;

	while (isdigit((unsigned char)p[n]) && n < 4)
		v = v * 10 + (p[n++] - '0');
	if (n == 0 || n > 3 || isalnum((unsigned char)p[n]) || v < 1 || v > nthings)
		return 0;
	if (end)
		*end = p + n;
	return v;
}

/* "Thing 3", "thing #3", "Thing no. 3", "Thing number 3" at p ("thing"). */
static int
thing_then_number(const char *p, int nthings)
{
	static const char *const joiners[] = { "#", "no.", "nr.", "number", "n°" };

	p += 5;
	p += strspn(p, " \t");
	for (size_t i = 0; i < sizeof(joiners) / sizeof(joiners[0]); i++) {
		size_t n = strlen(joiners[i]);

		if (strncasecmp(p, joiners[i], n) == 0) {
			p += n;
			p += strspn(p, " \t");
			break;
		}
	}
	return number_at(p, nthings, NULL);
}

/* 1 if the word "thing" (or "things") starts within NEAR_BYTES of
 * [from, to) in s. */
static int
thing_near(const char *s, const char *from, const char *to)
{
	const char *lo = from - s > NEAR_BYTES ? from - NEAR_BYTES : s;
	size_t tail = strlen(to), hi = tail > NEAR_BYTES ? NEAR_BYTES : tail;

	for (const char *p = lo; p < to + hi; p++)
		if (strncasecmp(p, "thing", 5) == 0 && !word_before(s, p))
			return 1;
	return 0;
}

/* The first explicit Thing number in s, or 0. */
static int
explicit_number(const char *s, int nthings)
{
	for (const char *p = s; *p; p++) {
		int v;

		if (strncasecmp(p, "thing", 5) == 0 && !word_before(s, p) &&
		    (v = thing_then_number(p, nthings)) > 0)
			return v;
		if (*p == '#' && !word_before(s, p)) {
			const char *end;

			if ((v = number_at(p + 1, nthings, &end)) > 0 && thing_near(s, p, end))
				return v;
		}
	}
	return 0;
}

static int
links_to(const struct feeds_entry *entry, const char *thing_url)
{
	char want[FEEDS_URL_MAX + 1], have[FEEDS_URL_MAX + 1];
	size_t n;

	if (thing_url == NULL || feeds_normalise_url(thing_url, want, sizeof(want)) == -1)
		return 0;
	/* ".../things/3/" matches ".../things/3", ".../things/3/x", not ".../things/30". */
	n = strlen(want);
	if (want[n - 1] == '/')
		n--;
	for (size_t i = 0; i < entry->nlinks; i++) {
		if (feeds_normalise_url(entry->links[i], have, sizeof(have)) == -1)
			continue;
		if (strncmp(have, want, n) == 0 && (have[n] == '\0' || have[n] == '/' ||
		    have[n] == '?'))
			return 1;
	}
	return 0;
}

/* 1 if title occurs in s as whole words, ignoring ASCII case. */
static int
names(const char *s, const char *title)
{
	size_t n = strlen(title);

	for (const char *p = s; (p = strcasestr(p, title)) != NULL; p++)
		if (!word_before(s, p) && !is_word(p[n]))
			return 1;
	return 0;
}

int
feeds_match_thing(const struct feeds_entry *entry, const struct feeds_thing *things,
    int nthings)
{
	size_t best_len = 0;
	int v, best = 0;

	if (things == NULL || nthings < 1)
		return 0;
	if ((v = explicit_number(entry->title, nthings)) > 0 ||
	    (v = explicit_number(entry->excerpt, nthings)) > 0)
		return v;
	for (int i = 0; i < nthings; i++)
		if (links_to(entry, things[i].url))
			return i + 1;
	/* The longest title that matches: "Feeds" loses to "RSS feeds". */
	for (int i = 0; i < nthings; i++) {
		char title[FEEDS_TITLE_MAX + 1];
		size_t len;

		if (things[i].title == NULL)
			continue;
		snprintf(title, sizeof(title), "%s", things[i].title);
		str_squash_space(title);
		len = strlen(title);
		if (len >= TITLE_MIN && len > best_len &&
		    (names(entry->title, title) || names(entry->excerpt, title))) {
			best = i + 1;
			best_len = len;
		}
	}
	return best;
}
