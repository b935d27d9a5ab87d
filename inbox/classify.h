/*
 * classify.h (private to inbox/) - the text helpers of the classifier:
 * plus-address tags and the words at the start of a subject or a text
 * (classify_text.c), used by the rules (classify.c, alternate.c).
 */
#ifndef THINGS_INBOX_CLASSIFY_H
#define THINGS_INBOX_CLASSIFY_H

#include "inbox.h"

/* If addr (n bytes) is local+TAG@domain of the programme, copies TAG. */
int classify_plus_tag(const char *addr, size_t n, const struct inbox_context *ctx, char *tag,
    size_t tagn);

/* Finds the first recipient whose tag starts with prefix; copies the tag. */
int classify_find_tag(const struct inbox_message *m, const struct inbox_context *ctx,
    const char *prefix, char *tag, size_t tagn);

/* The same among addrs (space separated addresses). */
int classify_find_tag_in(const char *addrs, const struct inbox_context *ctx, const char *prefix,
    char *tag, size_t tagn);

/* "bounce-TOKEN" -> token into out ("" if not a valid token). */
void classify_tag_token(const char *tag, const char *cmd, char *out);

/* 1 if c ends a word: NUL, a space, ASCII punctuation (not a letter or
 * digit, nor a byte of a UTF-8 sequence). */
int classify_word_end(char c);

/* Skips reply prefixes ("Re:", "AW:", "SV:", ...) and "[list tags]".  A
 * forwarded subject ("Fwd:", "WG:", "TR:") is someone else's words: the
 * result is then "" so that it commands nothing, and *forwarded (may be
 * NULL) is set. */
const char *classify_subject_words(const char *s, int *forwarded);

/* Copies the first line of text into out (bounded), after a greeting:
 * "Hi Things,\n\nPlease unsubscribe me" and "Hi, please unsubscribe me"
 * both give "Please unsubscribe me". */
void classify_first_line(const char *text, char *out, size_t n);
/* The same line where it is in text, its length in *len (no copy). */
const char *classify_first_line_at(const char *text, size_t *len);

/* --- classify_bounce.c: rules 1 and 2 ----------------------------------- */

/* Delivery and abuse reports, mail to the bounce and unsubscribe
 * addresses: 1 if one decided *out (kind, reason, token), else 0. */
int classify_address_rules(const struct inbox_message *m, const struct inbox_context *ctx,
    struct inbox_intent *out);

/* --- classify_host.c: a blog written without a scheme ------------------ */

/* The host names a blog command names without "http(s)://": one is the
 * blog, more are ambiguous. */
struct classify_hosts {
	int n;                          /* distinct host names seen */
	char url[INBOX_MAX_URL + 1];    /* "https://host/path" of the first */
};

/* Adds to h the host names written in s[0..n), where s is NUL-terminated
 * at or after n: the words (between white space) that are a host name,
 * optionally with a path, within opening and closing punctuation (the
 * rule is at the top of classify_host.c). */
void classify_hosts_scan(struct classify_hosts *h, const char *s, size_t n);

/* The operand of a blog command: s[0..n) is what follows its words to the
 * end of their line, s NUL-terminated at or after n.  Its first word
 * (after punctuation and up to two of "is", "at", "on", "now") is added
 * if it is a host name and nothing follows it but punctuation, thanks
 * ("thanks", "cheers", "thank you", ...) or the same host again; else
 * nothing is ("My blog is down, see cloudflare.com").  When s[0..n) is
 * only punctuation ("My blog is:"), the next non-blank line of the text
 * counts if it holds one host name alone. */
void classify_hosts_operand(struct classify_hosts *h, const char *s, size_t n);

#endif
