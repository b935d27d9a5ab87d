#!/usr/bin/env bash
# t_trial_time.sh - a trial on a simulated clock, with no mail server (Maildir out and in):
# participants added with `subscribe --now` / `import --now` join at the trial's time, so a
# cohort whose start is already past on the real clock still gets Thing 1 at its start tick
# (added without --now, they join at the real time: late joiners, nothing at the start tick);
# in a self-paced programme, report and status give each Thing as "+N days", not a date.
. "$(dirname "$0")/lib.sh"
export TZ=Europe/London

P=$T/prog
C=$P/things.conf
OUT=$P/mail/outbox/new
must run_things init "$P" --maildir mail
# a Monday 09:00 five weeks before today: Things 1-3 are out on the real clock
START=$(date -d "monday -5 weeks 09:00" "+%Y-%m-%d %H:%M")
sed -i "s/^start = .*/start = $START/" "$C"
at() { date -d "$START $1" +%Y-%m-%dT%H:%M; }   # START, then e.g. "2 days ago", "14 days"
files_to() { grep -l "^To: .*$1" "$OUT"/* 2>/dev/null | wc -l; }

# --- subscribe --now and import --now: joining before the start ---------------------------
assert_status 0 run_things -c "$C" subscribe ann@example.org "Ann" --now "$(at "2 days ago")"
printf 'ben@example.org, Ben\n' > "$T/cohort.csv"
assert_status 0 run_things -c "$C" import --now "$(at "1 day ago")" "$T/cohort.csv"
assert_file_contains "$THINGS_OUT" "1 added" "import --now adds ben"
assert_status 0 run_things -c "$C" subscribe cy@example.org "Cy"   # the machine's time: today
assert_status 2 run_things -c "$C" subscribe dee@example.org --now yesterday
assert_file_contains "$THINGS_ERR" "is not a date" "a bad --now is refused"
assert_status 2 run_things -c "$C" import "$T/cohort.csv" "$T/cohort.csv"

assert_status 0 run_things -c "$C" -v run --now "$(at "")"
assert_file_contains "$THINGS_OUT" "2 sent" "the start tick sends Thing 1 to ann and ben"
assert_eq 1 "$(files_to ann@example.org)" "ann (subscribe --now) gets Thing 1 at the start"
assert_eq 1 "$(files_to ben@example.org)" "ben (import --now) gets Thing 1 at the start"
assert_eq 0 "$(files_to cy@example.org)" "cy joined today on the real clock: nothing yet"
assert_status 0 run_things -c "$C" -v run --now "$(at "14 days")"
assert_eq 2 "$(files_to ann@example.org)" "ann gets Thing 2 on its date"
assert_eq 2 "$(files_to ben@example.org)" "ben too"
assert_eq 0 "$(grep -l "^Subject: Thing 2 is held" "$OUT"/* 2>/dev/null | wc -l)" \
	"nothing held: they were there from the start"

# --- self-paced: report and status show "+N days", not cohort dates that do not apply ------
T7=$(date -d "$START 85 days" "+%Y-%m-%d %H:%M")   # a day after its turn
sed -i "s/^;mode = cohort/mode = self-paced/; s/^;thing7 = .*/thing7 = $T7/" "$C"
assert_status 0 run_things -c "$C" check
assert_status 0 run_things -c "$C" report
assert_match "$(grep '^ *7 ' "$THINGS_OUT")" "^ +7  \+84 days +" "report: Thing 7 at +84 days"
assert_file_not_contains "$THINGS_OUT" "$T7" "report: not the [schedule] date"
assert_status 0 run_things -c "$C" status --now "$(at "15 days")"
assert_match "$(grep '^ *7 ' "$THINGS_OUT")" "^ +7  \+84 days +" "status agrees"
