"""sim_addr.py: address plans for the simulator: ISPs, prefixes, interface identifiers, 6to4, Teredo.

Addresses are plain ints (IPv4 32-bit, IPv6 128-bit). Nothing here is ever sent on a network, so
the IPv6 space is drawn at random from the RIR /12s (2400::/12, 2600::/12, ...), which makes /32,
/48 and /64 structure realistic; 6to4 (RFC 3056) and Teredo (RFC 4380, RFC 5991) use their real
formats. IPv4 addresses are random global unicast outside the special-purpose blocks.
"""

import ipaddress

# Special-purpose IPv4 blocks (RFC 6890 and friends) never used for simulated hosts.
V4_RESERVED = (
    (0x00000000, 8), (0x0A000000, 8), (0x64400000, 10), (0x7F000000, 8), (0xA9FE0000, 16),
    (0xAC100000, 12), (0xC0000000, 24), (0xC0000200, 24), (0xC0586300, 24), (0xC0A80000, 16),
    (0xC6120000, 15), (0xC6336400, 24), (0xCB007100, 24), (0xE0000000, 4), (0xF0000000, 4),
    # Microsoft EOP (40.107.0.0/16) is reserved for the Microsoft-like senders.
    (0x286B0000, 16),
)

# IPv6 ranges the random plan must never hit (real, meaningful prefixes used on purpose elsewhere).
V6_AVOID = (
    (0x2a010111 << 96, 32),      # Microsoft 2a01:111::/32 (the misbehaving-MTA prefix lives here)
)

# RIR /12 blocks for random global IPv6 (APNIC, ARIN, LACNIC, RIPE, AFRINIC).
RIR_12 = (0x2400, 0x2600, 0x2800, 0x2a00, 0x2c00)

MS_V6_48 = 0x2a010111f400 << 80          # 2a01:111:f400::/48 (in Microsoft's SPF record)
MS_V4_16 = 0x286B0000                    # 40.107.0.0/16
TEREDO_32 = 0x20010000 << 96             # 2001:0::/32
SIXTOFOUR_16 = 0x2002 << 112             # 2002::/16

# OUIs for EUI-64 interface identifiers (Intel, VMware, Dell, Xen, Realtek, Apple, HP).
OUIS = (0x001B21, 0x001517, 0x005056, 0x000C29, 0xD4AE52, 0x00163E, 0x00E04C, 0x3C0754,
        0x001E67, 0xF0DEF1, 0x9C8E99, 0x6C626D)


def v4_str(x):
    return "%d.%d.%d.%d" % (x >> 24, (x >> 16) & 255, (x >> 8) & 255, x & 255)


def v6_str(x):
    """RFC 5952 text form (what Postfix logs and what inet_ntop writes)."""
    return ipaddress.IPv6Address(x).compressed


def v4_reserved(x):
    for net, plen in V4_RESERVED:
        if (x >> (32 - plen)) == (net >> (32 - plen)):
            return True
    return False


def v6_avoided(x):
    for net, plen in V6_AVOID:
        if (x >> (128 - plen)) == (net >> (128 - plen)):
            return True
    return False


def p48(x):
    return x >> 80 << 80


def pfx_str(x, plen):
    return "%s/%d" % (v6_str(x >> (128 - plen) << (128 - plen)), plen)


# ---- interface identifiers ----

def iid_random(rng):
    """A random (RFC 7217 / RFC 8981 style) IID that no classifier mistakes for a structured one."""
    for _ in range(64):
        x = rng.getrandbits(64) & ~(1 << 57)              # u/l bit clear
        if (x >> 24) & 0xFFFF == 0xFFFE:                  # looks like EUI-64
            continue
        if x >> 32 == 0 or (x >> 32) & 0xFDFFFFFF == 0x5EFE:   # embedded IPv4, ISATAP
            continue
        if x >> 48 == 0:                                  # looks like a "low" manual IID
            continue
        return x
    raise RuntimeError("iid_random: no usable IID in 64 draws")


def iid_eui64(mac):
    """RFC 4291 appendix A: OUI, ff:fe, NIC, with the u/l bit inverted."""
    return ((mac >> 24) << 40 | 0xFFFE << 24 | (mac & 0xFFFFFF)) ^ (1 << 57)


def random_mac(rng):
    return OUIS[rng.randrange(len(OUIS))] << 24 | rng.getrandbits(24)


def sixtofour(v4, subnet, iid):
    """RFC 3056: 2002:V4::/48 of the gateway's IPv4, a 16-bit subnet, an IID."""
    return SIXTOFOUR_16 | v4 << 80 | (subnet & 0xFFFF) << 64 | iid


def teredo(server_v4, flags, mapped_port, client_v4):
    """RFC 4380 section 4: prefix | server | flags | ~port | ~client IPv4."""
    return (TEREDO_32 | server_v4 << 64 | (flags & 0xFFFF) << 48
            | ((~mapped_port) & 0xFFFF) << 32 | ((~client_v4) & 0xFFFFFFFF))


def teredo_flags(rng):
    """RFC 5991 section 3: C=0, R=0, U=0, G=0, the twelve 'A' bits random."""
    return rng.getrandbits(16) & ~(0x8000 | 0x4000 | 0x0200 | 0x0100)


# ---- the plan: ISPs and allocation without accidental overlap ----

class Isp:
    """An access or hosting network: one IPv6 /32 and a few IPv4 /16s."""

    def __init__(self, idx, kind, v6_32, v4_16s):
        self.idx = idx
        self.kind = kind            # residential | hosting | business
        self.v6_32 = v6_32
        self.v4_16s = v4_16s
        self.name = "isp%d" % idx


class AddrPlan:
    """Hands out IPv4 addresses and IPv6 /48s and /64s, each exactly once, from a set of ISPs."""

    def __init__(self, rng, n_isps):
        self.rng = rng
        self.used_v4 = set()
        self.used_48 = {}           # /48 -> owner label ("spam", "legit", "mixed", "scan", ...)
        self.used_64 = set()
        self.used_16 = set()
        self.isps = []
        kinds = ("residential", "hosting", "business")
        for i in range(n_isps):
            v6_32 = self._new_32()
            v4_16s = [self._new_16() for _ in range(rng.randint(1, 3))]
            self.isps.append(Isp(i, kinds[i % 3], v6_32, v4_16s))
        self.teredo_servers = [self._new_v4_any() for _ in range(4)]

    def _new_32(self):
        for _ in range(1000):
            x = (self.rng.choice(RIR_12) << 112) | (self.rng.getrandbits(20) << 96)
            if not v6_avoided(x) and not any(i.v6_32 == x for i in getattr(self, "isps", ())):
                return x
        raise RuntimeError("no free IPv6 /32")

    def _new_16(self):
        for _ in range(10000):
            x = self.rng.getrandbits(16) << 16
            if not v4_reserved(x) and x >> 16 not in self.used_16:
                self.used_16.add(x >> 16)
                return x
        raise RuntimeError("no free IPv4 /16")

    def _new_v4_any(self):
        return self.v4_in(self._new_16())

    def isp(self, kind):
        cands = [i for i in self.isps if i.kind == kind]
        return cands[self.rng.randrange(len(cands))]

    def v4_in(self, base16):
        for _ in range(100000):
            x = base16 | self.rng.getrandbits(16)
            if x & 0xFF in (0, 255) or x & 0xFFFF < 256 or x in self.used_v4:
                continue
            self.used_v4.add(x)
            return x
        raise RuntimeError("IPv4 /16 exhausted")

    def v4(self, isp):
        return self.v4_in(isp.v4_16s[self.rng.randrange(len(isp.v4_16s))])

    def v4_near(self, v4):
        """Another address in the same /24 (a host with several IPv4 addresses)."""
        for _ in range(1000):
            x = (v4 & ~0xFF) | self.rng.randint(1, 254)
            if x not in self.used_v4:
                self.used_v4.add(x)
                return x
        raise RuntimeError("IPv4 /24 exhausted")

    def new_48(self, isp, owner):
        for _ in range(100000):
            x = isp.v6_32 | self.rng.getrandbits(16) << 80
            if x not in self.used_48:
                self.used_48[x] = owner
                return x
        raise RuntimeError("IPv6 /32 exhausted")

    def mark_48(self, x48, owner):
        prev = self.used_48.get(x48)
        self.used_48[x48] = owner if prev in (None, owner) else "mixed"

    def new_64(self, x48, subnet=None):
        """A /64 inside x48: the given subnet number, or a random free one."""
        for _ in range(100000):
            s = subnet if subnet is not None else self.rng.getrandbits(16)
            x = x48 | s << 64
            if x not in self.used_64:
                self.used_64.add(x)
                return x
            if subnet is not None:
                return x             # explicitly shared (a LAN behind one router)
        raise RuntimeError("IPv6 /48 exhausted")

    def home_64(self, isp, owner):
        """A residential customer: a /56 (RFC 6177) inside a fresh /48, LAN 0 of it."""
        x48 = self.new_48(isp, owner)
        n56 = self.rng.getrandbits(8)
        return self.new_64(x48, n56 << 8)
