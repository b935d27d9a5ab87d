#!/usr/bin/env bash
# t_delivery_pipelining.sh - Things' own SMTP dialogue (mailer/smtp_dialogue.c, over connections
# libcurl opens) against tests/tools/badsmtp.py.  A server that does not announce PIPELINING
# gets one command at a time (badsmtp logs any command sent before the answer to the one before
# it).  A server that announces it gets MAIL, RCPT and DATA in one write, and here answers every
# command in odd pieces of 1 to 8 bytes (lines, and the EHLO reply, cut anywhere): each answer is
# still paired with its command, so a 451 at RCPT or after the data defers that message with the
# server's words, a refused recipient fails alone, and the connection goes on (RSET) instead of
# being dropped.  Each message arrives intact, once.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/lib_delivery.sh"

N=6
must bed_start

# programme DIR: a programme with Thing 1 for r01..r06@example.test, one connection, through
# the last badsmtp started
programme() {
	P=$1
	C=$P/things.conf
	must programme_make "$P" 1
	must programme_conf "$C" "smtp.url=smtp://127.0.0.1:$BADSMTP_PORT" "smtp.connections=1" \
		"imap.url=maildir:$P/inbox"
	must subscribe_many 'r%02d@example.test' "$N"
}
opened() { grep -c '^C[0-9]* open$' "$BADSMTP_DIR/events.log"; }

# --- no PIPELINING: one command at a time -------------------------------------------------------
must start_badsmtp --no-pipelining --reject r06@example.test
programme "$T/plain"
assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "5 sent, 0 deferred, 1 failed" "without PIPELINING: 5 sent, r06 refused"
events=$(cat "$BADSMTP_DIR/events.log")
assert_not_contains "$events" "improper pipelining" "no command went before the answer to the one before"
assert_not_contains "$events" "pipelined:" "nothing was pipelined"
assert_match "$(sql "SELECT last_error FROM deliveries WHERE recipient = 'r06@example.test'")" \
	"^RCPT: 550 5\.1\.1 <r06@example.test>: no such user" "the refusal is recorded with its words"
assert_eq 1 "$(opened)" "one connection for all six, the refused one included"
assert_contains "$events" "< RSET" "after the refusal, RSET and the connection goes on"
assert_eq "5 5 1" "$(per_recipient)" "five participants received the Thing once"

# --- PIPELINING, answers in odd pieces ----------------------------------------------------------
# transaction 1: 451 at RCPT; 2: 451 after the data; r06: 550 at RCPT
must start_badsmtp --split-replies --rcpt-451 1 --eom-451 2 --reject r06@example.test
programme "$T/piped"
assert_status 0 run_things -v -c "$C" run --now "$(later 0)"
assert_file_contains "$THINGS_OUT" "3 sent, 2 deferred, 1 failed" "with PIPELINING: 3 sent, 2 deferred, 1 failed"
events=$(cat "$BADSMTP_DIR/events.log")
assert_match "$events" "pipelined: [0-9]+ bytes after MAIL" "MAIL went with RCPT and DATA behind it"
assert_match "$events" "pipelined: [0-9]+ bytes after RCPT" "and RCPT with DATA behind it"
assert_not_contains "$events" "pipelined: [0-9]* bytes after DATA" "nothing follows DATA before its 354"
reasons=$(sql "SELECT last_error FROM deliveries WHERE state = 'deferred'")
assert_contains "$reasons" "RCPT: 451 4.3.0 badsmtp: temporary failure at RCPT" "the 451 at RCPT, with its words"
assert_contains "$reasons" "DATA-END: 451 4.3.0 badsmtp: temporary failure after DATA" "the 451 after the data"
assert_match "$(sql "SELECT last_error FROM deliveries WHERE recipient = 'r06@example.test'")" \
	"^RCPT: 550 5\.1\.1" "r06 refused for good"
assert_eq "failed" "$(sql "SELECT state FROM deliveries WHERE recipient = 'r06@example.test'")" "r06 failed"
assert_eq 1 "$(opened)" "one connection carried all six transactions"
assert_eq 3 "$(badsmtp_count)" "three messages accepted"
# the retry: the two deferred ones go; nobody gets two
assert_status 0 run_things -v -c "$C" run --now "$(later 400)"
assert_file_contains "$THINGS_OUT" "2 sent, 0 deferred, 0 failed" "the deferred two go on the retry"
assert_eq "5 5 1" "$(per_recipient)" "five participants received the Thing once"
# intact: each kept message (dot-unstuffed by badsmtp) is a whole Thing 1 to its recipient
for f in "$BADSMTP_DIR"/msg-*.eml; do
	to=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rcpt_to"][0])' "${f%.eml}.json")
	assert_contains "$(mail_header "$f" To)" "$to" "$(basename "$f"): addressed to its recipient $to"
	assert_contains "$(mail_part "$f" text/plain)" "This week: try thing 1." "$(basename "$f"): the text part is whole"
	assert_contains "$(mail_part "$f" text/html)" "</html>" "$(basename "$f"): the HTML part is whole, to its end"
done
