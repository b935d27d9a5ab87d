/*
 * throttle.h (private to mailer/) - a limit on messages per minute, as
 * mail providers set them: starts at least 60/max seconds apart, so that
 * no window of a minute ever holds more than max.  Time is passed in (any
 * monotonic clock, microseconds), so that tests need no sleeps.
 */
#ifndef THINGS_MAILER_THROTTLE_H
#define THINGS_MAILER_THROTTLE_H

#include <stdint.h>

struct throttle {
	int64_t interval_us;   /* 0: no limit */
	int64_t next_us;       /* the earliest start allowed; 0 before the first */
	int started;
};

/* per_minute <= 0: no limit. */
void throttle_init(struct throttle *t, long per_minute);

/* Microseconds from now until the next start is allowed (0: now). */
int64_t throttle_wait_us(const struct throttle *t, int64_t now_us);

/* Takes the start allowed at now: 1 if one was (the next is then one
 * interval later), 0 if now is too early. */
int throttle_take(struct throttle *t, int64_t now_us);

#endif
