#!/bin/sh
# Runs each unit-test binary given; fails if any fails.  VALGRIND=1 runs them
# under valgrind with a leak check that fails the run.
set -u
fail=0
for t in "$@"; do
	if [ "${VALGRIND:-0}" = 1 ]; then
		valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		    --suppressions="$(dirname "$0")/valgrind.supp" --error-exitcode=99 "$t" || fail=1
	else
		"$t" || fail=1
	fi
done
[ "$fail" = 0 ] && echo "unit: all $# test programs passed" || echo "unit: FAILED" >&2
exit $fail
