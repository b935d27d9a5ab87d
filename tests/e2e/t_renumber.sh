#!/usr/bin/env bash
# t_renumber.sh - deliveries are keyed by the Thing's number, so Things that went out must keep
# their numbers.  A file inserted before them (the others renumbered) would send one Thing
# twice and skip another: `things run` queues no Thing and says why, `things check` fails with
# the same words, other mail still goes out; with the files put back all is well.  A title
# reworded or a file name's typo fixed is no renumbering; a Thing added at the end is fine.
. "$(dirname "$0")/lib.sh"
export TZ=UTC

P=$T/prog
C=$P/things.conf
OUT=$P/mail/outbox/new
must run_things init "$P" --maildir mail
START=$(date -d "monday -5 weeks 09:00" "+%Y-%m-%d %H:%M")
sed -i "s/^start = .*/start = $START/" "$C"
at() { date -d "$START $1" +%Y-%m-%dT%H:%M; }
sent() { ls "$OUT" | wc -l; }
must run_things -c "$C" subscribe ann@example.org Ann --now "$(at "1 day ago")"
assert_status 0 run_things -c "$C" run --now "$(at "")"
assert_status 0 run_things -c "$C" run --now "$(at "14 days")"
assert_eq 2 "$(sent)" "Things 1 and 2 went out"

# --- a Thing inserted as 02, the others renumbered -------------------------------------------
cp -a "$P/things" "$T/things.orig"
for f in $(ls -r "$P/things"); do
	n=${f%%-*}
	[ "$n" -ge 2 ] && mv "$P/things/$f" "$P/things/$(printf %02d $((10#$n + 1)))-${f#*-}"
done
printf '# Something new\n\nTry it.\n' > "$P/things/02-something-new.md"
before=$(sent)
assert_status 1 run_things -c "$C" run --now "$(at "28 days")"
assert_file_contains "$THINGS_ERR" "Thing 2 went out as" "run says which Thing was renumbered"
assert_file_contains "$THINGS_ERR" "02-something-new.md" "and names the file"
assert_eq "$before" "$(sent)" "no Thing was queued (Thing 3 would have been Thing 2 again)"
assert_status 1 run_things -c "$C" check
assert_file_contains "$THINGS_ERR" "keep their numbers" "check says it too"

# other mail still goes out: a help request is answered
printf 'From: ann@example.org\r\nTo: things+help@example.org\r\nSubject: lost\r\nMessage-ID: <h1@example.org>\r\n\r\nHow?\r\n' \
	> "$P/mail/inbox/new/1.help"
assert_status 1 run_things -c "$C" run --now "$(at "28 days")"
assert_eq 1 "$(grep -l "^Subject: We have your message: lost" "$OUT"/* | wc -l)" \
	"the help request is acknowledged"

# --- the files put back; a title reworded, a slug's typo fixed, a Thing added at the end -----
rm -rf "$P/things" && cp -a "$T/things.orig" "$P/things"
sed -i '1s/.*/# A reworded first Thing/' "$P/things/01-"*.md
f2=$(ls "$P/things/" | grep '^02-'); mv "$P/things/$f2" "$P/things/02-fixed-${f2#02-}"
n=$(ls "$P/things" | wc -l)
printf '# One more\n\nTry it.\n' > "$P/things/$(printf %02d $((n + 1)))-one-more.md"
assert_status 0 run_things -c "$C" check
assert_status 0 run_things -c "$C" -v run --now "$(at "28 days 1 hour")"
assert_eq 1 "$(grep -l "^Subject: Thing 3:" "$OUT"/* | wc -l)" "Thing 3 goes out"
assert_eq 1 "$(grep -l "^Subject: Thing 2:" "$OUT"/* | wc -l)" "Thing 2 went out once"
assert_eq 1 "$(grep -l "^Subject: Thing 1:" "$OUT"/* | wc -l)" "Thing 1 went out once"
