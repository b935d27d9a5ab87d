#!/usr/bin/env bash
# t_skeleton.sh - the walking skeleton, end to end through real Dovecot and Postfix:
# `things run` releases Thing 1 over SMTP; the participant reads it over IMAP (a
# multipart/alternative with both parts); a new address subscribes and the participant
# replies with a reflection link over SMTP; the next run records both and answers; a
# third run does nothing new.
. "$(dirname "$0")/lib.sh"

must bed_start
P=$T/prog
must programme_make "$P" 3
must programme_conf "$P/things.conf"
C=$P/things.conf

assert_status 0 run_things -c "$C" check
must run_things -c "$C" subscribe alice@example.test "Alice Archivist"

# --- run 1: Thing 1 goes out ---------------------------------------------------------------
assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "1 sent" "run 1 sends Thing 1 to alice"
assert_ok imap_wait alice 1
imap_fetch_last alice > "$T/thing1.eml"
assert_match "$(mail_header "$T/thing1.eml" Subject)" "Thing 1" "the subject names Thing 1"
structure=$(mail_structure "$T/thing1.eml")
assert_eq "multipart/alternative
  text/plain
  text/html" "$structure" "Thing 1 is multipart/alternative, plain first, then HTML"
assert_contains "$(mail_part "$T/thing1.eml" text/html)" "<html" "the HTML part is a document"
assert_ne "" "$(mail_part "$T/thing1.eml" text/plain)" "the text part is not empty"
assert_contains "$(mail_header "$T/thing1.eml" List-Id)" "<" "List-Id is present"
assert_contains "$(mail_header "$T/thing1.eml" List-Unsubscribe)" "mailto:things+unsubscribe-" \
	"List-Unsubscribe carries a tokenised mailto"
assert_contains "$(mail_header "$T/thing1.eml" To)" "alice@example.test" "addressed to alice"

# --- between runs: a subscription from a new address, and a reflection ---------------------
must send_mail --from dave --to "things+subscribe@example.test" --subject "subscribe" \
	--body "Please sign me up. My blog is https://dave.example.org/"
must send_reply alice "$T/thing1.eml" "I tried it! My post: https://alice.example.org/2027/thing-1

Alice"
assert_ok imap_wait things 2

# --- run 2: both are understood and answered -------------------------------------------------
assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "2 processed" "run 2 processes both messages"
assert_file_contains "$THINGS_OUT" "subscribe 1" "one subscription"
assert_file_contains "$THINGS_OUT" "reflection 1" "one reflection"
assert_status 0 run_things -c "$C" report
report=$(cat "$THINGS_OUT")
assert_match "$report" "alice@example.test +active +1/3 +1" "alice: 1 Thing sent, 1 reflection"
assert_match "$report" "dave@example.test +pending" "dave is pending until he confirms"

assert_ok imap_wait dave 1
imap_fetch_last dave > "$T/confirm.eml"
assert_match "$(mail_part "$T/confirm.eml" text/plain)" "things\+confirm-[0-9a-f]{24}@example.test" \
	"dave is asked to confirm, with a token address"
assert_eq "auto-replied" "$(mail_header "$T/confirm.eml" Auto-Submitted)" \
	"the confirmation is marked as an automatic answer"
assert_ok imap_wait alice 2
imap_fetch_last alice > "$T/ack.eml"
assert_contains "$(mail_part "$T/ack.eml" text/plain)" "https://alice.example.org/2027/thing-1" \
	"alice's acknowledgement names her post"
assert_contains "$(mail_header "$T/ack.eml" In-Reply-To)" "@" "the acknowledgement is threaded"
assert_eq 0 "$(imap_count things)" "processed messages left the INBOX"
assert_eq 2 "$(imap_count things Processed)" "and are kept in Processed"

# --- run 3: nothing new ------------------------------------------------------------------------
before_alice=$(imap_count alice)
before_dave=$(imap_count dave)
assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "0 fetched" "run 3 fetches nothing"
assert_file_contains "$THINGS_OUT" "0 sent" "run 3 sends nothing"
bed_wait_queue_empty
assert_eq "$before_alice" "$(imap_count alice)" "alice got nothing more"
assert_eq "$before_dave" "$(imap_count dave)" "dave got nothing more"
assert_status 0 run_things -c "$C" report
assert_eq "$(sed 's/report at .*//' <<<"$report")" "$(sed 's/report at .*//' "$THINGS_OUT")" \
	"the report is unchanged"
