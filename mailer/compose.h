/*
 * compose.h (private to mailer/) - one message from plain parts: header
 * values and the two rendered bodies in, RFC 5322 + MIME bytes out.
 *
 * Nothing here knows kinds, templates or the store (message.c maps a
 * delivery onto a compose_spec), so that the byte-level format can be
 * tested on its own, hostile input included.
 */
#ifndef THINGS_MAILER_COMPOSE_H
#define THINGS_MAILER_COMPOSE_H

#include <stddef.h>
#include <stdint.h>

#include "../util/util.h"

#define COMPOSE_MESSAGE_MAX ((size_t)24 << 20) /* a composed message, bytes: room for content's largest parts, encoded */

enum compose_auto {
	COMPOSE_AUTO_NONE,       /* no Auto-Submitted field */
	COMPOSE_AUTO_GENERATED,  /* "auto-generated": Things, digests, forwards */
	COMPOSE_AUTO_REPLIED,    /* "auto-replied": answers to a participant's mail */
};

/* What a message says.  Strings are borrowed for the call.  NULL (or "")
 * optional fields are left out. */
struct compose_spec {
	const char *from_name;       /* programme name; any text */
	const char *from_addr;       /* required */
	const char *to_name;         /* any text, may be NULL */
	const char *to_addr;         /* required */
	const char *reply_to_name;   /* forwards: the participant */
	const char *reply_to_addr;   /* optional */
	const char *subject;         /* any text: cleaned and encoded */
	int64_t date;
	const char *message_id;      /* required, without brackets */
	const char *in_reply_to;     /* without brackets; dropped if malformed */
	const char *list_name;       /* List-Id phrase, may be NULL */
	const char *list_id;         /* optional, without brackets */
	const char *unsubscribe_mailto; /* "mailto:..." URL, optional */
	const char *unsubscribe_https;  /* "https://..." URL, optional: adds one-click */
	const char *help_mailto;     /* "mailto:..." URL for List-Help, optional */
	int bulk;                    /* 1: Precedence: bulk */
	enum compose_auto auto_submitted;
	const char *text;            /* text/plain body, UTF-8 (invalid bytes replaced) */
	size_t text_len;
	const char *html;            /* text/html body, UTF-8 */
	size_t html_len;
};

/* Writes the complete message described by s into out (reset first): CRLF
 * line ends, every header field at most once, multipart/alternative with
 * text/plain then text/html, both charset utf-8 in quoted-printable or
 * base64 (whichever is shorter), and a boundary drawn from the CSPRNG for
 * each message.  Refuses (-1 with a reason) required fields that are
 * missing, addresses or ids that could break a header, URLs with control
 * characters, spaces, "<", ">" or ",". */
int compose_message(const struct compose_spec *s, struct buf *out, struct err *e);

#endif
