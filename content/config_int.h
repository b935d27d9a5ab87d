/*
 * config_int.h - the value checks of things.conf, shared by config.c and
 * config_values.c (and their tests through content_int.h users only).
 */
#ifndef THINGS_CONFIG_INT_H
#define THINGS_CONFIG_INT_H

#include "content.h"

/* path if absolute, else dir/path; newly allocated (NULL: out of memory). */
char *cfg_abs_path(const char *dir, const char *path);

/* Copies url into out with the password of its userinfo replaced by "***",
 * for error messages. */
void cfg_url_mask(const char *url, char *out, size_t n);

/* Checks that url starts with one of schemes (NULL-terminated, without
 * "://") and has a host (and a valid port if any).  When dir is not NULL,
 * "maildir:PATH" is accepted too and PATH made absolute against dir.
 * *out gets the value to keep (caller frees).  Messages mask passwords. */
int cfg_url_check(const char *url, const char *const *schemes, const char *dir, char **out,
    struct err *e);

/* 0 if s can be a List-Id (RFC 2919: dot-atom with at least one dot). */
int cfg_list_id_check(const char *s, struct err *e);
/* "slugified-name.domain-of-address", newly allocated. */
char *cfg_list_id_default(const char *name, const char *address);

/* Adds the comma- or space-separated addresses in value, normalised and
 * without duplicates. */
int cfg_organisers_add(struct programme_config *cfg, const char *value, struct err *e);

/* 0 if the file at path can be read. */
int cfg_file_readable(const char *path, struct err *e);

/* One key of things.conf: its setter checks a value and stores it. */
struct cfg_key {
	const char *section;
	const char *name;
	int (*set)(struct programme_config *cfg, const char *value, struct err *why);
	int required;
	int multiline;   /* may go on over indented lines (organisers) */
};

extern const struct cfg_key cfg_keys[];
extern const size_t cfg_nkeys;
extern const char cfg_sections[]; /* "programme, smtp, ...", for messages */

/* Defaults whose zero means "not set", applied after parsing. */
void cfg_set_defaults(struct programme_config *cfg);
/* Defaults whose zero is a valid setting, applied before parsing. */
void cfg_init_defaults(struct programme_config *cfg);

#endif
