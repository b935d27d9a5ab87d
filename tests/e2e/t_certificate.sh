#!/usr/bin/env bash
# t_certificate.sh - a participant who has sent a reflection on every Thing gets a certificate
# of completion by mail, once: reflections by reply and by "Thing N" mails through Postfix,
# read from Dovecot; the certificate is numbered, dated, in both parts, and shown by
# `things report`; a later reflection does not send a second one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_inbox.sh"

must bed_start
must inbox_programme
must run_things -c "$C" subscribe alice@example.test "Alice Archivist"
assert_status 0 run_things -c "$C" run
must fetch_match alice 'HEADER Subject "Thing 1"' "$T/thing1.eml"

must send_reply alice "$T/thing1.eml" "Done! https://alice.example.test/thing-1"
must send_mail --from alice --to things@example.test --subject "Thing 2" \
	--body "My post on Thing 2: https://alice.example.test/thing-2"
assert_ok imap_wait things 2
assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "2 processed"
assert_eq 0 "$(db "SELECT count(*) FROM deliveries WHERE kind = 'certificate'")" \
	"two of three Things: no certificate yet"

must send_mail --from alice --to things@example.test --subject "Re: Thing 3" \
	--body "Last one! https://alice.example.test/thing-3"
assert_ok imap_wait things 1
assert_status 0 run_things -v -c "$C" run
must fetch_match alice 'HEADER Subject "Congratulations"' "$T/cert.eml"
text=$(mail_part "$T/cert.eml" text/plain)
assert_contains "$text" "Certificate of completion no. 1" "numbered"
assert_contains "$text" "3 of the 3" "for every Thing"
assert_contains "$text" "Alice Archivist (alice@example.test) completed" "names the participant"
assert_match "$text" "on [A-Z][a-z]+day [0-9]+ [A-Z][a-z]+[[:space:]>]+20[0-9][0-9]" "dated"
assert_contains "$(mail_part "$T/cert.eml" text/html)" "<blockquote>" "the certificate set apart in HTML"
assert_status 0 run_things -c "$C" report
assert_file_contains "$THINGS_OUT" "certificate no. 1" "the report shows it"

must send_mail --from alice --to things@example.test --subject "Thing 2 again" \
	--body "More on Thing 2: https://alice.example.test/thing-2b"
assert_ok imap_wait things 1
assert_status 0 run_things -v -c "$C" run
assert_status 0 run_things -c "$C" run
assert_ok bed_wait_queue_empty
assert_eq 1 "$(imap_search alice 'HEADER Subject "Congratulations"' | wc -w)" "one certificate, ever"
