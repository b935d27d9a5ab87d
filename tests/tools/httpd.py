#!/usr/bin/env python3
"""httpd.py - a small HTTP/1.1 server for feed tests.

usage: httpd.py [--root DIR] [--host 127.0.0.1] [--port N] [--port-file FILE] [--log FILE]
                [OPTIONS]

  --port 0 (the default) takes a free port; --port-file FILE receives the port number once the
  server listens (written atomically).

Serves the files under --root (GET and HEAD; paths outside the root are 404; a folder's
index.html or index.xml for the folder), with
  - ETag (a hash of the content) and If-None-Match -> 304
  - Last-Modified (the file's mtime) and If-Modified-Since -> 304 (only when the request has
    no If-None-Match, as RFC 9110 says)
  - gzip when the request's Accept-Encoding allows it (Content-Encoding: gzip, Vary)
Options (the files are read again on every request, so a test can change them as it goes):
  --redirects FILE   lines "PATH CODE TARGET" (CODE 301, 302, 303, 307 or 308); # comments
  --gone PATH        answer 410 Gone (may be repeated); --gone-file FILE: one path per line
  --status PATH=CODE answer CODE with a short body (404, 429, 500, 503...; repeatable)
  --retry-after SEC  add Retry-After to 429 and 503 answers
  --chunked PATH=SIZE  answer 200 with a generated body of SIZE bytes in chunked encoding
                     (no Content-Length: for size-limit tests); repeatable
  --slow PATH=SEC    wait SEC seconds before answering PATH (repeatable); --delay SEC: every path
  --trickle PATH=BPS send PATH's body at about BPS bytes per second (repeatable)
  --no-etag, --no-last-modified, --no-gzip   leave these out
A file may have a sidecar FILE.http (never served itself) of "Status: CODE" and "Name: value"
lines: the file is then served with that status and those headers (replacing the Content-Type
its extension gives), as a misbehaving platform would (a 403 challenge page, a feed served as
text/html, a charset in the header).
The request log (--log, default stderr) gets one line per request:
  METHOD PATH STATUS BYTES [inm] [ims] [gzip] ua="User-Agent"
e.g. "GET /feed.xml 304 0 inm", so a test can count 304s with grep.

Stops on SIGTERM or SIGINT.  Python 3 standard library only.

Example: feed.xml moved permanently, old.xml is gone, big.xml is 20 MB chunked:
  printf '/feed.xml 301 /new/feed.xml\\n' > redirects
  httpd.py --root www --port-file port --log requests.log --redirects redirects \\
      --gone /old.xml --chunked /big.xml=20000000
"""
import argparse
import email.utils
import gzip
import hashlib
import http.server
import os
import signal
import sys
import threading
import time
import urllib.parse

TYPES = {".xml": "application/xml", ".rss": "application/rss+xml",
         ".atom": "application/atom+xml", ".html": "text/html; charset=utf-8",
         ".htm": "text/html; charset=utf-8", ".txt": "text/plain; charset=utf-8",
         ".json": "application/json"}
FILLER = b"<!-- filler: the quick brown fox jumps over the lazy dog, again and again -->\n"


def pairs(values, conv):
    out = {}
    for v in values:
        path, eq, x = v.rpartition("=")
        if not eq or not path:
            sys.exit("httpd.py: expected PATH=VALUE, got %r" % v)
        out[path] = conv(x)
    return out


def read_lines(path):
    if not path:
        return []
    try:
        with open(path) as f:
            return [l.split("#", 1)[0].strip() for l in f if l.split("#", 1)[0].strip()]
    except FileNotFoundError:
        return []


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "things-test-httpd/1"
    cfg = None          # set in main
    log_lock = threading.Lock()

    def log_message(self, fmt, *args):   # BaseHTTPRequestHandler's own stderr log: off
        pass

    def log_request_line(self, status, nbytes, notes=()):
        ua = self.headers.get("User-Agent", "")
        line = "%s %s %d %d%s ua=\"%s\"\n" % (self.command, self.path, status, nbytes,
                                              "".join(" " + n for n in notes), ua)
        with self.log_lock:
            self.cfg.log.write(line)
            self.cfg.log.flush()

    def do_HEAD(self):
        self.handle_any(head=True)

    def do_GET(self):
        self.handle_any(head=False)

    def simple(self, status, body=b"", headers=(), head=False, notes=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        if body:
            self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.end_headers()
        if not head:
            self.wfile.write(body)
        self.log_request_line(status, 0 if head else len(body), notes)

    def handle_any(self, head):
        c = self.cfg
        path = urllib.parse.urlsplit(self.path).path
        notes = [n for n, h in (("inm", "If-None-Match"), ("ims", "If-Modified-Since"))
                 if self.headers.get(h) is not None]
        delay = c.slow.get(path, c.delay)
        if delay > 0:
            time.sleep(delay)
        for line in read_lines(c.redirects):
            parts = line.split()
            if len(parts) == 3 and parts[0] == path:
                self.simple(int(parts[1]), b"moved\n", [("Location", parts[2])], head, notes)
                return
        if path in c.gone or path in read_lines(c.gone_file):
            self.simple(410, b"gone\n", head=head, notes=notes)
            return
        if path in c.status:
            code = c.status[path]
            hdrs = [("Retry-After", str(c.retry_after))] if c.retry_after is not None and code in (429, 503) else []
            self.simple(code, b"status %d\n" % code, hdrs, head, notes)
            return
        if path in c.chunked:
            self.send_chunked(c.chunked[path], head, notes)
            return
        self.send_file(path, head, notes)

    def send_chunked(self, size, head, notes):
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = 0
        if not head:
            try:
                while sent < size:
                    piece = (FILLER * 200)[:min(16384, size - sent)]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    sent += len(piece)
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                notes = list(notes) + ["client-closed"]
        self.log_request_line(200, sent, notes)

    def send_file(self, path, head, notes):
        c = self.cfg
        full = os.path.realpath(os.path.join(c.root, urllib.parse.unquote(path).lstrip("/")))
        for index in ("index.html", "index.xml"):   # "/" and "/feed/": a folder's index
            if os.path.isdir(full) and os.path.isfile(os.path.join(full, index)):
                full = os.path.join(full, index)
        if not (full == c.root or full.startswith(c.root + os.sep)) or not os.path.isfile(full):
            self.simple(404, b"not found\n", head=head, notes=notes)
            return
        if full.endswith(".http"):
            self.simple(404, b"not found\n", head=head, notes=notes)
            return
        with open(full, "rb") as f:
            body = f.read()
        status, extra = sidecar(full + ".http")
        mtime = int(os.stat(full).st_mtime)
        etag = '"%s"' % hashlib.sha1(body).hexdigest()[:20]
        use_gzip = c.gzip and accepts_gzip(self.headers.get("Accept-Encoding", ""))
        if use_gzip:
            etag = etag[:-1] + '-gz"'
        headers = [("Content-Type", TYPES.get(os.path.splitext(full)[1], "application/octet-stream"))]
        if any(k.lower() == "content-type" for k, _ in extra):
            headers = []
        headers += extra
        if status != 200:
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.write_body(body, None)
            self.log_request_line(status, 0 if head else len(body), notes)
            return
        if c.etag:
            headers.append(("ETag", etag))
        if c.last_modified:
            headers.append(("Last-Modified", email.utils.formatdate(mtime, usegmt=True)))
        if c.gzip:
            headers.append(("Vary", "Accept-Encoding"))
        if self.not_modified(etag, mtime):
            self.send_response(304)
            for k, v in headers[1:]:
                self.send_header(k, v)
            self.end_headers()
            self.log_request_line(304, 0, notes)
            return
        if use_gzip:
            body = gzip.compress(body, mtime=0)
            headers.append(("Content-Encoding", "gzip"))
            notes = list(notes) + ["gzip"]
        self.send_response(200)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.write_body(body, c.trickle.get(path))
        self.log_request_line(200, 0 if head else len(body), notes)

    def not_modified(self, etag, mtime):
        c = self.cfg
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            if not c.etag:
                return False
            tags = [t.strip() for t in inm.split(",")]
            base = etag.replace('-gz"', '"')
            return "*" in tags or any(t.removeprefix("W/") in (etag, base, base[:-1] + '-gz"')
                                      for t in tags)
        ims = self.headers.get("If-Modified-Since")
        if ims is not None and c.last_modified:
            try:
                since = email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                return False
            return mtime <= since
        return False

    def write_body(self, body, bps):
        try:
            if not bps:
                self.wfile.write(body)
                return
            step = max(1, int(bps) // 10)
            for i in range(0, len(body), step):
                self.wfile.write(body[i:i + step])
                self.wfile.flush()
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            pass


def sidecar(path):
    """The status and headers a FILE.http sidecar gives its file: (200, []) without one."""
    status, headers = 200, []
    for line in read_lines(path):
        name, _, value = line.partition(":")
        if name.strip().lower() == "status":
            status = int(value)
        elif value:
            headers.append((name.strip(), value.strip()))
    return status, headers


def accepts_gzip(value):
    for item in value.split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() in ("gzip", "x-gzip", "*"):
            q = params.strip()
            return not (q.startswith("q=") and float(q[2:] or 0) == 0)
    return False


def parse_args(argv):
    p = argparse.ArgumentParser(description="An HTTP server for feed tests.")
    p.add_argument("--root", default=".")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--log", help="request log (default: stderr)")
    p.add_argument("--redirects", metavar="FILE")
    p.add_argument("--gone", action="append", default=[], metavar="PATH")
    p.add_argument("--gone-file", metavar="FILE")
    p.add_argument("--status", action="append", default=[], metavar="PATH=CODE")
    p.add_argument("--retry-after", type=int, metavar="SEC")
    p.add_argument("--chunked", action="append", default=[], metavar="PATH=SIZE")
    p.add_argument("--slow", action="append", default=[], metavar="PATH=SEC")
    p.add_argument("--delay", type=float, default=0.0, metavar="SEC")
    p.add_argument("--trickle", action="append", default=[], metavar="PATH=BPS")
    p.add_argument("--no-etag", dest="etag", action="store_false")
    p.add_argument("--no-last-modified", dest="last_modified", action="store_false")
    p.add_argument("--no-gzip", dest="gzip", action="store_false")
    a = p.parse_args(argv)
    a.root = os.path.realpath(a.root)
    a.gone = set(a.gone)
    a.status = pairs(a.status, int)
    a.chunked = pairs(a.chunked, int)
    a.slow = pairs(a.slow, float)
    a.trickle = pairs(a.trickle, float)
    a.log = open(a.log, "a") if a.log else sys.stderr
    return a


def main():
    cfg = parse_args(sys.argv[1:])
    Handler.cfg = cfg
    httpd = http.server.ThreadingHTTPServer((cfg.host, cfg.port), Handler)
    httpd.daemon_threads = True
    port = httpd.server_address[1]
    if cfg.port_file:
        with open(cfg.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(cfg.port_file + ".tmp", cfg.port_file)
    print("httpd: serving %s on %s:%d" % (cfg.root, cfg.host, port), flush=True)

    def stop(signum, frame):
        threading.Thread(target=httpd.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    httpd.serve_forever(poll_interval=0.1)
    httpd.server_close()


if __name__ == "__main__":
    main()
