"""sim_pop.py: builds the simulated population (every host's static facts) from the seed.

Populations, each sized by a parameter (v6sim.py --pop NAME=N):
  spam-native    spammers with native IPv6 (random / EUI-64 / embedded-IPv4 / low IIDs), MX order
  spam-6to4      spammers behind 6to4 (2002:V4::/48): IPv4 first at the sensor (RFC 6724)
  spam-teredo    Windows spammers on Teredo (2001:0::/32): IPv4 first
  spam-privacy   spammers with RFC 8981 temporary addresses rotating inside one /64
  spam-ignore-mx spammers that ignore MX priority (random MX order, sometimes one MX only)
  spam-v6only    IPv6-only bots: sensor only, no IPv4 anywhere (not associable)
  spam-v4only    IPv4-only bots: production then the sensor's A record (nothing to list)
  nat            NAT groups: one IPv4, a LAN /64 of hosts; one bot, the others legitimate mailers
  dense48        /48s holding several spamming /64s
  shared48       /48s with spamming /64s and legitimate senders
  legit          legitimate dual-stack MTAs (seen at the sensor only while production is down)
  ms             Microsoft-like /64s in 2a01:111:f400::/48 flooding the sensor every few seconds
  sendmail       sendmail-like senders re-using one source port for weeks
  scanner        IPv6 scanners (SYNs to port 25, no IPv4 counterpart)
  bg             IPv4-only legitimate senders (production mail; sensor IPv4 during outages)
"""

import random

from sim_addr import (AddrPlan, MS_V4_16, MS_V6_48, iid_eui64, iid_random, p48, random_mac,
                      sixtofour, teredo, teredo_flags, v4_str)
from sim_world import DAY, SEC, Host, _word

POP_ORDER = ("spam-native", "spam-6to4", "spam-teredo", "spam-privacy", "spam-ignore-mx",
             "spam-v6only", "spam-v4only", "nat", "dense48", "shared48", "legit", "ms",
             "sendmail", "scanner", "bg")


class Builder:
    def __init__(self, p, w):
        self.p = p
        self.w = w
        self.rng = random.Random("%d/pop" % p["seed"])
        self.plan = AddrPlan(self.rng, p["isps"])
        self.hosts = []

    def host(self, pop, kind, behaviour, os_name):
        h = Host(len(self.hosts) + 1, pop, kind, behaviour, os_name)
        self.hosts.append(h)
        return h

    # ---- shared pieces ----

    def spam_os(self, isp_kind):
        r = self.rng.random()
        if isp_kind == "residential":
            return "win7" if r < 0.3 else "win10" if r < 0.65 else "mac" if r < 0.75 else "linux"
        return "linux" if r < 0.8 else "win10" if r < 0.95 else "win7"

    def spammer(self, h, v4=None, tunnel=None):
        """Activity window, attempt rate, names and DNSBL listing of a spammer."""
        rng, w = self.rng, self.w
        span = w.end_us - w.start_us
        a = w.start_us + int(span * rng.uniform(0, 0.4))
        b = min(w.end_us, a + int(span * rng.uniform(0.5, 1.0)))
        h.active = (a, b)
        h.attempts_mean = self.p["attempts"] * rng.lognormvariate(0, 0.4)
        if v4 is not None:
            h.v4 = [v4]
            w.listed_v4.add(v4)
        if not hasattr(h, "rtt"):
            h.net(rng, tunnel)
        r = rng.random()
        x = h.x
        if v4 is not None and r < 0.25:
            x["ptr"] = "host-%s.dyn.isp%d.example" % (v4_str(v4).replace(".", "-"), rng.randrange(400))
        elif v4 is not None and r < 0.35:
            x["warn_name"] = "%s.static.isp%d.example" % (v4_str(v4).replace(".", "-"),
                                                          rng.randrange(400))
        if h.os.startswith("win"):
            x["helo"] = "WIN-" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")
                                          for _ in range(11))
        elif v4 is not None and rng.random() < 0.3:
            x["helo"] = "[%s]" % v4_str(v4)
        else:
            x["helo"] = rng.choice(("localhost", "User", "mail.%s.example" % _word(rng)))
        x["helo_cmd"] = "helo" if rng.random() < 0.3 else "ehlo"
        x["zone"] = 0 if rng.random() < 0.8 else 1
        x["nrcpt"] = rng.randint(1, 3)
        x["both_prod"] = rng.choice((0.0, 0.3, 0.8))
        x["connect_timeout"] = rng.randrange(3, 20) * SEC
        x["other_reject"] = 0.0

    def legit(self, h, v4s, rate):
        rng = self.rng
        dom = "%s%d.example" % (_word(rng), h.id)
        h.v4 = v4s
        h.rate_per_day = rate * rng.lognormvariate(0, 0.5)
        if not hasattr(h, "rtt"):
            h.net(rng)
        h.x.update(dom=dom, ptr="mail.%s" % dom, helo="mail.%s" % dom, sender="noreply@%s" % dom,
                   tls=0.85, other_reject=0.03, outage_p=0.9, connect_timeout=30 * SEC)
        if h.os.startswith("linux"):
            h.x["any_order"] = True           # Postfix smtp_address_preference = any

    def native_64(self, isp, owner):
        if isp.kind == "residential":
            return self.plan.home_64(isp, owner)
        x48 = self.plan.new_48(isp, owner)
        return self.plan.new_64(x48, self.rng.choice((0, 1, 2, 0x10, self.rng.getrandbits(16))))

    def iid(self, kind, v4):
        rng = self.rng
        if kind == "eui64":
            return iid_eui64(random_mac(rng))
        if kind == "embedded-ipv4":
            return v4
        if kind == "low":
            return rng.choice((1, 2, 0x10, 0x25, 0x100, rng.randrange(2, 0x300)))
        return iid_random(rng)

    def native_type(self, isp_kind):
        if isp_kind == "residential":
            return self.rng.choices(("random", "eui64"), (0.65, 0.35))[0]
        return self.rng.choices(("random", "eui64", "embedded-ipv4", "low"), (0.3, 0.2, 0.3, 0.2))[0]

    # ---- populations ----

    def spam_native(self, pop, behaviour="mx-order"):
        rng, plan = self.rng, self.plan
        isp = plan.isp(rng.choices(("residential", "hosting", "business"), (0.35, 0.5, 0.15))[0])
        h = self.host(pop, "spammer", behaviour, self.spam_os(isp.kind))
        v4 = plan.v4(isp)
        h.addr_type = self.native_type(isp.kind)
        h.v6 = [self.native_64(isp, "spam") | self.iid(h.addr_type, v4)]
        self.spammer(h, v4)
        return h

    def spam_6to4(self, pop):
        rng, plan = self.rng, self.plan
        isp = plan.isp("residential")
        os_name = rng.choice(("win7", "win10", "linux"))
        h = self.host(pop, "spammer", "mx-order", os_name)
        v4 = plan.v4(isp)
        iid = v4 if os_name.startswith("win") else rng.choice((1, iid_eui64(random_mac(rng))))
        h.v6 = [sixtofour(v4, rng.choice((0, 0, 1)), iid)]
        plan.mark_48(p48(h.v6[0]), "spam")
        h.addr_type = "6to4"
        h.family_order = (4, 6)
        h.net(rng, "6to4")
        self.spammer(h, v4, "6to4")

    def spam_teredo(self, pop):
        rng, plan = self.rng, self.plan
        isp = plan.isp("residential")
        h = self.host(pop, "spammer", "mx-order", rng.choice(("win7", "win7", "win10")))
        v4 = plan.v4(isp)
        server = plan.teredo_servers[rng.randrange(len(plan.teredo_servers))]
        h.v6 = [teredo(server, teredo_flags(rng), rng.randrange(1024, 65536), v4)]
        h.addr_type = "teredo"
        h.family_order = (4, 6)
        h.net(rng, "teredo")
        self.spammer(h, v4, "teredo")

    def spam_privacy(self, pop):
        rng, plan = self.rng, self.plan
        isp = plan.isp("residential")
        h = self.host(pop, "spammer", "privacy", rng.choice(("win10", "win10", "win7", "mac", "linux")))
        v4 = plan.v4(isp)
        h.addr_type = "privacy"
        h.x["priv_64"] = plan.home_64(isp, "spam")
        h.priv_period = int(DAY * rng.uniform(0.6, 1.0))
        h.x["priv_phase"] = self.w.start_us - rng.randrange(h.priv_period)
        self.spammer(h, v4)

    def spam_v6only(self, pop):
        rng, plan = self.rng, self.plan
        isp = plan.isp(rng.choice(("residential", "hosting")))
        h = self.host(pop, "spammer", "v6-only", self.spam_os(isp.kind))
        h.addr_type = rng.choice(("random", "eui64", "low"))
        h.v6 = [self.native_64(isp, "spam") | self.iid(h.addr_type, 0)]
        h.family_order = (6,)
        self.spammer(h)

    def spam_v4only(self, pop):
        rng, plan = self.rng, self.plan
        isp = plan.isp(rng.choice(("residential", "hosting")))
        h = self.host(pop, "spammer", "v4-only", self.spam_os(isp.kind))
        h.addr_type = "none"
        h.family_order = (4,)
        self.spammer(h, plan.v4(isp))

    def nat_group(self, pop, g):
        """One IPv4 (port-preserving NAT) and a LAN /64: one bot, the rest legitimate mailers."""
        rng, plan = self.rng, self.plan
        isp = plan.isp(rng.choice(("residential", "business")))
        nat_v4 = plan.v4(isp)
        x64 = plan.home_64(isp, "mixed")
        d4, d6, rtt = rng.randint(6, 20), rng.randint(6, 22), rng.randrange(20, 200)
        for i in range(max(2, self.p["nat_members"])):
            if i == 0:
                h = self.host(pop, "spammer", "nat-bot", rng.choice(("win7", "win10", "linux")))
            else:
                h = self.host(pop, "nat-member", "nat-member", rng.choice(("linux", "win10", "mac")))
            h.addr_type = rng.choice(("random", "eui64"))
            h.v6 = [x64 | self.iid(h.addr_type, 0)]
            h.nat_group = g
            h.net(rng, rtt_ms=rtt)
            h.ttl4, h.ttl6 = h.prof.ttl - d4, h.prof.ttl - d6
            if i == 0:
                self.spammer(h, nat_v4)
            else:
                self.legit(h, [nat_v4], self.p["legit_rate"] / 4)
                h.x["outage_p"] = 1.0
        self.w.listed_v4.add(nat_v4)

    def dense48(self, pop):
        rng, plan = self.rng, self.plan
        isp = plan.isp("hosting")
        x48 = plan.new_48(isp, "spam")
        v4a = plan.v4(isp)
        for k in range(max(2, self.p["dense48_size"])):
            x64 = plan.new_64(x48, k + 1 if rng.random() < 0.7 else None)
            h = self.host(pop, "spammer", "mx-order", rng.choice(("linux", "linux", "win10")))
            h.addr_type = rng.choice(("low", "random", "embedded-ipv4"))
            v4 = v4a if k == 0 else plan.v4_near(v4a)
            h.v6 = [x64 | self.iid(h.addr_type, v4)]
            self.spammer(h, v4)

    def shared48(self, pop):
        rng, plan = self.rng, self.plan
        isp = plan.isp(rng.choice(("hosting", "business")))
        x48 = plan.new_48(isp, "mixed")
        for k in range(rng.randint(1, 2)):
            h = self.host(pop, "spammer", "mx-order", rng.choice(("linux", "win10")))
            h.addr_type = rng.choice(("low", "random", "embedded-ipv4"))
            v4 = plan.v4(isp)
            h.v6 = [plan.new_64(x48) | self.iid(h.addr_type, v4)]
            self.spammer(h, v4)
        for k in range(3):
            h = self.host(pop, "legitimate", "outage-fallback", rng.choice(("linux", "linux", "win10")))
            h.addr_type = rng.choice(("low", "random"))
            h.v6 = [plan.new_64(x48) | self.iid(h.addr_type, 0)]
            self.legit(h, [plan.v4(isp)], self.p["legit_rate"])

    def legit_mta(self, pop):
        rng, plan = self.rng, self.plan
        isp = plan.isp(rng.choice(("hosting", "business")))
        h = self.host(pop, "legitimate", "outage-fallback",
                      rng.choices(("linux", "win10", "linux26"), (0.7, 0.2, 0.1))[0])
        h.addr_type = rng.choices(("low", "random", "eui64"), (0.5, 0.3, 0.2))[0]
        h.v6 = [self.native_64(isp, "legit") | self.iid(h.addr_type, 0)]
        v4 = plan.v4(isp)
        self.legit(h, [v4] if rng.random() < 0.8 else [v4, plan.v4_near(v4)], self.p["legit_rate"])

    def ms(self, pop, i):
        rng, plan = self.rng, self.plan
        h = self.host(pop, "misbehaving-mta", "ms-flood", "win10")
        x64 = MS_V6_48 | (0xFE00 + 4 * i) << 64
        iids = set()
        while len(iids) < 4:
            iids.add(rng.randrange(0x100, 0x300))
        h.v6 = [x64 | x for x in sorted(iids)]
        plan.mark_48(MS_V6_48, "legit")
        h.addr_type = "low"
        h.net(rng, rtt_ms=30)
        self.legit(h, [plan.v4_in(MS_V4_16) for _ in range(8)], self.p["ms_rate"])
        region = rng.choice(("eur", "nam", "apc"))
        dom = "outbound.protection.outlook.com"
        h.x.update(interval=self.p["ms_interval"] * SEC, v4_frac=self.p["ms_v4_frac"],
                   port_mode="random", ptr="mail-%s0%don%d.%s" % (region, rng.randint(1, 6),
                                                                  rng.randrange(2000, 2200), dom),
                   helo="EUR0%d-%s-obe.%s" % (rng.randint(1, 6), rng.choice(("AM6", "DB8", "VI1")), dom),
                   any_order=False)
        h.x["dom"] = dom

    def sendmail(self, pop):
        rng, plan = self.rng, self.plan
        isp = plan.isp("hosting")
        h = self.host(pop, "misbehaving-mta", "sendmail-port-reuse", "linux26")
        h.addr_type = "low"
        h.v6 = [self.native_64(isp, "legit") | 0x25]
        self.legit(h, [plan.v4(isp)], 4)
        h.x.update(interval=self.p["sendmail_interval"] * SEC,
                   fixed_port=rng.randrange(32768, 61000), any_order=False)

    def scanner(self, pop):
        rng, plan = self.rng, self.plan
        isp = plan.isp("hosting")
        h = self.host(pop, "scanner", "scanner",
                      rng.choices(("zmap", "masscan", "linux"), (0.5, 0.3, 0.2))[0])
        h.addr_type = rng.choice(("random", "low"))
        h.v6 = [self.native_64(isp, "scan") | self.iid(h.addr_type, 0)]
        h.x["port_mode"] = "random"
        h.net(rng)

    def bg(self, pop):
        rng, plan = self.rng, self.plan
        isp = plan.isp(rng.choice(("hosting", "business")))
        h = self.host(pop, "legitimate", "v4-background", rng.choice(("linux", "linux", "win10")))
        h.addr_type = "none"
        h.family_order = (4,)
        self.legit(h, [plan.v4(isp)], self.p["bg_rate"])
        h.x["sensor_v4_only"] = True
        h.x["any_order"] = False


def build(p, w):
    """Returns (hosts, plan). Same p => same hosts, addresses and parameters."""
    b = Builder(p, w)
    n = p["pops"]
    for name in POP_ORDER:
        for i in range(n.get(name, 0)):
            if name == "spam-native":
                b.spam_native(name)
            elif name == "spam-6to4":
                b.spam_6to4(name)
            elif name == "spam-teredo":
                b.spam_teredo(name)
            elif name == "spam-privacy":
                b.spam_privacy(name)
            elif name == "spam-ignore-mx":
                b.spam_native(name, "ignore-mx")
            elif name == "spam-v6only":
                b.spam_v6only(name)
            elif name == "spam-v4only":
                b.spam_v4only(name)
            elif name == "nat":
                b.nat_group(name, i + 1)
            elif name == "dense48":
                b.dense48(name)
            elif name == "shared48":
                b.shared48(name)
            elif name == "legit":
                b.legit_mta(name)
            elif name == "ms":
                b.ms(name, i)
            elif name == "sendmail":
                b.sendmail(name)
            elif name == "scanner":
                b.scanner(name)
            elif name == "bg":
                b.bg(name)
    return b.hosts, b.plan
