#!/usr/bin/env bash
# t_delivery_retry.sh - a server that misbehaves (tests/tools/badsmtp.py): 421 at the greeting,
# 451 at RCPT, 451 after the data, the connection dropped in the middle of the data.  Those
# deliveries are deferred with the server's words, retried on later runs (--now moves the
# clock past the backoff, 5 minutes after a first failure, then 10, 20 ...), and in the end
# every participant has the Thing exactly once: a message the server refused or never
# acknowledged was not accepted, so sending it again is no duplicate.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/lib_delivery.sh"

N=12
must bed_start
# connections 1-2: 421 at the greeting; transactions 1-2: 451 at RCPT, 3-4: the connection
# dropped in the data, 5-6: 451 after the data (each fault takes the first K transactions that
# an earlier stage did not refuse already)
must start_badsmtp --greet-421 2 --rcpt-451 2 --drop-data 4 --eom-451 6
P=$T/prog
must programme_make "$P" 1
must programme_conf "$P/things.conf" "smtp.url=smtp://127.0.0.1:$BADSMTP_PORT" \
	"smtp.connections=2" "imap.url=maildir:$P/inbox"
C=$P/things.conf
must subscribe_many 'r%02d@example.test' "$N"

# --- the first run: some go, the rest is deferred with the server's words -----------------------
assert_status 0 run_things -v -c "$C" run --now "$(later 0)"
deferred=$(sql "SELECT count(*) FROM deliveries WHERE state = 'deferred'")
assert_ge 7 "$deferred" "the refused and dropped ones are deferred ($deferred)"
assert_eq 0 "$(sql "SELECT count(*) FROM deliveries WHERE state IN ('failed', 'sending')")" \
	"a temporary failure is neither failed nor left sending"
reasons=$(sql "SELECT last_error FROM deliveries WHERE state = 'deferred'")
assert_contains "$reasons" "RCPT: 451 4.3.0" "a 451 at RCPT is recorded with its words"
assert_contains "$reasons" "DATA-END: 451 4.3.0" "a 451 after the data too"
assert_contains "$reasons" "CONNECT: 421 4.3.2" "a 421 at the greeting too"
assert_match "$reasons" "smtp://127.0.0.1:$BADSMTP_PORT: (Failure when receiving|Send failure|Weird server reply|connection closed by the server)" \
	"a connection dropped in the data is recorded as such"
assert_eq 1 "$(( $(sql "SELECT min(due_at) FROM deliveries WHERE state = 'deferred'") > $(date +%s) + 240 ))" \
	"retries wait (5 minutes after a first failure)"

# --- a run before the backoff is over retries none of them -----------------------------------
# (it may send what the first run left queued: after 2 x connections + 1 failures in a row
# that concern no message in particular, a run stops taking work)
waiting=$(sql "SELECT id || ':' || attempts FROM deliveries WHERE state = 'deferred' ORDER BY id")
assert_status 0 run_things -v -c "$C" run --now "$(later 60)"
assert_eq "$waiting" "$(sql "SELECT id || ':' || attempts FROM deliveries WHERE state = 'deferred' ORDER BY id")" \
	"nothing deferred is retried before its time"

# --- later runs: everything goes, once ---------------------------------------------------------
for t in 360 1000 2200 4600; do
	[ "$(sql "SELECT count(*) FROM deliveries WHERE state != 'sent'")" = 0 ] && break
	assert_status 0 run_things -v -c "$C" run --now "$(later "$t")"
done
assert_eq "$N" "$(sql "SELECT count(*) FROM deliveries WHERE state = 'sent'")" \
	"in the end every delivery is sent"
assert_ge 2 "$(sql "SELECT max(attempts) FROM deliveries")" "some took more than one attempt"
assert_eq "$N $N 1" "$(per_recipient)" "each participant received the Thing exactly once"
events=$(cat "$BADSMTP_DIR/events.log")
assert_contains "$events" "> 421 4.3.2" "the server did answer 421 at the greeting"
assert_contains "$events" "dropping the connection in DATA" "and dropped connections in the data"
assert_contains "$events" "> 451 4.3.0 badsmtp: temporary failure after DATA" "and 451 after the data"
