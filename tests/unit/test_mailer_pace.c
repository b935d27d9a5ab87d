/* Unit tests for how a send is paced and shown: the per-minute throttle
 * (alone, and driving the send loop on an injected clock: no sleeps), and
 * the progress bar, which draws on a terminal only (a pty here) and never
 * into a pipe or file, as under cron. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../mailer/progress.h"
#include "../../mailer/throttle.h"
#include "test_mailer_fixture.h"

#define SEC 1000000

/* --- the throttle alone ------------------------------------------------------ */

static void
test_throttle_spacing(void **state)
{
	struct throttle t;

	(void)state;
	throttle_init(&t, 60);
	assert_int_equal(t.interval_us, SEC);
	assert_int_equal(throttle_wait_us(&t, 5 * SEC), 0);   /* the first goes at once */
	assert_int_equal(throttle_take(&t, 5 * SEC), 1);
	assert_int_equal(throttle_wait_us(&t, 5 * SEC + SEC / 2), SEC / 2);
	assert_int_equal(throttle_take(&t, 5 * SEC + SEC / 2), 0);
	assert_int_equal(throttle_take(&t, 6 * SEC), 1);
	/* idle for a while: no credit for a burst afterwards */
	assert_int_equal(throttle_take(&t, 100 * SEC), 1);
	assert_int_equal(throttle_take(&t, 100 * SEC + 1), 0);
	assert_int_equal(throttle_wait_us(&t, 100 * SEC + 1), SEC - 1);

	throttle_init(&t, 0); /* no limit */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(throttle_take(&t, 7), 1);
	throttle_init(&t, 7); /* rounded up: never more than 7 a minute */
	assert_int_equal(t.interval_us, 8571429);
}

/* Greedy takes at irregular moments for ten minutes: no window of a
 * minute ever holds more than the limit, and the limit is reached. */
static void
test_throttle_never_exceeds_a_minute(void **state)
{
	static const long limits[] = { 1, 7, 60, 100, 1000, 25000 };

	(void)state;
	for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
		static int64_t starts[300000];
		struct throttle t;
		size_t n = 0, best = 0;
		uint32_t seed = 12345;

		throttle_init(&t, limits[l]);
		for (int64_t now = 0; now < 600LL * SEC && n < 300000;) {
			if (throttle_take(&t, now))
				starts[n++] = now;
			/* the next look: at a random moment within a tenth of an
			 * interval, as the send loop wakes when the wait is over */
			seed = seed * 1103515245u + 12345u;
			now += 1 + (seed >> 16) % (t.interval_us / 10);
		}
		for (size_t i = 0, j = 0; i < n; i++) {
			while (starts[i] - starts[j] >= 60LL * SEC)
				j++;
			if (i - j + 1 > best)
				best = i - j + 1;
		}
		if (best > (size_t)limits[l] || best + 2 < (size_t)limits[l] * 9 / 10)
			fail_msg("limit %ld: at most %zu starts in a minute", limits[l], best);
	}
}

/* --- the progress bar ---------------------------------------------------------- */

/* A pseudo-terminal: the master to read what was drawn, the slave to
 * draw on. */
static void
open_pty(int *master, int *slave)
{
	*master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(*master >= 0);
	assert_int_equal(grantpt(*master), 0);
	assert_int_equal(unlockpt(*master), 0);
	*slave = open(ptsname(*master), O_RDWR | O_NOCTTY);
	assert_true(*slave >= 0);
	assert_int_equal(fcntl(*master, F_SETFL, O_NONBLOCK), 0);
}

static size_t
drain(int fd, char *out, size_t n)
{
	size_t used = 0;
	ssize_t got;

	while (used + 1 < n && (got = read(fd, out + used, n - 1 - used)) > 0)
		used += (size_t)got;
	out[used] = '\0';
	return used;
}

static void
test_progress_only_on_a_terminal(void **state)
{
	struct progress p;
	char seen[4096];
	int master, slave, pipefd[2];

	(void)state;
	/* a pipe (cron, a log file): nothing, however long the send */
	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(fcntl(pipefd[0], F_SETFL, O_NONBLOCK), 0);
	progress_start(&p, pipefd[1], 100, 0);
	for (int64_t t = 0; t < 10 * SEC; t += SEC / 10)
		progress_update(&p, (size_t)(t / (SEC / 10)), 1, 1, t);
	progress_end(&p, 100, 1, 1, 10 * SEC);
	assert_int_equal(drain(pipefd[0], seen, sizeof(seen)), 0);
	close(pipefd[0]);
	close(pipefd[1]);

	/* a terminal: nothing for a short send ... */
	open_pty(&master, &slave);
	progress_start(&p, slave, 10, 0);
	progress_update(&p, 5, 0, 0, SEC / 2);
	progress_end(&p, 10, 0, 0, SEC - 1);
	assert_int_equal(drain(master, seen, sizeof(seen)), 0);

	/* ... a line once it has lasted a second, redrawn at most 5 times a
	 * second, ended by a line end */
	progress_start(&p, slave, 10, 0);
	progress_update(&p, 3, 0, 0, SEC);
	assert_true(drain(master, seen, sizeof(seen)) > 0);
	assert_non_null(strstr(seen, "sending ["));
	assert_non_null(strstr(seen, " 3/10, 0 deferred, 0 failed"));
	progress_update(&p, 4, 0, 0, SEC + SEC / 10);
	assert_int_equal(drain(master, seen, sizeof(seen)), 0);
	progress_update(&p, 5, 1, 0, SEC + SEC / 5);
	drain(master, seen, sizeof(seen));
	assert_non_null(strstr(seen, " 5/10, 1 deferred"));
	progress_end(&p, 10, 1, 2, 2 * SEC);
	drain(master, seen, sizeof(seen));
	assert_non_null(strstr(seen, "[##############################] 10/10, 1 deferred, 2 failed"));
	assert_non_null(strchr(seen, '\n'));
	close(master);
	close(slave);
}

/* --- the send loop on an injected clock ----------------------------------------- */

struct fake_clock {
	int64_t now;
	int sleeps;
	int64_t slept;
};

static int64_t
clock_now(void *arg)
{
	return ((struct fake_clock *)arg)->now;
}

static void
clock_sleep(void *arg, int64_t us)
{
	struct fake_clock *c = arg;

	assert_true(us > 0);
	c->now += us;
	c->sleeps++;
	c->slept += us;
}

static void
add_five(struct fixture *f)
{
	for (int i = 1; i <= 5; i++) {
		char addr[64];

		snprintf(addr, sizeof(addr), "p%d@example.net", i);
		add_active(f, addr, "", T0 - DAY);
	}
}

/* 60 a minute: five messages take four seconds of the clock, spent in
 * four sleeps of exactly the interval; no limit: no sleep at all. */
static void
test_loop_follows_the_throttle(void **state)
{
	struct fixture *f = *state;
	struct fake_clock c = { .now = 1000 * SEC };
	struct mailer_clock mc = { clock_now, clock_sleep, &c };
	struct mailer_stats st;

	add_five(f);
	f->m->clock = &mc;
	f->p.cfg.smtp_max_per_minute = 60;
	schedule(f, T0, 5);
	st = send_due(f, T0);
	assert_int_equal(st.sent, 5);
	assert_int_equal(c.sleeps, 4);
	assert_int_equal(c.slept, 4 * SEC);

	f->p.cfg.smtp_max_per_minute = 0;
	c.sleeps = 0;
	c.slept = 0;
	schedule(f, T0 + 14 * DAY, 5);
	st = send_due(f, T0 + 14 * DAY);
	assert_int_equal(st.sent, 5);
	assert_int_equal(c.sleeps, 0);
}

/* A send that lasts (on the clock) shows its progress on a terminal, and
 * says nothing on a pipe. */
static void
test_loop_shows_progress_on_a_terminal(void **state)
{
	struct fixture *f = *state;
	struct fake_clock c = { .now = 1000 * SEC };
	struct mailer_clock mc = { clock_now, clock_sleep, &c };
	char seen[4096];
	int master, slave, pipefd[2];

	add_five(f);
	f->m->clock = &mc;
	f->p.cfg.smtp_max_per_minute = 60;
	open_pty(&master, &slave);
	f->m->progress_fd = slave;
	schedule(f, T0, 5);
	assert_int_equal(send_due(f, T0).sent, 5);
	drain(master, seen, sizeof(seen));
	assert_non_null(strstr(seen, "sending ["));
	assert_non_null(strstr(seen, " 5/5, 0 deferred, 0 failed"));
	close(master);
	close(slave);

	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(fcntl(pipefd[0], F_SETFL, O_NONBLOCK), 0);
	f->m->progress_fd = pipefd[1];
	schedule(f, T0 + 14 * DAY, 5);
	assert_int_equal(send_due(f, T0 + 14 * DAY).sent, 5);
	assert_int_equal(drain(pipefd[0], seen, sizeof(seen)), 0);
	close(pipefd[0]);
	close(pipefd[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_throttle_spacing),
		cmocka_unit_test(test_throttle_never_exceeds_a_minute),
		cmocka_unit_test(test_progress_only_on_a_terminal),
		cmocka_unit_test_setup_teardown(test_loop_follows_the_throttle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop_shows_progress_on_a_terminal, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("mailer_pace", tests, NULL, NULL);
}
