#!/usr/bin/env bash
# demo.sh THINGS - runs a sample 12-Thing programme with no mail server at all:
# Maildir in and out, a simulated clock (--now), a few participants, and
# replies dropped into the inbox as a mail server would deliver them.
set -eu -o pipefail

THINGS=$(realpath "$1")
D=$(mktemp -d "${TMPDIR:-/tmp}/things-demo.XXXXXX")
P=$D/programme
C=$P/things.conf
OUT=$P/mail/outbox
IN=$P/mail/inbox
export TZ=UTC

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { echo "\$ things $*"; "$THINGS" -c "$C" "$@"; }
tick() { echo "\$ things -v run --now $1"; "$THINGS" -v -c "$C" run --now "$1"; }

# deliver FILE-CONTENT-ON-STDIN: writes a message into the inbox Maildir, as an MDA would
n=0
deliver() {
	mkdir -p "$IN/tmp" "$IN/new" "$IN/cur"
	n=$((n + 1))
	local f="$IN/tmp/$(date +%s).demo$n.$$"
	sed 's/$/\r/' > "$f"
	mv "$f" "$IN/new/"
}
# the Message-ID of the newest message in the outbox to ADDRESS whose subject has TEXT
msgid_of() {
	local f
	f=$(grep -l "^To: .*$1" "$OUT"/new/* | xargs grep -l "^Subject: .*$2" | tail -1)
	grep -m1 -i '^Message-ID:' "$f" | sed 's/^[^:]*: *//; s/\r$//'
}
# the decoded text/plain part of a message file
text_of() {
	python3 -c 'import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(m.get_body(preferencelist=("plain",)).get_content())' "$1"
}
outbox_count() { find "$OUT/new" -type f 2>/dev/null | wc -l; }

say "A new programme, from the sample"
echo "\$ things init $P --maildir mail"
"$THINGS" init "$P" --maildir mail >/dev/null
sed -i 's/^start = .*/start = 2027-01-11 09:00/' "$C"
run check

say "Friday 8 January 2027: the organisers add three participants directly"
run subscribe alice@example.org "Alice Archivist" --now 2027-01-08T12:00
run subscribe bob@example.org "Bob Bibliographer" --now 2027-01-08T12:00
run subscribe carol@example.org "Carol Cataloguer" --now 2027-01-08T12:00

say "Monday 11 January 2027, 09:00: Thing 1 is released"
tick 2027-01-11T09:00

say "Replies arrive over the next day"
echo "- alice replies to Thing 1 with the link to her reflection"
deliver <<MSG
From: Alice Archivist <alice@example.org>
To: things@example.org
Subject: Re: Thing 1: Start a blog
Message-ID: <demo-reflection-1@example.org>
In-Reply-To: $(msgid_of alice@example.org "Thing 1")
Date: Mon, 11 Jan 2027 15:02:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Here is my first post: https://alice.example.org/2027/01/hello-world

Alice
MSG
echo "- dave (not a participant yet) writes to things+subscribe@"
deliver <<MSG
From: Dave Digitiser <dave@example.org>
To: things+subscribe@example.org
Subject: subscribe
Message-ID: <demo-subscribe-dave@example.org>
Date: Mon, 11 Jan 2027 16:40:00 +0000

Please sign me up!
MSG
echo "- bob asks a question"
deliver <<MSG
From: Bob Bibliographer <bob@example.org>
To: things+help@example.org
Subject: Which blog platform?
Message-ID: <demo-help-bob@example.org>
Date: Tue, 12 Jan 2027 08:15:00 +0000

Can I use our intranet for my blog, or does it have to be public?
MSG
echo "- carol's mail server answers with an out-of-office notice"
deliver <<MSG
From: Carol Cataloguer <carol@example.org>
To: things@example.org
Subject: Automatic reply: Thing 1: Start a blog
Message-ID: <demo-ooo-carol@example.org>
Auto-Submitted: auto-replied
Date: Mon, 11 Jan 2027 09:01:00 +0000

I am out of the office until 18 January.
MSG

say "Tuesday 12 January, 09:00: the cron tick reads and answers them"
tick 2027-01-12T09:00

say "dave confirms by replying to his confirmation"
confirm=$(grep -l "^To: .*dave@example.org" "$OUT"/new/* | tail -1)
confirm_addr=$(text_of "$confirm" | grep -o 'things+confirm-[0-9a-f]*@example.org' | head -1)
echo "  (his confirmation asks him to write to $confirm_addr)"
deliver <<MSG
From: Dave Digitiser <dave@example.org>
To: $confirm_addr
Subject: Re: Please confirm
Message-ID: <demo-confirm-dave@example.org>
Date: Tue, 12 Jan 2027 10:00:00 +0000

Yes please.
MSG
tick 2027-01-12T11:00

say "Two more fortnights go by"
tick 2027-01-25T09:00
tick 2027-02-08T09:00

say "Where things stand"
run report --now 2027-02-08T10:00

say "What the demo wrote"
echo "programme:     $P (things.conf, things/*.md)"
echo "store:         $P/things.db (sqlite3 $P/things.db .tables)"
echo "sent messages: $OUT/new ($(outbox_count) messages; each a complete MIME message)"
echo "inbox:         $IN (processed replies are in $IN/.Processed)"
echo "For example, Thing 1 as alice got it:"
echo "  $(grep -l "^To: .*alice@example.org" "$OUT"/new/* | xargs grep -l '^Subject: Thing 1' | head -1)"
