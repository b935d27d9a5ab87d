#!/usr/bin/env bash
# t_digest.sh - the weekly digest, end to end: participants register their blogs by mail,
# their posts are fetched from a loopback HTTP server, and `things run --now` on digest day
# puts exactly one digest in each mailbox (read over IMAP) with the others' posts, their own
# left out, feed text escaped; a rerun the same week sends nothing more; the next week only
# those with something new to read get one, and a run killed while sending them leaves the
# next run to finish the same edition (the message in flight at the kill goes twice, with one
# Message-ID); a week with nothing new sends none; and `things digest --preview` writes the
# next digest to a file without sending it.
. "$(dirname "$0")/lib.sh"
export TZ=UTC

# Digest day: two days from now, 09:00 (the programme started an hour ago).
DDAY=$(date -u -d '+2 days' +%F)
DE=$(date -u -d "$DDAY 09:00" +%s)
at() { date -u -d "@$((DE + $1 * 60))" +%FT%H:%M; }   # MINUTES after the digest time
rfc822() { date -u -R -d "@$((DE + $1 * 60))"; }
DAY=1440

must bed_start
P=$T/prog
must programme_make "$P" 3
# one SMTP connection: a kill leaves exactly one message in flight
must programme_conf "$P/things.conf" feeds.allow_private_addresses=yes \
	digest.day="$(date -u -d "$DDAY" +%A)" digest.hour=9 smtp.connections=1
C=$P/things.conf
must run_things -c "$C" subscribe "$(addr alice)" "Alice Archivist"
must run_things -c "$C" subscribe "$(addr bob)" "Bob Bibliothecary"
must run_things -c "$C" subscribe "$(addr carol)" "Carol"   # no blog

# --- the blogs: alice (RSS), bob (Atom, found from his page) --------------------------------
W=$T/www
mkdir -p "$W/alice" "$W/bob"
alice_feed() { # ITEMS...
	{
		echo '<?xml version="1.0"?>'
		echo '<rss version="2.0"><channel><title>Alice in Libraryland</title>'
		printf '%s\n' "$@"
		echo '</channel></rss>'
	} > "$W/alice/feed.xml"
}
A1="<item><title>Thing 1 done: my first blog post</title><link>https://alice.example.test/1</link><guid>a1</guid><pubDate>$(rfc822 $((-2 * DAY)))</pubDate><description>&lt;p&gt;It was &lt;em&gt;easier&lt;/em&gt; than I thought.&lt;/p&gt;</description></item>"
alice_feed "$A1"
cat > "$W/bob/index.html" <<'EOF'
<!DOCTYPE html><html><head><title>Bob</title>
<link rel="alternate" type="application/atom+xml" href="/bob/atom.xml"></head><body></body></html>
EOF
bob_feed() { # ENTRIES...
	{
		echo '<?xml version="1.0"?>'
		echo '<feed xmlns="http://www.w3.org/2005/Atom"><title>Bob &amp; the Stacks</title><id>urn:bob</id>'
		printf '%s\n' "$@"
		echo '</feed>'
	} > "$W/bob/atom.xml"
}
iso() { date -u -d "@$((DE + $1 * 60))" +%FT%TZ; }
B1="<entry><title type=\"text\">&lt;script&gt;alert(1)&lt;/script&gt; is only text</title><id>urn:bob:1</id><link href=\"https://bob.example.test/script\"/><updated>$(iso $((-2 * DAY)))</updated><summary>A title that tries &lt;b&gt;markup&lt;/b&gt;.</summary></entry>"
bob_feed "$B1"
must start_httpd
must send_mail --from alice --to "things+blog@$MAILBED_DOMAIN" --subject blog \
	--body "My blog is $HTTPD_URL/alice/feed.xml"
must send_mail --from bob --to "things+blog@$MAILBED_DOMAIN" --subject blog \
	--body "My blog is $HTTPD_URL/bob/index.html"
must imap_wait things 2

digests() { imap_search "$1" 'SUBJECT "what participants wrote"' | wc -w; }
digest_of() { # USER FILE: the user's only digest
	local uid
	uid=$(imap_wait_search "$1" 'SUBJECT "what participants wrote"') || return 1
	imap_fetch "$1" "${uid##* }" > "$2"
}

# --- the day before: blogs recorded, feeds read; no digest yet ------------------------------
assert_status 0 run_things -v -c "$C" run --now "$(at $((-DAY)))"
assert_file_contains "$THINGS_OUT" "blog 2" "both blogs registered by mail"
assert_file_contains "$THINGS_OUT" "2 new posts (2 for the digest)" "their recent posts are stored"
assert_file_contains "$THINGS_OUT" "digest: 0 queued" "no digest before digest day"

# --- the preview: a file, nothing sent -------------------------------------------------------
assert_status 0 run_things -c "$C" digest --preview --to "$(addr alice)" --out "$T/preview.eml" \
	--now "$(at 1)"
assert_file_contains "$T/preview.eml" "Subject: " "the preview is a whole message"
preview=$(mail_part "$T/preview.eml" text/plain)
assert_contains "$preview" "<script>alert(1)</script> is only text" "it shows bob's post"
assert_not_contains "$preview" "my first blog post" "and not alice's own"
assert_status 0 run_things -c "$C" report
assert_match "$(cat "$THINGS_OUT")" "Digest: .* None made yet" "the preview made no digest"

# --- digest day: a new post just before; one digest each ---------------------------------------
B2="<entry><title>Thing 2 thoughts, posted this morning</title><id>urn:bob:2</id><link href=\"https://bob.example.test/2\"/><updated>$(iso -60)</updated><summary>Fresh.</summary></entry>"
bob_feed "$B2" "$B1"
assert_status 0 run_things -v -c "$C" run --now "$(at 5)"
assert_file_contains "$THINGS_OUT" "1 new posts" "the feeds are read just before the digest"
assert_file_contains "$THINGS_OUT" "digest: 3 queued" "three digests queued"
for u in alice bob carol; do
	assert_ok digest_of "$u" "$T/$u.eml"
done
bed_wait_queue_empty
for u in alice bob carol; do assert_eq 1 "$(digests "$u")" "$u has exactly one digest"; done

alice_text=$(mail_part "$T/alice.eml" text/plain)
assert_contains "$alice_text" "Thing 2 thoughts, posted this morning" "alice reads bob's new post"
assert_contains "$alice_text" "<script>alert(1)</script> is only text" "and his older one"
assert_contains "$alice_text" "by Bob Bibliothecary, on Bob & the Stacks" "with author and blog"
assert_not_contains "$alice_text" "my first blog post" "but not her own"
bob_text=$(mail_part "$T/bob.eml" text/plain)
assert_contains "$bob_text" "Thing 1 done: my first blog post" "bob reads alice's post"
assert_contains "$bob_text" "It was easier than I thought." "with its excerpt, as plain text"
assert_not_contains "$bob_text" "only text" "but not his own"
carol_text=$(mail_part "$T/carol.eml" text/plain)
for title in "my first blog post" "only text" "posted this morning"; do
	assert_contains "$carol_text" "$title" "carol, with no blog, reads everything: $title"
done
assert_match "$carol_text" "Thing 1: .*my first blog post" "posts are grouped under their Thing"
carol_html=$(mail_part "$T/carol.eml" text/html)
assert_contains "$carol_html" "&lt;script&gt;alert(1)&lt;/script&gt; is only text" \
	"a <script> title arrives escaped"
assert_not_contains "$carol_html" "<script" "and never as a script"
assert_contains "$carol_html" 'href="https://bob.example.test/script"' "titles link to the posts"
assert_not_contains "$carol_html" "alice@example.test" "no participant's address is shown"
assert_eq "bulk" "$(mail_header "$T/carol.eml" Precedence)" "the digest is bulk mail"
assert_contains "$(mail_header "$T/carol.eml" List-Unsubscribe)" "mailto:things+unsubscribe-" \
	"with List-Unsubscribe"

# --- a rerun the same week: nothing more ---------------------------------------------------
assert_status 0 run_things -v -c "$C" run --now "$(at 30)"
assert_file_contains "$THINGS_OUT" "digest: 0 queued" "a rerun queues no digest"
assert_status 0 run_things -v -c "$C" run --now "$(at $((3 * DAY)))"
assert_file_contains "$THINGS_OUT" "digest: 0 queued" "nor does a run later that week"
bed_wait_queue_empty
for u in alice bob carol; do assert_eq 1 "$(digests "$u")" "$u still has one digest"; done

# --- next week: only alice wrote; alice gets nothing.  The run is killed after its first
# --- digest goes out: the next run sends the rest, and makes no second edition.
A2="<item><title>Week two: feeds</title><link>https://alice.example.test/2</link><guid>a2</guid><pubDate>$(rfc822 $((5 * DAY)))</pubDate></item>"
alice_feed "$A2" "$A1"
THINGS_TEST_STOP_AFTER=1 run_things -v -c "$C" run --now "$(at $((7 * DAY + 5)))"
assert_eq 137 "$THINGS_STATUS" "the run is killed after its first submission (SIGKILL)"
assert_status 0 run_things -v -c "$C" run --now "$(at $((7 * DAY + 15)))"
assert_file_contains "$THINGS_OUT" "digest: 0 queued" "the next run makes no second edition"
assert_file_contains "$THINGS_OUT" "2 sent, " "it sends the two digests of the edition"
assert_match "$(cat "$THINGS_OUT")" "[12] recovered from an interrupted run" \
	"(taken back from the killed run)"
_new_digests() { [ "$(digests bob)" -ge 2 ] && [ "$(digests carol)" -ge 2 ]; }
assert_ok wait_for 10 _new_digests
bed_wait_queue_empty
assert_eq 1 "$(digests alice)" "alice's own post earns her no digest"
bob_n=$(digests bob)
carol_n=$(digests carol)
assert_eq 5 "$((bob_n + carol_n))" "bob and carol get it, one of them twice: the one in flight"
for u in bob carol; do
	mids=$(for uid in $(imap_search $u 'SUBJECT "what participants wrote"'); do
		imap_fetch $u "$uid" > "$T/m.eml"; mail_header "$T/m.eml" Message-ID; done | sort | uniq -c)
	assert_eq 2 "$(wc -l <<<"$mids")" "$u: two editions, the copy sent twice has one Message-ID"
done
uids=$(imap_search bob 'SUBJECT "what participants wrote"')
imap_fetch bob "${uids##* }" > "$T/bob2.eml"
bob2=$(mail_part "$T/bob2.eml" text/plain)
assert_contains "$bob2" "Week two: feeds" "the second digest has the new post"
assert_not_contains "$bob2" "my first blog post" "and not last week's"

# --- the week after: nothing new, nothing sent -------------------------------------------------
assert_status 0 run_things -v -c "$C" run --now "$(at $((14 * DAY + 5)))"
assert_file_contains "$THINGS_OUT" "digest: 0 queued" "nothing new: no digest"
assert_status 0 run_things -c "$C" digest --preview --out "$T/empty.eml" --now "$(at $((14 * DAY + 6)))"
assert_contains "$(cat "$THINGS_ERR")" "no digest would be sent" "the preview says so too"
assert_fails test -e "$T/empty.eml"
bed_wait_queue_empty
assert_eq 1 "$(digests alice)" "alice: nothing new"
assert_eq "$bob_n" "$(digests bob)" "bob: nothing new"
assert_eq "$carol_n" "$(digests carol)" "carol: nothing new"
assert_status 0 run_things -c "$C" report
assert_match "$(cat "$THINGS_OUT")" "Digest: .*Last: [0-9]{4}-W[0-9]{2}, made .*: 0 posts, for 0 participants" \
	"the report shows the last digest"
