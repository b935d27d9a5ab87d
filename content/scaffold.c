/* scaffold.c - `things init`: a new programme directory that works at once. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "content_int.h"

#define MAILDIR_BASE_MAX 1000

static const char conf_head[] =
    "; things.conf - the settings of one Things programme.\n"
    ";\n"
    "; Comments start with ; or # at the beginning of a line, or with \" ;\"\n"
    "; after a value.  Relative paths are relative to the folder of this\n"
    "; file.  Things reads this file every time it starts and refuses to go\n"
    "; on if anything is wrong: unknown sections and keys are errors too, so\n"
    "; that a typo cannot pass unnoticed.\n"
    ";\n"
    "; The Things themselves are things/NN-slug.md, one Markdown file each,\n"
    "; numbered from 01 without gaps; the first heading is the title.  To\n"
    "; change the text of a message Things sends, put your version in\n"
    "; templates/KIND.md (thing.md, confirm.md, welcome.md, ...).\n"
    "\n"
    "[programme]\n"
    "; The programme's name, as participants see it in every message.\n"
    "name = 12 Things for Health Libraries\n"
    "; The programme's own address: participants write to it, and Things\n"
    "; reads its mailbox through [imap].  Tagged forms of it (things+help@,\n"
    "; things+done-3@, ...) must arrive in the same mailbox; most mail servers\n"
    "; do this as they are.\n"
    "address = things@example.org\n"
    "; Who gets help requests and the messages Things cannot handle: one or\n"
    "; more addresses, separated by commas or spaces.  A long list may go on\n"
    "; over indented lines.\n"
    "organisers = organisers@example.org\n"
    "; When Thing 1 goes out: a date (2027-01-11) or a date and time\n"
    "; (2027-01-11 09:00), in the local time of the machine that runs cron.\n"
    "start = %s\n"
    "; Days from one Thing to the next (1 to 365).\n"
    "interval_days = 14\n"
    "; The character between the address and its tag: + or -.\n"
    "delimiter = +\n"
    "; The List-Id of every message (RFC 2919).  By default the name made into\n"
    "; a slug, a dot and the address's domain, as below.\n"
    ";list_id = 12-things-for-health-libraries.example.org\n"
    "; An https:// address for one-click unsubscribing (RFC 8058), if you run\n"
    "; one.  Without it, participants unsubscribe by mail.\n"
    ";unsubscribe_url = https://example.org/things/unsubscribe\n"
    "; Let raw HTML written in the Things through into the HTML part: yes or\n"
    "; no.  Leave it at no unless you trust everyone who edits the Things.\n"
    "allow_raw_html = no\n"
    "; cohort: everyone gets Thing N on the same day.  self-paced: each\n"
    "; participant's fortnights start when they confirm.\n"
    ";mode = cohort\n"
    "; Someone who joins late gets the Things already out, one every\n"
    "; catch_up_days days (0: all at once).\n"
    ";catch_up_days = 2\n"
    "; After downtime, a Thing more than this many hours late is held and the\n"
    "; organisers are told, instead of going out unannounced; send_late = yes\n"
    "; sends it anyway.  (`things release N` sends a held Thing.)\n"
    ";max_lateness_hours = 72\n"
    ";send_late = no\n"
    "; Whoever has sent a reflection on every Thing gets a certificate of\n"
    "; completion by mail (template: certificate).\n"
    ";certificate = yes\n"
    "\n"
    "[smtp]\n"
    "; Where mail goes out: smtp://host:25 (no encryption),\n"
    "; smtp+starttls://host:587, smtps://host:465, or maildir:PATH to write\n"
    "; the messages into a Maildir instead (for a trial run).  A user name and\n"
    "; password go before the host: smtps://user:password@host:465\n"
    "; (percent-encode @ : / in them, e.g. %%40 for @).\n"
    "url = %s\n"
    "; Connections used in parallel (1 to 64).\n"
    "connections = 4\n"
    "; A file of CA certificates to trust besides the system's, for a server\n"
    "; with a private CA.\n"
    ";ca_file = ca.pem\n"
    "; Limits your mail provider may ask for: messages a minute (0: none), and\n"
    "; messages per connection before a new one (0: none).\n"
    ";max_per_minute = 0\n"
    ";max_per_connection = 0\n"
    "\n"
    "[bounces]\n"
    "; A hard bounce counts 1, a soft one 0.5, at most once a day; at the\n"
    "; threshold the participant is suspended and the organisers are told (and\n"
    "; the participant too, at their alternate address if they gave one).\n"
    "; A score with no new bounce for stale_days starts again from zero (by\n"
    "; default two intervals and a day, so that bounces a fortnight apart add up).\n"
    ";threshold = 5\n"
    ";stale_days = 29\n"
    "\n"
    "[imap]\n"
    "; Where replies arrive: imap+starttls://user:password@host/INBOX,\n"
    "; imaps://user:password@host/INBOX, imap://... (no encryption: only on\n"
    "; the same machine), or maildir:PATH.\n"
    "url = %s\n"
    ";ca_file = ca.pem\n"
    "\n"
    "[inbox]\n"
    "; Larger messages are not read; the sender gets a short answer.\n"
    ";max_message_kib = 10240\n"
    "; Where handled messages go (after = move), or flag them in place\n"
    "; (after = flag).\n"
    ";after = move\n"
    ";processed_folder = Processed\n"
    ";failed_folder = Failed\n"
    "; Automatic answers to one address in an hour, at most.\n"
    ";answers_per_hour = 5\n"
    "; Organisers are reminded of help requests nobody answered for this long.\n"
    ";ticket_reminder_hours = 48\n"
    "; Organisers may send commands (status, remove ADDRESS) from their own\n"
    "; addresses with this secret in the message.  Unset: no commands.\n"
    ";organiser_secret = change-me-to-something-long\n"
    "\n"
    "[feeds]\n"
    "; Participants' blog feeds, read for the weekly digest.  `things run` fetches\n"
    "; them every few hours (and just before each digest), not at every run:\n"
    "; polite to the blogs, and new posts only matter once a week.\n"
    ";every_hours = 6\n"
    ";parallel = 8\n"
    ";per_host = 2\n"
    ";timeout_seconds = 20\n"
    ";max_kib = 2048\n"
    "; After this many failed fetches in a row, the blog's owner is told once.\n"
    ";failures_before_notice = 3\n"
    "; For tests only: fetch feeds from loopback and private addresses.\n"
    ";allow_private_addresses = no\n"
    "\n"
    "[digest]\n"
    "; The weekly digest of new posts from the other participants' blogs.\n"
    ";enabled = yes\n"
    ";day = monday\n"
    ";hour = 8\n"
    "\n"
    "[store]\n"
    "; The SQLite database: participants, and every message sent and received.\n"
    "path = things.db\n"
    "\n"
    "[schedule]\n"
    "; A Thing may come out on a date of its own instead of start plus\n"
    "; (N - 1) * interval_days, e.g. to skip a holiday:\n"
    ";thing7 = 2027-04-19 09:00\n";

/* A Monday at 09:00, one to two weeks from now: time to edit the Things. */
static void
sample_start(char *out, size_t n)
{
	time_t t = (time_t)time_now();
	struct tm tm;

	localtime_r(&t, &tm);
	tm.tm_mday += 7 + (8 - tm.tm_wday) % 7;
	tm.tm_hour = 9;
	tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	localtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M", &tm);
}

/* 0 if dir can take the programme (missing or empty), creating it. */
static int
prepare_dir(const char *dir, struct err *e)
{
	struct dirent *de;
	DIR *dh;
	int empty = 1;

	if (mkdir(dir, 0755) == 0)
		return 0;
	if (errno != EEXIST)
		return err_set(e, "%s: cannot create: %s", dir, strerror(errno));
	dh = opendir(dir);
	if (dh == NULL)
		return err_set(e, "%s: %s", dir, strerror(errno));
	while (empty && (de = readdir(dh)) != NULL)
		empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
	closedir(dh);
	if (!empty)
		return err_set(e, "%s is not empty: a new programme needs an empty directory", dir);
	return 0;
}

static int
write_config(const char *dir, const char *maildir_base, struct err *e)
{
	char start[32], *smtp = NULL, *imap = NULL, *text = NULL, *path = NULL;
	int rc = -1;

	sample_start(start, sizeof(start));
	if (maildir_base) {
		if (asprintf(&smtp, "maildir:%s/outbox", maildir_base) == -1)
			smtp = NULL;
		if (asprintf(&imap, "maildir:%s/inbox", maildir_base) == -1)
			imap = NULL;
	} else {
		smtp = strdup("smtp://localhost:25");
		imap = strdup("imap://things:secret@localhost/INBOX");
	}
	if (smtp == NULL || imap == NULL || asprintf(&text, conf_head, start, smtp, imap) == -1 ||
	    (path = path_join(dir, "things.conf")) == NULL) {
		text = NULL;
		err_set(e, "out of memory");
		goto out;
	}
	/* 0600: the URLs may hold passwords */
	rc = file_write_new(path, text, strlen(text), 0600, e);
out:
	free(smtp);
	free(imap);
	free(text);
	free(path);
	return rc;
}

static int
write_things(const char *dir, struct err *e)
{
	char *things = path_join(dir, "things");
	int rc = 0;

	if (things == NULL)
		return err_set(e, "out of memory");
	if (mkdir(things, 0755) == -1) {
		err_set(e, "%s: cannot create: %s", things, strerror(errno));
		free(things);
		return -1;
	}
	for (size_t i = 0; i < sample_nthings && rc == 0; i++) {
		char *path = path_join(things, sample_things[i].file);

		if (path == NULL)
			rc = err_set(e, "out of memory");
		else
			rc = file_write_new(path, sample_things[i].markdown,
			    strlen(sample_things[i].markdown), 0644, e);
		free(path);
	}
	free(things);
	return rc;
}

int
content_scaffold(const char *dir, const char *maildir_base, struct err *e)
{
	if (maildir_base) {
		size_t n = strlen(maildir_base);

		/* it goes into an INI line: no line breaks, no " ;" comment */
		if (n == 0 || n > MAILDIR_BASE_MAX || str_has_ctl(maildir_base, 0) ||
		    strstr(maildir_base, " ;") || maildir_base[0] == ' ' ||
		    maildir_base[n - 1] == ' ')
			return err_set(e, "unusable maildir base '%.80s'", maildir_base);
	}
	if (prepare_dir(dir, e) == -1 || write_config(dir, maildir_base, e) == -1 ||
	    write_things(dir, e) == -1)
		return -1;
	return 0;
}
