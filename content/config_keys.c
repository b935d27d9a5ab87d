/*
 * config_keys.c - every key of things.conf: what it accepts and where it
 * goes.  config.c reads the file and calls the setter of each key it finds;
 * a key absent from the file keeps the default of cfg_set_defaults.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_int.h"

static int
set_string(char **field, const char *value, size_t max, const char *what, struct err *why)
{
	if (strlen(value) > max)
		return err_set(why, "%s is longer than %zu bytes", what, max);
	if ((*field = strdup(value)) == NULL)
		return err_set(why, "out of memory");
	return 0;
}

static int
set_name(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_string(&cfg->name, v, 200, "name", why);
}

static int
set_address(struct programme_config *cfg, const char *v, struct err *why)
{
	char addr[ADDR_MAX + 1];

	if (addr_normalize(v, addr, sizeof(addr), why) == -1)
		return -1;
	return set_string(&cfg->address, addr, ADDR_MAX, "address", why);
}

static int
set_organisers(struct programme_config *cfg, const char *v, struct err *why)
{
	return cfg_organisers_add(cfg, v, why);
}

static int
set_start(struct programme_config *cfg, const char *v, struct err *why)
{
	return time_parse_iso(v, &cfg->start, why);
}

static int
set_int(int *field, const char *v, int min, int max, const char *what, struct err *why)
{
	int64_t n;

	if (str_to_int64(v, min, max, &n) == -1)
		return err_set(why, "%s must be a whole number from %d to %d", what, min, max);
	*field = (int)n;
	return 0;
}

static int
set_interval(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_int(&cfg->interval_days, v, 1, 365, "interval_days", why);
}

static int
set_delimiter(struct programme_config *cfg, const char *v, struct err *why)
{
	if (strlen(v) != 1 || strchr("+-", v[0]) == NULL)
		return err_set(why, "delimiter must be '+' or '-'");
	cfg->delimiter = v[0];
	return 0;
}

static int
set_list_id(struct programme_config *cfg, const char *v, struct err *why)
{
	if (cfg_list_id_check(v, why) == -1)
		return -1;
	return set_string(&cfg->list_id, v, 256, "list_id", why);
}

static int
set_unsubscribe_url(struct programme_config *cfg, const char *v, struct err *why)
{
	static const char *const https[] = { "https", NULL };

	if (strlen(v) > 1000)
		return err_set(why, "unsubscribe_url is longer than 1000 bytes");
	return cfg_url_check(v, https, NULL, &cfg->unsubscribe_url, why);
}

static int
set_yes_no(int *field, const char *v, const char *what, struct err *why)
{
	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0)
		*field = 1;
	else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0)
		*field = 0;
	else
		return err_set(why, "%s must be yes or no", what);
	return 0;
}

static int
set_raw_html(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_yes_no(&cfg->allow_raw_html, v, "allow_raw_html", why);
}

static int
set_endpoint(struct programme_config *cfg, char **field, const char *v, const char *const *schemes,
    struct err *why)
{
	if (strlen(v) > 2000)
		return err_set(why, "url is longer than 2000 bytes");
	return cfg_url_check(v, schemes, cfg->dir, field, why);
}

static int
set_smtp_url(struct programme_config *cfg, const char *v, struct err *why)
{
	static const char *const smtp[] = { "smtp", "smtp+starttls", "smtps", NULL };

	return set_endpoint(cfg, &cfg->smtp_url, v, smtp, why);
}

static int
set_imap_url(struct programme_config *cfg, const char *v, struct err *why)
{
	static const char *const imap[] = { "imap", "imap+starttls", "imaps", NULL };

	return set_endpoint(cfg, &cfg->imap_url, v, imap, why);
}

static int
set_connections(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_int(&cfg->smtp_connections, v, 1, 64, "connections", why);
}

static int
set_path(struct programme_config *cfg, char **field, const char *v, int must_exist, struct err *why)
{
	if (strlen(v) > PATH_MAX)
		return err_set(why, "path is too long");
	if ((*field = cfg_abs_path(cfg->dir, v)) == NULL)
		return err_set(why, "out of memory");
	return must_exist ? cfg_file_readable(*field, why) : 0;
}

static int
set_smtp_ca(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_path(cfg, &cfg->smtp_ca_file, v, 1, why);
}

static int
set_imap_ca(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_path(cfg, &cfg->imap_ca_file, v, 1, why);
}

static int
set_store_path(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_path(cfg, &cfg->store_path, v, 0, why);
}

/* --- pacing and delivery (issue 3) --------------------------------------- */

static int
set_mode(struct programme_config *cfg, const char *v, struct err *why)
{
	if (strcasecmp(v, "cohort") == 0)
		cfg->self_paced = 0;
	else if (strcasecmp(v, "self-paced") == 0)
		cfg->self_paced = 1;
	else
		return err_set(why, "mode must be cohort or self-paced");
	return 0;
}

static int
set_catch_up(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_int(&cfg->catch_up_days, v, 0, 60, "catch_up_days", why);
}

static int
set_max_lateness(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_int(&cfg->max_lateness_hours, v, 1, 24 * 365, "max_lateness_hours", why);
}

static int
set_send_late(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_yes_no(&cfg->send_late, v, "send_late", why);
}

static int
set_certificate(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_yes_no(&cfg->certificate, v, "certificate", why);
}

static int
set_per_minute(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_int(&cfg->smtp_max_per_minute, v, 0, 1000000, "max_per_minute", why);
}

static int
set_per_connection(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_int(&cfg->smtp_max_per_connection, v, 0, 1000000, "max_per_connection", why);
}

static int
set_bounce_threshold(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_int(&cfg->bounce_threshold, v, 1, 100, "threshold", why);
}

static int
set_bounce_stale(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_int(&cfg->bounce_stale_days, v, 1, 365, "stale_days", why);
}

/* --- the inbox (issue 4) ------------------------------------------------- */

static int
set_max_message(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_int(&cfg->inbox_max_kib, v, 16, 1024 * 1024, "max_message_kib", why);
}

static int
set_folder(char **field, const char *v, const char *what, struct err *why)
{
	/* IMAP mailbox names and Maildir++ folders: keep to what both take. */
	for (const char *p = v; *p; p++)
		if (!(*p == '-' || *p == '_' || *p == '.' || (*p >= '0' && *p <= '9') ||
		    (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return err_set(why, "%s may hold letters, digits, '-', '_' and '.' only",
			    what);
	return set_string(field, v, 100, what, why);
}

static int
set_processed(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_folder(&cfg->inbox_processed, v, "processed_folder", why);
}

static int
set_failed(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_folder(&cfg->inbox_failed, v, "failed_folder", why);
}

static int
set_after(struct programme_config *cfg, const char *v, struct err *why)
{
	if (strcasecmp(v, "move") == 0)
		cfg->inbox_flag_only = 0;
	else if (strcasecmp(v, "flag") == 0)
		cfg->inbox_flag_only = 1;
	else
		return err_set(why, "after must be move or flag");
	return 0;
}

static int
set_answers(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_int(&cfg->answers_per_hour, v, 1, 1000, "answers_per_hour", why);
}

static int
set_reminder(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_int(&cfg->ticket_reminder_hours, v, 1, 24 * 60, "ticket_reminder_hours", why);
}

static int
set_secret(struct programme_config *cfg, const char *v, struct err *why)
{
	if (strlen(v) < 16)
		return err_set(why, "organiser_secret must be at least 16 characters");
	return set_string(&cfg->organiser_secret, v, 200, "organiser_secret", why);
}

/* --- feeds and the digest (issue 5) -------------------------------------- */

static int
set_allow_private(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_yes_no(&cfg->feeds_allow_private, v, "allow_private_addresses", why);
}

static int
set_feeds_parallel(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_int(&cfg->feeds_parallel, v, 1, 256, "parallel", why);
}

static int
set_feeds_per_host(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_int(&cfg->feeds_per_host, v, 1, 64, "per_host", why);
}

static int
set_feeds_timeout(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_int(&cfg->feeds_timeout_s, v, 1, 600, "timeout_seconds", why);
}

static int
set_feeds_max(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_int(&cfg->feeds_max_kib, v, 16, 64 * 1024, "max_kib", why);
}

static int
set_feeds_notice(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_int(&cfg->feeds_failures_notice, v, 1, 100, "failures_before_notice", why);
}

static int
set_feeds_every(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_int(&cfg->feeds_every_hours, v, 1, 24 * 7, "every_hours", why);
}

static int
set_digest_day(struct programme_config *cfg, const char *v, struct err *why)
{
	static const char *const days[] = { "sunday", "monday", "tuesday", "wednesday",
		"thursday", "friday", "saturday" };

	for (int i = 0; i < 7; i++) {
		if (strcasecmp(v, days[i]) == 0) {
			cfg->digest_weekday = i;
			return 0;
		}
	}
	return err_set(why, "day must be a day of the week (monday ... sunday)");
}

static int
set_digest_hour(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_int(&cfg->digest_hour, v, 0, 23, "hour", why);
}

static int
set_digest_enabled(struct programme_config *cfg, const char *v, struct err *why)
{
	return set_yes_no(&cfg->digest_enabled, v, "enabled", why);
}

const struct cfg_key cfg_keys[] = {
	{ "programme", "name", set_name, 1, 0 },
	{ "programme", "address", set_address, 1, 0 },
	{ "programme", "organisers", set_organisers, 1, 1 },
	{ "programme", "start", set_start, 1, 0 },
	{ "programme", "interval_days", set_interval, 0, 0 },
	{ "programme", "delimiter", set_delimiter, 0, 0 },
	{ "programme", "list_id", set_list_id, 0, 0 },
	{ "programme", "unsubscribe_url", set_unsubscribe_url, 0, 0 },
	{ "programme", "allow_raw_html", set_raw_html, 0, 0 },
	{ "programme", "mode", set_mode, 0, 0 },
	{ "programme", "catch_up_days", set_catch_up, 0, 0 },
	{ "programme", "max_lateness_hours", set_max_lateness, 0, 0 },
	{ "programme", "send_late", set_send_late, 0, 0 },
	{ "programme", "certificate", set_certificate, 0, 0 },
	{ "smtp", "url", set_smtp_url, 1, 0 },
	{ "smtp", "connections", set_connections, 0, 0 },
	{ "smtp", "ca_file", set_smtp_ca, 0, 0 },
	{ "smtp", "max_per_minute", set_per_minute, 0, 0 },
	{ "smtp", "max_per_connection", set_per_connection, 0, 0 },
	{ "bounces", "threshold", set_bounce_threshold, 0, 0 },
	{ "bounces", "stale_days", set_bounce_stale, 0, 0 },
	{ "imap", "url", set_imap_url, 1, 0 },
	{ "imap", "ca_file", set_imap_ca, 0, 0 },
	{ "inbox", "max_message_kib", set_max_message, 0, 0 },
	{ "inbox", "processed_folder", set_processed, 0, 0 },
	{ "inbox", "failed_folder", set_failed, 0, 0 },
	{ "inbox", "after", set_after, 0, 0 },
	{ "inbox", "answers_per_hour", set_answers, 0, 0 },
	{ "inbox", "ticket_reminder_hours", set_reminder, 0, 0 },
	{ "inbox", "organiser_secret", set_secret, 0, 0 },
	{ "feeds", "allow_private_addresses", set_allow_private, 0, 0 },
	{ "feeds", "parallel", set_feeds_parallel, 0, 0 },
	{ "feeds", "per_host", set_feeds_per_host, 0, 0 },
	{ "feeds", "timeout_seconds", set_feeds_timeout, 0, 0 },
	{ "feeds", "max_kib", set_feeds_max, 0, 0 },
	{ "feeds", "failures_before_notice", set_feeds_notice, 0, 0 },
	{ "feeds", "every_hours", set_feeds_every, 0, 0 },
	{ "digest", "enabled", set_digest_enabled, 0, 0 },
	{ "digest", "day", set_digest_day, 0, 0 },
	{ "digest", "hour", set_digest_hour, 0, 0 },
	{ "store", "path", set_store_path, 0, 0 },
};
const size_t cfg_nkeys = sizeof(cfg_keys) / sizeof(cfg_keys[0]);
const char cfg_sections[] =
    "programme, smtp, bounces, imap, inbox, feeds, digest, store, schedule";

/* Defaults of every key that has one; a value the file set is kept.  The
 * fields whose zero is a valid setting (catch_up_days, send_late, ...)
 * are given their default before parsing instead (cfg_init_defaults). */
void
cfg_set_defaults(struct programme_config *cfg)
{
	if (cfg->delimiter == 0)
		cfg->delimiter = '+';
	if (cfg->interval_days == 0)
		cfg->interval_days = 14;
	if (cfg->smtp_connections == 0)
		cfg->smtp_connections = 4;
	if (cfg->max_lateness_hours == 0)
		cfg->max_lateness_hours = 72;
	if (cfg->bounce_threshold == 0)
		cfg->bounce_threshold = 5;
	/* Mailman's 7 days suits a daily list.  A programme mails a dead
	 * address about once a fortnight (a Thing) or a week (a digest), so a
	 * score would go stale between bounces and nobody would ever reach the
	 * threshold: a score stays alive for two intervals and a day. */
	if (cfg->bounce_stale_days == 0)
		cfg->bounce_stale_days = cfg->interval_days * 2 + 1 > 7 ? cfg->interval_days * 2 + 1 : 7;
	if (cfg->inbox_max_kib == 0)
		cfg->inbox_max_kib = 10 * 1024;
	if (cfg->answers_per_hour == 0)
		cfg->answers_per_hour = 5;
	if (cfg->ticket_reminder_hours == 0)
		cfg->ticket_reminder_hours = 48;
	if (cfg->feeds_parallel == 0)
		cfg->feeds_parallel = 8;
	if (cfg->feeds_per_host == 0)
		cfg->feeds_per_host = 2;
	if (cfg->feeds_timeout_s == 0)
		cfg->feeds_timeout_s = 20;
	if (cfg->feeds_max_kib == 0)
		cfg->feeds_max_kib = 2048;
	if (cfg->feeds_failures_notice == 0)
		cfg->feeds_failures_notice = 3;
	if (cfg->feeds_every_hours == 0)
		cfg->feeds_every_hours = 6;
	if (cfg->inbox_processed == NULL)
		cfg->inbox_processed = strdup("Processed");
	if (cfg->inbox_failed == NULL)
		cfg->inbox_failed = strdup("Failed");
}

void
cfg_init_defaults(struct programme_config *cfg)
{
	cfg->catch_up_days = 2;
	cfg->certificate = 1;
	cfg->digest_enabled = 1;
	cfg->digest_weekday = 1;
	cfg->digest_hour = 8;
}
