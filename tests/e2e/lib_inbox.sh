# shellcheck shell=bash
# lib_inbox.sh - what the inbox's end-to-end tests (t_inbox*.sh) share.  Sourced after lib.sh.
#
#   db SQL                       rows of a query on the programme's store ($P/things.db),
#                                columns joined by '|', read-only (python3's sqlite3)
#   inbox_programme [KEY=V...]   $P (= $T/prog) with 3 Things and things.conf pointing at the
#                                bed, extra programme_conf arguments applied; sets C
#   fetch_match USER CRITERIA FILE [FOLDER]
#                                waits (10 s) for a message matching an IMAP SEARCH and writes
#                                the newest match to FILE
#   db_wait SEC SQL VALUE        polls a query until it prints VALUE

db() {
	python3 - "$P/things.db" "$1" <<-'PY'
	import sqlite3, sys
	c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
	for row in c.execute(sys.argv[2]):
	    print("|".join("" if v is None else str(v) for v in row))
	PY
}

inbox_programme() {
	P=$T/prog
	programme_make "$P" 3 || return 1
	programme_conf "$P/things.conf" "$@" || return 1
	C=$P/things.conf
}

fetch_match() { # USER CRITERIA FILE [FOLDER]
	local uids
	uids=$(imap_wait_search "$1" "$2" "${4:-INBOX}") || return 1
	imap_fetch "$1" "${uids##* }" "${4:-INBOX}" > "$3"
}
