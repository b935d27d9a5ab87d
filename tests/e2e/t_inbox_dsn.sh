#!/usr/bin/env bash
# t_inbox_dsn.sh - a real bounce: a Thing sent to a participant whose mailbox does not exist
# (nobody@example.test) makes Postfix return a DSN (multipart/report) to the VERP address
# things+bounce-TOKEN@, which lands in the programme's INBOX; the next run classifies it as a
# bounce for that participant.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_inbox.sh"

must bed_start
must inbox_programme
must run_things -c "$C" subscribe nobody@example.test "No Body"
must run_things -c "$C" subscribe alice@example.test "Alice Archivist"
assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "2 sent" "Thing 1 goes to both"
assert_ok imap_wait alice 1
assert_ok imap_wait things 1 "" 30
must fetch_match things 'HEADER Content-Type "multipart/report"' "$T/dsn.eml"
token=$(db "SELECT token FROM participants WHERE address = 'nobody@example.test'")
assert_eq "things+bounce-$token@example.test" "$(mail_header "$T/dsn.eml" Delivered-To)" \
	"the DSN comes back to nobody's VERP address"
assert_contains "$(mail_part "$T/dsn.eml" message/delivery-status)" "5.1.1" "a permanent failure"

assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "bounce 1" "the DSN is a bounce"
assert_eq "bounce|$(db "SELECT id FROM participants WHERE address = 'nobody@example.test'")" \
	"$(db "SELECT intent, participant_id FROM inbound")" "recorded for nobody"
assert_match "$(db "SELECT detail FROM inbound")" "5\.1\.1" "with its status"
assert_eq 0 "$(db "SELECT count(*) FROM deliveries WHERE inbound_id IS NOT NULL")" "a bounce is never answered"
