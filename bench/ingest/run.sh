#!/usr/bin/env bash
# bench/ingest/run.sh [N] - how fast `things run` takes in N (default 10,000) varied replies
# from a Dovecot mailbox, against mbsync pulling the same mailbox in the same run.
#
#   sudo THINGS=$PWD/build/things bench/ingest/run.sh 10000
#
# Needs root (the mail bed's Postfix), dovecot, postfix, mbsync (isync), python3.  Steps:
#   1. a private mail bed (tests/e2e/mailbed.sh) in a temporary directory on the same file
#      system as everything else here; a programme of 3 Things whose outbox is the bed's
#      smtp-sink; P participants (default 300) who are sent Thing 1;
#   2. seed.py writes N replies into the things user's Maildir/new (LMTP would take minutes),
#      and doveadm indexes the mailbox, so that neither contender pays for that;
#   3. mbsync pulls the INBOX into a local Maildir, FSync yes (its default; durable, like the
#      store's synchronous=FULL), then again into a fresh Maildir with FSync no;
#   4. `things -v run` reads, parses, classifies, records and files every message (they end
#      in Processed), then sends the answers to smtp-sink; its own timing of the inbox phase
#      (the "(N s)" of its inbox line) is what is compared; the whole run is shown too.
# Prints one line of results; RESULTS.md keeps them.  KEEP=1 keeps the directory.
set -eu -o pipefail

N=${1:-10000}
NPART=${NPART:-300}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
THINGS=${THINGS:-$ROOT/build/things}
MAILBED=$ROOT/tests/e2e/mailbed.sh
[ "$(id -u)" = 0 ] || { echo "bench: run as root (the mail bed's Postfix needs it)" >&2; exit 2; }
[ -x "$THINGS" ] || { echo "bench: THINGS=$THINGS is not built (make)" >&2; exit 2; }
command -v mbsync >/dev/null || { echo "bench: mbsync missing (apt-get install isync)" >&2; exit 2; }

W=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/bench-ingest.XXXXXX")
chmod 755 "$W"
cleanup() {
	"$MAILBED" stop "$W/bed" >/dev/null 2>&1 || true
	if [ "${KEEP:-0}" = 1 ]; then echo "bench: kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT

now_s() { date +%s.%N; }
elapsed() { python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }

"$MAILBED" start "$W/bed" > "$W/bed.log"
eval "$("$MAILBED" env "$W/bed")"
PASS=thingspw
MAILDIR=$MAILBED_MAIL/things/Maildir
DOVEADM=(doveadm -c "$W/bed/etc/dovecot.conf")

# --- 1. the programme ---------------------------------------------------------------------------
P=$W/prog
mkdir -p "$P/things"
for n in 1 2 3; do printf '# Thing %d\n\nTry thing %d: <https://example.org/%d>.\n' "$n" "$n" "$n" \
	> "$P/things/0$n-thing-$n.md"; done
cat > "$P/things.conf" <<-EOF
	[programme]
	name = Ingest benchmark
	address = things@example.test
	organisers = organiser@example.test
	start = $(date -u -d '-1 hour' +%Y-%m-%dT%H:%MZ)
	[smtp]
	url = smtp://127.0.0.1:$MAILBED_SINK_PORT
	[imap]
	url = imap://things:$PASS@127.0.0.1:$MAILBED_IMAP_PORT/INBOX
	[inbox]
	answers_per_hour = 1000
	[store]
	path = $P/things.db
EOF
for ((i = 1; i <= NPART; i++)); do
	"$THINGS" -c "$P/things.conf" subscribe "p$i@example.test" "Participant $i" > /dev/null
done
"$THINGS" -c "$P/things.conf" run > /dev/null

# --- 2. the mailbox -----------------------------------------------------------------------------
mkdir -p "$MAILDIR/new" "$MAILDIR/cur" "$MAILDIR/tmp"
python3 "$ROOT/bench/ingest/seed.py" --maildir "$MAILDIR" --db "$P/things.db" --count "$N" \
	--owner "$(stat -c %u:%g "$MAILBED_MAIL")"
chown -R "$(stat -c %u:%g "$MAILBED_MAIL")" "$MAILBED_MAIL/things"
"${DOVEADM[@]}" mailbox status -u things messages INBOX
bytes=$(du -sb "$MAILDIR/new" "$MAILDIR/cur" | awk '{ s += $1 } END { print s }')

# --- 3. mbsync ----------------------------------------------------------------------------------
pull() { # FSYNC -> seconds
	local dir=$W/mbsync-$1 t0 t1
	mkdir -p "$dir"
	sed -e "s|@PORT@|$MAILBED_IMAP_PORT|; s|@PASS@|$PASS|; s|@DIR@|$dir|; s|@FSYNC@|$1|" \
		"$ROOT/bench/ingest/mbsyncrc.in" > "$W/mbsyncrc-$1"
	sync
	t0=$(now_s)
	mbsync -q -c "$W/mbsyncrc-$1" pull
	t1=$(now_s)
	[ "$(find "$dir/INBOX/new" "$dir/INBOX/cur" -type f | wc -l)" = "$N" ] ||
		{ echo "bench: mbsync pulled $(find "$dir/INBOX" -type f | wc -l) of $N" >&2; exit 1; }
	elapsed "$t0" "$t1"
}
mb_yes=$(pull yes)
mb_no=$(pull no)

# --- 4. things ----------------------------------------------------------------------------------
sync
t0=$(now_s)
"$THINGS" -v -c "$P/things.conf" run > "$W/things.out" 2> "$W/things.err"
t1=$(now_s)
total=$(elapsed "$t0" "$t1")
inbox=$(sed -n 's/^inbox: .*(\([0-9.]*\) s)$/\1/p' "$W/things.out")
handled=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM inbound').fetchone()[0])" "$P/things.db")
left=$("${DOVEADM[@]}" -f flow mailbox status -u things messages INBOX | sed 's/.*messages=//')
[ "$handled" = "$N" ] && [ "$left" = 0 ] ||
	{ echo "bench: things recorded $handled of $N, $left left in the INBOX" >&2; cat "$W/things.out" >&2; exit 1; }

ratio=$(python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$inbox" "$mb_yes")
sed 's/^/  /' "$W/things.out"
printf 'ingest: %d messages (%s MB): mbsync %s s (FSync no: %s s), things inbox %s s (whole run %s s); ratio %s (target <= 1.5)\n' \
	"$N" "$(python3 -c "import sys; print('%.1f' % (int(sys.argv[1]) / 1e6))" "$bytes")" \
	"$mb_yes" "$mb_no" "$inbox" "$total" "$ratio"
