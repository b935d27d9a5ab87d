#!/usr/bin/env bash
# t_inbox_limits.sh - the inbox's limits and filing, end to end: a message over
# max_message_kib is not read, its sender is answered politely, the organisers are told where
# it is (the configured failed folder); handled mail goes to the configured processed folder;
# no address gets more than answers_per_hour answers; with after = flag messages stay in the
# INBOX, flagged, and are not read twice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_inbox.sh"

must bed_start
settings=(inbox.max_message_kib=16 inbox.processed_folder=Done inbox.failed_folder=Broken
	inbox.answers_per_hour=2)
must inbox_programme "${settings[@]}"
must run_things -c "$C" subscribe bob@example.test "Bob Binder"
assert_status 0 run_things -c "$C" run

python3 -c 'print("photo " * 7000)' > "$T/big.txt"
must send_mail --from dave --to things@example.test --subject "holiday photos" --body "@$T/big.txt"
for i in 1 2 3; do
	must send_mail --from bob --to things+help@example.test --subject "Question $i" --body "Why $i?"
done
assert_ok imap_wait things 4
assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "1 oversize" "the big message is not read"
assert_file_contains "$THINGS_OUT" "3 processed"
assert_eq 1 "$(imap_count things Broken)" "it is in the failed folder"
assert_eq 3 "$(imap_count things Done)" "the rest in the processed folder"
assert_eq 0 "$(imap_count things)" "the INBOX is empty"
must fetch_match dave 'HEADER Subject "too large"' "$T/oversize.eml"
assert_contains "$(mail_part "$T/oversize.eml" text/plain)" "16" "the answer says the limit"
assert_eq "auto-replied" "$(mail_header "$T/oversize.eml" Auto-Submitted)"
must fetch_match organiser 'HEADER Subject "could not be handled"' "$T/notice.eml"
notice=$(mail_part "$T/notice.eml" text/plain)
assert_contains "$notice" "over the limit of 16384 bytes" "the notice gives the reason"
assert_contains "$notice" '"Broken"' "and says where the message is"
assert_eq "dave@example.test" "$(mail_addr "$T/notice.eml" Reply-To)" "Reply-To the sender"

# answers per hour: two help acknowledgements, the third recorded as not answered
assert_ok bed_wait_queue_empty
assert_eq 2 "$(imap_search bob 'HEADER Subject "We have your message"' | wc -w)" "bob got two acknowledgements"
assert_match "$(db "SELECT detail FROM inbound WHERE subject = 'Question 3'")" \
	"not answered \(help-ack\): 2 answers to this address in the last hour, the limit is 2" \
	"the third is recorded as not answered"
assert_eq 3 "$(db "SELECT count(*) FROM deliveries WHERE kind = 'help-forward'")" \
	"the organisers still got all three (ticket per request)"

# after = flag
must programme_conf "$C" "${settings[@]}" inbox.after=flag
must send_mail --from dave --to things@example.test --subject "small" --body "hello again"
assert_ok imap_wait things 1
assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "1 processed"
assert_eq 1 "$(imap_count things)" "the message stays in the INBOX"
uid=$(imap_uids things)
assert_match "$(imap_flags things "$uid")" '\$ThingsProcessed' "flagged with the keyword"
assert_match "$(imap_flags things "$uid")" '\\Seen' "and seen"
assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "0 fetched" "not read twice"
