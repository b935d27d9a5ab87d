#!/usr/bin/env bash
# run.sh [TEST...] - runs the end-to-end tests against real Dovecot and Postfix on loopback.
#
#   THINGS=/abs/path/to/things tests/e2e/run.sh              every tests/e2e/t_*.sh
#   THINGS=... tests/e2e/run.sh t_mailbed skeleton           a subset (t_ and .sh optional)
#
# Prints PASS/FAIL and the time of each test; for a failed test, the tail of its output (which
# holds the log tails of its mail bed and of the things runs).  Exits non-zero if any failed.
# Needs root: each test starts its own private Postfix, whose master must be root.
#
# Each test gets its own bed (lib.sh's bed_start): a bed starts in ~0.6 s and stops in ~0.1 s,
# and in exchange every test starts from empty mailboxes and an empty queue (exact counts, no
# mail leaking between tests), chooses its own knobs (REJECT_UNKNOWN, users) and can stop or
# restart Dovecot or Postfix without disturbing others.  Ports are chosen per bed, so two runs
# on one machine do not collide.
#
# After each test, run.sh checks that nothing the test started is still running (bed daemons,
# helper servers, things) and fails the test if something is, then stops it.
#
# Environment: E2E_TIMEOUT (seconds per test, default 600), KEEP=1 (keep each test's temp
# dir and this run's output directory), E2E_TMPDIR (where the run directory goes; /tmp).
set -u -o pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MAILBED=$E2E_DIR/mailbed.sh

die() { echo "e2e: $*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "the end-to-end tests must run as root: each test starts a private Postfix, whose master process needs root. Run them as root (e.g. sudo make e2e)."
[ -n "${THINGS:-}" ] || die "THINGS is not set: run the tests with 'make e2e' or set THINGS to the absolute path of the things binary."
case $THINGS in /*) ;; *) THINGS=$(realpath -m -- "$THINGS") ;; esac
[ -f "$THINGS" ] && [ -x "$THINGS" ] || die "THINGS=$THINGS is not an executable file: build it first ('make')."
export THINGS

missing=
for c in dovecot doveadm postfix postqueue smtp-sink swaks curl openssl python3 ss flock timeout; do
	command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
[ -z "$missing" ] || die "missing programs:$missing (run 'make deps' as root)"

# which tests
tests=()
if [ $# -gt 0 ]; then
	for a in "$@"; do
		n=$(basename "$a" .sh)
		case $n in t_*) ;; *) n=t_$n ;; esac
		[ -f "$E2E_DIR/$n.sh" ] || die "no test $E2E_DIR/$n.sh"
		tests+=("$E2E_DIR/$n.sh")
	done
else
	for f in "$E2E_DIR"/t_*.sh; do [ -f "$f" ] && tests+=("$f"); done
fi
[ ${#tests[@]} -gt 0 ] || die "no tests found in $E2E_DIR"

RUN=$(mktemp -d "${E2E_TMPDIR:-${TMPDIR:-/tmp}}/things-e2e.XXXXXX") || die "mktemp failed"
chmod 755 "$RUN"
export E2E_TMPDIR=$RUN E2E_BEDS_FILE=$RUN/beds
: > "$E2E_BEDS_FILE"

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# leftovers BEDS...: live processes of these beds or carrying a test's E2E_TAG, "pid(comm)".
# (A zombie's /proc/PID/environ is empty, so the grep finds only live processes.)
leftovers() {
	local f pid bed
	for bed in "$@"; do
		"$MAILBED" ps "$bed" 2>/dev/null | awk '{ printf "%s(%s) ", $1, $3 }'
	done
	for f in $(grep -lzF "E2E_TAG=$RUN/" /proc/[0-9]*/environ 2>/dev/null); do
		pid=${f#/proc/}; pid=${pid%/environ}
		printf '%s(%s) ' "$pid" "$(cat "/proc/$pid/comm" 2>/dev/null)"
	done
}

kill_leftovers() {
	local f pid bed
	for bed in "$@"; do "$MAILBED" stop "$bed" >/dev/null 2>&1; done
	for f in $(grep -lzF "E2E_TAG=$RUN/" /proc/[0-9]*/environ 2>/dev/null); do
		pid=${f#/proc/}; pid=${pid%/environ}
		kill -KILL "$pid" 2>/dev/null
	done
}

passed=0 failed=0 failed_names=
t_all=$(now_ms)
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	out=$RUN/$name.out
	nbeds=$(wc -l < "$E2E_BEDS_FILE")
	t0=$(now_ms)
	timeout -k 10 "${E2E_TIMEOUT:-600}" bash "$t" > "$out" 2>&1 < /dev/null
	rc=$?
	ms=$(($(now_ms) - t0))
	mapfile -t beds < <(tail -n +"$((nbeds + 1))" "$E2E_BEDS_FILE" | sort -u)
	left=$(leftovers "${beds[@]}" | tr ' ' '\n' | sort -u | tr '\n' ' ' | sed 's/^ *//')
	if [ -n "$left" ]; then
		echo "e2e: $name left processes behind: $left" >> "$out"
		kill_leftovers "${beds[@]}"
		[ "$rc" = 0 ] && rc=99
	fi
	[ "$rc" = 124 ] && echo "e2e: $name timed out after ${E2E_TIMEOUT:-600} s" >> "$out"
	if [ "$rc" = 0 ]; then
		printf 'PASS %-28s %6d.%02d s\n' "$name" $((ms / 1000)) $((ms % 1000 / 10))
		passed=$((passed + 1))
	else
		printf 'FAIL %-28s %6d.%02d s  (exit status %s)\n' "$name" $((ms / 1000)) $((ms % 1000 / 10)) "$rc"
		if grep -q '^not ok' "$out"; then
			echo "---- $name: failed assertions"
			grep -A4 '^not ok' "$out" | grep -v '^# ' | head -n 60
		fi
		echo "---- $name: last 80 lines of output ($out)"
		tail -n 80 "$out" | sed 's/^/  | /'
		failed=$((failed + 1)) failed_names="$failed_names $name"
	fi
done
ms=$(($(now_ms) - t_all))

printf 'e2e: %d passed, %d failed in %d.%02d s\n' "$passed" "$failed" $((ms / 1000)) $((ms % 1000 / 10))
if [ "$failed" != 0 ]; then
	echo "e2e: FAILED:$failed_names (outputs kept in $RUN)" >&2
	exit 1
fi
if [ "${KEEP:-0}" = 1 ]; then echo "e2e: KEEP=1: outputs kept in $RUN"; else rm -rf "$RUN"; fi
exit 0
