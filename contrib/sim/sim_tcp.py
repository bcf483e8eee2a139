"""sim_tcp.py: per-OS TCP SYN shapes, ephemeral port pools, and the pcap writer.

The SYN shapes follow p0f 3.09b signatures (INPUTS.md section 3):
  Windows 7/8   ttl 128, win 8192,  mss,nop,ws(8),nop,nop,sok, df,id+   three SYNs at +0/+0.5/+1 s
  Windows 10    ttl 128, win 64240, the same options                     three SYNs
  Linux 3.11+   ttl 64,  win mss*20, mss,sok,ts,nop,ws(7), df,id+         one SYN
  Linux 2.6     ttl 64,  win mss*4,  mss,sok,ts,nop,ws(7), df,id+         one SYN
  Mac OS X      ttl 64,  win 65535, mss,nop,ws(6),nop,nop,ts,sok,eol+1    one SYN
  zmap/masscan  ttl 255 raw scanners (os=??? for p0f)
Packets are written with correct IPv4 and TCP checksums, microsecond pcap timestamps, and either
Ethernet (LINKTYPE_ETHERNET 1) or Linux cooked v2 (LINKTYPE_LINUX_SLL2 276, as in the real sample).
"""

import array
import struct

LINKTYPE_ETHERNET = 1
LINKTYPE_LINUX_SLL2 = 276

SENSOR_MAC = bytes.fromhex("020000000025")
ROUTER_MAC = bytes.fromhex("020000000001")


class Profile:
    """One OS's SYN shape and connect() behaviour."""

    def __init__(self, name, label, ttl, win, ws, layout, retries_us, ports, lo, hi, flow, ipid,
                 df=True, ts_hz=1000):
        self.name = name
        self.label = label            # the p0f label it should match
        self.ttl = ttl                # initial TTL / hop limit
        self.win = win                # int, or ("mss", N) for mss*N
        self.ws = ws
        self.layout = layout          # option kinds in order: mss nop ws sok ts eol
        self.retries_us = retries_us  # SYN offsets within one connect() attempt
        self.ports = ports            # shared | perdest | random | fixed
        self.lo, self.hi = lo, hi
        self.flow = flow              # zero | random (IPv6 flow label per connection)
        self.ipid = ipid              # global | random | static
        self.df = df
        self.ts_hz = ts_hz
        self.has_ts = "ts" in layout

    def window(self, mss):
        if isinstance(self.win, tuple):
            return min(65535, mss * self.win[1])
        return self.win

    def options(self, mss, tsval):
        out = bytearray()
        for k in self.layout:
            if k == "mss":
                out += struct.pack("!BBH", 2, 4, mss)
            elif k == "nop":
                out.append(1)
            elif k == "ws":
                out += struct.pack("!BBB", 3, 3, self.ws)
            elif k == "sok":
                out += b"\x04\x02"
            elif k == "ts":
                out += struct.pack("!BBII", 8, 10, tsval & 0xFFFFFFFF, 0)
            elif k == "eol":
                out += b"\x00\x00"    # EOL plus one padding byte: p0f "eol+1"
        if len(out) % 4:
            raise ValueError("options of %s are not 32-bit aligned" % self.name)
        return bytes(out)


WIN_RETRIES = (0, 500000, 1000000)

PROFILES = {
    "win7": Profile("win7", "Windows 7 or 8", 128, 8192, 8,
                    ("mss", "nop", "ws", "nop", "nop", "sok"), WIN_RETRIES,
                    "shared", 49152, 65535, "zero", "global"),
    "win10": Profile("win10", "Windows NT kernel", 128, 64240, 8,
                     ("mss", "nop", "ws", "nop", "nop", "sok"), WIN_RETRIES,
                     "shared", 49152, 65535, "random", "global"),
    "linux": Profile("linux", "Linux 3.11 and newer", 64, ("mss", 20), 7,
                     ("mss", "sok", "ts", "nop", "ws"), (0,),
                     "perdest", 32768, 60999, "random", "random"),
    "linux26": Profile("linux26", "Linux 2.6.x", 64, ("mss", 4), 7,
                       ("mss", "sok", "ts", "nop", "ws"), (0,),
                       "perdest", 32768, 61000, "zero", "random", ts_hz=250),
    "mac": Profile("mac", "Mac OS X", 64, 65535, 6,
                   ("mss", "nop", "ws", "nop", "nop", "ts", "sok", "eol"), (0,),
                   "random", 49152, 65535, "random", "random"),
    "zmap": Profile("zmap", "???", 255, 65535, 0, ("mss",), (0,),
                    "random", 32768, 61000, "zero", "static", df=False),
    "masscan": Profile("masscan", "???", 255, 1024, 0, (), (0,),
                       "random", 40000, 60000, "zero", "random", df=False),
}


def poisson(rng, lam):
    """A Poisson draw; Knuth's method for small means, a normal approximation for large ones."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(rng.gauss(lam, lam ** 0.5) + 0.5))
    limit = pow(2.718281828459045, -lam)
    k, p = 0, rng.random()
    while p > limit and k < 200:
        k += 1
        p *= rng.random()
    return k


class Ports:
    """A host's ephemeral source ports.

    shared:  Windows: one pool for both families, allocated in sequence (the talk's ::1 50673,
             127.0.0.1 50674, ...); other connections of the host in between skip ports.
    perdest: Linux: a separate offset and counter per destination (so per family), +1 per connect.
    random:  macOS / busy servers / scanners: a fresh random port each time.
    fixed:   one port for ever (the sendmail oddity).
    """

    def __init__(self, prof, rng, bg_rate, mode=None, fixed=None):
        self.prof = prof
        self.rng = rng
        self.mode = mode or prof.ports
        self.bg_rate = bg_rate          # other connections per second (skipped ports)
        self.span = prof.hi - prof.lo + 1
        self.counter = rng.randrange(self.span)
        self.per = {}
        self.last_t = None
        self.fixed = fixed if fixed is not None else prof.lo + rng.randrange(self.span)

    def _skip(self, t):
        n = 0
        if self.last_t is not None and t > self.last_t:
            n = poisson(self.rng, self.bg_rate * (t - self.last_t) / 1e6)
        self.last_t = t
        return n

    def next(self, t, dest):
        if self.mode == "fixed":
            return self.fixed
        if self.mode == "random":
            return self.prof.lo + self.rng.randrange(self.span)
        skip = self._skip(t)
        if self.mode == "shared":
            self.counter = (self.counter + 1 + skip) % self.span
            return self.prof.lo + self.counter
        st = self.per.get(dest)
        if st is None:
            st = [self.rng.randrange(self.span), 0]
            self.per[dest] = st
        st[1] += 1 + (skip if self.rng.random() < 0.02 else 0)
        return self.prof.lo + (st[0] + st[1]) % self.span


def _csum(data):
    """RFC 1071 checksum, summed in native byte order (byte-order independent) and packed back."""
    if len(data) & 1:
        data += b"\x00"
    s = sum(array.array("H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return struct.pack("=H", ~s & 0xFFFF)


_TCP = struct.Struct("!HHIIBBHHH")
_IP4 = struct.Struct("!BBHHHBBH4s4s")
_IP6 = struct.Struct("!IHBB16s16s")
_REC = struct.Struct("<IIII")


class PcapWriter:
    """A buffered classic pcap writer (microsecond timestamps) of SYNs and the sensor's RSTs."""

    def __init__(self, path, linktype):
        if linktype not in (LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL2):
            raise ValueError("unsupported link type %d" % linktype)
        self.f = open(path, "wb", buffering=1 << 20)
        self.linktype = linktype
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        self.n_syn = self.n_rst = 0
        self.n_syn4 = self.n_syn6 = 0
        self._l2 = {}
        for v6 in (False, True):
            et = 0x86DD if v6 else 0x0800
            if linktype == LINKTYPE_ETHERNET:
                self._l2[(v6, 0)] = SENSOR_MAC + ROUTER_MAC + struct.pack("!H", et)
                self._l2[(v6, 4)] = ROUTER_MAC + SENSOR_MAC + struct.pack("!H", et)
            else:
                for ptype, mac in ((0, ROUTER_MAC), (4, SENSOR_MAC)):
                    self._l2[(v6, ptype)] = struct.pack("!HHIHBB", et, 0, 2, 1, ptype, 6) + mac + b"\0\0"

    def close(self):
        self.f.close()

    def _tcp(self, src, dst, v6, sport, dport, seq, ack, flags, win, opts):
        hl = 20 + len(opts)
        tcp = _TCP.pack(sport, dport, seq, ack, (hl // 4) << 4, flags, win, 0, 0) + opts
        if v6:
            pseudo = src + dst + struct.pack("!II", hl, 6)
        else:
            pseudo = src + dst + struct.pack("!BBH", 0, 6, hl)
        ck = _csum(pseudo + tcp)
        return tcp[:16] + ck + tcp[18:]

    def _ip(self, src, dst, v6, ttl, ipid, df, flow, tcp):
        if v6:
            return _IP6.pack(0x60000000 | flow, len(tcp), 6, ttl, src, dst) + tcp
        ip = _IP4.pack(0x45, 0, 20 + len(tcp), ipid, 0x4000 if df else 0, ttl, 6, 0, src, dst)
        return ip[:10] + _csum(ip) + ip[12:] + tcp

    def syn(self, t_us, ev):
        """ev = ('S', conn, ipid); conn = [v6, src, dst, ttl, sport, dport, seq, win, opts, df,
        flow, cached SYN, cached RST]. The TCP segment (and the whole IPv6 frame) is built once per
        connection: Windows' three SYNs differ only in the IPv4 ID."""
        conn = ev[1]
        v6 = conn[0]
        if conn[11] is None:
            tcp = self._tcp(conn[1], conn[2], v6, conn[4], conn[5], conn[6], 0, 0x02, conn[7], conn[8])
            if v6:
                conn[11] = self._l2[(True, 0)] + _IP6.pack(0x60000000 | conn[10], len(tcp), 6,
                                                           conn[3], conn[1], conn[2]) + tcp
            else:
                conn[11] = tcp
        if v6:
            frame = conn[11]
            self.n_syn6 += 1
        else:
            tcp = conn[11]
            ip = _IP4.pack(0x45, 0, 20 + len(tcp), ev[2], 0x4000 if conn[9] else 0, conn[3], 6, 0,
                           conn[1], conn[2])
            frame = self._l2[(False, 0)] + ip[:10] + _csum(ip) + ip[12:] + tcp
            self.n_syn4 += 1
        n = len(frame)
        self.f.write(_REC.pack(t_us // 1000000, t_us % 1000000, n, n) + frame)
        self.n_syn += 1

    def rst(self, t_us, ev):
        """ev = ('R', conn): the sensor's RST+ACK to conn's SYN (Linux: ttl 64, DF, ID 0)."""
        conn = ev[1]
        if conn[12] is None:
            v6 = conn[0]
            tcp = self._tcp(conn[2], conn[1], v6, conn[5], conn[4], 0, (conn[6] + 1) & 0xFFFFFFFF,
                            0x14, 0, b"")
            conn[12] = self._l2[(v6, 4)] + self._ip(conn[2], conn[1], v6, 64, 0, True, 0, tcp)
        frame = conn[12]
        n = len(frame)
        self.f.write(_REC.pack(t_us // 1000000, t_us % 1000000, n, n) + frame)
        self.n_rst += 1
