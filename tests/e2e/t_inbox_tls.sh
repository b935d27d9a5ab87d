#!/usr/bin/env bash
# t_inbox_tls.sh - the inbox over IMAP with TLS against the bed's Dovecot and its own test CA:
# implicit TLS and STARTTLS with the right CA and host work; a certificate for the wrong host
# name (127.0.0.2), one from an unknown CA (127.0.0.3), or a missing ca_file are refused with a
# clear message, and Things never logs in (Dovecot's log shows no login there).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_inbox.sh"

must bed_start
must inbox_programme
pw=$(password things)
must send_mail --from alice --to things@example.test --subject "hello" --body "Hello!"
assert_ok imap_wait things 1
dlog=$MAILBED_LOGS/dovecot.log

# refused: run fails, says why, no login from that address
refused() { # WHAT URL WHY LIP [-ca_file]
	local what=$1 url=$2 why=$3 lip=$4 before
	must programme_conf "$C" "imap.url=$url" ${5:+"$5"}
	before=$(grep -c "Login: user=<things>.*lip=$lip" "$dlog")
	assert_status 1 run_things -c "$C" run
	assert_file_contains "$THINGS_ERR" "refusing to log in" "$what: refused"
	assert_file_contains "$THINGS_ERR" "$why" "$what: says why"
	sleep 0.2
	assert_eq "$before" "$(grep -c "Login: user=<things>.*lip=$lip" "$dlog")" "$what: no login"
}
refused "wrong name, imaps" "imaps://things:$pw@127.0.0.2:$MAILBED_IMAPS_PORT/INBOX" \
	"does not match host 127.0.0.2" 127.0.0.2
refused "wrong name, STARTTLS" "imap+starttls://things:$pw@127.0.0.2:$MAILBED_IMAP_PORT/INBOX" \
	"does not match host 127.0.0.2" 127.0.0.2
refused "unknown CA, imaps" "imaps://things:$pw@127.0.0.3:$MAILBED_IMAPS_PORT/INBOX" \
	"unknown CA" 127.0.0.3
refused "no ca_file, imaps" "imaps://things:$pw@127.0.0.1:$MAILBED_IMAPS_PORT/INBOX" \
	"unknown CA" 127.0.0.1 -imap.ca_file
assert_eq 1 "$(imap_count things)" "nothing was read"
assert_eq 0 "$(db "SELECT count(*) FROM inbound")" "nothing was recorded"

# accepted: the right CA and host, implicit TLS, then STARTTLS
must programme_conf "$C" "imap.url=imaps://things:$pw@localhost:$MAILBED_IMAPS_PORT/INBOX"
assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "1 processed" "imaps with the test CA works"
assert_ok wait_for 3 grep -q "Login: user=<things>.*TLS" "$dlog"
must send_mail --from alice --to things@example.test --subject "again" --body "Hello again!"
assert_ok imap_wait things 1
must programme_conf "$C" "imap.url=imap+starttls://things:$pw@127.0.0.1:$MAILBED_IMAP_PORT/INBOX"
assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "1 processed" "STARTTLS with the test CA works"
assert_eq 2 "$(db "SELECT count(*) FROM inbound")" "both recorded"
