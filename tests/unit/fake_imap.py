#!/usr/bin/env python3
"""fake_imap.py - a misbehaving IMAP server for the inbox tests.

    fake_imap.py SCENARIO PORTFILE

Listens on 127.0.0.1 (a free port, written to PORTFILE), serves one
connection, then exits.  The mailbox holds one message, UID 7, announced
with RFC822.SIZE 100.  What the body fetch gets depends on SCENARIO:
  liar     a 5 MiB literal (far more than announced or asked for)
  flood    a literal announced as 2 GiB, 40 MiB of it sent, then silence
  garbage  an unparseable line instead of the answer
"""
import os
import socket
import sys

scenario, portfile = sys.argv[1], sys.argv[2]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(1)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)
srv.settimeout(20)
conn, _ = srv.accept()
conn.settimeout(20)
rf = conn.makefile("rb")


def send(data):
    try:
        conn.sendall(data)
    except OSError:
        sys.exit(0)


send(b"* OK [CAPABILITY IMAP4rev1 UIDPLUS MOVE] fake ready\r\n")
while True:
    line = rf.readline()
    if not line:
        break
    parts = line.decode("latin-1").rstrip("\r\n").split(" ")
    tag, cmd = parts[0], " ".join(parts[1:]).upper()
    if cmd.startswith("CAPABILITY"):
        send(b"* CAPABILITY IMAP4rev1 UIDPLUS MOVE\r\n" + tag.encode() + b" OK done\r\n")
    elif cmd.startswith("LOGIN"):
        send(tag.encode() + b" OK logged in\r\n")
    elif cmd.startswith("SELECT"):
        send(b"* 1 EXISTS\r\n* OK [UIDVALIDITY 42] ok\r\n* OK [UIDNEXT 8] ok\r\n" +
             tag.encode() + b" OK [READ-WRITE] selected\r\n")
    elif cmd.startswith("UID SEARCH"):
        send(b"* SEARCH 7\r\n" + tag.encode() + b" OK done\r\n")
    elif cmd.startswith("UID FETCH") and "RFC822.SIZE" in cmd:
        send(b"* 1 FETCH (UID 7 RFC822.SIZE 100)\r\n" + tag.encode() + b" OK done\r\n")
    elif cmd.startswith("UID FETCH"):
        if scenario == "garbage":
            send(b"* 1 FETCH (UID 7 BODY[] ))((\x01\r\n" + tag.encode() + b" OK done\r\n")
        elif scenario == "liar":
            body = b"Subject: x\r\n\r\n" + b"y" * (5 << 20)
            send(b"* 1 FETCH (UID 7 BODY[] {%d}\r\n" % len(body) + body + b")\r\n" +
                 tag.encode() + b" OK done\r\n")
        else:
            send(b"* 1 FETCH (UID 7 BODY[] {2147483648}\r\n")
            chunk = b"z" * (1 << 20)
            for _ in range(40):
                send(chunk)
            rf.readline()  # wait for the client to hang up
            break
    elif cmd.startswith("LOGOUT"):
        send(b"* BYE\r\n" + tag.encode() + b" OK bye\r\n")
        break
    else:
        send(tag.encode() + b" BAD unknown\r\n")
conn.close()
