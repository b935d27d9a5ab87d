/* digest.c - `things digest`: when the weekly digest goes out, what the
 * last one covered, and (--preview) the next one written to a file
 * without sending anything. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../mailer/mailer.h"
#include "cli.h"

static const char *const weekdays[] = { "Sunday", "Monday", "Tuesday", "Wednesday",
	"Thursday", "Friday", "Saturday" };

struct digest_args {
	int preview;
	const char *to;       /* a participant's address, or NULL: a sample reader */
	const char *out;      /* NULL: standard output */
	enum { RAW, TEXT, HTML } what;
	int64_t now;
};

static int
parse_digest_args(struct cli *c, struct digest_args *a)
{
	a->now = time_now();
	for (int i = 0; i < c->argc; i++) {
		const char *arg = c->argv[i];
		int more = i + 1 < c->argc, rc = cli_now_option(c, &i, &a->now);

		if (rc == -1)
			return -1;
		if (rc == 1)
			continue;
		if (strcmp(arg, "--preview") == 0)
			a->preview = 1;
		else if (strcmp(arg, "--to") == 0 && more)
			a->to = c->argv[++i];
		else if (strcmp(arg, "--out") == 0 && more)
			a->out = c->argv[++i];
		else if (strcmp(arg, "--raw") == 0)
			a->what = RAW;
		else if (strcmp(arg, "--text") == 0)
			a->what = TEXT;
		else if (strcmp(arg, "--html") == 0)
			a->what = HTML;
		else
			goto usage;
	}
	if (!a->preview && (a->to || a->out || a->what != RAW))
		goto usage;
	return 0;
usage:
	fprintf(stderr, "usage: things -c FILE digest [--now TIMESTAMP]\n"
	    "       things -c FILE digest --preview [--to ADDRESS] [--out FILE]"
	    " [--raw|--text|--html] [--now TIMESTAMP]\n");
	return -1;
}

int
cli_digest_report(const struct programme *p, struct store *st, struct err *e)
{
	struct digest_edition last;
	char when[32];
	int rc;

	if (!p->cfg.digest_enabled) {
		printf("Digest: off ([digest] enabled = no).\n");
		return 0;
	}
	printf("Digest: %ss at %02d:00.", weekdays[p->cfg.digest_weekday], p->cfg.digest_hour);
	if ((rc = store_digest_last(st, &last, e)) == -1)
		return -1;
	if (rc == 1) {
		printf(" None made yet.\n");
		return 0;
	}
	time_format_local(last.created_at, when, sizeof(when));
	printf(" Last: %s, made %s: %d posts, for %d participants.\n", last.week, when,
	    last.posts, last.recipients);
	return 0;
}

/* Writes s to path (or standard output), every step checked. */
static int
write_out(const char *path, const char *s, struct err *e)
{
	FILE *f = path ? fopen(path, "w") : stdout;
	size_t len = strlen(s);

	if (f == NULL)
		return err_set(e, "cannot write %s: %s", path, strerror(errno));
	int failed = fwrite(s, 1, len, f) != len;
	int saved = errno;

	/* closed whether or not the write went through */
	if ((path ? fclose(f) : fflush(f)) != 0 && !failed) {
		failed = 1;
		saved = errno;
	}
	if (failed)
		return err_set(e, "cannot write %s: %s", path ? path : "the output",
		    strerror(saved));
	return 0;
}

/* The reader of the preview: a participant of the store, or a sample who
 * sees every post. */
static int
preview_reader(const struct programme *p, struct store *st, const char *to,
    struct participant *out, struct err *e)
{
	char addr[ADDR_MAX + 1];
	int rc;

	memset(out, 0, sizeof(*out));
	if (to == NULL) {
		snprintf(out->address, sizeof(out->address), "participant@%s",
		    addr_domain(p->cfg.address));
		snprintf(out->name, sizeof(out->name), "Sam Sample");
		snprintf(out->token, sizeof(out->token), "%0*d", TOKEN_HEX_LEN, 0);
		out->status = PS_ACTIVE;
		return 0;
	}
	if (addr_normalize(to, addr, sizeof(addr), e) == -1)
		return -1;
	if ((rc = store_participant_by_address(st, addr, out, e)) == -1)
		return -1;
	return rc == 1 ? err_set(e, "%s is not a participant", addr) : 0;
}

static int
preview(const struct programme *p, struct store *st, const struct digest_args *a,
    struct err *e)
{
	struct participant reader;
	struct mailer *m = NULL;
	const char *text, *html;
	char week[STORE_WEEK_MAX + 1] = "";
	struct buf raw;
	int rc = -1;

	buf_init(&raw, 0);
	if (preview_reader(p, st, a->to, &reader, e) == -1 || mailer_new(p, st, &m, e) == -1)
		goto out;
	rc = mailer_preview_digest(m, &reader, a->now, &raw, &text, &html, week, sizeof(week), e);
	if (rc == 1) {
		fprintf(stderr, "%s: nothing new for %s since the last digest: no digest would"
		    " be sent.\n",
		    week, reader.address);
		rc = 0;
	} else if (rc == 0) {
		rc = write_out(a->out, a->what == RAW ? buf_str(&raw) : a->what == HTML ? html :
		    text, e);
		if (rc == 0 && a->out != NULL)
			fprintf(stderr, "%s: the digest %s would get is in %s (nothing was sent).\n",
			    week,
			    reader.address, a->out);
	}
out:
	buf_free(&raw);
	mailer_free(m);
	return rc;
}

int
cmd_digest(struct cli *c)
{
	struct digest_args a = { 0 };
	struct programme *p = NULL;
	struct store *st = NULL;
	struct mailer *m = NULL;
	int64_t moment;
	int due, status = EXIT_FAIL;
	struct err e;

	if (parse_digest_args(c, &a) == -1)
		return EXIT_USAGE;
	if (cli_open(c, &p, &st) == -1)
		return EXIT_FAIL;
	if (a.preview) {
		if (preview(p, st, &a, &e) == 0)
			status = EXIT_OK;
		goto out;
	}
	if (cli_digest_report(p, st, &e) == -1 || mailer_new(p, st, &m, &e) == -1 ||
	    (due = mailer_digest_due(m, a.now, &moment, &e)) == -1)
		goto out;
	if (p->cfg.digest_enabled) {
		char when[32];

		time_format_local(moment, when, sizeof(when));
		printf("This week's digest time: %s: %s.\n", when, due ? "due at the next run" :
		    moment < p->cfg.start ? "before the programme's start, none" : "made");
	}
	status = EXIT_OK;
out:
	if (status != EXIT_OK)
		fprintf(stderr, "things: %s\n", e.msg);
	mailer_free(m);
	store_close(st);
	programme_free(p);
	return status;
}
