#!/usr/bin/env bash
# t_inbox_commands.sh - organisers' commands by mail: from an organiser's address with the
# shared secret they run (status, remove, add, close) and each is answered; without the
# secret, or from anyone else, the same words are ordinary mail, forwarded, never run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_inbox.sh"

secret=e2e-organisers-secret-0451
must bed_start
must inbox_programme "inbox.organiser_secret=$secret"
must run_things -c "$C" subscribe alice@example.test "Alice Archivist"
must run_things -c "$C" subscribe bob@example.test "Bob Binder"
assert_status 0 run_things -c "$C" run
must send_mail --from alice --to things+help@example.test --subject "Help" --body "Where do I start?"
assert_ok imap_wait things 1
assert_status 0 run_things -c "$C" run

must send_mail --from organiser --to things@example.test --subject "commands" --body "$secret
status
remove bob@example.test
add carol@example.test Carol Cataloguer
close 1"
must send_mail --from organiser --to things@example.test --subject "no secret" \
	--body "remove alice@example.test"
must send_mail --from alice --to things@example.test --subject "I know the secret" \
	--body "$secret
remove alice@example.test"
assert_ok imap_wait things 3
assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "command 1" "one message of commands"

must fetch_match organiser 'HEADER Subject "Re: commands"' "$T/answer.eml"
text=$(mail_part "$T/answer.eml" text/plain)
assert_contains "$text" "> status" "the answer quotes each command"
assert_contains "$text" "Participants: 2 active, 0 pending, 0 unsubscribed, 0 suspended" "status: the counts before the changes"
assert_contains "$text" "#1 from alice@example.test" "status: the open ticket"
assert_contains "$text" "bob@example.test removed (was active)" "remove"
assert_contains "$text" "carol@example.test added, active" "add"
assert_contains "$text" "ticket 1 closed" "close"
assert_not_contains "$text" "$secret" "the secret is not sent back"
assert_eq "auto-replied" "$(mail_header "$T/answer.eml" Auto-Submitted)" "the answer is automatic"
assert_eq "unsubscribed" "$(db "SELECT status FROM participants WHERE address = 'bob@example.test'")" "bob removed"
assert_eq "active|Carol Cataloguer" "$(db "SELECT status, name FROM participants WHERE address = 'carol@example.test'")" "carol added"
assert_eq "closed" "$(db "SELECT state FROM tickets WHERE id = 1")" "ticket 1 closed"
assert_eq 0 "$(db "SELECT count(*) FROM inbound WHERE body_text LIKE '%$secret%' AND intent = 'command'")" \
	"the secret is not kept in the store"
assert_ok imap_wait carol 1
assert_contains "$(mail_header "$T/answer.eml" In-Reply-To)" "@" "the answer is threaded"

# the others were not run: forwarded as ordinary mail
assert_eq "active" "$(db "SELECT status FROM participants WHERE address = 'alice@example.test'")" \
	"neither the organiser without the secret nor alice with it removed alice"
must fetch_match organiser 'HEADER Subject "no secret"' "$T/fwd1.eml"
must fetch_match organiser 'HEADER Subject "I know the secret"' "$T/fwd2.eml"
assert_eq 1 "$(db "SELECT count(*) FROM deliveries WHERE kind = 'command-answer'")" "one command answer in all"
