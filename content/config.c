/*
 * config.c - things.conf, read with libinih.
 *
 * Debian's libinih is built without INI_HANDLER_LINENO (the handler gets no
 * line number, and defining the macro on our side would only change our
 * idea of the handler's type, not the library's).  So the file is read
 * into memory and fed to ini_parse_stream() through our own reader, which
 * counts lines: inih calls the handler for a line right after reading it,
 * so the reader's count is the handler's line.  The reader also notices
 * lines that should have produced a key but did not (inih only tells the
 * first syntax error), lines too long for inih's fixed 200-byte buffer,
 * and lines that are not UTF-8.  Debian's build also turns some compile-time
 * options into process-wide globals (ini_allow_multiline, ...); they are
 * left at their defaults: an indented line continues the previous value,
 * which we accept for organisers only.
 */
#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "content_int.h"
#include "config_int.h"

#define CONFIG_MAX_BYTES (256 * 1024)
#define SECTIONS_MAX 32
#define SECTION_NAME_MAX 40
#define OVERRIDES_MAX 1000

struct section_seen {
	char name[SECTION_NAME_MAX];
	int line;
};

struct cfg_parse {
	struct programme_config *cfg;
	struct diag *d;
	int errors;

	const char *data;       /* the whole file */
	size_t len, pos;
	int line;               /* the line the reader handed out last */
	int line_indented;      /* it starts with white space */
	int line_wants_key;     /* it is neither blank, comment nor [section] */
	int line_got_key;       /* and inih did call the handler for it */
	int first_syntax_line;

	struct section_seen sections[SECTIONS_MAX];
	size_t nsections;
	int *key_line;          /* per key_defs entry: where it was set, 0 = not */
};

static void PRINTF_LIKE(3, 4)
problem(struct cfg_parse *cp, int line, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_report(cp->d, cp->cfg->path, line, "%s", msg);
	cp->errors++;
}

static int
known_section(const char *name)
{
	if (strcmp(name, "schedule") == 0)
		return 1;
	for (size_t i = 0; i < cfg_nkeys; i++)
		if (strcmp(cfg_keys[i].section, name) == 0)
			return 1;
	return 0;
}

static int
section_line(const struct cfg_parse *cp, const char *name)
{
	for (size_t i = 0; i < cp->nsections; i++)
		if (strcmp(cp->sections[i].name, name) == 0)
			return cp->sections[i].line;
	return 0;
}

/* --- [schedule] --------------------------------------------------------- */

static void
schedule_key(struct cfg_parse *cp, const char *name, const char *value)
{
	struct programme_config *cfg = cp->cfg;
	struct schedule_override *grown;
	const char *digits = strncmp(name, "thing", 5) == 0 ? name + 5 : name;
	int64_t number, when;
	struct err why;

	if (str_to_int64(digits, 1, 999, &number) == -1) {
		problem(cp, cp->line, "[schedule] keys name a Thing: 'thing3' or '3', not '%s'", name);
		return;
	}
	for (size_t i = 0; i < cfg->noverrides; i++) {
		if (cfg->overrides[i].number == number) {
			problem(cp, cp->line, "Thing %d is scheduled twice (first on line %d)",
			    (int)number, cfg->overrides[i].line);
			return;
		}
	}
	if (time_parse_iso(value, &when, &why) == -1) {
		problem(cp, cp->line, "%s", why.msg);
		return;
	}
	if (cfg->noverrides == OVERRIDES_MAX) {
		problem(cp, cp->line, "more than %d [schedule] entries", OVERRIDES_MAX);
		return;
	}
	grown = realloc(cfg->overrides, (cfg->noverrides + 1) * sizeof(*grown));
	if (grown == NULL) {
		problem(cp, cp->line, "out of memory");
		return;
	}
	cfg->overrides = grown;
	grown[cfg->noverrides++] = (struct schedule_override){ (int)number, when, cp->line };
}

/* --- the inih callbacks ------------------------------------------------- */

static int
on_key(void *user, const char *section, const char *name, const char *value)
{
	struct cfg_parse *cp = user;
	const struct cfg_key *k = NULL;
	struct err why;
	size_t i;

	cp->line_got_key = 1;
	if (*section == '\0') {
		problem(cp, cp->line, "'%s' comes before any [section]", name);
		return 1;
	}
	if (!known_section(section))
		return 1; /* reported once, at the section's line */
	if (str_has_ctl(value, 1)) {
		problem(cp, cp->line, "the value of '%s' holds a control character", name);
		return 1;
	}
	if (strcmp(section, "schedule") == 0) {
		schedule_key(cp, name, value);
		return 1;
	}
	for (i = 0; i < cfg_nkeys; i++) {
		if (strcmp(cfg_keys[i].section, section) == 0 && strcmp(cfg_keys[i].name, name) == 0) {
			k = &cfg_keys[i];
			break;
		}
	}
	if (k == NULL) {
		problem(cp, cp->line, "unknown key '%s' in [%s]", name, section);
		return 1;
	}
	if (cp->key_line[i] != 0) {
		/* inih hands an indented line to the handler as the continuation
		 * of the previous key's value. */
		if (cp->line_indented && k->multiline) {
			if (k->set(cp->cfg, value, &why) == -1)
				problem(cp, cp->line, "%s", why.msg);
		} else if (cp->line_indented) {
			problem(cp, cp->line, "indented line read as more of '%s' (from line %d): "
			    "only organisers may go on over several lines; remove the indentation",
			    name, cp->key_line[i]);
		} else {
			problem(cp, cp->line, "'%s' is set twice in [%s] (first on line %d)", name,
			    section, cp->key_line[i]);
		}
		return 1;
	}
	cp->key_line[i] = cp->line;
	if (*value == '\0') {
		if (k->required)
			problem(cp, cp->line, "'%s' is empty", name);
		return 1; /* an optional key left empty keeps its default */
	}
	if (k->set(cp->cfg, value, &why) == -1)
		problem(cp, cp->line, "%s", why.msg);
	return 1;
}

static void
check_previous_line(struct cfg_parse *cp)
{
	if (cp->line_wants_key && !cp->line_got_key) {
		problem(cp, cp->line, "expected 'key = value', a [section] or a ; comment");
		if (cp->first_syntax_line == 0)
			cp->first_syntax_line = cp->line;
	}
	cp->line_wants_key = cp->line_got_key = 0;
}

static void
note_section(struct cfg_parse *cp, const char *p, size_t n)
{
	const char *close = memchr(p, ']', n);
	struct section_seen *s;

	if (close == NULL) {
		problem(cp, cp->line, "section header without ']'");
		if (cp->first_syntax_line == 0)
			cp->first_syntax_line = cp->line;
		return;
	}
	if (cp->nsections == SECTIONS_MAX || (size_t)(close - p - 1) >= SECTION_NAME_MAX) {
		problem(cp, cp->line, "too many sections, or too long a section name");
		return;
	}
	s = &cp->sections[cp->nsections++];
	memcpy(s->name, p + 1, (size_t)(close - p - 1));
	s->name[close - p - 1] = '\0';
	s->line = cp->line;
	if (!known_section(s->name))
		problem(cp, cp->line, "unknown section [%s] (known: %s)", s->name, cfg_sections);
}

/* Hands inih the next line, looking at it on the way (see the top). */
static char *
reader(char *str, int num, void *stream)
{
	struct cfg_parse *cp = stream;
	const char *line, *nl, *p;
	size_t n;

	check_previous_line(cp);
	if (cp->pos >= cp->len)
		return NULL;
	line = cp->data + cp->pos;
	nl = memchr(line, '\n', cp->len - cp->pos);
	n = nl ? (size_t)(nl - line) : cp->len - cp->pos;
	cp->pos += n + (nl != NULL);
	cp->line++;
	if (memchr(line, '\0', n) || !str_valid_utf8(line, n) || n + 2 > (size_t)num) {
		problem(cp, cp->line, "%s", memchr(line, '\0', n) ? "line holds a NUL byte" :
		    n + 2 > (size_t)num ? "line is too long for the INI reader" :
		    "line is not valid UTF-8");
		n = 0; /* hand inih a blank line instead */
	}
	p = line;
	if (cp->line == 1 && n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	cp->line_indented = p < line + n && (*p == ' ' || *p == '\t');
	while (p < line + n && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	if (p < line + n && *p == '[')
		note_section(cp, p, (size_t)(line + n - p));
	else if (p < line + n && *p != ';' && *p != '#')
		cp->line_wants_key = 1;
	memcpy(str, line, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	return str;
}

/* --- after the last line: defaults and checks across keys --------------- */

static int
key_line(const struct cfg_parse *cp, const char *section, const char *name)
{
	for (size_t i = 0; i < cfg_nkeys; i++)
		if (strcmp(cfg_keys[i].section, section) == 0 && strcmp(cfg_keys[i].name, name) == 0)
			return cp->key_line[i];
	return 0;
}

static void
check_required(struct cfg_parse *cp)
{
	for (size_t i = 0; i < cfg_nkeys; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		int line = section_line(cp, k->section);

		if (!k->required || cp->key_line[i] != 0)
			continue;
		if (line)
			problem(cp, line, "[%s] lacks '%s'", k->section, k->name);
		else
			problem(cp, 0, "no [%s] section with '%s'", k->section, k->name);
	}
}

static void
set_defaults(struct cfg_parse *cp)
{
	struct programme_config *cfg = cp->cfg;

	cfg_set_defaults(cfg);
	if (cfg->store_path == NULL && (cfg->store_path = path_join(cfg->dir, "things.db")) == NULL)
		problem(cp, 0, "out of memory");
	if (cfg->list_id == NULL && cfg->name && cfg->address &&
	    (cfg->list_id = cfg_list_id_default(cfg->name, cfg->address)) == NULL)
		problem(cp, 0, "out of memory");
}

static void
check_across(struct cfg_parse *cp)
{
	struct programme_config *cfg = cp->cfg;

	if (cfg->address) {
		const char *at = strrchr(cfg->address, '@');

		if (memchr(cfg->address, cfg->delimiter, (size_t)(at - cfg->address)))
			problem(cp, key_line(cp, "programme", "address"),
			    "the address's local part holds the delimiter '%c': "
			    "things+help@ could not be told apart", cfg->delimiter);
		for (size_t i = 0; i < cfg->norganisers; i++)
			if (strcmp(cfg->organisers[i], cfg->address) == 0)
				problem(cp, key_line(cp, "programme", "organisers"),
				    "an organiser is the programme's own address (a mail loop)");
	}
	if (cfg->smtp_url && cfg->imap_url && strncmp(cfg->smtp_url, "maildir:", 8) == 0 &&
	    strcmp(cfg->smtp_url, cfg->imap_url) == 0)
		problem(cp, key_line(cp, "imap", "url"),
		    "[imap] reads the maildir [smtp] writes to: the programme would read its own mail");
}

static int
config_dir(const char *path, struct programme_config *cfg)
{
	char *copy;

	cfg->path = realpath(path, NULL);
	if (cfg->path == NULL)
		return -1;
	copy = strdup(cfg->path);
	if (copy == NULL)
		return -1;
	cfg->dir = strdup(dirname(copy));
	free(copy);
	return cfg->dir ? 0 : -1;
}

int
config_load(const char *path, struct programme_config *cfg, struct diag *d)
{
	struct cfg_parse cp = { .cfg = cfg, .d = d };
	int *key_lines = calloc(cfg_nkeys, sizeof(*key_lines));
	char *data = NULL;
	struct err why;
	int rc;

	cp.key_line = key_lines;
	cfg_init_defaults(cfg);
	if (key_lines == NULL) {
		diag_report(d, path, 0, "out of memory");
		return -1;
	}
	if (config_dir(path, cfg) == -1) {
		diag_report(d, path, 0, "cannot open the configuration file: %s", strerror(errno));
		free(key_lines);
		return -1;
	}
	if (file_read_all(cfg->path, CONFIG_MAX_BYTES, &data, &cp.len, &why) == -1) {
		diag_report(d, cfg->path, 0, "%s", why.msg);
		free(key_lines);
		return -1;
	}
	cp.data = data;
	rc = ini_parse_stream(reader, &cp, on_key, &cp);
	check_previous_line(&cp);
	if (rc > 0 && (cp.first_syntax_line == 0 || rc < cp.first_syntax_line))
		problem(&cp, rc, "cannot parse this line");
	else if (rc < 0)
		problem(&cp, 0, "the INI parser failed (%d)", rc);
	free(data);
	check_required(&cp);
	set_defaults(&cp);
	check_across(&cp);
	free(key_lines);
	return cp.errors ? -1 : 0;
}

void
config_free(struct programme_config *cfg)
{
	free(cfg->path);
	free(cfg->dir);
	free(cfg->name);
	free(cfg->address);
	for (size_t i = 0; i < cfg->norganisers; i++)
		free(cfg->organisers[i]);
	free(cfg->organisers);
	free(cfg->list_id);
	free(cfg->unsubscribe_url);
	free(cfg->smtp_url);
	free(cfg->smtp_ca_file);
	free(cfg->imap_url);
	free(cfg->imap_ca_file);
	free(cfg->store_path);
	free(cfg->overrides);
	free(cfg->inbox_processed);
	free(cfg->inbox_failed);
	free(cfg->organiser_secret);
	memset(cfg, 0, sizeof(*cfg));
}
