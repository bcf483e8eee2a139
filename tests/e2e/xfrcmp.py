#!/usr/bin/env python3
"""xfrcmp.py: compares the answers of two DNS servers for a sample of names (python3 stdlib only).

Used by t_xfr.sh to check that a secondary (NSD, Knot, BIND) that transferred the zone from v6repd
answers like v6repd. The names come from the store's entries (`v6rep list` text on stdin): full
names inside and next to each entry, partial names at and around each entry's node, IPv4 names,
random names, the RFC 5782 test points. Each name is asked for A and TXT over UDP, pipelined
(bounded window, bounded retries, a deadline), and the rcode and the A and TXT values must agree.
One difference is accepted, and counted, as DESIGN.md allows: where v6repd says NXDOMAIN a
secondary may say NODATA (NOERROR, no A/TXT), since a hole in a listing is a name there; both mean
"not listed", and NODATA never hides a listing below the name (RFC 8020).

  xfrcmp.py --zone Z --ref HOST:PORT --sec HOST:PORT [--count N] [--seed S] < list.txt

Prints one line: compared=N agree=N accepted_nodata=N differ=N, then up to 20 differences, and
exits 0 only when differ == 0 and compared >= --count. Only 127.0.0.1 and ::1 are contacted.
"""
import argparse
import ipaddress
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsraw  # noqa: E402  (shared helpers: wire_name, skip_name, check_host)

V4MAPPED = ipaddress.ip_network("::ffff:0:0/96")


def parse_answer(msg):
    """rcode and the sorted A and TXT values of the answer section."""
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    off = 12
    for _ in range(qd):
        off = dnsraw.skip_name(msg, off) + 4
    a, txt = [], []
    for _ in range(min(an, 100)):
        off = dnsraw.skip_name(msg, off)
        t, c, ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        rd = msg[off + 10:off + 10 + rdlen]
        if t == 1 and rdlen == 4:
            a.append(socket.inet_ntoa(rd))
        elif t == 16:
            parts, i = [], 0
            while i < len(rd):
                n = rd[i]
                parts.append(rd[i + 1:i + 1 + n])
                i += 1 + n
            txt.append(b"".join(parts).decode("latin-1"))
        off += 10 + rdlen
    return qid, flags & 0xF, tuple(sorted(a)), tuple(sorted(txt))


def ask_all(host, port, queries, window=128, timeout=1.5, tries=6, deadline=120.0):
    """Sends every (name, qtype) query over UDP, pipelined; returns {index: (rcode, a, txt)}."""
    fam = dnsraw.check_host(host)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setblocking(False)
    results, pending, sent_at, attempts = {}, {}, {}, {}
    todo = list(range(len(queries)))
    next_id = 1
    end = time.monotonic() + deadline
    while (todo or pending) and time.monotonic() < end:
        while todo and len(pending) < window:
            i = todo.pop()
            qid = next_id
            next_id = next_id % 65535 + 1
            name, qtype = queries[i]
            s.sendto(dnsraw.build_query(name, qtype, qid=qid), (host, port))
            pending[qid] = i
            sent_at[qid] = time.monotonic()
            attempts[i] = attempts.get(i, 0) + 1
        try:
            msg = s.recv(65535)
            qid, rcode, a, txt = parse_answer(msg)
            i = pending.pop(qid, None)
            if i is not None:
                results[i] = (rcode, a, txt)
                sent_at.pop(qid, None)
        except BlockingIOError:
            time.sleep(0.0005)
        except (ValueError, struct.error, IndexError):
            pass
        now = time.monotonic()
        for qid in [q for q, t in sent_at.items() if now - t > timeout]:
            i = pending.pop(qid)
            sent_at.pop(qid)
            if attempts[i] < tries:
                todo.append(i)
    s.close()
    return results


def nibble_name(addr_int, nibbles, zone):
    hexs = "%032x" % addr_int
    return ".".join(reversed(hexs[:nibbles])) + "." + zone


def v4_name(addr_int, octets, zone):
    b = addr_int.to_bytes(4, "big")
    return ".".join(str(x) for x in reversed(b[:octets])) + "." + zone


def read_entries(lines):
    out = []
    for line in lines:
        f = line.split()
        if not f or f[0].startswith("#"):
            continue
        excl = f[0].startswith("!")
        try:
            net = ipaddress.ip_network(f[0].lstrip("!"), strict=False)
        except ValueError:
            continue
        out.append((net, excl))
    return out


def names_for(net, rng, zone):
    """Names in and around one entry."""
    names = []
    if net.version == 4:
        base, plen = int(net.network_address), net.prefixlen
        for _ in range(3):
            a = base | rng.getrandbits(32 - plen) if plen < 32 else base
            names.append(v4_name(a, 4, zone))
        names.append(v4_name(base ^ (1 << (32 - plen)) if plen > 0 else base, 4, zone))
        for octets in {max(1, plen // 8), min(4, (plen + 7) // 8), rng.randint(1, 3)}:
            names.append(v4_name(base, octets, zone))
        return names
    base, plen = int(net.network_address), net.prefixlen
    inside = lambda: base | (rng.getrandbits(128 - plen) if plen < 128 else 0)  # noqa: E731
    for _ in range(3):
        names.append(nibble_name(inside(), 32, zone))
    if plen > 0:
        names.append(nibble_name(base ^ (1 << (128 - plen)), 32, zone))   # the sibling
    depths = {max(1, plen // 4), min(32, (plen + 3) // 4), rng.randint(1, 31),
              min(32, plen // 4 + 1 + rng.randint(0, 3))}
    for d in depths:
        names.append(nibble_name(inside(), d, zone))
    if net.subnet_of(V4MAPPED):
        names.append(v4_name(base & 0xFFFFFFFF, 4, zone))
    return names


def build_names(entries, count, rng, zone):
    names = [nibble_name(int(ipaddress.ip_address("::ffff:127.0.0.2")), 32, zone),
             nibble_name(int(ipaddress.ip_address("::ffff:127.0.0.1")), 32, zone),
             "2.0.0.127." + zone, "1.0.0.127." + zone, zone]
    rng.shuffle(entries)
    for net, _ in entries:
        if len(names) >= count * 0.8:
            break
        names.extend(names_for(net, rng, zone))
    while len(names) < count:
        r = rng.random()
        if r < 0.5:
            names.append(nibble_name((0x2 << 124) | rng.getrandbits(125), rng.choice([32, 32, 16, 12, 8]), zone))
        elif r < 0.7:
            names.append(v4_name(rng.getrandbits(32), rng.choice([4, 4, 3, 2]), zone))
        elif entries:
            names.extend(names_for(rng.choice(entries)[0], rng, zone))
    return names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zone", required=True)
    ap.add_argument("--ref", required=True)
    ap.add_argument("--sec", required=True)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    zone = a.zone.rstrip(".")
    rng = random.Random(a.seed)
    names = build_names(read_entries(sys.stdin), a.count, rng, zone)
    queries = [(n, t) for n in names for t in ("A", "TXT")]
    hosts = []
    for hp in (a.ref, a.sec):
        h, p = hp.rsplit(":", 1)
        hosts.append((h.strip("[]"), int(p)))
    ref = ask_all(hosts[0][0], hosts[0][1], queries)
    sec = ask_all(hosts[1][0], hosts[1][1], queries)
    agree = accepted = differ = 0
    missing = 0
    shown = []
    for i, (name, qt) in enumerate(queries):
        if i not in ref or i not in sec:
            missing += 1
            continue
        r, s = ref[i], sec[i]
        if r == s:
            agree += 1
        elif r[0] == 3 and s[0] == 0 and not s[1] and not s[2]:
            accepted += 1
        else:
            differ += 1
            if len(shown) < 20:
                shown.append("%s %s: v6repd rcode=%d A=%s TXT=%s; secondary rcode=%d A=%s TXT=%s"
                             % (name, qt, r[0], list(r[1]), list(r[2])[:1], s[0], list(s[1]),
                                list(s[2])[:1]))
    compared = agree + accepted + differ
    print("names=%d compared=%d agree=%d accepted_nodata=%d differ=%d unanswered=%d"
          % (len(names), compared, agree, accepted, differ, missing))
    for line in shown:
        print("  differ: " + line)
    sys.exit(0 if differ == 0 and missing == 0 and len(names) >= a.count else 1)


if __name__ == "__main__":
    main()
