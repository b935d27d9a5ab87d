#!/usr/bin/env bash
# t_cli.sh - the organisers' commands on their own (no mail servers): init,
# check (every problem as file:line: message), import (all or nothing),
# subscribe, preview, report, and usage errors.
. "$(dirname "$0")/lib.sh"

P=$T/prog
C=$P/things.conf

# --- init and check ------------------------------------------------------------------------
assert_status 0 run_things init "$P" --maildir mail
assert_ok test -f "$C"
assert_eq 12 "$(ls "$P/things" | wc -l)" "init writes 12 Things"
assert_status 1 run_things init "$P"
assert_file_contains "$THINGS_ERR" "$P" "init refuses a folder that is not empty"
assert_status 0 run_things -c "$C" check
assert_file_contains "$THINGS_OUT" "12 Things" "check counts the Things"
assert_file_not_contains "$THINGS_ERR" "warning" "a trial into a Maildir needs no real addresses"
assert_status 0 run_things init "$T/real"
assert_status 0 run_things -c "$T/real/things.conf" check
assert_file_contains "$THINGS_ERR" "warning: organiser organisers@example.org is the sample's" \
	"with a real mail server, the sample's addresses are pointed out"
assert_file_contains "$THINGS_ERR" "warning: address things@example.org is the sample's"
assert_file_contains "$THINGS_OUT" "Feeds and feed readers  (02-feeds-and-feed-readers.md)" \
	"check lists each Thing's title as Things reads it"
sed -i 's/^# Start a blog$/Start a blog/' "$P/things/01-"*.md
assert_status 0 run_things -c "$C" check
assert_file_contains "$THINGS_OUT" "Why it matters  (01-start-a-blog.md)" \
	"a Thing whose title line lost its # shows the subheading that became its title"
sed -i 's/^Start a blog$/# Start a blog/' "$P/things/01-"*.md

cp "$C" "$T/good.conf"
sed -i 's/^interval_days = 14/interval_days = fortnight/; s/^\[smtp\]/[smtp]\ncolour = blue/' "$C"
assert_status 1 run_things -c "$C" check
line_interval=$(grep -n '^interval_days' "$C" | cut -d: -f1)
line_colour=$(grep -n '^colour' "$C" | cut -d: -f1)
assert_file_contains "$THINGS_ERR" "$C:$line_interval: interval_days must be a whole number" \
	"check names the file and line of a bad value"
assert_file_contains "$THINGS_ERR" "$C:$line_colour: unknown key 'colour' in [smtp]" \
	"and of an unknown key, in the same run"
cp "$T/good.conf" "$C"
mv "$P/things/03-"*.md "$T/"
assert_status 1 run_things -c "$C" check
assert_file_contains "$THINGS_ERR" "Thing 3" "a gap in the Things is named"
mv "$T/03-"*.md "$P/things/"

# --- import: all or nothing -------------------------------------------------------------------
cat > "$T/cohort.txt" <<-'EOF2'
	# the spring cohort
	ann@example.org, Ann Archivist
	Ben@Example.org	"Ben Bibliographer"
	carla@example.org

EOF2
assert_status 0 run_things -c "$C" import "$T/cohort.txt"
assert_file_contains "$THINGS_OUT" "3 added, 0 already there" "import adds three"
assert_status 0 run_things -c "$C" import "$T/cohort.txt"
assert_file_contains "$THINGS_OUT" "0 added, 3 already there" "a second import adds nobody"

printf 'dora@example.org\nnot-an-address, Nobody\neve@example.org Eve\n' > "$T/bad.txt"
assert_status 1 run_things -c "$C" import "$T/bad.txt"
assert_file_contains "$THINGS_ERR" "$T/bad.txt:2:" "the bad line is named"
assert_file_contains "$THINGS_ERR" "nobody was added" "and nothing is added"
assert_status 0 run_things -c "$C" report
assert_file_not_contains "$THINGS_OUT" "dora@example.org" "dora (a good line of the bad file) is not in"
assert_file_contains "$THINGS_OUT" "ben@example.org" "addresses are stored in lower case"
assert_file_contains "$THINGS_OUT" "Participants: 3 active" "three active participants"
assert_status 0 run_things -c "$C" report --now 2027-03-01T10:00
assert_file_contains "$THINGS_OUT" "report at 2027-03-01 10:00" "report --now: as of that time"
assert_status 2 run_things -c "$C" report --bogus

# a spreadsheet's "CSV UTF-8" export: byte order mark, header row, quotes, CRLF
printf '\xef\xbb\xbfEmail,Name\r\n"fay@example.org","Fairweather, Fay"\r\ngus@example.org,Gus\r\n' \
	> "$T/export.csv"
printf '"jay@example.org","Jay ""The Cat"" Jones"\r\n' >> "$T/export.csv"
assert_status 0 run_things -c "$C" import "$T/export.csv"
assert_file_contains "$THINGS_OUT" "3 added, 0 already there (line 1, with no address, was taken for a header row)" \
	"a spreadsheet export: its header row is skipped"
assert_eq "fay@example.org|Fairweather, Fay gus@example.org|Gus" \
	"$(python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(" ".join(a + "|" + n for a, n in c.execute("SELECT address, name FROM participants"
    " WHERE address IN (\"fay@example.org\", \"gus@example.org\") ORDER BY address")))' "$P/things.db")" \
	"the byte order mark and the quotes are not part of the address or the name"
assert_eq 'Jay "The Cat" Jones' "$(sqlite3 "$P/things.db" "SELECT name FROM participants WHERE address = 'jay@example.org'")" \
	"a quote inside a quoted name, doubled by the spreadsheet, is one quote"
printf '\xef\xbb\xbfivy@example.org,Ivy\n' > "$T/bom.csv"
assert_status 0 run_things -c "$C" import "$T/bom.csv"
assert_status 0 run_things -c "$C" subscribe ivy@example.org
assert_file_contains "$THINGS_OUT" "ivy@example.org: already" \
	"with no header row either, the byte order mark is not part of the first address"
printf 'Name,Email\nJo Jones,jo@example.org\n' > "$T/namefirst.csv"
assert_status 1 run_things -c "$C" import "$T/namefirst.csv"
assert_file_contains "$THINGS_ERR" "$T/namefirst.csv:2: 'Jo' is not an address" "names first: the line is named"
assert_file_contains "$THINGS_ERR" "the address comes first on a line" "and the order is explained"
printf 'hal@example.org\nNo Address Here\n' > "$T/noheader.txt"
assert_status 1 run_things -c "$C" import "$T/noheader.txt"
assert_file_contains "$THINGS_ERR" "$T/noheader.txt:2:" "only line 1 may be a header row"

assert_status 0 run_things -c "$C" subscribe "Dora@Example.org" "Dora Digitiser"
assert_file_contains "$THINGS_OUT" "dora@example.org: subscribed"
assert_status 2 run_things -c "$C" subscribe "dora example.org"

# --- preview ----------------------------------------------------------------------------------
assert_status 0 run_things -c "$C" preview 2
assert_file_contains "$THINGS_OUT" "Feeds and feed readers" "preview shows Thing 2's text"
assert_status 0 run_things -c "$C" preview 2 --html
assert_file_contains "$THINGS_OUT" "<html" "--html gives the HTML document"
assert_status 0 run_things -c "$C" preview 2 --raw
assert_file_contains "$THINGS_OUT" "Content-Type: multipart/alternative" "--raw gives the whole message"
assert_file_contains "$THINGS_OUT" "List-Unsubscribe:" "with its list headers"
assert_status 1 run_things -c "$C" preview 13
assert_file_contains "$THINGS_ERR" "there is no Thing 13"
assert_status 1 run_things -c "$C" preview 0
assert_file_contains "$THINGS_ERR" "there is no Thing 0" "0 names no Thing, like 13"
assert_status 2 run_things -c "$C" preview
assert_status 2 run_things -c "$C" preview 2 3
assert_status 2 run_things -c "$C" preview two
assert_eq 0 "$(find "$P/mail" -type f 2>/dev/null | wc -l)" "none of this sent anything"

# --- an inbox that cannot be reached: said once, and the run goes on -------------------------------
cp "$C" "$T/maildir.conf"
sed -i 's|^url = maildir:mail/inbox|url = imap://things:pw@127.0.0.1:1/INBOX|' "$C"
assert_status 1 run_things -c "$C" run
assert_file_contains "$THINGS_ERR" "things: inbox: imap 127.0.0.1: connect" "the inbox's failure is named"
assert_file_not_contains "$THINGS_ERR" "inbox: inbox:" "once"
cp "$T/maildir.conf" "$C"

# --- usage ------------------------------------------------------------------------------------
assert_status 2 run_things -c "$C" frobnicate
assert_file_contains "$THINGS_ERR" "unknown command 'frobnicate'"
assert_status 2 run_things -c "$C" run --now yesterday
assert_status 0 run_things -h
