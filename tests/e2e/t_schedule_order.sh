#!/usr/bin/env bash
# t_schedule_order.sh - nobody gets Thing N+1 before Thing N, through real Postfix and Dovecot:
# alice gets Thing 1, then runs stop for six weeks; the first run after it holds Thing 2 (a month
# late) and sends neither 3 nor 4, though both are due: they wait behind 2.  The organiser is
# told once, and runs after that tell nobody again; `status` and `release` say what waits
# behind the hold; after `things release 2` Thing 2 goes, then 3 and 4 one a day
# (catch_up_days = 1), then 5 on its date.  Alice's INBOX holds Things 1-5 in that order, once
# each.  A second, separate hold of Thing 2 (bob's, after another stretch without runs, alice's
# long released) is told to the organiser anew.
. "$(dirname "$0")/lib.sh"

must bed_start
P=$T/prog
must programme_make "$P" 5
START=$(date -u -d "tomorrow 09:00" +%Y-%m-%dT%H:%MZ)
must programme_conf "$P/things.conf" "programme.start=$START" programme.catch_up_days=1 \
	programme.max_lateness_hours=72
C=$P/things.conf

# at DAYS [HOURS]: START + DAYS days + HOURS hours, as --now takes it
at() { date -u -d "$START + $1 days + ${2:-0} hours" +%Y-%m-%dT%H:%MZ; }
tick() { run_things -v -c "$C" run --now "$(at "$@")"; }
with_subject() { local u; u=$(imap_search "$1" "HEADER Subject \"$2\"") || return 1; wc -w <<<"$u"; }
# the Thing numbers of USER's INBOX, in the order the messages arrived (UID order)
things_in_order() {
	local uid out=()
	for uid in $(imap_uids "$1"); do
		imap_fetch "$1" "$uid" > "$T/m.eml" || return 1
		out+=("$(mail_header "$T/m.eml" Subject | sed -n 's/^Thing \([0-9]*\):.*/\1/p')")
	done
	echo "${out[*]}"
}

must run_things -c "$C" subscribe alice@example.test "Alice Archivist"
assert_status 0 tick 0 1
assert_file_contains "$THINGS_OUT" "1 sent" "day 0: Thing 1 goes to alice"
assert_ok imap_wait alice 1

# --- no runs from day 0 to day 43: Thing 2 a month late, 3 and 4 due too ------------------------
assert_status 0 tick 43
assert_file_contains "$THINGS_OUT" "1 held" "day 43: Thing 2 is held"
assert_file_contains "$THINGS_OUT" "1 queued, 1 sent" "only the organiser's notice is queued and sent"
assert_file_contains "$THINGS_ERR" "Thing 2: 1 delivery held" "the run warns of the hold"
assert_file_contains "$THINGS_ERR" "wait behind it (2 due now)" "and of Things 3 and 4 behind it"
assert_ok imap_wait organiser 1
imap_fetch_last organiser > "$T/notice.eml"
assert_match "$(mail_header "$T/notice.eml" Subject)" "^Thing 2 is held" "the notice names Thing 2"
notice=$(mail_part "$T/notice.eml" text/plain)
assert_contains "$notice" "wait behind it too" "the notice says the later Things wait behind it"
assert_match "$notice" "things.conf[[:space:]]+release[[:space:]]+2" "and gives the command"
for h in 1 30; do
	assert_status 0 tick 43 "$h"
	assert_file_contains "$THINGS_OUT" "0 queued, 0 sent" "43 days + $h hours: nothing goes, nothing is told"
done
bed_wait_queue_empty
assert_eq 1 "$(imap_count organiser)" "the ongoing hold is told once"
assert_eq "1" "$(things_in_order alice)" "alice has Thing 1 only: not 3 or 4 before 2"

assert_status 0 run_things -c "$C" status --now "$(at 45)"
assert_file_contains "$THINGS_OUT" "held: Thing 2: 1 delivery (and 3 of later Things behind it) waits" \
	"status: Thing 2 held, Things 3-5 behind it"
assert_file_contains "$THINGS_OUT" "next due: nothing until an organiser releases what is held" \
	"status: nothing is due until the release"
assert_status 0 run_things -c "$C" release 3 --now "$(at 45)"
assert_file_contains "$THINGS_OUT" "Thing 3: released 0 held deliveries; for 1 participant it waits behind an earlier Thing that is held: release Thing 2" \
	"release 3 says what to release instead"
assert_status 0 run_things -c "$C" release 2 --now "$(at 45 1)"
assert_file_contains "$THINGS_OUT" "Thing 2: released 1 held delivery; the next run sends it, then the 3 deliveries of later Things that waited behind it, in order, one a day" \
	"release 2 says what follows it, and how"

# --- released: 2 now, 3 and 4 one a day, 5 on its date ------------------------------------------
assert_status 0 tick 45 1
assert_file_contains "$THINGS_OUT" "0 queued, 1 sent" "Thing 2 goes"
assert_ok imap_wait alice 2
assert_status 0 tick 45 12
assert_file_contains "$THINGS_OUT" "0 queued, 0 sent" "Thing 3 waits a day after 2"
assert_status 0 tick 46 1
assert_file_contains "$THINGS_OUT" "1 queued, 1 sent" "day 46: Thing 3"
assert_ok imap_wait alice 3
assert_status 0 tick 47 1
assert_file_contains "$THINGS_OUT" "1 queued, 1 sent" "day 47: Thing 4, not late: nothing held"
assert_ok imap_wait alice 4
assert_status 0 tick 50
assert_file_contains "$THINGS_OUT" "0 queued, 0 sent" "day 50: Thing 5 waits for its date"
assert_status 0 tick 56
assert_file_contains "$THINGS_OUT" "1 queued, 1 sent" "day 56: Thing 5 on its date"
assert_ok imap_wait alice 5
bed_wait_queue_empty
assert_eq "1 2 3 4 5" "$(things_in_order alice)" "alice's INBOX: Things 1 to 5, in order, once each"

# --- a separate hold of Thing 2, later: told anew -----------------------------------------------
must run_things -c "$C" subscribe bob@example.test "Bob" --now "$(at 57)"
assert_status 0 tick 57
assert_file_contains "$THINGS_OUT" "1 queued, 1 sent" "day 57: bob joins, Thing 1 goes"
assert_status 0 tick 62
assert_file_contains "$THINGS_OUT" "1 held" "day 62, no runs since 57: bob's Thing 2 (due 58) is held"
assert_ok imap_wait organiser 2
assert_eq 2 "$(with_subject organiser "Thing 2 is held")" "the organiser is told of this hold too"
assert_eq "1" "$(things_in_order bob)" "bob has Thing 1 only"

# --- left held a week: reminded; then skipped, bob's Thing 3 follows (Thing 2 never sent) ------
assert_status 0 tick 68 23
assert_file_contains "$THINGS_OUT" "0 queued, 0 sent" "day 69 less an hour: no reminder yet"
assert_status 0 tick 69
assert_file_contains "$THINGS_ERR" "Thing 2: 1 delivery still held, for 7 days" "day 69: the run warns again"
assert_ok imap_wait organiser 3
assert_eq 1 "$(with_subject organiser "Thing 2 is still held")" "the organiser is reminded, once"
assert_status 0 run_things -c "$C" release 2 --skip --now "$(at 69 1)"
assert_file_contains "$THINGS_OUT" "Thing 2: skipped 1 held delivery: never sent (failed: skipped by an organiser); the 1 participant's later Things (3 deliveries) follow from the next run, in order, one a day" \
	"release --skip says what follows"
assert_status 0 tick 69 1
assert_file_contains "$THINGS_OUT" "1 queued, 1 sent" "the next run sends bob Thing 3"
assert_status 0 run_things -c "$C" status --now "$(at 69 2)"
assert_match "$(grep -E '^ +2 ' "$THINGS_OUT")" " 1 +0 +0 +1 +0  [^ ]" "status: Thing 2 shows 0 failed, 1 skipped, 0 held"
assert_ok imap_wait bob 2
bed_wait_queue_empty
assert_eq "1 3" "$(things_in_order bob)" "bob's INBOX: Thing 1, then 3 (2 skipped)"
