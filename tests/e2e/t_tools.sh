#!/usr/bin/env bash
# t_tools.sh - the test helpers misbehave exactly as documented: tests/tools/badsmtp.py
# (451s, 550s, 421 greeting, dropped DATA, slowness, records) and tests/tools/httpd.py
# (ETag/Last-Modified 304s, gzip, redirects, 410, chunked, slow, request log).
# Needs no mail bed.
. "$(dirname "$0")/lib.sh"

msg() { printf 'From: a@example.test\r\nTo: %s\r\nSubject: %s\r\n\r\nbody of %s\r\n' "$1" "$2" "$2" > "$T/$2.eml"; }
# smtp_send PORT RCPT NAME: one transaction with curl (exit status: 0 sent, else refused)
smtp_send() {
	msg "$2" "$3"
	curl -sS --max-time 10 "smtp://127.0.0.1:$1" --mail-from a@example.test --mail-rcpt "$2" -T "$T/$3.eml"
}

# --- badsmtp: 451 at RCPT for the first two transactions, then accepted and recorded ------
must start_badsmtp --rcpt-451 2 --reject bob@example.test
assert_fails smtp_send "$BADSMTP_PORT" alice@example.test try1
assert_contains "$(cat "$T/last.out")" "451" "transaction 1: 451 at RCPT"
assert_fails smtp_send "$BADSMTP_PORT" alice@example.test try2
assert_ok smtp_send "$BADSMTP_PORT" alice@example.test try3
assert_eq 1 "$(badsmtp_count)" "only the third transaction was accepted"
assert_file_contains "$BADSMTP_DIR/msg-0001.eml" "Subject: try3"
assert_file_contains "$BADSMTP_DIR/msg-0001.json" '"rcpt_to": ["alice@example.test"]'
assert_file_contains "$BADSMTP_DIR/msg-0001.json" '"transaction": 3'
assert_fails smtp_send "$BADSMTP_PORT" bob@example.test to-bob
assert_contains "$(cat "$T/last.out")" "550" "a listed recipient gets 550"
assert_eq 1 "$(badsmtp_count)" "the rejected message was not recorded"
assert_eq 4 "$(grep -c '< MAIL FROM' "$BADSMTP_DIR/events.log")" "events.log counts four transactions"

# --- 421 at greeting for the first connection ---------------------------------------------
must start_badsmtp --greet-421 1
assert_fails smtp_send "$BADSMTP_PORT" alice@example.test greet1
assert_contains "$(cat "$T/last.out")" "421" "first connection: 421 greeting"
assert_ok smtp_send "$BADSMTP_PORT" alice@example.test greet2
assert_eq 1 "$(badsmtp_count)" "second connection delivers"

# --- 451 at DATA, then 451 after the dot, then success ------------------------------------
must start_badsmtp --data-451 1 --eom-451 2
assert_fails smtp_send "$BADSMTP_PORT" alice@example.test d1
assert_fails smtp_send "$BADSMTP_PORT" alice@example.test d2
assert_ok smtp_send "$BADSMTP_PORT" alice@example.test d3
assert_eq "451 4.3.0 badsmtp: temporary failure at DATA" "$(grep -m1 -o '451 .*DATA$' "$BADSMTP_DIR/events.log")" "DATA refused in transaction 1"
assert_eq 1 "$(grep -c 'temporary failure after DATA' "$BADSMTP_DIR/events.log")" "end of data refused in transaction 2"
assert_eq 1 "$(badsmtp_count)" "only transaction 3 kept"

# --- the connection dropped in the middle of DATA ------------------------------------------
must start_badsmtp --drop-data 1
assert_fails smtp_send "$BADSMTP_PORT" alice@example.test drop1
assert_file_contains "$BADSMTP_DIR/events.log" "dropping the connection in DATA"
assert_ok smtp_send "$BADSMTP_PORT" alice@example.test drop2
assert_eq 1 "$(badsmtp_count)" "the retry is recorded once"

# --- a slow server: 0.2 s before every answer (greeting, EHLO, MAIL, RCPT, DATA, dot, QUIT)
must start_badsmtp --delay 0.2
t0=${EPOCHREALTIME/./}
assert_ok smtp_send "$BADSMTP_PORT" alice@example.test slow
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
assert_ge 1200 "$ms" "a transaction with 7 answers takes >= 1.2 s (took $ms ms)"

# --- httpd ---------------------------------------------------------------------------------
printf '/old.xml 301 /feed.xml\n/tmp.xml 302 /feed.xml\n/perm.xml 308 /feed.xml\n' > "$T/redirects"
HTTPD_ROOT=$T/www
mkdir -p "$HTTPD_ROOT"
printf '<rss version="2.0"><channel><title>t</title></channel></rss>\n' > "$HTTPD_ROOT/feed.xml"
touch -d '2026-01-01 00:00:00 UTC' "$HTTPD_ROOT/feed.xml"
must start_httpd --redirects "$T/redirects" --gone /dead.xml --chunked /big.xml=300000 \
	--slow /slow.xml=1 --status /busy.xml=503 --retry-after 7
h=$(curl -sS -D - -o "$T/body" "$HTTPD_URL/feed.xml" | tr -d '\r')
assert_contains "$h" "HTTP/1.1 200" "plain GET: 200"
etag=$(printf '%s\n' "$h" | sed -n 's/^ETag: //p')
lm=$(printf '%s\n' "$h" | sed -n 's/^Last-Modified: //p')
assert_match "$etag" '^"[0-9a-f]+"$' "an ETag"
assert_eq "Thu, 01 Jan 2026 00:00:00 GMT" "$lm" "Last-Modified is the file's mtime"
assert_eq "$(cat "$HTTPD_ROOT/feed.xml")" "$(cat "$T/body")" "the body is the file"
assert_eq 304 "$(curl -sS -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$HTTPD_URL/feed.xml")" "If-None-Match: 304"
assert_eq 304 "$(curl -sS -o /dev/null -w '%{http_code}' -H "If-Modified-Since: $lm" "$HTTPD_URL/feed.xml")" "If-Modified-Since: 304"
assert_eq 200 "$(curl -sS -o /dev/null -w '%{http_code}' -H 'If-None-Match: "other"' -H "If-Modified-Since: $lm" "$HTTPD_URL/feed.xml")" \
	"a non-matching If-None-Match wins over If-Modified-Since"
printf '<rss version="2.0"><channel><title>changed</title></channel></rss>\n' > "$HTTPD_ROOT/feed.xml"
assert_eq 200 "$(curl -sS -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$HTTPD_URL/feed.xml")" "changed content: 200 again"
assert_eq 200 "$(curl -sS -o /dev/null -w '%{http_code}' -H "If-Modified-Since: $lm" "$HTTPD_URL/feed.xml")" "newer mtime: 200 again"
h=$(curl -sS -D - -o "$T/gz" -H 'Accept-Encoding: gzip' "$HTTPD_URL/feed.xml" | tr -d '\r')
assert_contains "$h" "Content-Encoding: gzip" "gzip when asked"
assert_eq "$(cat "$HTTPD_ROOT/feed.xml")" "$(gzip -dc < "$T/gz")" "the gzip body decodes to the file"
assert_not_contains "$(curl -sS -D - -o /dev/null "$HTTPD_URL/feed.xml")" "Content-Encoding" "no gzip unless asked"
for r in old:301 tmp:302 perm:308; do
	h=$(curl -sS -D - -o /dev/null "$HTTPD_URL/${r%:*}.xml" | tr -d '\r')
	assert_contains "$h" "HTTP/1.1 ${r#*:}" "/${r%:*}.xml answers ${r#*:}"
	assert_contains "$h" "Location: /feed.xml" "/${r%:*}.xml points at /feed.xml"
done
assert_eq "$(cat "$HTTPD_ROOT/feed.xml")" "$(curl -sS -L "$HTTPD_URL/old.xml")" "curl -L follows to the feed"
assert_eq 410 "$(curl -sS -o /dev/null -w '%{http_code}' "$HTTPD_URL/dead.xml")" "listed path: 410"
assert_eq 404 "$(curl -sS -o /dev/null -w '%{http_code}' "$HTTPD_URL/../../etc/passwd" --path-as-is)" "no way out of the root"
h=$(curl -sS -D - -o "$T/big" "$HTTPD_URL/big.xml" | tr -d '\r')
assert_contains "$h" "Transfer-Encoding: chunked" "chunked answer"
assert_not_contains "$h" "Content-Length" "chunked answer has no length"
assert_eq 300000 "$(stat -c %s "$T/big")" "chunked body has the size asked for"
h=$(curl -sS -D - -o /dev/null "$HTTPD_URL/busy.xml" | tr -d '\r')
assert_contains "$h" "HTTP/1.1 503" "--status gives 503"
assert_contains "$h" "Retry-After: 7" "with Retry-After"
t0=${EPOCHREALTIME/./}
curl -sS -o /dev/null "$HTTPD_URL/slow.xml"
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
assert_ge 1000 "$ms" "--slow delays the answer (took $ms ms)"
assert_eq 2 "$(grep -c '^GET /feed.xml 304 0' "$HTTPD_LOG")" "the request log shows both 304s"
assert_file_contains "$HTTPD_LOG" 'GET /dead.xml 410'
assert_file_contains "$HTTPD_LOG" 'GET /feed.xml 200'
