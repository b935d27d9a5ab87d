/* throttle.c - evenly spaced starts: see throttle.h. */
#include "throttle.h"

void
throttle_init(struct throttle *t, long per_minute)
{
	t->interval_us = per_minute > 0 ? (60000000 + per_minute - 1) / per_minute : 0;
	t->next_us = 0;
	t->started = 0;
}

int64_t
throttle_wait_us(const struct throttle *t, int64_t now_us)
{
	if (t->interval_us == 0 || !t->started || now_us >= t->next_us)
		return 0;
	return t->next_us - now_us;
}

int
throttle_take(struct throttle *t, int64_t now_us)
{
	if (throttle_wait_us(t, now_us) > 0)
		return 0;
	/* from now, not from the slot missed: time spent idle is no credit
	 * for a burst later */
	t->next_us = now_us + t->interval_us;
	t->started = 1;
	return 1;
}
