/*
 * smtp_internal.h (private to smtp.c and smtp_connect.c) - the SMTP
 * transport's state.  smtp_connect.c has libcurl open, secure and
 * authenticate each slot's connection (CURLOPT_CONNECT_ONLY: greeting,
 * EHLO, STARTTLS, AUTH); smtp.c runs the mail transactions over it with
 * curl_easy_send/curl_easy_recv (smtp_dialogue.c), PIPELINING when the
 * server offers it, which libcurl's own SMTP does not do.
 */
#ifndef THINGS_MAILER_SMTP_INTERNAL_H
#define THINGS_MAILER_SMTP_INTERNAL_H

#include <curl/curl.h>

#include "smtp_proto.h"
#include "transport.h"

#define SMTP_URL_MAX 2048
#define SMTP_CMD_MAX 16
#define SMTP_SLOT_FDS 4  /* sockets libcurl may watch per slot (connect races) */

enum smtp_conn {
	CONN_CLOSED,
	CONN_CONNECTING,  /* libcurl at work (multi handle, its sockets and timer) */
	CONN_READY,       /* connected, no transaction */
	CONN_TXN,         /* a transaction under way (smtp_dialogue.c) */
	CONN_QUIT,        /* QUIT sent, waiting for the answer or the close */
};

struct smtp_slot {
	CURLM *multi;             /* its own: one connection per slot */
	CURL *easy;
	enum smtp_conn conn;
	int busy;                 /* a message submitted, no outcome yet */
	int done;                 /* its outcome is in res, not yet reported */
	struct transport_result res;
	struct transport_msg msg; /* the submission (borrowed bytes) */
	long on_connection;       /* transactions over the current connection */

	/* while libcurl connects: what it asked us to watch */
	struct {
		curl_socket_t fd;
		short events;
	} fds[SMTP_SLOT_FDS];
	size_t nfds;
	int64_t timer_at;         /* libcurl's timeout, monotonic ms; -1: none */
	/* libcurl's dialogue, seen through its debug callback */
	char cmd[SMTP_CMD_MAX];   /* the last command it sent ("" = greeting) */
	int ehlo_lines;           /* lines of the EHLO reply so far */
	struct smtp_caps caps;    /* what the last EHLO reply offered */
	int fail_code;            /* its first 4xx/5xx reply */
	char fail_cmd[SMTP_CMD_MAX];
	char fail[STORE_REASON_MAX + 1];
	char errbuf[CURL_ERROR_SIZE];

	/* once connected: our dialogue */
	curl_socket_t fd;
	int64_t deadline;         /* of the transaction or QUIT, monotonic ms */
	int64_t idle_since;       /* CONN_READY since, monotonic ms */
	struct buf out;           /* bytes to send, from out_off on */
	size_t out_off;
	struct smtp_reader reader;
	struct smtp_txn txn;
};

struct smtp {
	struct transport base;
	CURLSH *share;
	long max_per_connection;
	long timeout_ms;
	int tls;                  /* TLS is required: read until libcurl says EAGAIN */
	size_t next_report;       /* where the search for a result starts: fairness */
	char url[SMTP_URL_MAX + 1];
	char shown[SMTP_URL_MAX + 1]; /* url without credentials, for messages */
	int global_init;
	struct smtp_slot slot[];
};

/* smtp_connect.c */

/* Checks cfg, sets up libcurl and every slot's handles; no connection
 * yet.  On failure everything is released (smtp_free). */
int smtp_setup(struct smtp *sm, const struct transport_config *cfg, struct err *e);

/* Has libcurl start connecting slot s (CONN_CLOSED -> CONN_CONNECTING). */
int smtp_connect_start(struct smtp *sm, struct smtp_slot *s, struct err *e);

/* Drives libcurl for slot s (fd and ev as for curl_multi_socket_action;
 * CURL_SOCKET_TIMEOUT for its timer); when the connection is made, s goes
 * to CONN_READY (caps and fd set); when it failed, to CONN_CLOSED with the
 * outcome in s->res and *failed = 1.  -1 on an internal libcurl error. */
int smtp_connect_step(struct smtp *sm, struct smtp_slot *s, curl_socket_t fd, int ev,
    int *failed, struct err *e);

/* Closes s's connection (libcurl forgets it; no QUIT: we say it), if any. */
void smtp_disconnect(struct smtp_slot *s);

/* Releases the slots' handles and sm. */
void smtp_free(struct smtp *sm);

#endif
