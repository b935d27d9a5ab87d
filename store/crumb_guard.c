/*
 * crumb_guard.c - the crash crumb of a thread that is not the only one.
 *
 * While one thread (the feeds reader) enters and leaves the crumb, another
 * may die of something else: libcurl, SQLite, a web page.  That death is
 * no evidence against the input the holder has in hand, and counting it
 * would set an innocent feed aside.  So, while the guard is up, a fatal
 * signal on a thread other than the one that last entered the crumb first
 * clears it, then lets the process die as it would have (with its old
 * handler: sanitizers still report).
 *
 * Only what is async-signal-safe happens in the handler: gettid, pwrite,
 * sigaction, raise.  One guard at a time in a process.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static const int guard_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
#define NGUARD (sizeof(guard_signals) / sizeof(guard_signals[0]))

static struct sigaction guard_old[NGUARD];
static int guard_fd = -1;
static volatile pid_t guard_holder;   /* the thread that entered the crumb */
static int guard_up;

static void
guard_handler(int sig, siginfo_t *si, void *ctx)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < NGUARD && guard_signals[i] != sig; i++)
		;
	if (gettid() != guard_holder)
		(void)!pwrite(guard_fd, "\n", 1, 0);
	if (i < NGUARD)
		sigaction(sig, &guard_old[i], NULL);
	/* A fault (si_code > 0) happens again when the handler returns, now
	 * with the old disposition; a signal that was sent (abort, kill) is
	 * sent again, delivered once the handler has returned. */
	if (si == NULL || si->si_code <= 0)
		raise(sig);
}

void
store_crumb_guard(struct store *st)
{
	struct sigaction sa;

	if (guard_up || !st->crumb_open || st->crumb_fd == -1)
		return; /* a crumb in memory dies with the process anyway */
	guard_fd = st->crumb_fd;
	guard_holder = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = guard_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NGUARD; i++)
		sigaction(guard_signals[i], &sa, &guard_old[i]);
	guard_up = 1;
}

void
store_crumb_unguard(void)
{
	if (!guard_up)
		return;
	for (size_t i = 0; i < NGUARD; i++)
		sigaction(guard_signals[i], &guard_old[i], NULL);
	guard_up = 0;
	guard_fd = -1;
}

void
crumb_guard_entered(void)
{
	if (guard_up)
		guard_holder = gettid();
}
