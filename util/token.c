/*
 * token.c - random tokens (delivery Message-IDs, MIME boundaries,
 * participants' links) from the kernel's CSPRNG.
 *
 * One getrandom(2) per token was a system call per delivery scheduled and
 * another per message composed: a few per cent of a big send.  The bytes
 * now come from a small per-thread pool of getrandom output, refilled when
 * it runs short: still the CSPRNG's bytes only, each used once and wiped
 * from the pool as it is handed out.  A child process starts with an
 * empty pool (pthread_atfork), so a fork never repeats the parent's
 * tokens.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#include "util.h"

#define TOKEN_RAW (TOKEN_HEX_LEN / 2)
#define POOL_SIZE 252 /* 21 tokens; getrandom never cuts a read of <= 256 bytes short */

static _Thread_local struct {
	unsigned char bytes[POOL_SIZE];
	size_t left; /* unused bytes, at the end of bytes[] */
} pool;

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void
pool_forget(void)
{
	explicit_bzero(pool.bytes, sizeof(pool.bytes));
	pool.left = 0;
}

static void
register_atfork(void)
{
	/* in the child only: the thread that forked is the child's only one */
	pthread_atfork(NULL, NULL, pool_forget);
}

static int
pool_take(unsigned char *out, size_t n, struct err *e)
{
	unsigned char *from;
	ssize_t got;

	pthread_once(&atfork_once, register_atfork);
	if (pool.left < n) {
		got = getrandom(pool.bytes, sizeof(pool.bytes), 0);
		if (got != (ssize_t)sizeof(pool.bytes)) {
			pool_forget();
			return err_set(e, "getrandom: %s", got < 0 ? strerror(errno) : "short read");
		}
		pool.left = sizeof(pool.bytes);
	}
	from = pool.bytes + sizeof(pool.bytes) - pool.left;
	memcpy(out, from, n);
	explicit_bzero(from, n);
	pool.left -= n;
	return 0;
}

size_t
token_pool_left(void)
{
	return pool.left;
}

int
token_new(char *out, struct err *e)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[TOKEN_RAW];

	if (pool_take(raw, sizeof(raw), e) == -1)
		return -1;
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[TOKEN_HEX_LEN] = '\0';
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

int
token_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == TOKEN_HEX_LEN;
}
