#!/usr/bin/env bash
# t_delivery_dsn.sh - a dead address that bounces later, as a DSN.  The bed's Postfix accepts
# mail for an unknown user, Dovecot's LMTP refuses it (5.1.1) and Postfix returns a real
# delivery status notification to the VERP envelope sender things+bounce-TOKEN@.  The next run
# reads it from the programme's IMAP inbox, maps the token to the participant and counts a hard
# bounce; with [bounces] threshold = 2, the second day's DSN suspends the participant and the
# organiser is told.  A DSN to the plain bounce address counts against nobody.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/lib_delivery.sh"

must bed_start
P=$T/prog
must programme_make "$P" 4
must programme_conf "$P/things.conf" "programme.interval_days=1" "bounces.threshold=2"
C=$P/things.conf
must run_things -c "$C" subscribe alice@example.test "Alice"
must run_things -c "$C" subscribe ghost@example.test "Gus Ghost"
score() { sql "SELECT bounce_score || ' ' || status FROM participants WHERE address = 'ghost@example.test'"; }

# --- day 1: Postfix takes the Thing for ghost@, then bounces it back to the VERP address --------
assert_status 0 run_things -v -c "$C" run --now "$(day 1)"
assert_file_contains "$THINGS_OUT" "2 sent" "day 1: both Things accepted by Postfix"
assert_ok imap_wait things 1 INBOX 20
imap_fetch_last things > "$T/dsn1.eml"
assert_match "$(mail_header "$T/dsn1.eml" Delivered-To)" "^things\+bounce-[0-9a-f]{24}@example.test$" \
	"the DSN comes back to the VERP address"
assert_eq "0.0 active" "$(score)" "no score before the DSN is read"

# --- day 2: the DSN is read and counted; Thing 2 bounces too ----------------------------------------
assert_status 0 run_things -v -c "$C" run --now "$(day 2)"
assert_file_contains "$THINGS_OUT" "bounce 1" "day 2: the DSN is classified as a bounce"
assert_eq "1.0 active" "$(score)" "one hard bounce counted for ghost@"
assert_match "$(sql "SELECT detail FROM inbound WHERE intent = 'bounce'")" \
	"status 5\.1\.1 for ghost@example.test \(counted\)" "the inbound record says what was counted"
assert_ok imap_wait things 1 INBOX 20

# --- day 3: the second DSN suspends ghost@; the organiser is told in the same run -----------------
assert_status 0 run_things -v -c "$C" run --now "$(day 3)"
assert_eq "2.0 suspended" "$(score)" "two hard bounces (threshold 2) suspend ghost@"
assert_ok imap_wait organiser 1 INBOX 20
imap_fetch_last organiser > "$T/notice.eml"
assert_eq "Things e2e test: ghost@example.test suspended after bounces" \
	"$(mail_header "$T/notice.eml" Subject)" "the organiser's notice"
assert_contains "$(mail_part "$T/notice.eml" text/plain)" "status 5.1.1 for ghost@example.test" \
	"it quotes the bounce"
assert_eq 2 "$(sql "SELECT count(*) FROM deliveries WHERE recipient = 'ghost@example.test' AND kind = 'thing'")" \
	"ghost@ was suspended before Thing 3 was queued: it got only Things 1 and 2"

# --- a DSN to the plain bounce address (no token) is recorded and counted against nobody --------
bed_wait_queue_empty 20
must send_mail --from organiser --to "things+bounce@example.test" --subject "Undelivered Mail" \
	--header "Auto-Submitted: auto-replied" --body "Delivery to alice@example.test failed: 550 5.1.1"
assert_ok imap_wait things 1 INBOX 20
assert_status 0 run_things -v -c "$C" run --now "$(day 4)"
assert_eq "bounce|" "$(sql "SELECT intent || '|' || ifnull(participant_id, '') FROM inbound ORDER BY id DESC LIMIT 1")" \
	"it is recorded as a bounce of nobody in particular"
assert_eq "0.0 active" \
	"$(sql "SELECT bounce_score || ' ' || status FROM participants WHERE address = 'alice@example.test'")" \
	"a bounce without a token moves nobody's score"
