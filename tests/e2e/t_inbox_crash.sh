#!/usr/bin/env bash
# t_inbox_crash.sh - a message that crashes Things does not stop every run.  THINGS_FAULT
# makes the run abort while it parses one chosen message (the stand-in for a library that
# crashes on a hostile input): two runs die on it, with nothing recorded and nothing sent;
# the third sets it aside unread (recorded as failed, the organisers told, filed in the
# failed folder) and handles everything else: the waiting help request, the Thing that was
# due.  A message that a run died on only once is not set aside: a good message in hand when
# a run was killed from outside is handled by the next run.  And a message whose forward
# crashes Things while it is composed for sending is set aside the same way.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_inbox.sh"

must bed_start
must inbox_programme inbox.failed_folder=Broken
must run_things -c "$C" subscribe bob@example.test "Bob Binder"

must send_mail --from dave --to things@example.test --subject "weird one" --body "POISON-4c1e"
must send_mail --from bob --to things+help@example.test --subject "Question" --body "How?"
assert_ok imap_wait things 2

export THINGS_FAULT=parse:POISON-4c1e
for i in 1 2; do
	run_things -c "$C" run
	assert_eq 134 "$THINGS_STATUS" "run $i dies on the message (SIGABRT)"
done
assert_file_contains "$THINGS_ERR" "crashing at parse on purpose" "it is the fault we asked for"
assert_eq 2 "$(imap_count things)" "both messages still wait in the INBOX"
assert_eq 0 "$(db "SELECT count(*) FROM inbound")" "nothing was recorded"
assert_eq 0 "$(db "SELECT count(*) FROM deliveries WHERE state = 'sent'")" \
	"and nothing sent: the crash stops the whole run"

assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "1 failed" "the third run sets the message aside"
assert_match "$(db "SELECT intent || ' ' || detail FROM inbound WHERE sender = ''")" \
	"^failed set aside: Things crashed twice" "recorded as failed, unread, with the reason"
assert_eq 1 "$(imap_count things Broken)" "filed in the failed folder"
assert_eq 0 "$(imap_count things)" "the INBOX is empty"
assert_eq 1 "$(db "SELECT count(*) FROM inbound WHERE intent = 'help'")" \
	"the help request behind it is handled"
must fetch_match organiser 'HEADER Subject "could not be handled"' "$T/notice.eml"
assert_contains "$(mail_part "$T/notice.eml" text/plain)" "crashed twice" \
	"the organisers are told why"
must fetch_match bob 'HEADER Subject "Thing 1"' "$T/thing1.eml"
pass "the Thing that was due went out"

assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "0 fetched" "the set-aside message is not read again"

# --- one death is not enough ----------------------------------------------------------------
must send_mail --from carol --to things+subscribe@example.test --subject "subscribe" --body "FLAKY-9d2"
assert_ok imap_wait things 1
export THINGS_FAULT=parse:FLAKY-9d2
run_things -c "$C" run
assert_eq 134 "$THINGS_STATUS" "a run dies on carol's message once"
unset THINGS_FAULT
assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "1 processed" "the next run handles it"
assert_eq "pending" "$(db "SELECT status FROM participants WHERE address = 'carol@example.test'")" \
	"carol's subscription is recorded (awaiting confirmation)"

# --- a message that crashes Things while it is composed for sending ---------------------------
# The organisers' forward of this help request carries its text.  The run that first dies
# composing it cannot know which delivery it was; the next runs compose the deliveries a dead
# run left in hand under a crumb, and after two more deaths the forward is set aside (failed,
# with the reason) and everything else goes out.
must send_mail --from bob --to things+help@example.test --subject "Odd one" --body "POISON-c0mp"
assert_ok imap_wait things 1
export THINGS_FAULT=compose:POISON-c0mp
for i in 1 2 3; do
	run_things -c "$C" run
	assert_eq 134 "$THINGS_STATUS" "run $i dies composing the forward"
done
assert_status 0 run_things -v -c "$C" run
unset THINGS_FAULT
assert_match "$(db "SELECT state || ' ' || last_error FROM deliveries WHERE kind = 'help-forward' ORDER BY id DESC LIMIT 1")" \
	"^failed set aside: Things crashed twice in a row while composing it" \
	"the fourth run sets the forward aside, with the reason"
must fetch_match bob 'HEADER Subject "We have your message: Odd one"' "$T/odd-ack.eml"
pass "bob's acknowledgement went out"
assert_eq 0 "$(db "SELECT count(*) FROM deliveries WHERE state IN ('queued', 'sending')")" \
	"nothing else is stuck"
