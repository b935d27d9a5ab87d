#!/usr/bin/env bash
# t_inbox_real.sh - messages of the real-client corpus (tests/fixtures/mail/real) through real
# Postfix and Dovecot: a Gmail reply whose quote holds our command words and links, a K-9
# top-posted link, an Exchange out-of-office, a Postfix DSN and a Yahoo-style abuse report
# (ARF) to the VERP address.  The fixtures' world (example.org, Ann's and Bob's Thing, Ann's
# token) is rewritten to the bed's: alice and bob, the Thing 1 each really got, alice's token.
# The ARF arrives with a real Return-Path (the envelope sender of the test), so only its
# report type tells Things that it is a machine's: it must unsubscribe alice without a word.
# And a blog written without https:// ("My blog is annreads.example.net", sent by bob here):
# registered at https://, and the acknowledgement that reaches bob shows that address.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_inbox.sh"

FIX=$E2E_DIR/../fixtures/mail/real

must bed_start
D=$MAILBED_DOMAIN
must inbox_programme feeds.timeout_seconds=2
must run_things -c "$C" subscribe alice@$D "Ann Archivist"
must run_things -c "$C" subscribe bob@$D "Bob Jones"
assert_status 0 run_things -c "$C" run
assert_ok imap_wait alice 1
assert_ok imap_wait bob 1
imap_fetch_last alice > "$T/thing-alice.eml"
imap_fetch_last bob > "$T/thing-bob.eml"
alice_mid=$(mail_header "$T/thing-alice.eml" Message-ID | tr -d '<>')
bob_mid=$(mail_header "$T/thing-bob.eml" Message-ID | tr -d '<>')
alice_tok=$(mail_header "$T/thing-alice.eml" List-Unsubscribe | sed -n 's/.*unsubscribe-\([0-9a-f]*\)@.*/\1/p')
assert_eq 24 "${#alice_tok}" "alice's token from her List-Unsubscribe"

# the fixture, in the bed's world
world() { # FILE
	sed -e "s/0a1b2c3d4e5f60718293a4b5\.thing@example\.org/$alice_mid/g" \
	    -e "s/1b2c3d4e5f60718293a4b5c6\.thing@example\.org/$bob_mid/g" \
	    -e "s/a1a1a1a1a1a1a1a1a1a1a1a1/$alice_tok/g" \
	    -e "s/ann@example\.net/alice@$D/g" -e "s/bob\.jones@gmail\.example/bob@$D/g" \
	    -e "s/d\.smith@nhs-trust\.example\.co\.uk/dave@$D/g" \
	    -e "s/@example\.org/@$D/g" "$FIX/$1.eml" > "$T/$1.eml"
}
for f in gmail_reflection_quoted_commands k9_android_toppost_link oof_exchange_autoreply \
	dsn_postfix_verp arf_abuse_report blog_bare_domain; do
	world "$f"
done
sed -i "s/^From: .*/From: Bob Jones <bob@$D>/" "$T/blog_bare_domain.eml"
# the Exchange OOF answers alice's Thing, from dave
sed -i "s/In-Reply-To: <.*>/In-Reply-To: <$alice_mid>/; s/References: <.*>/References: <$alice_mid>/" \
	"$T/oof_exchange_autoreply.eml"

must send_mail --eml "$T/gmail_reflection_quoted_commands.eml" --from alice --to things
must send_mail --eml "$T/k9_android_toppost_link.eml" --from bob --to things
must send_mail --eml "$T/oof_exchange_autoreply.eml" --from dave --to things
must send_mail --eml "$T/dsn_postfix_verp.eml" --from organiser --to "things+bounce-$alice_tok@$D"
must send_mail --eml "$T/arf_abuse_report.eml" --from organiser --to "things+bounce-$alice_tok@$D"
must send_mail --eml "$T/blog_bare_domain.eml" --from bob --to things
assert_ok imap_wait things 6

assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "6 processed" "the six messages are handled"
assert_eq 0 "$(imap_count things)" "the INBOX is empty"
assert_eq 6 "$(imap_count things Processed)" "all six are in Processed"

# Gmail: the reply's own link, on the Thing it answers; the quote's words and links ignored
assert_eq "reflection|1" "$(db "SELECT intent, thing FROM inbound WHERE sender = 'alice@$D' \
	AND subject = 'Re: Thing 3: Blogging' AND intent = 'reflection'")" "Gmail reply: a reflection on Thing 1"
assert_eq "https://annarchivist.wordpress.example/2027/01/18/thing-3-blogging/" \
	"$(db "SELECT url FROM reflections r JOIN participants p ON p.id = r.participant_id \
	WHERE p.address = 'alice@$D'")" "alice's post, not a link from the quote"
assert_eq "https://bobjones.blogspot.example/2027/01/blogging-about-blogging.html" \
	"$(db "SELECT url FROM reflections r JOIN participants p ON p.id = r.participant_id \
	WHERE p.address = 'bob@$D'")" "K-9: the top-posted link"
# the OOF: recorded, never answered
assert_eq "autoreply" "$(db "SELECT intent FROM inbound WHERE sender = 'dave@$D'")" "Exchange OOF"
assert_eq 0 "$(db "SELECT count(*) FROM deliveries WHERE recipient = 'dave@$D'")" "nothing to dave"
# the DSN counts; the abuse report unsubscribes alice, quietly, and is no bounce
assert_eq "bounce" "$(db "SELECT intent FROM inbound WHERE subject = 'Undelivered Mail Returned to Sender'")" "DSN"
assert_eq "unsubscribe" "$(db "SELECT intent FROM inbound WHERE sender = 'feedback@arf.mail.yahoo.example'")" "ARF"
assert_eq "unsubscribed|1.0" "$(db "SELECT status, bounce_score FROM participants WHERE address = 'alice@$D'")" \
	"alice: unsubscribed by her complaint; one bounce (the DSN), none for the complaint"
assert_eq 0 "$(db "SELECT count(*) FROM deliveries WHERE kind = 'goodbye'")" "no goodbye to a complainer"
assert_eq 2 "$(db "SELECT count(*) FROM deliveries WHERE kind = 'reflection-ack'")" "two acknowledgements"
assert_eq 0 "$(db "SELECT count(*) FROM deliveries WHERE recipient LIKE '%yahoo%' OR recipient LIKE 'mailer-daemon%'")" \
	"machines are never answered"
# the bare domain: bob's blog at https://, and his acknowledgement says so
assert_eq "blog|https://annreads.example.net/" "$(db "SELECT i.intent, p.blog_url FROM inbound i \
	JOIN participants p ON p.address = i.sender WHERE i.subject = 'my blog'")" "a bare domain registers the blog"
must fetch_match bob 'HEADER Subject "Your blog is registered"' "$T/blog-ack.eml"
assert_contains "$(mail_part "$T/blog-ack.eml" text/plain)" "https://annreads.example.net/" \
	"the acknowledgement shows the address taken"
