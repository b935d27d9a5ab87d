#!/usr/bin/env bash
# t_feeds.sh - participants' blog feeds, end to end: blogs registered by mail to things+blog@,
# feeds served by a real HTTP server on loopback (tests/tools/httpd.py), fetched by `things
# run` every 6 hours and not at every tick, with conditional GETs (a 304 on the second
# fetch), discovery from a blog's page, a permanent redirect followed and remembered, and a
# broken feed whose owner gets exactly one helpful message, however many runs see it.
. "$(dirname "$0")/lib.sh"
export TZ=UTC

must bed_start
P=$T/prog
must programme_make "$P" 3
must programme_conf "$P/things.conf" feeds.allow_private_addresses=yes digest.enabled=no
C=$P/things.conf
for u in alice bob carol dave; do must run_things -c "$C" subscribe "$(addr "$u")" "${u^}"; done

# --- the blogs -------------------------------------------------------------------------------
W=$T/www
mkdir -p "$W/alice" "$W/bob" "$W/carol"
pub=$(date -u -R -d '-1 day')
cat > "$W/alice/feed.xml" <<EOF
<?xml version="1.0"?>
<rss version="2.0"><channel><title>Alice in Libraryland</title>
<item><title>Thing 1: my first post</title><link>https://alice.example.test/1</link>
<guid>alice-1</guid><pubDate>$pub</pubDate><description>Hello, world.</description></item>
</channel></rss>
EOF
cat > "$W/bob/index.html" <<'EOF'
<!DOCTYPE html><html><head><title>Bob's blog</title>
<link rel="alternate" type="application/atom+xml" title="Posts" href="/bob/atom.xml">
</head><body><p>Welcome.</p></body></html>
EOF
cat > "$W/bob/atom.xml" <<EOF
<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Bob Blogs</title><id>urn:bob</id>
<entry><title>Feeds, found</title><id>urn:bob:1</id><link href="https://bob.example.test/1"/>
<updated>$(date -u -d '-1 day' +%FT%TZ)</updated><summary>Discovered.</summary></entry></feed>
EOF
cp "$W/alice/feed.xml" "$W/carol/new.xml"
sed -i 's/alice-1/carol-1/; s/Alice in Libraryland/Carol Moved/' "$W/carol/new.xml"
printf '/carol/old.xml 301 /carol/new.xml\n' > "$T/redirects"
must start_httpd --redirects "$T/redirects"

send_blog() { # USER URL
	must send_mail --from "$1" --to "things+blog@$MAILBED_DOMAIN" --subject "my blog" \
		--body "Hello, my blog is $2 - thanks!"
}
send_blog alice "$HTTPD_URL/alice/feed.xml"
send_blog bob "$HTTPD_URL/bob/index.html"
send_blog carol "$HTTPD_URL/carol/old.xml"
send_blog dave "$HTTPD_URL/dave/feed.xml"   # never there: 404
must imap_wait things 4

fetches() { grep -c "^GET $1 " "$HTTPD_LOG"; }
R0E=$(( $(date +%s) / 60 * 60 + 3600 ))
at() { date -u -d "@$((R0E + $1 * 3600))" +%FT%H:%M; }   # HOURS after the first run
R0=$(at 0)

# --- run 1: blogs recorded, every feed fetched -------------------------------------------
assert_status 0 run_things -v -c "$C" run --now "$R0"
assert_file_contains "$THINGS_OUT" "blog 4" "four blog registrations read from the inbox"
assert_file_contains "$THINGS_OUT" "feeds: 4 polled" "the same run fetches the four feeds"
# each registration looks for the feed at once (the participant is told what was found),
# then the round fetches it
assert_eq 2 "$(fetches /alice/feed.xml)" "alice's feed fetched at registration and by the round"
assert_contains "$(grep -m1 '^GET /alice/feed.xml' "$HTTPD_LOG")" \
	"ua=\"Things/0.1 (+mailto:things@$MAILBED_DOMAIN)\"" "the User-Agent names the programme"
assert_eq 2 "$(fetches /bob/atom.xml)" "bob's feed found through his page and fetched"
assert_eq 1 "$(grep -c '^GET /carol/old.xml 301' "$HTTPD_LOG")" "carol's old address redirects"
assert_eq 2 "$(fetches /dave/feed.xml)" "dave's feed asked for (registration, round)"
assert_status 0 run_things -c "$C" feeds
feeds=$(cat "$THINGS_OUT")
assert_match "$feeds" "bob@example.test +active .*/bob/atom.xml" "bob's stored feed is the discovered one"
assert_match "$feeds" "carol@example.test +active .*/carol/new.xml" "carol's feed URL follows the 301"
assert_match "$feeds" "dave@example.test +active +missing +1 " "dave's feed failed once: missing"

# --- a run an hour later: feeds are not due ------------------------------------------------
before=$(wc -l < "$HTTPD_LOG")
assert_status 0 run_things -v -c "$C" run --now "$(at 1)"
assert_file_contains "$THINGS_OUT" "feeds: not due" "an hour later the feeds are left alone"
assert_eq "$before" "$(wc -l < "$HTTPD_LOG")" "no request reached the blogs"

# --- six hours on: fetched again, conditionally ----------------------------------------------
assert_status 0 run_things -v -c "$C" run --now "$(at 6)"
assert_file_contains "$THINGS_OUT" "3 not modified" "alice, bob and carol answer 304"
assert_eq 1 "$(grep -c '^GET /alice/feed.xml 304 0 inm' "$HTTPD_LOG")" \
	"the second fetch of alice's feed is a conditional GET answered 304"
assert_eq 1 "$(grep -c '^GET /carol/old.xml' "$HTTPD_LOG")" "carol's old address is not asked again"
assert_eq 1 "$(grep -c '^GET /bob/index.html' "$HTTPD_LOG")" "bob's page is not fetched again"
bed_wait_queue_empty
assert_eq 0 "$(imap_search dave 'SUBJECT "stopped working"' | wc -w)" \
	"two failures: dave is not told yet"

# --- the third failure: dave hears about it, once ---------------------------------------------
assert_status 0 run_things -v -c "$C" run --now "$(at 12)"
assert_file_contains "$THINGS_OUT" "feed notices: 1 queued" "one notice after three failures"
uid=$(imap_wait_search dave 'SUBJECT "stopped working"') || fail "dave got no notice"
imap_fetch dave "$uid" > "$T/notice.eml"
notice=$(mail_part "$T/notice.eml" text/plain)
assert_contains "$notice" "no longer where it was" "the advice fits a 404"
assert_contains "$notice" "things+blog@$MAILBED_DOMAIN" "and says where to send a new address"
assert_contains "$notice" "HTTP status 404" "the technical reason is there too"
assert_eq "auto-generated" "$(mail_header "$T/notice.eml" Auto-Submitted)" "marked automatic"
for h in 18 24 30; do
	assert_status 0 run_things -c "$C" run --now "$(at "$h")"
done
assert_ge 6 "$(fetches /dave/feed.xml)" "dave's feed is still tried at every round"
bed_wait_queue_empty
assert_eq 1 "$(imap_search dave 'SUBJECT "stopped working"' | wc -w)" \
	"three more failing rounds: still exactly one notice"
assert_eq 0 "$(imap_search alice 'SUBJECT "stopped working"' | wc -w)" "nobody else is told"
assert_status 0 run_things -c "$C" report
assert_match "$(cat "$THINGS_OUT")" "dave@example.test +active +missing +[0-9]+ +never +yes" \
	"the report shows dave's broken feed, and that he was told"

# --- `things feeds --fetch`: a round on demand, all 304 but dave --------------------------------
assert_status 0 run_things -c "$C" feeds --fetch --now "$(at 31)"
assert_contains "$(cat "$THINGS_OUT")" "feeds: 4 polled, 3 not modified, 1 failed" \
	"an organiser's fetch: nothing changed, so 304s"
