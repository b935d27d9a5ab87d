/*
 * classify.c - what a parsed message asks for.  Pure: no I/O, no state.
 *
 * The rules, first match wins:
 *
 *  1. Bounces.  A DSN (multipart/report; report-type=delivery-status) is
 *     II_BOUNCE.  So is any mail to the VERP address things+bounce-TOKEN@
 *     (token from the sub-address), because many MTAs bounce in plain text
 *     -- except a vacation notice (X-Autoreply, Precedence: auto_reply, an
 *     out-of-office subject), which vacation(1)-style responders send to the
 *     envelope sender: that is II_AUTOREPLY, not a failed delivery.
 *     An abuse report (multipart/report; report-type=feedback-report: a
 *     mailbox provider's feedback loop relaying a recipient's "this is
 *     spam") is no failed delivery: with our token, in the VERP address
 *     it was sent to or in the report (Original-Mail-From, the enclosed
 *     original's Return-Path, List-Unsubscribe, To), it is II_UNSUBSCRIBE
 *     with that token (a complainer must get no more mail, as the big
 *     providers require of bulk senders); without one, II_UNKNOWN, for
 *     the organisers to read (classify_bounce.c).
 *  2. things+unsubscribe[-TOKEN]@ is II_UNSUBSCRIBE even from an automated
 *     sender: mail clients answer a List-Unsubscribe mailto with generated
 *     mail, and an unsubscribe must never be lost.
 *  3. Automatic mail is II_AUTOREPLY and never answered (RFC 3834):
 *     Auto-Submitted other than "no" and its X- cousins, Precedence
 *     bulk/junk/list, List-Id/List-Unsubscribe, a null Return-Path, an
 *     out-of-office subject, a sender such as mailer-daemon@ or noreply@.
 *  3a. From an organiser, with organiser commands on (ctx->organiser_secret)
 *     and the secret in the subject or the fresh text: II_COMMAND (the
 *     commands are read by the handler).  Without the secret an
 *     organiser's mail is ordinary mail, except:
 *  3b. from an organiser, an answer to a help request (ctx->ticket):
 *     II_TICKET_REPLY.
 *  4. Plus-address commands on any recipient (To, Cc, Delivered-To, ...)
 *     at the programme's local part + delimiter: +subscribe, +confirm-TOKEN,
 *     +help, +blog (without a link, the one host name written in the
 *     subject or the first fresh line, made https:// as classify_host.c
 *     says; II_HELP without either), +done-N (II_REFLECTION on
 *     Thing N, with the first link or none), +alternate (II_ALTERNATE with
 *     the first address in the subject or the first fresh line, or
 *     "none"; II_HELP without either).  An unknown or malformed command is
 *     ignored and the content decides.
 *  5. Command words at the start of the subject (after "Re:", "AW:",
 *     "[tag]" ...; a forwarded subject, "Fwd:", commands nothing) or of
 *     the first line of fresh text (after a greeting
 *     line such as "Hi Things,"), case-insensitive, after an optional
 *     "please": subscribe/join/register/sign me up, unsubscribe/stop/
 *     leave/remove me/take me off/opt out, confirm, help/question/?, "my
 *     blog is"/"blog:", "alternate [address] ADDRESS" (or "alternate
 *     none"; not a command without one of them: "Alternate ways to..." is
 *     content).  A polite lead-in ("I would like to", "could you", "I
 *     want to"...), or a "?" in the line, leaves only the commands with
 *     no everyday sense (unsubscribe, remove me, take me off, opt out,
 *     cancel my subscription, subscribe, sign me up, help, question):
 *     "I want to leave a comment", "Can you stop sending me two copies?",
 *     "I would like to join the meetup" command nothing, "Could you
 *     unsubscribe me?" does.
 *     A subscribe carries the first link (a blog to register).  A blog
 *     command without a link takes the host name that is its operand: the
 *     first word after its words (and "is", "at", "on", ":", "-"), with
 *     nothing after it on the line but thanks, or alone on the next line
 *     ("My blog is annreads.wordpress.com", "blog:\nwww.annreads.net";
 *     after words alone in the subject, alone on the first fresh line),
 *     made https:// as classify_host.c says; with none, two, or a question
 *     in the text, it is II_HELP.  A host name anywhere else is no blog:
 *     "My blog is down, errors from cloudflare.com" is II_HELP, "I use
 *     blogger.com for my blog" commands nothing.  Words people also use in
 *     passing (stop, leave, join, register, blog) at the start of
 *     the text yield to rule 6 when there is a Thing and a link: "Stop
 *     motion video for Thing 7: https://..." is a reflection.
 *  6. A reply to a Thing (ctx->reply_to_thing, or "Thing N" / "Thing #N"
 *     in the subject or the first fresh lines, 1 <= N <= nthings) with a
 *     link is II_REFLECTION on that Thing with the first link.
 *  7. A participant's link with words like "my blog" is II_BLOG.
 *  8. A participant's question ("?" in the fresh text), or a reply to a
 *     Thing without a link, is II_HELP.
 *  9. Anything else is II_UNKNOWN: forwarded to the organisers, never
 *     answered with "no such command".
 * A help request (II_HELP, by any rule) names the Thing it concerns when
 * rule 6 would find one.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "act.h"
#include "classify.h"

const char *
inbox_intent_name(enum inbox_intent_kind k)
{
	static const char *const names[II_COUNT] = {
		"subscribe", "confirm", "reflection", "blog", "help", "unsubscribe", "bounce",
		"autoreply", "unknown", "command", "ticket-reply", "alternate",
	};

	return (unsigned)k < II_COUNT ? names[k] : "invalid";
}

struct command {
	const char *words;
	enum inbox_intent_kind kind;
	int whole;    /* must be the whole line (apart from punctuation) */
	int weak;     /* an everyday word too ("Stop motion video for Thing 7"):
	               * at the start of the text it yields to a Thing reply
	               * with a link */
	int polite;   /* may follow a polite lead-in ("could you", "I want
	               * to") and stand in a question: no everyday sense to
	               * mistake ("Can you stop sending me two copies?" and "I
	               * want to leave a comment" are no unsubscribe; "Can you
	               * confirm the date?" carries no token) */
};

static const struct command commands[] = {
	{ "unsubscribe", II_UNSUBSCRIBE, 0, 0, 1 },
	{ "remove me", II_UNSUBSCRIBE, 0, 0, 1 },
	{ "take me off", II_UNSUBSCRIBE, 0, 0, 1 },
	{ "opt out", II_UNSUBSCRIBE, 0, 0, 1 },
	{ "opt-out", II_UNSUBSCRIBE, 0, 0, 1 },
	{ "stop", II_UNSUBSCRIBE, 0, 1, 0 },
	{ "leave", II_UNSUBSCRIBE, 0, 1, 0 },
	{ "cancel my subscription", II_UNSUBSCRIBE, 0, 0, 1 },
	{ "subscribe", II_SUBSCRIBE, 0, 0, 1 },
	{ "sign me up", II_SUBSCRIBE, 0, 0, 1 },
	{ "join", II_SUBSCRIBE, 0, 1, 0 },
	{ "register", II_SUBSCRIBE, 0, 1, 0 },
	{ "confirm", II_CONFIRM, 0, 0, 0 },
	{ "help", II_HELP, 0, 0, 1 },      /* a lost cry for help costs more */
	{ "question", II_HELP, 0, 0, 1 },
	{ "?", II_HELP, 1, 0, 1 },
	{ "my blog is", II_BLOG, 0, 1, 0 },
	{ "my blog:", II_BLOG, 0, 1, 0 },
	{ "my new blog", II_BLOG, 0, 1, 0 },
	{ "here is my blog", II_BLOG, 0, 1, 0 },
	{ "here's my blog", II_BLOG, 0, 1, 0 },
	{ "blog:", II_BLOG, 0, 1, 0 },
	{ "blog address", II_BLOG, 0, 1, 0 },
	{ "blog url", II_BLOG, 0, 1, 0 },
	{ "blog", II_BLOG, 1, 1, 0 },
	{ "alternate", II_ALTERNATE, 0, 0, 0 },   /* only with an address or "none" */
	{ "alternative", II_ALTERNATE, 0, 0, 0 },
	{ "backup address", II_ALTERNATE, 0, 0, 0 },
};

static int
has_question(const char *s)
{
	for (const char *p = strchr(s, '?'); p != NULL; p = strchr(p + 1, '?'))
		if (!isalnum((unsigned char)p[1]) && p[1] != '=' && p[1] != '&' && p[1] != '/' &&
		    p[1] != '%')
			return 1;
	return 0;
}

/* s after a polite lead-in: "please", "I would like to", "could you
 * (please)" ... ("I would like to unsubscribe", "Could you remove me").
 * *led: 1 if a lead-in other than a bare "please" was there ("please" is
 * an imperative's: "Please stop" is a command). */
static const char *
command_start(const char *s, int *led)
{
	static const char *const leads[] = {
		"i would like to ", "i'd like to ", "i\u2019d like to ", "i want to ", "i wish to ",
		"could you ", "can you ", "would you ",
	};

	*led = 0;
	for (size_t i = 0; i < sizeof(leads) / sizeof(leads[0]); i++)
		if (strncasecmp(s, leads[i], strlen(leads[i])) == 0) {
			s += strlen(leads[i]);
			*led = 1;
			break;
		}
	if (strncasecmp(s, "please ", 7) == 0)
		s += 7;
	return s;
}

/* The command a line starts with, or NULL.  After a lead-in, or in a
 * line that asks a question, only a polite command counts. */
static const struct command *
command_at(const char *line)
{
	int led;
	const char *s = command_start(line, &led);

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *c = &commands[i];
		size_t n = strlen(c->words);
		const char *rest = s + n;

		if (strncasecmp(s, c->words, n) != 0)
			continue;
		if (!c->polite && (led || has_question(line)))
			return NULL;
		if (c->whole) {
			rest += strspn(rest, " .!?:");
			if (*rest == '\0')
				return c;
		} else if (classify_word_end(rest[0]) || classify_word_end(c->words[n - 1])) {
			return c;
		}
	}
	return NULL;
}

/* What follows command c at the start of s (as command_at found it). */
static const char *
command_rest(const char *s, const struct command *c)
{
	int led;

	return command_start(s, &led) + strlen(c->words);
}

/* A 24-hex-digit word anywhere in s. */
static int
find_token(const char *s, char *out)
{
	for (const char *p = s; *p; p++) {
		size_t n = 0;

		if (p > s && isalnum((unsigned char)p[-1]))
			continue;
		while (n <= TOKEN_HEX_LEN && isxdigit((unsigned char)p[n]))
			n++;
		if (n == TOKEN_HEX_LEN && !isalnum((unsigned char)p[n])) {
			for (size_t i = 0; i < n; i++)
				out[i] = (char)tolower((unsigned char)p[i]);
			out[n] = '\0';
			return 1;
		}
	}
	return 0;
}

/* "Thing 3", "thing #3", "Thing no. 3" with 1 <= N <= nthings, else 0. */
static int
thing_in(const char *s, size_t len, int nthings)
{
	for (size_t i = 0; i + 5 < len; i++) {
		size_t j = i + 5;
		int n = 0, digits = 0;

		if (strncasecmp(s + i, "thing", 5) != 0 || (i > 0 && isalnum((unsigned char)s[i - 1])))
			continue;
		while (j < len && s[j] == ' ')
			j++;
		if (j < len && s[j] == '#')
			j++;
		else if (j + 2 < len && (strncasecmp(s + j, "no", 2) == 0 || strncasecmp(s + j, "nr", 2) == 0))
			j += 2 + (s[j + 2] == '.');
		while (j < len && s[j] == ' ')
			j++;
		while (j < len && isdigit((unsigned char)s[j]) && digits < 4)
			n = n * 10 + (s[j++] - '0'), digits++;
		if (digits > 0 && digits < 4 && (j == len || !isdigit((unsigned char)s[j])) &&
		    n >= 1 && n <= nthings)
			return n;
	}
	return 0;
}

static int
thing_referenced(const struct inbox_message *m, const struct inbox_context *ctx)
{
	const char *p = m->fresh_text;
	int t;

	if (ctx->reply_to_thing >= 1 && ctx->reply_to_thing <= ctx->nthings)
		return ctx->reply_to_thing;
	if ((t = thing_in(m->subject, strlen(m->subject), ctx->nthings)) > 0)
		return t;
	for (int line = 0; line < 3 && *p; line++) {
		size_t n = strcspn(p, "\n");

		if ((t = thing_in(p, n, ctx->nthings)) > 0)
			return t;
		p += n;
		p += strspn(p, "\n");
	}
	return 0;
}

static int
mentions_blog(const char *s)
{
	static const char *const words[] = {
		"my blog", "my new blog", "blog is", "blog address", "blog url", "my website",
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasestr(s, words[i]) != NULL)
			return 1;
	return 0;
}

/* Why a message is automatic, or NULL. */
static const char *
automatic(const struct inbox_message *m)
{
	static const char *const senders[] = {
		"mailer-daemon", "postmaster", "noreply", "no-reply", "no_reply", "donotreply",
		"do-not-reply", "do_not_reply",
	};
	size_t local = strcspn(m->from_addr, "@");

	if (m->auto_submitted)
		return "automatic reply or automated mail (Auto-Submitted and similar headers)";
	if (m->null_sender)
		return "null sender (Return-Path <>)";
	if (m->bulk)
		return "bulk or list mail (Precedence, List-Id, List-Unsubscribe)";
	if (m->vacation_subject)
		return "out-of-office subject";
	for (size_t i = 0; i < sizeof(senders) / sizeof(senders[0]); i++)
		if (local >= strlen(senders[i]) && strncmp(m->from_addr, senders[i], strlen(senders[i])) == 0)
			return "automated sender address";
	return NULL;
}

static void
decide(struct inbox_intent *out, enum inbox_intent_kind kind, const char *reason)
{
	out->kind = kind;
	out->reason = reason;
}

/* A blog command in a message without a link may name the blog without
 * "https://" (classify_host.c).  Only one host name, and no question (a
 * person should read it): then out->url is out->url_buf and 1. */
static int
take_host(const struct inbox_message *m, const struct classify_hosts *h,
    struct inbox_intent *out)
{
	if (h->n != 1 || has_question(m->fresh_text))
		return 0;
	snprintf(out->url_buf, sizeof(out->url_buf), "%s", h->url);
	out->url = out->url_buf;
	return 1;
}

/* +blog without a link: a host name in the subject or the first line. */
static int
plus_blog_host(const struct inbox_message *m, struct inbox_intent *out)
{
	struct classify_hosts h = { 0 };
	const char *words = classify_subject_words(m->subject, NULL), *line;
	size_t len;

	line = classify_first_line_at(m->fresh_text, &len);
	classify_hosts_scan(&h, words, strlen(words));
	classify_hosts_scan(&h, line, len);
	return take_host(m, &h, out);
}

/* Blog words without a link: the host name that is their operand, the
 * first word after them on their line with nothing after it but thanks
 * (or alone on the next line): "My blog is down since Monday, errors from
 * cloudflare.com" names no blog.  After words in the subject, the first
 * line may name it alone, and must not name another.  words is the
 * subject's words or the copy of the first line that c starts. */
/* 1 if s holds a letter or a digit (any script), not only punctuation. */
static int
has_letters(const char *s)
{
	for (; *s; s++)
		if (isalnum((unsigned char)*s) || (unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

static int
words_blog_host(const struct inbox_message *m, const struct command *c, const char *words,
    int in_subject, struct inbox_intent *out)
{
	struct classify_hosts h = { 0 };
	size_t len, rest = (size_t)(command_rest(words, c) - words);
	const char *line = classify_first_line_at(m->fresh_text, &len);

	if (in_subject && has_letters(words + rest)) {
		classify_hosts_operand(&h, words + rest, strlen(words + rest));
		if (h.n == 1)
			classify_hosts_scan(&h, line, len);
	} else if (in_subject) {
		classify_hosts_operand(&h, line, len);
	} else if (rest <= len) {
		classify_hosts_operand(&h, line + rest, len - rest);
	}
	return take_host(m, &h, out);
}

/* Rule 4: a command in a recipient's sub-address.  1 if one decided. */
static int
plus_command(const struct inbox_message *m, const struct inbox_context *ctx,
    struct inbox_intent *out)
{
	const char *p = m->to_addrs, *url = m->nlinks > 0 ? m->links[0] : NULL;
	char tag[128];

	for (; *p; p += strspn(p, " ")) {
		size_t n = strcspn(p, " ");
		int64_t thing;

		if (ctx->address == NULL || ctx->delimiter == '\0' || !classify_plus_tag(p, n, ctx, tag, sizeof(tag))) {
			p += n;
			continue;
		}
		p += n;
		if (strcmp(tag, "subscribe") == 0) {
			out->url = url;
			decide(out, II_SUBSCRIBE, "subscribe address");
		} else if (strncmp(tag, "confirm-", 8) == 0 && token_valid(tag + 8)) {
			memcpy(out->token, tag + 8, TOKEN_HEX_LEN + 1);
			decide(out, II_CONFIRM, "confirm address with its token");
		} else if (strcmp(tag, "help") == 0) {
			decide(out, II_HELP, "help address");
		} else if (strcmp(tag, "blog") == 0 && url != NULL) {
			out->url = url;
			decide(out, II_BLOG, "blog address with a link");
		} else if (strcmp(tag, "blog") == 0) {
			if (plus_blog_host(m, out))
				decide(out, II_BLOG, "blog address with a host name, no link: https");
			else
				decide(out, II_HELP, "blog address without a link: send help");
		} else if (strcmp(tag, "alternate") == 0) {
			char line[256];

			classify_first_line(m->fresh_text, line, sizeof(line));
			if (alternate_first(classify_subject_words(m->subject, NULL), out->address) ||
			    alternate_first(line, out->address))
				decide(out, II_ALTERNATE, "alternate address");
			else
				decide(out, II_HELP, "alternate address without an address: send help");
		} else if (strncmp(tag, "done-", 5) == 0 &&
		    str_to_int64(tag + 5, 1, ctx->nthings, &thing) == 0) {
			out->thing = (int)thing;
			out->url = url;
			decide(out, II_REFLECTION, "done-N address");
		} else {
			continue;
		}
		return 1;
	}
	return 0;
}

/* Rule 5: a command word in the subject or the first fresh line. */
static int
word_command(const struct inbox_message *m, const struct inbox_context *ctx,
    struct inbox_intent *out)
{
	static const char *const in_subject[II_COUNT] = {
		[II_SUBSCRIBE] = "subscribe word in the subject",
		[II_CONFIRM] = "confirm word in the subject",
		[II_HELP] = "help word in the subject",
		[II_UNSUBSCRIBE] = "unsubscribe word in the subject",
		[II_BLOG] = "blog words in the subject",
		[II_ALTERNATE] = "alternate word in the subject, an address in it or the text",
	};
	static const char *const in_text[II_COUNT] = {
		[II_SUBSCRIBE] = "subscribe word in the text",
		[II_CONFIRM] = "confirm word in the text",
		[II_HELP] = "help word in the text",
		[II_UNSUBSCRIBE] = "unsubscribe word in the text",
		[II_BLOG] = "blog words in the text",
		[II_ALTERNATE] = "alternate word in the text with an address",
	};
	const char *url = m->nlinks > 0 ? m->links[0] : NULL;
	const char *const *reasons = in_subject;
	const char *words = classify_subject_words(m->subject, NULL);
	const struct command *c;
	enum inbox_intent_kind k;
	char line[256];

	c = command_at(words);
	classify_first_line(m->fresh_text, line, sizeof(line));
	/* "Subject: alternate address" may leave the address to the text */
	if (c != NULL && c->kind == II_ALTERNATE) {
		if (alternate_operand(command_rest(words, c), out->address) ||
		    alternate_first(line, out->address)) {
			decide(out, II_ALTERNATE, in_subject[II_ALTERNATE]);
			return 1;
		}
		c = NULL;
	}
	if (c == NULL) {
		words = line;
		c = command_at(line);
		reasons = in_text;
		if (c != NULL && c->weak && url != NULL && thing_referenced(m, ctx) > 0)
			return 0;
	}
	if (c == NULL)
		return 0;
	k = c->kind;
	if (k == II_ALTERNATE) {
		if (!alternate_operand(command_rest(words, c), out->address))
			return 0; /* "Alternate ways to..." */
		decide(out, k, reasons[k]);
		return 1;
	}
	if (k == II_SUBSCRIBE || k == II_BLOG)
		out->url = url;
	if (k == II_CONFIRM && !find_token(m->subject, out->token))
		find_token(m->fresh_text, out->token);
	if (k == II_BLOG && url == NULL) {
		if (words_blog_host(m, c, words, reasons == in_subject, out))
			decide(out, II_BLOG, "blog words with a host name, no link: https");
		else
			decide(out, II_HELP, "blog words without a link: send help");
	} else {
		decide(out, k, reasons[k]);
	}
	return 1;
}

/* Rules 3a and 3b: organisers.  1 if one decided. */
static int
organiser_rules(const struct inbox_message *m, const struct inbox_context *ctx,
    struct inbox_intent *out)
{
	const char *secret = ctx->organiser_secret;

	if (!ctx->from_organiser)
		return 0;
	out->ticket = ctx->ticket;
	if (secret != NULL && secret[0] != '\0' &&
	    (strstr(m->subject, secret) != NULL || strstr(m->fresh_text, secret) != NULL)) {
		decide(out, II_COMMAND, "organiser's commands, with the secret");
		return 1;
	}
	if (ctx->ticket > 0) {
		decide(out, II_TICKET_REPLY, "organiser's answer to a help request");
		return 1;
	}
	out->ticket = 0;
	return 0;
}

/* Rules 6 to 9: what the content says. */
static void
content_rules(const struct inbox_message *m, const struct inbox_context *ctx,
    struct inbox_intent *out)
{
	const char *url = m->nlinks > 0 ? m->links[0] : NULL;
	int thing = thing_referenced(m, ctx);

	if (thing > 0 && url != NULL) {
		out->thing = thing;
		out->url = url;
		decide(out, II_REFLECTION, ctx->reply_to_thing == thing ? "reply to a Thing with a link"
									: "names a Thing and has a link");
	} else if (ctx->from_participant && url != NULL && mentions_blog(m->fresh_text)) {
		out->url = url;
		decide(out, II_BLOG, "participant's link with words about a blog");
	} else if (thing > 0) {
		out->thing = thing;
		decide(out, II_HELP, "reply to a Thing without a link");
	} else if (ctx->from_participant && has_question(m->fresh_text)) {
		decide(out, II_HELP, "participant's question");
	} else {
		decide(out, II_UNKNOWN, "not a command, a reflection or a question Things "
		    "recognises: for a person to read");
	}
}

void
inbox_classify(const struct inbox_message *m, const struct inbox_context *ctx,
    struct inbox_intent *out)
{
	const char *why;

	memset(out, 0, sizeof(*out));
	if (classify_address_rules(m, ctx, out))
		return;
	if ((why = automatic(m)) != NULL) {
		decide(out, II_AUTOREPLY, why);
		return;
	}
	if (organiser_rules(m, ctx, out))
		return;
	if (!plus_command(m, ctx, out) && !word_command(m, ctx, out))
		content_rules(m, ctx, out);
	/* The organisers are told which Thing a help request concerns. */
	if (out->kind == II_HELP && out->thing == 0)
		out->thing = thing_referenced(m, ctx);
}
