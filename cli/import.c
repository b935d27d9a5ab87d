/* import.c - `things import FILE`: add a cohort at once.
 *
 * One participant per line: an address, then optionally a name after a
 * comma or white space ("ann@example.org, Ann Archivist"); blank lines and
 * lines starting with # are skipped; quotes around the address and the
 * name are dropped.  That is all a spreadsheet's "address,name" export
 * needs, so no CSV library: a quoted field with an embedded newline is not
 * supported and is reported as a bad line.  What spreadsheets add is taken
 * in stride: the UTF-8 byte order mark Excel's "CSV UTF-8" starts the file
 * with (else it would become part of the first address), and a header row
 * ("Email,Name"): a first line with no @ in it, which cannot be anyone.
 * Every problem is reported as FILE:LINE: message and nothing is added
 * unless every line is good (one transaction), so a typo never leaves half
 * a cohort in. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define IMPORT_LINE_MAX 1024

/* A spreadsheet writes a quote inside a quoted field as two (RFC 4180):
 * "Carl ""The Cat"" Jones" is Carl "The Cat" Jones.  Undoes that in place. */
static void
import_unquote(char *s)
{
	char *out = s;

	for (; *s != '\0'; s++) {
		*out++ = *s;
		if (s[0] == '"' && s[1] == '"')
			s++;
	}
	*out = '\0';
}

/* Splits line into address and name (both pointing into line). */
static int
import_split(char *line, char **addr, char **name)
{
	char *p = line + strspn(line, " \t");
	char *end;

	if (*p == '"' && (end = strchr(p + 1, '"')) != NULL) {
		/* "ann@example.org","Ann" */
		*addr = p + 1;
		*end = '\0';
		p = end + 1;
	} else {
		*addr = p;
		p += strcspn(p, " \t,;");
		if (*p != '\0')
			*p++ = '\0';
	}
	p += strspn(p, " \t,;");
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (end - p >= 2 && *p == '"' && end[-1] == '"') {
		end[-1] = '\0';
		p++;
		import_unquote(p);
	}
	*name = p;
	return **addr != '\0';
}

static int
import_line(struct store *st, const char *file, int lineno, char *line, int64_t now,
    int *added, int *known)
{
	char norm[ADDR_MAX + 1], *addr, *name;
	struct participant p;
	struct err e;
	int rc;

	if (!import_split(line, &addr, &name) || addr[0] == '#')
		return 0;
	if (addr_normalize(addr, norm, sizeof(norm), &e) == -1) {
		fprintf(stderr, "%s:%d: %s%s\n", file, lineno, e.msg, strchr(name, '@') ?
		    " (the address comes first on a line: ADDRESS, NAME)" : "");
		return -1;
	}
	rc = store_participant_add(st, norm, name, PS_ACTIVE, now, &p, &e);
	if (rc == -1) {
		fprintf(stderr, "%s:%d: %s\n", file, lineno, e.msg);
		return -1;
	}
	if (rc == 1)
		(*known)++;
	else
		(*added)++;
	return 0;
}

int
cmd_import(struct cli *c)
{
	char line[IMPORT_LINE_MAX + 2];
	struct programme *p = NULL;
	struct store *st = NULL;
	int lineno = 0, bad = 0, added = 0, known = 0, header = 0, status = EXIT_FAIL;
	const char *path = NULL;
	int64_t now;
	FILE *f;
	struct err e;

	for (int i = 0; i < c->argc; i++) {
		int rc = cli_now_option(c, &i, &now); /* as subscribe's --now */

		if (rc == -1)
			return EXIT_USAGE;
		if (rc == 0 && path == NULL && strncmp(c->argv[i], "--", 2) != 0) {
			path = c->argv[i];
		} else if (rc == 0) {
			path = NULL;
			break;
		}
	}
	if (path == NULL) {
		fprintf(stderr, "usage: things -c FILE import ADDRESSES-FILE [--now TIMESTAMP]\n");
		return EXIT_USAGE;
	}
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "things: %s: %s\n", path, strerror(errno));
		return EXIT_FAIL;
	}
	if (cli_open(c, &p, &st) == -1)
		goto out;
	if (store_begin(st, &e) == -1) {
		fprintf(stderr, "things: %s\n", e.msg);
		goto out;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strlen(line);

		lineno++;
		if (n > IMPORT_LINE_MAX) {
			fprintf(stderr, "%s:%d: line longer than %d bytes\n", path, lineno,
			    IMPORT_LINE_MAX);
			bad++;
			while (n > 0 && line[n - 1] != '\n' && fgets(line, sizeof(line), f))
				n = strlen(line);
			continue;
		}
		line[strcspn(line, "\r\n")] = '\0';
		if (lineno == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0)
			memmove(line, line + 3, strlen(line + 3) + 1);
		if (lineno == 1 && strchr(line, '@') == NULL && line[0] != '#' &&
		    line[strspn(line, " \t,;")] != '\0') {
			header = 1;
			continue;
		}
		if (!str_valid_utf8(line, strlen(line))) {
			fprintf(stderr, "%s:%d: not UTF-8\n", path, lineno);
			bad++;
		} else if (import_line(st, path, lineno, line, time_now(), &added,
		    &known) == -1) {
			bad++;
		}
	}
	if (ferror(f) || bad > 0) {
		store_rollback(st);
		fprintf(stderr, "things: %s: %d bad line%s: nobody was added\n", path, bad,
		    bad == 1 ? "" : "s");
		goto out;
	}
	if (store_commit(st, &e) == -1) {
		fprintf(stderr, "things: %s\n", e.msg);
		goto out;
	}
	printf("%d added, %d already there%s\n", added, known,
	    header ? " (line 1, with no address, was taken for a header row)" : "");
	status = EXIT_OK;
out:
	fclose(f);
	store_close(st);
	programme_free(p);
	return status;
}
