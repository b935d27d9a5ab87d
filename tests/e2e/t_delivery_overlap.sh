#!/usr/bin/env bash
# t_delivery_overlap.sh - two cron runs that overlap never send a message twice.  Runs start
# together, or one starts while another is in the middle of a slow send (badsmtp.py answering
# slowly); the one that finds the run lock taken exits quietly at once (status 0, nothing on
# stdout or stderr), the other sends.  Every participant has each Thing exactly once.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/lib_delivery.sh"

N=60
must bed_start
must start_badsmtp --delay 0.01
P=$T/prog
must programme_make "$P" 3
# Thing N is released N-1 days after the start: each round below releases one more
must programme_conf "$P/things.conf" "smtp.url=smtp://127.0.0.1:$BADSMTP_PORT" \
	"imap.url=maildir:$P/inbox" "programme.interval_days=1"
C=$P/things.conf
must subscribe_many 'o%03d@example.test' "$N"

# --- round 1: two runs started together ----------------------------------------------------------
"$THINGS" -c "$C" run --now "$(later 60)" >"$T/a1.out" 2>"$T/a1.err" &
a=$!
"$THINGS" -c "$C" run --now "$(later 60)" >"$T/b1.out" 2>"$T/b1.err" &
b=$!
wait "$a"; sa=$?
wait "$b"; sb=$?
assert_eq "0 0" "$sa $sb" "both runs exit 0"
assert_eq "" "$(cat "$T/a1.out" "$T/a1.err" "$T/b1.out" "$T/b1.err")" "both are quiet, as under cron"
assert_eq "$N" "$(badsmtp_count)" "Thing 1 went to each participant once"

# --- rounds 2 and 3: a second run starts in the middle of the first one's send --------------------
for round in 2 3; do
	before=$(badsmtp_count)
	now=$(later $(( (round - 1) * 86400 + 60 )))
	"$THINGS" -v -c "$C" run --now "$now" >"$T/a$round.out" 2>"$T/a$round.err" &
	a=$!
	wait_for 20 grew "$before"
	started=$(badsmtp_count)
	run_things -v -c "$C" run --now "$now"
	assert_eq 0 "$THINGS_STATUS" "round $round: the second run exits 0"
	assert_file_contains "$THINGS_ERR" "another run holds the lock" \
		"round $round: the second run finds the lock taken"
	assert_file_not_contains "$THINGS_OUT" "sent" "round $round: and sends nothing"
	wait "$a"
	assert_eq 0 "$?" "round $round: the first run finishes"
	assert_eq 1 "$(( started < before + N ))" "round $round: the second run came mid-send"
	assert_file_contains "$T/a$round.out" "$N sent" "round $round: the first run sent Thing $round to all"
done

# --- everyone has each Thing once ---------------------------------------------------------------------
per=$(python3 - "$BADSMTP_DIR" <<'PY'
import collections, glob, json, re, sys
c = collections.Counter()
for f in glob.glob(sys.argv[1] + "/msg-*.json"):
    env = json.load(open(f))
    subject = re.search(rb"^Subject: ([^\r\n]*)", open(f[:-5] + ".eml", "rb").read(), re.M)
    for r in env["rcpt_to"]:
        c[(r, subject.group(1) if subject else b"")] += 1
print(len(c), max(c.values()))
PY
)
assert_eq "$((3 * N)) 1" "$per" "each participant has each of the 3 Things exactly once"
assert_eq "$((3 * N))" "$(sql "SELECT count(*) FROM deliveries WHERE state = 'sent'")" \
	"the store agrees"
