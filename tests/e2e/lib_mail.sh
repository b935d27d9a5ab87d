# shellcheck shell=bash
# lib_mail.sh - sending, IMAP and message-file helpers of the e2e tests.  Sourced by lib.sh,
# which documents every function at its top; not meant to be sourced alone.

# --- sending -------------------------------------------------------------------------------

send_mail() {
	local from=alice env_from='' subject="test message" body="This is a test." eml='' via=smtp
	local host=127.0.0.1 port user pw to=() hdrs=() rcpts=() args=() a has_ct=0 rc
	while [ $# -gt 0 ]; do
		case $1 in
			--from) from=$2 ;;
			--to) to+=("$(addr "$2")") ;;
			--subject) subject=$2 ;;
			--body) body=$2 ;;
			--header) hdrs+=(--add-header "$2"); case ${2,,} in content-type:*) has_ct=1 ;; esac ;;
			--envelope-from) env_from=$2 ;;
			--via) via=$2 ;;
			--host) host=$2 ;;
			--eml) eml=$2 ;;
			*) echo "send_mail: unknown option '$1'" >&2; return 2 ;;
		esac
		[ $# -ge 2 ] || { echo "send_mail: $1 needs a value" >&2; return 2; }
		shift 2
	done
	[ ${#to[@]} -gt 0 ] || { echo "send_mail: no --to" >&2; return 2; }
	env_from=$(addr "${env_from:-$from}")
	user=$(_local_part "$from")
	case $via in
		smtp) port=$MAILBED_SMTP_PORT ;;
		submission) port=$MAILBED_SUBMISSION_PORT ;;
		smtps) port=$MAILBED_SMTPS_PORT ;;
		*) echo "send_mail: --via smtp|submission|smtps" >&2; return 2 ;;
	esac
	if [ -n "$eml" ]; then
		[ -f "$eml" ] || { echo "send_mail: no file $eml" >&2; return 2; }
		sed 's/\r$//; s/$/\r/' "$eml" > "$T/send.eml"
		for a in "${to[@]}"; do rcpts+=(--mail-rcpt "$a"); done
		case $via in
			# the URL's path is the EHLO name (without one, curl would use the file's name)
			smtp) args=("smtp://$host:$port/e2e.client") ;;
			submission) pw=$(password "$user") || return 2
				args=("smtp://$host:$port/e2e.client" --ssl-reqd --cacert "$MAILBED_CA" --user "$user:$pw") ;;
			smtps) pw=$(password "$user") || return 2
				args=("smtps://$host:$port/e2e.client" --cacert "$MAILBED_CA" --user "$user:$pw") ;;
		esac
		curl -sS --max-time 30 "${args[@]}" --mail-from "$env_from" "${rcpts[@]}" \
			-T "$T/send.eml" > "$T/send.log" 2>&1
		rc=$?
	else
		[ "$has_ct" = 1 ] || hdrs+=(--add-header "MIME-Version: 1.0" \
			--add-header "Content-Type: text/plain; charset=utf-8" \
			--add-header "Content-Transfer-Encoding: 8bit")
		args=(-4 --server "$host:$port" --timeout 30 --from "$env_from"
			--to "$(IFS=,; echo "${to[*]}")" --header "From: $(addr "$from")"
			--header "To: $(IFS=,; echo "${to[*]}" | sed 's/,/, /g')" --header "Subject: $subject")
		args+=(--body "$body")   # swaks reads @FILE itself
		case $via in
			submission) pw=$(password "$user") || return 2
				args+=(-tls --tls-verify --tls-ca-path "$MAILBED_CA" --auth PLAIN --auth-user "$user" --auth-password "$pw") ;;
			smtps) pw=$(password "$user") || return 2
				args+=(-tlsc --tls-verify --tls-ca-path "$MAILBED_CA" --auth PLAIN --auth-user "$user" --auth-password "$pw") ;;
		esac
		swaks "${args[@]}" "${hdrs[@]}" > "$T/send.log" 2>&1
		rc=$?
	fi
	if [ "$rc" != 0 ]; then
		echo "send_mail: sending failed (status $rc):" >&2
		tail -n 15 "$T/send.log" >&2
	fi
	return "$rc"
}

send_reply() {
	local user=$1 file=$2 body=$3 extra=() to; shift 3
	while [ $# -gt 0 ]; do
		case $1 in --header) extra+=("$2"); shift 2 ;; *) echo "send_reply: unknown option '$1'" >&2; return 2 ;; esac
	done
	to=$(python3 - "$file" "$(addr "$user")" "$body" "$T/reply.eml" "${extra[@]}" <<-'PY'

	import datetime, email.utils, sys
	from email import policy
	from email.message import EmailMessage
	from email.parser import BytesParser
	src, me, body, out = sys.argv[1:5]
	with open(src, "rb") as f:
	    orig = BytesParser(policy=policy.default).parse(f)
	reply_to = orig["Reply-To"] or orig["From"]
	if reply_to is None:
	    sys.exit("send_reply: the message has neither Reply-To nor From")
	m = EmailMessage(policy=policy.SMTP)
	m["From"] = me
	m["To"] = reply_to.addresses[0].addr_spec
	subj = str(orig["Subject"] or "")
	m["Subject"] = subj if subj.lower().startswith("re:") else "Re: " + subj
	m["Date"] = email.utils.format_datetime(datetime.datetime.now(datetime.timezone.utc))
	m["Message-ID"] = email.utils.make_msgid(domain=me.split("@")[1])
	mid = orig["Message-ID"]
	if mid:
	    m["In-Reply-To"] = str(mid).strip()
	    refs = str(orig["References"] or "").split()
	    m["References"] = " ".join(refs + [str(mid).strip()])
	for h in sys.argv[5:]:
	    name, _, value = h.partition(":")
	    m[name.strip()] = value.strip()
	m.set_content(body, charset="utf-8")
	with open(out, "wb") as f:
	    f.write(m.as_bytes())
	print(m["To"])
	PY
	) || return 1
	send_mail --eml "$T/reply.eml" --from "$user" --to "$to"
}

# --- IMAP ----------------------------------------------------------------------------------

imap_url() { # USER [FOLDER] [HOST] [SCHEME]
	local pw port folder=${2:-INBOX} scheme=${4:-imap}
	pw=$(password "$1") || return 1
	port=$MAILBED_IMAP_PORT; [ "$scheme" = imaps ] && port=$MAILBED_IMAPS_PORT
	echo "$scheme://$1:$pw@${3:-127.0.0.1}:$port/${folder// /%20}"
}

# _imap USER FOLDER CUSTOM-COMMAND: untagged responses of one command, CRs removed
_imap() {
	local url out
	url=$(imap_url "$1" "$2") || return 1
	out=$(curl -sS --max-time 20 "$url" -X "$3" 2>&1) || { echo "imap($1 $2): $3: $out" >&2; return 1; }
	printf '%s\n' "$out" | tr -d '\r'
}

imap_count() {
	local url out n
	url=$(imap_url "$1" "") || return 1
	out=$(curl -sS --max-time 20 "$url" -X "STATUS \"${2:-INBOX}\" (MESSAGES)" 2>&1) ||
		{ echo "imap_count($1 ${2:-INBOX}): $out" >&2; return 1; }
	n=$(printf '%s\n' "$out" | sed -n 's/.*(MESSAGES \([0-9]*\)).*/\1/p')
	[ -n "$n" ] || { echo "imap_count: unexpected answer: $out" >&2; return 1; }
	echo "$n"
}

imap_search() { # USER CRITERIA [FOLDER]
	local out
	out=$(_imap "$1" "${3:-INBOX}" "UID SEARCH $2") || return 1
	printf '%s\n' "$out" | sed -n 's/^\* SEARCH *//p' | tr -s ' ' | sed 's/ $//'
}

imap_uids() { imap_search "$1" ALL "${2:-INBOX}"; }

imap_flags() { # USER UID [FOLDER]
	local out
	out=$(_imap "$1" "${3:-INBOX}" "UID FETCH $2 (FLAGS)") || return 1
	printf '%s\n' "$out" | sed -n 's/.*FLAGS (\([^)]*\)).*/\1/p'
}

imap_fetch() { # USER UID [FOLDER]
	local url flags rc
	url=$(imap_url "$1" "${3:-INBOX}") || return 1
	flags=$(imap_flags "$1" "$2" "${3:-INBOX}") || return 1
	[ -n "$(_imap "$1" "${3:-INBOX}" "UID FETCH $2 (UID)" | grep FETCH)" ] ||
		{ echo "imap_fetch: no UID $2 in $1/${3:-INBOX}" >&2; return 1; }
	# curl fetches BODY[] (not BODY.PEEK[]), which sets \Seen: undo that
	curl -sS --max-time 30 "$url;UID=$2"; rc=$?
	case " $flags " in
		*' \Seen '*) ;;
		*) _imap "$1" "${3:-INBOX}" "UID STORE $2 -FLAGS.SILENT (\\Seen)" >/dev/null ;;
	esac
	return $rc
}

imap_fetch_last() {
	local uids
	uids=$(imap_uids "$1" "${2:-INBOX}") || return 1
	[ -n "$uids" ] || { echo "imap_fetch_last: $1/${2:-INBOX} is empty" >&2; return 1; }
	imap_fetch "$1" "${uids##* }" "${2:-INBOX}"
}

imap_wait() { # USER N [FOLDER] [SEC]
	local n
	wait_for "${4:-10}" _imap_has "$1" "$2" "${3:-INBOX}" && return 0
	n=$(imap_count "$1" "${3:-INBOX}")
	echo "imap_wait: $1/${3:-INBOX} has ${n:-?} message(s), wanted $2, after ${4:-10} s" >&2
	return 1
}
_imap_has() { local n; n=$(imap_count "$1" "$3") && [ "$n" -ge "$2" ]; }

imap_wait_search() { # USER CRITERIA [FOLDER] [SEC]
	local i uids
	for ((i = 0; i <= ${4:-10} * 10; i++)); do
		uids=$(imap_search "$1" "$2" "${3:-INBOX}" 2>/dev/null)
		[ -n "$uids" ] && { echo "$uids"; return 0; }
		sleep 0.1
	done
	echo "imap_wait_search: nothing matches $2 in $1/${3:-INBOX} after ${4:-10} s" >&2
	return 1
}

# --- message files -------------------------------------------------------------------------

_mail_py() { # SCRIPT FILE ARG...: runs a Python snippet with the parsed message as m
	local code=$1; shift
	python3 -c "
import sys
from email import policy
from email.parser import BytesParser
with open(sys.argv[1], 'rb') as f:
    m = BytesParser(policy=policy.default).parse(f)
$code" "$@"
}

mail_header() {
	_mail_py '
v = m[sys.argv[2]]
if v is None:
    sys.exit(1)
print(" ".join(str(v).split()))' "$1" "$2"
}

mail_headers() {
	_mail_py '
vs = m.get_all(sys.argv[2]) or []
for v in vs:
    print(" ".join(str(v).split()))
sys.exit(0 if vs else 1)' "$1" "$2"
}

mail_addr() {
	_mail_py '
v = m[sys.argv[2]]
if v is None or not hasattr(v, "addresses"):
    sys.exit(1)
for a in v.addresses:
    print(a.addr_spec)' "$1" "$2"
}

mail_part() {
	_mail_py '
for p in m.walk():
    if p.get_content_type() != sys.argv[2]:
        continue
    if p.get_content_maintype() == "message":    # rfc822, delivery-status: the header blocks
        c = "".join(str(x) for x in p.get_payload())
    elif p.is_multipart():
        c = p.as_string()
    else:
        c = p.get_content()
    sys.stdout.write(c if isinstance(c, str) else c.decode("utf-8", "replace"))
    sys.exit(0)
sys.exit(1)' "$1" "$2"
}

mail_structure() {
	_mail_py '
def show(p, depth):
    print("  " * depth + p.get_content_type())
    if p.is_multipart():
        for q in p.get_payload():
            show(q, depth + 1)
show(m, 0)' "$1"
}

