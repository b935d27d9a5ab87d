/*
 * alternate.c - reading the address of an "alternate" command (classify.c):
 * pure text handling, no policy.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "act.h"

/* The words that clear an alternate address ("alternate none"). */
static int
clears_alternate(const char *w, size_t n)
{
	static const char *const words[] = { "none", "off", "clear", "remove", "delete" };

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (n == strlen(words[i]) && strncasecmp(w, words[i], n) == 0)
			return 1;
	return 0;
}

int
alternate_operand(const char *s, char *out)
{
	static const char *const fillers[] = { "address", "email", "e-mail", "is", "to" };
	char word[ADDR_MAX + 3];
	size_t n;

	out[0] = '\0';
	for (int guard = 0; guard < 8; guard++) {
		int skipped = 0;

		s += strspn(s, " \t:");
		n = strcspn(s, " \t:");
		for (size_t i = 0; i < sizeof(fillers) / sizeof(fillers[0]); i++)
			if (n == strlen(fillers[i]) && strncasecmp(s, fillers[i], n) == 0)
				skipped = 1;
		if (!skipped)
			break;
		s += n;
	}
	n = strcspn(s, " \t");
	while (n > 0 && strchr(".,;>", s[n - 1]) != NULL)
		n--;
	if (n > 0 && s[0] == '<')
		s++, n--;
	if (n == 0 || n >= sizeof(word))
		return 0;
	if (clears_alternate(s, n))
		return 1;
	memcpy(word, s, n);
	word[n] = '\0';
	if (strchr(word, '@') == NULL || addr_normalize(word, out, ADDR_MAX + 1, NULL) == -1) {
		out[0] = '\0';
		return 0;
	}
	return 1;
}

int
alternate_first(const char *s, char *out)
{
	for (int words = 0; *s && words < 64; words++) {
		s += strspn(s, " \t");
		if ((*s == '<' || isalnum((unsigned char)*s)) && alternate_operand(s, out))
			return 1;
		s += strcspn(s, " \t");
	}
	return 0;
}
