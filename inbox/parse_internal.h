/*
 * parse_internal.h - helpers shared by the files of inbox_parse (parse*.c,
 * mime_*.c, charset.c, html_text.c).  Not a public interface: nothing
 * outside inbox/ includes it.
 *
 * Every function here takes untrusted bytes and is total: malformed input
 * gives a best-effort result.  -1 (or NULL) means out of memory only.
 */
#ifndef THINGS_INBOX_PARSE_INTERNAL_H
#define THINGS_INBOX_PARSE_INTERNAL_H

#include <stddef.h>

#include <libetpan/libetpan.h>

#include "../util/util.h"
#include "inbox.h"

/* Caps on what the walk of a parsed tree looks at (libetpan's own parse is
 * guarded in parse.c before it runs). */
#define MIME_MAX_DEPTH 32
#define MIME_MAX_PARTS 256
#define MIME_MAX_PARAMS 64
/* Encoded bytes of one text part handed to the decoder: QP can triple the
 * size of text, so this still fills INBOX_MAX_TEXT. */
#define MIME_MAX_ENCODED_PART (4 * INBOX_MAX_TEXT)
/* Raw header value handed to the RFC 2047 decoder. */
#define HEADER_MAX_RAW ((size_t)16 << 10)
#define SUBJECT_MAX 1000
#define NAME_MAX_BYTES 256
#define ATTACH_MAX_NAMES 16
#define ATTACH_MAX_BYTES 2048

/* --- charset.c --------------------------------------------------------- */

/* Converts len bytes labelled charset (NULL or "" when unlabelled) to UTF-8
 * with charconv.  An unknown charset (or a label that is no plain name:
 * "utf-8//IGNORE", paths), bytes the charset does not define,
 * and 8-bit bytes labelled us-ascii all fall back to "valid UTF-8 as is,
 * every other byte as windows-1252"; ISO-8859-1 labels are read as
 * windows-1252 (what every mail client does with Outlook's smart quotes).
 * Returns a malloc'd string and its length in *outlen (may be NULL), or
 * NULL when out of memory. */
char *charset_to_utf8(const char *charset, const char *in, size_t len, size_t *outlen);

/* The largest m <= n such that s[0..m) does not end inside a UTF-8
 * sequence (s is valid UTF-8 or repaired). */
size_t utf8_clip(const char *s, size_t n);

/* How many bytes of s[0..n) are c. */
size_t count_byte(const char *s, size_t n, char c);

/* Appends as much of s[0..n) as fits under b->max, cut at a character
 * boundary; sets *cut (if not NULL) when something was left out.  -1 only
 * when out of memory. */
int buf_append_clipped(struct buf *b, const char *s, size_t n, int *cut);

/* --- mime_words.c: RFC 2047 ------------------------------------------ */

/* Decodes a header value: encoded words (RFC 2047, any charset, adjacent
 * words of one charset joined before conversion so that a character split
 * between them survives), raw 8-bit text repaired to UTF-8, folding and
 * white space squashed to one line, control and invisible formatting
 * characters (bidi overrides, zero-width) removed, at most max bytes.
 * Only the first HEADER_MAX_RAW bytes of raw are read.  NULL only when out
 * of memory. */
char *mime_header_decode(const char *raw, size_t len, size_t max);

/* Removes a pair of surrounding double quotes and backslash escapes from a
 * display name as libetpan returns it, in place. */
void mime_unquote(char *s);

/* --- mime_param.c: RFC 2231 ------------------------------------------ */

/* The parameters of one Content-Type or Content-Disposition, as pointers
 * into the libetpan tree (valid while the tree lives). */
struct mime_params {
	size_t n;
	const char *name[MIME_MAX_PARAMS];
	const char *value[MIME_MAX_PARAMS];
};

void mime_params_of_content(const struct mailmime_content *ct, struct mime_params *p);
void mime_params_of_disposition(const struct mailmime_disposition *d, struct mime_params *p);

/* Looks up a parameter by name (case-insensitive), decoding RFC 2231:
 * name*=charset'lang'%XX, continuations name*0, name*1*, ... (in any
 * order) and their charsets; the extended form wins over a plain one.
 * 1 found (*out is malloc'd UTF-8, not squashed: callers check what they
 * accept), 0 absent, -1 out of memory. */
int mime_param_get(const struct mime_params *p, const char *name, char **out);

/* --- mime_walk.c / mime_dsn.c ------------------------------------------ */

/* Fills m->text, text_from_html, text_truncated, attachments and the DSN
 * fields from the MIME tree of a message (root is the MAILMIME_MESSAGE
 * node mailmime_parse returned).  message/rfc822 parts (forwarded mail) are
 * not descended.  -1 only when out of memory. */
int mime_walk_body(struct mailmime *root, struct inbox_message *m);

/* Parses the body of a message/delivery-status part (RFC 3464) into the
 * DSN fields of m: the first recipient block whose Action is "failed", else
 * the first with a Final-Recipient.  -1 only when out of memory. */
int mime_dsn_parse(const char *body, size_t len, struct inbox_message *m);

/* --- mime_report.c: abuse reports (RFC 5965) ---------------------------- */

/* Adds to m->report_addrs the addresses that may carry our token: with
 * in_report, the Original-Mail-From of a message/feedback-report body;
 * else the Return-Path, List-Unsubscribe and To of the original message's
 * header (a text/rfc822-headers body).  -1 only when out of memory. */
int mime_report_fields(const char *body, size_t len, int in_report, struct inbox_message *m);
/* The same from a message/rfc822 part libetpan parsed. */
int mime_report_original(const struct mailmime *msg, struct inbox_message *m);

/* The decoded content of a single part (transfer encoding undone), at
 * most max encoded bytes read.  Malloc'd in *out (NUL-terminated) with its
 * length; 0, or -1 when out of memory. */
int mime_part_decode(const struct mailmime *part, size_t max, char **out, size_t *outlen);

/* --- parse_headers.c ---------------------------------------------------- */

/* Fills the header fields of m from the top-level header fields.
 * -1 only when out of memory. */
int parse_headers(const struct mailimf_fields *fields, struct inbox_message *m);

/* The addresses of a header value (with list, an address list if it
 * parses as one; else every address-looking run around an "@", as in
 * "<mailto:a@b.example?subject=x>"), normalized, deduplicated, at most max
 * into out.  Their number, or (size_t)-1 when out of memory. */
size_t parse_header_addresses(const char *v, int list, char (*out)[ADDR_MAX + 1], size_t max);
/* The same for an address list libetpan parsed (NULL: none). */
size_t parse_list_addresses(const struct mailimf_address_list *al, char (*out)[ADDR_MAX + 1],
    size_t max);

/* 1 if the subject starts like a vacation notice ("Out of office", ...). */
int parse_vacation_subject(const char *subject);

/* --- html_text.c ------------------------------------------------------- */

/* Appends the readable text of an HTML document (UTF-8) to b: text nodes
 * not under script/style/head, block elements as line breaks, blockquotes
 * (and Gmail/Yahoo/Thunderbird quote containers) as "> " lines, the http(s)
 * target of a link as " <URL>" after its text.  -1 only when out of memory
 * (a full b just stops the text). */
int html_to_text(const char *html, size_t len, struct buf *b);

/* --- parse_text.c ------------------------------------------------------ */

/* Appends s to b with line ends as LF, without NUL and other control
 * characters (tab and LF stay), no-break spaces as spaces, zero-width
 * spaces and byte order marks removed; clipped at b->max (sets *cut). */
int text_clean_append(struct buf *b, const char *s, size_t n, int *cut);

/* Undoes format=flowed (RFC 3676): a line ending in a space is joined to
 * the next line of the same quote depth; with delsp the space goes too.
 * Space-stuffing is removed; quoted lines come out as "> text".  Malloc'd;
 * NULL only when out of memory. */
char *text_unflow(const char *s, int delsp);

/* --- parse_fresh.c ----------------------------------------------------- */

/* Where text_fresh stopped reading (before the end: at what). */
enum fresh_cut {
	FRESH_CUT_NONE,       /* it read to the end */
	FRESH_CUT_SIGNATURE,  /* "-- " or "Sent from my ..." */
	FRESH_CUT_ORIGINAL,   /* "-----Original Message-----" or a "From:/Sent:" block */
	FRESH_CUT_FORWARD,    /* "---------- Forwarded message ---------", "Begin forwarded
	                       * message:" and their translations */
};

/* The part of text its sender wrote now: without quoted lines (">"),
 * reply attributions ("On ... wrote:", "Le ... a écrit :", "Am ...
 * schrieb ...:"), everything after an Outlook "-----Original Message-----"
 * line or "From:/Sent:" header block, a forwarded message, a "-- "
 * signature or a "Sent from my ..." line.  *cut (may be NULL) says where it
 * stopped.  Malloc'd; NULL only when out of memory. */
char *text_fresh(const char *text, enum fresh_cut *cut);

/* --- parse_links.c ----------------------------------------------------- */

/* Collects the http and https URLs of text into m->links (bare or in
 * <...>, trailing punctuation and unbalanced closing brackets dropped,
 * deduplicated, at most INBOX_MAX_LINKS, none longer than INBOX_MAX_URL).
 * -1 only when out of memory. */
int links_extract(const char *text, struct inbox_message *m);

#endif
