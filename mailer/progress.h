/*
 * progress.h (private to mailer/) - a one-line progress bar for a long
 * send, on a terminal only: under cron (stderr a file or a pipe) it writes
 * nothing, so a run stays quiet unless something goes wrong.  Time is
 * passed in (monotonic microseconds), so that tests need no sleeps.
 */
#ifndef THINGS_MAILER_PROGRESS_H
#define THINGS_MAILER_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#define PROGRESS_AFTER_US 1000000  /* a send shorter than this shows nothing */
#define PROGRESS_EVERY_US 200000   /* at most five redraws a second */

struct progress {
	int fd;              /* -1: off (not a terminal) */
	size_t total;        /* due when the send started */
	int64_t start_us, drawn_us;
	int drawn;           /* a line is on the screen */
};

/* Starts a progress report on fd for total messages, if fd is a
 * terminal; otherwise every call below does nothing. */
void progress_start(struct progress *p, int fd, size_t total, int64_t now_us);

/* Redraws the line if the send has lasted PROGRESS_AFTER_US and the last
 * redraw is PROGRESS_EVERY_US old.  done counts messages settled (sent,
 * deferred or failed). */
void progress_update(struct progress *p, size_t done, size_t deferred, size_t failed,
    int64_t now_us);

/* Draws the final state and ends the line, if a line was drawn. */
void progress_end(struct progress *p, size_t done, size_t deferred, size_t failed,
    int64_t now_us);

#endif
