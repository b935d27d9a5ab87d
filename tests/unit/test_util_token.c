/* Unit tests for util/token.c: tokens drawn from the per-thread pool of
 * CSPRNG bytes stay distinct and well-formed across refills and forks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../util/util.h"

#define MANY 500 /* about 24 pools' worth */

static int
cmp_token(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
test_many_tokens_distinct_and_valid(void **state)
{
	static char tok[MANY][TOKEN_HEX_LEN + 1];
	struct err e;

	(void)state;
	for (size_t i = 0; i < MANY; i++) {
		assert_int_equal(token_new(tok[i], &e), 0);
		assert_true(token_valid(tok[i]));
	}
	qsort(tok, MANY, sizeof(tok[0]), cmp_token);
	for (size_t i = 1; i < MANY; i++)
		assert_string_not_equal(tok[i - 1], tok[i]);
}

/* Empties the pool exactly, then takes the token that needs a refill. */
static void
test_refill_at_pool_boundary(void **state)
{
	const size_t raw = TOKEN_HEX_LEN / 2;
	char last[TOKEN_HEX_LEN + 1], next[TOKEN_HEX_LEN + 1];
	size_t full, draws = 0;
	struct err e;

	(void)state;
	while (token_pool_left() >= raw) /* whatever earlier tests left */
		assert_int_equal(token_new(last, &e), 0);
	assert_int_equal(token_new(last, &e), 0); /* a refill */
	full = token_pool_left() + raw;
	assert_true(full >= 2 * raw);
	while (token_pool_left() >= raw) {
		size_t before = token_pool_left();

		assert_int_equal(token_new(last, &e), 0);
		assert_int_equal(token_pool_left(), before - raw);
		draws++;
	}
	assert_int_equal(draws, full / raw - 1);
	assert_int_equal(token_new(next, &e), 0); /* across the boundary */
	assert_int_equal(token_pool_left(), full - raw);
	assert_true(token_valid(last));
	assert_true(token_valid(next));
	assert_string_not_equal(last, next);
}

/* Without the fork handler the child would hand out the parent's next
 * token. */
static void
test_fork_does_not_repeat_tokens(void **state)
{
	char mine[TOKEN_HEX_LEN + 1], child[TOKEN_HEX_LEN + 1] = "";
	struct err e;
	int fd[2], status;
	pid_t pid;

	(void)state;
	assert_int_equal(token_new(mine, &e), 0);
	if (token_pool_left() < TOKEN_HEX_LEN / 2) /* make sure the parent's pool has bytes */
		assert_int_equal(token_new(mine, &e), 0);
	assert_true(token_pool_left() >= TOKEN_HEX_LEN / 2);
	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char t[TOKEN_HEX_LEN + 1];

		close(fd[0]);
		if (token_pool_left() != 0 || token_new(t, &e) == -1 ||
		    write(fd[1], t, TOKEN_HEX_LEN) != TOKEN_HEX_LEN)
			_exit(1);
		_exit(0);
	}
	close(fd[1]);
	assert_int_equal(read(fd[0], child, TOKEN_HEX_LEN), TOKEN_HEX_LEN);
	close(fd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(token_new(mine, &e), 0);
	assert_true(token_valid(child));
	assert_string_not_equal(mine, child);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_tokens_distinct_and_valid),
		cmocka_unit_test(test_refill_at_pool_boundary),
		cmocka_unit_test(test_fork_does_not_repeat_tokens),
	};
	return cmocka_run_group_tests_name("util_token", tests, NULL, NULL);
}
