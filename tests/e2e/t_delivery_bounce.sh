#!/usr/bin/env bash
# t_delivery_bounce.sh - a dead address refused at SMTP time.  The bed's Postfix answers 550
# 5.1.1 at RCPT for unknown users (MAILBED_REJECT_UNKNOWN=1).  Things go out daily
# (interval_days = 1): each day the Thing to nobody@ fails and counts one hard bounce (never
# more than one a day); on the fifth day (threshold 5) nobody@ is suspended, the organiser is
# told in the same run, and nobody@ gets no further Things while alice gets them all.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/lib_delivery.sh"

must bed_start REJECT_UNKNOWN=1
P=$T/prog
must programme_make "$P" 7
must programme_conf "$P/things.conf" "programme.interval_days=1" "imap.url=maildir:$P/inbox"
C=$P/things.conf
must run_things -c "$C" subscribe alice@example.test "Alice"
must run_things -c "$C" subscribe nobody@example.test "No Body"
score() { sql "SELECT bounce_score || ' ' || status FROM participants WHERE address = 'nobody@example.test'"; }

# --- day 1: refused at RCPT, failed, one hard bounce -------------------------------------------------
assert_status 0 run_things -v -c "$C" run --now "$(day 1)"
assert_file_contains "$THINGS_OUT" "1 sent, 0 deferred, 1 failed" "day 1: alice's Thing goes, nobody's fails"
why=$(sql "SELECT last_error FROM deliveries WHERE recipient = 'nobody@example.test'")
assert_match "$why" "^RCPT: 550 5\.1\.1" "the failure is the server's 550 5.1.1 at RCPT"
assert_eq "1.0 active" "$(score)" "day 1: one hard bounce counted"
# the same day again: nothing new to send, and nothing counted twice
assert_status 0 run_things -v -c "$C" run --now "$(day 1)"
assert_eq "1.0 active" "$(score)" "day 1 again: still one"

# --- days 2 to 4: one a day ----------------------------------------------------------------------------
for d in 2 3 4; do
	assert_status 0 run_things -v -c "$C" run --now "$(day "$d")"
	assert_eq "$d.0 active" "$(score)" "day $d: $d bounces, still active"
done
assert_eq 0 "$(imap_count organiser)" "the organiser has not been bothered yet"

# --- day 5: the threshold: suspended, the organiser told at once --------------------------------------
assert_status 0 run_things -v -c "$C" run --now "$(day 5)"
assert_eq "5.0 suspended" "$(score)" "day 5: five bounces suspend nobody@"
assert_file_contains "$THINGS_ERR" "nobody@example.test suspended after bounces" \
	"the run says so on stderr (a cron mail)"
assert_ok imap_wait organiser 1
imap_fetch_last organiser > "$T/notice.eml"
assert_eq "Things e2e test: nobody@example.test suspended after bounces" \
	"$(mail_header "$T/notice.eml" Subject)" "the organiser's notice names the address"
notice=$(mail_part "$T/notice.eml" text/plain)
assert_contains "$notice" "No Body <nobody@example.test>" "it names the participant"
assert_contains "$notice" "550 5.1.1" "and the last bounce"
assert_eq "auto-generated" "$(mail_header "$T/notice.eml" Auto-Submitted)" "it is marked automatic"

# --- days 6 and 7: no more Things for nobody@, alice gets them all ----------------------------------
for d in 6 7; do
	assert_status 0 run_things -v -c "$C" run --now "$(day "$d")"
done
assert_eq 5 "$(sql "SELECT count(*) FROM deliveries WHERE recipient = 'nobody@example.test' AND kind = 'thing'")" \
	"no Thing is even queued for nobody@ once suspended"
assert_eq 7 "$(sql "SELECT count(*) FROM deliveries WHERE recipient = 'alice@example.test' AND kind = 'thing' AND state = 'sent'")" \
	"alice got all seven"
assert_ok imap_wait alice 7
assert_eq 1 "$(imap_count organiser)" "the organiser was told once"
assert_status 0 run_things -c "$C" report
assert_match "$(cat "$THINGS_OUT")" "nobody@example.test +suspended" "the report shows nobody@ suspended"
