#!/usr/bin/env python3
"""v6sim.py: a deterministic simulator of the sensor-MX measurement (Deccio, NANOG 62).

Writes, into --out DIR:
  sensor.pcap   SYNs (and the sensor's RSTs) at the sensor MX's IPv4 and IPv6 addresses, port 25
  maillog       the production MTAs' Postfix log (IPv4 only): DNSBL rejects, accepted mail, ...
  truth.jsonl   every simulated host: kind, OS, addresses, address type, associable, counts;
                the /48s that hold legitimate senders; the site (meta record first)
  truth.tsv     the host records as a table
  summary.txt   counts per population and totals
Same arguments => byte-identical files. Python 3 standard library only; see README.md.
"""

import argparse
import calendar
import heapq
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from sim_addr import p48, pfx_str, v4_str, v6_str  # noqa: E402
from sim_log import MaillogWriter, Stamp  # noqa: E402
from sim_pop import POP_ORDER, build  # noqa: E402
from sim_tcp import LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL2, PcapWriter  # noqa: E402
from sim_world import ACT, World, filler, site_events, start  # noqa: E402

PRESETS = {
    # ~3.6 thousand SYNs (+ as many RSTs), ~10 thousand log lines, under a second of CPU.
    "small": dict(days=2, isps=60, attempts=3, nat_members=4, dense48_size=4, legit_rate=12,
                  bg_rate=8, ms_rate=24, ms_interval=600, ms_v4_frac=0.01, sendmail_interval=900,
                  outages=1, outage_minutes=45, rst=True,
                  pops={"spam-native": 30, "spam-6to4": 5, "spam-teredo": 3, "spam-privacy": 5,
                        "spam-ignore-mx": 5, "spam-v6only": 5, "spam-v4only": 8, "nat": 3,
                        "dense48": 2, "shared48": 2, "legit": 15, "ms": 2, "sendmail": 1,
                        "scanner": 15, "bg": 20}),
    # ~10 million SYNs and ~11 million log lines over 30 days (the benchmark input); streamed,
    # memory bounded by the population (~17k hosts, ~140 MB), not by the number of packets.
    "large": dict(days=30, isps=600, attempts=160, nat_members=5, dense48_size=6, legit_rate=4,
                  bg_rate=2, ms_rate=400, ms_interval=5, ms_v4_frac=0.002, sendmail_interval=20,
                  outages=4, outage_minutes=60, rst=False,
                  pops={"spam-native": 5000, "spam-6to4": 600, "spam-teredo": 300,
                        "spam-privacy": 700, "spam-ignore-mx": 500, "spam-v6only": 500,
                        "spam-v4only": 1500, "nat": 200, "dense48": 80, "shared48": 80,
                        "legit": 1500, "ms": 3, "sendmail": 3, "scanner": 3000, "bg": 2000}),
}


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="populations for --pop: " + ", ".join(POP_ORDER))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scale", choices=sorted(PRESETS), default="small")
    ap.add_argument("--out", required=True, help="output directory (created if missing)")
    ap.add_argument("--pop", action="append", default=[], metavar="NAME=N",
                    help="override one population's size (repeatable)")
    ap.add_argument("--days", type=float, help="length of the simulated period")
    ap.add_argument("--start", default="2024-03-04T00:00:00Z", help="UTC start, YYYY-MM-DDTHH:MM:SSZ")
    ap.add_argument("--attempts", type=float, help="mean MX attempts per spammer")
    ap.add_argument("--outages", type=int, help="production outage windows")
    ap.add_argument("--outage-minutes", type=float, help="mean outage length")
    ap.add_argument("--ms-interval", type=float,
                    help="mean seconds between Microsoft-like probes per /64")
    ap.add_argument("--sendmail-interval", type=float, help="seconds between sendmail-like probes")
    ap.add_argument("--nat-members", type=int, help="hosts per NAT group (the bot included)")
    ap.add_argument("--dense48-size", type=int, help="spamming /64s per dense /48")
    ap.add_argument("--linktype", choices=("ether", "sll2"), default="ether")
    rst = ap.add_mutually_exclusive_group()
    rst.add_argument("--rst", dest="rst", action="store_true", default=None,
                     help="write the sensor's RST+ACK answers (default: small yes, large no)")
    rst.add_argument("--no-rst", dest="rst", action="store_false")
    ap.add_argument("--log-time", choices=("rfc3164", "rfc3339"), default="rfc3164")
    ap.add_argument("--day-pad", choices=("space", "zero"), default="space",
                    help="RFC 3164 day padding: syslog 'Mar  4' or Postfix maillog_file 'Mar 04'")
    ap.add_argument("--tz", default="+00:00", help="UTC offset of the log timestamps, +HH:MM")
    ap.add_argument("--log-style", choices=("smtpd", "postscreen", "mixed"), default="smtpd")
    ap.add_argument("--no-port-logging", dest="port_logging", action="store_false",
                    help="log NAME[ADDR] without :PORT (smtpd_client_port_logging = no)")
    ap.add_argument("--rbl-code", default="554", choices=("554", "550", "454", "450"))
    ap.add_argument("--maillog-lines", type=int, metavar="N",
                    help="pad the maillog with background lines to exactly N lines")
    return ap.parse_args(argv)


def params(args):
    p = dict(PRESETS[args.scale])
    p["pops"] = dict(p["pops"])
    for k in ("days", "attempts", "outages", "outage_minutes", "ms_interval", "sendmail_interval",
              "nat_members", "dense48_size", "rst"):
        v = getattr(args, k)
        if v is not None:
            p[k] = v
    for spec in args.pop:
        name, _, n = spec.partition("=")
        if name not in POP_ORDER or not n.isdigit():
            raise SystemExit("v6sim: bad --pop %r (NAME=N, NAME one of %s)"
                             % (spec, ", ".join(POP_ORDER)))
        p["pops"][name] = int(n)
    if p["days"] <= 0 or p["days"] > 366:
        raise SystemExit("v6sim: --days must be in (0, 366]")
    p.update(seed=args.seed, log_style=args.log_style, port_logging=args.port_logging,
             rbl_code=args.rbl_code, scale=args.scale)
    return p


def parse_start(s):
    try:
        return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ")) * 1000000
    except ValueError:
        raise SystemExit("v6sim: bad --start %r (want YYYY-MM-DDTHH:MM:SSZ)" % s)


def parse_tz(s):
    if len(s) != 6 or s[0] not in "+-" or s[3] != ":" or not (s[1:3] + s[4:]).isdigit():
        raise SystemExit("v6sim: bad --tz %r (want +HH:MM)" % s)
    m = int(s[1:3]) * 60 + int(s[4:])
    return -m if s[0] == "-" else m


def iso(t_us):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t_us // 1000000))


def simulate(p, args, start_us):
    """Runs the event loop, writing the pcap and the maillog as events come off the heap."""
    w = World(p, start_us)
    hosts, plan = build(p, w)
    for h in hosts:
        start(h, w)
    site_events(w)
    lt = LINKTYPE_LINUX_SLL2 if args.linktype == "sll2" else LINKTYPE_ETHERNET
    names = [n for n, _ in w.prod]
    stamp = Stamp(args.log_time, args.day_pad, parse_tz(args.tz))
    padded = args.maillog_lines is not None
    log_path = os.path.join(args.out, "maillog.tmp" if padded else "maillog")
    pcap = PcapWriter(os.path.join(args.out, "sensor.pcap"), lt)
    logf = open(log_path, "w", buffering=1 << 20, encoding="ascii", newline="\n")
    log = MaillogWriter(logf, names, stamp, keyed=padded)
    heap = w.heap
    pop = heapq.heappop
    try:
        while heap:
            t, _, ev = pop(heap)
            k = ev[0]
            if k == ACT:
                ev[2](ev[1], t, *ev[3])
            elif k == "S":
                pcap.syn(t, ev)
            elif k == "R":
                pcap.rst(t, ev)
            else:
                log.write(t, ev)
    finally:
        pcap.close()
        logf.close()
    logs = [log]
    n_fill = 0
    if padded:
        n_fill = args.maillog_lines - log.n_lines
        if n_fill < 0:
            print("v6sim: warning: the population alone writes %d log lines, more than "
                  "--maillog-lines %d" % (log.n_lines, args.maillog_lines), file=sys.stderr)
            n_fill = 0
        logs.append(pad_maillog(w, plan, args.out, log_path, n_fill, names, stamp))
    return w, hosts, pcap, logs, n_fill


def pad_maillog(w, plan, out, tmp_path, n_fill, names, stamp):
    """Merges the population's lines (a time-keyed temporary file) with n_fill filler lines into
    OUT/maillog. The filler's smtpd processes get their own PID range."""
    fw = MaillogWriter(None, names, stamp, pid_base=20000)
    gen = filler(w, n_fill, plan.used_16) if n_fill else iter(())
    with open(tmp_path, encoding="ascii") as fin, \
            open(os.path.join(out, "maillog"), "w", buffering=1 << 20, encoding="ascii",
                 newline="\n") as fout:
        nxt = next(gen, None)
        for line in fin:
            tab = line.index("\t")
            t = int(line[:tab])
            while nxt is not None and nxt[0] < t:
                fout.write(fw.fmt(nxt[0], nxt[2]))
                nxt = next(gen, None)
            fout.write(line[tab + 1:])
        while nxt is not None:
            fout.write(fw.fmt(nxt[0], nxt[2]))
            nxt = next(gen, None)
    os.unlink(tmp_path)
    return fw

def legit48(hosts):
    """The /48s that hold a legitimate sender (legitimate, misbehaving MTA, NAT member)."""
    out = {}
    for h in hosts:
        if h.kind in ("legitimate", "misbehaving-mta", "nat-member"):
            for a in h.all_v6():
                out.setdefault(p48(a), []).append(h.id)
    return out


def spam48(hosts):
    """/48s holding two or more spamming /64s and no other host (candidates for aggregation)."""
    per = {}
    for h in hosts:
        for a in h.all_v6():
            d = per.setdefault(p48(a), [set(), set()])
            d[0 if h.kind == "spammer" else 1].add(a >> 64)
    return sorted(k for k, (s, o) in per.items() if len(s) >= 2 and not o)


def write_truth(args, p, w, hosts):
    meta = {
        "record": "meta", "seed": p["seed"], "scale": p["scale"], "start": iso(w.start_us),
        "end": iso(w.end_us), "sensor_ipv4": v4_str(w.sensor4), "sensor_ipv6": v6_str(w.sensor6),
        "production": [{"name": n, "ipv4": v4_str(a), "log_style": s}
                       for (n, a), s in zip(w.prod, w.styles)],
        "dnsbl_zones": [z for z, _, _ in w.zones],
        "outages": [{"start": iso(s), "end": iso(e), "kind": k} for s, e, k in w.outages],
        "populations": {k: p["pops"].get(k, 0) for k in POP_ORDER},
    }
    l48 = legit48(hosts)
    with open(os.path.join(args.out, "truth.jsonl"), "w", encoding="ascii", newline="\n") as f:
        f.write(json.dumps(meta, sort_keys=True) + "\n")
        for h in hosts:
            f.write(json.dumps(h.truth(), sort_keys=True) + "\n")
        for k in sorted(l48):
            f.write(json.dumps({"record": "legit48", "prefix": pfx_str(k, 48),
                                "hosts": sorted(set(l48[k]))}, sort_keys=True) + "\n")
        for k in spam48(hosts):
            f.write(json.dumps({"record": "spam48", "prefix": pfx_str(k, 48)}, sort_keys=True) + "\n")
    cols = ("id", "population", "kind", "behaviour", "os", "addr_type", "associable", "nat_group",
            "ipv4", "ipv6", "prefixes64")
    with open(os.path.join(args.out, "truth.tsv"), "w", encoding="ascii", newline="\n") as f:
        f.write("\t".join(cols + ("prod_dnsbl", "s6_att", "s4_att", "s6_syn", "s4_syn")) + "\n")
        for h in hosts:
            r = h.truth()
            row = [str(r["id"]), r["population"], r["kind"], r["behaviour"], r["os"], r["addr_type"],
                   "1" if r["associable"] else "0", str(r["nat_group"] or "-"),
                   ",".join(r["ipv4"]) or "-", ",".join(r["ipv6"]) or "-",
                   ",".join(r["prefixes64"]) or "-"]
            c = r["counts"]
            row += [str(c[k]) for k in ("prod_dnsbl", "s6_att", "s4_att", "s6_syn", "s4_syn")]
            f.write("\t".join(row) + "\n")
    return l48


def write_summary(args, p, w, hosts, pcap, logs, n_fill, l48):
    keys = ("hosts", "assoc", "v6addr", "s6_att", "s4_att", "s6_syn", "s4_syn", "prod_dnsbl",
            "prod_accept", "prod_fail")
    rows = {}
    for h in hosts:
        r = rows.setdefault(h.pop, dict.fromkeys(keys, 0))
        r["hosts"] += 1
        r["assoc"] += h.associable()
        r["v6addr"] += len(h.all_v6())
        for k in keys[3:]:
            r[k] += h.c[k]
    lines = ["v6sim summary: seed %d, scale %s, %s .. %s (%g days)" % (
        p["seed"], p["scale"], iso(w.start_us), iso(w.end_us), p["days"]),
        "sensor %s and %s; production %s (IPv4 only, %s)" % (
            v4_str(w.sensor4), v6_str(w.sensor6), ", ".join("%s %s" % (n, v4_str(a)) for n, a in w.prod),
            "/".join(w.styles)),
        "outages: " + (", ".join("%s..%s %s" % (iso(s), iso(e), k) for s, e, k in w.outages) or "none"),
        "",
        "%-15s" % "population" + "".join("%12s" % k for k in keys)]
    tot = dict.fromkeys(keys, 0)
    for name in POP_ORDER:
        if name in rows:
            r = rows[name]
            lines.append("%-15s" % name + "".join("%12d" % r[k] for k in keys))
            for k in keys:
                tot[k] += r[k]
    lines.append("%-15s" % "total" + "".join("%12d" % tot[k] for k in keys))
    kinds = {}
    for h in hosts:
        kinds[h.kind] = kinds.get(h.kind, 0) + 1
    lines += ["",
              "hosts by kind: " + ", ".join("%s %d" % (k, kinds[k]) for k in sorted(kinds)),
              "associable spammers: %d" % tot["assoc"],
              "legitimate /48s: %d" % len(l48),
              "pcap: %d packets: %d SYN (%d IPv4, %d IPv6), %d RST; link type %s" % (
                  pcap.n_syn + pcap.n_rst, pcap.n_syn, pcap.n_syn4, pcap.n_syn6, pcap.n_rst,
                  args.linktype),
              "maillog: %d lines, %d DNSBL reject lines, %d filler lines%s" % (
                  sum(x.n_lines for x in logs), sum(x.n_dnsbl for x in logs), n_fill,
                  (" (%s)" % ", ".join("%s %d" % kv for kv in sorted(w.filler_stats.items())))
                  if n_fill else "")]
    with open(os.path.join(args.out, "summary.txt"), "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    p = params(args)
    start_us = parse_start(args.start)
    os.makedirs(args.out, exist_ok=True)
    w, hosts, pcap, logs, n_fill = simulate(p, args, start_us)
    l48 = write_truth(args, p, w, hosts)
    write_summary(args, p, w, hosts, pcap, logs, n_fill, l48)
    return 0


if __name__ == "__main__":
    sys.exit(main())
