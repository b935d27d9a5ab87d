/*
 * classify_host.c - a blog address written without a scheme: "My blog is
 * annreads.wordpress.com", "blog: www.annreads.net", "here's my blog -
 * annreads.blogspot.com/".  Classifier policy, not parsing: classify.c
 * asks only for the operand of a blog command in a message without an
 * http(s) link (the first word after the command, followed by nothing but
 * thanks: classify.h), and takes the blog only if exactly one host name
 * is found.
 *
 * A word (text between white space), after opening punctuation ( [ < " '
 * and non-letters outside ASCII such as “ «, is a host name if
 *  - it is two or more labels joined by dots, each label 1 to 63
 *    characters: ASCII letters and digits, hyphens (not first or last),
 *    and the letters a link may hold (inbox_url_char: Latin, Greek,
 *    Cyrillic), at most 253 bytes in all;
 *  - its last label is two or more letters, or an IDNA label ("xn--p1ai"):
 *    so "e.g.", "i.e.", "3.14" and "v1.2" are not;
 *  - its last label is not a file name extension: "notes.txt",
 *    "index.html", "Thing3.docx" are files.  Country domains that are
 *    extensions too (.md, .pl, .sh, .rs, .io, .ai) stay host names: blogs
 *    live there;
 *  - its last label is not the next sentence's first word typed without
 *    its space: "My blog is new.Will send it soon" ("new.Will");
 *  - what follows is nothing, a path ("/" and link characters) or closing
 *    punctuation only: "ann@annreads.net" (an address), "annreads.net's",
 *    "annreads.net:8080" are not;
 *  - without a path, it is not the bare name of a blogging platform: "My
 *    blog is on wordpress.com" names nobody's blog ("medium.com/@ann" does).
 * The URL is "https://", the host with ASCII letters in lower case, and the
 * path as written or "/": blogs are served over https today, the feed
 * look-up follows redirects, and the acknowledgement shows the URL taken
 * and says when no feed could be found there.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "classify.h"

#define HOST_MAX 253
#define LABEL_MAX 63

/* The bytes of a label character at s (at most n), 0 if none; *letter: 1
 * for a letter. */
static size_t
label_char(const char *s, size_t n, int *letter)
{
	unsigned char c = (unsigned char)s[0];
	size_t k;

	*letter = isalpha(c) != 0 || c >= 0x80;
	if (c < 0x80)
		return isalnum(c) || c == '-';
	k = inbox_url_char(s);
	return k <= n ? k : 0;
}

/* The bytes of the character at s (at most n) if it is punctuation that
 * may open (open) or close a word around a host name, else 0. */
static size_t
punctuation(const char *s, size_t n, int open)
{
	unsigned char c = (unsigned char)s[0];
	size_t k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;

	if (c < 0x80)
		return strchr(open ? "([<\"'" : ".,;:!?)]>\"'*", c) != NULL && c != '\0';
	/* “ ” « » 。 and the like; a letter is no punctuation */
	return k <= n && inbox_url_char(s) == 0 ? k : 0;
}

/* 1 if s[0..n) is one of the count words (any case). */
static int
one_of(const char *s, size_t n, const char *const *words, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (n == strlen(words[i]) && strncasecmp(s, words[i], n) == 0)
			return 1;
	return 0;
}

static int
file_extension(const char *s, size_t n)
{
	static const char *const exts[] = {
		"txt", "htm", "html", "xhtml", "shtml", "php", "asp", "aspx", "jsp", "js", "css",
		"json", "xml", "csv", "pdf", "doc", "docx", "odt", "rtf", "xls", "xlsx", "ods", "ppt",
		"pptx", "odp", "pages", "numbers", "epub", "mobi", "jpg", "jpeg", "png", "gif", "webp",
		"svg", "bmp", "tif", "tiff", "heic", "mp", "mpeg", "mpg", "wav", "ogg", "mov", "avi",
		"mkv", "webm", "zip", "gz", "tgz", "bz", "xz", "rar", "exe", "dmg", "msi", "apk",
		"iso", "eml", "msg", "ics", "vcf", "log", "bak", "tmp", "ini", "cfg", "conf", "dat",
		"db", "sql",
	};

	return one_of(s, n, exts, sizeof(exts) / sizeof(exts[0]));
}

/* Blogging platforms' own names: a blog is a page under one of them. */
static int
platform(const char *s, size_t n)
{
	static const char *const names[] = {
		"wordpress.com", "wordpress.org", "blogspot.com", "blogger.com", "medium.com",
		"substack.com", "tumblr.com", "wix.com", "wixsite.com", "squarespace.com",
		"weebly.com", "ghost.io", "ghost.org", "github.io", "github.com", "gitlab.io",
		"netlify.app", "livejournal.com", "typepad.com", "edublogs.org", "hashnode.dev",
		"dev.to", "write.as", "micro.blog", "jimdo.com", "sites.google.com", "google.com",
	};

	if (n > 4 && strncasecmp(s, "www.", 4) == 0)
		s += 4, n -= 4;
	return one_of(s, n, names, sizeof(names) / sizeof(names[0]));
}

/* 1 if the last label s[last..end) looks like the next sentence's first
 * word, typed without its space: "new.Will", "libraries.Thanks" (a
 * capital, then lower case, after a label in lower case). */
static int
sentence_break(const char *s, size_t prev, size_t last, size_t end)
{
	int lower = 0;

	if (!isupper((unsigned char)s[last]))
		return 0;
	for (size_t i = last + 1; i < end; i++)
		lower |= islower((unsigned char)s[i]) != 0;
	for (size_t i = prev; i + 1 < last; i++)
		if (isupper((unsigned char)s[i]))
			return 0;
	return lower;
}

/* The bytes of the host name at the start of s[0..n), 0 if none. */
static size_t
host_at(const char *s, size_t n)
{
	size_t i = 0, prev = 0, last = 0, chars = 0, letters = 0, labels = 0, k;
	int letter;

	for (;;) {
		prev = last;
		last = i;
		chars = letters = 0;
		while (i < n && (k = label_char(s + i, n - i, &letter)) > 0) {
			i += k;
			chars++;
			letters += (size_t)letter;
		}
		if (chars == 0 || chars > LABEL_MAX || s[last] == '-' || s[i - 1] == '-')
			return 0;
		labels++;
		if (i + 1 < n && s[i] == '.' && label_char(s + i + 1, n - i - 1, &letter) > 0)
			i++;
		else
			break;
	}
	if (labels < 2 || i > HOST_MAX || file_extension(s + last, i - last) ||
	    sentence_break(s, prev, last, i))
		return 0;
	if ((chars >= 2 && letters == chars) ||
	    (chars > 4 && strncasecmp(s + last, "xn--", 4) == 0))
		return i;
	return 0;
}

/* 1 if s[0..n) closes (with the bracket it ends with) more than it opens. */
static int
unopened(const char *s, size_t n, char open)
{
	size_t opened = 0, closed = 0;

	for (size_t i = 0; i < n; i++) {
		opened += s[i] == open;
		closed += s[i] == s[n - 1];
	}
	return closed > opened;
}

/* If the word s[0..n) is a host name (with a path), its URL into url
 * (INBOX_MAX_URL + 1 bytes) and 1; else 0. */
static int
word_url(const char *s, size_t n, char *url)
{
	size_t i = 0, host, path, end, k;
	int len;

	while (i < n && (k = punctuation(s + i, n - i, 1)) > 0)
		i += k;
	s += i, n -= i;
	if ((host = host_at(s, n)) == 0)
		return 0;
	path = host;
	if (path < n && s[path] == '/') {
		while (path < n && (k = inbox_url_char(s + path)) > 0 && path + k <= n)
			path += k;
		/* sentence punctuation, and a ) ] that the path did not open */
		while (path > host + 1 && (strchr(".,;:!?'*", s[path - 1]) != NULL ||
		    (s[path - 1] == ')' && unopened(s + host, path - host, '(')) ||
		    (s[path - 1] == ']' && unopened(s + host, path - host, '['))))
			path--;
	}
	for (end = path; end < n; end += k)
		if ((k = punctuation(s + end, n - end, 0)) == 0)
			return 0;
	if (path == host && platform(s, host))
		return 0;
	len = snprintf(url, INBOX_MAX_URL + 1, "https://%.*s%.*s", (int)host, s,
	    path > host ? (int)(path - host) : 1, path > host ? s + host : "/");
	if (len < 0 || len > INBOX_MAX_URL)
		return 0;
	for (char *p = url + 8; p < url + 8 + host; p++)
		*p = (char)tolower((unsigned char)*p);
	return 1;
}

static void
add_url(struct classify_hosts *h, const char *url)
{
	if (h->n == 0)
		snprintf(h->url, sizeof(h->url), "%s", url);
	if (h->n == 0 || strcmp(h->url, url) != 0)
		h->n++;
}

/* The host names of s[0..n) into h; the number of words in *words. */
static void
scan(struct classify_hosts *h, const char *s, size_t n, size_t *words)
{
	char url[INBOX_MAX_URL + 1];
	size_t i = 0, w;

	*words = 0;
	for (;;) {
		while (i < n && isspace((unsigned char)s[i]))
			i++;
		for (w = 0; i + w < n && !isspace((unsigned char)s[i + w]); w++)
			;
		if (w == 0)
			return;
		++*words;
		if (word_url(s + i, w, url))
			add_url(h, url);
		i += w;
	}
}

void
classify_hosts_scan(struct classify_hosts *h, const char *s, size_t n)
{
	size_t words;

	scan(h, s, n, &words);
}

/* 1 if s[0..n) holds a letter or a digit. */
static int
has_word(const char *s, size_t n)
{
	int letter;

	for (size_t i = 0; i < n; i++)
		if (label_char(s + i, n - i, &letter) > 0 && s[i] != '-')
			return 1;
	return 0;
}

/* The next word of s[0..n) from *i: its start, its length in *w (0 at
 * the end). */
static const char *
next_word(const char *s, size_t n, size_t *i, size_t *w)
{
	while (*i < n && isspace((unsigned char)s[*i]))
		++*i;
	for (*w = 0; *i + *w < n && !isspace((unsigned char)s[*i + *w]); ++*w)
		;
	s += *i;
	*i += *w;
	return s;
}

/* 1 if the word s[0..n), its punctuation aside, is one of words. */
static int
bare_word_of(const char *s, size_t n, const char *const *words, size_t count)
{
	while (n > 0 && strchr(".,;:!?()-", s[n - 1]) != NULL)
		n--;
	while (n > 0 && strchr("(-", s[0]) != NULL)
		s++, n--;
	return one_of(s, n, words, count);
}

void
classify_hosts_operand(struct classify_hosts *h, const char *s, size_t n)
{
	/* "my blog is at HOST", "my new blog is HOST", "blog address: HOST" */
	static const char *const joins[] = { "is", "at", "on", "now" };
	/* what may follow the host: thanks, or the same host again */
	static const char *const tails[] = {
		"thanks", "thank", "you", "thx", "ta", "cheers", "please", "x",
	};
	struct classify_hosts next = { 0 };
	char url[INBOX_MAX_URL + 1], again[INBOX_MAX_URL + 1];
	const char *p = s + n, *word;
	size_t words, len, i = 0, w, joined = 0;

	if (!has_word(s, n)) {
		p += strspn(p, " \t\r\n");
		len = strcspn(p, "\n");
		scan(&next, p, len, &words);
		if (words == 1 && next.n == 1)
			add_url(h, next.url);
		return;
	}
	do
		word = next_word(s, n, &i, &w);
	while (w > 0 && (!has_word(word, w) ||
	    (joined++ < 2 && one_of(word, w, joins, sizeof(joins) / sizeof(joins[0])))));
	if (w == 0 || !word_url(word, w, url))
		return;
	for (word = next_word(s, n, &i, &w); w > 0; word = next_word(s, n, &i, &w))
		if (has_word(word, w) && !bare_word_of(word, w, tails, sizeof(tails) / sizeof(tails[0])) &&
		    !(word_url(word, w, again) && strcmp(again, url) == 0))
			return;
	add_url(h, url);
}
