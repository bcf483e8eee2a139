#!/usr/bin/env python3
"""gen_sets.py: deterministic listing sets and dnsperf query files for the v6rep benchmark.

Writes into OUTDIR:
  listings.txt   the set in `v6rep import` format (zone/listfile.h): "PREFIX/LEN CODE REASON",
                 "!PREFIX/LEN REASON" for exclusions
  queries.txt    dnsperf input ("name type" per line), shuffled
  expect.tsv     a sample of queries with the verdict a correct server gives:
                 "name<TAB>type<TAB>listed|unlisted|apex<TAB>code-or-dash<TAB>category"
  stats.json     counts per category (entries and queries)

Everything comes from one seeded random generator, so the same arguments give byte-identical
files. Python 3 standard library only.
"""

import argparse
import ipaddress
import json
import os
import random
import sys

FULL = (1 << 128) - 1
V4_BASE = 0xFFFF << 32          # ::ffff:0:0/96
G_BASE = 0x2 << 124             # 2000::/3 global unicast: top three bits 001

REASONS = ["spam source", "snowshoe range", "botnet host", "dictionary attack", "rst probe hit",
           "open proxy", "dynamic pool", "sensor association", "phish relay", "bulk unsolicited"]

# Fractions of the entry count per kind (IPv4 entries are a fixed small number on top).
MIX = [
    ("l48", 0.15),        # /48 listings
    ("l64", 0.35),        # standalone /64 listings
    ("l128", 0.30),       # standalone /128 listings
    ("n64in48", 0.06),    # /64 listing nested in a listed /48
    ("n128in48", 0.05),   # /128 listing nested in a listed /48
    ("n128in64", 0.02),   # /128 listing nested in a listed /64
    ("x128", 0.04),       # /128 exclusion inside a listing
    ("x64in48", 0.015),   # /64 exclusion inside a listed /48
    ("loff", 0.01),       # listings off the nibble boundary (/46 /47 /62 /63 /126)
]


def mask(n):
    """Network mask for an IPv6 prefix length n."""
    return (FULL << (128 - n)) & FULL if n else 0


class Gen:
    def __init__(self, n, seed):
        self.rnd = random.Random(seed)
        self.n = n
        self.keys = {}          # (net, len) -> (kind 'L'|'X', code, reason)
        self.bylen = {}         # len -> {net: (kind, code, reason)}
        self.cat = {}           # category -> list of (net, len)
        self.order = []         # insertion order of (net, len) for the output file

    # ---- helpers ----
    def code(self, avoid=None):
        while True:
            c = self.rnd.randint(2, 11)
            if c != avoid:
                return c

    def reason(self):
        return "%s %d" % (self.rnd.choice(REASONS), self.rnd.randint(1, 99999))

    def add(self, cat, net, ln, kind, code=None, reason=None):
        key = (net, ln)
        if key in self.keys:
            return False
        val = (kind, code, reason)
        self.keys[key] = val
        self.bylen.setdefault(ln, {})[net] = val
        self.cat.setdefault(cat, []).append(key)
        self.order.append(key)
        return True

    def rand_global(self, ln):
        a = G_BASE | self.rnd.getrandbits(125)
        return a & mask(ln)

    def rand_inside(self, net, ln, sub):
        """A random prefix of length sub inside net/ln."""
        return (net | self.rnd.getrandbits(128 - ln)) & mask(sub)

    def lpm(self, a, v4=False):
        """Longest-prefix match over the generated entries: (kind, code, reason, len) or None."""
        for ln in self.lens_desc:
            if v4 and ln < 96:
                break
            hit = self.bylen[ln].get(a & mask(ln))
            if hit is not None:
                return hit + (ln,)
        return None

    # ---- entries ----
    def build(self):
        r = self.rnd
        want = {k: int(self.n * f) for k, f in MIX}
        self.fill("l48", want["l48"], lambda: (self.rand_global(48), 48, None))
        self.fill("l64", want["l64"], lambda: (self.rand_global(64), 64, None))
        self.fill("l128", want["l128"], lambda: (self.rand_global(128), 128, None))
        l48 = self.cat["l48"]
        l64 = self.cat["l64"]

        def nested(parents, ln, sub):
            p = r.choice(parents)
            return (self.rand_inside(p[0], ln, sub), sub, self.keys[p][1])
        self.fill("n64in48", want["n64in48"], lambda: nested(l48, 48, 64))
        self.fill("n128in48", want["n128in48"], lambda: nested(l48, 48, 128))
        self.fill("n128in64", want["n128in64"], lambda: nested(l64, 64, 128))
        # Exclusions: holes inside listings.
        def x128():
            if r.random() < 0.5:
                p = r.choice(l48)
                return (self.rand_inside(p[0], 48, 128), 128, None)
            p = r.choice(l64)
            return (self.rand_inside(p[0], 64, 128), 128, None)
        self.fill("x128", want["x128"], x128, kind="X")
        self.fill("x64in48", want["x64in48"], lambda: nested(l48, 48, 64), kind="X")

        def off():
            ln = r.choice([46, 47, 62, 63, 126])
            return (self.rand_global(ln), ln, None)
        self.fill("loff", want["loff"], off)
        # Off-nibble listings with a nested /48 or /64 of another code inside some of them.
        offs = self.cat["loff"]
        k = max(1, len(offs) // 10)
        for p in offs[:k]:
            sub = 48 if p[1] < 48 else (64 if p[1] < 64 else 128)
            self.add("noffin", self.rand_inside(p[0], p[1], sub), sub, "L",
                     self.code(self.keys[p][1]), self.reason())
        self.build_v4()
        self.lens_desc = sorted(self.bylen, reverse=True)

    def fill(self, cat, count, mk, kind="L"):
        made = 0
        tries = 0
        while made < count and tries < count * 4 + 100:
            tries += 1
            net, ln, parent_code = mk()
            code = None if kind == "X" else self.code(parent_code)
            reason = "customer allow %d" % self.rnd.randint(1, 9999) if kind == "X" \
                else self.reason()
            if self.add(cat, net, ln, kind, code, reason):
                made += 1

    def build_v4(self):
        r = self.rnd
        # RFC 5782 test point, listed in every rendering so all servers agree on it.
        self.add("v4test", V4_BASE | 0x7F000002, 128, "L", 2, "RFC 5782 test point")
        # First octet >= 16 keeps IPv4 labels from reading as nibbles (no name collisions).
        for _ in range(40):
            a = (r.randint(16, 223) << 24) | r.getrandbits(24)
            if (a >> 24) == 127:
                continue
            self.add("v4l24", V4_BASE | (a & 0xFFFFFF00), 120, "L", self.code(), self.reason())
        for _ in range(200):
            a = (r.randint(16, 223) << 24) | r.getrandbits(24)
            if (a >> 24) == 127:
                continue
            self.add("v4l32", V4_BASE | a, 128, "L", self.code(), self.reason())
        # A few holes in the /24s.
        for p in self.cat["v4l24"][:10]:
            self.add("v4x32", p[0] | r.randint(1, 254), 128, "X", None, "customer allow v4")

    # ---- output ----
    def fmt_prefix(self, net, ln):
        if ln >= 96 and (net >> 32) == 0xFFFF:
            return "%s/%d" % (ipaddress.IPv4Address(net & 0xFFFFFFFF), ln - 96)
        return "%s/%d" % (ipaddress.IPv6Address(net), ln)

    def write_listings(self, path):
        with open(path, "w") as f:
            f.write("# v6rep benchmark listing set: %d entries, generated by gen_sets.py\n"
                    % len(self.order))
            for key in self.order:
                kind, code, reason = self.keys[key]
                p = self.fmt_prefix(*key)
                if kind == "X":
                    f.write("!%s %s\n" % (p, reason))
                else:
                    f.write("%s 127.0.0.%d %s\n" % (p, code, reason))


def nibble_name(a, zone):
    h = "%032x" % a
    return ".".join(reversed(h)) + "." + zone


def v4_name(a, zone):
    o = [(a >> s) & 0xFF for s in (24, 16, 8, 0)]
    return "%d.%d.%d.%d.%s" % (o[3], o[2], o[1], o[0], zone)


def make_queries(g, nq, zone):
    """Returns (lines, expect, counts). lines: "name type"; expect: tuples for expect.tsv."""
    r = g.rnd
    listings = [k for k in g.order if g.keys[k][0] == "L" and k[1] <= 128
                and not (k[0] >> 32 == 0xFFFF and k[1] >= 96)]
    v4list = [k for k in g.order if g.keys[k][0] == "L" and (k[0] >> 32) == 0xFFFF]
    holes = [k for k in g.order if g.keys[k][0] == "X" and (k[0] >> 32) != 0xFFFF]
    l64 = g.cat["l64"]
    seen = set()
    out = []
    expect = []
    counts = {}

    def emit(name, qtype, verdict, code, cat):
        if (name, qtype) in seen:
            return False
        seen.add((name, qtype))
        out.append("%s %s" % (name, qtype))
        counts[cat] = counts.get(cat, 0) + 1
        # Keep every 500th query, and the first few of each category, for the answer check.
        if counts[cat] <= 20 or len(out) % 500 == 0:
            expect.append((name, qtype, verdict, code, cat))
        return True

    def listed_one(qtype, cat):
        for _ in range(1000):
            if r.random() < 0.01:
                key = r.choice(v4list)
                a = key[0] | (r.getrandbits(128 - key[1]) if key[1] < 128 else 0)
                hit = g.lpm(a, v4=True)
                if hit and hit[0] == "L" and emit(v4_name(a, zone), qtype, "listed",
                                                  "127.0.0.%d" % hit[1], cat + "-v4"):
                    return True
                continue
            key = r.choice(listings)
            a = key[0] | (r.getrandbits(128 - key[1]) if key[1] < 128 else 0)
            hit = g.lpm(a)
            if hit and hit[0] == "L" and emit(nibble_name(a, zone), qtype, "listed",
                                              "127.0.0.%d" % hit[1], cat):
                return True
        raise SystemExit("gen_sets: cannot find a listed address (set too small?)")

    def unlisted_one():
        for _ in range(1000):
            x = r.random()
            if x < 0.70:
                a, cat = G_BASE | r.getrandbits(125), "unlisted-random"
            elif x < 0.90:
                key = r.choice(holes)
                a, cat = key[0] | (r.getrandbits(128 - key[1]) if key[1] < 128 else 0), \
                    "unlisted-excluded"
            elif x < 0.99:
                key = r.choice(l64)
                a, cat = (key[0] & mask(56)) | r.getrandbits(72), "unlisted-sibling"
            else:
                a = V4_BASE | (r.randint(16, 223) << 24) | r.getrandbits(24)
                hit = g.lpm(a, v4=True)
                if (hit is None or hit[0] == "X") and emit(v4_name(a, zone), "A", "unlisted",
                                                           "-", "unlisted-v4"):
                    return True
                continue
            hit = g.lpm(a)
            if (hit is None or hit[0] == "X") and emit(nibble_name(a, zone), "A", "unlisted",
                                                       "-", cat):
                return True
        raise SystemExit("gen_sets: cannot find an unlisted address")

    n_listed = int(nq * 0.40)
    n_unlisted = int(nq * 0.40)
    n_txt = int(nq * 0.15)
    n_apex = nq - n_listed - n_unlisted - n_txt
    for _ in range(n_listed):
        listed_one("A", "listed-A")
    for _ in range(n_unlisted):
        unlisted_one()
    for _ in range(n_txt):
        listed_one("TXT", "listed-TXT")
    # Apex lines repeat (there are only two distinct apex questions); they keep their share.
    for i in range(n_apex):
        qt = "SOA" if i % 2 == 0 else "NS"
        out.append("%s %s" % (zone, qt))
        counts["apex"] = counts.get("apex", 0) + 1
    expect.append((zone, "SOA", "apex", "-", "apex"))
    expect.append((zone, "NS", "apex", "-", "apex"))
    r.shuffle(out)
    return out, expect, counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, required=True, help="about this many IPv6 entries")
    ap.add_argument("--queries", type=int, default=250000, help="query lines (default 250000)")
    ap.add_argument("--seed", type=int, default=6, help="random seed (default 6)")
    ap.add_argument("--zone", default="v6bl.example", help="zone apex without trailing dot")
    ap.add_argument("outdir")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    g = Gen(a.entries, a.seed)
    g.build()
    g.write_listings(os.path.join(a.outdir, "listings.txt"))
    lines, expect, qcounts = make_queries(g, a.queries, a.zone.rstrip("."))
    with open(os.path.join(a.outdir, "queries.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(a.outdir, "expect.tsv"), "w") as f:
        for e in expect:
            f.write("\t".join(e) + "\n")
    stats = {"entries": len(g.order),
             "entry_categories": {k: len(v) for k, v in g.cat.items()},
             "query_lines": len(lines),
             "distinct_queries": len(set(lines)),
             "query_categories": qcounts,
             "seed": a.seed, "zone": a.zone}
    with open(os.path.join(a.outdir, "stats.json"), "w") as f:
        json.dump(stats, f, indent=1, sort_keys=True)
    print("gen_sets: %d entries, %d queries (%d distinct) in %s"
          % (len(g.order), len(lines), stats["distinct_queries"], a.outdir), file=sys.stderr)


if __name__ == "__main__":
    main()
