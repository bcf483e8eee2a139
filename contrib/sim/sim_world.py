"""sim_world.py: the simulated site (sensor MX, production MXs, outages) and the hosts' behaviour.

One discrete-event simulation: a single heap holds both actions (a host's next attempt, delivery,
retry) and output events (SYNs, RSTs, log lines), keyed by (time, sequence number). An action at
time t only ever creates events and actions at t or later, so popping the heap yields the output
in time order, streaming, with memory bounded by the population (each host has its next action
and the packets of its current attempt in the heap), not by the length of the period. Each host
draws from its own random.Random seeded by (seed, host id).
"""

import heapq
import math
import random

from sim_addr import iid_random, p48, v4_reserved, v4_str, v6_str
from sim_log import session_accept, session_dnsbl, CLOSE
from sim_tcp import PROFILES, Ports, poisson

SEC = 1000000
MIN = 60 * SEC
HOUR = 60 * MIN
DAY = 24 * HOUR


class World:
    """The measured site and everything shared by all hosts."""

    def __init__(self, p, start_us):
        self.seed = p["seed"]
        self.start_us = start_us
        self.end_us = start_us + int(p["days"] * DAY)
        self.sensor4 = 0xC6336419                          # 198.51.100.25 (TEST-NET-2)
        self.sensor6 = 0x20010DB8002500000000000000000025  # 2001:db8:25::25
        self.sensor4_b = self.sensor4.to_bytes(4, "big")
        self.sensor6_b = self.sensor6.to_bytes(16, "big")
        self.prod = [("mx1", 0xCB00710A), ("mx2", 0xCB00710B)]   # 203.0.113.10/11, IPv4 only
        self.prod_txt = [v4_str(a) for _, a in self.prod]
        style = p["log_style"]
        self.styles = [("postscreen" if style == "postscreen" or (style == "mixed" and i == 1)
                        else "smtpd") for i in range(len(self.prod))]
        self.port_logging = p["port_logging"]
        self.rbl_code = str(p["rbl_code"])
        self.zones = (("zen.example", "https://zen.example/query/ip/%s", 0.8),
                      ("dnsbl.example", None, 0.2))
        self.rst = p["rst"]
        self.domain = "example.com"
        rng = random.Random("%d/world" % self.seed)
        self.users = sorted(set(_word(rng) + rng.choice(("", ".", "_")) + _word(rng)
                                for _ in range(150)))
        self.outages = self._outages(rng, p["outages"], p["outage_minutes"])
        self.listed_v4 = set()
        self.heap = []
        self.n = 0
        self.filler_stats = {}

    def push(self, t, ev):
        heapq.heappush(self.heap, (t, self.n, ev))
        self.n += 1

    def _outages(self, rng, n, minutes):
        """Non-overlapping windows in the middle 80% of the period where every production MX is
        unreachable: 'refused' (Postfix stopped: the MX answers RST) or 'timeout' (network)."""
        span = self.end_us - self.start_us
        out = []
        for _ in range(n * 20):
            if len(out) == n:
                break
            d = int(rng.uniform(0.5, 1.5) * minutes * MIN)
            s = self.start_us + int(span * 0.1) + rng.randrange(max(1, int(span * 0.8) - d))
            if all(e + HOUR < s or s + d + HOUR < b for b, e, _ in out):
                out.append((s, s + d, rng.choice(("refused", "timeout"))))
        return sorted(out)

    def outage_at(self, t):
        for s, e, kind in self.outages:
            if s <= t < e:
                return kind
        return None


WORDS = ("mail", "smtp", "mx", "relay", "post", "gw", "edge", "out", "srv", "node", "host", "web",
         "alpha", "delta", "nova", "terra", "lumen", "argo", "vista", "opti", "prime", "zen", "blue",
         "green", "sales", "info", "news", "promo", "deal", "shop", "club", "best", "free", "bonus")


def _word(rng):
    return WORDS[rng.randrange(len(WORDS))] + ("" if rng.random() < 0.6 else str(rng.randrange(100)))


class Host:
    """One simulated host (or host group, for the Microsoft-like MTA /64s): its static facts,
    chosen when the population is built, and the counters its simulation fills in."""

    def __init__(self, hid, pop, kind, behaviour, os_name):
        self.id = hid
        self.pop = pop
        self.kind = kind              # spammer | legitimate | misbehaving-mta | nat-member | scanner
        self.behaviour = behaviour
        self.os = os_name
        self.prof = PROFILES[os_name]
        self.v4 = []                  # IPv4 addresses (v4[0] used at production and sensor)
        self.v6 = []                  # static IPv6 addresses
        self.v6_seen = []
        self._seen = set()
        self.addr_type = None
        self.nat_group = None
        self.family_order = (6, 4)
        self.active = None
        self.attempts_mean = 0
        self.rate_per_day = 0
        self.priv_period = 0
        self.x = {}                   # behaviour parameters
        self.c = dict(prod_dnsbl=0, prod_dnsbl_lines=0, prod_other=0, prod_accept=0, prod_fail=0,
                      s6_att=0, s4_att=0, s6_syn=0, s4_syn=0, other_port_syn=0, linked=0)

    def net(self, rng, tunnel=None, rtt_ms=80):
        """Path and stack parameters: hop distance, RTT, MSS (IPv6 20 bytes smaller, tunnels less)."""
        d4 = rng.randint(5, 25)
        d6 = rng.randint(10, 25) if tunnel else min(25, max(5, d4 + rng.randint(-3, 3)))
        self.ttl4 = self.prof.ttl - d4
        self.ttl6 = self.prof.ttl - d6
        self.rtt = int(min(600, max(5, rng.lognormvariate(math.log(rtt_ms), 0.6))) * 1000)
        self.mss4 = rng.choices((1460, 1452, 1400), (0.8, 0.12, 0.08))[0]
        self.mss6 = {None: self.mss4 - 20, "6to4": self.mss4 - 40, "teredo": 1220}[tunnel]
        self.bg_rate = rng.lognormvariate(math.log(0.05), 1.0)
        self.ts_per_conn = rng.random() < 0.5      # Linux >= 4.10 randomizes TS offsets

    def note_v6(self, a):
        if a not in self._seen:
            self._seen.add(a)
            self.v6_seen.append(a)

    def associable(self):
        return self.kind == "spammer" and self.c["s6_att"] > 0 and self.c["prod_dnsbl"] > 0

    def all_v6(self):
        out = list(self.v6)
        for a in self.v6_seen:
            if a not in out:
                out.append(a)
        return out

    def truth(self):
        v6 = self.all_v6()
        return {
            "record": "host", "id": self.id, "population": self.pop, "kind": self.kind,
            "behaviour": self.behaviour, "os": self.os, "os_label": self.prof.label,
            "addr_type": self.addr_type, "associable": self.associable(),
            "ipv4": [v4_str(a) for a in self.v4],
            "ipv6": [v6_str(a) for a in v6],
            "ipv6_seen": [v6_str(a) for a in self.v6_seen],
            "prefixes64": sorted(set("%s/64" % v6_str(a >> 64 << 64) for a in v6)),
            "prefixes48": sorted(set("%s/48" % v6_str(p48(a)) for a in v6)),
            "nat_group": self.nat_group, "counts": dict(self.c),
        }


ACT = 0     # event kind of an action: (ACT, ctx, fn, args)


def rint(rng, a, b):
    """a <= n < b; cheaper than randrange in the hot paths."""
    return a + int(rng.random() * (b - a))


class Ctx:
    """The running state of one host's simulation."""

    def __init__(self, h, w):
        self.h = h
        self.w = w
        self.rng = rng = random.Random("%d/host/%d" % (w.seed, h.id))
        self.sess = 0
        self.ports = Ports(h.prof, rng, h.bg_rate, mode=h.x.get("port_mode"),
                           fixed=h.x.get("fixed_port"))
        self.ipid = rng.randrange(1, 65536)
        self.ipid_t = w.start_us
        self.ts_off = {False: rng.getrandbits(32), True: rng.getrandbits(32)}
        if not h.ts_per_conn:
            self.ts_off[True] = self.ts_off[False]
        self.last_reject = -1
        self.priv_idx = None
        self.priv_addr = None

    def push(self, t, ev):
        w = self.w
        heapq.heappush(w.heap, (t, w.n, ev))
        w.n += 1

    def at(self, t, fn, *args):
        w = self.w
        heapq.heappush(w.heap, (t, w.n, (ACT, self, fn, args)))
        w.n += 1

    def next_ipid(self, t):
        mode = self.h.prof.ipid
        if mode == "static":
            return 54321
        if mode == "random":
            return rint(self.rng, 1, 65536)
        skip = poisson(self.rng, self.h.bg_rate * 5 * (t - self.ipid_t) / SEC) if t > self.ipid_t else 0
        self.ipid_t = t
        self.ipid = (self.ipid + 1 + skip) % 65536 or 1
        return self.ipid

    def v6_at(self, t):
        """The source IPv6 address at time t: static, or an RFC 8981 temporary address that is
        replaced every priv_period inside the same /64."""
        h = self.h
        if not h.priv_period:
            return h.v6[0]
        idx = (t - h.x["priv_phase"]) // h.priv_period
        if idx != self.priv_idx:
            r = random.Random("%d/priv/%d/%d" % (self.w.seed, h.id, idx))
            self.priv_idx = idx
            self.priv_addr = h.x["priv_64"] | iid_random(r)
        return self.priv_addr


def start(h, w):
    """Schedules the host's first actions."""
    START[h.behaviour](Ctx(h, w))


# ---- primitives: one connect() to the sensor, one session at a production MX ----

def sensor_connect(ctx, t, v6, src, sport, dport=25):
    """SYN(s) of one connect() attempt at the sensor, each answered by an RST; returns the time the
    client is done with it (after the RST of the last SYN has come back). The SYNs of one attempt
    share one connection record, so the packet writer builds the TCP segment once."""
    h, w, rng = ctx.h, ctx.w, ctx.rng
    prof = h.prof
    mss = h.mss6 if v6 else h.mss4
    seq = rng.getrandbits(32)
    flow = rng.getrandbits(20) if v6 and prof.flow == "random" else 0
    conn = None
    last = t
    for off in prof.retries_us:
        ts = t + off + (int(rng.random() * 4000) if off else 0)
        if conn is None or prof.has_ts:
            opts = prof.options(mss, ctx.ts_off[v6] + ts * prof.ts_hz // SEC)
            conn = [v6, src.to_bytes(16 if v6 else 4, "big"), w.sensor6_b if v6 else w.sensor4_b,
                    h.ttl6 if v6 else h.ttl4, sport, dport, seq, prof.window(mss), opts, prof.df,
                    flow, None, None]
        ctx.push(ts, ("S", conn, 0 if v6 else ctx.next_ipid(ts)))
        if w.rst:
            ctx.push(ts + 15 + int(rng.random() * 65), ("R", conn))
        last = ts
    c = h.c
    n = len(prof.retries_us)
    if v6:
        h.note_v6(src)
    if dport != 25:
        c["other_port_syn"] += n
    elif v6:
        c["s6_att"] += 1
        c["s6_syn"] += n
        if ctx.last_reject >= 0 and t - ctx.last_reject < MIN:
            c["linked"] += 1
    else:
        c["s4_att"] += 1
        c["s4_syn"] += n
    return last + h.rtt + 100 + int(rng.random() * 4900)


def to_sensor(ctx, t, order=None):
    """The sensor MX's addresses in getaddrinfo() order, each tried once (both are refused)."""
    h, w = ctx.h, ctx.w
    for fam in order or h.family_order:
        if fam == 6:
            src = ctx.v6_at(t)
            t = sensor_connect(ctx, t, True, src, ctx.ports.next(t, w.sensor6))
        else:
            t = sensor_connect(ctx, t, False, h.v4[0], ctx.ports.next(t, w.sensor4))
        t += rint(ctx.rng, 50, 3000)
    return t


def to_prod(ctx, t, mta=None, src4=None, sender=None):
    """One SMTP session at a production MX over IPv4. Returns (end time, DNSBL-rejected?)."""
    h, w, rng = ctx.h, ctx.w, ctx.rng
    src4 = src4 if src4 is not None else h.v4[0]
    mta = rng.randrange(len(w.prod)) if mta is None else mta
    port = ctx.ports.next(t, w.prod[mta][1])
    down = w.outage_at(t)
    if down:
        h.c["prod_fail"] += 1
        wait = h.rtt if down == "refused" else h.x.get("connect_timeout", 30 * SEC)
        return t + wait, False
    addr = v4_str(src4)
    s = dict(style=w.styles[mta], addr=addr, port=port, port_logging=w.port_logging, rtt=h.rtt,
             mta_addr=w.prod_txt[mta], t0=t, name=h.x.get("ptr", "unknown"),
             helo=h.x.get("helo", "localhost"))
    t_log = t + h.rtt * 3 // 2
    if src4 in w.listed_v4:
        zone, reason, _ = w.zones[h.x.get("zone", 0)]
        s.update(code=w.rbl_code, ps_code="550", zone=zone, reason=reason % addr if reason else None,
                 frm=sender or h.x.get("sender") or _spam_from(rng), nrcpt=h.x.get("nrcpt", 1),
                 quit=rng.random() < 0.6, helo_cmd=h.x.get("helo_cmd", "ehlo"),
                 warn_name=h.x.get("warn_name"))
        s["nrcpt"] = rng.randint(1, s["nrcpt"])
        s["to"] = [_rcpt(rng, w) for _ in range(s["nrcpt"])]
        lines, end = session_dnsbl(rng, s)
        h.c["prod_dnsbl"] += 1
        h.c["prod_dnsbl_lines"] += s["nrcpt"] if w.styles[mta] == "smtpd" else 1
        rejected = True
        ctx.last_reject = t
    else:
        other = rng.random() < h.x.get("other_reject", 0.02)
        s.update(frm=sender or h.x.get("sender", "postmaster@" + h.x.get("dom", "example.net")),
                 to=[_rcpt(rng, w)], tls=rng.random() < h.x.get("tls", 0.7), other_reject=other,
                 msgid="%x.%x@%s" % (rng.getrandbits(40), t, h.x.get("dom", "example.net")))
        lines, end = session_accept(rng, s)
        h.c["prod_other" if other else "prod_accept"] += 1
        rejected = False
    sess = (h.id << 24) | ctx.sess
    ctx.sess += 1
    for off, prog, msg, op in lines:
        ctx.push(t_log + off, ("L", mta, sess, prog, msg, op))
    return t_log + end + h.rtt, rejected


def _rcpt(rng, w):
    return "%s@%s" % (w.users[rng.randrange(len(w.users))], w.domain)


def _spam_from(rng):
    return "%s%d@%s.example" % (_word(rng), rng.randrange(1000), _word(rng))


def _exp(rng, mean):
    return int(rng.expovariate(1.0) * mean)


# ---- spammers ----

def start_spammer(ctx):
    h, rng = ctx.h, ctx.rng
    a, b = h.active
    burst = 1.6
    n_campaigns = max(1.0, h.attempts_mean / burst)
    gap = (b - a) / n_campaigns
    h.x["gap"] = gap
    ctx.at(a + rng.randrange(max(1, int(min(gap, b - a)))), spam_campaign, _burst(rng))


def _burst(rng):
    n = 1
    while rng.random() < 0.375 and n < 6:
        n += 1
    return n


def spam_campaign(ctx, t, left):
    h, rng = ctx.h, ctx.rng
    SPAM[h.behaviour](ctx, t)
    if left > 1:
        nxt = t + 20 * SEC + _exp(rng, 4 * MIN)
        if nxt < ctx.w.end_us:
            ctx.at(nxt, spam_campaign, left - 1)
        return
    nxt = t + 10 * MIN + _exp(rng, h.x["gap"])
    if nxt < h.active[1]:
        ctx.at(nxt, spam_campaign, _burst(rng))


def _think(rng):
    """The pause between giving up on one MX and trying the next: a few ms to a few seconds."""
    return int(min(8.0, rng.lognormvariate(math.log(0.15), 1.2)) * SEC)


def spam_mx_order(ctx, t):
    """Production first (rejected through the DNSBL), then the sensor MX, both families in RFC 6724
    order (native: IPv6 first; 6to4/Teredo: IPv4 first)."""
    h, w, rng = ctx.h, ctx.w, ctx.rng
    mta = rng.randrange(len(w.prod))          # equal preference: a random one first
    t, _ = to_prod(ctx, t, mta)
    if rng.random() < h.x.get("both_prod", 0.3):
        t, _ = to_prod(ctx, t + _think(rng), (mta + 1) % len(w.prod))
    to_sensor(ctx, t + _think(rng))


def spam_ignore_mx(ctx, t):
    """MX priority ignored: the MXs in random order, sometimes only one of them."""
    h, rng = ctx.h, ctx.rng
    steps = ["prod", "sensor"]
    rng.shuffle(steps)
    if rng.random() < 0.25:
        steps = steps[:1]
    for st in steps:
        if st == "prod":
            t, _ = to_prod(ctx, t)
        else:
            t = to_sensor(ctx, t)
        t += _think(rng)


def spam_v6only(ctx, t):
    """An IPv6-only bot: the sensor is the only MX it can reach."""
    to_sensor(ctx, t, (6,))


def spam_v4only(ctx, t):
    """An IPv4-only bot following the MX order: production, then the sensor's A record."""
    h, rng = ctx.h, ctx.rng
    t, _ = to_prod(ctx, t)
    to_sensor(ctx, t + _think(rng), (4,))


SPAM = {"mx-order": spam_mx_order, "ignore-mx": spam_ignore_mx, "v6-only": spam_v6only,
        "v4-only": spam_v4only, "nat-bot": spam_mx_order, "privacy": spam_mx_order}


# ---- legitimate senders ----

def start_legit(ctx):
    """Mail at a steady rate; every outage window gets (most likely) one delivery attempt, so the
    sender is seen at the sensor while the production MXs are down."""
    h, w, rng = ctx.h, ctx.w, ctx.rng
    mean = DAY / max(h.rate_per_day, 0.01)
    ctx.at(w.start_us + _exp(rng, mean), legit_send, mean)
    for s, e, _ in w.outages:
        if rng.random() < h.x.get("outage_p", 0.9):
            ctx.at(s + rng.randrange(max(1, (e - s) * 3 // 4)), legit_deliver, 0)


def legit_send(ctx, t, mean):
    legit_deliver(ctx, t, 0)
    nxt = t + _exp(ctx.rng, mean) + 1
    if nxt < ctx.w.end_us:
        ctx.at(nxt, legit_send, mean)


def legit_deliver(ctx, t, retry):
    """One delivery attempt as an MTA makes it: production MXs (IPv4), and only if none of them
    answers, the sensor (both families); the message is deferred and retried with backoff."""
    h, w, rng = ctx.h, ctx.w, ctx.rng
    if not w.outage_at(t):
        to_prod(ctx, t, src4=_src4(ctx), sender=h.x.get("sender"))
        return
    for mta in range(len(w.prod)):
        t, _ = to_prod(ctx, t, mta=mta)
    order = h.family_order
    if h.x.get("any_order") and rng.random() < 0.5:
        order = tuple(reversed(order))
    if h.x.get("sensor_v4_only"):
        order = (4,)
    to_sensor(ctx, t + rng.randrange(1000, 50000), order)
    backoff = min(4000 * SEC, 300 * SEC << min(retry, 4)) + rng.randrange(0, 60 * SEC)
    if t + backoff < w.end_us:
        ctx.at(t + backoff, legit_deliver, retry + 1)


def _src4(ctx):
    v4 = ctx.h.v4
    return v4[ctx.rng.randrange(len(v4))] if len(v4) > 1 else v4[0]


# ---- misbehaving MTAs ----

def start_ms(ctx):
    h, w, rng = ctx.h, ctx.w, ctx.rng
    iv = h.x["interval"]
    ctx.at(w.start_us + rng.randrange(max(1, int(iv))), ms_probe)
    start_legit(ctx)


def ms_probe(ctx, t):
    """A connect() to the sensor every few seconds from one of the /64's addresses, rarely over
    IPv4 too, with no rejection and no production traffic behind it."""
    h, w, rng = ctx.h, ctx.w, ctx.rng
    src = h.v6[rng.randrange(len(h.v6))]
    t2 = sensor_connect(ctx, t, True, src, ctx.ports.next(t, w.sensor6))
    if rng.random() < h.x["v4_frac"]:
        sensor_connect(ctx, t2 + rng.randrange(1000, 20000), False, _src4(ctx),
                       ctx.ports.next(t2, w.sensor4))
    nxt = t + 1 + _exp(rng, h.x["interval"])
    if nxt < w.end_us:
        ctx.at(nxt, ms_probe)


def start_sendmail(ctx):
    h, w, rng = ctx.h, ctx.w, ctx.rng
    ctx.at(w.start_us + rng.randrange(max(1, int(h.x["interval"]))), sendmail_probe)
    start_legit(ctx)


def sendmail_probe(ctx, t):
    """The same address and the same source port, again and again, for weeks."""
    h, w, rng = ctx.h, ctx.w, ctx.rng
    t2 = sensor_connect(ctx, t, True, h.v6[0], h.x["fixed_port"])
    if rng.random() < 0.01:
        sensor_connect(ctx, t2 + rng.randrange(1000, 9000), False, h.v4[0],
                       ctx.ports.next(t2, w.sensor4))
    nxt = t + int(h.x["interval"] * rng.uniform(0.8, 1.2))
    if nxt < w.end_us:
        ctx.at(nxt, sendmail_probe)


# ---- scanners ----

def start_scanner(ctx):
    h, w, rng = ctx.h, ctx.w, ctx.rng
    for _ in range(rng.randint(1, 5)):
        ctx.at(w.start_us + rng.randrange(w.end_us - w.start_us), scan_probe)


def scan_probe(ctx, t):
    """A SYN to port 25 of the sensor's IPv6 address (sometimes 587 and 465 too); no IPv4."""
    h, w, rng = ctx.h, ctx.w, ctx.rng
    src = h.v6[0]
    sensor_connect(ctx, t, True, src, ctx.ports.next(t, w.sensor6), 25)
    if rng.random() < 0.3:
        for i, port in enumerate((587, 465)):
            sensor_connect(ctx, t + (i + 1) * rng.randrange(200, 20000), True, src,
                           ctx.ports.next(t, w.sensor6), port)


START = {"mx-order": start_spammer, "ignore-mx": start_spammer, "v6-only": start_spammer,
         "v4-only": start_spammer, "nat-bot": start_spammer, "privacy": start_spammer,
         "outage-fallback": start_legit, "nat-member": start_legit, "v4-background": start_legit,
         "ms-flood": start_ms, "sendmail-port-reuse": start_sendmail, "scanner": start_scanner}


# ---- the site's own lines and the filler for --maillog-lines ----

def site_events(w):
    """Postfix stop/start lines around 'refused' outages (Postfix was stopped), into the heap."""
    for s, e, kind in w.outages:
        if kind != "refused":
            continue
        for i in range(len(w.prod)):
            w.push(s + i * 1000, ("L", i, None, "postfix-script", "stopping the Postfix mail system", 0))
            w.push(e + i * 1000, ("L", i, None, "postfix-script", "starting the Postfix mail system", 0))
            w.push(e + i * 1000 + 50000, ("L", i, None, "master",
                   "daemon started -- version 3.7.11, configuration /etc/postfix", 0))


def filler(w, n_lines, excluded_16):
    """Exactly n_lines extra production log lines spread over the period (outages skipped):
    accepted mail, other rejects, DNSBL rejects of IPv4-only bots that never reach the sensor,
    one-line warnings. Their IPv4 addresses come from /16s that no simulated host uses.
    Yields (t_us, n, event) in time order."""
    rng = random.Random("%d/filler" % w.seed)
    pool = []
    while len(pool) < 4096:
        x = rng.getrandbits(32)
        if not v4_reserved(x) and x >> 16 not in excluded_16 and x & 0xFF not in (0, 255):
            pool.append(x)
    stats = {"dnsbl": 0, "accept": 0, "other": 0, "warn": 0}
    w.filler_stats = stats
    pend = []
    written = n = sess = 0
    last_t0 = w.start_us
    while written < n_lines:
        t0 = max(last_t0, _uptime(w, written / n_lines) + rng.randrange(0, 200000))
        last_t0 = t0
        while pend and pend[0][0] <= t0:
            yield heapq.heappop(pend)
        mta = rng.randrange(len(w.prod))
        lines = _filler_session(rng, w, mta, pool, t0, stats)
        if len(lines) > n_lines - written:
            lines = [_warning_line(pool[rng.randrange(len(pool))])]
            stats["warn"] += 1
        for off, prog, msg, op in lines:
            heapq.heappush(pend, (t0 + off, n, ("L", mta, -1 - sess, prog, msg, op)))
            n += 1
        sess += 1
        written += len(lines)
    while pend:
        yield heapq.heappop(pend)


def _uptime(w, frac):
    """The time at fraction frac of the period's production up-time (outages left out)."""
    down = sum(e - s for s, e, _ in w.outages)
    u = int((w.end_us - w.start_us - down) * frac)
    t = w.start_us + u
    for s, e, _ in w.outages:
        if t >= s:
            t += e - s
    return t


def _warning_line(addr):
    a = v4_str(addr)
    return (0, "smtpd", "warning: hostname host-%s.example does not resolve to address %s: Name or "
            "service not known" % (a.replace(".", "-"), a), CLOSE)


def _filler_session(rng, w, mta, pool, t0, stats):
    addr = pool[rng.randrange(len(pool))]
    r = rng.random()
    base = dict(style=w.styles[mta], addr=v4_str(addr), port=rng.randrange(1024, 65536),
                port_logging=w.port_logging, rtt=rng.randrange(5000, 300000),
                mta_addr=w.prod_txt[mta], t0=t0, name="unknown", helo="mail.bulk.example")
    if r < 0.55:
        d = rng.randrange(5000)
        host = "mail%d.sender%d.example" % (d % 7, d)
        base.update(name=host, helo=host, frm="news@sender%d.example" % d, to=[_rcpt(rng, w)],
                    tls=rng.random() < 0.7, other_reject=False,
                    msgid="%x@sender%d.example" % (rng.getrandbits(48), d))
        stats["accept"] += 1
        return session_accept(rng, base)[0]
    if r < 0.85:
        zone, reason, _ = w.zones[0 if rng.random() < 0.8 else 1]
        base.update(code=w.rbl_code, ps_code="550", zone=zone, frm=_spam_from(rng), nrcpt=1,
                    reason=reason % base["addr"] if reason else None, quit=True, helo_cmd="ehlo",
                    to=[_rcpt(rng, w)])
        stats["dnsbl"] += 1
        return session_dnsbl(rng, base)[0]
    if r < 0.95:
        base.update(frm=_spam_from(rng), to=[_rcpt(rng, w)], tls=False, other_reject=True)
        stats["other"] += 1
        return session_accept(rng, base)[0]
    stats["warn"] += 1
    return [_warning_line(addr)]
