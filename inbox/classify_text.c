/*
 * classify_text.c - the classifier's text helpers (classify.h): tags of
 * plus addresses, reply prefixes of subjects, greetings before the first
 * line.  Pure: no I/O, no state.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "classify.h"

/* --- plus addresses ---------------------------------------------------- */

/* If addr (n bytes) is local+TAG@domain of the programme, copies TAG. */
int
classify_plus_tag(const char *addr, size_t n, const struct inbox_context *ctx, char *tag, size_t tagn)
{
	const char *pat = strrchr(ctx->address, '@'), *aat;
	size_t local, tl;

	if (pat == NULL || n == 0)
		return 0;
	local = (size_t)(pat - ctx->address);
	aat = memrchr(addr, '@', n);
	if (aat == NULL || (size_t)(aat - addr) <= local + 1 || strncasecmp(addr, ctx->address, local) != 0 ||
	    addr[local] != ctx->delimiter)
		return 0;
	if (strlen(pat + 1) != (size_t)(addr + n - aat - 1) ||
	    strncasecmp(aat + 1, pat + 1, strlen(pat + 1)) != 0)
		return 0;
	tl = (size_t)(aat - addr) - local - 1;
	if (tl >= tagn)
		return 0;
	for (size_t i = 0; i < tl; i++)
		tag[i] = (char)tolower((unsigned char)addr[local + 1 + i]);
	tag[tl] = '\0';
	return 1;
}

int
classify_find_tag_in(const char *addrs, const struct inbox_context *ctx, const char *prefix,
    char *tag, size_t tagn)
{
	const char *p = addrs;

	if (ctx->address == NULL || ctx->delimiter == '\0')
		return 0;
	while (*p) {
		size_t n = strcspn(p, " ");

		if (classify_plus_tag(p, n, ctx, tag, tagn) && strncmp(tag, prefix, strlen(prefix)) == 0)
			return 1;
		p += n;
		p += *p == ' ';
	}
	return 0;
}

int
classify_find_tag(const struct inbox_message *m, const struct inbox_context *ctx, const char *prefix,
    char *tag, size_t tagn)
{
	return classify_find_tag_in(m->to_addrs, ctx, prefix, tag, tagn);
}

/* "bounce-TOKEN" -> token into out ("" if not a valid token). */
void
classify_tag_token(const char *tag, const char *cmd, char *out)
{
	size_t cl = strlen(cmd);

	out[0] = '\0';
	if (strncmp(tag, cmd, cl) == 0 && tag[cl] == '-' && token_valid(tag + cl + 1))
		memcpy(out, tag + cl + 1, TOKEN_HEX_LEN + 1);
}

/* --- text helpers ------------------------------------------------------ */

int
classify_word_end(char c)
{
	return !isalnum((unsigned char)c) && (unsigned char)c < 0x80;
}

/* 1 if s starts with prefix (case-insensitive) and ":" after optional
 * spaces or a "[2]" count; *after points past the colon. */
static int
prefix_colon(const char *s, const char *prefix, const char **after)
{
	size_t n = strlen(prefix);
	const char *q = s + n;

	if (strncasecmp(s, prefix, n) != 0)
		return 0;
	if (*q == '[') {
		size_t d = strspn(q + 1, "0123456789");

		if (d > 0 && q[1 + d] == ']')
			q += d + 2;
	}
	while (*q == ' ')
		q++;
	if (*q != ':')
		return 0;
	*after = q + 1;
	return 1;
}

/* Skips reply prefixes ("Re:", "AW:", "SV:", ...) and "[list tags]".  A
 * forwarded subject ("Fwd:", "WG:", "TR:") is someone else's words: the
 * result is then "" so that it commands nothing, and *forwarded (may be
 * NULL) is set. */
const char *
classify_subject_words(const char *s, int *forwarded)
{
	static const char *const replies[] = {
		"re", "aw", "sv", "vs", "antw", "réf", "ref", "rif", "r", "res", "odp", "atb",
	};
	static const char *const forwards[] = {
		"fwd", "fw", "wg", "tr", "enc", "doorst", "rv", "i",
	};

	for (int guard = 0; guard < 16; guard++) {
		const char *after = NULL;

		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '[' && strchr(s, ']') != NULL && strchr(s, ']') - s < 64) {
			s = strchr(s, ']') + 1;
			continue;
		}
		for (size_t i = 0; i < sizeof(forwards) / sizeof(forwards[0]); i++) {
			if (prefix_colon(s, forwards[i], &after)) {
				if (forwarded)
					*forwarded = 1;
				return "";
			}
		}
		for (size_t i = 0; after == NULL && i < sizeof(replies) / sizeof(replies[0]); i++)
			prefix_colon(s, replies[i], &after);
		if (after == NULL)
			break;
		s = after;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

int
inbox_subject_forwarded(const char *subject)
{
	int forwarded = 0;

	classify_subject_words(subject, &forwarded);
	return forwarded;
}

/* The first non-blank line at or after p; its length in *len. */
static const char *
next_line(const char *p, size_t *len)
{
	while (*p == '\n' || *p == ' ' || *p == '\t')
		p++;
	*len = strcspn(p, "\n");
	return p;
}

/* The first line of text after a greeting (classify.h). */
const char *
classify_first_line_at(const char *text, size_t *len)
{
	static const char *const greetings[] = {
		"hi", "hello", "hey", "dear", "good morning", "good afternoon", "good evening",
		"hallo", "bonjour", "hola", "greetings", "morning",
	};
	const char *p = next_line(text, len);

	for (size_t g = 0; g < sizeof(greetings) / sizeof(greetings[0]); g++) {
		size_t gl = strlen(greetings[g]), cut;

		if (*len > 80 || strncasecmp(p, greetings[g], gl) != 0 || !classify_word_end(p[gl]))
			continue;
		cut = strcspn(p, ",!\n");
		if (cut < *len)
			cut++;
		else if (*len > 30)
			break; /* "Hi there I would like..." is not just a greeting */
		while (cut < *len && p[cut] == ' ')
			cut++;
		if (cut == *len)
			p = next_line(p + *len, len);
		else
			p += cut, *len -= cut;
		break;
	}
	return p;
}

/* Copies the first line of text into out (bounded), after a greeting:
 * "Hi Things,\n\nPlease unsubscribe me" and "Hi, please unsubscribe me"
 * both give "Please unsubscribe me". */
void
classify_first_line(const char *text, char *out, size_t n)
{
	size_t len, i;
	const char *p = classify_first_line_at(text, &len);

	for (i = 0; i < len && i + 1 < n; i++)
		out[i] = p[i];
	out[i] = '\0';
}

