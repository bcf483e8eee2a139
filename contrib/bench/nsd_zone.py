#!/usr/bin/env python3
"""nsd_zone.py: renders a v6rep listing file as a standard wildcard zone (for NSD, Knot, BIND).

    nsd_zone.py --zone v6bl.example LISTFILE > v6bl.example.zone

The rendering is the one DESIGN.md describes, so a standard server gives v6repd's verdicts:
  - each listing is a wildcard "*.<nibbles>" (A = code, TXT = reason) at its nibble node; a
    prefix off the nibble boundary is split into the nibble-aligned pieces it covers (a piece
    that coincides with a more specific entry's node loses to it);
  - a /128 listing is an explicit A+TXT at the full 32-nibble name;
  - an exclusion inside a listing is a hole: an explicit node with TXT "excluded" (an excluded
    /128 therefore answers NODATA, which every MTA reads as "not listed");
  - every empty non-terminal that lies inside a listing (between a listing and a more specific
    entry below it) gets the covering listing's wildcard (RFC 4592 4.2: otherwise the closest
    encloser would have no wildcard and the name would be NXDOMAIN);
  - IPv4 entries (dotted in the file, ::ffff:0:0/96 inside) are rendered both as reversed decimal
    octets (*.c.b.a / d.c.b.a) and as nibble names, like v6repd answers both readings.
Reads the import format of zone/listfile.h ("PREFIX[/LEN] [CODE] [TXT]", "!PREFIX[/LEN] [TXT]",
'#' comments, quoted TXT). Python 3 standard library only.
"""

import argparse
import ipaddress
import sys
import time

FULL = (1 << 128) - 1
V4_BASE = 0xFFFF << 32


def mask(n):
    return (FULL << (128 - n)) & FULL if n else 0


def unquote(t):
    if len(t) >= 2 and t[0] == '"' and t[-1] == '"':
        out, i = [], 1
        while i < len(t) - 1:
            c = t[i]
            if c == "\\" and i + 1 < len(t) - 1:
                i += 1
                c = t[i]
            out.append(c)
            i += 1
        return "".join(out)
    return t


def strip_comment(line):
    """Drops a '#' comment that starts the line or follows blanks (outside quotes)."""
    inq = False
    for i, c in enumerate(line):
        if c == '"' and (i == 0 or line[i - 1] != "\\"):
            inq = not inq
        elif c == "#" and not inq and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def is_code(s):
    p = s.split(".")
    return len(p) == 4 and all(x.isdigit() and int(x) < 256 for x in p) and p[0] == "127"


def parse_prefix(s):
    """'PREFIX[/LEN]' -> (net int in the IPv6 space, len 0..128)."""
    addr, _, ln = s.partition("/")
    if ":" in addr:
        a = int(ipaddress.IPv6Address(addr))
        n = int(ln) if ln else 128
    else:
        a = V4_BASE | int(ipaddress.IPv4Address(addr))
        n = 96 + (int(ln) if ln else 32)
    if a & ~mask(n) & FULL:
        raise ValueError("bits set beyond /%d" % n)
    return a, n


def read_entries(path, default_code):
    """Yields (net, len, kind 'L'|'X', code str or None, reason str)."""
    with open(path, encoding="utf-8") as f:
        for no, raw in enumerate(f, 1):
            line = strip_comment(raw.rstrip("\r\n")).strip()
            if not line:
                continue
            excl = line.startswith("!")
            if excl:
                line = line[1:]
            parts = line.split(None, 1)
            try:
                net, ln = parse_prefix(parts[0])
            except ValueError as e:
                raise SystemExit("%s:%d: failed to parse prefix '%s' (%s)"
                                 % (path, no, parts[0], e))
            rest = parts[1] if len(parts) > 1 else ""
            code = None
            if not excl:
                code = default_code
                sp = rest.split(None, 1)
                if sp and is_code(sp[0]):
                    code = sp[0]
                    rest = sp[1] if len(sp) > 1 else ""
            yield net, ln, ("X" if excl else "L"), code, unquote(rest.strip())


def fmt_prefix(net, ln):
    if ln >= 96 and (net >> 32) == 0xFFFF:
        return "%s/%d" % (ipaddress.IPv4Address(net & 0xFFFFFFFF), ln - 96)
    return "%s/%d" % (ipaddress.IPv6Address(net), ln)


def txt_escape(s):
    return s.replace("\\", "\\\\").replace('"', '\\"')


class Space:
    """One label space: nibbles (unit 4 bits, 32 labels) or IPv4 octets (unit 8 bits, 4 labels).

    A node is keyed by a string that sorts parents before children and where "is an ancestor"
    is "is a string prefix": one hex digit per nibble, two per octet."""

    def __init__(self, unit_bits, base_len, full_units):
        self.unit = unit_bits
        self.base = base_len
        self.full = full_units
        self.nodes = {}   # key -> (orig_len, entry index)

    def key(self, net, units):
        if self.unit == 4:
            return ("%032x" % net)[:units]
        return ("%08x" % (net & 0xFFFFFFFF))[:2 * units]

    def units_of(self, key):
        return len(key) if self.unit == 4 else len(key) // 2

    def name(self, key):
        if self.unit == 4:
            return ".".join(reversed(key))
        return ".".join(str(int(key[i:i + 2], 16)) for i in range(len(key) - 2, -1, -2))

    def add(self, net, ln, idx):
        rel = ln - self.base
        units = -(-rel // self.unit)              # ceil
        extra = units * self.unit - rel
        step = 1 << (128 - self.base - units * self.unit)
        for i in range(1 << extra):
            k = self.key(net + i * step, units)
            cur = self.nodes.get(k)
            if cur is None or cur[0] < ln:
                self.nodes[k] = (ln, idx)


def render(space, entries, rd, out, stats):
    """Writes the records of one label space. rd(idx) -> (A rdata, TXT rdata text)."""
    keys = sorted(space.nodes)
    stack = []          # keys of entry nodes on the current path
    ent_done = set()
    for k in keys:
        while stack and not k.startswith(stack[-1]):
            stack.pop()
        parent = stack[-1] if stack else None
        _, idx = space.nodes[k]
        kind = entries[idx][2]
        units = space.units_of(k)
        pidx = space.nodes[parent][1] if parent is not None else None
        p_listed = pidx is not None and entries[pidx][2] == "L"
        if p_listed:
            a, t = rd(pidx)
            pu = space.units_of(parent)
            for u in range(pu + 1, units):
                ek = k[:u] if space.unit == 4 else k[:2 * u]
                if ek in ent_done:
                    continue
                ent_done.add(ek)
                n = space.name(ek)
                out.write("*.%s A %s\n*.%s TXT \"%s\"\n" % (n, a, n, t))
                stats["ent_wildcards"] += 1
        n = space.name(k)
        if kind == "L":
            a, t = rd(idx)
            owner = n if units == space.full else ("*." + n if n else "*")
            out.write("%s A %s\n%s TXT \"%s\"\n" % (owner, a, owner, t))
            stats["explicit" if units == space.full else "wildcards"] += 1
        elif p_listed:
            out.write("%s TXT \"excluded\"\n" % (n or "@"))
            stats["holes"] += 1
        stack.append(k)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--zone", required=True)
    ap.add_argument("--ns", action="append", default=None, help="NS name (repeatable)")
    ap.add_argument("--rname", default=None)
    ap.add_argument("--serial", type=int, default=1)
    ap.add_argument("--ttl", type=int, default=900)
    ap.add_argument("--soa-ttl", type=int, default=3600)
    ap.add_argument("--ns-ttl", type=int, default=86400)
    ap.add_argument("--neg-ttl", type=int, default=300)
    ap.add_argument("--default-code", default="127.0.0.2")
    ap.add_argument("--txt-template", default="{reason}",
                    help="TXT text; {prefix}/{addr} become the listed prefix, {reason}, {code},"
                         " {zone} (default '{reason}')")
    ap.add_argument("--default-reason", default="listed")
    ap.add_argument("listfile")
    a = ap.parse_args()
    zone = a.zone.rstrip(".").lower()
    ns = a.ns or ["ns1." + zone]
    t0 = time.time()
    entries = list(read_entries(a.listfile, a.default_code))
    nib = Space(4, 0, 32)
    v4 = Space(8, 96, 4)
    for i, (net, ln, _, _, _) in enumerate(entries):
        nib.add(net, ln, i)
        if ln >= 96 and (net >> 32) == 0xFFFF:
            v4.add(net, ln, i)

    cache = {}

    def rd(idx):
        r = cache.get(idx)
        if r is None:
            net, ln, _, code, reason = entries[idx]
            pfx = fmt_prefix(net, ln)
            t = a.txt_template.replace("{{", "\0").replace("{prefix}", pfx) \
                .replace("{addr}", pfx.split("/")[0]).replace("{reason}", reason or a.default_reason) \
                .replace("{code}", code).replace("{zone}", zone).replace("\0", "{")
            r = (code, txt_escape(t[:255]))
            cache[idx] = r
        return r

    out = sys.stdout
    out.write("; %s rendered by nsd_zone.py from %s (%d entries)\n" % (zone, a.listfile,
                                                                        len(entries)))
    out.write("$ORIGIN %s.\n$TTL %d\n" % (zone, a.ttl))
    rname = a.rname or "hostmaster." + zone
    out.write("@ %d SOA %s. %s. %d 3600 600 604800 %d\n" % (a.soa_ttl, ns[0].rstrip("."),
                                                            rname.rstrip("."), a.serial,
                                                            a.neg_ttl))
    for n in ns:
        out.write("@ %d NS %s.\n" % (a.ns_ttl, n.rstrip(".")))
    stats = {"wildcards": 0, "explicit": 0, "holes": 0, "ent_wildcards": 0}
    render(nib, entries, rd, out, stats)
    render(v4, entries, rd, out, stats)
    out.flush()
    print("nsd_zone: %d entries -> %d wildcards, %d explicit names, %d holes, %d ENT wildcards"
          " (%.1f s)" % (len(entries), stats["wildcards"], stats["explicit"], stats["holes"],
                         stats["ent_wildcards"], time.time() - t0), file=sys.stderr)


if __name__ == "__main__":
    main()
