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
 * The holder goes on running while the process dies (a sanitizer's report
 * takes a while), and its next entry would write the crumb again: the
 * handler first puts /dev/null, read-only, in place of the crumb's file
 * descriptor, so that any later write to it fails, and clears the crumb
 * through a descriptor of its own.
 *
 * Only what is async-signal-safe happens in the handler: gettid, dup2,
 * pwrite, sigaction, raise.  One guard at a time in a process.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static const int guard_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
#define NGUARD (sizeof(guard_signals) / sizeof(guard_signals[0]))

static struct sigaction guard_old[NGUARD];
static int guard_fd = -1;             /* the crumb's, which the store writes */
static int guard_own = -1;            /* the same file, the handler's */
static int guard_null = -1;           /* /dev/null, read-only */
static volatile pid_t guard_holder;   /* the thread that entered the crumb */
static int guard_up;

static void
guard_handler(int sig, siginfo_t *si, void *ctx)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < NGUARD && guard_signals[i] != sig; i++)
		;
	if (gettid() != guard_holder) {
		(void)dup2(guard_null, guard_fd);
		(void)!pwrite(guard_own, "\n", 1, 0);
	}
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
	if ((guard_own = fcntl(st->crumb_fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return;
	if ((guard_null = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		close(guard_own);
		guard_own = -1;
		return;
	}
	guard_fd = st->crumb_fd;
	guard_holder = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = guard_handler;
	/* SA_ONSTACK: a stack overflow still reaches a handler where the
	 * thread has an alternate stack (the sanitizers set one) */
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
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
	close(guard_own);
	close(guard_null);
	guard_own = guard_null = -1;
}

void
crumb_guard_entered(void)
{
	if (guard_up)
		guard_holder = gettid();
}
