#!/usr/bin/env python3
"""dnsq.py: a minimal UDP DNS client for the benchmark (answer checks, start-up and update polls).

    dnsq.py --port P NAME [TYPE]           prints rcode and answers (like a tiny dig)
    dnsq.py --port P --check EXPECT.TSV    checks every line of gen_sets.py's expect.tsv

Python 3 standard library only; one socket, bounded waits everywhere.
"""

import argparse
import os
import socket
import struct
import sys
import time

TYPES = {"A": 1, "NS": 2, "SOA": 6, "TXT": 16, "AAAA": 28, "ANY": 255}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def encode_name(name):
    out = bytearray()
    for lab in name.rstrip(".").split("."):
        if lab:
            b = lab.encode("ascii")
            out.append(len(b))
            out += b
    out.append(0)
    return bytes(out)


def build_query(name, qtype, qid):
    return struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0) + encode_name(name) + \
        struct.pack("!HH", TYPES[qtype], 1)


def skip_name(buf, off):
    while True:
        n = buf[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n


def parse_response(buf):
    """Returns (id, rcode, aa, answers) with answers a list of (type, value): A as dotted
    quad, TXT as the joined strings, other types as raw bytes. Raises ValueError when short."""
    if len(buf) < 12:
        raise ValueError("short response")
    qid, flags, qd, an, _ns, _ar = struct.unpack("!HHHHHH", buf[:12])
    off = 12
    for _ in range(qd):
        off = skip_name(buf, off) + 4
    answers = []
    for _ in range(an):
        off = skip_name(buf, off)
        rtype, _cls, _ttl, rdlen = struct.unpack("!HHIH", buf[off:off + 10])
        off += 10
        rd = buf[off:off + rdlen]
        off += rdlen
        if rtype == 1 and rdlen == 4:
            answers.append(("A", "%d.%d.%d.%d" % tuple(rd)))
        elif rtype == 16:
            s, i = [], 0
            while i < len(rd):
                n = rd[i]
                s.append(rd[i + 1:i + 1 + n].decode("utf-8", "replace"))
                i += 1 + n
            answers.append(("TXT", "".join(s)))
        else:
            answers.append((rtype, bytes(rd)))
    return qid, flags & 0xF, bool(flags & 0x0400), answers


class Client:
    """One UDP socket to host:port; query() sends one question and waits for its answer."""

    def __init__(self, port, host="127.0.0.1"):
        self.addr = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.qid = int.from_bytes(os.urandom(2), "big")

    def close(self):
        self.sock.close()

    def query(self, name, qtype="A", timeout=1.0):
        """Returns (rcode, aa, answers) or None on timeout."""
        self.qid = (self.qid + 1) & 0xFFFF
        self.sock.sendto(build_query(name, qtype, self.qid), self.addr)
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                buf, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                return None
            except ConnectionRefusedError:
                # ICMP port unreachable from an earlier send: nobody listening yet.
                return None
            try:
                qid, rcode, aa, ans = parse_response(buf)
            except (ValueError, IndexError, struct.error):
                continue
            if qid == self.qid:
                return rcode, aa, ans


def a_of(res):
    """The A record values of a query result (empty when none or no answer)."""
    if res is None:
        return []
    return [v for t, v in res[2] if t == "A"]


def check_line(cl, name, qtype, verdict, code, timeout=2.0):
    """Checks one expect.tsv line; returns None when right, else a text saying what was wrong."""
    res = cl.query(name, qtype, timeout)
    if res is None:
        return "no answer"
    rcode, _aa, ans = res
    types = [t for t, _ in ans]
    if verdict == "listed":
        if rcode != 0:
            return "rcode %s, want NOERROR" % RCODES.get(rcode, rcode)
        if qtype == "A" and [v for t, v in ans if t == "A"] != [code]:
            return "A %s, want %s" % ([v for t, v in ans if t == "A"], code)
        if qtype == "TXT" and "TXT" not in types:
            return "no TXT record"
        return None
    if verdict == "unlisted":
        # NXDOMAIN, or NODATA where a secondary keeps an excluded /128 as a name (DESIGN.md).
        if rcode not in (0, 3):
            return "rcode %s" % RCODES.get(rcode, rcode)
        if "A" in types:
            return "listed (A %s), want not listed" % a_of(res)
        return None
    if verdict == "apex":
        if rcode != 0 or not ans:
            return "apex %s: rcode %s, %d answers" % (qtype, RCODES.get(rcode, rcode), len(ans))
        return None
    return "unknown verdict %s" % verdict


def check_file(port, path, limit=0):
    """Checks expect.tsv against the server on port. Returns (checked, [failures])."""
    cl = Client(port)
    fails = []
    n = 0
    try:
        with open(path) as f:
            for line in f:
                name, qtype, verdict, code, cat = line.rstrip("\n").split("\t")
                why = check_line(cl, name, qtype, verdict, code)
                n += 1
                if why:
                    fails.append("%s %s (%s): %s" % (name, qtype, cat, why))
                if limit and n >= limit:
                    break
    finally:
        cl.close()
    return n, fails


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--check", metavar="EXPECT_TSV")
    ap.add_argument("name", nargs="?")
    ap.add_argument("qtype", nargs="?", default="A")
    a = ap.parse_args()
    if a.check:
        n, fails = check_file(a.port, a.check)
        for x in fails[:50]:
            print("FAIL", x)
        print("%d checked, %d failed" % (n, len(fails)))
        sys.exit(1 if fails else 0)
    cl = Client(a.port)
    res = cl.query(a.name, a.qtype)
    if res is None:
        print("timeout")
        sys.exit(2)
    print(RCODES.get(res[0], res[0]), "aa" if res[1] else "", res[2])


if __name__ == "__main__":
    main()
