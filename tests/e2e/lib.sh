# shellcheck shell=bash disable=SC2034  # (variables here are for the tests that source it)
# lib.sh - sourced by every tests/e2e/t_*.sh:   . "$(dirname "$0")/lib.sh"
# (it sources lib_mail.sh, which holds the sending, IMAP and message-file helpers)
#
# Sourcing makes a private temp dir $T (mode 755, under $E2E_TMPDIR or /tmp) and sets a trap
# that, whatever happens, stops the helpers and the mail bed, prints the log tails if the test
# failed, removes $T (unless KEEP=1) and exits non-zero if any assertion failed.  It also sets
# `set -u -o pipefail` (not -e: a failed assertion is counted and the test goes on).
#
# Variables: T (temp dir), TEST_NAME, E2E_DIR, TOOLS_DIR, THINGS (binary under test, from the
# Makefile or run.sh), E2E_FAILURES, and after bed_start every MAILBED_* of `mailbed.sh env`:
# MAILBED_{IMAP,IMAPS,LMTP,SMTP,SUBMISSION,SMTPS,SINK}_PORT, MAILBED_CA, MAILBED_UNKNOWN_CA,
# MAILBED_WRONGNAME_HOST (127.0.0.2), MAILBED_UNKNOWNCA_HOST (127.0.0.3), MAILBED_DOMAIN,
# MAILBED_MAIL (DIR/mail/USER/Maildir), MAILBED_LOGS, MAILBED_DIR.
#
# The bed
#   bed_start [KNOB=VALUE...]   start a bed in $T/bed; knobs are mailbed.sh's, without the
#                               MAILBED_ prefix or with it: bed_start REJECT_UNKNOWN=1
#   bed_stop [SERVICE...]       stop it (or dovecot / postfix / sink only); bed_start again
#                               brings it back on the same ports with the same mail
#   bed_queue_count             messages in Postfix's queue (incoming, active, deferred)
#   bed_wait_queue_empty [SEC]  until Postfix has handed everything on (default 10 s); use it
#                               before asserting that something did NOT arrive
#   bed_flush                   retry deferred mail now
#   addr NAME                   NAME@$MAILBED_DOMAIN (an argument with @ is returned as is)
#   password NAME               the bed user's password (NAME + "pw")
#
# Sending (through the bed's Postfix; returns non-zero and prints the transcript on failure)
#   send_mail [--from U] [--to U]... [--subject S] [--body TEXT|@FILE] [--header 'H: v']...
#             [--envelope-from U] [--via smtp|submission|smtps] [--host H]
#             [--eml FILE]
#       U is a bed user name or an address.  Default: from alice, via the open SMTP port,
#       envelope sender = From.  --via submission = STARTTLS + AUTH as the From user, with the
#       test CA verified; smtps = implicit TLS + AUTH.  --eml sends FILE as is (line ends made
#       CRLF; no header is added) with curl; --from/--to then give only the envelope.
#   send_reply USER FILE BODY [--header 'H: v']...
#       USER answers the message in FILE like a mail client: To = its Reply-To or From,
#       Subject "Re: ...", In-Reply-To and References from its Message-ID, text/plain UTF-8.
#
# Reading over IMAP (curl; USER is a bed user; FOLDER defaults to INBOX)
#   imap_count USER [FOLDER]             number of messages
#   imap_uids USER [FOLDER]              UIDs, one line, space separated
#   imap_search USER CRITERIA [FOLDER]   UIDs matching an IMAP SEARCH, e.g.
#                                        'HEADER Subject "Thing 1"' or 'FROM "things"'
#   imap_fetch USER UID [FOLDER]         the raw message on stdout; flags are left as they were
#                                        (\Seen is removed again if the fetch set it)
#   imap_fetch_last USER [FOLDER]        the message with the highest UID
#   imap_flags USER UID [FOLDER]         e.g. "\Seen \Answered"
#   imap_wait USER N [FOLDER] [SEC]      until the folder holds >= N messages (default 10 s);
#                                        non-zero with a message on timeout
#   imap_wait_search USER CRITERIA [FOLDER] [SEC]   until a SEARCH finds something; prints UIDs
#   imap_url USER [FOLDER] [HOST] [SCHEME]          imap://USER:PW@127.0.0.1:PORT/FOLDER
#
# Looking into a message file (Python's email package; headers RFC 2047-decoded, unfolded)
#   mail_header FILE NAME        value of the first NAME header; non-zero if there is none
#   mail_headers FILE NAME       every NAME header, one per line (Received, ...)
#   mail_addr FILE NAME          the bare address(es) of an address header, one per line
#   mail_part FILE TYPE          decoded body of the first TYPE part (text/plain, text/html...;
#                                message/delivery-status gives its field blocks, message/rfc822
#                                the enclosed message)
#   mail_structure FILE          the MIME tree: one content type per line, two spaces per level
#
# The programme under test
#   programme_conf FILE [section.key=value | -section.key]...
#       writes a things.conf pointing at the bed: [programme] name, address
#       (things@DOMAIN), organisers (organiser@DOMAIN), start (an hour ago, UTC),
#       interval_days 14; [smtp] url smtp://127.0.0.1:SMTP, ca_file; [imap] url
#       imap://things:thingspw@127.0.0.1:IMAP/INBOX, ca_file; [store] path (DIR/things.db).
#       Arguments override (or add) keys; -section.key drops one.
#   programme_thing DIR N TITLE [BODY]  writes DIR/things/NN-slug.md
#   programme_make DIR [N]              things.conf + N Things (default 3), each with a link
#   run_things ARG...   runs $THINGS ARG... (timeout $THINGS_TIMEOUT, 60 s); stdout in
#                       $THINGS_OUT, stderr in $THINGS_ERR, both appended to $T/things.log;
#                       returns its exit status (also in $THINGS_STATUS)
#
# Helper servers (stopped by the trap; logs in $T/NAME.log)
#   bg_start NAME CMD...   run CMD in the background, tracked for cleanup; pid in BG_PID
#   start_badsmtp [ARG...] tests/tools/badsmtp.py (see its --help) on a free port: sets
#                          BADSMTP_PORT and BADSMTP_DIR (its records); each call starts
#                          another instance
#   badsmtp_count          messages the last started badsmtp accepted
#   start_httpd [ARG...]   tests/tools/httpd.py on a free port serving $HTTPD_ROOT (default
#                          $T/www): sets HTTPD_PORT, HTTPD_URL, HTTPD_LOG (its request log)
#
# Assertions (each prints "ok N - WHAT" or "not ok N - WHAT (file:line)" with what was
# expected and what came; a failure is counted and the test goes on)
#   assert_eq EXPECTED ACTUAL [WHAT]        assert_ne UNEXPECTED ACTUAL [WHAT]
#   assert_contains TEXT NEEDLE [WHAT]      assert_not_contains TEXT NEEDLE [WHAT]
#   assert_match TEXT ERE [WHAT]            assert_ge MIN ACTUAL [WHAT] (integers)
#   assert_file_contains FILE NEEDLE [WHAT] assert_file_not_contains FILE NEEDLE [WHAT]
#   assert_ok CMD...      CMD succeeds        assert_fails CMD...   CMD fails (non-zero)
#   assert_status N CMD...                    CMD exits with N
#   pass WHAT / fail WHAT                     record a result directly
#   must CMD...           a set-up step: if CMD fails, the test stops here (counted failed)
#   wait_for SEC CMD...   polls CMD every 0.1 s until it succeeds; non-zero on timeout

set -u -o pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLS_DIR=$(dirname "$E2E_DIR")/tools
MAILBED=$E2E_DIR/mailbed.sh
TEST_NAME=$(basename "$0" .sh)
E2E_FAILURES=0
E2E_ASSERTIONS=0
E2E_BG_PIDS=()
E2E_BED=
THINGS_STATUS=
THINGS_OUT=
THINGS_ERR=
THINGS=${THINGS:-}

# short: the bed inside must stay within the length of a unix socket path
T=$(mktemp -d "${E2E_TMPDIR:-${TMPDIR:-/tmp}}/${TEST_NAME:0:16}.XXXXXX") || { echo "lib.sh: mktemp failed" >&2; exit 1; }
chmod 755 "$T"   # the bed's daemons (dovenull, postfix, the mail uid) must reach $T/bed
export E2E_TAG=$T  # every helper and $THINGS run carries it: run.sh finds leftovers by it

# --- results -------------------------------------------------------------------------------

_where() { # file:line of the test line that called the assertion
	local i
	for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
		[ "${BASH_SOURCE[$i]}" != "${BASH_SOURCE[0]}" ] && { echo "$(basename "${BASH_SOURCE[$i]}"):${BASH_LINENO[$((i - 1))]}"; return; }
	done
	echo "?"
}

pass() {
	E2E_ASSERTIONS=$((E2E_ASSERTIONS + 1))
	echo "ok $E2E_ASSERTIONS - $*"
}

# fail WHAT [DETAIL-LINE...]
fail() {
	local what=$1 line; shift
	E2E_ASSERTIONS=$((E2E_ASSERTIONS + 1))
	E2E_FAILURES=$((E2E_FAILURES + 1))
	echo "not ok $E2E_ASSERTIONS - $what ($(_where))"
	for line in "$@"; do printf '#   %s\n' "$line"; done
	return 1
}

_show() { # a value for a failure message: quoted, long values cut
	local v=$1
	[ ${#v} -gt 600 ] && v="${v:0:600}... (${#1} chars)"
	printf "'%s'" "$v"
}

assert_eq() {
	if [ "$1" = "$2" ]; then pass "${3:-equal: $(_show "$1")}"
	else fail "${3:-values differ}" "expected: $(_show "$1")" "got:      $(_show "$2")"; fi
}

assert_ne() {
	if [ "$1" != "$2" ]; then pass "${3:-not $(_show "$1")}"
	else fail "${3:-values should differ}" "expected anything but: $(_show "$1")"; fi
}

assert_contains() {
	case $1 in
		*"$2"*) pass "${3:-contains $(_show "$2")}" ;;
		*) fail "${3:-text lacks a string}" "expected to contain: $(_show "$2")" "got: $(_show "$1")" ;;
	esac
}

assert_not_contains() {
	case $1 in
		*"$2"*) fail "${3:-text holds a string it must not}" "expected not to contain: $(_show "$2")" "got: $(_show "$1")" ;;
		*) pass "${3:-does not contain $(_show "$2")}" ;;
	esac
}

assert_match() {
	if [[ $1 =~ $2 ]]; then pass "${3:-matches /$2/}"
	else fail "${3:-text does not match}" "expected to match: /$2/" "got: $(_show "$1")"; fi
}

assert_ge() {
	if [[ $2 =~ ^-?[0-9]+$ ]] && [ "$2" -ge "$1" ]; then pass "${3:-$2 >= $1}"
	else fail "${3:-number too small}" "expected at least: $1" "got: $(_show "$2")"; fi
}

assert_file_contains() {
	if [ ! -f "$1" ]; then fail "${3:-file $1 contains $(_show "$2")}" "no such file: $1"; return 1; fi
	if grep -qF -- "$2" "$1"; then pass "${3:-$(basename "$1") contains $(_show "$2")}"
	else fail "${3:-file lacks a string}" "expected $1 to contain: $(_show "$2")" \
		"got (first 20 lines):" "$(head -n 20 "$1")"; fi
}

assert_file_not_contains() {
	if [ ! -f "$1" ]; then fail "${3:-file $1 lacks $(_show "$2")}" "no such file: $1"; return 1; fi
	if grep -qF -- "$2" "$1"; then fail "${3:-file holds a string it must not}" \
		"expected $1 not to contain: $(_show "$2")" "got: $(grep -nF -m 3 -- "$2" "$1")"
	else pass "${3:-$(basename "$1") does not contain $(_show "$2")}"; fi
}

# _run CMD...: runs CMD with its output kept in $T/last.out for the failure message
_run() { "$@" > "$T/last.out" 2>&1; }

assert_ok() {
	if _run "$@"; then pass "succeeds: $*"
	else fail "should succeed: $*" "exit status $?, output:" "$(tail -n 20 "$T/last.out")"; fi
}

assert_fails() {
	if _run "$@"; then fail "should fail: $*" "exit status 0, output:" "$(tail -n 20 "$T/last.out")"
	else pass "fails as it should (status $?): $*"; fi
}

assert_status() {
	local want=$1 got; shift
	_run "$@"; got=$?
	if [ "$got" = "$want" ]; then pass "exits $want: $*"
	else fail "should exit $want: $*" "exit status $got, output:" "$(tail -n 20 "$T/last.out")"; fi
}

must() {
	if ! "$@"; then
		fail "set-up step failed, test stopped: $*"
		exit 1
	fi
}

wait_for() {
	local sec=$1 i; shift
	for ((i = 0; i < sec * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	"$@" >/dev/null 2>&1
}

# --- cleanup -------------------------------------------------------------------------------

_log_tails() {
	local f
	for f in "$T"/things.log "$T"/*.log "${MAILBED_LOGS:-/nonexistent}"/*.log; do
		[ -s "$f" ] || continue
		case " ${_seen:-} " in *" $f "*) continue ;; esac
		_seen="${_seen:-} $f"
		echo "---- $f (last 30 lines)"
		tail -n 30 "$f"
	done
}

_cleanup() {
	local rc=$? pid i
	trap - EXIT INT TERM
	for pid in "${E2E_BG_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${E2E_BG_PIDS[@]}"; do
		for ((i = 0; i < 30; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	if [ "$rc" != 0 ] || [ "$E2E_FAILURES" != 0 ]; then
		echo "# $TEST_NAME: exit status $rc, $E2E_FAILURES of $E2E_ASSERTIONS assertions failed" >&2
		_log_tails >&2
		[ "$rc" = 0 ] && rc=1
	else
		echo "# $TEST_NAME: all $E2E_ASSERTIONS assertions passed"
	fi
	if [ -n "$E2E_BED" ]; then
		"$MAILBED" stop "$E2E_BED" >/dev/null || { echo "lib.sh: stopping the bed failed" >&2; rc=1; }
	fi
	if [ "${KEEP:-0}" = 1 ]; then echo "# KEEP=1: kept $T" >&2; else rm -rf "$T"; fi
	exit "$rc"
}
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the bed -------------------------------------------------------------------------------

bed_start() {
	local kv
	# a bed of an outer shell must not leak its ports into this one
	unset MAILBED_PORT_BASE MAILBED_IMAP_PORT MAILBED_IMAPS_PORT MAILBED_LMTP_PORT \
		MAILBED_SMTP_PORT MAILBED_SUBMISSION_PORT MAILBED_SMTPS_PORT MAILBED_SINK_PORT
	for kv in "$@"; do
		case $kv in
			MAILBED_*=*) export "${kv?}" ;;
			*=*) export "MAILBED_$kv" ;;
			*) echo "bed_start: bad argument '$kv' (KNOB=VALUE)" >&2; return 2 ;;
		esac
	done
	E2E_BED=$T/bed
	[ -n "${E2E_BEDS_FILE:-}" ] && echo "$E2E_BED" >> "$E2E_BEDS_FILE"   # for run.sh's leftover check
	"$MAILBED" start "$E2E_BED" || { echo "bed_start: the mail bed did not come up" >&2; return 1; }
	eval "$("$MAILBED" env "$E2E_BED")"
}

bed_stop() { "$MAILBED" stop "$E2E_BED" "$@"; }

bed_queue_count() {
	postqueue -c "$MAILBED_DIR/etc/postfix" -j 2>/dev/null | grep -c '"queue_id"'
}

bed_wait_queue_empty() {
	wait_for "${1:-10}" _bed_queue_empty && return 0
	echo "bed_wait_queue_empty: $(bed_queue_count) message(s) still queued after ${1:-10} s" >&2
	return 1
}
_bed_queue_empty() { [ "$(bed_queue_count)" = 0 ]; }

bed_flush() { postqueue -c "$MAILBED_DIR/etc/postfix" -f; }

addr() { case $1 in *@*) echo "$1" ;; *) echo "$1@$MAILBED_DOMAIN" ;; esac; }

password() {
	local u
	for u in $MAILBED_USERS; do
		[ "${u%%:*}" = "$1" ] && { echo "${u#*:}"; return 0; }
	done
	echo "password: no bed user '$1'" >&2
	return 1
}

_local_part() { local a; a=$(addr "$1"); a=${a%@*}; echo "${a%%+*}"; }

# sending, IMAP and message files
# shellcheck source=tests/e2e/lib_mail.sh
. "$E2E_DIR/lib_mail.sh"

# --- the programme -------------------------------------------------------------------------

programme_conf() {
	local file=$1 dir start; shift
	dir=$(cd "$(dirname "$file")" 2>/dev/null && pwd) || { echo "programme_conf: no directory for $file" >&2; return 1; }
	start=$(date -u -d "@$(($(date +%s) - 3600))" +%Y-%m-%dT%H:%MZ)
	python3 - "$file" "$@" <<-PY
	import sys
	conf = {
	    "programme": {"name": "Things e2e test", "address": "things@$MAILBED_DOMAIN",
	                  "organisers": "organiser@$MAILBED_DOMAIN", "start": "$start",
	                  "interval_days": "14"},
	    "smtp": {"url": "smtp://127.0.0.1:$MAILBED_SMTP_PORT", "ca_file": "$MAILBED_CA"},
	    "imap": {"url": "imap://things:$(password things)@127.0.0.1:$MAILBED_IMAP_PORT/INBOX",
	             "ca_file": "$MAILBED_CA"},
	    "store": {"path": "$dir/things.db"},
	}
	for arg in sys.argv[2:]:
	    drop = arg.startswith("-")
	    key, eq, value = arg.lstrip("-").partition("=")
	    section, dot, name = key.partition(".")
	    if not dot or not name or (not drop and not eq):
	        sys.exit("programme_conf: expected section.key=value or -section.key, got " + arg)
	    if drop:
	        conf.get(section, {}).pop(name, None)
	    else:
	        conf.setdefault(section, {})[name] = value
	with open(sys.argv[1], "w") as f:
	    f.write("# written by tests/e2e/lib.sh programme_conf\n")
	    for section, keys in conf.items():
	        f.write("\n[%s]\n" % section)
	        for k, v in keys.items():
	            f.write("%s = %s\n" % (k, v))
	PY
}

programme_thing() { # DIR N TITLE [BODY]
	local slug
	slug=$(printf '%s' "$3" | tr 'A-Z' 'a-z' | sed 's/[^a-z0-9]\{1,\}/-/g; s/^-//; s/-$//')
	mkdir -p "$1/things" || return 1
	printf '# %s\n\n%s\n' "$3" "${4:-Read about $3 and try it out.}" \
		> "$1/things/$(printf %02d "$2")-${slug:-thing}.md"
}

programme_make() { # DIR [N]
	local i
	mkdir -p "$1" || return 1
	programme_conf "$1/things.conf" || return 1
	for ((i = 1; i <= ${2:-3}; i++)); do
		programme_thing "$1" "$i" "Thing $i" "This week: try thing $i. See <https://example.org/thing/$i>." || return 1
	done
}

run_things() {
	[ -n "$THINGS" ] && [ -x "$THINGS" ] || { echo "run_things: \$THINGS ('$THINGS') is not an executable" >&2; return 127; }
	E2E_RUNS=$((${E2E_RUNS:-0} + 1))
	THINGS_OUT=$T/things.$E2E_RUNS.out
	THINGS_ERR=$T/things.$E2E_RUNS.err
	timeout -k 5 "${THINGS_TIMEOUT:-60}" "$THINGS" "$@" < /dev/null > "$THINGS_OUT" 2> "$THINGS_ERR"
	THINGS_STATUS=$?
	{
		echo "== run $E2E_RUNS: things $* -> status $THINGS_STATUS"
		sed 's/^/out: /' "$THINGS_OUT"
		sed 's/^/err: /' "$THINGS_ERR"
	} >> "$T/things.log"
	return "$THINGS_STATUS"
}

# --- helper servers ------------------------------------------------------------------------

bg_start() { # NAME CMD...
	local name=$1; shift
	"$@" < /dev/null >> "$T/$name.log" 2>&1 &
	BG_PID=$!
	E2E_BG_PIDS+=("$BG_PID")
}

# _wait_port_file FILE PID: the tool writes its port there once it listens
_wait_port_file() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -s "$1" ] && { cat "$1"; return 0; }
		kill -0 "$2" 2>/dev/null || break
		sleep 0.05
	done
	echo "helper (pid $2) did not start; see its log in $T" >&2
	return 1
}

# Each call starts one more instance, in its own directory ($T/badsmtp-1, -2, ...).
start_badsmtp() {
	E2E_HELPERS=$((${E2E_HELPERS:-0} + 1))
	BADSMTP_DIR=$T/badsmtp-$E2E_HELPERS
	mkdir -p "$BADSMTP_DIR"
	bg_start "badsmtp-$E2E_HELPERS" python3 "$TOOLS_DIR/badsmtp.py" --port 0 \
		--port-file "$BADSMTP_DIR.port" --record "$BADSMTP_DIR" "$@"
	BADSMTP_PORT=$(_wait_port_file "$BADSMTP_DIR.port" "$BG_PID") || return 1
}

# badsmtp_count: messages the last started badsmtp accepted
badsmtp_count() { find "$BADSMTP_DIR" -maxdepth 1 -name 'msg-*.eml' | wc -l; }

start_httpd() {
	E2E_HELPERS=$((${E2E_HELPERS:-0} + 1))
	HTTPD_ROOT=${HTTPD_ROOT:-$T/www}
	HTTPD_LOG=$T/httpd-$E2E_HELPERS-requests.log
	mkdir -p "$HTTPD_ROOT"
	bg_start "httpd-$E2E_HELPERS" python3 "$TOOLS_DIR/httpd.py" --port 0 \
		--port-file "$T/httpd-$E2E_HELPERS.port" --root "$HTTPD_ROOT" --log "$HTTPD_LOG" "$@"
	HTTPD_PORT=$(_wait_port_file "$T/httpd-$E2E_HELPERS.port" "$BG_PID") || return 1
	HTTPD_URL=http://127.0.0.1:$HTTPD_PORT
}
