/*
 * act_organiser.c - mail from the organisers: commands sent with the
 * shared secret, and answers to tickets.
 *
 * Commands are lines of the fresh text (or, when the text holds none, the
 * subject), one per line, at most COMMANDS_MAX, case-insensitive verbs:
 *   status                  the programme's state (participants, Things, tickets)
 *   add ADDRESS [NAME]      a participant, active at once (the organiser's
 *                           word is the consent; no confirmation mail)
 *   remove ADDRESS          unsubscribed at once, without a goodbye
 *   close [TICKET]          closes a ticket (without a number: the one the
 *                           mail answers)
 * Lines holding the secret, and any other line, are not commands.  The
 * classifier only lets an organiser's address with the secret get here;
 * the message is recorded without its text (it holds the secret) and
 * the results go back to the organiser (DK_COMMAND_ANSWER).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "act.h"

#define COMMANDS_MAX 20
#define COMMAND_LINE_MAX 400

/* Copies the next line of *p (trimmed) into out; 0 at the end. */
static int
next_line(const char **p, char *out, size_t n)
{
	size_t len, start = 0;

	if (**p == '\0')
		return 0;
	len = strcspn(*p, "\n");
	while (start < len && isspace((unsigned char)(*p)[start]))
		start++;
	while (len > start && isspace((unsigned char)(*p)[len - 1]))
		len--;
	snprintf(out, n, "%.*s", (int)(len - start < n ? len - start : n - 1), *p + start);
	*p += strcspn(*p, "\n");
	if (**p == '\n')
		(*p)++;
	return 1;
}

/* The verb at the start of line if it is one; *args points after it. */
static const char *
verb_of(const char *line, const char **args)
{
	static const char *const verbs[] = { "status", "add", "remove", "close" };

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		size_t n = strlen(verbs[i]);

		if (strncasecmp(line, verbs[i], n) == 0 && (line[n] == '\0' || line[n] == ' ' ||
		    line[n] == '\t')) {
			*args = line + n + strspn(line + n, " \t");
			return verbs[i];
		}
	}
	return NULL;
}

static int
cmd_add(struct act *a, const char *args, struct buf *out)
{
	char addr[ADDR_MAX + 1], word[ADDR_MAX + 2];
	const char *name;
	struct participant p;
	struct err why;
	size_t n = strcspn(args, " \t");
	int rc;

	snprintf(word, sizeof(word), "%.*s", (int)(n < sizeof(word) ? n : sizeof(word) - 1), args);
	name = args + n + strspn(args + n, " \t");
	if (n == 0 || addr_normalize(word, addr, sizeof(addr), &why) == -1)
		return act_say(out, "not done: '%s' is not an address\n", word);
	rc = store_participant_add(a->r->st, addr, name, PS_ACTIVE, a->r->now, &p, a->e);
	if (rc == -1)
		return -1;
	if (rc == 0)
		return act_say(out, "%s added, active\n", addr);
	if (p.status == PS_ACTIVE)
		return act_say(out, "%s was active already\n", addr);
	if (store_participant_activate(a->r->st, p.id, a->r->now, a->e) == -1 ||
	    (*name != '\0' && store_participant_set_name(a->r->st, p.id, name, a->e) == -1))
		return -1;
	return act_say(out, "%s was %s, now active\n", addr, participant_status_name(p.status));
}

static int
cmd_remove(struct act *a, const char *args, struct buf *out)
{
	char addr[ADDR_MAX + 1];
	struct participant p;
	struct err why;
	int rc;

	if (addr_normalize(args, addr, sizeof(addr), &why) == -1)
		return act_say(out, "not done: '%s' is not an address\n", args);
	if ((rc = store_participant_by_address(a->r->st, addr, &p, a->e)) == -1)
		return -1;
	if (rc == 1)
		return act_say(out, "not done: %s is no participant\n", addr);
	if (p.status == PS_UNSUBSCRIBED)
		return act_say(out, "%s had left already\n", addr);
	if (store_participant_set_status(a->r->st, p.id, PS_UNSUBSCRIBED, a->r->now, a->e) == -1)
		return -1;
	return act_say(out, "%s removed (was %s)\n", addr, participant_status_name(p.status));
}

static int
cmd_close(struct act *a, const char *args, struct buf *out)
{
	int64_t id = a->r->in->ticket;
	int rc;

	if (*args == '#')
		args++;
	if (*args != '\0' && str_to_int64(args, 1, INT64_MAX, &id) == -1)
		return act_say(out, "not done: '%s' is not a ticket number\n", args);
	if (id == 0)
		return act_say(out, "not done: which ticket? (close NUMBER)\n");
	rc = store_ticket_close(a->r->st, id, TS_CLOSED, a->r->m->from_addr, a->r->now, a->e);
	if (rc == -1)
		return -1;
	return act_say(out, rc == 0 ? "ticket %lld closed\n" : "not done: ticket %lld is "
	    "not open\n", (long long)id);
}

/* Runs one command line: its result in out; 0, or -1 for a store error. */
static int
run_command(struct act *a, const char *verb, const char *args, const char *line,
    struct buf *out)
{
	act_say(out, "> %s\n", line);
	if (strcmp(verb, "status") == 0)
		return act_status_text(a->r->p, a->r->st, a->r->now, out, a->e);
	if (strcmp(verb, "add") == 0)
		return cmd_add(a, args, out);
	if (strcmp(verb, "remove") == 0)
		return cmd_remove(a, args, out);
	return cmd_close(a, args, out);
}

/* Runs the commands of text (NULL-safe); *count how many. */
static int
run_commands(struct act *a, const char *text, const char *secret, struct buf *out,
    int *count)
{
	char line[COMMAND_LINE_MAX];
	const char *p = text, *verb, *args;

	while (*count < COMMANDS_MAX && next_line(&p, line, sizeof(line))) {
		if (strstr(line, secret) != NULL || (verb = verb_of(line, &args)) == NULL)
			continue;
		(*count)++;
		if (run_command(a, verb, args, line, out) == -1)
			return -1;
		act_say(out, "\n");
	}
	return 0;
}

/* The subject without "Re:" and the like, for a command given there. */
static const char *
subject_command(const char *s)
{
	while (strncasecmp(s, "re:", 3) == 0 || strncasecmp(s, "aw:", 3) == 0)
		s += 3 + strspn(s + 3, " \t");
	return s;
}

int
act_command(struct act *a)
{
	const char *secret = a->r->p->cfg.organiser_secret;
	struct buf out;
	int count = 0, rc = -1;

	buf_init(&out, COMMAND_RESULT_MAX);
	/* The secret is in the text and maybe the subject: keep neither. */
	a->r->rec.body_text = NULL;
	if (strstr(a->r->rec.subject, secret) != NULL)
		a->r->rec.subject = "(organiser command)";
	if (run_commands(a, a->r->m->fresh_text, secret, &out, &count) == -1)
		goto out;
	if (count == 0 && run_commands(a, subject_command(a->r->m->subject), secret, &out,
	    &count) == -1)
		goto out;
	if (count == 0)
		buf_puts(&out, "No command found.  One per line: status, add ADDRESS [NAME], "
		    "remove ADDRESS, close TICKET.\n");
	if (out.len + COMMAND_LINE_MAX > out.max)
		log_warn("inbox: the answer to %s's commands may be cut (%zu bytes at most)",
		    a->r->m->from_addr, out.max);
	if ((rc = act_record(a, a->have_sender ? a->sender.id : 0, buf_str(&out))) != 0)
		goto out;
	log_info("inbox: %d command(s) from organiser %s", count, a->r->m->from_addr);
	rc = act_answer(a, 0, a->r->m->from_addr, DK_COMMAND_ANSWER, a->idkey);
out:
	buf_free(&out);
	return rc;
}

int
act_ticket_reply(struct act *a)
{
	int64_t id = a->r->in->ticket;
	char detail[128];
	int rc;

	rc = store_ticket_close(a->r->st, id, TS_ANSWERED, a->r->m->from_addr, a->r->now, a->e);
	if (rc == -1)
		return -1;
	snprintf(detail, sizeof(detail), rc == 0 ? "answer to ticket %lld: marked answered" :
	    "answer to ticket %lld, which was not open", (long long)id);
	return act_record(a, a->have_sender ? a->sender.id : 0, detail);
}
