/* diag.c - collecting every problem of a programme, not just the first. */
#include <stdio.h>

#include "content_int.h"

void
diag_init(struct diag *d, content_diag_fn fn, void *arg, struct err *first)
{
	d->fn = fn;
	d->arg = arg;
	d->first = first;
	d->count = 0;
}

void
diag_report(struct diag *d, const char *file, int line, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d->fn)
		d->fn(d->arg, file, line, msg);
	if (d->count++ == 0) {
		if (line > 0)
			err_set(d->first, "%s:%d: %s", file, line, msg);
		else
			err_set(d->first, "%s: %s", file, msg);
	}
}
