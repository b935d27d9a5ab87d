#!/usr/bin/env python3
"""seed.py - fills a Maildir with N varied replies to a running programme, written straight
into new/ (as an MDA would; delivering 10,000 messages over LMTP takes minutes).

    seed.py --maildir DIR --db THINGS.DB --count N [--owner UID:GID] [--seed S]

The mix (by weight) is what a programme's inbox gets: replies to Thing 1 with a link
(plain, quoted, HTML, multipart/alternative), +done-1 messages, questions to +help,
out-of-office replies (some to the VERP address), DSN bounces, newsletters, strangers,
subscriptions, unsubscriptions with the token, and messages with attachments.  Participants,
their tokens and the Message-IDs of the Things they were sent come from the store, so that
replies thread the way real ones do.  Deterministic for a given seed.
"""
import argparse
import base64
import os
import random
import sqlite3
import time

DOMAIN = "example.test"

WORDS = ("the library feed blog post tried tool found useful search colleagues patients "
         "evidence reading week learned today easy hard video podcast wiki map image notes "
         "students team again really think would could maybe next").split()


def words(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def para(rng, lines):
    return "\n".join(words(rng, rng.randint(6, 12)) for _ in range(lines))


def header(frm, to, subject, msgid, extra=()):
    h = ["Return-Path: <%s>" % (frm if frm else ""),
         "Delivered-To: %s" % to,
         "From: %s" % frm,
         "To: %s" % to,
         "Subject: %s" % subject,
         "Date: Mon, 11 Jan 2027 09:%02d:00 +0000" % (len(msgid) % 60),
         "Message-ID: <%s>" % msgid,
         "MIME-Version: 1.0"]
    h.extend(extra)
    return h


def plain(h, body):
    return "\r\n".join(h + ["Content-Type: text/plain; charset=utf-8",
                            "Content-Transfer-Encoding: 8bit", "", body.replace("\n", "\r\n")])


def reply_to_thing(rng, i, p, thing_id):
    link = "https://%s.blog.example/2027/thing-1-%d" % (p["local"], i)
    quote = "\n".join("> " + l for l in para(rng, rng.randint(3, 30)).split("\n"))
    body = "Hi,\n\nHere is my post: %s\n\n%s\n\nOn Mon, 11 Jan 2027, Things wrote:\n%s\n" % (
        link, para(rng, rng.randint(1, 6)), quote)
    h = header(p["address"], "things@" + DOMAIN, "Re: Thing 1: Blogging", "r%d@%s" % (i, DOMAIN),
               ["In-Reply-To: <%s>" % thing_id, "References: <%s>" % thing_id])
    kind = rng.random()
    if kind < 0.6:
        return plain(h, body)
    html = "<html><body><p>Hi,</p><p>Here is my post: <a href=\"%s\">%s</a></p><p>%s</p>" \
        "<blockquote>%s</blockquote></body></html>" % (link, link, para(rng, 3), para(rng, 10))
    if kind < 0.8:
        return "\r\n".join(h + ["Content-Type: text/html; charset=utf-8", "", html])
    b = "b%d" % i
    return "\r\n".join(h + ['Content-Type: multipart/alternative; boundary="%s"' % b, "",
                            "--" + b, "Content-Type: text/plain; charset=utf-8", "",
                            body.replace("\n", "\r\n"), "--" + b,
                            "Content-Type: text/html; charset=utf-8",
                            "Content-Transfer-Encoding: quoted-printable", "",
                            html.replace("=", "=3D"), "--" + b + "--", ""])


def done(rng, i, p):
    return plain(header(p["address"], "things+done-1@" + DOMAIN, "done",
                        "d%d@%s" % (i, DOMAIN)),
                 "https://%s.blog.example/thing1-%d\n\n%s\n" % (p["local"], i, para(rng, 2)))


def help_msg(rng, i, p):
    return plain(header(p["address"], "things+help@" + DOMAIN, "Question about Thing 1",
                        "h%d@%s" % (i, DOMAIN)),
                 "Hello,\n\n%s?\n\nThanks\n" % words(rng, 12))


def ooo(rng, i, p):
    to = "things+bounce-%s@%s" % (p["token"], DOMAIN) if rng.random() < 0.3 else "things@" + DOMAIN
    return plain(header(p["address"], to, "Out of office: Thing 1", "o%d@%s" % (i, DOMAIN),
                        ["Auto-Submitted: auto-replied", "X-Autoreply: yes"]),
                 "I am out of the office until %d February.\n" % rng.randint(1, 28))


def dsn(rng, i, p):
    b = "dsn%d" % i
    return "\r\n".join(header("MAILER-DAEMON@mx.%s" % DOMAIN,
                              "things+bounce-%s@%s" % (p["token"], DOMAIN),
                              "Undelivered Mail Returned to Sender", "b%d@%s" % (i, DOMAIN),
                              ["Auto-Submitted: auto-replied",
                               'Content-Type: multipart/report; report-type=delivery-status; '
                               'boundary="%s"' % b]) +
                       ["", "--" + b, "Content-Type: text/plain", "",
                        "Your message could not be delivered.", "--" + b,
                        "Content-Type: message/delivery-status", "",
                        "Reporting-MTA: dns; mx.%s" % DOMAIN, "",
                        "Final-Recipient: rfc822; %s" % p["address"], "Action: failed",
                        "Status: 5.1.1", "", "--" + b + "--", ""])


def newsletter(rng, i, p):
    return plain(header("news@library-news.example", "things@" + DOMAIN, "Library news %d" % i,
                        "n%d@library-news.example" % i,
                        ["List-Id: <news.library-news.example>", "Precedence: bulk",
                         "List-Unsubscribe: <mailto:leave@library-news.example>"]),
                 para(rng, 40))


def stranger(rng, i, p):
    return plain(header("someone%d@elsewhere.example" % i, "things@" + DOMAIN, words(rng, 4),
                        "s%d@elsewhere.example" % i), para(rng, rng.randint(2, 15)))


def subscribe(rng, i, p):
    return plain(header("new%d@elsewhere.example" % i, "things+subscribe@" + DOMAIN, "subscribe",
                        "sub%d@elsewhere.example" % i), "Please sign me up.\n")


def unsubscribe(rng, i, p):
    return plain(header(p["address"], "things+unsubscribe-%s@%s" % (p["token"], DOMAIN),
                        "Unsubscribe", "u%d@%s" % (i, DOMAIN)),
                 "This message was automatically generated by the mail client.\n")


def attachment(rng, i, p):
    b = "att%d" % i
    data = base64.encodebytes(os.urandom(rng.randint(20000, 60000))).decode().replace("\n", "\r\n")
    return "\r\n".join(header(p["address"], "things@" + DOMAIN, "Re: Thing 1: my screenshot",
                              "a%d@%s" % (i, DOMAIN),
                              ['Content-Type: multipart/mixed; boundary="%s"' % b]) +
                       ["", "--" + b, "Content-Type: text/plain; charset=utf-8", "",
                        "Screenshot attached, post at https://%s.blog.example/shot-%d" %
                        (p["local"], i), "--" + b,
                        'Content-Type: image/png; name="shot.png"',
                        "Content-Transfer-Encoding: base64",
                        'Content-Disposition: attachment; filename="shot.png"', "", data,
                        "--" + b + "--", ""])


MIX = ((reply_to_thing, 35), (done, 8), (help_msg, 10), (ooo, 8), (dsn, 5), (newsletter, 5),
       (stranger, 10), (subscribe, 7), (unsubscribe, 2), (attachment, 10))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--owner", default=None)
    ap.add_argument("--seed", type=int, default=4)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    db = sqlite3.connect(a.db)
    people = []
    for addr, token, msgid in db.execute(
            "SELECT p.address, p.token, d.message_id FROM participants p JOIN deliveries d"
            " ON d.participant_id = p.id AND d.kind = 'thing' AND d.key = '1'"):
        people.append({"address": addr, "token": token, "local": addr.split("@")[0],
                       "thing": msgid})
    if not people:
        raise SystemExit("seed.py: no participant has been sent Thing 1")
    makers = [m for m, w in MIX for _ in range(w)]
    uid = gid = None
    if a.owner:
        uid, gid = (int(x) for x in a.owner.split(":"))
    new = os.path.join(a.maildir, "new")
    total = 0
    t0 = int(time.time())
    for i in range(a.count):
        p = rng.choice(people)
        maker = rng.choice(makers)
        msg = (maker(rng, i, p) if maker is not reply_to_thing
               else reply_to_thing(rng, i, p, p["thing"])).encode("utf-8")
        path = os.path.join(new, "%d.M%06dP1.bench" % (t0, i))
        with open(path, "wb") as f:
            f.write(msg)
        if uid is not None:
            os.chown(path, uid, gid)
        total += len(msg)
    print("seed: %d messages, %.1f MB, %d participants" % (a.count, total / 1e6, len(people)))


if __name__ == "__main__":
    main()
