#!/usr/bin/env bash
# t_mailbed.sh - the harness's own test: the mail bed delivers, plus-addresses, authenticates,
# verifies TLS (and refuses a wrong host name or an unknown CA), bounces with a real DSN, and
# rejects unknown users at RCPT when asked to.
. "$(dirname "$0")/lib.sh"

tok=mb$$$RANDOM
must bed_start

# --- SMTP -> LMTP -> IMAP ------------------------------------------------------------------
must send_mail --from bob --to alice --subject "hello $tok" --body "first line of $tok"
assert_ok imap_wait alice 1
uid=$(imap_search alice "HEADER Subject \"hello $tok\"")
assert_match "$uid" '^[0-9]+$' "the message is found by its subject"
imap_fetch alice "$uid" > "$T/alice.eml"
assert_eq "hello $tok" "$(mail_header "$T/alice.eml" Subject)" "Subject survives delivery"
assert_eq "alice@example.test" "$(mail_header "$T/alice.eml" Delivered-To)" "Delivered-To is alice"
assert_contains "$(mail_part "$T/alice.eml" text/plain)" "first line of $tok" "body arrives"
assert_eq "" "$(imap_flags alice "$uid")" "imap_fetch leaves the message unseen"
assert_eq 0 "$(imap_count bob)" "nothing for bob"

# --- plus-addressing lands in the base user's INBOX ---------------------------------------
must send_mail --from alice --to "things+foo@example.test" --subject "plus $tok"
assert_ok imap_wait things 1
imap_fetch_last things > "$T/plus.eml"
assert_eq "things+foo@example.test" "$(mail_header "$T/plus.eml" Delivered-To)" "detail kept in Delivered-To"
assert_eq "plus $tok" "$(mail_header "$T/plus.eml" Subject)" "things+foo lands in things' INBOX"

# --- the helpers a scenario needs: a multipart/alternative message, and a reply to it ------
cat > "$T/alt.eml" <<-EOF
	From: Things <things@example.test>
	To: bob@example.test
	Reply-To: things+r-$tok@example.test
	Subject: =?utf-8?q?Thing_1=3A_Bl=C3=B6gging?=
	Message-ID: <thing1-$tok@example.test>
	MIME-Version: 1.0
	Content-Type: multipart/alternative; boundary="b1"

	--b1
	Content-Type: text/plain; charset=utf-8
	Content-Transfer-Encoding: quoted-printable

	Read this: https://example.org/1 =E2=80=94 then reply.
	--b1
	Content-Type: text/html; charset=utf-8

	<p>Read <a href="https://example.org/1">this</a></p>
	--b1--
EOF
must send_mail --eml "$T/alt.eml" --from things --to bob
assert_ok imap_wait bob 1
imap_fetch_last bob > "$T/alt-got.eml"
assert_eq $'multipart/alternative\n  text/plain\n  text/html' "$(mail_structure "$T/alt-got.eml")" "MIME tree of a multipart/alternative"
assert_eq "Thing 1: Blögging" "$(mail_header "$T/alt-got.eml" Subject)" "mail_header decodes RFC 2047"
assert_contains "$(mail_part "$T/alt-got.eml" text/plain)" "https://example.org/1 — then reply" "mail_part decodes quoted-printable"
assert_contains "$(mail_part "$T/alt-got.eml" text/html)" '<a href="https://example.org/1">' "mail_part gives the HTML"
assert_eq "things+r-$tok@example.test" "$(mail_addr "$T/alt-got.eml" Reply-To)" "mail_addr gives the bare address"
must send_reply bob "$T/alt-got.eml" "Done: https://bob.example.org/thing1"
uid=$(imap_wait_search things "HEADER In-Reply-To \"<thing1-$tok@example.test>\"")
assert_match "$uid" '^[0-9]+$' "the reply went to the Reply-To address"
imap_fetch things "$uid" > "$T/reply.eml"
assert_eq "Re: Thing 1: Blögging" "$(mail_header "$T/reply.eml" Subject)" "reply subject"
assert_eq "<thing1-$tok@example.test>" "$(mail_header "$T/reply.eml" References)" "reply References"
assert_eq "bob@example.test" "$(mail_addr "$T/reply.eml" From)" "reply From"
assert_contains "$(mail_part "$T/reply.eml" text/plain)" "https://bob.example.org/thing1" "reply body"

# --- submission (STARTTLS + AUTH, test CA verified) and smtps ----------------------------
assert_ok send_mail --via submission --from carol --to dave --subject "subm $tok"
assert_ok send_mail --via smtps --from carol --to dave --subject "smtps $tok"
printf 'From: carol@example.test\nTo: dave@example.test\nSubject: eml %s\n\n.\n..dots\nend\n' "$tok" > "$T/raw.eml"
assert_ok send_mail --via submission --eml "$T/raw.eml" --from carol --to dave
assert_ok imap_wait dave 3
uid=$(imap_search dave "HEADER Subject \"subm $tok\"")
imap_fetch dave "$uid" > "$T/subm.eml"
assert_match "$(mail_headers "$T/subm.eml" Received)" 'with ESMTPSA' "submission was TLS + AUTH (ESMTPSA)"
uid=$(imap_search dave "HEADER Subject \"eml $tok\"")
imap_fetch dave "$uid" > "$T/raw-got.eml"
assert_eq $'.\n..dots\nend' "$(mail_part "$T/raw-got.eml" text/plain | tr -d '\r')" "raw .eml arrives dot-stuffed correctly"
# submission offers no AUTH before STARTTLS, and refuses a wrong password (curl: 67)
assert_fails swaks -4 --server "127.0.0.1:$MAILBED_SUBMISSION_PORT" --from carol@example.test \
	--to dave@example.test --auth PLAIN --auth-user carol --auth-password carolpw
assert_status 67 curl -sS --ssl-reqd --cacert "$MAILBED_CA" --user carol:wrongpw \
	--mail-from carol@example.test --mail-rcpt dave@example.test -T "$T/raw.eml" \
	"smtp://127.0.0.1:$MAILBED_SUBMISSION_PORT"

# --- IMAPS / IMAP STARTTLS with the test CA ------------------------------------------------
url=$(imap_url alice INBOX 127.0.0.1 imaps)
assert_contains "$(curl -sS --cacert "$MAILBED_CA" "$url" -X 'EXAMINE INBOX')" "EXISTS" "IMAPS verifies against the test CA (127.0.0.1)"
assert_contains "$(curl -sS --cacert "$MAILBED_CA" --resolve "localhost:$MAILBED_IMAPS_PORT:127.0.0.1" \
	"$(imap_url alice INBOX localhost imaps)" -X 'EXAMINE INBOX')" "EXISTS" "IMAPS verifies as localhost"
assert_contains "$(curl -sS --ssl-reqd --cacert "$MAILBED_CA" "$(imap_url alice)" -X 'EXAMINE INBOX')" \
	"EXISTS" "IMAP STARTTLS verifies against the test CA"
assert_status 60 curl -sS "$url" -X 'EXAMINE INBOX'   # the system store does not know our CA

# --- a wrong host name is refused ----------------------------------------------------------
wrong=$(imap_url alice INBOX "$MAILBED_WRONGNAME_HOST" imaps)
assert_status 60 curl -sS --cacert "$MAILBED_CA" "$wrong" -X 'EXAMINE INBOX'
assert_contains "$(cat "$T/last.out")" "no alternative certificate subject name matches" "curl says why: the name"
assert_contains "$(curl -sS -k "$wrong" -X 'EXAMINE INBOX')" "EXISTS" "control: the same server works without verification"
assert_status 60 curl -sS --ssl-reqd --cacert "$MAILBED_CA" "$(imap_url alice INBOX "$MAILBED_WRONGNAME_HOST")" -X 'EXAMINE INBOX'
assert_status 60 curl -sS --cacert "$MAILBED_CA" --user carol:carolpw --mail-from carol@example.test \
	--mail-rcpt dave@example.test -T "$T/raw.eml" "smtps://$MAILBED_WRONGNAME_HOST:$MAILBED_SMTPS_PORT"
assert_status 60 curl -sS --ssl-reqd --cacert "$MAILBED_CA" --mail-from carol@example.test \
	--mail-rcpt dave@example.test -T "$T/raw.eml" "smtp://$MAILBED_WRONGNAME_HOST:$MAILBED_SMTP_PORT"

# --- an unknown CA is refused --------------------------------------------------------------
unknown=$(imap_url alice INBOX "$MAILBED_UNKNOWNCA_HOST" imaps)
assert_status 60 curl -sS --cacert "$MAILBED_CA" "$unknown" -X 'EXAMINE INBOX'
assert_contains "$(cat "$T/last.out")" "unable to get local issuer certificate" "curl says why: the issuer"
assert_contains "$(curl -sS --cacert "$MAILBED_UNKNOWN_CA" "$unknown" -X 'EXAMINE INBOX')" "EXISTS" \
	"control: trusting the unrelated CA, the name verifies"
assert_status 60 curl -sS --cacert "$MAILBED_UNKNOWN_CA" "$url" -X 'EXAMINE INBOX'   # and the reverse

# --- an unknown user gives a real DSN to the envelope sender -------------------------------
must send_mail --from things --envelope-from "things+bounce-$tok@example.test" --to nobody --subject "to nobody $tok"
uid=$(imap_wait_search things "HEADER Delivered-To \"things+bounce-$tok@example.test\"")
assert_match "$uid" '^[0-9]+$' "a bounce came back to the VERP address"
imap_fetch things "$uid" > "$T/dsn.eml"
assert_match "$(mail_header "$T/dsn.eml" Content-Type)" '^multipart/report;.*report-type="?delivery-status' "DSN is multipart/report"
assert_eq "<>" "$(mail_header "$T/dsn.eml" Return-Path)" "DSN has a null sender"
status=$(mail_part "$T/dsn.eml" message/delivery-status)
assert_contains "$status" "Final-Recipient: rfc822; nobody@example.test" "DSN names the recipient"
assert_contains "$status" "Status: 5.1.1" "DSN says 5.1.1"
assert_contains "$(mail_structure "$T/dsn.eml")" $'\n  message/rfc822' "DSN carries the original"

# --- Dovecot down: Postfix keeps the mail queued, and delivers it once Dovecot is back ------
n_carol=$(imap_count carol)
must bed_stop dovecot
assert_ok send_mail --from bob --to carol --subject "queued $tok"
assert_fails bed_wait_queue_empty 1
assert_eq 1 "$(bed_queue_count)" "the message waits in Postfix's queue while LMTP is down"
must bed_start
assert_ok bed_flush
assert_ok bed_wait_queue_empty 10
assert_ok imap_wait carol $((n_carol + 1))
assert_ok imap_wait_search carol "HEADER Subject \"queued $tok\""

# --- MAILBED_REJECT_UNKNOWN=1: restart on the same ports, 550 at RCPT ----------------------
ports="$MAILBED_IMAP_PORT $MAILBED_SMTP_PORT"
n_alice=$(imap_count alice)
must bed_stop
assert_eq "" "$("$MAILBED" ps "$MAILBED_DIR")" "no process left after bed_stop"
assert_fails curl -sS "$(imap_url alice)" -X NOOP
must bed_start REJECT_UNKNOWN=1
assert_eq "$ports" "$MAILBED_IMAP_PORT $MAILBED_SMTP_PORT" "a restarted bed keeps its ports"
assert_eq "$n_alice" "$(imap_count alice)" "and its mail"
out=$(swaks -4 --server "127.0.0.1:$MAILBED_SMTP_PORT" --from bob@example.test --to nobody@example.test 2>&1)
assert_contains "$out" "<** 550 5.1.1" "unknown user: 550 5.1.1 at RCPT"
assert_ok send_mail --from bob --to "alice+tag@example.test" --subject "after restart $tok"
assert_ok imap_wait alice $((n_alice + 1))
assert_ok bed_wait_queue_empty
assert_eq 0 "$(bed_queue_count)" "Postfix's queue is empty"
