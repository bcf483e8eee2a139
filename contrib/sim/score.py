#!/usr/bin/env python3
"""score.py: scores a v6rep listing against the simulator's ground truth (truth.jsonl).

Input: the truth file and a listing: `v6rep --db D list --format import` output (zone/listfile.h:
"PREFIX[/LEN] [CODE] [TXT]", "!PREFIX[/LEN] [TXT]" for exclusions, '#' comments), the default
`v6rep list` text, or a plain file of CIDR prefixes; only the first field of a line is read.
Coverage follows DESIGN.md: longest-prefix match over listings and exclusions together, the most
specific entry decides, and an exclusion wins a tie with a listing of the same prefix.

Three numbers:
  precision    over listed ADDRESSES: every simulated address a listing covers counts once; it is a
               true positive when only spammers use it, a false positive when any non-spammer
               host (legitimate, misbehaving MTA, NAT member, scanner) uses it. IPv6 only, unless
               --ipv4 (then the hosts' IPv4 addresses count too).
  recall       over associable spammers (IPv6 at the sensor and a DNSBL reject at production): a
               spammer is found when any of its IPv6 addresses is covered.
  legit48      /48s holding a legitimate sender that are listed as a whole: the most specific
               entry of length <= 48 covering the /48 is a listing. Must be 0 by default.
Exit status: 0 when --min-precision, --min-recall and --max-legit48 hold, 1 when one does not,
2 on bad input.
"""

import argparse
import ipaddress
import json
import sys

V4_MAPPED = 0xFFFF << 32


def parse_prefix(tok):
    """'2001:db8::/32', '192.0.2.0/24', '::ffff:192.0.2.0/120' or a bare address -> (int in the
    IPv6 space with IPv4 as ::ffff:a.b.c.d, length 0..128). Host bits are cleared."""
    net = ipaddress.ip_network(tok, strict=False)
    if net.version == 4:
        return (V4_MAPPED | int(net.network_address)) >> (32 - net.prefixlen) << (32 - net.prefixlen), \
            96 + net.prefixlen
    return int(net.network_address), net.prefixlen


def addr_int(s):
    a = ipaddress.ip_address(s)
    return V4_MAPPED | int(a) if a.version == 4 else int(a)


class Listing:
    """Listings and exclusions by prefix length, for longest-prefix match."""

    def __init__(self):
        self.by_len = {}           # len -> {network >> (128 - len): "L" | "X"}
        self.lines = 0
        self.n_list = self.n_excl = 0

    def add(self, net, plen, kind):
        d = self.by_len.setdefault(plen, {})
        key = net >> (128 - plen) if plen else 0
        if d.get(key) != "X":
            d[key] = kind
        if kind == "L":
            self.n_list += 1
        else:
            self.n_excl += 1

    def load(self, f, name):
        for no, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            tok = line.split()[0]
            kind = "L"
            if tok.startswith("!"):
                kind, tok = "X", tok[1:]
            try:
                net, plen = parse_prefix(tok)
            except ValueError as e:
                raise SystemExit("score: %s:%d: bad prefix %r (%s)" % (name, no, tok, e))
            self.add(net, plen, kind)
            self.lines += 1
        self.lens = sorted(self.by_len, reverse=True)

    def match(self, a, max_len=128):
        """(kind, plen) of the most specific entry covering a (only lengths <= max_len), or None."""
        for plen in self.lens:
            if plen > max_len:
                continue
            kind = self.by_len[plen].get(a >> (128 - plen) if plen else 0)
            if kind:
                return kind, plen
        return None


def load_truth(path):
    hosts, l48, s48 = [], [], []
    with open(path, encoding="ascii") as f:
        for no, line in enumerate(f, 1):
            try:
                r = json.loads(line)
            except ValueError as e:
                raise SystemExit("score: %s:%d: not JSON (%s)" % (path, no, e))
            rec = r.get("record")
            if rec == "host":
                hosts.append(r)
            elif rec == "legit48":
                l48.append(parse_prefix(r["prefix"])[0])
            elif rec == "spam48":
                s48.append(parse_prefix(r["prefix"])[0])
    if not hosts:
        raise SystemExit("score: %s: no host records" % path)
    return hosts, l48, s48


def score(hosts, l48, s48, lst, ipv4):
    owners = {}                   # address -> [spammer?, non-spammer?, host ids]
    for h in hosts:
        addrs = list(h["ipv6"]) + (list(h["ipv4"]) if ipv4 else [])
        for s in addrs:
            o = owners.setdefault(addr_int(s), [False, False, []])
            o[0 if h["kind"] == "spammer" else 1] = True
            o[2].append(h["id"])
    res = {"tp": 0, "fp": 0, "fp_list": [], "missed": [], "found": 0, "assoc": 0,
           "legit48_listed": [], "spam48_listed": 0, "by_pop": {}}
    for a, (spam, other, ids) in sorted(owners.items()):
        m = lst.match(a)
        if m and m[0] == "L":
            if other:
                res["fp"] += 1
                res["fp_list"].append((a, m[1], ids))
            elif spam:
                res["tp"] += 1
    for h in hosts:
        if not h["associable"]:
            continue
        res["assoc"] += 1
        pop = res["by_pop"].setdefault(h["population"], [0, 0])
        pop[1] += 1
        hit = False
        for s in h["ipv6"]:
            m = lst.match(addr_int(s))
            if m and m[0] == "L":
                hit = True
                break
        if hit:
            res["found"] += 1
            pop[0] += 1
        else:
            res["missed"].append(h)
    for p in l48:
        m = lst.match(p, 48)
        if m and m[0] == "L":
            res["legit48_listed"].append((p, m[1]))
    for p in s48:
        m = lst.match(p, 48)
        res["spam48_listed"] += bool(m and m[0] == "L")
    return res


def fmt_pfx(a, plen):
    if a >> 32 == 0xFFFF and plen >= 96:
        return "%s/%d" % (ipaddress.IPv4Address(a & 0xFFFFFFFF), plen - 96)
    return "%s/%d" % (ipaddress.IPv6Address(a >> (128 - plen) << (128 - plen) if plen else 0), plen)


def main(argv=None):
    ap = argparse.ArgumentParser(description="score a v6rep listing against v6sim's truth.jsonl")
    ap.add_argument("--truth", required=True, help="truth.jsonl written by v6sim.py")
    ap.add_argument("listing", help="listing file ('-' for stdin): v6rep list output or CIDR lines")
    ap.add_argument("--min-precision", type=float, default=0.98)
    ap.add_argument("--min-recall", type=float, default=0.90)
    ap.add_argument("--max-legit48", type=int, default=0)
    ap.add_argument("--ipv4", action="store_true", help="count the hosts' IPv4 addresses too")
    ap.add_argument("-v", "--verbose", action="store_true", help="list false positives and misses")
    args = ap.parse_args(argv)
    try:
        hosts, l48, s48 = load_truth(args.truth)
        lst = Listing()
        if args.listing == "-":
            lst.load(sys.stdin, "<stdin>")
        else:
            with open(args.listing, encoding="utf-8", errors="replace") as f:
                lst.load(f, args.listing)
    except OSError as e:
        print("score: %s" % e, file=sys.stderr)
        return 2
    except SystemExit as e:
        print(e, file=sys.stderr)
        return 2
    r = score(hosts, l48, s48, lst, args.ipv4)
    listed = r["tp"] + r["fp"]
    precision = r["tp"] / listed if listed else 1.0
    recall = r["found"] / r["assoc"] if r["assoc"] else 1.0
    n_l48 = len(r["legit48_listed"])
    print("precision %.4f (%d true, %d false of %d listed simulated addresses%s)" % (
        precision, r["tp"], r["fp"], listed, ", none listed" if not listed else ""))
    print("recall %.4f (%d of %d associable spammers found)" % (recall, r["found"], r["assoc"]))
    print("legit48 %d (of %d /48s holding a legitimate sender listed as a whole)" % (n_l48, len(l48)))
    by_pop = ", ".join("%s %d/%d" % (k, v[0], v[1]) for k, v in sorted(r["by_pop"].items()))
    print("info: %d listings, %d exclusions read; %d of %d spam-only /48s listed as a whole; recall "
          "by population: %s" % (lst.n_list, lst.n_excl, r["spam48_listed"], len(s48), by_pop))
    if args.verbose:
        kinds = {h["id"]: h["kind"] for h in hosts}
        for a, plen, ids in r["fp_list"][:50]:
            print("false positive %s (by %s): hosts %s" % (
                fmt_pfx(a, 128), fmt_pfx(a, plen), ", ".join("%d %s" % (i, kinds[i]) for i in ids)))
        for h in r["missed"][:50]:
            print("missed spammer %d %s %s %s %s" % (h["id"], h["population"], h["addr_type"],
                                                      ",".join(h["ipv6"][:3]), ",".join(h["ipv4"])))
        for p, plen in r["legit48_listed"][:50]:
            print("legit /48 listed %s (by %s)" % (fmt_pfx(p, 48), fmt_pfx(p, plen)))
    ok = precision >= args.min_precision and recall >= args.min_recall and n_l48 <= args.max_legit48
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
