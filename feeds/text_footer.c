/*
 * text_footer.c - the footers blog platforms append to each post in their
 * feeds, found so that excerpts can do without them.
 *
 * Medium ends each post with "<title> was originally published in
 * <publication> on Medium, where people are continuing the conversation by
 * highlighting and responding to this story."  In a short post's excerpt
 * it is much of what shows, and no words of the author's.  Yoast SEO's
 * "The post <title> appeared first on <blog>." is left: without the
 * entry's title to compare with, it cannot be told from a post's own last
 * sentence ("The post office was closed when the strike appeared first on
 * the news.").
 */
#include <string.h>

#include "internal.h"

static const char ellipsis[] = "\xe2\x80\xa6";
static const char medium_mid[] = " was originally published in ";
static const char medium_tail[] = " on Medium, where people are continuing the conversation"
    " by highlighting and responding to this story.";

#define LIT(s) (sizeof(s) - 1)

static int
ends_with(const char *s, size_t n, const char *tail, size_t k)
{
	return n >= k && memcmp(s + n - k, tail, k) == 0;
}

/* 1 if the space at s[i] follows the end of a sentence: . ! ? or an
 * ellipsis, maybe closed by a bracket or quotation mark ("[…]"). */
static int
after_sentence(const char *s, size_t i)
{
	const char *closers[] = { "]", ")", "\"", "'", "\xe2\x80\x9d", "\xe2\x80\x99",
		"\xc2\xbb" };

	for (size_t k = 0; k < sizeof(closers) / sizeof(closers[0]); k++) {
		size_t l = strlen(closers[k]);

		if (ends_with(s, i, closers[k], l)) {
			i -= l;
			break;
		}
	}
	return i > 0 && (strchr(".!?", s[i - 1]) != NULL || ends_with(s, i, ellipsis,
	    LIT(ellipsis)));
}

/* 1 if a sentence ends between s[from] and s[to]: a footer's blog or
 * publication is a name, and a body's sentence that reads like a footer
 * goes on after its end ("...appeared first on Reddit. Then it spread.") */
static int
sentence_inside(const char *s, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (s[i] == ' ' && after_sentence(s, i))
			return 1;
	return 0;
}

/* 1 if the n bytes of s are exactly one footer, its names not empty and
 * one sentence (the title too: a body's sentence before it is the body's). */
static int
is_footer(const char *s, size_t n)
{
	const char *mid;

	if (n > LIT(medium_mid) + LIT(medium_tail) + 1 &&
	    ends_with(s, n, medium_tail, LIT(medium_tail))) {
		mid = memmem(s, n - LIT(medium_tail), medium_mid, LIT(medium_mid));
		return mid != NULL && mid > s &&
		    mid + LIT(medium_mid) < s + n - LIT(medium_tail) &&
		    !sentence_inside(s, 0, (size_t)(mid - s)) &&
		    !sentence_inside(s, (size_t)(mid - s) + LIT(medium_mid), n - LIT(medium_tail));
	}
	return 0;
}

/* The paragraph is tried first, then its sentences from the last. */
size_t
feeds_without_footer(const char *s, size_t n, size_t para)
{
	size_t start = n;

	if (n == 0 || !ends_with(s, n, medium_tail, LIT(medium_tail)))
		return n;
	while (para < n && s[para] == ' ')
		para++;
	if (is_footer(s + para, n - para)) {
		start = para;
	} else {
		for (size_t i = n - 1; i > para; i--) {
			if (s[i] == ' ' && after_sentence(s, i) && is_footer(s + i + 1, n - i - 1)) {
				start = i;
				break;
			}
		}
	}
	while (start > 0 && start < n && s[start - 1] == ' ')
		start--;
	return start;
}

