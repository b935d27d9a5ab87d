#!/usr/bin/env bash
# t_delivery_tls.sh - submission with TLS and AUTH to the bed's Postfix, certificates verified
# against the bed's test CA ([smtp] ca_file): STARTTLS on the submission port and implicit TLS
# on smtps both deliver.  A server whose certificate names another host (127.0.0.2) or comes
# from an unknown CA (127.0.0.3) is refused: nothing is delivered, the delivery is deferred
# with a reason that says what was wrong with the certificate, and no password goes out.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/lib_delivery.sh"

must bed_start
pw=$(password things)

# programme DIR URL: a programme with one Thing, alice subscribed, sending through URL
programme() {
	must programme_make "$1" 1
	must programme_conf "$1/things.conf" "smtp.url=$2" "imap.url=maildir:$1/inbox"
	must run_things -c "$1/things.conf" subscribe alice@example.test "Alice"
}


# --- verified TLS + AUTH: delivered ----------------------------------------------------------
n=0
for url in "smtp+starttls://things:$pw@127.0.0.1:$MAILBED_SUBMISSION_PORT" \
	"smtps://things:$pw@127.0.0.1:$MAILBED_SMTPS_PORT"; do
	n=$((n + 1))
	P=$T/good$n
	programme "$P" "$url"
	assert_status 0 run_things -vv -c "$P/things.conf" run
	assert_file_contains "$THINGS_OUT" "1 sent" "${url%%:*}: Thing 1 submitted"
	# libcurl made the connection (TLS, AUTH); Postfix's PIPELINING, announced after TLS, was seen
	assert_file_contains "$THINGS_ERR" "smtp: connected to ${url%%://*}://127.0.0.1:" \
		"${url%%:*}: connected, without the password in the log"
	assert_file_contains "$THINGS_ERR" ": PIPELINING" "${url%%:*}: the dialogue pipelines over TLS"
	assert_ok imap_wait alice "$n"
	assert_eq "sent" "$(sql "SELECT state FROM deliveries")" "${url%%:*}: recorded as sent"
done
imap_fetch_last alice > "$T/last.eml"
assert_match "$(mail_header "$T/last.eml" Subject)" "Thing 1" "alice got Thing 1"
# Postfix says how the message came in: over TLS, authenticated
assert_match "$(mail_headers "$T/last.eml" Received)" "with ESMTPSA" \
	"Postfix received it over TLS, with AUTH"

# --- certificate for another name, or from an unknown CA: refused -----------------------------
before=$(imap_count alice)
for host in "$MAILBED_WRONGNAME_HOST" "$MAILBED_UNKNOWNCA_HOST"; do
	for url in "smtp+starttls://things:$pw@$host:$MAILBED_SUBMISSION_PORT" \
		"smtps://things:$pw@$host:$MAILBED_SMTPS_PORT"; do
		n=$((n + 1))
		P=$T/bad$n
		programme "$P" "$url"
		assert_status 0 run_things -v -c "$P/things.conf" run
		assert_file_contains "$THINGS_OUT" "0 sent, 1 deferred" "$host ${url%%:*}: deferred"
		assert_eq "deferred" "$(sql "SELECT state FROM deliveries")" \
			"$host ${url%%:*}: the delivery waits for a retry"
		why=$(sql "SELECT last_error FROM deliveries")
		echo "# $host ${url%%:*}: $why"
		case $host in
			"$MAILBED_WRONGNAME_HOST") assert_match "$why" "(does not match|not match target host|name)" \
				"$host ${url%%:*}: the reason names the host name mismatch" ;;
			*) assert_match "$why" "(certificate|CA|issuer|verif)" \
				"$host ${url%%:*}: the reason names the certificate" ;;
		esac
		assert_not_contains "$why" "$pw" "$host ${url%%:*}: no password in the reason"
	done
done
assert_ok bed_wait_queue_empty
assert_eq "$before" "$(imap_count alice)" "nothing reached alice through a refused server"
# no password ever reached a server whose certificate was refused: Postfix logged exactly the
# two good logins
auths=$(grep -c "sasl_username=things" "$MAILBED_LOGS/postfix.log")
assert_eq 2 "$auths" "Postfix saw exactly the two good logins"

# --- a wrong password: deferred, and the reason says the login was refused --------------------
P=$T/badpw
programme "$P" "smtp+starttls://things:not-the-password@127.0.0.1:$MAILBED_SUBMISSION_PORT"
assert_status 0 run_things -c "$P/things.conf" run
assert_eq "deferred" "$(sql "SELECT state FROM deliveries")" "wrong password: the delivery waits"
why=$(sql "SELECT last_error FROM deliveries")
assert_match "$why" "^AUTH: 535" "the reason names AUTH and the server's refusal ($why)"
assert_file_contains "$THINGS_ERR" "AUTH: 535" \
	"and so does the warning cron mails (without -v, with one message due)"
