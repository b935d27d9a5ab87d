#!/usr/bin/env bash
# t_inbox_tickets.sh - help requests as tickets, end to end: the organiser answers the
# participant (copying Things, as the forward asks) and the ticket is marked answered; a
# ticket nobody answers is reminded once per period (ticket_reminder_hours, runs with --now),
# until `things tickets close` ends it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_inbox.sh"

later() { date -d "+$1 hours" +%Y-%m-%dT%H:%M; }

must bed_start
must inbox_programme inbox.ticket_reminder_hours=24
must run_things -c "$C" subscribe bob@example.test "Bob Binder"
assert_status 0 run_things -c "$C" run
assert_ok imap_wait bob 1

# --- ticket 1: asked, forwarded, answered --------------------------------------------------------
must send_mail --from bob --to things+help@example.test --subject "Feeds for Thing 1" \
	--body "How do I find the feed of a blog?"
assert_ok imap_wait things 1
assert_status 0 run_things -c "$C" run
must fetch_match organiser 'HEADER Subject "[ticket 1]"' "$T/fwd1.eml"
fwd=$(mail_header "$T/fwd1.eml" Message-ID)
orig=$(mail_header "$T/fwd1.eml" In-Reply-To)
assert_match "$orig" '^<.+@.+>$' "the forward names bob's message"
# the organiser's mail client: reply (to Reply-To: bob), and Cc Things
must send_mail --from organiser --to bob --to things --subject "Re: Feeds for Thing 1" \
	--header "In-Reply-To: $fwd" --header "References: $orig $fwd" \
	--body "Look for the orange icon, or add /feed to the address."
assert_ok imap_wait things 1
must fetch_match bob 'HEADER Subject "Re: Feeds for Thing 1"' "$T/answer.eml"
assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "ticket-reply 1" "the organiser's copy is read as an answer"
assert_eq "answered|organiser@example.test" "$(db "SELECT state, closed_by FROM tickets WHERE id = 1")" \
	"ticket 1 is answered, by the organiser"
assert_eq 0 "$(db "SELECT count(*) FROM deliveries d JOIN inbound i ON i.id = d.inbound_id WHERE i.intent = 'ticket-reply'")" \
	"the answer itself causes no mail"

# --- ticket 2: nobody answers ----------------------------------------------------------------------
must send_mail --from bob --to things+help@example.test --subject "Still stuck" --body "Anyone?"
assert_ok imap_wait things 1
assert_status 0 run_things -c "$C" run
must fetch_match organiser 'HEADER Subject "[ticket 2]"' "$T/fwd2.eml"
assert_ok bed_wait_queue_empty
n0=$(imap_count organiser)

assert_status 0 run_things -v -c "$C" run --now "$(later 23)"
assert_file_not_contains "$THINGS_OUT" "reminder" "no reminder before 24 hours"
assert_status 0 run_things -v -c "$C" run --now "$(later 25)"
assert_file_contains "$THINGS_OUT" "1 ticket reminder" "a reminder after 24 hours"
must fetch_match organiser 'HEADER Subject "Still waiting"' "$T/rem1.eml"
assert_contains "$(mail_header "$T/rem1.eml" Subject)" "[ticket 2]" "it is about ticket 2, not the answered ticket 1"
assert_contains "$(mail_part "$T/rem1.eml" text/plain)" "things tickets close 2" "it says how to close it"
assert_eq "bob@example.test" "$(mail_addr "$T/rem1.eml" Reply-To)" "Reply-To is still bob"
assert_status 0 run_things -v -c "$C" run --now "$(later 30)"
assert_file_not_contains "$THINGS_OUT" "reminder" "once per period"
assert_status 0 run_things -v -c "$C" run --now "$(later 50)"
assert_file_contains "$THINGS_OUT" "1 ticket reminder" "the next period, the next reminder"
assert_ok bed_wait_queue_empty
assert_eq $((n0 + 2)) "$(imap_count organiser)" "two reminders in all"

assert_status 0 run_things -c "$C" tickets
assert_match "$(cat "$THINGS_OUT")" "1 open ticket" "one ticket is open"
assert_match "$(cat "$THINGS_OUT")" "2 +open .* 2 +bob@example.test +Still stuck" "ticket 2: open, reminded twice"
assert_status 0 run_things -c "$C" tickets close 2
assert_file_contains "$THINGS_OUT" "ticket 2 closed"
assert_status 1 run_things -c "$C" tickets close 2
assert_status 0 run_things -c "$C" tickets
assert_eq "0 open tickets" "$(cat "$THINGS_OUT")" "with none open, no empty table under the count"
assert_status 0 run_things -v -c "$C" run --now "$(later 200)"
assert_file_not_contains "$THINGS_OUT" "reminder" "a closed ticket is never reminded"
assert_status 0 run_things -c "$C" tickets --all
assert_match "$(cat "$THINGS_OUT")" "0 open tickets" "none is open"
assert_match "$(cat "$THINGS_OUT")" "1 +answered .*\[organiser@example.test\]" "ticket 1 answered by the organiser"
assert_match "$(cat "$THINGS_OUT")" "2 +closed .*\[cli\]" "ticket 2 closed from the command line"
