# shellcheck shell=bash
# lib_delivery.sh - helpers shared by the delivery tests (t_delivery_*.sh), sourced after lib.sh:
#   . "$(dirname "$0")/lib.sh"; . "$E2E_DIR/lib_delivery.sh"
#
#   sql QUERY                one value (or rows) from the store of the programme in $P
#   later SECONDS            an ISO time SECONDS from now, for `run --now`
#   day D                    an hour and a bit after Thing D's release, in a programme whose
#                            start is an hour ago (programme_conf) and interval_days = 1
#   subscribe_many FMT N     subscribes printf(FMT, i) for i = 1..N to the programme in $C
#   grew N                   succeeds once the last badsmtp has accepted more than N messages
#   per_recipient [FILTER]   what the last badsmtp accepted, as "RECIPIENTS MESSAGES MOST":
#                            distinct recipients, messages in all, most to one recipient; with
#                            FILTER, only recipients whose address starts with it

sql() { sqlite3 "$P/things.db" "$1"; }

later() { date -u -d "@$(( $(date +%s) + $1 ))" +%Y-%m-%dT%H:%M:%SZ; }

day() { later $(( ($1 - 1) * 86400 + 400 )); }

subscribe_many() {
	local i a
	for ((i = 1; i <= $2; i++)); do
		# shellcheck disable=SC2059  # the format is the caller's
		printf -v a "$1" "$i"
		THINGS_TIMEOUT=20 run_things -c "$C" subscribe "$a" || { fail "subscribing $a"; return 1; }
	done
}

grew() { [ "$(badsmtp_count)" -gt "$1" ]; }

per_recipient() {
	python3 - "$BADSMTP_DIR" "${1:-}" <<-'PY'
	import collections, glob, json, sys
	c = collections.Counter()
	for f in glob.glob(sys.argv[1] + "/msg-*.json"):
	    for r in json.load(open(f))["rcpt_to"]:
	        if r.lower().startswith(sys.argv[2]):
	            c[r.lower()] += 1
	print(len(c), sum(c.values()), max(c.values()) if c else 0)
	PY
}
