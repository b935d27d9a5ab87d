#!/usr/bin/env bash
# t_feeds_crash.sh - a feed that crashes Things does not stop every run.  THINGS_FAULT makes
# the run abort while it reads one chosen feed (the stand-in for a parser crashing on a
# hostile feed, served by a real HTTP server): two runs die on it, and with them the sends;
# the third sets the feed aside for the round (a failure with the reason, like any broken
# feed) and the mail goes out.  It keeps the response's validators, so the next round gets a
# 304 while the feed is unchanged (no crash, nothing read); once the blog changes, it is read.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_inbox.sh"
export TZ=UTC

must bed_start
must inbox_programme feeds.allow_private_addresses=yes digest.enabled=no
must run_things -c "$C" subscribe "$(addr alice)" Alice
mkdir -p "$T/www/alice"
cat > "$T/www/alice/feed.xml" <<EOF
<?xml version="1.0"?>
<rss version="2.0"><channel><title>Alice</title>
<item><title>POISON-f33d</title><link>https://alice.example.test/1</link>
<guid>alice-1</guid><description>Hello.</description></item>
</channel></rss>
EOF
HTTPD_ROOT=$T/www must start_httpd
must send_mail --from alice --to "things+blog@$MAILBED_DOMAIN" --subject "my blog" \
	--body "My blog is $HTTPD_URL/alice/feed.xml"
assert_ok imap_wait things 1

export THINGS_FAULT=feed:POISON-f33d
for i in 1 2; do
	run_things -c "$C" run
	assert_eq 134 "$THINGS_STATUS" "run $i dies reading the feed (SIGABRT)"
done
assert_file_contains "$THINGS_ERR" "crashing at feed on purpose" "it is the fault we asked for"
assert_eq 0 "$(db "SELECT count(*) FROM deliveries WHERE state = 'sent'")" \
	"nothing was sent: the crash stops the whole run"
assert_eq "$HTTPD_URL/alice/feed.xml" "$(db "SELECT url FROM feeds")" \
	"the blog registration before it was committed"

assert_status 0 run_things -v -c "$C" run
assert_file_contains "$THINGS_OUT" "1 failed" "the third run sets the feed aside"
assert_match "$(db "SELECT failures || ' ' || last_error FROM feeds")" \
	"^1 set aside: Things crashed twice" "recorded as the feed's failure, with the reason"
assert_eq 0 "$(db "SELECT count(*) FROM posts")" "nothing of it was stored"
must fetch_match alice 'HEADER Subject "Thing 1"' "$T/thing1.eml"
pass "the Thing that was due went out"

# the next round, the feed unchanged and the fault still there: a 304, no crash
assert_status 0 run_things -v -c "$C" run --now "$(date -u -d '+7 hours' +%FT%H:%M)"
assert_file_contains "$THINGS_OUT" "1 not modified" "the next round asks conditionally: 304"
assert_eq 0 "$(db "SELECT count(*) FROM posts")" "the set-aside body is not read again"

# the blog changes: read again (here it no longer crashes anything)
unset THINGS_FAULT
sed -i 's/POISON-f33d/A harmless title/' "$T/www/alice/feed.xml"
touch -d '+1 minute' "$T/www/alice/feed.xml"
assert_status 0 run_things -v -c "$C" run --now "$(date -u -d '+14 hours' +%FT%H:%M)"
assert_eq 1 "$(db "SELECT count(*) FROM posts")" "once the feed has changed it is read"

# A web page where the feed was (the blog moved its feed): finding the feed it announces
# parses the page, under the crash crumb too, with the reader emptied first so that the
# crash is blamed on the page and not on a feed the reader holds.
cat > "$T/www/alice/feed.xml" <<EOF2
<!DOCTYPE html><html><head><title>POISON-9a9e</title>
<link rel="alternate" type="application/rss+xml" href="/alice/new.xml"></head>
<body>Moved.</body></html>
EOF2
touch -d '+2 minutes' "$T/www/alice/feed.xml"
export THINGS_FAULT=page:POISON-9a9e
LATER=$(date -u -d '+21 hours' +%FT%H:%M)
for i in 1 2; do
	run_things -c "$C" run --now "$LATER"
	assert_eq 134 "$THINGS_STATUS" "page run $i dies reading the page (SIGABRT)"
done
assert_file_contains "$THINGS_ERR" "crashing at page on purpose" "it is the page's fault"
assert_status 0 run_things -v -c "$C" run --now "$LATER"
assert_match "$(db "SELECT last_error FROM feeds")" \
	"^set aside: Things crashed twice in a row while reading this page" \
	"the third run sets the page aside, named as a page"
