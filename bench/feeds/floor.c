/*
 * floor.c - what the libraries alone take for the work of a round in which
 * every post is new, for bench/feeds/run.sh:
 *
 *   floor parse FILE...   libxml2 reads each file as XML (the options
 *                         feeds/parse.c uses), and each <description>,
 *                         <content:encoded>, <summary> or <content> text
 *                         as HTML (as excerpts need): no walking, no copying
 *   floor store SRC DST   SQLite inserts SRC's posts into DST (a copy of
 *                         SRC's schema with its participants and feeds and
 *                         no posts), 32 feeds to a transaction as feeds_poll
 *                         commits them, one prepared statement, no checks
 *
 * Prints "parse SECONDS" or "store SECONDS" (the timed part only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <sqlite3.h>

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
is_text_element(xmlNodePtr n)
{
	static const char *const names[] = { "description", "encoded", "summary", "content" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (xmlStrEqual(n->name, (const xmlChar *)names[i]))
			return 1;
	return 0;
}

/* Parses the text of every element that holds a post's HTML. */
static void
parse_html_in(xmlNodePtr n)
{
	for (; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (is_text_element(n)) {
			xmlChar *html = xmlNodeGetContent(n);

			if (html != NULL) {
				htmlDocPtr d = htmlReadMemory((const char *)html,
				    (int)xmlStrlen(html), NULL, "UTF-8", HTML_PARSE_RECOVER |
				    HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
				    HTML_PARSE_NODEFDTD | HTML_PARSE_IGNORE_ENC);

				xmlFreeDoc(d);
				xmlFree(html);
			}
			continue;
		}
		parse_html_in(n->children);
	}
}

static int
floor_parse(int n, char **files)
{
	char **bufs = calloc((size_t)n, sizeof(*bufs));
	long *lens = calloc((size_t)n, sizeof(*lens));
	double t0;

	if (bufs == NULL || lens == NULL)
		return 1;
	for (int i = 0; i < n; i++) {
		FILE *f = fopen(files[i], "rb");

		if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (lens[i] = ftell(f)) < 0 ||
		    fseek(f, 0, SEEK_SET) != 0 || (bufs[i] = malloc((size_t)lens[i])) == NULL ||
		    fread(bufs[i], 1, (size_t)lens[i], f) != (size_t)lens[i]) {
			fprintf(stderr, "floor: cannot read %s\n", files[i]);
			return 1;
		}
		fclose(f);
	}
	t0 = seconds();
	for (int i = 0; i < n; i++) {
		xmlDocPtr d = xmlReadMemory(bufs[i], (int)lens[i], "http://bench.invalid/", NULL,
		    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);

		if (d == NULL) {
			fprintf(stderr, "floor: %s is not XML\n", files[i]);
			return 1;
		}
		parse_html_in(xmlDocGetRootElement(d));
		xmlFreeDoc(d);
	}
	printf("parse %.3f\n", seconds() - t0);
	for (int i = 0; i < n; i++)
		free(bufs[i]);
	free(bufs);
	free(lens);
	return 0;
}

static int
exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	fprintf(stderr, "floor: %s: %s\n", sql, msg ? msg : "?");
	sqlite3_free(msg);
	return -1;
}

static int
floor_store(const char *src, const char *dst)
{
	static const char cols[] = "participant_id, feed_id, entry_key, title, link, excerpt,"
	    " published_at, first_seen_at, thing, for_digest";
	char sql[512];
	sqlite3 *db = NULL;
	sqlite3_stmt *rd = NULL, *ins = NULL;
	int rc = 1, feeds = 0;
	long long feed = -1;
	double t0, t = 0;

	if (sqlite3_open(dst, &db) != SQLITE_OK ||
	    exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
	    "PRAGMA foreign_keys=ON") == -1)
		goto out;
	snprintf(sql, sizeof(sql), "ATTACH '%s' AS src", src);
	if (exec(db, sql) == -1)
		goto out;
	snprintf(sql, sizeof(sql), "SELECT %s FROM src.posts ORDER BY feed_id, id", cols);
	if (sqlite3_prepare_v2(db, sql, -1, &rd, NULL) != SQLITE_OK)
		goto out;
	snprintf(sql, sizeof(sql), "INSERT INTO main.posts (%s) VALUES (?,?,?,?,?,?,?,?,?,?) "
	    "ON CONFLICT (feed_id, entry_key) DO NOTHING", cols);
	if (sqlite3_prepare_v2(db, sql, -1, &ins, NULL) != SQLITE_OK)
		goto out;
	/* Only the inserts and commits are timed, not reading the source. */
	t0 = seconds();
	if (exec(db, "BEGIN") == -1)
		goto out;
	t += seconds() - t0;
	while (sqlite3_step(rd) == SQLITE_ROW) {
		long long f = sqlite3_column_int64(rd, 1);

		t0 = seconds();
		if (f != feed && ++feeds % 32 == 0 && (exec(db, "COMMIT") == -1 ||
		    exec(db, "BEGIN") == -1))
			goto out;
		feed = f;
		for (int c = 0; c < 10; c++)
			sqlite3_bind_value(ins, c + 1, sqlite3_column_value(rd, c));
		if (sqlite3_step(ins) != SQLITE_DONE) {
			fprintf(stderr, "floor: insert: %s\n", sqlite3_errmsg(db));
			goto out;
		}
		sqlite3_reset(ins);
		t += seconds() - t0;
	}
	t0 = seconds();
	if (exec(db, "COMMIT") == -1)
		goto out;
	t += seconds() - t0;
	printf("store %.3f\n", t);
	rc = 0;
out:
	if (rc != 0 && db != NULL)
		fprintf(stderr, "floor: %s\n", sqlite3_errmsg(db));
	sqlite3_finalize(rd);
	sqlite3_finalize(ins);
	sqlite3_close(db);
	return rc;
}

int
main(int argc, char **argv)
{
	int rc;

	if (argc >= 3 && strcmp(argv[1], "parse") == 0) {
		xmlInitParser();
		rc = floor_parse(argc - 2, argv + 2);
		xmlCleanupParser();
		return rc;
	}
	if (argc == 4 && strcmp(argv[1], "store") == 0)
		return floor_store(argv[2], argv[3]);
	fprintf(stderr, "usage: floor parse FILE... | floor store SRC DST\n");
	return 2;
}
