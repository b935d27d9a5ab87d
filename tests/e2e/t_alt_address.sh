#!/usr/bin/env bash
# t_alt_address.sh - a participant's alternate address, told once when their own address is
# suspended for bounces (issue 3).  The bed's Postfix refuses unknown users at RCPT
# (REJECT_UNKNOWN=1), so mail to nobody@ fails with 550 5.1.1, while nobody@ can still write to
# the programme.  nobody@ asks by mail for bob@ as alternate address: bob@ gets a confirmation,
# and nothing changes until bob@ replies to it (not when dave@ sends its token, not when a
# stranger asks).  Thing 1 and Thing 2 bounce on two days (threshold 2): nobody@ is suspended,
# the organiser is told, and bob@ gets exactly one notice, also after further runs; the
# notice's envelope sender carries no VERP token, so its bounce could count against nobody.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/lib_delivery.sh"
. "$E2E_DIR/lib_inbox.sh"

must bed_start REJECT_UNKNOWN=1
P=$T/prog
must programme_make "$P" 4
must programme_conf "$P/things.conf" "programme.interval_days=1" "bounces.threshold=2"
C=$P/things.conf
must run_things -c "$C" subscribe alice@example.test "Alice"
must run_things -c "$C" subscribe nobody@example.test "No Body"
alt() { db "SELECT alt_address || '|' || alt_pending FROM participants WHERE address = 'nobody@example.test'"; }

# --- the request: a confirmation to bob@, an acknowledgement to nobody@ (which bounces) ----------
must send_mail --from nobody@example.test --to things@example.test --subject "alternate address" \
	--body "Hi Things,

alternate bob@example.test

No"
must send_mail --from dave --to things@example.test --subject "alternate dave@example.test" \
	--body "I am no participant"
assert_ok imap_wait things 2
assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "alternate 2" "both read as alternate-address commands"
assert_eq "|bob@example.test" "$(alt)" "bob@ is pending, not yet the alternate address"
must fetch_match bob 'HEADER Subject "alternate address"' "$T/confirm.eml"
assert_eq "Please confirm: an alternate address for Things e2e test" \
	"$(mail_header "$T/confirm.eml" Subject)" "bob@ is asked to confirm"
confirm_text=$(mail_part "$T/confirm.eml" text/plain)
assert_contains "$confirm_text" "nobody@example.test asked us" "the request names who asked"
token=$(db "SELECT alt_token FROM participants WHERE address = 'nobody@example.test'")
assert_match "$token" "^[0-9a-f]{24}$" "the request has a token"
assert_contains "$confirm_text" "things+confirm-$token@example.test" "which the message gives"
assert_not_contains "$(cat "$T/confirm.eml")" \
	"$(db "SELECT token FROM participants WHERE address = 'nobody@example.test'")" \
	"nobody@'s own secret token is not in mail to bob@"
assert_eq 0 "$(imap_count dave)" "a stranger's request sends no confirmation"
assert_eq 1 "$(db "SELECT count(*) FROM deliveries WHERE kind = 'unknown-forward'")" \
	"it goes to the organisers instead"

# --- the token from another address changes nothing ---------------------------------------------
must send_mail --from dave --to "things+confirm-$token@example.test" --subject "confirm" --body "yes"
assert_ok imap_wait things 1
assert_status 0 run_things -v -c "$C" run
assert_eq "|bob@example.test" "$(alt)" "dave@ sending bob@'s token confirms nothing"
assert_match "$(db "SELECT detail FROM inbound ORDER BY id DESC LIMIT 1")" "another address: ignored" \
	"the record says why"

# --- bob@ replies to the confirmation: bob@ is the alternate address ------------------------------
must send_reply bob "$T/confirm.eml" "Yes, that is me."
assert_ok imap_wait things 1
assert_status 0 run_things -v -c "$C" run
assert_eq "bob@example.test|" "$(alt)" "bob@ confirmed: the alternate address"
assert_eq 2 "$(db "SELECT count(*) FROM deliveries WHERE kind = 'alternate-ack' AND recipient = 'nobody@example.test'")" \
	"nobody@ was told of the request and of the confirmation"
assert_status 0 run_things -c "$C" report
assert_contains "$(cat "$THINGS_OUT")" "alternate: bob@example.test" "the report shows it"
assert_eq "1.0 active" "$(sql "SELECT bounce_score || ' ' || status FROM participants WHERE address = 'nobody@example.test'")" \
	"day 1: one bounce counted (however many mails bounced)"

# --- day 2: Thing 2 bounces: suspended; the organiser and bob@ are told ----------------------------
assert_status 0 run_things -v -c "$C" run --now "$(day 2)"
assert_eq "2.0 suspended" "$(sql "SELECT bounce_score || ' ' || status FROM participants WHERE address = 'nobody@example.test'")" \
	"day 2: the threshold suspends nobody@"
assert_ok fetch_match organiser 'HEADER Subject "suspended after bounces"' "$T/organiser.eml"
org_text=$(mail_part "$T/organiser.eml" text/plain)
assert_contains "$org_text" "No Body <nobody@example.test>" "the organiser's notice still goes out"
assert_contains "$org_text" "alternate address, bob@example.test" "and says where nobody@ was told"
must fetch_match bob 'HEADER Subject "does not arrive"' "$T/notice.eml"
assert_eq "Things e2e test: mail to nobody@example.test does not arrive" \
	"$(mail_header "$T/notice.eml" Subject)" "bob@ gets the participant's notice"
assert_eq "No Body <bob@example.test>" "$(mail_header "$T/notice.eml" To)" "addressed to bob@"
notice=$(mail_part "$T/notice.eml" text/plain)
assert_contains "$notice" "550 5.1.1" "it quotes the last bounce"
assert_contains "$notice" "things+subscribe@example.test" "and says how to come back"
assert_match "$(mail_header "$T/notice.eml" Return-Path)" "^<things\+bounce@example.test>$" \
	"its envelope sender has no VERP token: its bounce counts against nobody"
assert_fails mail_header "$T/notice.eml" List-Unsubscribe

# --- days 3 and 4: no second notice ------------------------------------------------------------------
for d in 3 4; do
	assert_status 0 run_things -v -c "$C" run --now "$(day "$d")"
done
bed_wait_queue_empty 20
assert_eq 1 "$(imap_search bob 'HEADER Subject "does not arrive"' | wc -w)" "bob@ was told exactly once"
assert_eq 1 "$(db "SELECT count(*) FROM deliveries WHERE kind = 'suspended-alternate'")" "one notice queued"
assert_eq 1 "$(imap_search organiser 'HEADER Subject "suspended after bounces"' | wc -w)" \
	"the organiser was told once"
assert_eq 0 "$(db "SELECT count(*) FROM deliveries WHERE recipient = 'nobody@example.test' AND kind = 'thing' AND key IN ('3', '4')")" \
	"no Thing is queued for nobody@ once suspended"

# --- an organiser can set or clear it from the command line ----------------------------------------
assert_status 0 run_things -c "$C" alt Alice@Example.test Carol@Example.test
assert_file_contains "$THINGS_OUT" "alice@example.test: alternate address carol@example.test"
assert_status 1 run_things -c "$C" alt alice@example.test alice@example.test
assert_file_contains "$THINGS_ERR" "the participant's own"
assert_status 0 run_things -c "$C" alt alice@example.test --clear
assert_file_contains "$THINGS_OUT" "alice@example.test: alternate address (none)"
assert_status 0 run_things -c "$C" subscribe dora@example.test "Dora" --alt dora@home.example
assert_file_contains "$THINGS_OUT" "dora@example.test: alternate address dora@home.example"
assert_status 2 run_things -c "$C" subscribe dora@example.test --alt
