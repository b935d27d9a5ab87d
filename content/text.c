/*
 * text.c - Markdown to plain text, for the text/plain part.
 *
 * cmark 0.30 has no plain-text renderer (its CommonMark renderer keeps the
 * syntax), so this walks the tree: blocks recursively (their depth is
 * capped), inlines with cmark's iterator (emphasis can nest deeply).
 * Paragraphs are wrapped at 72 columns counted in code points; a link is
 * "text [n]" with the URLs listed at the end.
 */
#include <cmark.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content_int.h"

#define PREFIX_MAX 512
#define LINKS_MAX 500
#define MIN_WIDTH 20
#define GLUE TEXT_GLUE
#define HARD_BREAK TEXT_HARD_BREAK

struct text_out {
	struct buf *out;
	char *links[LINKS_MAX];
	size_t nlinks;
	int failed;                 /* out of room or memory */
	size_t lines;               /* lines written so far */
	int pending;                /* a blank line is owed before the next line */
	char pending_prefix[PREFIX_MAX];
};

/* --- output lines -------------------------------------------------------- */

/* Called before a block writes its first line: pays the blank line owed
 * to the previous block. */
static void
begin_block(struct text_out *tx)
{
	if (tx->pending) {
		tx->pending = 0;
		if (text_line(tx->out, tx->pending_prefix, "", 0) == -1)
			tx->failed = 1;
	}
	tx->lines++;
}

static void
emit_line(struct text_out *tx, const char *prefix, const char *text, size_t n)
{
	begin_block(tx);
	if (text_line(tx->out, prefix, text, n) == -1)
		tx->failed = 1;
}

static void
owe_blank_line(struct text_out *tx, const char *prefix)
{
	tx->pending = 1;
	snprintf(tx->pending_prefix, sizeof(tx->pending_prefix), "%s", prefix);
}

/* Writes a paragraph or heading text.  With a placeholder in it, the
 * wrapping waits for content_personalise (see TEXT_DEFER_OPEN). */
static void
emit_flow(struct text_out *tx, const char *text, size_t len, const char *first,
    const char *rest, char underline)
{
	int rc;

	begin_block(tx);
	if (memmem(text, len, PH_OPEN, 3) == NULL) {
		rc = text_wrap(tx->out, text, len, first, rest, underline);
	} else {
		rc = buf_printf(tx->out, "%c%s%c%s%c%c", TEXT_DEFER_OPEN, first, TEXT_DEFER_SEP,
		    rest, TEXT_DEFER_SEP, underline ? underline : '0');
		rc |= buf_append(tx->out, text, len);
		rc |= buf_putc(tx->out, TEXT_DEFER_CLOSE);
	}
	if (rc == -1)
		tx->failed = 1;
}

/* --- inlines ------------------------------------------------------------- */

/* A copy of url without control characters: a link destination in angle
 * brackets may hold them, and they mean something to the text part. */
static char *
clean_url(const char *url)
{
	char *c = strdup(url), *w = c;

	if (c == NULL)
		return NULL;
	for (const char *r = url; *r; r++)
		if ((unsigned char)*r >= 0x20 && *r != 0x7f)
			*w++ = *r;
	*w = '\0';
	return c;
}

/* The number of url in the "Links:" list, added if new; 0 if the list is
 * full (the URL is then shown inline). */
static size_t
link_number(struct text_out *tx, const char *url)
{
	for (size_t i = 0; i < tx->nlinks; i++)
		if (strcmp(tx->links[i], url) == 0)
			return i + 1;
	if (tx->nlinks == LINKS_MAX)
		return 0;
	if ((tx->links[tx->nlinks] = clean_url(url)) == NULL) {
		tx->failed = 1;
		return 0;
	}
	return ++tx->nlinks;
}

/* Appends literal text, dropping control characters and turning tabs into
 * spaces (the wrapper owns line breaks).  glue_spaces keeps short code
 * spans on one line. */
static void
put_literal(struct buf *b, const char *s, int glue_spaces)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\t' || c == ' ')
			buf_putc(b, glue_spaces ? GLUE : ' ');
		else if (c >= 0x20 && c != 0x7f)
			buf_putc(b, (char)c);
	}
}

/* What a link becomes once its text (b from `start` on) is collected. */
static void
finish_link(struct text_out *tx, struct buf *b, size_t start, const char *raw_url)
{
	const char *text = buf_str(b) + start;
	char *url = raw_url ? clean_url(raw_url) : NULL;
	size_t n;

	if (url == NULL || *url == '\0' || url_is_dangerous(url, strlen(url)))
		; /* just the text */
	else if (*text == '\0')
		buf_puts(b, url);
	else if (strcmp(text, url) == 0 ||
	    (strncmp(url, "mailto:", 7) == 0 && strcmp(text, url + 7) == 0))
		; /* a bare link: shown once, inline */
	else if ((n = link_number(tx, url)) == 0)
		buf_printf(b, "%c<%s>", GLUE, url);
	else
		buf_printf(b, "%c[%zu]", GLUE, n);
	free(url);
}

static void
finish_image(struct buf *b, size_t start)
{
	char *alt = strdup(buf_str(b) + start);

	b->len = start;
	if (b->data)
		b->data[start] = '\0';
	if (alt == NULL || *alt == '\0')
		buf_puts(b, "[image]");
	else
		buf_printf(b, "[image:%c%s]", GLUE, alt);
	free(alt);
}

/* Collects the inline content of a paragraph or heading into b. */
static void
collect_inlines(struct text_out *tx, cmark_node *block, struct buf *b)
{
	cmark_iter *it = cmark_iter_new(block);
	size_t starts[CONTENT_MAX_NESTING];
	size_t depth = 0, skipped = 0;
	cmark_event_type ev;

	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		int type = cmark_node_get_type(n);
		const char *lit;

		if (n == block)
			continue;
		switch (type) {
		case CMARK_NODE_TEXT:
			put_literal(b, cmark_node_get_literal(n), 0);
			break;
		case CMARK_NODE_CODE:
			lit = cmark_node_get_literal(n);
			put_literal(b, lit, strlen(lit) <= 40);
			break;
		case CMARK_NODE_SOFTBREAK:
			buf_putc(b, ' ');
			break;
		case CMARK_NODE_LINEBREAK:
			buf_putc(b, HARD_BREAK);
			break;
		case CMARK_NODE_LINK:
		case CMARK_NODE_IMAGE:
			if (ev == CMARK_EVENT_ENTER) {
				if (depth < CONTENT_MAX_NESTING)
					starts[depth++] = b->len;
				else
					skipped++;
			} else if (skipped > 0) {
				skipped--;
			} else if (type == CMARK_NODE_LINK) {
				finish_link(tx, b, starts[--depth], cmark_node_get_url(n));
			} else {
				finish_image(b, starts[--depth]);
			}
			break;
		default: /* emphasis is plain text; raw HTML is dropped */
			break;
		}
	}
	cmark_iter_free(it);
}

/* --- blocks -------------------------------------------------------------- */

static int render_block(struct text_out *tx, cmark_node *n, const char *first,
    const char *rest, int depth);

/* Renders the children of a container, a blank line between them unless
 * tight.  The first child that writes anything gets `first`. */
static void
render_children(struct text_out *tx, cmark_node *parent, const char *first, const char *rest,
    int tight, int depth)
{
	int wrote = 0;

	for (cmark_node *c = cmark_node_first_child(parent); c; c = cmark_node_next(c)) {
		size_t before = tx->lines;

		if (wrote && !tight)
			owe_blank_line(tx, rest);
		if (render_block(tx, c, wrote ? rest : first, rest, depth + 1) == -1)
			return;
		wrote |= tx->lines > before;
	}
	tx->pending = 0; /* a blank line owed to a child that wrote nothing */
}

static int
join(char *out, const char *a, const char *b)
{
	int n = snprintf(out, PREFIX_MAX, "%s%s", a, b);

	return n < 0 || n >= PREFIX_MAX ? -1 : 0;
}

static void
render_list(struct text_out *tx, cmark_node *list, const char *first, const char *rest,
    int depth)
{
	int ordered = cmark_node_get_list_type(list) == CMARK_ORDERED_LIST;
	int tight = cmark_node_get_list_tight(list), number = cmark_node_get_list_start(list);
	char delim = cmark_node_get_list_delim(list) == CMARK_PAREN_DELIM ? ')' : '.';
	int items = 0, width;
	char last[16];

	for (cmark_node *i = cmark_node_first_child(list); i; i = cmark_node_next(i))
		items++;
	width = snprintf(last, sizeof(last), "%d%c ", number + (items ? items - 1 : 0), delim);
	for (cmark_node *item = cmark_node_first_child(list); item; item = cmark_node_next(item)) {
		char marker[24], f[PREFIX_MAX], r[PREFIX_MAX];
		size_t before = tx->lines;

		if (ordered)
			snprintf(marker, sizeof(marker), "%*d%c ", width - 2, number++, delim);
		else
			snprintf(marker, sizeof(marker), "- ");
		if (join(f, first, marker) == -1 ||
		    snprintf(r, sizeof(r), "%s%*s", rest, (int)strlen(marker), "") >= PREFIX_MAX) {
			tx->failed = 1;
			return;
		}
		render_children(tx, item, f, r, tight, depth);
		if (tx->lines == before) /* an empty item still shows its marker */
			emit_line(tx, f, "", 0);
		if (!tight && cmark_node_next(item))
			owe_blank_line(tx, rest);
		first = rest;
	}
}

static void
render_heading(struct text_out *tx, cmark_node *n, const char *first, const char *rest)
{
	int level = cmark_node_get_heading_level(n);
	struct buf text;

	buf_init(&text, tx->out->max);
	collect_inlines(tx, n, &text);
	if (text.len > 0)
		emit_flow(tx, buf_str(&text), text.len, first, rest,
		    level == 1 ? '=' : level == 2 ? '-' : 0);
	buf_free(&text);
}

static void
render_code(struct text_out *tx, cmark_node *n, const char *first, const char *rest)
{
	const char *p = cmark_node_get_literal(n), *prefix = first;
	char f[PREFIX_MAX], r[PREFIX_MAX];

	if (join(f, first, "    ") == -1 || join(r, rest, "    ") == -1) {
		tx->failed = 1;
		return;
	}
	prefix = f;
	while (p && *p) {
		size_t len = strcspn(p, "\n");

		emit_line(tx, prefix, p, len);
		prefix = r;
		p += len + (p[len] == '\n');
	}
}

static void
render_rule(struct text_out *tx, const char *first)
{
	char rule[CONTENT_TEXT_WIDTH + 1];
	long w = (long)CONTENT_TEXT_WIDTH - (long)utf8_width(first, strlen(first));

	if (w < MIN_WIDTH)
		w = MIN_WIDTH;
	memset(rule, '-', (size_t)w);
	emit_line(tx, first, rule, (size_t)w);
}

/* Writes one block; -1 (and tx->failed) when nested too deep. */
static int
render_block(struct text_out *tx, cmark_node *n, const char *first, const char *rest,
    int depth)
{
	char f[PREFIX_MAX], r[PREFIX_MAX];
	struct buf text;

	if (depth > CONTENT_MAX_NESTING) {
		tx->failed = 2;
		return -1;
	}
	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_PARAGRAPH:
		buf_init(&text, tx->out->max);
		collect_inlines(tx, n, &text);
		if (text.len > 0)
			emit_flow(tx, buf_str(&text), text.len, first, rest, 0);
		buf_free(&text);
		break;
	case CMARK_NODE_HEADING:
		render_heading(tx, n, first, rest);
		break;
	case CMARK_NODE_BLOCK_QUOTE:
		if (join(f, first, "> ") == -1 || join(r, rest, "> ") == -1) {
			tx->failed = 1;
			return -1;
		}
		render_children(tx, n, f, r, 0, depth);
		break;
	case CMARK_NODE_LIST:
		render_list(tx, n, first, rest, depth);
		break;
	case CMARK_NODE_CODE_BLOCK:
		render_code(tx, n, first, rest);
		break;
	case CMARK_NODE_THEMATIC_BREAK:
		render_rule(tx, first);
		break;
	default: /* raw HTML blocks have no plain-text form */
		break;
	}
	return tx->failed == 2 ? -1 : 0;
}

int
render_text(const char *markdown, size_t len, struct buf *out, struct err *e)
{
	struct text_out tx = { .out = out };
	int opts = CMARK_OPT_SMART | CMARK_OPT_VALIDATE_UTF8;
	cmark_node *doc;

	doc = cmark_parse_document(markdown, len, opts);
	if (doc == NULL)
		return err_set(e, "cmark: out of memory");
	render_children(&tx, doc, "", "", 0, 0);
	cmark_node_free(doc);
	if (tx.nlinks > 0 && tx.failed == 0) {
		emit_line(&tx, "", "", 0);
		emit_line(&tx, "", "Links:", 6);
		for (size_t i = 0; i < tx.nlinks; i++)
			if (buf_printf(out, "[%zu] %s\n", i + 1, tx.links[i]) == -1)
				tx.failed = 1;
	}
	for (size_t i = 0; i < tx.nlinks; i++)
		free(tx.links[i]);
	if (tx.failed == 2)
		return err_set(e, "the Markdown is nested more than %d levels deep",
		    CONTENT_MAX_NESTING);
	if (tx.failed)
		return err_set(e, "the text part is larger than %zu bytes", out->max);
	return 0;
}
