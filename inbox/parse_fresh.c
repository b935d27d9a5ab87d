/*
 * parse_fresh.c - what the sender wrote now, without what they quoted.
 *
 * Line rules, from what mail clients actually produce:
 *   dropped   lines starting with ">" (every client's plain-text quoting,
 *             and our HTML converter's rendering of <blockquote>)
 *   dropped   attributions: "On <date>, <name> wrote:" (Gmail, Apple Mail,
 *             Thunderbird; Gmail wraps long ones over two lines),
 *             "Le ... a écrit :", "Am ... schrieb ...:", "El ... escribió:",
 *             "Op ... schreef ...:", "Il ... ha scritto:", "Den ... skrev:"
 *   cut here  "-----Original Message-----" and its translations,
 *             "---------- Forwarded message ---------", "Begin forwarded
 *             message:" (everything after is someone else's text, unquoted)
 *   cut here  an Outlook header block: "From:" followed within four lines
 *             by "Sent:" or "Date:" (or their translations), with the
 *             "_____" rule Outlook puts above it
 *   cut here  the signature separator "-- " (or "--" whose space an editor
 *             ate) and mobile signatures ("Sent from my iPhone", "Get
 *             Outlook for Android", "Von meinem iPhone gesendet", ...)
 * Lines the sender wrote between quoted lines (inline replies) stay.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse_internal.h"

struct line {
	const char *s;  /* first non-blank byte */
	size_t n;       /* length without leading and trailing white space */
	const char *raw;
	size_t rawn;    /* length of the whole line */
};

static int
starts_ci(const struct line *l, const char *prefix)
{
	size_t pl = strlen(prefix);

	return l->n >= pl && strncasecmp(l->s, prefix, pl) == 0;
}

static int
ends_ci(const struct line *l, const char *suffix)
{
	size_t sl = strlen(suffix);

	return l->n >= sl && strncasecmp(l->s + l->n - sl, suffix, sl) == 0;
}

static int
contains_ci(const struct line *l, const char *needle)
{
	size_t nl = strlen(needle);

	for (size_t i = 0; i + nl <= l->n; i++)
		if (strncasecmp(l->s + i, needle, nl) == 0)
			return 1;
	return 0;
}

static int
has_digit(const struct line *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (isdigit((unsigned char)l->s[i]))
			return 1;
	return 0;
}

static int
any_ci(const struct line *l, int (*fn)(const struct line *, const char *),
    const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fn(l, list[i]))
			return 1;
	return 0;
}
#define ANY(l, fn, list) any_ci((l), (fn), (list), sizeof(list) / sizeof((list)[0]))

static const char *const attribution_ends[] = {
	"wrote:", "writes:", "a écrit :", "a écrit:", "schrieb:",
	"escribió:", "ha scritto:", "schreef:", "skrev:", "kirjoitti:", "napisał:",
};
static const char *const attribution_starts[] = {
	"On ", "Le ", "Am ", "El ", "Op ", "Il ", "Den ", "Em ", "W dniu ",
};

/* How many lines (1 or 2, 3 for Gmail's wrapped ones) an attribution
 * starting at l[0] takes, or 0. */
static size_t
attribution(const struct line *l, size_t avail)
{
	int start = ANY(&l[0], starts_ci, attribution_starts);

	if (ANY(&l[0], ends_ci, attribution_ends) && l[0].n < 300)
		return start || memchr(l[0].s, '@', l[0].n) != NULL || has_digit(&l[0]);
	/* "Am ..., schrieb Name <x@y>:" ends in ">:" */
	if (start && l[0].n < 300 && ends_ci(&l[0], ">:") && contains_ci(&l[0], "schrieb"))
		return 1;
	if (!start || l[0].n > 200)
		return 0;
	for (size_t k = 1; k < 3 && k < avail; k++) {
		if (l[k].n == 0 || l[k].n > 200)
			return 0;
		if (ANY(&l[k], ends_ci, attribution_ends))
			return k + 1;
	}
	return 0;
}

/* FRESH_CUT_ORIGINAL or FRESH_CUT_FORWARD if l is the line above a quoted
 * or forwarded message, else FRESH_CUT_NONE. */
static enum fresh_cut
original_message(const struct line *l)
{
	static const char *const originals[] = {
		"original message", "ursprüngliche nachricht", "message d'origine",
		"mensaje original", "messaggio originale", "oorspronkelijk bericht",
	};
	static const char *const forwards[] = {
		"forwarded message", "weitergeleitete nachricht", "message transféré",
		"doorgestuurd bericht",
	};

	if (starts_ci(l, "Begin forwarded message"))
		return FRESH_CUT_FORWARD;
	if (l->n >= 80 || (l->s[0] != '-' && l->s[0] != '_' && l->s[0] != '*' && l->s[0] != '='))
		return FRESH_CUT_NONE;
	if (ANY(l, contains_ci, forwards))
		return FRESH_CUT_FORWARD;
	return ANY(l, contains_ci, originals) ? FRESH_CUT_ORIGINAL : FRESH_CUT_NONE;
}

static const char *const header_from[] = {
	"From:", "De:", "De :", "Von:", "Van:", "Da:", "Från:", "Fra:", "Od:",
	"*From:*", "*De:*", "*Von:*",
};
static const char *const header_sent[] = {
	"Sent:", "Date:", "Envoyé :", "Envoyé:", "Date :", "Gesendet:", "Datum:",
	"Verzonden:", "Enviado:", "Enviado el:", "Inviato:", "Data:", "Skickat:", "Sendt:",
	"Wysłano:", "*Sent:*", "*Date:*", "*Gesendet:*", "To:", "Subject:",
};

/* An Outlook-style header block starting at l[0] (maybe after a rule). */
static int
header_block(const struct line *l, size_t avail)
{
	size_t i = 0;

	if (l[0].n >= 10 && strspn(l[0].s, "_") == l[0].n)
		i = 1; /* Outlook's rule above the block */
	while (i < avail && i < 3 && l[i].n == 0)
		i++;
	if (i >= avail || !ANY(&l[i], starts_ci, header_from))
		return 0;
	for (size_t k = i + 1; k < avail && k <= i + 4; k++)
		if (ANY(&l[k], starts_ci, header_sent))
			return 1;
	return 0;
}

static int
signature_cut(const struct line *l)
{
	static const char *const mobile[] = {
		"Sent from my ", "Sent from Mail for Windows", "Sent from Outlook", "Sent from Yahoo Mail",
		"Sent from ProtonMail", "Sent from Proton Mail", "Sent with Proton Mail",
		"Sent from Samsung", "Sent via ", "Get Outlook for ", "Von meinem ", "Gesendet von ",
		"Envoyé de mon ", "Envoyé depuis ", "Enviado desde mi ",
		"Enviado do meu ", "Inviato da ", "Verzonden vanaf mijn ", "Skickat från min ",
	};

	if ((l->rawn == 3 && memcmp(l->raw, "-- ", 3) == 0) || (l->rawn == 2 && memcmp(l->raw, "--", 2) == 0))
		return 1;
	return l->n < 80 && ANY(l, starts_ci, mobile);
}

static size_t
split_lines(const char *text, struct line *lines, size_t max)
{
	size_t n = 0;
	const char *p = text;

	while (*p && n < max) {
		const char *eol = strchr(p, '\n');
		struct line *l = &lines[n++];

		if (eol == NULL)
			eol = p + strlen(p);
		l->raw = p;
		l->rawn = (size_t)(eol - p);
		l->s = p;
		while (l->s < eol && isspace((unsigned char)*l->s))
			l->s++;
		l->n = (size_t)(eol - l->s);
		while (l->n > 0 && isspace((unsigned char)l->s[l->n - 1]))
			l->n--;
		p = *eol ? eol + 1 : eol;
	}
	return n;
}

static int
keep_line(struct buf *out, const struct line *l, size_t *blank_run)
{
	if (l->n == 0) {
		(*blank_run)++;
		return 0;
	}
	if (out->len > 0 && buf_append(out, "\n\n", *blank_run > 0 ? 2 : 1) == -1)
		return -1;
	*blank_run = 0;
	return buf_append(out, l->raw, l->rawn);
}

char *
text_fresh(const char *text, enum fresh_cut *cut)
{
	size_t maxlines = 1, n, blank_run = 0;
	struct line *lines;
	struct buf out;

	for (const char *p = text; *p; p++)
		maxlines += *p == '\n';
	lines = calloc(maxlines, sizeof(*lines));
	if (lines == NULL)
		return NULL;
	n = split_lines(text, lines, maxlines);
	buf_init(&out, strlen(text) + 2);
	if (cut)
		*cut = FRESH_CUT_NONE;
	for (size_t i = 0; i < n; i++) {
		const struct line *l = &lines[i];
		enum fresh_cut here = FRESH_CUT_NONE;
		size_t skip;

		if (l->n > 0 && l->s[0] == '>')
			continue;
		if (signature_cut(l))
			here = FRESH_CUT_SIGNATURE;
		else if ((here = original_message(l)) == FRESH_CUT_NONE && header_block(l, n - i))
			here = FRESH_CUT_ORIGINAL;
		if (here != FRESH_CUT_NONE) {
			if (cut)
				*cut = here;
			break;
		}
		if ((skip = attribution(l, n - i)) > 0) {
			i += skip - 1;
			continue;
		}
		if (keep_line(&out, l, &blank_run) == -1) {
			buf_free(&out);
			free(lines);
			return NULL;
		}
	}
	free(lines);
	return buf_steal(&out);
}
