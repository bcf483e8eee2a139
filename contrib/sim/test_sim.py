#!/usr/bin/env python3
"""test_sim.py: tests of the simulator's outputs by their formats and against the ground truth.

Run: python3 contrib/sim/test_sim.py [-v]   (stdlib unittest; uses tcpdump when installed;
V6SIM_TEST_SEED=N runs the shared small simulation with another seed, default 5).
The pcap is read with an independent parser here (not the simulator's writer code), checksums
are recomputed, and the log-line patterns must match the real samples in /work/shared/samples
(or contrib/sim/testdata when the samples are not there) as well as the simulated lines.
"""

import calendar
import ipaddress
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SIM = os.path.join(HERE, "v6sim.py")
SCORE = os.path.join(HERE, "score.py")
SAMPLES = [d for d in ("/work/shared/samples", os.path.join(HERE, "testdata")) if os.path.isdir(d)]

# ---- patterns (each must match the real sample lines of its kind too) ----
SYSLOG = (r"(?P<ts>[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d"
          r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:?\d\d)) "
          r"(?P<host>\S+) postfix/(?P<prog>[a-z-]+)\[(?P<pid>\d+)\]: ")
ADDR = r"[0-9a-fA-F:.]+"
SMTPD_RBL = re.compile(
    SYSLOG + r"NOQUEUE: reject: RCPT from (?P<name>[^\s\[]+)\[(?P<addr>" + ADDR
    + r")\](?::(?P<port>\d+))?: (?P<code>[45]\d\d) (?P<dsn>[45]\.7\.1) Service unavailable; "
    r"Client host \[(?P=addr)\] blocked using "
    r"(?P<zone>[a-z0-9.-]+)(?:; (?P<reason>.*))?; from=<[^>]*> to=<[^>]+> proto=E?SMTP helo=<[^>]*>$")
PSC_RBL = re.compile(
    SYSLOG + r"NOQUEUE: reject: RCPT from \[(?P<addr>" + ADDR
    + r")\]:(?P<port>\d+): 550 5\.7\.1 Service unavailable; client \[(?P=addr)\] blocked using "
    r"(?P<zone>[a-z0-9.-]+); from=<[^>]*>, to=<[^>]+>, proto=E?SMTP, helo=<[^>]*>$")
CONNECT = re.compile(SYSLOG + r"connect from [^\s\[]+\[" + ADDR + r"\](?::\d+)?$")
DISCONNECT = re.compile(SYSLOG + r"disconnect from [^\s\[]+\[" + ADDR
                        + r"\](?::\d+)?( [a-z]+=\d+(/\d+)?)+$")
CLIENT = re.compile(SYSLOG + r"[0-9A-F]{10,12}: client=[^\s\[]+\[" + ADDR + r"\](?::\d+)?$")
MSGID = re.compile(SYSLOG + r"[0-9A-F]{10,12}: message-id=<[^>]+>$")
QACTIVE = re.compile(SYSLOG + r"[0-9A-F]{10,12}: from=<[^>]*>, size=\d+, nrcpt=1 \(queue active\)$")
DELIVER = re.compile(SYSLOG + r"[0-9A-F]{10,12}: to=<[^>]+>, relay=\S+, delay=[\d.e-]+, "
                     r"delays=[\d.e/-]+, dsn=2\.0\.0, status=sent \(.+\)$")
REMOVED = re.compile(SYSLOG + r"[0-9A-F]{10,12}: removed$")
PSC_CONNECT = re.compile(SYSLOG + r"CONNECT from \[" + ADDR + r"\]:\d+ to \[" + ADDR + r"\]:25$")
PSC_RANK = re.compile(SYSLOG + r"DNSBL rank \d+ for \[" + ADDR + r"\]:\d+$")
PSC_PASS = re.compile(SYSLOG + r"PASS (?:NEW|OLD) \[" + ADDR + r"\]:\d+$")
PSC_DISC = re.compile(SYSLOG + r"DISCONNECT \[" + ADDR + r"\]:\d+$")
DNSBLOG = re.compile(SYSLOG + r"addr " + ADDR + r" listed by domain [a-z0-9.-]+ as 127\.0\.0\.\d+$")
OTHER = re.compile(
    SYSLOG + r"(NOQUEUE: reject: RCPT from [^\s\[]+\[[\d.]+\](?::\d+)?: [45]\d\d [45]\.\d\.\d .*; "
    r"from=<[^>]*> to=<[^>]+> proto=E?SMTP helo=<[^>]*>"
    r"|lost connection after RCPT from \S+"
    r"|warning: hostname \S+ does not resolve to address [\d.]+: Name or service not known"
    r"|Anonymous TLS connection established from \S+: TLSv1\.3 with cipher .*"
    r"|(?:stopping|starting) the Postfix mail system"
    r"|daemon started -- version [\d.]+, configuration \S+)$")
ALL_SIM = (SMTPD_RBL, PSC_RBL, CONNECT, DISCONNECT, CLIENT, MSGID, QACTIVE, DELIVER, REMOVED,
           PSC_CONNECT, PSC_RANK, PSC_PASS, PSC_DISC, DNSBLOG, OTHER)


def slurp(path):
    with open(path) as f:
        return f.read()


SEED = int(os.environ.get("V6SIM_TEST_SEED", "5"))


def run_sim(out, *extra, seed=SEED):
    subprocess.run([sys.executable, SIM, "--seed", str(seed), "--scale", "small", "--out", out]
                   + list(extra), check=True, timeout=600)


def read_pcap(path):
    """Independent reader: yields dicts per packet; verifies IPv4 and TCP checksums."""
    with open(path, "rb") as f:
        gh = f.read(24)
        magic, vmaj, vmin, _, _, snap, lt = struct.unpack("<IHHiIII", gh)
        assert magic == 0xA1B2C3D4 and (vmaj, vmin) == (2, 4), "not a microsecond pcap"
        while True:
            rh = f.read(16)
            if not rh:
                break
            sec, usec, incl, orig = struct.unpack("<IIII", rh)
            d = f.read(incl)
            assert incl == orig == len(d)
            if lt == 1:
                et, ip, ptype = struct.unpack("!H", d[12:14])[0], d[14:], None
            elif lt == 276:
                et, ptype = struct.unpack("!H", d[0:2])[0], d[10]
                ip = d[20:]
            else:
                raise AssertionError("link type %d" % lt)
            p = {"t": sec * 1000000 + usec, "lt": lt, "ptype": ptype}
            if et == 0x0800:
                assert ip[0] == 0x45
                hl = 20
                assert _sum(ip[:20]) == 0xFFFF, "IPv4 header checksum"
                src, dst = ip[12:16], ip[16:20]
                p.update(v6=False, ttl=ip[8], df=bool(ip[6] & 0x40),
                         ipid=struct.unpack("!H", ip[4:6])[0], flow=0)
                tcp = ip[hl:struct.unpack("!H", ip[2:4])[0]]
                pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
            else:
                assert et == 0x86DD and ip[0] >> 4 == 6 and ip[6] == 6
                src, dst = ip[8:24], ip[24:40]
                p.update(v6=True, ttl=ip[7], df=False, ipid=0,
                         flow=struct.unpack("!I", ip[0:4])[0] & 0xFFFFF)
                tcp = ip[40:40 + struct.unpack("!H", ip[4:6])[0]]
                pseudo = src + dst + struct.pack("!II", len(tcp), 6)
            assert _sum(pseudo + tcp) == 0xFFFF, "TCP checksum"
            sp, dp, seq, ack, off, fl, win = struct.unpack("!HHIIBBH", tcp[:16])
            p.update(src=str(ipaddress.ip_address(src)), dst=str(ipaddress.ip_address(dst)), sport=sp,
                     dport=dp, seq=seq, ack=ack, flags=fl, win=win, opts=_opts(tcp[20:(off >> 4) * 4]))
            yield p


def _sum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def _opts(b):
    out, i = [], 0
    while i < len(b):
        k = b[i]
        if k == 0:
            out.append(("eol", len(b) - i - 1))
            break
        if k == 1:
            out.append(("nop", None))
            i += 1
            continue
        n = b[i + 1]
        v = b[i + 2:i + n]
        name = {2: "mss", 3: "ws", 4: "sok", 8: "ts"}.get(k, "?%d" % k)
        val = (struct.unpack("!H", v)[0] if k == 2 else v[0] if k == 3
               else struct.unpack("!II", v) if k == 8 else None)
        out.append((name, val))
        i += n
    return out


def log_time(line, year=2024):
    m = re.match(SYSLOG, line)
    ts = m.group("ts")
    if ts[0].isdigit():
        import datetime
        return int(datetime.datetime.fromisoformat(ts).timestamp() * 1000000)
    return calendar.timegm(time.strptime("%d %s" % (year, ts), "%Y %b %d %H:%M:%S")) * 1000000


class SmallRun(unittest.TestCase):
    """One default small run shared by the tests below."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="v6sim-test-")
        cls.out = os.path.join(cls.tmp, "a")
        run_sim(cls.out)
        cls.pkts = list(read_pcap(os.path.join(cls.out, "sensor.pcap")))
        recs = [json.loads(x) for x in slurp(os.path.join(cls.out, "truth.jsonl")).splitlines()]
        cls.meta = recs[0]
        cls.hosts = [r for r in recs if r["record"] == "host"]
        cls.legit48 = [r["prefix"] for r in recs if r["record"] == "legit48"]
        cls.lines = slurp(os.path.join(cls.out, "maillog")).splitlines()
        cls.summary = slurp(os.path.join(cls.out, "summary.txt"))
        cls.syns = [p for p in cls.pkts if p["flags"] == 0x02]
        cls.rej = []
        for ln in cls.lines:
            m = SMTPD_RBL.match(ln)
            if m:
                cls.rej.append((log_time(ln), m.group("addr"), int(m.group("port"))))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- determinism ----

    def test_same_seed_same_bytes(self):
        b = os.path.join(self.tmp, "b")
        run_sim(b)
        for f in ("sensor.pcap", "maillog", "truth.jsonl", "truth.tsv", "summary.txt"):
            with open(os.path.join(self.out, f), "rb") as x, open(os.path.join(b, f), "rb") as y:
                self.assertEqual(x.read(), y.read(), f)

    def test_other_seed_other_bytes(self):
        c = os.path.join(self.tmp, "c")
        run_sim(c, seed=SEED + 1)
        with open(os.path.join(self.out, "sensor.pcap"), "rb") as x, \
                open(os.path.join(c, "sensor.pcap"), "rb") as y:
            self.assertNotEqual(x.read(), y.read())

    # ---- pcap ----

    def test_pcap_shape(self):
        s4, s6 = self.meta["sensor_ipv4"], self.meta["sensor_ipv6"]
        self.assertGreater(len(self.syns), 1000)
        self.assertLess(len(self.syns), 20000)
        prev = 0
        for p in self.pkts:
            self.assertGreaterEqual(p["t"], prev)
            prev = p["t"]
            self.assertEqual(p["lt"], 1)
            if p["flags"] == 0x02:
                self.assertIn(p["dst"], (s4, s6))
                self.assertIn(p["dport"], (25, 465, 587))
            else:
                self.assertEqual(p["flags"], 0x14)          # RST+ACK from the sensor
                self.assertIn(p["src"], (s4, s6))
        m = re.search(r"(\d+) SYN \((\d+) IPv4, (\d+) IPv6\), (\d+) RST", self.summary)
        self.assertEqual(int(m.group(1)), len(self.syns))
        self.assertEqual(int(m.group(2)), sum(1 for p in self.syns if not p["v6"]))
        self.assertEqual(int(m.group(4)), len(self.pkts) - len(self.syns))

    def test_rst_answers_every_syn(self):
        syn = {(p["src"], p["sport"], p["dport"], (p["seq"] + 1) & 0xFFFFFFFF) for p in self.syns}
        rst = {(p["dst"], p["dport"], p["sport"], p["ack"]) for p in self.pkts if p["flags"] == 0x14}
        self.assertEqual(syn, rst)

    def test_tcpdump_counts(self):
        if not shutil.which("tcpdump"):
            self.skipTest("no tcpdump")
        pcap = os.path.join(self.out, "sensor.pcap")

        def count(flt):
            r = subprocess.run(["tcpdump", "-nn", "-r", pcap, flt], capture_output=True, text=True,
                               timeout=120, check=True)
            return len(r.stdout.splitlines())
        n4 = sum(1 for p in self.syns if not p["v6"])
        self.assertEqual(count("ip and tcp[tcpflags] == tcp-syn"), n4)
        self.assertEqual(count("ip6 and ip6[53] == 2"), sum(1 for p in self.syns if p["v6"]))
        r = subprocess.run(["tcpdump", "-nn", "-vv", "-r", pcap], capture_output=True, text=True,
                           timeout=120)
        self.assertNotIn("incorrect", r.stdout)
        self.assertEqual(r.stdout.count(", cksum 0x"), len(self.pkts))
        self.assertEqual(count("tcp"), len(self.pkts))

    def by_host(self):
        owner = {}
        for h in self.hosts:
            for a in h["ipv6"] + h["ipv4"]:
                owner.setdefault(a, []).append(h)
        return owner

    def test_os_shapes(self):
        owner = self.by_host()
        seen = set()
        for p in self.syns:
            hs = owner[p["src"]]
            osn = {h["os"] for h in hs}
            if len(osn) != 1:
                continue                                  # a NAT address: several OSes behind it
            osn = osn.pop()
            kinds = [k for k, _ in p["opts"]]
            mss = dict(p["opts"]).get("mss")
            if osn.startswith("win"):
                self.assertEqual(kinds, ["mss", "nop", "ws", "nop", "nop", "sok"])
                self.assertEqual(p["win"], 8192 if osn == "win7" else 64240)
                self.assertTrue(103 <= p["ttl"] <= 123, p)
                self.assertTrue(p["v6"] or (p["df"] and p["ipid"]))
            elif osn == "linux":
                self.assertEqual(kinds, ["mss", "sok", "ts", "nop", "ws"])
                self.assertEqual(p["win"], mss * 20)
                self.assertEqual(dict(p["opts"])["ws"], 7)
                self.assertTrue(39 <= p["ttl"] <= 59, p)
            elif osn == "mac":
                self.assertEqual(kinds, ["mss", "nop", "ws", "nop", "nop", "ts", "sok", "eol"])
                self.assertEqual(p["opts"][-1], ("eol", 1))
                self.assertEqual(p["win"], 65535)
            seen.add(osn)
        self.assertTrue({"win7", "win10", "linux", "mac"} <= seen, seen)

    def test_mss_v6_smaller(self):
        mss = {}
        for p in self.syns:
            mss.setdefault(p["src"], set()).add(dict(p["opts"]).get("mss"))
        n = 0
        for h in self.hosts:
            if h["addr_type"] in ("6to4", "teredo", "none") or not h["ipv6_seen"] or len(h["ipv4"]) != 1:
                continue
            if h["ipv4"][0] not in mss or h["os"] in ("zmap", "masscan") or h["nat_group"]:
                continue
            m4 = mss[h["ipv4"][0]]
            m6 = set().union(*(mss[a] for a in h["ipv6_seen"]))
            self.assertEqual({x - 20 for x in m4}, m6, h["id"])
            n += 1
        self.assertGreater(n, 20)

    def test_windows_three_syns_same_port(self):
        owner = self.by_host()
        groups = {}
        for p in self.syns:
            if {h["os"] for h in owner[p["src"]]} <= {"win7", "win10"}:
                groups.setdefault((p["src"], p["sport"], p["seq"]), []).append(p["t"])
        self.assertTrue(groups)
        for k, ts in groups.items():
            if len(ts) != 3:
                continue
            self.assertTrue(450000 <= ts[1] - ts[0] <= 560000 and 950000 <= ts[2] - ts[0] <= 1060000, ts)
        self.assertTrue(all(len(v) == 3 for v in groups.values()))

    def test_windows_shared_port_sequence(self):
        """v4 at production p, then v6 at the sensor p+1 and v4 at the sensor p+2 (mostly)."""
        hits = 0
        for h in self.hosts:
            if (h["kind"] != "spammer" or not h["os"].startswith("win")
                    or h["addr_type"] in ("6to4", "teredo")):
                continue
            v4 = h["ipv4"][0] if h["ipv4"] else None
            rs = [(t, port) for t, a, port in self.rej if a == v4]
            s6 = [(p["t"], p["sport"]) for p in self.syns if p["src"] in h["ipv6_seen"]]
            for t, port in rs:
                if any(0 < t6 - t < 20000000 and port < sp <= port + 3 for t6, sp in s6):
                    hits += 1
        self.assertGreater(hits, 5)

    # ---- maillog ----

    def test_maillog_lines_match_formats(self):
        bad = [ln for ln in self.lines if not any(r.match(ln) for r in ALL_SIM)]
        self.assertEqual(bad[:5], [])
        prev = 0
        for ln in self.lines:
            t = log_time(ln)
            self.assertGreaterEqual(t, prev)
            prev = t
        self.assertGreater(len(self.rej), 100)

    def test_patterns_match_real_samples(self):
        if not SAMPLES:
            self.skipTest("no sample logs")
        smtpd = slurp(os.path.join(SAMPLES[0], "postfix-smtpd.log")).splitlines()
        psc = slurp(os.path.join(SAMPLES[0], "postfix-postscreen.log")).splitlines()
        self.assertEqual(sum(1 for x in smtpd if SMTPD_RBL.match(x)),
                         sum(1 for x in smtpd if "blocked using" in x))
        self.assertEqual(sum(1 for x in psc if PSC_RBL.match(x)), sum(1 for x in psc if "NOQUEUE" in x))
        for rx, word in ((CONNECT, ": connect from"), (DISCONNECT, ": disconnect from"),
                         (CLIENT, ": client="), (MSGID, "message-id="), (QACTIVE, "(queue active)"),
                         (REMOVED, ": removed"), (PSC_CONNECT, "CONNECT from"),
                         (PSC_RANK, "DNSBL rank"), (PSC_DISC, "DISCONNECT"),
                         (DNSBLOG, "listed by domain"), (PSC_PASS, "PASS NEW")):
            real = [x for x in smtpd + psc if word in x and "postfix/" in x]
            self.assertTrue(real, word)
            for x in real:
                self.assertTrue(rx.match(x), x)

    def test_production_is_ipv4_only(self):
        for ln in self.lines:
            for a in re.findall(r"\[([0-9a-fA-F:.]+)\]", ln):
                self.assertNotIn(":", a, ln)

    # ---- ground truth ----

    def test_associable_spammers_have_evidence(self):
        rej = {a for _, a, _ in self.rej}
        src6 = {p["src"] for p in self.syns if p["v6"] and p["dport"] == 25}
        src4 = {p["src"] for p in self.syns if not p["v6"]}
        assoc = [h for h in self.hosts if h["associable"]]
        self.assertGreater(len(assoc), 40)
        for h in assoc:
            self.assertEqual(h["kind"], "spammer")
            self.assertTrue(set(h["ipv4"]) & rej, h["id"])
            self.assertTrue(set(h["ipv6_seen"]) & src6, h["id"])
            self.assertTrue(set(h["ipv4"]) & src4, h["id"])
        for h in self.hosts:
            if h["kind"] == "spammer" and not h["associable"]:
                self.assertTrue(not h["ipv6_seen"] or not h["counts"]["prod_dnsbl"], h)

    def test_counts_match_outputs(self):
        per6 = {}
        for p in self.syns:
            if p["v6"] and p["dport"] == 25:
                per6[p["src"]] = per6.get(p["src"], 0) + 1
        for h in self.hosts:
            self.assertEqual(sum(per6.get(a, 0) for a in h["ipv6_seen"]), h["counts"]["s6_syn"], h["id"])
        rej_lines = {}
        for _, a, _ in self.rej:
            rej_lines[a] = rej_lines.get(a, 0) + 1
        by4 = {}
        for h in self.hosts:
            for a in h["ipv4"][:1]:
                by4[a] = by4.get(a, 0) + h["counts"]["prod_dnsbl_lines"]
        self.assertEqual({a: n for a, n in by4.items() if n}, rej_lines)

    def test_only_spammer_ips_rejected(self):
        spam4 = {a for h in self.hosts if h["kind"] == "spammer" for a in h["ipv4"]}
        for _, a, _ in self.rej:
            self.assertIn(a, spam4)
        nat_members = [h for h in self.hosts if h["kind"] == "nat-member"]
        self.assertTrue(nat_members)
        for h in nat_members:
            bot = [b for b in self.hosts if b["nat_group"] == h["nat_group"] and b["kind"] == "spammer"]
            self.assertEqual(len(bot), 1)
            self.assertEqual(bot[0]["ipv4"], h["ipv4"])
            self.assertEqual(bot[0]["prefixes64"], h["prefixes64"])
            self.assertTrue(h["ipv6_seen"], "NAT members are seen at the sensor during the outage")

    def test_address_types(self):
        for h in self.hosts:
            t = h["addr_type"]
            v6 = [int(ipaddress.IPv6Address(a)) for a in h["ipv6"]]
            v4 = [int(ipaddress.IPv4Address(a)) for a in h["ipv4"]]
            if t == "6to4":
                self.assertEqual(v6[0] >> 112, 0x2002)
                self.assertEqual((v6[0] >> 80) & 0xFFFFFFFF, v4[0])
            elif t == "teredo":
                self.assertEqual(v6[0] >> 96, 0x20010000)
                self.assertEqual(~v6[0] & 0xFFFFFFFF, v4[0])
                self.assertEqual((v6[0] >> 48) & 0xC300, 0)     # RFC 5991: C, R, U, G bits zero
            elif t == "embedded-ipv4":
                self.assertEqual(v6[0] & 0xFFFFFFFFFFFFFFFF, v4[0])
            elif t == "eui64":
                self.assertEqual((v6[0] >> 24) & 0xFFFF, 0xFFFE)
            elif t == "privacy":
                self.assertEqual(len({a >> 64 for a in v6}), 1)
            elif t == "none":
                self.assertEqual(v6, [])
        priv = [h for h in self.hosts if h["addr_type"] == "privacy"]
        self.assertTrue(any(len(h["ipv6"]) > 1 for h in priv), "privacy addresses rotate")

    def test_populations_present(self):
        pops = {h["population"] for h in self.hosts}
        for name in ("spam-native", "spam-6to4", "spam-teredo", "spam-privacy", "spam-ignore-mx",
                     "spam-v6only", "spam-v4only", "nat", "dense48", "shared48", "legit", "ms",
                     "sendmail", "scanner", "bg"):
            self.assertIn(name, pops)
        for h in self.hosts:
            if h["population"] in ("spam-v6only", "scanner"):
                self.assertEqual(h["ipv4"], [])
                self.assertFalse(h["associable"])
            if h["population"] == "spam-v4only":
                self.assertEqual(h["ipv6"], [])

    def test_legit_at_sensor_only_in_outages(self):
        outs = [(calendar.timegm(time.strptime(o["start"], "%Y-%m-%dT%H:%M:%SZ")) * 1000000,
                 calendar.timegm(time.strptime(o["end"], "%Y-%m-%dT%H:%M:%SZ")) * 1000000)
                for o in self.meta["outages"]]
        self.assertTrue(outs)
        n = 0
        for h in self.hosts:
            if h["behaviour"] not in ("outage-fallback", "nat-member", "v4-background"):
                continue
            addrs = set(h["ipv6"] + h["ipv4"])
            for p in self.syns:
                if p["src"] in addrs and h["kind"] != "spammer":
                    if h["nat_group"] and not p["v6"]:
                        continue                              # the NAT address is the bot's too
                    late = 2 * 3600 * 1000000               # retries after the outage ends
                    self.assertTrue(any(s <= p["t"] <= e + late for s, e in outs), (h["id"], p))
                    n += 1
        self.assertGreater(n, 10)
        l48 = {ipaddress.IPv6Network(x) for x in self.legit48}
        for h in self.hosts:
            if h["kind"] in ("legitimate", "misbehaving-mta", "nat-member"):
                for a in h["ipv6"]:
                    self.assertIn(ipaddress.IPv6Network(a + "/48", strict=False), l48)

    def test_misbehaving_mtas(self):
        ms = [h for h in self.hosts if h["behaviour"] == "ms-flood"]
        self.assertTrue(ms)
        net = ipaddress.IPv6Network("2a01:111:f400::/48")
        for h in ms:
            self.assertEqual(len(h["ipv6"]), 4)
            self.assertTrue(all(ipaddress.IPv6Address(a) in net for a in h["ipv6"]))
            self.assertEqual(h["counts"]["prod_dnsbl"], 0)
            self.assertGreater(h["counts"]["s6_att"], 20 * h["counts"]["s4_att"])
        sm = [h for h in self.hosts if h["behaviour"] == "sendmail-port-reuse"]
        self.assertTrue(sm)
        for h in sm:
            ports = [p["sport"] for p in self.syns if p["src"] in h["ipv6"]]
            top = max(set(ports), key=ports.count)        # its outage fallback uses other ports
            self.assertGreater(ports.count(top), 0.95 * len(ports))
            self.assertGreater(h["counts"]["s6_att"], 50)

    # ---- score.py ----

    def score(self, text, *extra):
        path = os.path.join(self.tmp, "listing.txt")
        with open(path, "w") as f:
            f.write(text)
        r = subprocess.run([sys.executable, SCORE, "--truth", os.path.join(self.out, "truth.jsonl"),
                            path] + list(extra), capture_output=True, text=True, timeout=120)
        return r.returncode, r.stdout

    def test_score_perfect_and_broken(self):
        assoc = [h for h in self.hosts if h["associable"]]
        perfect = "".join("%s/128 127.0.0.2 tied to %s\n" % (a, h["ipv4"][0])
                          for h in assoc for a in h["ipv6_seen"])
        rc, out = self.score("# v6rep list --format import\n" + perfect)
        self.assertEqual(rc, 0, out)
        self.assertIn("precision 1.0000", out)
        self.assertIn("recall 1.0000", out)
        self.assertIn("legit48 0 ", out)
        rc, out = self.score("")
        self.assertEqual(rc, 1)
        self.assertIn("recall 0.0000", out)
        # A legitimate /48 listed as a whole fails even if everything else is right.
        rc, out = self.score(perfect + "%s 127.0.0.2\n" % self.legit48[0])
        self.assertEqual(rc, 1)
        self.assertIn("legit48 1 ", out)
        # An exclusion punches a hole: the spammer's /64 listed, its /128 excluded -> missed.
        h = next(x for x in assoc if x["addr_type"] == "random" and not x["nat_group"])
        rest = "".join(ln for ln in perfect.splitlines(True) if not any(a in ln for a in h["ipv6_seen"]))
        rc, out = self.score(rest + "%s 127.0.0.2\n!%s\n" % (h["prefixes64"][0], h["ipv6_seen"][0]))
        self.assertIn("recall %.4f" % ((len(assoc) - 1) / len(assoc)), out)
        # A NAT bot's /64 also covers the legitimate NAT members: precision drops.
        bot = next(x for x in assoc if x["nat_group"])
        rc, out = self.score(perfect + "%s 127.0.0.2\n" % bot["prefixes64"][0])
        self.assertEqual(rc, 1)
        self.assertNotIn("precision 1.0000", out)
        rc, out = self.score("not-a-prefix\n")
        self.assertEqual(rc, 2)


class Variants(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="v6sim-var-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_sll2_rfc3339_postscreen_padding(self):
        out = os.path.join(self.tmp, "v")
        run_sim(out, "--linktype", "sll2", "--log-time", "rfc3339", "--tz=+01:00",
                "--log-style", "mixed", "--maillog-lines", "15000", "--days", "1", seed=9)
        pk = list(read_pcap(os.path.join(out, "sensor.pcap")))
        self.assertTrue(pk and all(p["lt"] == 276 for p in pk))
        self.assertTrue(all(p["ptype"] == (0 if p["flags"] == 2 else 4) for p in pk))
        lines = slurp(os.path.join(out, "maillog")).splitlines()
        self.assertEqual(len(lines), 15000)
        bad = [ln for ln in lines if not any(r.match(ln) for r in ALL_SIM)]
        self.assertEqual(bad[:5], [])
        iso = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+01:00 ")
        self.assertTrue(all(iso.match(ln) for ln in lines))
        ts = [log_time(ln) for ln in lines]
        self.assertEqual(ts, sorted(ts))
        self.assertTrue(any(PSC_RBL.match(ln) and " mx2 " in ln for ln in lines))
        self.assertTrue(any(SMTPD_RBL.match(ln) and " mx1 " in ln for ln in lines))
        self.assertFalse(any(SMTPD_RBL.match(ln) and " mx2 " in ln for ln in lines))
        # concurrent smtpd sessions never share a PID: each PID's connect/disconnect alternate
        open_ = {}
        for ln in lines:
            m = re.match(SYSLOG + r"(connect|disconnect) from ", ln)
            if m and m.group("prog") == "smtpd":
                key = (m.group("host"), m.group("pid"))
                self.assertEqual(open_.get(key, False), m.group(5) == "disconnect", ln)
                open_[key] = m.group(5) == "connect"
        if shutil.which("tcpdump"):
            r = subprocess.run(["tcpdump", "-nn", "-r", os.path.join(out, "sensor.pcap")],
                               capture_output=True, text=True, timeout=120)
            self.assertIn("LINUX_SLL2", r.stderr)
            self.assertEqual(len(r.stdout.splitlines()), len(pk))

    def test_no_port_logging_zero_pad(self):
        out = os.path.join(self.tmp, "n")
        run_sim(out, "--no-port-logging", "--day-pad", "zero", "--no-rst", "--days", "1", seed=3)
        lines = slurp(os.path.join(out, "maillog")).splitlines()
        rej = [m for m in map(SMTPD_RBL.match, lines) if m]
        self.assertTrue(rej)
        self.assertTrue(all(m.group("port") is None for m in rej))
        self.assertTrue(all(re.match(r"[A-Z][a-z]{2} \d\d ", ln) for ln in lines))
        pk = list(read_pcap(os.path.join(out, "sensor.pcap")))
        self.assertTrue(pk and all(p["flags"] == 2 for p in pk))

    def test_bad_arguments(self):
        for args in (["--pop", "nosuch=3"], ["--start", "yesterday"], ["--tz=+1"], ["--days", "0"]):
            r = subprocess.run([sys.executable, SIM, "--out", self.tmp] + args, capture_output=True,
                               text=True, timeout=60)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn("v6sim", r.stderr)


if __name__ == "__main__":
    unittest.main()
