#!/usr/bin/env bash
# t_inbox_namespace.sh - a Dovecot whose personal namespace is "INBOX." (as Courier and Cyrus
# have it): no folder can be made at the top, so Things files its messages under the
# namespace (INBOX.Processed, INBOX.Failed), as mail clients do, and a folder configured with
# the prefix already is kept as it is.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_inbox.sh"

must bed_start NS_PREFIX=INBOX.
must inbox_programme inbox.max_message_kib=16
must run_things -c "$C" subscribe bob@example.test "Bob Binder"
python3 -c 'print("photo " * 7000)' > "$T/big.txt"
must send_mail --from bob --to things+help@example.test --subject "Question" --body "How?"
must send_mail --from dave --to things@example.test --subject "photos" --body "@$T/big.txt"
assert_ok imap_wait things 2

assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "1 processed" "the help request is handled"
assert_file_contains "$THINGS_OUT" "1 oversize" "the big one is not read"
assert_eq 1 "$(imap_count things INBOX.Processed)" "filed in INBOX.Processed"
assert_eq 1 "$(imap_count things INBOX.Failed)" "and INBOX.Failed"
assert_eq 0 "$(imap_count things)" "the INBOX is empty"

# a folder named with the prefix is not prefixed twice
must programme_conf "$C" inbox.max_message_kib=16 inbox.processed_folder=INBOX.Done
must send_mail --from bob --to things+help@example.test --subject "Again" --body "Why?"
assert_ok imap_wait things 1
assert_status 0 run_things -v -c "$C" run
assert_eq 1 "$(imap_count things INBOX.Done)" "filed in INBOX.Done"
folders=$(curl -s --url "$(imap_url things)" -X 'LIST "" "*"')
assert_match "$folders" '"\." INBOX\.Done' "the folder list has INBOX.Done"
assert_not_contains "$folders" "INBOX.INBOX" "and nothing prefixed twice"
assert_not_contains "$folders" '"." Processed' "and no folder at the top"
