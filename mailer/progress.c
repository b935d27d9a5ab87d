/* progress.c - the progress bar of a long send: see progress.h. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"

#define BAR_WIDTH 30

void
progress_start(struct progress *p, int fd, size_t total, int64_t now_us)
{
	memset(p, 0, sizeof(*p));
	p->fd = fd >= 0 && isatty(fd) ? fd : -1;
	p->total = total;
	p->start_us = now_us;
}

static void
draw(struct progress *p, size_t done, size_t deferred, size_t failed, int64_t now_us)
{
	char bar[BAR_WIDTH + 1], line[160];
	size_t total = done > p->total ? done : p->total; /* mail queued meanwhile */
	size_t fill = total ? done * BAR_WIDTH / total : BAR_WIDTH;
	double secs = (double)(now_us - p->start_us) / 1e6;
	int n;

	memset(bar, '#', fill);
	memset(bar + fill, '.', BAR_WIDTH - fill);
	bar[BAR_WIDTH] = '\0';
	n = snprintf(line, sizeof(line), "\rsending [%s] %zu/%zu, %zu deferred, %zu failed, %.0f/s ",
	    bar, done, total, deferred, failed, secs > 0 ? (double)done / secs : 0.0);
	if (n > 0 && write(p->fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) > 0)
		p->drawn = 1;
	p->drawn_us = now_us;
}

void
progress_update(struct progress *p, size_t done, size_t deferred, size_t failed,
    int64_t now_us)
{
	if (p->fd < 0 || now_us - p->start_us < PROGRESS_AFTER_US ||
	    (p->drawn && now_us - p->drawn_us < PROGRESS_EVERY_US))
		return;
	draw(p, done, deferred, failed, now_us);
}

void
progress_end(struct progress *p, size_t done, size_t deferred, size_t failed, int64_t now_us)
{
	if (p->fd < 0 || !p->drawn)
		return;
	draw(p, done, deferred, failed, now_us);
	if (write(p->fd, "\n", 1) < 0)
		p->fd = -1; /* the terminal went away: nothing to report it to */
}
