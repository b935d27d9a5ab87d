/*
 * rfc2047.h (private to mailer/) - writing RFC 5322 header fields that are
 * safe whatever text they carry: RFC 2047 encoded-words for non-ASCII text,
 * quoting for display names with specials, folding at 78 columns.
 *
 * Every function here writes a complete field "Name: value\r\n" into a
 * struct buf.  Untrusted text (a participant's name, the subject of their
 * mail) can never add a line, a field or a MIME boundary: control
 * characters become spaces, invalid UTF-8 becomes U+FFFD, and the only CR
 * and LF written are the folds and the final line end.
 *
 * libetpan writes header fields but does not RFC 2047-encode them, and its
 * writer hard-breaks any run of 998 characters (even in the middle of an
 * encoded-word); hence this small hand-written encoder.
 */
#ifndef THINGS_MAILER_RFC2047_H
#define THINGS_MAILER_RFC2047_H

#include <stddef.h>

#include "../util/util.h"

#define RFC2047_LINE_MAX 78     /* fold target for every line we write */
#define RFC2047_WORD_MAX 75     /* longest encoded-word (RFC 2047 section 2) */
#define RFC2047_PHRASE_MAX 256  /* display names are cut (at a character) here */
#define RFC2047_TEXT_MAX 512    /* unstructured values (Subject) are cut here */

/* Writes text made fit for a header into out (appended): every byte
 * sequence that is not valid UTF-8 becomes U+FFFD, every control character
 * (C0, DEL) becomes a space, runs of spaces collapse to one, both ends are
 * trimmed, and the result is cut at a character boundary to at most max
 * bytes.  0, or -1 if out is full. */
int rfc2047_clean(struct buf *out, const char *text, size_t max);

/* Writes an unstructured field (RFC 5322 section 3.2.5), e.g. Subject.
 * Plain folded words when the cleaned value is printable ASCII without
 * "=?" and with no word too long to fold; otherwise encoded-words (Q or B,
 * whichever is shorter), each at most 75 characters, one character never
 * split across two words.  0, or -1 with a reason. */
int rfc2047_unstructured(struct buf *out, const char *name, const char *value,
    struct err *e);

/* Writes "Name: phrase <angle>" for a mailbox (From, To, Reply-To) or a
 * List-Id.  The phrase (may be NULL or "") is written as atoms when it is
 * plain ASCII words, as a quoted-string when it holds specials and fits,
 * and as encoded-words otherwise.  angle must be an address or id made of
 * printable ASCII (or UTF-8) with none of space, "<>()[],;:\\\"": anything
 * else is refused (-1), never written. */
int rfc2047_mailbox(struct buf *out, const char *name, const char *phrase,
    const char *angle, struct err *e);

/* Length of the valid UTF-8 sequence at p (n > 0 bytes there), or 0 if the
 * bytes there are not one (overlongs, surrogates and code points past
 * U+10FFFF are not). */
size_t rfc2047_utf8_len(const unsigned char *p, size_t n);

/* 1 if s may stand between angle brackets in a header: 1..max bytes, no
 * control characters, space or "<>()[],;:\\\"", else 0. */
int rfc2047_angle_ok(const char *s, size_t max);

/* Writes "Name: " and then each of the n items, separated by sep (e.g.
 * ", " or " "), folding between items so that lines stay within 78
 * columns where an item allows it.  Items are written as given and must
 * not hold control characters (refused with -1). */
int rfc2047_list(struct buf *out, const char *name, const char *const *items, size_t n,
    const char *sep, struct err *e);

#endif
