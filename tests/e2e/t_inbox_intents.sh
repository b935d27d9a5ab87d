#!/usr/bin/env bash
# t_inbox_intents.sh - every participant intent end to end, through real Postfix and Dovecot:
# subscribe + confirm by reply, a reflection, a blog whose feed is discovered over HTTP, a
# help request (a ticket to the organisers, threaded, Reply-To the participant, the Thing
# named; an acknowledgement), unsubscribe with the List-Unsubscribe token (at once) and
# without (only after a confirmation that goes to the participant's own mailbox, so that a
# forged From removes nobody), an out-of-office reply (recorded, never answered), and mail
# nobody understands (forwarded).  A run after that sends nothing new.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_inbox.sh"

must bed_start
must start_httpd
mkdir -p "$HTTPD_ROOT/blog"
cat > "$HTTPD_ROOT/blog/index.html" <<-EOF
	<html><head><title>Alice's blog</title>
	<link rel="alternate" type="application/rss+xml" href="/blog/feed.xml"></head>
	<body>Hello</body></html>
EOF
cat > "$HTTPD_ROOT/blog/feed.xml" <<-EOF
	<?xml version="1.0"?><rss version="2.0"><channel><title>Alice</title>
	<link>$HTTPD_URL/blog/</link><description>x</description>
	<item><title>Thing 1</title><link>$HTTPD_URL/blog/1</link><guid>1</guid></item>
	</channel></rss>
EOF
must inbox_programme feeds.allow_private_addresses=yes inbox.answers_per_hour=50
must run_things -c "$C" subscribe alice@example.test "Alice Archivist"
must run_things -c "$C" subscribe bob@example.test "Bob Binder"
must run_things -c "$C" subscribe carol@example.test "Carol Cataloguer"

# --- run 1: Thing 1 goes out ----------------------------------------------------------------
assert_status 0 run_things -v -c "$C" run
assert_ok imap_wait alice 1
assert_ok imap_wait bob 1
imap_fetch_last alice > "$T/thing1-alice.eml"
imap_fetch_last bob > "$T/thing1-bob.eml"

# --- a subscription, a reflection, a blog, a help request, an auto-reply, a stray message ---
must send_mail --from dave --to things+subscribe@example.test --subject "join" --body "Sign me up!"
must send_reply alice "$T/thing1-alice.eml" "Done! https://alice.example.org/2027/thing-1"
must send_mail --from alice --to things+blog@example.test --subject "my blog" \
	--body "Here it is: $HTTPD_URL/blog/index.html"
must send_mail --from bob --to things+help@example.test --subject "Stuck on Thing 1" \
	--body "I cannot make the feed reader work. What should I do?"
must send_mail --from carol --to things@example.test --subject "Out of office" \
	--header "Auto-Submitted: auto-replied" --body "I am away until Monday."
must send_mail --from organiser --to things@example.test --subject "lunch" \
	--body "Shall we meet on Thursday to plan the next Things?"
assert_ok imap_wait things 6

# --- run 2 ------------------------------------------------------------------------------------
assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "6 processed" "run 2 handles the six messages"
for i in subscribe reflection blog help autoreply unknown; do
	assert_file_contains "$THINGS_OUT" "$i 1" "one $i"
done
assert_eq 0 "$(imap_count things)" "the INBOX is empty"
assert_eq 6 "$(imap_count things Processed)" "the messages are in Processed"

# subscribe: a confirmation request, then a reply to it confirms
must fetch_match dave 'HEADER Subject "Please confirm"' "$T/confirm.eml"
assert_eq "auto-replied" "$(mail_header "$T/confirm.eml" Auto-Submitted)" "the request is an automatic answer"
assert_eq "pending" "$(db "SELECT status FROM participants WHERE address = 'dave@example.test'")" "dave is pending"

# the reflection is recorded and acknowledged, threaded
assert_eq "1|https://alice.example.org/2027/thing-1" \
	"$(db "SELECT r.thing, r.url FROM reflections r JOIN participants p ON p.id = r.participant_id WHERE p.address = 'alice@example.test'")" \
	"alice's reflection on Thing 1"
must fetch_match alice 'HEADER Subject "Thing 1 done"' "$T/ack.eml"
assert_contains "$(mail_part "$T/ack.eml" text/plain)" "https://alice.example.org/2027/thing-1" "the acknowledgement names the post"

# the blog: its feed was discovered over HTTP, and alice is told
assert_eq "$HTTPD_URL/blog/index.html|$HTTPD_URL/blog/feed.xml" \
	"$(db "SELECT blog_url, feed_url FROM participants WHERE address = 'alice@example.test'")" \
	"blog and discovered feed recorded"
assert_file_contains "$HTTPD_LOG" "/blog/" "the blog page was fetched"
must fetch_match alice 'HEADER Subject "Your blog is registered"' "$T/blog.eml"
assert_contains "$(mail_part "$T/blog.eml" text/plain)" "$HTTPD_URL/blog/feed.xml" "the blog acknowledgement names the feed found"

# help: a ticket to the organiser, threaded, Reply-To bob, Thing 1 named; bob told
must fetch_match organiser 'HEADER Subject "Help request"' "$T/fwd.eml"
help_id=$(db "SELECT message_id FROM inbound WHERE intent = 'help'")
assert_eq "<$help_id>" "$(mail_header "$T/fwd.eml" In-Reply-To)" "the ticket is threaded with bob's message"
assert_eq "bob@example.test" "$(mail_addr "$T/fwd.eml" Reply-To)" "Reply-To is bob"
assert_contains "$(mail_header "$T/fwd.eml" Subject)" "[ticket 1]" "the subject names the ticket"
assert_contains "$(mail_part "$T/fwd.eml" text/plain)" "Thing (if they named one): 1" "the Thing is named"
assert_contains "$(mail_part "$T/fwd.eml" text/plain)" "feed reader" "bob's words are in it"
must fetch_match bob 'HEADER Subject "We have your message"' "$T/help-ack.eml"
assert_status 0 run_things -c "$C" tickets
assert_match "$(cat "$THINGS_OUT")" "1 open ticket" "things tickets lists it"
assert_match "$(cat "$THINGS_OUT")" "1 +open .* bob@example.test +Stuck on Thing 1" "ticket 1: open, from bob"

# the stray message goes to the organisers
must fetch_match organiser 'HEADER Subject "needs a person"' "$T/unknown.eml"
assert_contains "$(mail_part "$T/unknown.eml" text/plain)" "plan the next Things" "the stray message is forwarded"

# the auto-reply: recorded, never answered
assert_eq "autoreply" "$(db "SELECT intent FROM inbound WHERE sender = 'carol@example.test'")" "carol's auto-reply is recorded"
assert_eq 0 "$(db "SELECT count(*) FROM deliveries d JOIN inbound i ON i.id = d.inbound_id WHERE i.sender = 'carol@example.test'")" \
	"and not answered"

# --- run 3: dave confirms by replying; alice leaves through List-Unsubscribe ---------------
must send_reply dave "$T/confirm.eml" "yes please"
unsub=$(mail_header "$T/thing1-alice.eml" List-Unsubscribe | grep -o 'mailto:[^>]*' | sed 's/^mailto://; s/?.*//')
assert_match "$unsub" '^things\+unsubscribe-[0-9a-f]{24}@example.test$' "List-Unsubscribe names the token address"
must send_mail --from alice --to "$unsub" --subject "unsubscribe" --body "This message was sent by the mail client."
# bob asks to leave without the token; mallory forges carol's address
must send_mail --from bob --to things@example.test --subject "unsubscribe" --body "Please remove me."
must send_mail --from carol --envelope-from mallory@evil.example --to things@example.test \
	--subject "unsubscribe" --body "remove me"
assert_ok imap_wait things 4
assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "4 processed" "run 3 handles four messages"
assert_eq "active" "$(db "SELECT status FROM participants WHERE address = 'dave@example.test'")" "dave confirmed by replying"
must fetch_match dave 'HEADER Subject "Welcome"' "$T/welcome.eml"
assert_eq "unsubscribed" "$(db "SELECT status FROM participants WHERE address = 'alice@example.test'")" \
	"the token unsubscribes alice at once"
must fetch_match alice 'HEADER Subject "You have left"' "$T/goodbye.eml"
assert_eq "active" "$(db "SELECT status FROM participants WHERE address = 'bob@example.test'")" \
	"without the token bob stays until he confirms"
must fetch_match bob 'HEADER Subject "Please confirm: leaving"' "$T/bob-unsub.eml"
assert_eq "active" "$(db "SELECT status FROM participants WHERE address = 'carol@example.test'")" \
	"a forged From removes nobody"
must fetch_match carol 'HEADER Subject "Please confirm: leaving"' "$T/carol-unsub.eml"

# --- run 4: bob confirms by replying -------------------------------------------------------------
must send_reply bob "$T/bob-unsub.eml" "yes, remove me"
assert_ok imap_wait things 1
assert_status 0 run_things -v -c "$C" run
assert_eq "unsubscribed" "$(db "SELECT status FROM participants WHERE address = 'bob@example.test'")" \
	"bob's reply to the confirmation unsubscribes him"
must fetch_match bob 'HEADER Subject "You have left"' "$T/bob-goodbye.eml"

# --- run 5: nothing new, nothing sent ------------------------------------------------------------
assert_ok bed_wait_queue_empty
before=$(for u in alice bob carol dave organiser; do imap_count "$u"; done | tr '\n' ' ')
assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "0 fetched" "run 5 fetches nothing"
assert_file_contains "$THINGS_OUT" "0 sent" "run 5 sends nothing"
assert_ok bed_wait_queue_empty
assert_eq "$before" "$(for u in alice bob carol dave organiser; do imap_count "$u"; done | tr '\n' ' ')" \
	"no mailbox got anything more"
