#!/usr/bin/env python3
"""gen_maillog.py: writes a synthetic Postfix maillog for ingest benchmarks (mlog reader speed).

usage: gen_maillog.py LINES > FILE
A deterministic mix that resembles a busy MX: smtpd connect/client/disconnect, cleanup, qmgr,
delivery, postscreen CONNECT/PASS/DISCONNECT, DNSBL rejects (smtpd and postscreen, IPv4 and
IPv6, about 8% of lines), other rejects (user unknown, RHSBL, greylisting, about 3%). The clock
starts on Dec 30 and runs about 0.09 s per line, so a long file crosses the new year.
"""
import random
import sys

MON = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def stamp(t):
    """RFC 3164 stamp for t seconds after Dec 30 00:00 of a non-leap year."""
    day = 363 + int(t // 86400)
    day %= 365
    m = 0
    while day >= DAYS[m]:
        day -= DAYS[m]
        m += 1
    s = int(t % 86400)
    return "%s %2d %02d:%02d:%02d" % (MON[m], day + 1, s // 3600, s // 60 % 60, s % 60)


def main():
    n = int(sys.argv[1])
    rnd = random.Random(42)
    out = sys.stdout
    t = 0.0
    written = 0
    buf = []

    def emit(prog, pid, msg):
        nonlocal written
        buf.append("%s mx1 %s[%d]: %s\n" % (stamp(t), prog, pid, msg))
        written += 1

    while written < n:
        t += rnd.random() * 0.9
        pid = rnd.randint(1000, 65000)
        qid = "%010X" % rnd.getrandbits(40)
        if rnd.random() < 0.3:
            ip = "2001:db8:%x:%x::%x" % (rnd.getrandbits(16), rnd.getrandbits(16), rnd.getrandbits(16))
        else:
            ip = "%d.%d.%d.%d" % (rnd.randint(1, 223), rnd.randint(0, 255), rnd.randint(0, 255), rnd.randint(1, 254))
        name = rnd.choice(["unknown", "mail%d.example.net" % rnd.randint(1, 999), "host-%d.dyn.example.org" % rnd.randint(1, 99999)])
        port = rnd.randint(1024, 65535)
        r = rnd.random()
        if r < 0.15:
            emit("postfix/postscreen", 318, "CONNECT from [%s]:%d to [198.51.100.25]:25" % (ip, port))
            if rnd.random() < 0.4:
                emit("postfix/dnsblog", 319, "addr %s listed by domain zen.spamhaus.org as 127.0.0.%d" % (ip, rnd.choice([2, 3, 4, 10, 11])))
                emit("postfix/postscreen", 318, "DNSBL rank 3 for [%s]:%d" % (ip, port))
                emit("postfix/postscreen", 318, "NOQUEUE: reject: RCPT from [%s]:%d: 550 5.7.1 Service unavailable; client [%s] blocked using zen.spamhaus.org; from=<x%d@example.com>, to=<user@example.org>, proto=ESMTP, helo=<%s>" % (ip, port, ip, rnd.randint(1, 9999), name))
            else:
                emit("postfix/postscreen", 318, "PASS %s [%s]:%d" % (rnd.choice(["NEW", "OLD"]), ip, port))
            emit("postfix/postscreen", 318, "DISCONNECT [%s]:%d" % (ip, port))
            continue
        emit("postfix/smtpd", pid, "connect from %s[%s]" % (name, ip))
        if r < 0.35:
            emit("postfix/smtpd", pid, "NOQUEUE: reject: RCPT from %s[%s]: 554 5.7.1 Service unavailable; Client host [%s] blocked using %s; https://www.spamhaus.org/query/ip/%s; from=<bounce%d@example.com> to=<user@example.org> proto=ESMTP helo=<%s>" % (name, ip, ip, rnd.choice(["zen.spamhaus.org", "bl.spamcop.net", "b.barracudacentral.org"]), ip, rnd.randint(1, 99999), name))
        elif r < 0.40:
            emit("postfix/smtpd", pid, "NOQUEUE: reject: RCPT from %s[%s]: 550 5.1.1 <nobody%d@example.org>: Recipient address rejected: User unknown in virtual mailbox table; from=<a@example.com> to=<nobody@example.org> proto=ESMTP helo=<%s>" % (name, ip, rnd.randint(1, 999), name))
        elif r < 0.42:
            emit("postfix/smtpd", pid, "NOQUEUE: reject: RCPT from %s[%s]: 554 5.7.1 Service unavailable; Sender address [spam@bad%d.example] blocked using dbl.spamhaus.org; from=<spam@bad.example> to=<user@example.org> proto=ESMTP helo=<%s>" % (name, ip, rnd.randint(1, 99), name))
        elif r < 0.44:
            emit("postfix/smtpd", pid, "NOQUEUE: reject: RCPT from %s[%s]: 450 4.2.0 <user@example.org>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.org.html; from=<a@example.com> to=<user@example.org> proto=ESMTP helo=<%s>" % (name, ip, name))
        else:
            emit("postfix/smtpd", pid, "%s: client=%s[%s]" % (qid, name, ip))
            emit("postfix/cleanup", pid + 1, "%s: message-id=<%x@%s>" % (qid, rnd.getrandbits(48), name))
            emit("postfix/qmgr", 300, "%s: from=<sender%d@example.com>, size=%d, nrcpt=1 (queue active)" % (qid, rnd.randint(1, 9999), rnd.randint(900, 90000)))
            emit("postfix/lmtp", pid + 2, "%s: to=<user@example.org>, relay=127.0.0.1[127.0.0.1]:24, delay=0.%d, delays=0.1/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 <user@example.org> Ok)" % (qid, rnd.randint(1, 99)))
            emit("postfix/qmgr", 300, "%s: removed" % qid)
        emit("postfix/smtpd", pid, "disconnect from %s[%s] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4" % (name, ip))
        if len(buf) > 10000:
            out.write("".join(buf))
            buf.clear()
    out.write("".join(buf[: len(buf) - (written - n)]))


if __name__ == "__main__":
    main()
