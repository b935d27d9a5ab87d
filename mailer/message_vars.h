/*
 * message_vars.h (private to mailer/) - the template variables of a
 * message, shared by message.c (policy, rendering, headers) and
 * message_vars.c (what each kind of message says).
 */
#ifndef THINGS_MAILER_MESSAGE_VARS_H
#define THINGS_MAILER_MESSAGE_VARS_H

#include <limits.h>

#include "internal.h"

#define NUM_MAX 24
#define WHERE_MAX 160

/* Template variables of one message: the programme-wide ones (given to
 * content_prepare) and the recipient's (content_personalise), with the
 * storage their values point into. */
struct vars {
	struct tvar stat[32], pers[24];
	size_t nstat, npers;
	char name[STORE_NAME_MAX + 1];
	char unsub_addr[ADDR_MAX + 1], unsub_mailto[ADDR_MAX + 8];
	char unsub_https[STORE_URL_MAX + 64];
	char tagged[ADDR_MAX + 1];        /* the kind's own address */
	char number[NUM_MAX], done[NUM_MAX], total[NUM_MAX], start[64];
	char from[STORE_NAME_MAX + ADDR_MAX + 8];
	char help_mailto[ADDR_MAX + 8];
	struct participant about;         /* DK_SUSPENDED: whom it is about */
	char command[3][PATH_MAX + 64];  /* things -c CONFIG release N, ... status,
	                                    ... release N --skip */
	char since[64];
	char week[STORE_WEEK_MAX + 1];
	struct feed feed;                 /* feed-broken: the feed */
	char ticket[NUM_MAX], waiting[32], limit[32], where[WHERE_MAX];
};

/* Appends a variable (name and value borrowed: static or in v). */
void message_vars_add(struct tvar *v, size_t *n, const char *name, const char *value,
    int markdown);
#define STAT(name, value) message_vars_add(v->stat, &v->nstat, name, value, 0)
#define PERS(name, value) message_vars_add(v->pers, &v->npers, name, value, 0)

/* The Thing a DK_THING delivery carries, from its key; NULL with e set. */
const struct thing *message_thing_of(const struct mailer *m, const struct delivery *d,
    struct err *e);
/* The display name to greet: the participant's, else the local part. */
void message_greeting_name(char *out, size_t n, const struct participant *p,
    const char *address);
/* The variables of each kind.  in is the message answered or forwarded
 * (NULL if none).  0 or -1. */
int message_kind_vars(struct mailer *m, const struct delivery *d, const struct participant *p,
    const struct inbound *in, struct vars *v, struct err *e);

#endif
