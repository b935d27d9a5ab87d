#!/usr/bin/env bash
# t_delivery_crash.sh - crash safety of a large send.  One Thing goes to hundreds of
# participants through badsmtp.py, which records every message it accepts.  `things run` is
# killed with SIGKILL many times in the middle of the send (once deterministically with
# THINGS_TEST_STOP_AFTER, then at random moments once messages are flowing), then a run is let
# finish.  Every participant has the Thing; no one has it twice except messages that were in
# flight at a kill, at most one per connection per kill; the store is consistent (no delivery
# left "sending", each participant one delivery, marked sent, integrity check ok).
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/lib_delivery.sh"

N=${CRASH_RECIPIENTS:-300}
KILLS=${CRASH_KILLS:-10}
CONNS=4

must bed_start
# slow enough answers that a send takes a while and kills land in the middle of it
must start_badsmtp --delay 0.005
P=$T/prog
must programme_make "$P" 1
must programme_conf "$P/things.conf" "smtp.url=smtp://127.0.0.1:$BADSMTP_PORT" \
	"smtp.connections=$CONNS" "imap.url=maildir:$P/inbox"
C=$P/things.conf
must subscribe_many 'p%04d@example.test' "$N"

# --- a deterministic crash: killed right after the 25th accepted message, before recording it
THINGS_TEST_STOP_AFTER=25 run_things -c "$C" run
assert_eq 137 "$THINGS_STATUS" "THINGS_TEST_STOP_AFTER kills the run (SIGKILL)"
got=$(badsmtp_count)
assert_ge 25 "$got" "the server has the 25 accepted before the kill"
assert_eq 1 "$(( got <= 25 + CONNS ))" "and at most $CONNS more, in flight ($got)"
kills=1

# --- random kills while messages flow ------------------------------------------------------------
for ((k = 1; k <= KILLS; k++)); do
	before=$(badsmtp_count)
	[ "$before" -ge "$N" ] && break
	"$THINGS" -c "$C" run </dev/null >>"$T/killed.log" 2>&1 &
	pid=$!
	# once this run has sent something, after a random pause of up to 0.15 s
	wait_for 30 grew "$before"
	sleep "0.$(printf '%03d' $((RANDOM % 150)))"
	if kill -KILL "$pid" 2>/dev/null; then
		kills=$((kills + 1))
	fi
	wait "$pid" 2>/dev/null
	echo "# kill $k: the server had $before, now $(badsmtp_count); store: $(sql "SELECT state || '=' || count(*) FROM deliveries GROUP BY state" | tr '\n' ' ')"
done
partial=$(badsmtp_count)
assert_eq 1 "$(( partial > 25 ))" "the killed runs sent some ($partial accepted so far)"
assert_ge 5 "$kills" "at least 5 runs were killed in the middle of the send ($kills)"

# --- a run that finishes ------------------------------------------------------------------------
left=$(sql "SELECT count(*) FROM deliveries WHERE state != 'sent'")
sending=$(sql "SELECT count(*) FROM deliveries WHERE state = 'sending'")
assert_eq 1 "$(( sending <= CONNS ))" "the last kill left at most $CONNS deliveries sending ($sending)"
assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "$left sent, 0 deferred, 0 failed" \
	"the last run sends the $left the killed ones left"
if [ "$sending" -gt 0 ]; then
	assert_file_contains "$THINGS_OUT" "$sending recovered from an interrupted run" \
		"and puts back the $sending that were in flight at the last kill"
fi
assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "0 sent, 0 deferred, 0 failed" "then nothing is left to send"

# --- every participant got it; duplicates only from in-flight messages --------------------------
read -r distinct total most <<<"$(per_recipient p)"
read -r everyone _ _ <<<"$(per_recipient)"
others=$((everyone - distinct))
echo "# $distinct participants got the Thing, $total messages in all, at most $most each, after $kills kills"
assert_eq "$N" "$distinct" "every participant received the Thing"
dups=$((total - N))
assert_eq 1 "$(( dups <= kills * CONNS ))" \
	"duplicates ($dups) within in-flight messages: at most $CONNS per kill ($kills kills)"
assert_eq 1 "$(( most <= 1 + kills ))" "no one got it more often than there were kills"
assert_eq 0 "$others" "nothing went to anyone else"

# --- the store is consistent ---------------------------------------------------------------------
assert_eq "ok" "$(sql "PRAGMA integrity_check")" "the store passes SQLite's integrity check"
assert_eq "$N" "$(sql "SELECT count(*) FROM deliveries WHERE kind = 'thing' AND state = 'sent'")" \
	"each participant's Thing is recorded as sent"
assert_eq "$N" "$(sql "SELECT count(*) FROM deliveries")" "one delivery per participant, no more"
assert_eq 0 "$(sql "SELECT count(*) FROM deliveries WHERE state != 'sent'")" \
	"nothing left sending, queued or deferred"
assert_eq "$N" "$(sql "SELECT count(DISTINCT participant_id) FROM deliveries")" \
	"each participant has exactly one"
