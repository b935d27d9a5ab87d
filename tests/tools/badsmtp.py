#!/usr/bin/env python3
"""badsmtp.py - a small, deliberately misbehaving SMTP server for tests of retries.

usage: badsmtp.py --record DIR [--host 127.0.0.1] [--port N] [--port-file FILE] [FAULTS]

  --port 0 (the default) takes a free port; --port-file FILE receives the port number once
  the server listens (written atomically), so a test can wait for the file.

Faults.  Transactions are numbered from 1 across all connections; one starts at each accepted
MAIL FROM.  "The first K" means transactions (or connections) 1..K; later ones behave.
  --greet-421 K      the first K connections get "421 4.3.2" as greeting and are closed
  --rcpt-451 K       the first K transactions get "451 4.3.0" at every RCPT
  --data-451 K       the first K transactions get "451 4.3.0" in answer to DATA
  --eom-451 K        the first K transactions get "451 4.3.0" after the final dot (the message
                     is read and dropped)
  --drop-data K      the first K transactions: the connection is closed in the middle of the
                     message, with no answer
  --reject ADDR      "550 5.1.1" at RCPT for ADDR (case-insensitive; may be repeated)
  --delay SEC        wait SEC seconds before every answer (a slow server)
  --greet-delay SEC  wait SEC seconds before the greeting only
  --max-size BYTES   answer "552 5.3.4" to larger messages (default 10 MB)
  --no-pipelining    do not announce PIPELINING (RFC 2920; announced by default, as Postfix
                     does); a client that sends a command before the answer to the previous
                     one is logged ("improper pipelining after MAIL") and answered as usual
  --split-replies    write every answer in odd pieces (1 to 8 bytes, 2 ms apart; a multi-line
                     answer in one such stream), so that lines arrive cut anywhere

Records, in DIR:
  msg-NNNN.eml    every accepted message, as received (dot-unstuffed, CRLF)
  msg-NNNN.json   its envelope: {"mail_from", "rcpt_to": [...], "transaction", "connection",
                  "size"}
  events.log      one line per connection, command and answer: "C3 < MAIL FROM:<a@b>",
                  "C3 > 250 2.1.0 Ok", "C3 open", "C3 closed"; tests count retries with it
Counting deliveries: ls DIR/msg-*.eml | wc -l.

Stops on SIGTERM or SIGINT.  Python 3 standard library only.

Example: the first two transactions get 451 at RCPT, bob is unknown, answers take 0.2 s:
  badsmtp.py --record /tmp/rec --port-file /tmp/port --rcpt-451 2 --reject bob@example.test \
      --delay 0.2
"""
import argparse
import asyncio
import json
import os
import signal
import sys

MAX_LINE = 64 * 1024


class State:
    def __init__(self, args):
        self.args = args
        self.connections = 0
        self.transactions = 0
        self.messages = 0
        self.reject = {a.lower() for a in args.reject}
        self.events = open(os.path.join(args.record, "events.log"), "a", buffering=1)

    def event(self, conn, text):
        self.events.write("C%d %s\n" % (conn, text))


class Session:
    def __init__(self, state, reader, writer):
        self.st = state
        self.r = reader
        self.w = writer
        state.connections += 1
        self.conn = state.connections
        self.pending = b""
        self.reset()

    def reset(self):
        self.mail_from = None
        self.rcpts = []
        self.txn = 0

    async def reply(self, text):
        if self.st.args.delay > 0:
            await asyncio.sleep(self.st.args.delay)
        self.st.event(self.conn, "> " + text)
        data, self.pending = self.pending + text.encode() + b"\r\n", b""
        if not self.st.args.split_replies:
            self.w.write(data)
            await self.w.drain()
            return
        i, k = 0, 1
        while i < len(data):
            self.w.write(data[i:i + k])
            await self.w.drain()
            await asyncio.sleep(0.002)
            i, k = i + k, k % 8 + 1

    async def readline(self):
        try:
            line = await self.r.readuntil(b"\n")
        except asyncio.IncompleteReadError:
            return None
        except asyncio.LimitOverrunError:
            await self.reply("500 5.5.2 line too long")
            return None
        return line

    def faulty(self, k):
        return self.txn and self.txn <= k

    async def run(self):
        a = self.st.args
        self.st.event(self.conn, "open")
        if a.greet_delay > 0:
            await asyncio.sleep(a.greet_delay)
        if self.conn <= a.greet_421:
            await self.reply("421 4.3.2 badsmtp: try again later")
            return
        await self.reply("220 badsmtp ESMTP ready")
        while True:
            line = await self.readline()
            if line is None:
                return
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            self.st.event(self.conn, "< " + text)
            verb = text.split(" ", 1)[0].upper()
            behind = len(self.r._buffer)  # what the client sent after this command
            if behind:
                self.st.event(self.conn, "pipelined: %d bytes after %s" % (behind, verb))
                if self.st.args.no_pipelining:
                    self.st.event(self.conn, "improper pipelining after %s" % verb)
            if not await self.command(verb, text):
                return

    async def command(self, verb, text):
        """Answers one command; False ends the session."""
        a = self.st.args
        if verb == "EHLO":
            self.reset()
            for l in ("250-badsmtp", "250-8BITMIME", "250-SMTPUTF8", "250-ENHANCEDSTATUSCODES"):
                self.raw(l)
            if not a.no_pipelining:
                self.raw("250-PIPELINING")
            await self.reply("250 SIZE %d" % a.max_size)
        elif verb == "HELO":
            self.reset()
            await self.reply("250 badsmtp")
        elif verb == "MAIL":
            if self.mail_from is not None:
                await self.reply("503 5.5.1 nested MAIL")
                return True
            self.mail_from = addr_of(text[4:])
            self.st.transactions += 1
            self.txn = self.st.transactions
            self.st.event(self.conn, "transaction %d" % self.txn)
            await self.reply("250 2.1.0 Ok")
        elif verb == "RCPT":
            if self.mail_from is None:
                await self.reply("503 5.5.1 need MAIL first")
            elif self.faulty(a.rcpt_451):
                await self.reply("451 4.3.0 badsmtp: temporary failure at RCPT")
            else:
                rcpt = addr_of(text[4:])
                if rcpt.lower() in self.st.reject:
                    await self.reply("550 5.1.1 <%s>: no such user" % rcpt)
                else:
                    self.rcpts.append(rcpt)
                    await self.reply("250 2.1.5 Ok")
        elif verb == "DATA":
            return await self.data()
        elif verb == "RSET":
            self.reset()
            await self.reply("250 2.0.0 Ok")
        elif verb == "NOOP":
            await self.reply("250 2.0.0 Ok")
        elif verb == "QUIT":
            await self.reply("221 2.0.0 Bye")
            return False
        else:
            await self.reply("502 5.5.2 command not implemented")
        return True

    def raw(self, text):
        """A continuation line of a multi-line answer (the last one goes through reply)."""
        self.st.event(self.conn, "> " + text)
        self.pending += text.encode() + b"\r\n"

    async def data(self):
        a = self.st.args
        if not self.rcpts:
            await self.reply("554 5.5.1 no valid recipients")
            return True
        if self.faulty(a.data_451):
            await self.reply("451 4.3.0 badsmtp: temporary failure at DATA")
            self.reset()
            return True
        await self.reply("354 End data with <CR><LF>.<CR><LF>")
        chunks, size, lines = [], 0, 0
        while True:
            line = await self.readline()
            if line is None:
                self.st.event(self.conn, "connection lost in DATA")
                return False
            if line in (b".\r\n", b".\n"):
                break
            lines += 1
            if self.faulty(a.drop_data) and lines >= 2:
                self.st.event(self.conn, "dropping the connection in DATA")
                return False
            if line.startswith(b"."):
                line = line[1:]
            if not line.endswith(b"\r\n"):
                line = line.rstrip(b"\n") + b"\r\n"
            size += len(line)
            if size <= a.max_size:
                chunks.append(line)
        if self.faulty(a.drop_data):   # the message had fewer than two lines
            self.st.event(self.conn, "dropping the connection in DATA")
            return False
        if size > a.max_size:
            await self.reply("552 5.3.4 message too big")
        elif self.faulty(a.eom_451):
            await self.reply("451 4.3.0 badsmtp: temporary failure after DATA")
        else:
            self.save(b"".join(chunks))
            await self.reply("250 2.0.0 Ok: queued as %04d" % self.st.messages)
        self.reset()
        return True

    def save(self, data):
        st = self.st
        st.messages += 1
        base = os.path.join(st.args.record, "msg-%04d" % st.messages)
        env = {"mail_from": self.mail_from, "rcpt_to": self.rcpts, "transaction": self.txn,
               "connection": self.conn, "size": len(data)}
        with open(base + ".json.tmp", "w") as f:
            json.dump(env, f)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(data)
        # the .eml appears last, complete: a test counting files never sees half a message
        os.rename(base + ".json.tmp", base + ".json")
        os.rename(base + ".eml.tmp", base + ".eml")
        st.event(self.conn, "saved msg-%04d from <%s> to %s" % (st.messages, self.mail_from,
                                                             ",".join(self.rcpts)))


def addr_of(arg):
    """The address inside <...> of a MAIL FROM:/RCPT TO: argument, without parameters."""
    arg = arg.strip()
    if arg[:5].upper() == "FROM:":
        arg = arg[5:]
    elif arg[:3].upper() == "TO:":
        arg = arg[3:]
    arg = arg.strip()
    if arg.startswith("<") and ">" in arg:
        return arg[1:arg.index(">")]
    return arg.split(" ", 1)[0]


async def main(args):
    st = State(args)

    async def handle(reader, writer):
        s = Session(st, reader, writer)
        try:
            await s.run()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            st.event(s.conn, "closed")
            writer.close()

    server = await asyncio.start_server(handle, args.host, args.port, limit=MAX_LINE)
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(args.port_file + ".tmp", args.port_file)
    print("badsmtp: listening on %s:%d, recording into %s" % (args.host, port, args.record),
          flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def parse_args(argv):
    p = argparse.ArgumentParser(description="A misbehaving SMTP server for tests.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--record", required=True, help="directory for messages and events.log")
    p.add_argument("--greet-421", type=int, default=0, metavar="K")
    p.add_argument("--rcpt-451", type=int, default=0, metavar="K")
    p.add_argument("--data-451", type=int, default=0, metavar="K")
    p.add_argument("--eom-451", type=int, default=0, metavar="K")
    p.add_argument("--drop-data", type=int, default=0, metavar="K")
    p.add_argument("--reject", action="append", default=[], metavar="ADDR")
    p.add_argument("--delay", type=float, default=0.0, metavar="SEC")
    p.add_argument("--greet-delay", type=float, default=0.0, metavar="SEC")
    p.add_argument("--max-size", type=int, default=10 * 1024 * 1024, metavar="BYTES")
    p.add_argument("--no-pipelining", action="store_true")
    p.add_argument("--split-replies", action="store_true")
    return p.parse_args(argv)


if __name__ == "__main__":
    a = parse_args(sys.argv[1:])
    os.makedirs(a.record, exist_ok=True)
    asyncio.run(main(a))
