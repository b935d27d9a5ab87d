#!/usr/bin/env bash
# bench/feeds/run.sh - one round of feed fetching against the physical limit.
#
#   bench/feeds/run.sh [N] [PARALLEL] [REPEATS]      (defaults 1000 8 5; run from the top folder)
#
# Serves N generated RSS feeds (10 items, ~9 KB each) from nginx on loopback, then, REPEATS
# times, in alternating order, in the same run:
#   - curl --parallel --parallel-max PARALLEL fetches all N URLs once (bodies to /dev/null):
#     the limit of the machine, client and server together;
#   - bench_feeds (this folder) runs feeds_poll over N participants in a fresh store with the
#     same parallelism: fetch, parse, dedupe and store every post (round 1), then the same
#     again with nothing changed (round 2: conditional GETs, which must be mostly 304s);
#   - curl again with each feed's ETag in If-None-Match (the limit for round 2).
#   - the floor of round 1: curl's GET above, plus libxml2 alone reading the same documents
#     and their HTML descriptions (bench/feeds/floor.c parse), plus SQLite alone inserting
#     the same 10,000 rows 32 feeds to a transaction (floor.c store): the work round 1 cannot
#     avoid, done one after the other by the libraries with nothing of ours around them.
# Prints every time and the medians, the ratio feeds_poll / curl for both rounds
# (target <= 1.3), and round 1 against its floor.  Needs nginx (Debian nginx-light, in
# tools/deps.sh) and root or a user nginx may run as; builds ./build/libthings.a with make first.
set -eu -o pipefail

N=${1:-1000}
PAR=${2:-8}
REPEATS=${3:-5}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP"

command -v nginx >/dev/null || { echo "bench: nginx is missing (apt-get install nginx-light)" >&2; exit 2; }
make -s build/libthings.a >/dev/null
W=$(mktemp -d /tmp/things-bench-feeds.XXXXXX)
chmod 755 "$W"
NGINX_PID=
cleanup() {
	[ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

# shellcheck disable=SC2046
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o "$W/bench_feeds" bench/feeds/bench_feeds.c \
	build/libthings.a $(pkg-config --cflags --libs libetpan libcurl libcmark sqlite3 libxml-2.0 inih gnutls libidn2)
# shellcheck disable=SC2046
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o "$W/floor" bench/feeds/floor.c \
	$(pkg-config --cflags --libs sqlite3 libxml-2.0)

# --- the feeds ------------------------------------------------------------------------------
python3 - "$W/www/f" "$N" <<'PY'
import os, sys, time, email.utils
d, n = sys.argv[1], int(sys.argv[2])
os.makedirs(d)
now = time.time()
words = ("library feeds podcast wiki catalogue archive reader search metadata blog "
         "patron reference digital open access").split()
for i in range(n):
    items = []
    for j in range(10):
        text = " ".join(words[(i + j + k) % len(words)] for k in range(90))
        items.append(
            "<item><title>Post %d of feed %d: %s</title>"
            "<link>https://blog%d.example.org/%d</link><guid>urn:feed%d:post%d</guid>"
            "<pubDate>%s</pubDate><description>&lt;p&gt;%s&lt;/p&gt;</description></item>"
            % (j, i, words[(i * 7 + j) % len(words)], i, j, i, j,
               email.utils.formatdate(now - 3600 * (j + 1)), text))
    with open(os.path.join(d, "%04d.xml" % i), "w") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
                "<title>Feed %d</title><link>https://blog%d.example.org/</link>%s"
                "</channel></rss>\n" % (i, i, "".join(items)))
PY
chmod -R a+rX "$W/www"

# --- nginx on a free loopback port -------------------------------------------------------------
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$W/nginx/tmp"
cat > "$W/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log;
$( [ "$(id -u)" = 0 ] && echo "user nobody nogroup;" )
events { worker_connections 4096; }
http {
    access_log $W/nginx/access.log;
    client_body_temp_path $W/nginx/tmp;
    proxy_temp_path $W/nginx/tmp;
    fastcgi_temp_path $W/nginx/tmp;
    uwsgi_temp_path $W/nginx/tmp;
    scgi_temp_path $W/nginx/tmp;
    types { application/rss+xml xml; }
    keepalive_requests 1000000;
    sendfile on;
    server { listen 127.0.0.1:$PORT; root $W/www; }
}
EOF
nginx -p "$W/nginx" -c "$W/nginx/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/f/0000.xml" && break; sleep 0.1; done
BASE=http://127.0.0.1:$PORT

# curl configs: plain GETs, and conditional GETs with nginx's ETag ("mtime-size" in hex)
python3 - "$W" "$BASE" "$N" <<'PY'
import os, sys
w, base, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(w + "/curl-get.cfg", "w") as g, open(w + "/curl-304.cfg", "w") as c:
    for i in range(n):
        path = "/f/%04d.xml" % i
        st = os.stat(w + "/www" + path)
        g.write('url = "%s%s"\noutput = "/dev/null"\n' % (base, path))
        c.write('url = "%s%s"\noutput = "/dev/null"\nheader = "If-None-Match: \\"%x-%x\\""\n'
                'write-out = "%%{http_code}\\n"\n' % (base, path, int(st.st_mtime), st.st_size))
        if i < n - 1:
            c.write("next\n")
PY

now() { date +%s.%N; }
curl_round() { # CONFIG -> seconds; 304 codes counted into $W/codes
	local t0 t1
	t0=$(now)
	curl -s --parallel --parallel-max "$PAR" -K "$1" > "$W/codes" 2>/dev/null
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

echo "bench/feeds: $N feeds on nginx $BASE, parallelism $PAR, $REPEATS repeats ($(nproc) CPUs)"
: > "$W/curl-get" ; : > "$W/curl-304" ; : > "$W/poll-1" ; : > "$W/poll-2" ; : > "$W/fetch"
: > "$W/floor-parse" ; : > "$W/floor-store" ; : > "$W/floor-sum"
for r in $(seq "$REPEATS"); do
	if [ $((r % 2)) = 1 ]; then curl_round "$W/curl-get.cfg" >> "$W/curl-get"; fi
	"$W/bench_feeds" --fetch-only "$BASE" "$N" "$PAR" > "$W/fetch.out"
	sed 's/^/  fetch_run /' "$W/fetch.out"
	awk '{ print $2 }' "$W/fetch.out" >> "$W/fetch"
	rm -rf "$W/store" && mkdir "$W/store"
	"$W/bench_feeds" "$W/store" "$BASE" "$N" "$PAR" 2 > "$W/poll.out"
	awk '$2 == 1 { print $3 }' "$W/poll.out" >> "$W/poll-1"
	awk '$2 == 2 { print $3 }' "$W/poll.out" >> "$W/poll-2"
	sed 's/^/  feeds_poll /' "$W/poll.out"
	if [ $((r % 2)) = 0 ]; then curl_round "$W/curl-get.cfg" >> "$W/curl-get"; fi
	# the floor of round 1: libxml2 alone reading the same bytes, SQLite alone
	# writing the same rows (into a copy of the store emptied of posts)
	"$W/floor" parse "$W"/www/f/*.xml | awk '{ print $2 }' >> "$W/floor-parse"
	rm -f "$W/floor.db"*
	sqlite3 "$W/store/things.db" ".backup '$W/floor.db'"
	sqlite3 "$W/floor.db" "DELETE FROM posts; VACUUM;"
	"$W/floor" store "$W/store/things.db" "$W/floor.db" | awk '{ print $2 }' >> "$W/floor-store"
	tail -n 1 "$W/curl-get" | paste -d' ' - <(tail -n 1 "$W/floor-parse") \
	    <(tail -n 1 "$W/floor-store") | awk '{ printf "%.3f\n", $1 + $2 + $3 }' >> "$W/floor-sum"
	echo "  floor: curl $(tail -n 1 "$W/curl-get") + libxml2 $(tail -n 1 "$W/floor-parse") + SQLite $(tail -n 1 "$W/floor-store")"
	curl_round "$W/curl-304.cfg" >> "$W/curl-304"
	echo "  curl 304 round: $(grep -c '^304' "$W/codes") of $N answered 304"
done
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
cg=$(median "$W/curl-get"); c3=$(median "$W/curl-304"); p1=$(median "$W/poll-1")
p2=$(median "$W/poll-2"); fe=$(median "$W/fetch")
fp=$(median "$W/floor-parse"); fs=$(median "$W/floor-store"); fl=$(median "$W/floor-sum")
echo "curl --parallel, GET:           $(tr '\n' ' ' < "$W/curl-get") -> median $cg s"
echo "fetch_run, GET (bodies dropped): $(tr '\n' ' ' < "$W/fetch") -> median $fe s"
echo "feeds_poll round 1 (all new):    $(tr '\n' ' ' < "$W/poll-1") -> median $p1 s"
echo "curl --parallel, If-None-Match:  $(tr '\n' ' ' < "$W/curl-304") -> median $c3 s"
echo "feeds_poll round 2 (unchanged):  $(tr '\n' ' ' < "$W/poll-2") -> median $p2 s"
echo "libxml2 alone, same documents:   $(tr '\n' ' ' < "$W/floor-parse") -> median $fp s"
echo "SQLite alone, same rows:         $(tr '\n' ' ' < "$W/floor-store") -> median $fs s"
echo "floor of round 1 (curl+both):    $(tr '\n' ' ' < "$W/floor-sum") -> median $fl s"
awk -v fe="$fe" -v cg="$cg" -v p1="$p1" -v p2="$p2" -v c3="$c3" 'BEGIN {
	printf "ratio fetch_run/curl: %.2f   round 2/curl 304: %.2f   round 1/curl: %.2f   (target <= 1.3)\n",
	    fe / cg, p2 / c3, p1 / cg }'
awk -v p1="$p1" -v fl="$fl" 'BEGIN {
	printf "ratio round 1/floor of round 1 (curl + libxml2 + SQLite, one after the other): %.2f\n", p1 / fl }'
echo "nginx access log: $(grep -c '" 200 ' "$W/nginx/access.log") x 200, $(grep -c '" 304 ' "$W/nginx/access.log") x 304"
