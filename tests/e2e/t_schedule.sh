#!/usr/bin/env bash
# t_schedule.sh - the schedule over weeks of simulated time, through real Postfix and Dovecot:
# `things run --now` ticks release Things 1-3 to alice on their dates; bob joins by mail after
# Thing 2 is out and gets the two Things already out three days apart (catch_up_days = 3); a
# five-day gap without runs after Thing 4's release holds Thing 4 and tells the organiser once
# (over IMAP); `things status` shows it held; `things release 4` and the next run send it to
# each participant once.
. "$(dirname "$0")/lib.sh"

must bed_start
P=$T/prog
must programme_make "$P" 5
START=$(date -u -d "tomorrow 09:00" +%Y-%m-%dT%H:%MZ)
must programme_conf "$P/things.conf" "programme.start=$START" programme.catch_up_days=3 \
	programme.max_lateness_hours=72
C=$P/things.conf

# at DAYS [HOURS]: START + DAYS days + HOURS hours, as --now takes it
at() { date -u -d "$START + $1 days + ${2:-0} hours" +%Y-%m-%dT%H:%MZ; }
tick() { run_things -v -c "$C" run --now "$(at "$@")"; }
# how many messages in USER's INBOX have TEXT in their Subject
has_subject() { imap_wait_search "$1" "HEADER Subject \"$2\"" >/dev/null; } # USER TEXT: waits
with_subject() { local u; u=$(imap_search "$1" "HEADER Subject \"$2\"") || return 1; wc -w <<<"$u"; }
status_row() { # N: Thing N's row of `things status` at the time given to it last
	awk -v n="$1" '$1 == n && $2 ~ /^[0-9][0-9][0-9][0-9]-/ { print $4, $5, $6, $7, $8, $9, $10, $11, $12 }' "$THINGS_OUT"
}

must run_things -c "$C" subscribe alice@example.test "Alice Archivist"

# --- the cohort: Things 1 and 2 on their dates ------------------------------------------------
assert_status 0 tick 0 1
assert_file_contains "$THINGS_OUT" "1 sent" "day 0: Thing 1 goes to alice"
assert_status 0 tick 14 1
assert_file_contains "$THINGS_OUT" "1 sent" "day 14: Thing 2 goes to alice"
assert_ok imap_wait alice 2

# --- bob joins on day 15: Things 1 and 2, three days apart ------------------------------------
must send_mail --from bob --to "things+subscribe@example.test" --subject "subscribe" --body "Sign me up."
assert_ok imap_wait things 1
assert_status 0 tick 15
assert_ok imap_wait bob 1
imap_fetch_last bob > "$T/confirm.eml"
must send_reply bob "$T/confirm.eml" "Yes please."
assert_ok imap_wait things 1
assert_status 0 tick 15 1
assert_file_contains "$THINGS_OUT" "confirm 1" "day 15: bob confirms"
assert_ok has_subject bob "Thing 1:"
bed_wait_queue_empty
assert_eq 1 "$(with_subject bob "Thing 1:")" "bob gets Thing 1 when he joins"
assert_eq 0 "$(with_subject bob "Thing 2:")" "but not Thing 2 yet"

assert_status 0 tick 17
assert_file_contains "$THINGS_OUT" "0 queued, 0 sent" "day 17: nothing for bob yet"
assert_status 0 run_things -c "$C" status --now "$(at 17)"
assert_eq "1 0 0 0 1 0 0 0 0" "$(status_row 2)" "status, day 17: Thing 2 waiting for bob, sent to alice"
assert_match "$(cat "$THINGS_OUT")" "next due: Thing 2 on $(date -u -d "$START + 18 days + 1 hour" '+%Y-%m-%d %H:%M')" \
	"status says when bob's Thing 2 is due"

assert_status 0 tick 18 2
assert_file_contains "$THINGS_OUT" "1 sent" "day 18: Thing 2 goes to bob, three days after Thing 1"
assert_ok has_subject bob "Thing 2:"

# --- Thing 3 for both on its date --------------------------------------------------------------
assert_status 0 tick 28 1
assert_file_contains "$THINGS_OUT" "2 sent" "day 28: Thing 3 goes to both"

# --- five days without a run after Thing 4's release (day 42): held, one notice ----------------
assert_status 0 tick 47
assert_file_contains "$THINGS_OUT" "2 held" "day 47: Thing 4 is held for both"
assert_file_contains "$THINGS_OUT" "1 sent" "and the organiser's notice is sent"
assert_file_contains "$THINGS_ERR" "Thing 4: 2 deliveries held" "the run says so on stderr (cron mails it)"
assert_ok imap_wait organiser 1
imap_fetch_last organiser > "$T/notice.eml"
assert_match "$(mail_header "$T/notice.eml" Subject)" "^Thing 4 is held" "the notice names Thing 4"
notice=$(mail_part "$T/notice.eml" text/plain)
assert_contains "$notice" "release 4" "the notice gives the command that releases it"
assert_contains "$notice" "waiting for it now: 2" "and how many wait"
assert_status 0 tick 47 1
assert_file_contains "$THINGS_OUT" "0 queued, 0 sent" "an hour later: nothing new"
bed_wait_queue_empty
assert_eq 1 "$(imap_count organiser)" "the organiser is told once"
assert_eq 0 "$(with_subject alice "Thing 4:")" "alice has not got Thing 4"

assert_status 0 run_things -c "$C" status --now "$(at 47 2)"
status=$(cat "$THINGS_OUT")
assert_eq "0 0 0 0 0 0 0 0 2" "$(status_row 4)" "status: Thing 4 held for 2"
assert_eq "0 0 0 0 2 0 0 0 0" "$(status_row 3)" "status: Thing 3 sent to 2"
assert_contains "$status" "held: Thing 4: 2 deliveries" "status warns about the hold"
assert_contains "$status" "next release: Thing 5 on" "status names the next release"

# --- the organiser releases it: sent once ------------------------------------------------------
assert_status 2 run_things -c "$C" release
assert_status 1 run_things -c "$C" release 9
assert_status 0 run_things -c "$C" release 4 --now "$(at 47 2)"
assert_file_contains "$THINGS_OUT" "Thing 4: released 2 held deliveries" "release 4 releases both"
assert_status 0 tick 47 2
assert_file_contains "$THINGS_OUT" "2 sent" "the next run sends them"
assert_status 0 tick 47 3
assert_file_contains "$THINGS_OUT" "0 queued, 0 sent" "and the one after sends nothing"
assert_status 0 run_things -c "$C" release --all
assert_file_contains "$THINGS_OUT" "released 0 held deliveries" "nothing is held any more"
bed_wait_queue_empty
assert_ok has_subject bob "Thing 4:"
for who in alice bob; do
	assert_eq 1 "$(with_subject $who "Thing 4:")" "$who gets Thing 4 once"
	assert_eq 1 "$(with_subject $who "Thing 3:")" "$who got Thing 3 once"
done
assert_eq 1 "$(imap_count organiser)" "the organiser still has the one notice"
assert_status 0 run_things -c "$C" status --now "$(at 47 3)"
assert_eq "0 0 0 0 2 0 0 0 0" "$(status_row 4)" "status: Thing 4 sent to 2, none held"
assert_file_contains "$THINGS_OUT" "held: nothing" "status: nothing held"
